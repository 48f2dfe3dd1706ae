#!/usr/bin/env bash
# Builds the installers: a .deb and an .rpm holding the desktop app
# (/usr/bin/opsdeck-desktop, desktop entry, icons) and the CLI (/usr/bin/opsdeck).
#
#   scripts/package.sh            # release build (what you ship)
#   scripts/package.sh --debug    # debug build: reuses the test build, for CI
#
# Prints DEB=… and RPM=… (paths of the packages).
# AppImage is not built: Tauri's AppImage bundler downloads linuxdeploy and
# its plugins at build time, and this environment reaches no such host.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/opsdeck/target}"
profile=release; flags=()
if [[ "${1:-}" == "--debug" ]]; then profile=debug; flags=(--debug); fi
log() { printf '[package.sh] %s\n' "$*" >&2; }

cargo_flags=(); [[ $profile == release ]] && cargo_flags=(--release)
log "building the CLI ($profile)"
cargo build "${cargo_flags[@]}" -p opsdeck-cli >&2
mkdir -p target/package
cp "$CARGO_TARGET_DIR/$profile/opsdeck" target/package/opsdeck

log "building the app and the packages ($profile)"
# The same feature set as scripts/test.sh, so a debug package reuses the test build.
TAURI_APP_PATH=src-tauri TAURI_FRONTEND_PATH=ui ui/node_modules/.bin/tauri build "${flags[@]}" --ci --bundles deb,rpm -- --features opsdeck-desktop/custom-protocol >&2

deb=$(ls -t "$CARGO_TARGET_DIR/$profile/bundle/deb/"*.deb | head -1)
rpm=$(ls -t "$CARGO_TARGET_DIR/$profile/bundle/rpm/"*.rpm | head -1)
log "built $deb ($(du -h "$deb" | cut -f1)) and $rpm ($(du -h "$rpm" | cut -f1))"
echo "DEB=$deb"
echo "RPM=$rpm"
