#!/usr/bin/env bash
# Shared set-up for scripts/run.sh and scripts/test.sh: installs what is missing, idempotently.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Builds reuse one target directory outside the clone, so a fresh clone does not start from cold.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/calconnect-target}"

# What building the Tauri app needs on Debian/Ubuntu (rustls everywhere, so no libssl).
BUILD_PACKAGES=(libwebkit2gtk-4.1-dev pkg-config build-essential librsvg2-dev curl)
# What the tests add: a virtual display, WebKit's WebDriver, a real Secret Service, schema validation.
TEST_PACKAGES=(xvfb webkit2gtk-driver gnome-keyring dbus libsecret-tools xdg-utils imagemagick libxml2-utils)

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# Installs the given Debian packages that are not installed yet.
ensure_apt_packages() {
    local missing=()
    for package in "$@"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        if ! command -v apt-get >/dev/null; then
            echo "Missing system packages: ${missing[*]} (install them with your package manager)" >&2
            exit 1
        fi
        say "Installing system packages: ${missing[*]}"
        as_root apt-get update -qq
        DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${missing[@]}"
    fi
}

ensure_toolchains() {
    if ! command -v cargo >/dev/null; then
        echo "Rust is not installed. Install it from https://rustup.rs (rustup), then run this again." >&2
        exit 1
    fi
    if ! command -v npm >/dev/null; then
        ensure_apt_packages nodejs npm
    fi
}

# Installs the UI's npm packages exactly as locked, only when the lockfile changed since the last install.
ensure_ui_packages() {
    local stamp="$ROOT/ui/node_modules/.package-lock.json"
    if [ ! -f "$stamp" ] || [ "$ROOT/ui/package-lock.json" -nt "$stamp" ]; then
        say "Installing the UI's npm packages from ui/package-lock.json"
        (cd "$ROOT/ui" && npm ci --no-audit --no-fund --loglevel=error)
    fi
}

# The UI has no bundler: "building" it is type-checking the modules that Tauri embeds from ui/src.
build_ui() {
    say "Type-checking the UI (tsc)"
    (cd "$ROOT/ui" && npm run --silent check)
}
