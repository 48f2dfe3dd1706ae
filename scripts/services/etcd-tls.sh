#!/usr/bin/env bash
# Starts one etcd (Debian etcd-server 3.4) serving HTTPS with role-based auth:
#   - CA + server cert (SAN IP:127.0.0.1, DNS:localhost) + client cert (CN=alice), openssl, EC P-256
#   - users: root (role root), alice (role app-rw: readwrite on prefix /app/); auth enabled
#   - client certificates are not checked (no --trusted-ca-file), unless
#     OPSDECK_ETCD_CLIENT_CERT_AUTH=1: then every client must present a cert signed by the CA
#     (and, with auth on, a cert's CN is accepted as the user name when no password is sent).
#   eval "$(scripts/services/etcd-tls.sh)"
#   scripts/services/stop.sh "$ETCD_RUN_DIR"
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need etcd "install Debian package etcd-server (scripts/install-deps.sh)"
need etcdctl "install Debian package etcd-client (scripts/install-deps.sh)"
need openssl; need curl

new_run_dir etcd-tls
t0=$(now_ms)
PKI="$RUN_DIR/pki"; mkdir -p "$PKI"
gen_ca "$PKI"
gen_cert "$PKI" server 127.0.0.1 serverAuth "IP:127.0.0.1,DNS:localhost"
gen_cert "$PKI" client alice clientAuth
chmod 644 "$PKI"/*.key   # readable by a test process running as another user
t_pki=$(now_ms)

# NB: etcd 3.4 turns on *required* client certs as soon as --trusted-ca-file
# is given (tls.RequireAndVerifyClientCert), with or without --client-cert-auth.
# So "client cert optional" means: no --trusted-ca-file at all.
extra=()
[[ "${OPSDECK_ETCD_CLIENT_CERT_AUTH:-0}" == 1 ]] && extra+=(--client-cert-auth --trusted-ca-file "$PKI/ca.crt")
start_etcd etcd --cert-file "$PKI/server.crt" --key-file "$PKI/server.key" "${extra[@]}"

# Client-side TLS args (the client cert is harmless when not required).
tls=(--cacert "$PKI/ca.crt" --cert "$PKI/client.crt" --key "$PKI/client.key")
wait_for "etcd $ETCD_CLIENT_URL" "$ETCD_PID" \
  sh -c "curl -fsS --cacert '$PKI/ca.crt' --cert '$PKI/client.crt' --key '$PKI/client.key' '$ETCD_CLIENT_URL/health' | grep -q '\"health\":\"true\"'"
t_up=$(now_ms)

ROOT_PW="$(openssl rand -hex 16)"
ALICE_PW="$(openssl rand -hex 16)"
ectl() { etcdctl_clean --endpoints "$ETCD_CLIENT_URL" "${tls[@]}" "$@" >/dev/null; }
ectl user add "root:$ROOT_PW"
ectl user grant-role root root
ectl role add app-rw
ectl role grant-permission app-rw readwrite /app/ --prefix=true
ectl user add "alice:$ALICE_PW"
ectl user grant-role alice app-rw
ectl auth enable
# check: alice can write under /app/, not elsewhere
ectl --user "alice:$ALICE_PW" put /app/.opsdeck-probe ok
if etcdctl_clean --endpoints "$ETCD_CLIENT_URL" "${tls[@]}" --user "alice:$ALICE_PW" put /other x >/dev/null 2>&1; then
  die "auth check failed: alice could write outside /app/"
fi
ectl --user "root:$ROOT_PW" del /app/.opsdeck-probe
log "etcd-tls ready in $(( $(now_ms) - t0 )) ms (pki $(( t_pki - t0 )) ms, etcd up $(( t_up - t_pki )) ms, auth setup $(( $(now_ms) - t_up )) ms)"

service_ready
out ETCD_ENDPOINT "$ETCD_CLIENT_URL"
out ETCD_TLS_CA "$PKI/ca.crt"
out ETCD_TLS_CERT "$PKI/client.crt"
out ETCD_TLS_KEY "$PKI/client.key"
out ETCD_ROOT_USER root
out ETCD_ROOT_PASSWORD "$ROOT_PW"
out ETCD_USER alice
out ETCD_PASSWORD "$ALICE_PW"
out ETCD_CLIENT_CERT_REQUIRED "${OPSDECK_ETCD_CLIENT_CERT_AUTH:-0}"
out ETCD_PID "$ETCD_PID"
out ETCD_RUN_DIR "$RUN_DIR"
echo "# stop: $SERVICES_DIR/stop.sh $RUN_DIR"
