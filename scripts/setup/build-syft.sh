#!/usr/bin/env bash
# Builds syft (anchore, package cataloguing: github.com/anchore/syft/cmd/syft)
# from the Go module proxy, only for the Images benchmarks
# (tests/src/bin/bench-images.rs and bench-images-scale.rs compare with it).
# Not part of setup/all.sh nor CI: the test suite does not need it.
#
#   scripts/setup/build-syft.sh                 # prints SYFT_BIN=...
#   SYFT_VERSION=v1.57.2 OPSDECK_REBUILD=1 scripts/setup/build-syft.sh
#
# Uses the machine's shared Go caches (GOCACHE, GOMODCACHE), like build-kwok.sh.
# Binary: ${OPSDECK_CACHE:-~/.cache/opsdeck}/bin/syft-<version>, and
# bin/syft a copy of it (the name the bench binaries look for).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=common.sh
. "$HERE/common.sh"

SYFT_VERSION="${SYFT_VERSION:-v1.57.2}"
[[ "$SYFT_VERSION" =~ ^v[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "SYFT_VERSION must look like v1.57.2, got '$SYFT_VERSION'"
BIN="$OPSDECK_BIN_DIR/syft-$SYFT_VERSION"

built() { [[ -x "$BIN" ]] && cmp -s "$BIN" "$OPSDECK_BIN_DIR/syft"; }
emit() { echo "SYFT_BIN=$OPSDECK_BIN_DIR/syft"; }
build_once syft built emit

if [[ ! -x "$BIN" || "${OPSDECK_REBUILD:-0}" == 1 ]]; then
  require_go 25
  start=$(date +%s)
  GOBIN_DIR="$(mktemp -d "$OPSDECK_BIN_DIR/.syft-XXXXXX")"
  trap 'rm -rf "$GOBIN_DIR"' EXIT
  log "building github.com/anchore/syft/cmd/syft@$SYFT_VERSION (minutes on 2 cores when the Go build cache is cold)"
  # syft's main reads its version from ldflags; set it so `syft version` says which one this is.
  GOBIN="$GOBIN_DIR" go install -trimpath \
    -ldflags "-s -w -X main.version=${SYFT_VERSION#v}" \
    "github.com/anchore/syft/cmd/syft@$SYFT_VERSION" >&2 \
    || die "go install github.com/anchore/syft/cmd/syft@$SYFT_VERSION failed (is the Go module proxy reachable?)"
  mv -f "$GOBIN_DIR/syft" "$BIN"
  log "built in $(( $(date +%s) - start ))s"
fi
cp -f "$BIN" "$OPSDECK_BIN_DIR/syft"
"$BIN" version >&2 || true
emit
