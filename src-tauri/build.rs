/// Every command the UI may call. Declaring them makes them deny-by-default: each must also be granted in
/// capabilities/default.json, which doubles as the inventory of the IPC surface.
const COMMANDS: &[&str] = &[
    "app_info",
    "access_options",
    "list_accounts",
    "account_details",
    "disconnect",
    "start_browser_sign_in",
    "start_device_code",
    "cancel_sign_in",
    "calendars",
    "free_busy",
    "create_test_meeting",
    "open_link",
    "open_log_folder",
    "diagnostic_info",
    "get_settings",
    "save_settings",
    "registration_guide",
    "test_exchange_account",
    "export_exchange_report",
    "test_teams_app",
    "export_teams_report",
    "test_graph_app",
    "export_graph_report",
    "read_schedules",
];

fn main() {
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS)),
    )
    .expect("failed to run tauri-build");
}
