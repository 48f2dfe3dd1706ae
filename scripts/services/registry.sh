#!/usr/bin/env bash
# Starts a real container registry: Debian's docker-registry (the CNCF
# Distribution v2 server, 2.8) on free loopback ports, one process per
# variant, all over the same storage folder (an image pushed to one is served
# by all):
#   plain   http, anonymous (push here: dockerd treats 127.0.0.0/8 as insecure)
#   --tls   https with a certificate from a throw-away CA made here, anonymous
#   --basic https (same CA) with htpasswd basic auth, one user
#   --token https (same CA) with `auth: token`: the realm is a small token
#           issuer (scripts/services/registry_token.py, test infrastructure
#           only: it checks the same user's password and signs the JWT the
#           registry verifies against its certificate); the registry is real
#
#   eval "$(scripts/services/registry.sh --tls --basic --token)" ->
#     REGISTRY_PLAIN=127.0.0.1:PORT  REGISTRY_TLS=127.0.0.1:PORT  REGISTRY_BASIC=127.0.0.1:PORT
#     REGISTRY_TOKEN=127.0.0.1:PORT  REGISTRY_TOKEN_REALM=http://127.0.0.1:PORT/token
#     REGISTRY_CA (PEM)  REGISTRY_USER  REGISTRY_PASSWORD  REGISTRY_STORAGE  REGISTRY_RUN_DIR
#   (REGISTRY_USER / REGISTRY_PASSWORD from the environment, or generated)
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
with_tls=0; with_basic=0; with_token=0
for a in "$@"; do
  case "$a" in
    --tls) with_tls=1 ;;
    --basic) with_basic=1 ;;
    --token) with_token=1 ;;
    *) die "unknown argument '$a' (usage: $0 [--tls] [--basic] [--token])" ;;
  esac
done
REGISTRY_BIN="${REGISTRY_BIN:-/usr/bin/docker-registry}"
[[ -x "$REGISTRY_BIN" ]] || die "$REGISTRY_BIN not found: install Debian package docker-registry (scripts/install-deps.sh)"
need openssl
need curl
PY=/usr/bin/python3

new_run_dir registry
t0=$(now_ms)
STORAGE="$RUN_DIR/storage"; mkdir -p "$STORAGE"
PKI="$RUN_DIR/pki"; mkdir -p "$PKI"
user="${REGISTRY_USER:-opsdeck}"
password="${REGISTRY_PASSWORD:-$(openssl rand -hex 12)}"
if (( with_tls + with_basic + with_token > 0 )); then
  gen_ca "$PKI"
  gen_cert "$PKI" server localhost serverAuth "IP:127.0.0.1,DNS:localhost"
fi

# write_config NAME PORT [AUTH_YAML] [TLS=1]: $RUN_DIR/NAME.yml
write_config() {
  local name="$1" port="$2" auth="${3:-}" tls="${4:-0}"
  {
    echo "version: 0.1"
    echo "log: {level: info, fields: {service: registry-$name}}"
    echo "storage:"
    echo "  filesystem: {rootdirectory: $STORAGE}"
    echo "  delete: {enabled: true}"
    echo "  maintenance: {uploadpurging: {enabled: false}}"
    echo "http:"
    echo "  addr: 127.0.0.1:$port"
    echo "  secret: opsdeck-test-$(openssl rand -hex 8)"
    if [[ "$tls" == 1 ]]; then
      echo "  tls: {certificate: $PKI/server.crt, key: $PKI/server.key}"
    fi
    if [[ -n "$auth" ]]; then printf '%s\n' "$auth"; fi
  } > "$RUN_DIR/$name.yml"
}

# start NAME PORT SCHEME: starts the registry of $RUN_DIR/NAME.yml and waits for /v2/.
start() {
  local name="$1" port="$2" scheme="$3"
  spawn "$name" "$REGISTRY_BIN" serve "$RUN_DIR/$name.yml"
  local pid=$SPAWNED_PID
  # Any HTTP answer from /v2/ (200, or 401 when auth is on) means it serves.
  wait_for "registry $name 127.0.0.1:$port" "$pid" \
    sh -c "curl -sS -o /dev/null -w '%{http_code}' --cacert '$PKI/ca.crt' '$scheme://127.0.0.1:$port/v2/' | grep -Eq '^(200|401)$'"
}

port=$(free_port)
write_config plain "$port"
start plain "$port" http
out REGISTRY_PLAIN "127.0.0.1:$port"

if [[ $with_tls == 1 ]]; then
  port=$(free_port)
  write_config tls "$port" "" 1
  start tls "$port" https
  out REGISTRY_TLS "127.0.0.1:$port"
fi

if [[ $with_basic == 1 || $with_token == 1 ]]; then
  # docker-registry reads bcrypt hashes only; Debian's libcrypt makes them.
  hash=$("$PY" -W ignore -c 'import crypt,sys; print(crypt.crypt(sys.argv[1], crypt.mksalt(crypt.METHOD_BLOWFISH)))' "$password")
  [[ "$hash" == \$2* ]] || die "could not make a bcrypt hash for htpasswd"
  printf '%s:%s\n' "$user" "$hash" > "$RUN_DIR/htpasswd"
fi

if [[ $with_basic == 1 ]]; then
  port=$(free_port)
  write_config basic "$port" "auth: {htpasswd: {realm: opsdeck-test, path: $RUN_DIR/htpasswd}}" 1
  start basic "$port" https
  out REGISTRY_BASIC "127.0.0.1:$port"
fi

if [[ $with_token == 1 ]]; then
  # The issuer's signing key and self-signed certificate (the registry's rootcertbundle).
  openssl req -x509 -new -nodes -newkey rsa:2048 -keyout "$PKI/token.key" -out "$PKI/token.crt" \
    -days 30 -subj "/CN=opsdeck-test-token-issuer" 2>/dev/null || die "openssl: token key failed"
  tport=$(free_port)
  spawn token-issuer "$PY" -u "$SERVICES_DIR/registry_token.py" --port "$tport" --htpasswd "$RUN_DIR/htpasswd" \
    --key "$PKI/token.key" --cert "$PKI/token.crt" --issuer opsdeck-test-issuer --service opsdeck-test-registry
  wait_for "token issuer 127.0.0.1:$tport" "$SPAWNED_PID" sh -c "grep -q listening '$RUN_DIR/token-issuer.log'"
  realm="http://127.0.0.1:$tport/token"
  port=$(free_port)
  write_config token "$port" "auth: {token: {realm: \"$realm\", service: opsdeck-test-registry, issuer: opsdeck-test-issuer, rootcertbundle: $PKI/token.crt}}" 1
  start token "$port" https
  out REGISTRY_TOKEN "127.0.0.1:$port"
  out REGISTRY_TOKEN_REALM "$realm"
fi

log "registry ready in $(( $(now_ms) - t0 )) ms"
service_ready
if (( with_tls + with_basic + with_token > 0 )); then out REGISTRY_CA "$PKI/ca.crt"; fi
out REGISTRY_USER "$user"
out REGISTRY_PASSWORD "$password"
out REGISTRY_STORAGE "$STORAGE"
out REGISTRY_RUN_DIR "$RUN_DIR"
echo "# stop: $SERVICES_DIR/stop.sh $RUN_DIR"
