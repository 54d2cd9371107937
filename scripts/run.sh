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
ensure_ui_packages
build_ui
say "Building and starting calconnect"
cd "$ROOT"
exec cargo run --quiet -p calconnect-app -- "${sandbox[@]}" "${app_args[@]}"
