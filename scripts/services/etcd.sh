#!/usr/bin/env bash
# Starts one plain-http etcd (Debian etcd-server 3.4) on free loopback ports;
# arguments are passed to etcd (e.g. --quota-backend-bytes=16777216).
#   eval "$(scripts/services/etcd.sh)"   ->  ETCD_ENDPOINT, ETCD_PID, ETCD_RUN_DIR
#   scripts/services/stop.sh "$ETCD_RUN_DIR"
# OPSDECK_ETCD_NEWEST=1: the etcd built by scripts/setup/build-etcd.sh (3.7:
# RangeStream) instead of Debian's; ETCD_SERVER_BIN=path: that binary.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
if [[ "${OPSDECK_ETCD_NEWEST:-0}" == 1 ]]; then
  newest_etcd OPSDECK_ETCD_NEWEST=1
fi
need "${ETCD_SERVER_BIN:-etcd}" "install Debian package etcd-server (scripts/install-deps.sh)"
need curl

new_run_dir etcd
t0=$(now_ms)
start_etcd etcd "$@"
wait_for "etcd $ETCD_CLIENT_URL" "$ETCD_PID" \
  sh -c "curl -fsS '$ETCD_CLIENT_URL/health' | grep -q '\"health\":\"true\"'"
log "etcd ($("${ETCD_SERVER_BIN:-etcd}" --version | head -1)) ready in $(( $(now_ms) - t0 )) ms"
service_ready
out ETCD_ENDPOINT "$ETCD_CLIENT_URL"
out ETCD_PID "$ETCD_PID"
out ETCD_RUN_DIR "$RUN_DIR"
echo "# stop: $SERVICES_DIR/stop.sh $RUN_DIR"
