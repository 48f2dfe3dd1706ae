#!/usr/bin/env bash
# Starts one private Docker Engine (Debian docker.io 20.10) on its own unix socket,
# with its own data-root/exec-root/pidfile/config, no iptables and no bridge, so
# it disturbs nothing else on the machine (not /var/run/docker.sock, not /var/lib/docker).
#   eval "$(scripts/services/dockerd.sh)"          -> DOCKER_HOST=unix://..., DOCKERD_PID, DOCKERD_RUN_DIR
#   eval "$(scripts/services/dockerd.sh --tls)"    -> also DOCKER_TLS_HOST=tcp://127.0.0.1:PORT
#                                                     and DOCKER_CERT_PATH (ca.pem, cert.pem, key.pem; mutual TLS)
#   scripts/services/stop.sh "$DOCKERD_RUN_DIR"
# Must run as root (dockerd needs it).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
with_tls=0
for a in "$@"; do
  case "$a" in
    --tls) with_tls=1 ;;
    *) die "unknown argument '$a' (usage: $0 [--tls])" ;;
  esac
done
need dockerd "install Debian package docker.io (scripts/install-deps.sh)"
need containerd "install Debian package docker.io (it pulls containerd)"
need curl
[[ "$(id -u)" == 0 ]] || die "dockerd needs root"

new_run_dir dockerd
t0=$(now_ms)
SOCK="$RUN_DIR/docker.sock"
echo '{}' > "$RUN_DIR/daemon.json"   # never read /etc/docker/daemon.json
hosts=(--host "unix://$SOCK")
if [[ $with_tls == 1 ]]; then
  need openssl
  PKI="$RUN_DIR/pki"; mkdir -p "$PKI"
  gen_ca "$PKI"
  gen_cert "$PKI" server 127.0.0.1 serverAuth "IP:127.0.0.1,DNS:localhost"
  gen_cert "$PKI" client opsdeck-client clientAuth
  # docker CLI convention: $DOCKER_CERT_PATH/{ca,cert,key}.pem
  CERTS="$RUN_DIR/client-certs"; mkdir -p "$CERTS"
  cp "$PKI/ca.crt" "$CERTS/ca.pem"; cp "$PKI/client.crt" "$CERTS/cert.pem"; cp "$PKI/client.key" "$CERTS/key.pem"
  TLS_PORT=$(free_port)
  hosts+=(--host "tcp://127.0.0.1:$TLS_PORT" --tlsverify
          --tlscacert "$PKI/ca.crt" --tlscert "$PKI/server.crt" --tlskey "$PKI/server.key")
fi

spawn dockerd dockerd "${hosts[@]}" \
  --config-file "$RUN_DIR/daemon.json" \
  --data-root "$RUN_DIR/data" \
  --exec-root "$RUN_DIR/exec" \
  --pidfile "$RUN_DIR/docker.pid" \
  --iptables=false --ip6tables=false --ip-masq=false --bridge=none
DOCKERD_PID=$SPAWNED_PID
wait_for "dockerd $SOCK" "$DOCKERD_PID" \
  sh -c "curl -fsS --unix-socket '$SOCK' http://localhost/_ping | grep -qx OK"
log "dockerd ready in $(( $(now_ms) - t0 )) ms"
if [[ $with_tls == 1 ]]; then
  curl -fsS --cacert "$CERTS/ca.pem" --cert "$CERTS/cert.pem" --key "$CERTS/key.pem" \
    "https://127.0.0.1:$TLS_PORT/_ping" | grep -qx OK || die "dockerd TLS endpoint does not answer"
fi

service_ready
out DOCKER_HOST "unix://$SOCK"
if [[ $with_tls == 1 ]]; then
  out DOCKER_TLS_HOST "tcp://127.0.0.1:$TLS_PORT"
  out DOCKER_CERT_PATH "$CERTS"
  out DOCKER_TLS_CA "$PKI/ca.crt"
fi
out DOCKERD_PID "$DOCKERD_PID"
out DOCKERD_RUN_DIR "$RUN_DIR"
echo "# stop: $SERVICES_DIR/stop.sh $RUN_DIR"
