#!/usr/bin/env bash
# THE test command: installs what is missing, then runs the fast gates first
# (format, lints, type checks), the unit tests, and only then builds the
# simulators and the app and runs the integration tests against real services
# and the end-to-end tests.
#   scripts/test.sh            # everything (README, .ci/run)
#   scripts/test.sh --quick    # gates and unit tests only: no services, no packaging
#   scripts/test.sh -- NAME    # pass a filter to cargo test
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/opsdeck/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
# CI builds each crate once per run; incremental state would only grow the
# cache (it had reached 34 GiB on a developer's machine).
[[ "${CI:-}" == true ]] && export CARGO_INCREMENTAL=0
t0=$(date +%s)
step() { printf '\n==> %s (%ss)\n' "$*" "$(( $(date +%s) - t0 ))"; }
quick=false
[[ "${1:-}" == "--quick" ]] && { quick=true; shift; }
filter=()
[[ "${1:-}" == "--" ]] && { shift; filter=("$@"); }
# One feature set for every cargo call, so nothing is compiled twice.
FEATURES=(--workspace --features opsdeck-desktop/custom-protocol)

step "room on the disk for the build cache"
scripts/cache-room.sh

step "system packages"
scripts/install-deps.sh

step "UI: install and build (the app crate embeds ui/dist, so even clippy needs it)"
if [[ ! -d ui/node_modules || ui/package-lock.json -nt ui/node_modules/.package-lock.json ]] || [[ "${CI:-}" == true ]]; then
  (cd ui && npm ci --no-audit --no-fund --loglevel=error)
fi
(cd ui && npm run build >/dev/null)

step "gates: rustfmt, clippy (warnings denied), tsc, eslint"
cargo fmt --all --check
cargo clippy "${FEATURES[@]}" --all-targets -- -D warnings
(cd ui && npx tsc --noEmit && npm run --silent lint)

step "unit tests: Rust (incl. the generated IPC contract), UI"
cargo test "${FEATURES[@]}" --lib --bins -- "${filter[@]}"
(cd ui && npm test)
if $quick; then step "quick gates and unit tests passed"; exit 0; fi

step "real service binaries (vcsim, kube-apiserver, -controller-manager, -scheduler, kwok) and tauri-driver"
eval "$(scripts/setup/all.sh)"
eval "$(scripts/setup/tauri-driver.sh)"
export TAURI_DRIVER_BIN

step "installers: .deb and .rpm (debug profile; scripts/package.sh builds release ones)"
eval "$(scripts/package.sh --debug)"
export OPSDECK_DEB="$DEB" OPSDECK_RPM="$RPM"

step "build: app with the UI embedded, CLI, tests"
cargo build "${FEATURES[@]}"
cargo test "${FEATURES[@]}" --no-run
export OPSDECK_APP_BIN="$CARGO_TARGET_DIR/debug/opsdeck-desktop"

step "integration (real services) and end-to-end tests"
# No backtraces: a failing test's message (and its file:line) is what CI
# shows of it, and a backtrace of tokio frames would push it out of view.
export RUST_BACKTRACE=0
scripts/with-session.sh cargo test "${FEATURES[@]}" --no-fail-fast --test '*' -- "${filter[@]}"

step "all tests passed"
