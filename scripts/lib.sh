#!/usr/bin/env bash
# Shared set-up for scripts/run.sh and scripts/test.sh: installs what is missing, idempotently.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Builds reuse one target directory outside the clone, so a fresh clone does not start from cold.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/calconnect-target}"

# What building the Tauri app needs on Debian/Ubuntu (rustls everywhere, so no libssl).
BUILD_PACKAGES=(libwebkit2gtk-4.1-dev pkg-config build-essential librsvg2-dev curl)
# What the tests add: a virtual display, WebKit's WebDriver, a real Secret Service, schema validation, and a
# real browser for the sign-in pages (headless Chromium, its WebDriver, and certutil for its trust store).
TEST_PACKAGES=(xvfb webkit2gtk-driver gnome-keyring dbus libsecret-tools xdg-utils imagemagick libxml2-utils
    chromium chromium-driver libnss3-tools)

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

# Installs the npm packages of the project in $1 exactly as locked, only when its lockfile changed since the
# last install (npm ci writes node_modules/.package-lock.json).
ensure_npm_packages() {
    local dir="$ROOT/$1"
    local stamp="$dir/node_modules/.package-lock.json"
    if [ ! -f "$stamp" ] || [ "$dir/package-lock.json" -nt "$stamp" ]; then
        say "Installing npm packages from $1/package-lock.json"
        (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
    fi
}

# The UI's type checker and test tools.
ensure_ui_packages() {
    ensure_npm_packages ui
}

# oidc-provider and jose for the CLI's tests against a standards-compliant OAuth server (tests/oidc/).
ensure_oidc_packages() {
    ensure_npm_packages tests/oidc
}

# The UI has no bundler: "building" it is type-checking the modules that Tauri embeds from ui/src.
build_ui() {
    say "Type-checking the UI (tsc)"
    (cd "$ROOT/ui" && npm run --silent check)
}
