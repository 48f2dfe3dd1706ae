#!/usr/bin/env bash
# Clusters at scale (issue 16; BENCHMARKS.md "Clusters at scale (KWOK)"). By hand, not in CI.
#   cargo build --release -p opsdeck-cli --bin opsdeck
#   cargo build --release -p opsdeck-tests --bin bench-clusters-scale
#   scripts/bench/clusters-scale.sh [big|many|all]        (default all)
# big:  one cluster (etcd 3.7 + kube-apiserver + KWOK) with NODES=2000 KWOK
#       nodes and PODS=30000 pods bound to them; `opsdeck health` vs `kubectl
#       get nodes,pods -A` (RUNS=3); then the live view for CHURN_SECONDS=600
#       while pods are created and deleted at CHURN_RATE=50/s, RSS every 10 s.
# many: CLUSTERS=50 slim kube-apiservers over one etcd (scripts/bench/kube-many.sh:
#       unused API groups off, no watch cache; MANY_SLIM=0 for default flags),
#       CLUSTER_NODES=20 nodes and CLUSTER_PODS=1000 pods each (status written
#       through the API, no KWOK); `opsdeck health` over all contexts vs a
#       kubectl loop (MANY_RUNS=1: a loop of 50 kubectl takes a minute); the
#       live view's first verdicts and memory over them (SETTLE=60 s of quiet
#       after seeding, before the timed steps).
# SKIP_COMPARE=1: big without the opsdeck/kubectl comparison (the live view only).
# SKIP_LIVE=1: big without the live view under churn (the comparison only).
# LOCK_ALL=1: hold the bench lock from start to end (servers and seeding too).
# Takes the bench lock (/tmp/opsdeck-bench.lock) around each measured step; stops everything it started.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
what="${1:-all}"
NODES="${NODES:-2000}" PODS="${PODS:-30000}" RUNS="${RUNS:-3}"
CHURN_RATE="${CHURN_RATE:-50}" CHURN_SECONDS="${CHURN_SECONDS:-600}"
CLUSTERS="${CLUSTERS:-50}" MANY_RUNS="${MANY_RUNS:-1}" CLUSTER_NODES="${CLUSTER_NODES:-20}" CLUSTER_PODS="${CLUSTER_PODS:-1000}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/opsdeck/target}"
BENCH="$CARGO_TARGET_DIR/release/bench-clusters-scale"
for b in "$BENCH" "$CARGO_TARGET_DIR/release/opsdeck"; do
  [[ -x "$b" ]] || { echo "missing $b (see the header of $0)" >&2; exit 1; }
done
command -v kubectl >/dev/null || { echo "kubectl not in PATH" >&2; exit 1; }

