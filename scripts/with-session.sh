#!/usr/bin/env bash
# Runs a command inside a private D-Bus session with an unlocked GNOME Keyring
# (the real Secret Service the keychain tests need) and, when there is no
# display, a virtual X server for the app window.
#   scripts/with-session.sh CMD ARGS...
set -euo pipefail
if [[ -z "${OPSDECK_IN_SESSION:-}" ]]; then
  export OPSDECK_IN_SESSION=1
  if [[ -z "${DISPLAY:-}" ]]; then
    exec xvfb-run -a -s "-screen 0 1280x1024x24" dbus-run-session -- "$0" "$@"
  fi
  exec dbus-run-session -- "$0" "$@"
fi
# Inside the session: start gnome-keyring's Secret Service, unlocked with a
# throw-away password (the keyring lives in a temporary HOME-independent dir).
export XDG_DATA_HOME="$(mktemp -d /tmp/opsdeck-keyring-XXXXXX)"
trap 'rm -rf "$XDG_DATA_HOME"' EXIT
eval "$(printf 'opsdeck-test' | gnome-keyring-daemon --unlock --components=secrets)"
export GNOME_KEYRING_CONTROL
"$@"
