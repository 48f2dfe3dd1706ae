# Shared helpers for scripts/services/*.sh (sourced, not executed).
# Convention: logs -> stderr; KEY=VALUE results -> stdout (and $RUN_DIR/env),
# so `eval "$(scripts/services/etcd.sh)"` works.

SERVICES_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
OPSDECK_RUN="${OPSDECK_RUN:-/tmp/opsdeck-services}"
OPSDECK_CACHE="${OPSDECK_CACHE:-$HOME/.cache/opsdeck}"
READY_TIMEOUT="${READY_TIMEOUT:-60}"   # seconds, per readiness wait

log() { printf '[%s] %s\n' "$(basename "$0")" "$*" >&2; }
die() { printf '[%s] ERROR: %s\n' "$(basename "$0")" "$*" >&2; exit 1; }
need() { command -v "$1" >/dev/null 2>&1 || die "'$1' not found in PATH${2:+ ($2)}"; }

# now_ms: wall clock in milliseconds (for start-to-ready figures).
now_ms() { date +%s%3N; }

# new_run_dir NAME: creates $OPSDECK_RUN/NAME-XXXXXX, sets RUN_DIR, arms cleanup.
# If the script fails before `service_ready`, everything started is stopped and
# the directory removed (set OPSDECK_KEEP_FAILED=1 to keep it for debugging).
new_run_dir() {
  mkdir -p "$OPSDECK_RUN"
  RUN_DIR="$(mktemp -d "$OPSDECK_RUN/$1-XXXXXX")"
  chmod 755 "$RUN_DIR"
  echo "$1" > "$RUN_DIR/.opsdeck-service"   # marker checked by stop.sh
  : > "$RUN_DIR/pids"
  : > "$RUN_DIR/env"
  trap _on_exit EXIT
  trap 'exit 130' INT TERM HUP   # so the EXIT trap cleans up on Ctrl-C / kill too
}
_on_exit() {
  local rc=$?
  if [[ -n "${RUN_DIR:-}" && "${_READY:-0}" != 1 ]]; then
    log "failed (exit $rc); logs in $RUN_DIR:"
    for f in "$RUN_DIR"/*.log; do [[ -f "$f" ]] && { echo "--- $f (last 30 lines)" >&2; tail -n 30 "$f" >&2; }; done
    if [[ "${OPSDECK_KEEP_FAILED:-0}" == 1 ]]; then
      "$SERVICES_DIR/stop.sh" --keep "$RUN_DIR" >&2 || true
    else
      "$SERVICES_DIR/stop.sh" "$RUN_DIR" >&2 || true
    fi
  fi
}
service_ready() { _READY=1; }

# out KEY VALUE: print and record a result line.
out() { printf '%s=%s\n' "$1" "$2" | tee -a "$RUN_DIR/env"; }

# free_port: a currently unused loopback TCP port (random in 20000-59999).
# There is an unavoidable window before the server binds it; callers that can
# let the server pick (vcsim -l 127.0.0.1:0) do that instead.
free_port() {
  local p i
  for i in $(seq 1 200); do
    p=$(( 20000 + (RANDOM * 32768 + RANDOM) % 40000 ))
    if ! ss -Htan "( sport = :$p )" | grep -q .; then
      # also avoid handing out the same port twice within one script
      if [[ " ${_PORTS_GIVEN:-} " != *" $p "* ]]; then
        _PORTS_GIVEN="${_PORTS_GIVEN:-} $p"; echo "$p"; return 0
      fi
    fi
  done
  die "no free port found"
}

# spawn NAME CMD...: start CMD detached (own session), output to $RUN_DIR/NAME.log,
# record its PID in $RUN_DIR/pids; sets SPAWNED_PID.
spawn() {
  local name="$1"; shift
  setsid "$@" </dev/null >"$RUN_DIR/$name.log" 2>&1 &
  SPAWNED_PID=$!
  echo "$SPAWNED_PID $name" >> "$RUN_DIR/pids"
}

# wait_for DESC PID CMD...: poll CMD (every 100 ms) until it succeeds, failing
# early if PID exits, or after $READY_TIMEOUT seconds.
wait_for() {
  local desc="$1" pid="$2"; shift 2
  local deadline=$(( $(date +%s) + READY_TIMEOUT ))
  until "$@" >/dev/null 2>&1; do
    kill -0 "$pid" 2>/dev/null || die "$desc: process $pid exited before becoming ready"
    (( $(date +%s) < deadline )) || die "$desc: not ready after ${READY_TIMEOUT}s"
    sleep 0.1
  done
}

# gen_ca DIR: DIR/ca.crt, DIR/ca.key (EC P-256, 10 years).
gen_ca() {
  local d="$1"
  openssl req -x509 -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
    -keyout "$d/ca.key" -out "$d/ca.crt" -days 3650 -subj "/CN=opsdeck-test-ca" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null \
    || die "openssl: CA generation failed"
}

# gen_cert DIR NAME CN EKU [SAN]: DIR/NAME.crt + DIR/NAME.key signed by DIR/ca.*.
#   EKU: serverAuth | clientAuth | serverAuth,clientAuth
#   SAN: e.g. "IP:127.0.0.1,DNS:localhost" (omit for client certs)
gen_cert() {
  local d="$1" name="$2" cn="$3" eku="$4" san="${5:-}"
  {
    echo "basicConstraints=critical,CA:FALSE"
    echo "keyUsage=critical,digitalSignature"   # EC keys: no keyEncipherment
    echo "extendedKeyUsage=$eku"
    echo "subjectKeyIdentifier=hash"
    echo "authorityKeyIdentifier=keyid"
    [[ -n "$san" ]] && echo "subjectAltName=$san"
  } > "$d/$name.ext"
  openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
    -keyout "$d/$name.key" -out "$d/$name.csr" -subj "/CN=$cn" 2>/dev/null \
    && openssl x509 -req -in "$d/$name.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" \
         -CAcreateserial -days 825 -sha256 -extfile "$d/$name.ext" -out "$d/$name.crt" 2>/dev/null \
    || die "openssl: certificate '$name' generation failed"
  rm -f "$d/$name.csr" "$d/$name.ext"
}

# start_etcd SUBDIR [EXTRA_ETCD_FLAGS...]: starts etcd (${ETCD_SERVER_BIN:-etcd}) with data in $RUN_DIR/SUBDIR,
# on free loopback ports. Scheme is https if any --cert-file flag is given.
# Sets ETCD_PID, ETCD_CLIENT_URL, ETCD_PEER_URL. Does not wait for readiness.
# --heartbeat-interval 10 --election-timeout 100 (defaults 100/1000 ms): a
# single member elects itself after one election timeout, so this cuts the
# start-to-ready time from ~0.7 s to ~0.1 s. Harmless with no peers.
start_etcd() {
  local sub="$1"; shift
  local cport pport scheme=http
  [[ " $* " == *" --cert-file"* ]] && scheme=https
  cport=$(free_port); pport=$(free_port)
  ETCD_CLIENT_URL="$scheme://127.0.0.1:$cport"
  ETCD_PEER_URL="http://127.0.0.1:$pport"
  mkdir -p "$RUN_DIR/$sub"; chmod 700 "$RUN_DIR/$sub"
  # etcd treats every ETCD_* environment variable as a flag (and refuses to start
  # if one is also given on the command line): start it with none of them.
  spawn "$sub" env $(compgen -e | grep '^ETCD_' | sed 's/^/-u /') "${ETCD_SERVER_BIN:-etcd}" --name opsdeck \
    --data-dir "$RUN_DIR/$sub/data" \
    --listen-client-urls "$ETCD_CLIENT_URL" --advertise-client-urls "$ETCD_CLIENT_URL" \
    --listen-peer-urls "$ETCD_PEER_URL" --initial-advertise-peer-urls "$ETCD_PEER_URL" \
    --initial-cluster "opsdeck=$ETCD_PEER_URL" --initial-cluster-state new \
    --heartbeat-interval 10 --election-timeout 100 \
    --logger zap --log-outputs stderr "$@"
  ETCD_PID=$SPAWNED_PID
}

# newest_etcd WHO: sets ETCD_SERVER_BIN to the etcd scripts/setup/build-etcd.sh
# builds (3.7; built first if missing); dies naming WHO needs it.
newest_etcd() {
  ETCD_SERVER_BIN="$("$SERVICES_DIR/../setup/build-etcd.sh" | sed -n 's/^ETCD_NEW_BIN=//p')"
  [[ -x "$ETCD_SERVER_BIN" ]] || die "etcd for $1 missing (scripts/setup/build-etcd.sh)"
}

# etcdctl without any inherited ETCDCTL_* settings (v3 API is the 3.4 default).
etcdctl_clean() { env $(compgen -e | grep '^ETCDCTL_' | sed 's/^/-u /') ETCDCTL_API=3 etcdctl "$@"; }