OUT="${OUT:-$ROOT/target/bench-clusters-scale}"
mkdir -p "$OUT"
exec > >(tee "$OUT/clusters-scale-$what-$(date -u +%Y%m%dT%H%M%S).txt") 2>&1
export OPSDECK_DATA_DIR; OPSDECK_DATA_DIR="$(mktemp -d)"
RUN_DIRS=(); BG=()
cleanup() {
  local p d
  # The tee of stdout may be gone (Ctrl-C reaches the whole group): log here.
  exec >>"$OUT/cleanup.log" 2>&1
  for p in "${BG[@]}"; do kill "$p" 2>/dev/null || true; done
  for d in "${RUN_DIRS[@]}"; do "$ROOT/scripts/services/stop.sh" "$d" >&2 || true; done
  rm -rf "$OPSDECK_DATA_DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# The bench lock is held around the measured steps only (compare, live view
# with churn); starting the servers and seeding run without it.
exec 9>/tmp/opsdeck-bench.lock
# LOCK_ALL=1: hold it for the whole run instead (seeding 30,000 pods loads
# both cores for minutes: it would skew another engineer's measured run).
locked() {
  [[ -n "${LOCK_ALL:-}" ]] && { "$@"; return; }
  echo "waiting for the bench lock ($(date -u +%T))"; flock 9; echo "bench lock taken ($(date -u +%T))"
  local rc=0; "$@" || rc=$?
  flock -u 9; return $rc
}
if [[ -n "${LOCK_ALL:-}" ]]; then
  echo "waiting for the bench lock for the whole run ($(date -u +%T))"; flock 9; echo "bench lock taken ($(date -u +%T))"
fi
machine() { echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), MemAvailable $(awk '/^MemAvailable:/ {print int($2/1024)}' /proc/meminfo) MiB"; }
rss_mib() { awk '/^VmRSS:/ {print int($2/1024)}' "/proc/$1/status" 2>/dev/null || echo "?"; }
# The API servers' memory: VmRSS counts the binary's pages (shared by all of
# them) in each; RssAnon is what each one costs on its own.
servers_mem() {
  local p rss=0 anon=0 n=0
  for p in ${MANY_APISERVER_PIDS//,/ }; do
    rss=$(( rss + $(awk '/^VmRSS:/ {print int($2/1024)}' "/proc/$p/status") ))
    anon=$(( anon + $(awk '/^RssAnon:/ {print int($2/1024)}' "/proc/$p/status") ))
    n=$(( n + 1 ))
  done
  echo "$n API servers: VmRSS $rss MiB in total ($(( rss / n )) MiB each), RssAnon $anon MiB in total ($(( anon / n )) MiB each); etcd VmRSS $(rss_mib "$MANY_ETCD_PID") MiB"
}

big() {
  local env
  echo "## big: $NODES KWOK nodes, $PODS pods — $(date -u +%FT%TZ)"; machine
  env="$("$ROOT/scripts/services/kube-apiserver.sh" --workloads)"
  eval "$env"
  RUN_DIRS+=("$KUBE_RUN_DIR")
  # Pods are bound to their node (spec.nodeName): no scheduler needed, and
  # no controller acts on them; KWOK alone plays the kubelets.
  kill "$KUBE_CONTROLLER_MANAGER_PID" "$KUBE_SCHEDULER_PID"
  echo "ran: etcd $("$(dirname "$0")/../setup/build-etcd.sh" 2>/dev/null | sed -n 's/^ETCD_NEW_BIN=.*etcd-//p'), kube-apiserver (default flags of scripts/services/kube-apiserver.sh), KWOK; controller-manager and scheduler stopped"
  "$BENCH" seed "$KUBECONFIG" admin "$NODES" "$PODS" kwok
  echo "after seeding: kube-apiserver RSS $(rss_mib "$KUBE_APISERVER_PID") MiB, etcd $(rss_mib "$KUBE_ETCD_PID") MiB, kwok $(rss_mib "$KWOK_PID") MiB"; machine
  [[ -n "${SKIP_COMPARE:-}" ]] || locked "$BENCH" compare "$KUBECONFIG" "$RUNS" admin
  [[ -n "${SKIP_LIVE:-}" ]] || locked live_big
  [[ -n "${SKIP_LIVE:-}" ]] || echo "after churn: kube-apiserver RSS $(rss_mib "$KUBE_APISERVER_PID") MiB, kwok $(rss_mib "$KWOK_PID") MiB"; machine
  "$ROOT/scripts/services/stop.sh" "$KUBE_RUN_DIR" >&2
}

# The live view, alone in its process; churn in another.
live_big() {
  machine
  "$BENCH" live "$KUBECONFIG" $(( CHURN_SECONDS + 10 )) admin > "$OUT/live-big.txt" &
  local live=$!; BG+=("$live")
  until grep -q "first verdict" "$OUT/live-big.txt" 2>/dev/null; do
    kill -0 "$live" 2>/dev/null || { cat "$OUT/live-big.txt"; echo "live view exited" >&2; return 1; }
    sleep 0.2
  done
  "$BENCH" churn "$KUBECONFIG" admin "$CHURN_RATE" "$CHURN_SECONDS"
  wait "$live"
  cat "$OUT/live-big.txt"
}

many() {
  local env ctxs i
  echo "## many: $CLUSTERS clusters x $CLUSTER_PODS pods — $(date -u +%FT%TZ)"; machine
  env="$("$ROOT/scripts/bench/kube-many.sh" "$CLUSTERS")"
  eval "$env"
  RUN_DIRS+=("$MANY_RUN_DIR")
  (( MANY_CLUSTERS == CLUSTERS )) || echo "only $MANY_CLUSTERS of $CLUSTERS API servers started (MemAvailable floor MANY_MIN_AVAILABLE_MIB, see kube-many.sh's log above)"
  sleep 30   # let each settle after its start (post-start hooks, first GC)
  echo "idle, empty: $(servers_mem)"; machine
  ctxs=(); for i in $(seq 1 "$MANY_CLUSTERS"); do ctxs+=("$(printf 'c%02d' "$i")"); done
  printf '%s\n' "${ctxs[@]}" | xargs -P 4 -I{} "$BENCH" seed "$MANY_KUBECONFIG" {} "$CLUSTER_NODES" "$CLUSTER_PODS" status
  echo "after seeding: $(servers_mem)"; machine
  # Seeding 50 clusters loads both cores: let the load average fall before the timed steps.
  sleep "${SETTLE:-60}"; machine
  locked "$BENCH" compare "$MANY_KUBECONFIG" "$MANY_RUNS" "${ctxs[@]}"
  locked "$BENCH" live "$MANY_KUBECONFIG" 60 "${ctxs[@]}"
  echo "after the live view: $(servers_mem)"; machine
  "$ROOT/scripts/services/stop.sh" "$MANY_RUN_DIR" >&2
}

case "$what" in
  big) big ;;
  many) many ;;
  all) big; many ;;
  *) echo "usage: $0 [big|many|all]" >&2; exit 2 ;;
esac
