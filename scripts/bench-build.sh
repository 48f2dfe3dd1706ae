#!/usr/bin/env bash
# Debug build times of the workspace (BENCHMARKS.md, "Build times"), with the
# feature set of scripts/test.sh:
#   1. the workspace's own crates from clean (dependencies stay built):
#      `cargo build` (app + CLI), then `cargo test --no-run` (every test binary);
#   2. incremental: a one-line code change in the core library, in the app
#      crate and in the CLI, each followed by the same two commands.
# The edits are undone at the end (git checkout of the three files).
#   scripts/bench-build.sh        # prints one line per measurement, in seconds
# Run it on an otherwise idle machine; the numbers are wall-clock times.
set -uo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/opsdeck/target}"
export CARGO_TERM_COLOR=never
FEATURES=(--workspace --features opsdeck-desktop/custom-protocol)
FILES=(src-tauri/core/src/vms/lifecycle.rs src-tauri/src/commands/app.rs src-tauri/cli/src/output.rs)
if ! git diff --quiet -- "${FILES[@]}"; then echo "bench-build.sh: commit or undo your changes to ${FILES[*]} first" >&2; exit 2; fi
trap 'git checkout -q -- "${FILES[@]}"' EXIT

secs() {
  local t0 log; t0=$(date +%s.%N); log=$(mktemp)
  if ! "$@" >"$log" 2>&1; then echo "bench-build.sh: failed: $*" >&2; tail -20 "$log" >&2; exit 1; fi
  rm -f "$log"; printf '%.1f' "$(echo "$(date +%s.%N) - $t0" | bc)"
}
build() { cargo build "${FEATURES[@]}"; }
tests() { cargo test "${FEATURES[@]}" --no-run; }

build >/dev/null 2>&1; tests >/dev/null 2>&1   # everything built once
cargo clean -p opsdeck-core -p opsdeck-cli -p opsdeck-desktop -p opsdeck-tests >/dev/null 2>&1
echo "workspace crates from clean: cargo build $(secs build) s, then cargo test --no-run $(secs tests) s"
for f in "${FILES[@]}"; do
  printf '\n#[allow(dead_code)]\nconst BENCH_BUILD_EDIT: u64 = %s;\n' "$RANDOM" >>"$f"
  echo "one line in $f: cargo build $(secs build) s, then cargo test --no-run $(secs tests) s"
done
