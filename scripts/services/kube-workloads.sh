#!/usr/bin/env bash
# Adds what makes a kube-apiserver run workloads, into that apiserver's run dir:
#   kube-controller-manager (all on-by-default controllers; v1.37 has no cloud
#     controllers left in it, so `--controllers=*` needs no exclusions; each
#     controller with its own service-account credentials)
#   kube-scheduler
#   kwok (KWOK's controller: plays the kubelet of every node annotated
#     kwok.x-k8s.io/node=fake, with the stages in scripts/services/kwok-stages/)
#
#   scripts/services/kube-apiserver.sh --workloads      # usual way: apiserver + these
#   scripts/services/kube-workloads.sh "$KUBE_RUN_DIR"  # over a running kube-apiserver.sh
#     -> KUBE_CONTROLLER_MANAGER_PID, KUBE_SCHEDULER_PID, KWOK_PID, KWOK_NODE_ANNOTATION, ...
# Stop: scripts/services/stop.sh "$KUBE_RUN_DIR" (stops everything in the run dir).
# Readiness: each component's /healthz answers ok (polled, no fixed sleeps);
# the controller-manager's only after its controllers started.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
READY_TIMEOUT="${READY_TIMEOUT:-120}"
need curl
[[ $# -eq 1 && -f "$1/.opsdeck-service" && -f "$1/kubeconfig-kwok" ]] \
  || die "usage: $0 KUBE_RUN_DIR (a run dir of scripts/services/kube-apiserver.sh)"
RUN_DIR="$(cd "$1" && pwd)"
PKI="$RUN_DIR/pki"
! grep -q '^KWOK_PID=' "$RUN_DIR/env" 2>/dev/null || die "$RUN_DIR already runs the workload components"

bins="$("$SERVICES_DIR/../setup/build-kube.sh" kube-controller-manager kube-scheduler)"
KCM_BIN="${KUBE_CONTROLLER_MANAGER_BIN:-$(printf '%s\n' "$bins" | sed -n 's/^KUBE_CONTROLLER_MANAGER_BIN=//p')}"
SCHED_BIN="${KUBE_SCHEDULER_BIN:-$(printf '%s\n' "$bins" | sed -n 's/^KUBE_SCHEDULER_BIN=//p')}"
KWOK_BIN="${KWOK_BIN:-$("$SERVICES_DIR/../setup/build-kwok.sh" | sed -n 's/^KWOK_BIN=//p')}"
for b in "$KCM_BIN" "$SCHED_BIN" "$KWOK_BIN"; do [[ -x "$b" ]] || die "binary '$b' missing (scripts/setup/all.sh builds it)"; done

# On failure stop what this script started (the apiserver's own script, when
# it called us, stops the whole run dir anyway).
STARTED=()
cleanup() {
  local rc=$? pid
  if (( rc != 0 )); then
    for f in controller-manager scheduler kwok; do
      [[ -f "$RUN_DIR/$f.log" ]] && { echo "--- $RUN_DIR/$f.log (last 30 lines)" >&2; tail -n 30 "$RUN_DIR/$f.log" >&2; }
    done
    for pid in "${STARTED[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    local deadline=$(( $(date +%s) + 15 ))   # bounded wait for them to exit
    for pid in "${STARTED[@]}"; do
      while kill -0 "$pid" 2>/dev/null && (( $(date +%s) < deadline )); do sleep 0.1; done
      kill -KILL "$pid" 2>/dev/null || true
    done
  fi
}
trap cleanup EXIT

healthz() { curl -ksS --max-time 2 "https://127.0.0.1:$1/healthz" | grep -qx ok; }
t0=$(now_ms)

# kube-controller-manager: --use-service-account-credentials makes each
# controller act as its own service account in kube-system (tokens signed with
# the apiserver's service-account key); the CSR signer uses the test CA.
# --node-monitor-period=1s (default 5 s): a new node's not-ready taint is
# lifted, and a node that stops reporting is noticed, within a second.
KCM_PORT=$(free_port)
mkdir -p "$RUN_DIR/controller-manager-certs"
spawn controller-manager "$KCM_BIN" \
  --kubeconfig="$RUN_DIR/kubeconfig-controller-manager" \
  --authentication-kubeconfig="$RUN_DIR/kubeconfig-controller-manager" \
  --authorization-kubeconfig="$RUN_DIR/kubeconfig-controller-manager" \
  --bind-address=127.0.0.1 --secure-port="$KCM_PORT" \
  --cert-dir="$RUN_DIR/controller-manager-certs" \
  --controllers='*' \
  --use-service-account-credentials=true \
  --service-account-private-key-file="$PKI/sa.key" \
  --root-ca-file="$PKI/ca.crt" \
  --cluster-signing-cert-file="$PKI/ca.crt" --cluster-signing-key-file="$PKI/ca.key" \
  --service-cluster-ip-range=10.96.0.0/24 \
  --node-monitor-period=1s \
  --leader-elect=false \
  --profiling=false
KCM_PID=$SPAWNED_PID; STARTED+=("$KCM_PID")

# kube-scheduler
SCHED_PORT=$(free_port)
mkdir -p "$RUN_DIR/scheduler-certs"
spawn scheduler "$SCHED_BIN" \
  --kubeconfig="$RUN_DIR/kubeconfig-scheduler" \
  --authentication-kubeconfig="$RUN_DIR/kubeconfig-scheduler" \
  --authorization-kubeconfig="$RUN_DIR/kubeconfig-scheduler" \
  --bind-address=127.0.0.1 --secure-port="$SCHED_PORT" \
  --cert-dir="$RUN_DIR/scheduler-certs" \
  --leader-elect=false \
  --profiling=false
SCHED_PID=$SPAWNED_PID; STARTED+=("$SCHED_PID")

# kwok: only nodes with this annotation are its (the other tests' hand-made
# nodes are left alone); its node leases keep the node-lifecycle controller
# from marking them Unknown.
KWOK_ANNOTATION="kwok.x-k8s.io/node=fake"
{
  for f in "$SERVICES_DIR"/kwok-stages/*.yaml; do cat "$f"; echo "---"; done
} > "$RUN_DIR/kwok-stages.yaml"
KWOK_PORT=$(free_port)
spawn kwok "$KWOK_BIN" \
  --kubeconfig="$RUN_DIR/kubeconfig-kwok" \
  --config="$RUN_DIR/kwok-stages.yaml" \
  --manage-all-nodes=false \
  --manage-nodes-with-annotation-selector="$KWOK_ANNOTATION" \
  --node-lease-duration-seconds=40 \
  --cidr=10.244.0.0/16 --node-ip=10.0.0.1 \
  --server-address="127.0.0.1:$KWOK_PORT"
KWOK_PID=$SPAWNED_PID; STARTED+=("$KWOK_PID")

t_spawn=$(now_ms)
wait_for "kube-scheduler :$SCHED_PORT/healthz" "$SCHED_PID" healthz "$SCHED_PORT"
t_sched=$(now_ms)
wait_for "kwok 127.0.0.1:$KWOK_PORT/healthz" "$KWOK_PID" \
  sh -c "curl -fsS --max-time 2 'http://127.0.0.1:$KWOK_PORT/healthz' | grep -qx ok"
t_kwok=$(now_ms)
wait_for "kube-controller-manager :$KCM_PORT/healthz" "$KCM_PID" healthz "$KCM_PORT"
t_kcm=$(now_ms)
log "workload components ready in $(( t_kcm - t0 )) ms (scheduler $(( t_sched - t_spawn )) ms, kwok $(( t_kwok - t_spawn )) ms, controller-manager $(( t_kcm - t_spawn )) ms after spawn)"
trap - EXIT

out KUBE_CONTROLLER_MANAGER_PID "$KCM_PID"
out KUBE_CONTROLLER_MANAGER_HEALTHZ "https://127.0.0.1:$KCM_PORT/healthz"
out KUBE_SCHEDULER_PID "$SCHED_PID"
out KUBE_SCHEDULER_HEALTHZ "https://127.0.0.1:$SCHED_PORT/healthz"
out KWOK_PID "$KWOK_PID"
out KWOK_HEALTHZ "http://127.0.0.1:$KWOK_PORT/healthz"
out KWOK_NODE_ANNOTATION "$KWOK_ANNOTATION"
out KWOK_STAGES "$RUN_DIR/kwok-stages.yaml"
