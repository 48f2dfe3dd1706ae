#!/usr/bin/env bash
# Starts one plain-http etcd (Debian etcd-server 3.4) on free loopback ports;
# arguments are passed to etcd (e.g. --quota-backend-bytes=16777216).
#   eval "$(scripts/services/etcd.sh)"   ->  ETCD_ENDPOINT, ETCD_PID, ETCD_RUN_DIR
#   scripts/services/stop.sh "$ETCD_RUN_DIR"
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need etcd "install Debian package etcd-server (scripts/install-deps.sh)"
need curl

new_run_dir etcd
t0=$(now_ms)
start_etcd etcd "$@"
wait_for "etcd $ETCD_CLIENT_URL" "$ETCD_PID" \
  sh -c "curl -fsS '$ETCD_CLIENT_URL/health' | grep -q '\"health\":\"true\"'"
log "etcd ready in $(( $(now_ms) - t0 )) ms"
service_ready
out ETCD_ENDPOINT "$ETCD_CLIENT_URL"
out ETCD_PID "$ETCD_PID"
out ETCD_RUN_DIR "$RUN_DIR"
echo "# stop: $SERVICES_DIR/stop.sh $RUN_DIR"
