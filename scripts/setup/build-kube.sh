#!/usr/bin/env bash
# Builds real Kubernetes control-plane components from the k8s.io/kubernetes
# Go module, all from ONE wrapper module per version.
#
#   scripts/setup/build-kube.sh                      # all: kube-apiserver kube-controller-manager kube-scheduler
#   scripts/setup/build-kube.sh kube-scheduler       # just the named component(s)
#   KUBE_VERSION=v1.36.3 scripts/setup/build-kube.sh
#   OPSDECK_REBUILD=1 scripts/setup/build-kube.sh kube-apiserver
# prints KUBE_APISERVER_BIN=..., KUBE_CONTROLLER_MANAGER_BIN=..., KUBE_SCHEDULER_BIN=...
#
# k8s.io/kubernetes's go.mod requires its staging modules (k8s.io/api,
# k8s.io/apiserver, ...) at v0.0.0 and replaces them with ./staging/src/...
# paths; replace directives of a dependency are ignored, so a wrapper module
# must pin each of them itself: k8s.io/<m> => k8s.io/<m> v0.<minor>.<patch>.
# The list is read from the kubernetes go.mod of the pinned version. The
# wrapper requires the packages of all three commands, so every component of
# one version is built from the same build list (same dependency versions).
# Build flags follow kubernetes' hack/lib/golang.sh for static release
# binaries: CGO_ENABLED=0, -trimpath, -tags selinux,notest,grpcnotrace,
# -ldflags "-s -w -X k8s.io/{component-base,client-go/pkg}/version.*".
# Binaries: ${OPSDECK_CACHE:-~/.cache/opsdeck}/bin/<component>-<version>.
# One build at a time per machine (flock); Go's build cache (GOCACHE) is shared,
# so the packages the components have in common compile once. Times on this
# 2-core machine: docs/services.md.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=common.sh
. "$HERE/common.sh"

ALL=(kube-apiserver kube-controller-manager kube-scheduler)
COMPONENTS=("$@")
(( ${#COMPONENTS[@]} > 0 )) || COMPONENTS=("${ALL[@]}")
for c in "${COMPONENTS[@]}"; do
  [[ " ${ALL[*]} " == *" $c "* ]] || die "unknown component '$c' (one of: ${ALL[*]})"
done

KUBE_VERSION="${KUBE_VERSION:-v1.37.2}"
[[ "$KUBE_VERSION" =~ ^v1\.([0-9]+)\.([0-9]+)$ ]] || die "KUBE_VERSION must look like v1.37.2, got '$KUBE_VERSION'"
KUBE_MINOR="${BASH_REMATCH[1]}"
STAGING_VERSION="v0.${BASH_REMATCH[1]}.${BASH_REMATCH[2]}"

bin_of() { echo "$OPSDECK_BIN_DIR/$1-$KUBE_VERSION"; }
key_of() { local k="${1^^}"; echo "${k//-/_}_BIN"; }   # kube-controller-manager -> KUBE_CONTROLLER_MANAGER_BIN
missing() {
  local c; TODO=()
  for c in "${COMPONENTS[@]}"; do
    [[ "${OPSDECK_REBUILD:-0}" != 1 && -x "$(bin_of "$c")" ]] || TODO+=("$c")
  done
}
emit() { local c; for c in "${COMPONENTS[@]}"; do echo "$(key_of "$c")=$(bin_of "$c")"; done; }

built() { missing; (( ${#TODO[@]} == 0 )); }
build_once kube built emit
missing   # what is left to build (all of them with OPSDECK_REBUILD=1)
require_go 26   # kubernetes v1.37 go.mod says `go 1.26.0`

start=$(date +%s)
SRC="$OPSDECK_CACHE/src/kube-$KUBE_VERSION"
# The wrapper module is reused while it is complete (go.sum written by a
# finished `go get`); it only depends on the version.
if [[ ! -f "$SRC/.complete" ]]; then
  log "fetching k8s.io/kubernetes@$KUBE_VERSION go.mod"
  KMOD="$(cd / && go mod download -json "k8s.io/kubernetes@$KUBE_VERSION" | sed -n 's/^\t"GoMod": "\(.*\)",$/\1/p')"
  [[ -f "$KMOD" ]] || die "could not download k8s.io/kubernetes@$KUBE_VERSION (is the Go module proxy reachable?)"
  GO_DIRECTIVE="$(awk '$1=="go"{print $2; exit}' "$KMOD")"
  # Staging modules: `k8s.io/x => ./staging/src/k8s.io/x` lines of the replace block.
  mapfile -t STAGING < <(awk '$2=="=>" && $3 ~ /^\.\/staging\// {print $1}' "$KMOD" | sort -u)
  (( ${#STAGING[@]} > 20 )) || die "found only ${#STAGING[@]} staging modules in $KMOD; layout changed?"
  log "k8s.io/kubernetes $KUBE_VERSION (go $GO_DIRECTIVE): pinning ${#STAGING[@]} staging modules to $STAGING_VERSION"
  rm -rf "$SRC"; mkdir -p "$SRC"
  {
    echo "module opsdeck.local/kube"
    echo
    echo "go $GO_DIRECTIVE"
    echo
    echo "require k8s.io/kubernetes $KUBE_VERSION"
    echo
    echo "replace ("
    for m in "${STAGING[@]}"; do echo "	$m => $m $STAGING_VERSION"; done
    echo ")"
  } > "$SRC/go.mod"
  # Resolve the build list and go.sum entries for exactly these commands' packages.
  pkgs=(); for c in "${ALL[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$c@$KUBE_VERSION"); done
  (cd "$SRC" && go get "${pkgs[@]}" >&2) || die "go get ${pkgs[*]} failed"
  touch "$SRC/.complete"
fi
cd "$SRC"

BUILD_DATE="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X $pkg.gitVersion=$KUBE_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$KUBE_MINOR"
  ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=$BUILD_DATE -X $pkg.gitCommit="
done
for c in "${TODO[@]}"; do
  BIN="$(bin_of "$c")"
  log "building $c $KUBE_VERSION (uses all cores; minutes when the Go build cache is cold)"
  b0=$(date +%s)
  go build -trimpath -tags selinux,notest,grpcnotrace -ldflags "$ldflags" \
    -o "$BIN.tmp" "k8s.io/kubernetes/cmd/$c"
  mv -f "$BIN.tmp" "$BIN"
  "$BIN" --version >&2
  log "$c: go build $(( $(date +%s) - b0 ))s"
done
log "built ${TODO[*]} in $(( $(date +%s) - start ))s"
emit
