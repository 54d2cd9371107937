#!/usr/bin/env bash
# Runs every test suite calconnect has: formatting and lints, the UI's type check and unit tests, and all
# Rust tests (unit, integration against the sandbox, keychain against a real Secret Service, and the
# end-to-end tests of the real app under Xvfb). Exits non-zero on any failure.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ensure_toolchains
ensure_apt_packages "${BUILD_PACKAGES[@]}" "${TEST_PACKAGES[@]}"
ensure_ui_packages
ensure_oidc_packages
cd "$ROOT"

build_ui
say "UI unit tests"
(cd ui && npm test --silent)

say "Formatting (cargo fmt --check)"
cargo fmt --all -- --check

say "Lints (cargo clippy -D warnings)"
cargo clippy --workspace --all-targets --quiet -- -D warnings

say "Building the desktop app for the end-to-end tests"
cargo build --quiet -p calconnect-app

if command -v cargo-nextest >/dev/null; then
    runner=(cargo nextest run --workspace --profile "${NEXTEST_PROFILE:-default}" --no-fail-fast)
else
    runner=(cargo test --workspace --no-fail-fast)
fi

say "MSAL for Python against the sandbox"
"$ROOT/scripts/msal-tests.sh"

say "Rust tests in a private D-Bus session with GNOME Keyring, on a virtual display"
rm -rf "$ROOT/artifacts/screenshots"
# xvfb-run gives the app windows a display; with-keyring.sh gives the keychain tests a real Secret Service.
xvfb-run --auto-servernum --server-args="-screen 0 1024x720x24" \
    "$ROOT/scripts/with-keyring.sh" "${runner[@]}"

say "All tests passed. Screenshots: artifacts/screenshots/"
