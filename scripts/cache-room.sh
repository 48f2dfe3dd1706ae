#!/usr/bin/env bash
# Makes sure the disk that holds the build cache has room for a whole test run,
# by dropping cache (never anything else) when it has not:
#   1. cargo's incremental-compilation state (rebuilt on the next build);
#   2. then the whole cargo target directory (a fresh machine's build).
# The build cache lives outside the clone so that repeated CI runs are fast,
# which also means it only grows; a run that fills the disk fails in dozens of
# unrelated places (SQLite, the keychain, dockerd, the installers), so it is
# checked up front instead.
#   scripts/cache-room.sh [GiB]     # default 25: what a full run needs, with margin
set -euo pipefail
need="${1:-25}"
target="${CARGO_TARGET_DIR:-$HOME/.cache/opsdeck/target}"
mkdir -p "$target"

free_gib() { df -P -B1G "$target" | awk 'NR == 2 { print $4 }'; }

report() { printf 'cache-room: %s GiB free next to %s (a run needs %s)\n' "$(free_gib)" "$target" "$need" >&2; }

(( $(free_gib) >= need )) && { report; exit 0; }
echo "cache-room: dropping cargo's incremental state" >&2
rm -rf "$target"/*/incremental
(( $(free_gib) >= need )) && { report; exit 0; }
echo "cache-room: dropping the cargo target directory; this run builds from scratch" >&2
rm -rf "${target:?}"/*
report
if (( $(free_gib) < need )); then
  echo "cache-room: still short of room; the biggest users of this disk's home and /tmp:" >&2
  du -xsh "$HOME"/.cache/* /tmp/* 2>/dev/null | sort -h | tail -5 >&2 || true
fi
