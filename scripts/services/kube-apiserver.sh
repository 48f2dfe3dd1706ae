#!/usr/bin/env bash
# Starts one real kube-apiserver (built by scripts/setup/build-kube.sh)
# over its own etcd, with RBAC and static-token authentication. By default no
# kubelet, controller-manager or scheduler: Nodes/Pods are created and their
# status set through the API (status subresource).
#   eval "$(scripts/services/kube-apiserver.sh)"
#     -> KUBE_SERVER, KUBE_CA, KUBE_ADMIN_TOKEN, KUBE_RESTRICTED_TOKEN, KUBECONFIG
#        (contexts "admin" and "restricted"), KUBE_ETCD_ENDPOINT, KUBE_APISERVER_PID, ...
#   eval "$(scripts/services/kube-apiserver.sh --workloads)"
#     -> also kube-controller-manager, kube-scheduler and KWOK in the same run
#        dir (scripts/services/kube-workloads.sh): a control plane that runs
#        Deployments on KWOK fake nodes. Opt-in: its controllers would act on
#        the hand-made objects of the other tests (node lifecycle, GC, ...).
#   scripts/services/stop.sh "$KUBE_RUN_DIR"
# Users (static token file, CSV: token,user,uid,"group1,group2"):
#   opsdeck-admin       group system:masters   -> everything
#   opsdeck-restricted  no group               -> only what RBAC grants system:authenticated
#                       (discovery, self-subject reviews) plus read access in
#                       namespace "default" (RoleBinding opsdeck-restricted-view ->
#                       ClusterRole system:aggregate-to-view).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
READY_TIMEOUT="${READY_TIMEOUT:-120}"
workloads=false
case "${1:-}" in
  --workloads) workloads=true ;;
  "") ;;
  *) die "usage: $0 [--workloads]" ;;
esac
need etcd "install Debian package etcd-server (scripts/install-deps.sh)"
need openssl; need curl

if [[ -z "${KUBE_APISERVER_BIN:-}" ]]; then
  KUBE_APISERVER_BIN="$("$SERVICES_DIR/../setup/build-kube.sh" kube-apiserver | sed -n 's/^KUBE_APISERVER_BIN=//p')"
fi
[[ -x "$KUBE_APISERVER_BIN" ]] || die "kube-apiserver binary '$KUBE_APISERVER_BIN' missing (run scripts/setup/build-kube.sh)"

new_run_dir kube-apiserver
t0=$(now_ms)

# 1. etcd for the apiserver (plain http on loopback). With --workloads a newer
#    etcd than Debian's 3.4.23 (scripts/setup/build-etcd.sh says why: KWOK's
#    informers need the apiserver's watch-list streams).
if $workloads; then
  newest_etcd --workloads
fi
start_etcd etcd
KETCD_PID=$ETCD_PID; KETCD_URL=$ETCD_CLIENT_URL

# 2. PKI: CA, serving cert, service-account key pair
PKI="$RUN_DIR/pki"; mkdir -p "$PKI"
gen_ca "$PKI"
gen_cert "$PKI" apiserver kube-apiserver serverAuth \
  "IP:127.0.0.1,DNS:localhost,IP:10.96.0.1,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$PKI/sa.key" 2>/dev/null
openssl pkey -in "$PKI/sa.key" -pubout -out "$PKI/sa.pub"

# 3. static tokens; also for the workload components (kube-workloads.sh), so
#    they can be started later over this apiserver: the token file is only
#    read at apiserver start. The controller-manager and scheduler users are
#    the ones the bootstrap RBAC policy binds; kwok plays every node's kubelet.
ADMIN_TOKEN="$(openssl rand -hex 24)"
RESTRICTED_TOKEN="$(openssl rand -hex 24)"
KCM_TOKEN="$(openssl rand -hex 24)"
SCHED_TOKEN="$(openssl rand -hex 24)"
KWOK_TOKEN="$(openssl rand -hex 24)"
cat > "$RUN_DIR/tokens.csv" <<CSV
$ADMIN_TOKEN,opsdeck-admin,opsdeck-admin-uid,"system:masters"
$RESTRICTED_TOKEN,opsdeck-restricted,opsdeck-restricted-uid
$KCM_TOKEN,system:kube-controller-manager,kcm-uid
$SCHED_TOKEN,system:kube-scheduler,scheduler-uid
$KWOK_TOKEN,opsdeck-kwok,kwok-uid,"system:masters"
CSV
chmod 600 "$RUN_DIR/tokens.csv"

wait_for "etcd $KETCD_URL" "$KETCD_PID" \
  sh -c "curl -fsS '$KETCD_URL/health' | grep -q '\"health\":\"true\"'"
t_etcd=$(now_ms)

