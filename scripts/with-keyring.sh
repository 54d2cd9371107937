#!/usr/bin/env bash
# Runs a command inside a private D-Bus session with an unlocked GNOME Keyring (a real Secret Service),
# so keychain code is tested against the real thing without touching the user's own keyring.
# Usage: scripts/with-keyring.sh <command> [args...]
set -euo pipefail
if [ -z "${XDG_RUNTIME_DIR:-}" ] || [ ! -d "$XDG_RUNTIME_DIR" ]; then
    XDG_RUNTIME_DIR="$(mktemp -d /tmp/calconnect-xdg.XXXXXX)"
    export XDG_RUNTIME_DIR
fi
chmod 700 "$XDG_RUNTIME_DIR"
# A throwaway home for the keyring files, so a test run never reads or writes the developer's keyrings.
KEYRING_HOME="$(mktemp -d /tmp/calconnect-keyring.XXXXXX)"
export XDG_DATA_HOME="$KEYRING_HOME/data"
mkdir -p "$XDG_DATA_HOME"
trap 'rm -rf "$KEYRING_HOME"' EXIT
exec_in_session='
    # The password only unlocks this throwaway login keyring.
    eval "$(printf pw | gnome-keyring-daemon --unlock --components=secrets)" >/dev/null
    export GNOME_KEYRING_CONTROL
    "$@"
'
dbus-run-session -- bash -c "$exec_in_session" bash "$@"
