#!/usr/bin/env bash
# Builds KWOK's controller (`kwok`, sigs.k8s.io/kwok/cmd/kwok) from the Go
# module proxy: it simulates nodes and their kubelets against a real
# kube-apiserver (pods get scheduled, become Running/Ready, fail by Stage rules).
#
#   scripts/setup/build-kwok.sh                 # prints KWOK_BIN=...
#   KWOK_VERSION=v0.8.0 OPSDECK_REBUILD=1 scripts/setup/build-kwok.sh
#
# sigs.k8s.io/kwok has no replace directives, so `go install pkg@version`
# works as is. Binary: ${OPSDECK_CACHE:-~/.cache/opsdeck}/bin/kwok-<version>.
# The stages it plays are shipped in scripts/services/kwok-stages/ (upstream's
# defaults of the same version plus our failure stages).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=common.sh
. "$HERE/common.sh"

KWOK_VERSION="${KWOK_VERSION:-v0.8.0}"
[[ "$KWOK_VERSION" =~ ^v[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "KWOK_VERSION must look like v0.8.0, got '$KWOK_VERSION'"
BIN="$OPSDECK_BIN_DIR/kwok-$KWOK_VERSION"

built() { [[ -x "$BIN" ]]; }
emit() { echo "KWOK_BIN=$BIN"; }
build_once kwok built emit
require_go 26   # kwok v0.8.0 go.mod says `go 1.26.0`

start=$(date +%s)
GOBIN_DIR="$(mktemp -d "$OPSDECK_BIN_DIR/.kwok-XXXXXX")"
trap 'rm -rf "$GOBIN_DIR"' EXIT
log "building sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION (minutes when the Go build cache is cold)"
GOBIN="$GOBIN_DIR" go install -trimpath -ldflags "-s -w" \
  "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION" >&2 \
  || die "go install sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION failed (is the Go module proxy reachable?)"
mv -f "$GOBIN_DIR/kwok" "$BIN"
"$BIN" --version >&2 || true
log "built in $(( $(date +%s) - start ))s"
emit
