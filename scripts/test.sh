#!/usr/bin/env bash
# THE test command: installs what is missing, builds the simulators and the app,
# and runs every test (unit, UI, integration against real services, end to end).
#   scripts/test.sh            # everything
#   scripts/test.sh -- NAME    # pass a filter to cargo test
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/opsdeck/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
t0=$(date +%s)
step() { printf '\n==> %s (%ss)\n' "$*" "$(( $(date +%s) - t0 ))"; }

step "system packages"
scripts/install-deps.sh

step "real service binaries (vcsim, kube-apiserver) and tauri-driver"
eval "$(scripts/setup/all.sh)"
eval "$(scripts/setup/tauri-driver.sh)"
export TAURI_DRIVER_BIN

step "UI: install, unit tests, build"
(cd ui && npm ci --no-audit --no-fund --loglevel=error && npm test && npm run build)

step "installers: .deb and .rpm (debug profile; scripts/package.sh builds release ones)"
eval "$(scripts/package.sh --debug)"
export OPSDECK_DEB="$DEB" OPSDECK_RPM="$RPM"

# One feature set for every cargo call, so nothing is compiled twice.
FEATURES=(--workspace --features opsdeck-desktop/custom-protocol)
step "build: app with the UI embedded, CLI, tests"
cargo build "${FEATURES[@]}"
cargo test "${FEATURES[@]}" --no-run
export OPSDECK_APP_BIN="$CARGO_TARGET_DIR/debug/opsdeck-desktop"

step "Rust tests: unit, integration (real services), end to end"
filter=()
[[ "${1:-}" == "--" ]] && { shift; filter=("$@"); }
scripts/with-session.sh cargo test "${FEATURES[@]}" --no-fail-fast -- "${filter[@]}"

step "all tests passed"
