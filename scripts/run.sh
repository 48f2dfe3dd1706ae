#!/usr/bin/env bash
# Sets up everything on a fresh Debian 12 machine and starts the Opsdeck app.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/opsdeck/target}"
scripts/install-deps.sh
command -v cargo >/dev/null || { echo "Rust is required: https://rustup.rs" >&2; exit 1; }
command -v npm >/dev/null || { echo "Node.js 20+ and npm are required" >&2; exit 1; }
(cd ui && npm ci --no-audit --no-fund --loglevel=error && npm run build)
cargo build -p opsdeck-desktop --features custom-protocol
exec "$CARGO_TARGET_DIR/debug/opsdeck-desktop"
