#!/usr/bin/env bash
# Starts a real SMTP server (aiosmtpd from Debian python3-aiosmtpd, with the
# handler of scripts/services/smtp_sink.py) on a free loopback port:
# STARTTLS required (a certificate from a throw-away CA made here), then AUTH
# with one user; every message accepted is a file in SMTP_MAILDIR.
#   eval "$(scripts/services/smtp.sh)"  ->  SMTP_HOST, SMTP_PORT, SMTP_CA,
#       SMTP_USER, SMTP_PASSWORD, SMTP_MAILDIR, SMTP_PID, SMTP_RUN_DIR
#   (SMTP_USER / SMTP_PASSWORD from the environment, or generated)
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
PY=/usr/bin/python3   # Debian's, where python3-aiosmtpd is installed
[[ -x "$PY" ]] || die "/usr/bin/python3 not found"
"$PY" -c 'import aiosmtpd' 2>/dev/null || die "python3-aiosmtpd is not installed (scripts/install-deps.sh)"
need openssl

new_run_dir smtp
t0=$(now_ms)
PKI="$RUN_DIR/pki"; mkdir -p "$PKI"
gen_ca "$PKI"
gen_cert "$PKI" server localhost serverAuth "IP:127.0.0.1,DNS:localhost"
mkdir -p "$RUN_DIR/maildir"
user="${SMTP_USER:-opsdeck}"
password="${SMTP_PASSWORD:-$(openssl rand -hex 12)}"
port=$(free_port)
spawn smtp env SMTP_SINK_USER="$user" SMTP_SINK_PASSWORD="$password" "$PY" -u "$SERVICES_DIR/smtp_sink.py" \
  --host 127.0.0.1 --port "$port" --cert "$PKI/server.crt" --key "$PKI/server.key" --maildir "$RUN_DIR/maildir"
SMTP_PID=$SPAWNED_PID
wait_for "smtp 127.0.0.1:$port" "$SMTP_PID" sh -c "grep -q listening '$RUN_DIR/smtp.log'"
log "smtp ready in $(( $(now_ms) - t0 )) ms"
service_ready
out SMTP_HOST 127.0.0.1
out SMTP_PORT "$port"
out SMTP_CA "$PKI/ca.crt"
out SMTP_USER "$user"
out SMTP_PASSWORD "$password"
out SMTP_MAILDIR "$RUN_DIR/maildir"
out SMTP_PID "$SMTP_PID"
out SMTP_RUN_DIR "$RUN_DIR"
echo "# stop: $SERVICES_DIR/stop.sh $RUN_DIR"
