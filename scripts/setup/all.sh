#!/usr/bin/env bash
# Builds (or finds in the cache) every self-built test service binary, one
# build at a time, and prints a KEY=path summary:
#   VCSIM_BIN, GOVC_BIN, KUBE_APISERVER_BIN, KUBE_CONTROLLER_MANAGER_BIN,
#   KUBE_SCHEDULER_BIN, KWOK_BIN, ETCD_NEW_BIN (etcd 3.7: the workload control plane, RangeStream tests)
# Versions: GOVMOMI_VERSION (default in build-vcsim.sh), KUBE_VERSION (default
# in build-kube.sh), KWOK_VERSION (build-kwok.sh), ETCD_VERSION (build-etcd.sh). Cache: ${OPSDECK_CACHE:-~/.cache/opsdeck}/bin.
# The Debian-packaged services (etcd, dockerd) are installed by scripts/install-deps.sh.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$HERE/common.sh"

for tool in etcd etcdctl dockerd openssl curl; do
  command -v "$tool" >/dev/null 2>&1 || log "warning: '$tool' not found (needed by scripts/services; run scripts/install-deps.sh)"
done

vcsim_out="$("$HERE/build-vcsim.sh")"
kube_out="$("$HERE/build-kube.sh")"   # sequential on purpose: each build uses all cores
kwok_out="$("$HERE/build-kwok.sh")"
etcd_out="$("$HERE/build-etcd.sh")"

get() { printf '%s\n' "$1" | sed -n "s/^$2=//p"; }
VCSIM_BIN="$(get "$vcsim_out" VCSIM_BIN)"
GOVC_BIN="$(get "$vcsim_out" GOVC_BIN)"
KUBE_APISERVER_BIN="$(get "$kube_out" KUBE_APISERVER_BIN)"
KUBE_CONTROLLER_MANAGER_BIN="$(get "$kube_out" KUBE_CONTROLLER_MANAGER_BIN)"
KUBE_SCHEDULER_BIN="$(get "$kube_out" KUBE_SCHEDULER_BIN)"
KWOK_BIN="$(get "$kwok_out" KWOK_BIN)"
ETCD_NEW_BIN="$(get "$etcd_out" ETCD_NEW_BIN)"
for v in VCSIM_BIN GOVC_BIN KUBE_APISERVER_BIN KUBE_CONTROLLER_MANAGER_BIN KUBE_SCHEDULER_BIN KWOK_BIN ETCD_NEW_BIN; do
  [[ -x "${!v}" ]] || die "$v: '${!v}' is not an executable"
  echo "$v=${!v}"
done
