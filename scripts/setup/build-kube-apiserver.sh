#!/usr/bin/env bash
# Builds the real kube-apiserver from the k8s.io/kubernetes Go module.
#
#   scripts/setup/build-kube-apiserver.sh         # prints KUBE_APISERVER_BIN=...
#   KUBE_VERSION=v1.36.3 scripts/setup/build-kube-apiserver.sh
#   OPSDECK_REBUILD=1 scripts/setup/build-kube-apiserver.sh
#
# k8s.io/kubernetes's go.mod requires its staging modules (k8s.io/api,
# k8s.io/apiserver, ...) at v0.0.0 and replaces them with ./staging/src/...
# paths; replace directives of a dependency are ignored, so a wrapper module
# must pin each of them itself: k8s.io/<m> => k8s.io/<m> v0.<minor>.<patch>.
# The list is read from the kubernetes go.mod of the pinned version.
# Build flags follow kubernetes' hack/lib/golang.sh for static release
# binaries: CGO_ENABLED=0, -trimpath, -tags selinux,notest,grpcnotrace,
# -ldflags "-s -w -X k8s.io/{component-base,client-go/pkg}/version.*".
# Binary: ${OPSDECK_CACHE:-~/.cache/opsdeck}/bin/kube-apiserver-<version>.
# Cold build: ~6 min on this 2-core machine (see docs/services.md); warm ~13 s.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=common.sh
. "$HERE/common.sh"

KUBE_VERSION="${KUBE_VERSION:-v1.37.2}"
[[ "$KUBE_VERSION" =~ ^v1\.([0-9]+)\.([0-9]+)$ ]] || die "KUBE_VERSION must look like v1.37.2, got '$KUBE_VERSION'"
KUBE_MINOR="${BASH_REMATCH[1]}"
STAGING_VERSION="v0.${BASH_REMATCH[1]}.${BASH_REMATCH[2]}"
BIN="$OPSDECK_BIN_DIR/kube-apiserver-$KUBE_VERSION"

if [[ "${OPSDECK_REBUILD:-0}" != 1 && -x "$BIN" ]]; then
  log "cached: $BIN"
  echo "KUBE_APISERVER_BIN=$BIN"; exit 0
fi

require_go 26   # kubernetes v1.37 go.mod says `go 1.26.0`
mkdir -p "$OPSDECK_BIN_DIR"
exec 9>"$OPSDECK_BIN_DIR/.build-kube-apiserver.lock"
flock 9
if [[ "${OPSDECK_REBUILD:-0}" != 1 && -x "$BIN" ]]; then
  log "built meanwhile by another process"; echo "KUBE_APISERVER_BIN=$BIN"; exit 0
fi

start=$(date +%s)
log "fetching k8s.io/kubernetes@$KUBE_VERSION go.mod"
KMOD="$(cd / && go mod download -json "k8s.io/kubernetes@$KUBE_VERSION" | sed -n 's/^\t"GoMod": "\(.*\)",$/\1/p')"
[[ -f "$KMOD" ]] || die "could not download k8s.io/kubernetes@$KUBE_VERSION (is the Go module proxy reachable?)"
GO_DIRECTIVE="$(awk '$1=="go"{print $2; exit}' "$KMOD")"
# Staging modules: `k8s.io/x => ./staging/src/k8s.io/x` lines of the replace block.
mapfile -t STAGING < <(awk '$2=="=>" && $3 ~ /^\.\/staging\// {print $1}' "$KMOD" | sort -u)
(( ${#STAGING[@]} > 20 )) || die "found only ${#STAGING[@]} staging modules in $KMOD; layout changed?"
log "k8s.io/kubernetes $KUBE_VERSION (go $GO_DIRECTIVE): pinning ${#STAGING[@]} staging modules to $STAGING_VERSION"

SRC="$OPSDECK_CACHE/src/kube-apiserver-$KUBE_VERSION"
rm -rf "$SRC"; mkdir -p "$SRC"; cd "$SRC"
{
  echo "module opsdeck.local/kube-apiserver"
  echo
  echo "go $GO_DIRECTIVE"
  echo
  echo "require k8s.io/kubernetes $KUBE_VERSION"
  echo
  echo "replace ("
  for m in "${STAGING[@]}"; do echo "	$m => $m $STAGING_VERSION"; done
  echo ")"
} > go.mod
# Resolve the build list and go.sum entries for exactly this command's packages.
go get "k8s.io/kubernetes/cmd/kube-apiserver@$KUBE_VERSION" >&2 \
  || die "go get k8s.io/kubernetes/cmd/kube-apiserver@$KUBE_VERSION failed"

BUILD_DATE="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X $pkg.gitVersion=$KUBE_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$KUBE_MINOR"
  ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=$BUILD_DATE -X $pkg.gitCommit="
done
log "building kube-apiserver (uses all cores; several minutes when cold)"
b0=$(date +%s)
go build -trimpath -tags selinux,notest,grpcnotrace -ldflags "$ldflags" \
  -o "$BIN.tmp" k8s.io/kubernetes/cmd/kube-apiserver
mv -f "$BIN.tmp" "$BIN"
"$BIN" --version >&2
log "built in $(( $(date +%s) - start ))s (go build alone: $(( $(date +%s) - b0 ))s)"
echo "KUBE_APISERVER_BIN=$BIN"
