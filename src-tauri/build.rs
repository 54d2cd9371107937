fn main() {
    // Declaring the app's commands makes them deny-by-default: a command the UI may call must be
    // granted in capabilities/default.json, which doubles as the inventory of the IPC surface.
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(&["app_info"])),
    )
    .expect("failed to run tauri-build");
}
