#!/usr/bin/env bash
# Builds calconnect's Linux packages, a .deb and an .rpm, with `tauri build` (the Tauri CLI from the UI's npm
# packages: a prebuilt binary, no cargo install), after checking the AppStream metadata; then checks what was
# packed (the desktop entry, the metadata as installed) and prints each package with its size.
#
# No AppImage: Tauri's AppImage bundler downloads linuxdeploy and its plugins from GitHub while it runs, which
# an offline or locked-down build machine cannot do.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ensure_toolchains
# appstream: appstreamcli; desktop-file-utils: desktop-file-validate.
ensure_apt_packages "${BUILD_PACKAGES[@]}" appstream desktop-file-utils
ensure_ui_packages
build_ui
cd "$ROOT"

METAINFO=src-tauri/linux/dev.calconnect.desktop.metainfo.xml
say "Checking the AppStream metadata (appstreamcli validate --no-net)"
appstreamcli validate --no-net "$METAINFO"

say "Building the release app and its packages (tauri build)"
BUNDLE_DIR="$CARGO_TARGET_DIR/release/bundle"
rm -rf "$BUNDLE_DIR/deb" "$BUNDLE_DIR/rpm"
(cd src-tauri && "$ROOT/ui/node_modules/.bin/tauri" build --ci --bundles deb,rpm)

shopt -s nullglob
debs=("$BUNDLE_DIR"/deb/*.deb)
rpms=("$BUNDLE_DIR"/rpm/*.rpm)
if [ ${#debs[@]} -ne 1 ] || [ ${#rpms[@]} -ne 1 ]; then
    echo "Expected one .deb and one .rpm under $BUNDLE_DIR, found: ${debs[*]} ${rpms[*]}" >&2
    exit 1
fi

say "Checking what the .deb installs"
unpacked="$(mktemp -d)"
trap 'rm -rf "$unpacked"' EXIT
dpkg-deb -x "${debs[0]}" "$unpacked"
desktop-file-validate "$unpacked"/usr/share/applications/*.desktop
appstreamcli validate --no-net "$unpacked/usr/share/metainfo/dev.calconnect.desktop.metainfo.xml"
for size in 32x32 128x128 256x256 512x512; do
    compgen -G "$unpacked/usr/share/icons/hicolor/$size/apps/*.png" >/dev/null \
        || { echo "The .deb has no $size icon" >&2; exit 1; }
done
dpkg-deb --field "${debs[0]}" Package Version Depends Recommends

say "Packages"
for package in "${debs[0]}" "${rpms[0]}"; do
    printf '%s  %s\n' "$(du -h "$package" | cut -f1)" "$package"
done
