#!/usr/bin/env bash
# Many real Kubernetes clusters for the scale benchmark (scripts/bench/clusters-scale.sh):
# N kube-apiservers (scripts/setup/build-kube.sh) over ONE etcd 3.7
# (scripts/setup/build-etcd.sh), each with its own --etcd-prefix, so each is a
# separate cluster with its own objects, served on its own port. One CA and one
# admin token for all (the contexts differ by server, not by user).
#   eval "$(scripts/bench/kube-many.sh N)"
#     -> MANY_KUBECONFIG (contexts c01..cNN), MANY_CLUSTERS (how many started),
#        MANY_RUN_DIR, MANY_ETCD_PID, MANY_APISERVER_PIDS
#   scripts/services/stop.sh "$MANY_RUN_DIR"
# Stops starting more API servers when MemAvailable falls under
# MANY_MIN_AVAILABLE_MIB (default 6144): the machine is shared, an OOM would
# kill someone else's build. MANY_CLUSTERS says how many run.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../services/lib.sh"
READY_TIMEOUT="${READY_TIMEOUT:-180}"
N="${1:?usage: $0 N}"
MIN_AVAILABLE_MIB="${MANY_MIN_AVAILABLE_MIB:-6144}"
need openssl; need curl

if [[ -z "${KUBE_APISERVER_BIN:-}" ]]; then
  KUBE_APISERVER_BIN="$("$SERVICES_DIR/../setup/build-kube.sh" kube-apiserver | sed -n 's/^KUBE_APISERVER_BIN=//p')"
fi
newest_etcd kube-many
[[ -x "$KUBE_APISERVER_BIN" ]] || die "kube-apiserver missing (scripts/setup/all.sh)"

new_run_dir kube-many
t0=$(now_ms)
start_etcd etcd --quota-backend-bytes=8589934592
wait_for "etcd $ETCD_CLIENT_URL" "$ETCD_PID" sh -c "curl -fsS '$ETCD_CLIENT_URL/health' | grep -q '\"health\":\"true\"'"

PKI="$RUN_DIR/pki"; mkdir -p "$PKI"
gen_ca "$PKI"
gen_cert "$PKI" apiserver kube-apiserver serverAuth "IP:127.0.0.1,DNS:localhost,IP:10.96.0.1"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$PKI/sa.key" 2>/dev/null
openssl pkey -in "$PKI/sa.key" -pubout -out "$PKI/sa.pub"
TOKEN="$(openssl rand -hex 24)"
echo "$TOKEN,opsdeck-admin,opsdeck-admin-uid,\"system:masters\"" > "$RUN_DIR/tokens.csv"
chmod 600 "$RUN_DIR/tokens.csv"

# Slim API servers (MANY_SLIM=1, the default): the clusters serve what the
# benchmark reads and writes (core v1: nodes, pods, namespaces, events; apps/v1:
# deployments, statefulsets, daemonsets; RBAC and the review APIs for the
# authorizer) plus the groups the API server's own controllers wait for before
# /readyz says ok (apiregistration, apiextensions, coordination, networking,
# discovery, admissionregistration); every other group is off
# (--runtime-config: autoscaling, batch, certificates, policy, storage,
# scheduling, flowcontrol, events.k8s.io, resource, ...). No watch cache
# (lists and watches are served from etcd), no priority and fairness, no
# admission plugins beyond the core ones (NamespaceLifecycle,
# TaintNodesByCondition, DefaultTolerationSeconds, ...). Nodes and pods are
# created with their Ready / Running status written through the status
# subresource, so no controller-manager, scheduler or kubelet is needed.
# Measured: 200 MiB VmRSS / 128 MiB RssAnon each, empty (VmRSS counts the
# binary's ~72 MiB of shared pages in each); MANY_SLIM=0, the flags of a
# default API server: 257 MiB VmRSS each, empty (BENCHMARKS.md).
SLIM=(--disable-admission-plugins=ServiceAccount)
if [[ "${MANY_SLIM:-1}" == 1 ]]; then
  SLIM=(--watch-cache=false --enable-priority-and-fairness=false
    --runtime-config=api/all=false,api/v1=true,apps/v1=true,rbac.authorization.k8s.io/v1=true,authorization.k8s.io/v1=true,authentication.k8s.io/v1=true,apiregistration.k8s.io/v1=true,apiextensions.k8s.io/v1=true,coordination.k8s.io/v1=true,networking.k8s.io/v1=true,discovery.k8s.io/v1=true,admissionregistration.k8s.io/v1=true
    --disable-admission-plugins=ServiceAccount,MutatingAdmissionWebhook,ValidatingAdmissionWebhook,ValidatingAdmissionPolicy,MutatingAdmissionPolicy,ResourceQuota,CertificateApproval,CertificateSigning,ClusterTrustBundleAttest,CertificateSubjectRestriction,DefaultIngressClass,DefaultStorageClass,StorageObjectInUseProtection,PersistentVolumeClaimResize,RuntimeClass,PodSecurity,Priority,LimitRanger,PodGroupProtection)
