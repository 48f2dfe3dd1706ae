#!/usr/bin/env bash
# Installs tauri-driver (the WebDriver bridge for the end-to-end tests) into the
# cache, once per version. Prints TAURI_DRIVER_BIN=path.
set -euo pipefail
VERSION="${TAURI_DRIVER_VERSION:-2.1.0}"
ROOT="${OPSDECK_CACHE:-$HOME/.cache/opsdeck}/tauri-driver-$VERSION"
if [[ ! -x "$ROOT/bin/tauri-driver" ]]; then
  echo "[tauri-driver.sh] building tauri-driver $VERSION (once per machine)" >&2
  cargo install tauri-driver --version "$VERSION" --locked --root "$ROOT" >&2
fi
command -v WebKitWebDriver >/dev/null || { echo "[tauri-driver.sh] WebKitWebDriver missing: apt-get install webkit2gtk-driver" >&2; exit 1; }
echo "TAURI_DRIVER_BIN=$ROOT/bin/tauri-driver"