# 4. kube-apiserver
PORT=$(free_port)
SERVER="https://127.0.0.1:$PORT"
mkdir -p "$RUN_DIR/apiserver-certs"
spawn kube-apiserver "$KUBE_APISERVER_BIN" \
  --etcd-servers="$KETCD_URL" \
  --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$PORT" \
  --tls-cert-file="$PKI/apiserver.crt" --tls-private-key-file="$PKI/apiserver.key" \
  --cert-dir="$RUN_DIR/apiserver-certs" \
  --service-account-issuer=https://kubernetes.default.svc.cluster.local \
  --service-account-key-file="$PKI/sa.pub" \
  --service-account-signing-key-file="$PKI/sa.key" \
  --token-auth-file="$RUN_DIR/tokens.csv" \
  --authorization-mode=RBAC \
  --service-cluster-ip-range=10.96.0.0/24 \
  --disable-admission-plugins=ServiceAccount \
  --endpoint-reconciler-type=none \
  --profiling=false
APISERVER_PID=$SPAWNED_PID
t_spawn=$(now_ms)
wait_for "kube-apiserver $SERVER/readyz" "$APISERVER_PID" \
  sh -c "curl -fsS --cacert '$PKI/ca.crt' -H 'Authorization: Bearer $ADMIN_TOKEN' '$SERVER/readyz' | grep -qx ok"
t_ready=$(now_ms)

# 5. kubeconfigs: contexts admin and restricted for the tests, one
#    single-user file per workload component.
# write_kubeconfig FILE NAME:TOKEN[:NAMESPACE]...: a kubeconfig for this
# apiserver with one user and one context per NAME; the first is current.
write_kubeconfig() {
  local file="$1" entry name token ns; shift
  install -m 600 /dev/null "$file"
  {
    printf 'apiVersion: v1\nkind: Config\nclusters:\n- name: opsdeck-test\n  cluster:\n'
    printf '    server: %s\n    certificate-authority: %s\n' "$SERVER" "$PKI/ca.crt"
    echo "users:"
    for entry in "$@"; do
      IFS=: read -r name token ns <<<"$entry"
      printf -- '- name: %s\n  user:\n    token: %s\n' "$name" "$token"
    done
    echo "contexts:"
    for entry in "$@"; do
      IFS=: read -r name token ns <<<"$entry"
      printf -- '- name: %s\n  context:\n    cluster: opsdeck-test\n    user: %s\n' "$name" "$name"
      [[ -z "$ns" ]] || printf '    namespace: %s\n' "$ns"
    done
    echo "current-context: ${1%%:*}"
  } > "$file"
}
KUBECONFIG_FILE="$RUN_DIR/kubeconfig"
write_kubeconfig "$KUBECONFIG_FILE" "admin:$ADMIN_TOKEN" "restricted:$RESTRICTED_TOKEN:default"
write_kubeconfig "$RUN_DIR/kubeconfig-controller-manager" "controller-manager:$KCM_TOKEN"
write_kubeconfig "$RUN_DIR/kubeconfig-scheduler" "scheduler:$SCHED_TOKEN"
write_kubeconfig "$RUN_DIR/kubeconfig-kwok" "kwok:$KWOK_TOKEN"

# 6. restricted user may read (get/list/watch pods, services, configmaps, ... but
#    not secrets) in namespace default only. NB: the ClusterRole "view" itself is
#    an *aggregated* role whose rules are filled in by kube-controller-manager,
#    which does not run here, so it is empty; bind the non-aggregated
#    "system:aggregate-to-view" (the core part of "view") instead.
curl -fsS --cacert "$PKI/ca.crt" -H "Authorization: Bearer $ADMIN_TOKEN" \
  -H 'Content-Type: application/json' -X POST \
  "$SERVER/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings" \
  -d '{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"RoleBinding",
       "metadata":{"name":"opsdeck-restricted-view","namespace":"default"},
       "roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"system:aggregate-to-view"},
       "subjects":[{"apiGroup":"rbac.authorization.k8s.io","kind":"User","name":"opsdeck-restricted"}]}' \
  >/dev/null || die "creating RoleBinding opsdeck-restricted-view failed"

log "kube-apiserver ready in $(( $(now_ms) - t0 )) ms (etcd $(( t_etcd - t0 )) ms incl. pki; apiserver process start to /readyz ok $(( t_ready - t_spawn )) ms)"
if $workloads; then
  # same run dir: its processes are recorded in $RUN_DIR/pids, so stop.sh stops them too
  wl_out="$(KUBE_RUN_DIR="$RUN_DIR" "$SERVICES_DIR/kube-workloads.sh" "$RUN_DIR")" \
    || die "starting the workload components failed (logs above)"
fi
service_ready
out KUBE_SERVER "$SERVER"
out KUBE_CA "$PKI/ca.crt"
out KUBE_ADMIN_TOKEN "$ADMIN_TOKEN"
out KUBE_ADMIN_USER opsdeck-admin
out KUBE_RESTRICTED_TOKEN "$RESTRICTED_TOKEN"
out KUBE_RESTRICTED_USER opsdeck-restricted
out KUBECONFIG "$KUBECONFIG_FILE"
out KUBE_ETCD_ENDPOINT "$KETCD_URL"
out KUBE_APISERVER_PID "$APISERVER_PID"
out KUBE_ETCD_PID "$KETCD_PID"
out KUBE_RUN_DIR "$RUN_DIR"
if $workloads; then
  printf '%s\n' "$wl_out" | grep -v '^#'   # kube-workloads.sh recorded them in $RUN_DIR/env
fi
echo "# stop: $SERVICES_DIR/stop.sh $RUN_DIR"