fi
# MANY_GOGC: the API servers' Go GC target (default Go's 100; 50 keeps each
# ~50 MiB smaller after seeding, at some CPU).
[[ -n "${MANY_GOGC:-}" ]] && export GOGC="$MANY_GOGC"
avail_mib() { awk '/^MemAvailable:/ {print int($2/1024)}' /proc/meminfo; }
SERVERS=(); PIDS=()
for i in $(seq 1 "$N"); do
  if (( $(avail_mib) < MIN_AVAILABLE_MIB )); then
    log "MemAvailable $(avail_mib) MiB < $MIN_AVAILABLE_MIB MiB: not starting more than $((i - 1)) API servers"
    break
  fi
  name=$(printf 'c%02d' "$i")
  port=$(free_port)
  mkdir -p "$RUN_DIR/certs-$name"
  spawn "apiserver-$name" "$KUBE_APISERVER_BIN" \
    --etcd-servers="$ETCD_CLIENT_URL" --etcd-prefix="/$name" \
    --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$port" \
    --tls-cert-file="$PKI/apiserver.crt" --tls-private-key-file="$PKI/apiserver.key" \
    --cert-dir="$RUN_DIR/certs-$name" \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --service-account-key-file="$PKI/sa.pub" --service-account-signing-key-file="$PKI/sa.key" \
    --token-auth-file="$RUN_DIR/tokens.csv" --authorization-mode=RBAC \
    --service-cluster-ip-range=10.96.0.0/24 \
    --endpoint-reconciler-type=none --profiling=false "${SLIM[@]}"
  PIDS+=("$SPAWNED_PID"); SERVERS+=("$name https://127.0.0.1:$port")
  # One at a time: an API server's start (storage init, RBAC bootstrap) takes
  # a core; ten at once on 2 cores only makes each slower.
  wait_for "kube-apiserver $name :$port/readyz" "$SPAWNED_PID" \
    sh -c "curl -fsS --max-time 5 --cacert '$PKI/ca.crt' -H 'Authorization: Bearer $TOKEN' 'https://127.0.0.1:$port/readyz' | grep -qx ok"
  log "$name ready (:$port), $(( ($(now_ms) - t0) / 1000 )) s, MemAvailable $(avail_mib) MiB"
done
(( ${#SERVERS[@]} > 0 )) || die "no API server started"

KC="$RUN_DIR/kubeconfig"
install -m 600 /dev/null "$KC"
{
  echo "apiVersion: v1"; echo "kind: Config"; echo "clusters:"
  for s in "${SERVERS[@]}"; do
    read -r name url <<<"$s"
    printf -- '- name: %s\n  cluster:\n    server: %s\n    certificate-authority: %s\n' "$name" "$url" "$PKI/ca.crt"
  done
  printf 'users:\n- name: admin\n  user:\n    token: %s\ncontexts:\n' "$TOKEN"
  for s in "${SERVERS[@]}"; do
    read -r name _ <<<"$s"
    printf -- '- name: %s\n  context:\n    cluster: %s\n    user: admin\n' "$name" "$name"
  done
  echo "current-context: c01"
} > "$KC"
log "${#SERVERS[@]} API servers ready in $(( ($(now_ms) - t0) / 1000 )) s"
service_ready
out MANY_KUBECONFIG "$KC"
out MANY_CLUSTERS "${#SERVERS[@]}"
out MANY_RUN_DIR "$RUN_DIR"
out MANY_ETCD_PID "$ETCD_PID"
out MANY_APISERVER_PIDS "$(IFS=,; echo "${PIDS[*]}")"
echo "# stop: $SERVICES_DIR/stop.sh $RUN_DIR"
