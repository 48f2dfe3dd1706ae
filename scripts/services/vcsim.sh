#!/usr/bin/env bash
# Starts one vCenter simulator (govmomi simulator, default VPX inventory:
# 1 datacenter, 1 cluster of 3 hosts, 1 standalone host, 2 VMs per resource
# pool, 1 datastore) on a loopback port picked by the kernel (no port race).
#   eval "$(scripts/services/vcsim.sh)"   -> VCSIM_URL, VCSIM_USER, VCSIM_PASSWORD, VCSIM_CA, ...
#   scripts/services/vcsim.sh --any-login  # accept any non-empty user/password (vcsim default)
#   scripts/services/vcsim.sh -- -vm 5 -cluster 2   # extra flags for the vcsim binary
#   scripts/services/stop.sh "$VCSIM_RUN_DIR"
# By default only VCSIM_USER/VCSIM_PASSWORD may log in (vcsim -username/-password);
# any other pair gets SOAP fault InvalidLogin, faultstring "Login failure".
# (RetrieveServiceContent, e.g. `govc about`, needs no login and always works.)
# TLS: a serving cert for 127.0.0.1/localhost signed by a fresh CA (VCSIM_CA);
# VCSIM_THUMBPRINT (SHA-1) / VCSIM_THUMBPRINT_SHA256 in vSphere's AA:BB:... form.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
any_login=0; extra=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --any-login) any_login=1 ;;
    --) shift; extra=("$@"); break ;;
    *) die "unknown argument '$1' (usage: $0 [--any-login] [-- VCSIM_FLAGS...])" ;;
  esac
  shift
done
need openssl; need curl

if [[ -z "${VCSIM_BIN:-}" ]]; then
  VCSIM_BIN="$("$SERVICES_DIR/../setup/build-vcsim.sh" | sed -n 's/^VCSIM_BIN=//p')"
fi
[[ -x "$VCSIM_BIN" ]] || die "vcsim binary '$VCSIM_BIN' missing (run scripts/setup/build-vcsim.sh)"

new_run_dir vcsim
t0=$(now_ms)
PKI="$RUN_DIR/pki"; mkdir -p "$PKI"
gen_ca "$PKI"
gen_cert "$PKI" server 127.0.0.1 serverAuth "IP:127.0.0.1,DNS:localhost"
THUMB="$(openssl x509 -in "$PKI/server.crt" -noout -fingerprint -sha1 | sed 's/^.*=//')"
THUMB256="$(openssl x509 -in "$PKI/server.crt" -noout -fingerprint -sha256 | sed 's/^.*=//')"

auth=()
USER_NAME=user; PASSWORD=pass   # what vcsim puts in its URL when any login is accepted
if [[ $any_login == 0 ]]; then
  USER_NAME=opsdeck
  PASSWORD="$(openssl rand -hex 12)"
  auth=(-username "$USER_NAME" -password "$PASSWORD")
fi
t1=$(now_ms)
spawn vcsim "$VCSIM_BIN" -l 127.0.0.1:0 "${auth[@]}" \
  -tlscert "$PKI/server.crt" -tlskey "$PKI/server.key" \
  -E "$RUN_DIR/vcsim.env" "${extra[@]}"
VCSIM_PID=$SPAWNED_PID
wait_for "vcsim env file" "$VCSIM_PID" test -s "$RUN_DIR/vcsim.env"
URL="$(sed -n 's/^VCSIM_URL=//p' "$RUN_DIR/vcsim.env")"
HOSTPORT="$(sed -n 's/^VCSIM_HOST=//p' "$RUN_DIR/vcsim.env")"
wait_for "vcsim https://$HOSTPORT" "$VCSIM_PID" \
  curl -fsS --cacert "$PKI/ca.crt" "https://$HOSTPORT/about"
log "vcsim ready in $(( $(now_ms) - t0 )) ms (process start to ready $(( $(now_ms) - t1 )) ms)"

service_ready
out VCSIM_URL "$URL"
out VCSIM_SDK_URL "https://$HOSTPORT/sdk"
out VCSIM_HOST "$HOSTPORT"
out VCSIM_USER "$USER_NAME"
out VCSIM_PASSWORD "$PASSWORD"
out VCSIM_CA "$PKI/ca.crt"
out VCSIM_THUMBPRINT "$THUMB"
out VCSIM_THUMBPRINT_SHA256 "$THUMB256"
out VCSIM_PID "$VCSIM_PID"
out VCSIM_RUN_DIR "$RUN_DIR"
echo "# stop: $SERVICES_DIR/stop.sh $RUN_DIR"
