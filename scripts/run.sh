#!/usr/bin/env bash
# Runs calconnect against the built-in sandbox tenant (pass --no-sandbox for Microsoft 365).
# Installs what it needs first (system packages, the UI's npm packages), then builds and starts the app.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

sandbox=(--sandbox)
app_args=()
for argument in "$@"; do
    case "$argument" in
        --no-sandbox) sandbox=() ;;
        *) app_args+=("$argument") ;;
    esac
done

if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
    echo "calconnect is a desktop app and no display was found (DISPLAY and WAYLAND_DISPLAY are unset)." >&2
    echo "On a machine without a screen, run it on a virtual one:  xvfb-run -a $0 $*" >&2
    exit 2
fi

ensure_toolchains
ensure_apt_packages "${BUILD_PACKAGES[@]}"
if [ -z "${DBUS_SESSION_BUS_ADDRESS:-}" ]; then
    # Without a desktop session the sandbox demo runs with a throwaway keyring (below).
    ensure_apt_packages gnome-keyring dbus
fi
ensure_ui_packages
build_ui
say "Building calconnect"
cd "$ROOT"
cargo build --quiet -p calconnect-app

app=("$CARGO_TARGET_DIR/debug/calconnect-app" "${sandbox[@]}" "${app_args[@]}")
if [ -z "${DBUS_SESSION_BUS_ADDRESS:-}" ] && [ ${#sandbox[@]} -gt 0 ] && command -v gnome-keyring-daemon >/dev/null; then
    # No desktop session (a server, xvfb-run): calconnect keeps tokens only in a keychain, so the sandbox demo
    # gets a private, throwaway GNOME Keyring; its demo sign-ins are forgotten when the app closes.
    say "No desktop session: starting calconnect with a throwaway keyring (demo sign-ins end with the app)"
    exec "$ROOT/scripts/with-keyring.sh" "${app[@]}"
fi
say "Starting calconnect"
exec "${app[@]}"
