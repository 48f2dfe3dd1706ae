# Shared helpers for scripts/setup/*.sh (sourced, not executed).
# Logs go to stderr; stdout is reserved for KEY=VALUE results.

OPSDECK_CACHE="${OPSDECK_CACHE:-$HOME/.cache/opsdeck}"
OPSDECK_BIN_DIR="$OPSDECK_CACHE/bin"

log() { printf '[%s] %s\n' "$(basename "$0")" "$*" >&2; }
die() { printf '[%s] ERROR: %s\n' "$(basename "$0")" "$*" >&2; exit 1; }

# require_go MIN_MINOR: the machine's Go toolchain must exist and be >= 1.MIN_MINOR.
require_go() {
  local min="$1" v minor
  command -v go >/dev/null 2>&1 || die "'go' not found in PATH (need Go >= 1.$min; install it or add it to PATH)"
  v="$(go env GOVERSION 2>/dev/null)" || die "'go env GOVERSION' failed"
  minor="$(printf '%s' "$v" | sed -E 's/^go1\.([0-9]+).*/\1/')"
  [[ "$minor" =~ ^[0-9]+$ ]] || die "cannot parse Go version '$v'"
  (( minor >= min )) || die "Go $v is too old: need >= go1.$min"
  log "using $(command -v go) ($v)"
}

# Never let the go command try to download another toolchain: use this one.
export GOTOOLCHAIN=local
# Static binaries, and no C toolchain needed.
export CGO_ENABLED=0

# build_once LOCK BUILT EMIT: BUILT is a function that succeeds when the
# binaries are there, EMIT prints their KEY=VALUE lines. When they are built
# (and OPSDECK_REBUILD is not 1) EMIT runs and the script exits 0. Otherwise
# the per-machine lock $OPSDECK_BIN_DIR/.build-LOCK.lock is taken (fd 9, held
# until the script exits: parallel test runs may all call a setup script) and
# BUILT is asked again, since another process may have built them meanwhile.
# Returns, holding the lock, when the caller has to build.
build_once() {
  local lock="$1" built="$2" emit="$3"
  if "$built" && [[ "${OPSDECK_REBUILD:-0}" != 1 ]]; then
    log "cached: $("$emit" | tr '\n' ' ')"; "$emit"; exit 0
  fi
  mkdir -p "$OPSDECK_BIN_DIR"
  exec 9>"$OPSDECK_BIN_DIR/.build-$lock.lock"
  flock 9
  if "$built" && [[ "${OPSDECK_REBUILD:-0}" != 1 ]]; then
    log "built meanwhile by another process"; "$emit"; exit 0
  fi
}
