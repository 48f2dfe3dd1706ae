#!/usr/bin/env bash
# Builds syft (anchore, package cataloguing) from the Go module proxy, only
# for the Images benchmark (tests/src/bin/bench-images.rs compares with it).
# Not part of setup/all.sh: the test suite does not need it.
#
#   scripts/setup/build-syft.sh      # prints SYFT_BIN=...
# Binary: ${OPSDECK_CACHE:-~/.cache/opsdeck}/bin/syft (a copy of syft-<version>).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=common.sh
. "$HERE/common.sh"

SYFT_VERSION="${SYFT_VERSION:-v1.18.1}"
BIN="$OPSDECK_BIN_DIR/syft-$SYFT_VERSION"
if [[ "${OPSDECK_REBUILD:-0}" != 1 && -x "$BIN" ]]; then
  log "cached: $BIN"
else
  require_go 23
  mkdir -p "$OPSDECK_BIN_DIR"
  export GOPATH="$OPSDECK_CACHE/go" GOCACHE="$OPSDECK_CACHE/go-build"
  log "building syft $SYFT_VERSION (several minutes on 2 cores)"
  GOBIN="$OPSDECK_BIN_DIR/.syft-build" go install "github.com/anchore/syft/cmd/syft@$SYFT_VERSION"
  mv "$OPSDECK_BIN_DIR/.syft-build/syft" "$BIN"
fi
cp -f "$BIN" "$OPSDECK_BIN_DIR/syft"
echo "SYFT_BIN=$OPSDECK_BIN_DIR/syft"
