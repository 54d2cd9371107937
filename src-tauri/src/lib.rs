//! The calconnect desktop shell.
//!
//! Everything here is translation: start-up options become an [`AppConfig`], [`state::AppState`] holds the
//! core built for the chosen cloud (and the in-process sandbox in demo mode), and each `#[tauri::command]`
//! in [`commands`] adapts one operation of `calconnect-core` for the webview. No protocol logic lives here.

mod access;
mod commands;
mod config;
mod error;
mod export;
mod ipc;
mod logging;
mod network;
mod qr;
mod recent_errors;
mod settings;
pub mod state;

pub use config::{AppConfig, Cloud, DataPaths, SandboxSource, StartupOptions};

use clap::Parser;

/// Parses the command line and environment, then runs the desktop app until its window closes.
pub fn run() {
    logging::private_umask();
    let options = StartupOptions::parse();
    if let Err(message) = config::check_display() {
        eprintln!("{message}");
        std::process::exit(2);
    }
    let config = match AppConfig::from_options(&options) {
        Ok(config) => config,
        Err(message) => {
            eprintln!("{message}");
            std::process::exit(2);
        }
    };
    let log_folder = logging::init(&config.paths.logs);
    tracing::info!(cloud_override = ?config.cloud_override, log_folder = ?log_folder, "starting calconnect");
    // First, so a second launch hands over to the running window before anything else starts.
    let single_instance = tauri_plugin_single_instance::Builder::new()
        .dbus_id(config.paths.instance_id())
        .callback(|app, _argv, _cwd| focus_main_window(app))
        .build();
    build_app(
        tauri::Builder::default().plugin(single_instance),
        state::AppState::new(config),
    )
    .setup(|app| {
        tracing::info!("app set up");
        warm_up_core(app.handle());
        Ok(())
    })
    // With "starting calconnect", "core ready" and "first screen ready", the log's timestamps time each
    // part of start-up (docs/shipping.md).
    .on_page_load(|_webview, payload| {
        tracing::info!(event = ?payload.event(), "page load");
    })
    .run(tauri::generate_context!())
    .expect("the calconnect window could not be started");
}

/// Builds the core (keychain over D-Bus, TLS roots, the sandbox in demo mode) while WebKit starts, instead
/// of on the welcome step's first command: the two overlap, and the first screen answers sooner
/// (`scripts/bench.sh`'s `footprint start`). A failure here is only logged: the first command builds the
/// core again and shows its error with a way out.
fn warm_up_core<R: tauri::Runtime>(app: &tauri::AppHandle<R>) {
    use tauri::Manager as _;
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        let state = app.state::<state::AppState>();
        if let Err(error) = state.core().await {
            tracing::warn!(%error, "the core could not be built at start-up; the first command tries again");
        }
    });
}

/// A second launch of the same profile: bring the running window to the front instead.
fn focus_main_window<R: tauri::Runtime>(app: &tauri::AppHandle<R>) {
    use tauri::Manager as _;
    tracing::info!("calconnect was launched again: focusing the running window");
    if let Some(window) = app.get_webview_window("main") {
        let _ = window.unminimize();
        let _ = window.show();
        let _ = window.set_focus();
    }
}

/// Registers state and commands on a builder; shared by [`run`] and the mock-runtime tests.
pub fn build_app<R: tauri::Runtime>(
    builder: tauri::Builder<R>,
    state: state::AppState,
) -> tauri::Builder<R> {
    builder
        .plugin(tauri_plugin_dialog::init())
        .manage(state)
        .manage(commands::exchange::ExchangeState::default())
        .manage(commands::teams::TeamsState::default())
        .manage(commands::graph::GraphState::default())
        .invoke_handler(tauri::generate_handler![
            commands::app::app_info,
            commands::app::access_options,
            commands::app::ui_ready,
            commands::accounts::list_accounts,
            commands::accounts::account_details,
            commands::accounts::disconnect,
            commands::sign_in::start_browser_sign_in,
            commands::sign_in::start_device_code,
            commands::sign_in::cancel_sign_in,
            commands::calendars::calendars,
            commands::calendars::free_busy,
            commands::calendars::create_test_meeting,
            commands::settings::get_settings,
            commands::settings::save_settings,
            commands::settings::registration_guide,
            commands::exchange::test_exchange_account,
            commands::exchange::export_exchange_report,
            commands::teams::test_teams_app,
            commands::teams::export_teams_report,
            commands::graph::test_graph_app,
            commands::graph::export_graph_report,
            commands::graph::read_schedules,
            commands::support::open_link,
            commands::support::open_log_folder,
            commands::support::diagnostic_info,
        ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn mock_app(data_dir: &std::path::Path) -> tauri::App<tauri::test::MockRuntime> {
        let paths = DataPaths::new(Some(data_dir.to_owned())).unwrap();
        let core = calconnect_core::Calconnect::new(calconnect_core::Options::new(
            calconnect_core::Config::default(),
            paths.accounts.clone(),
            Arc::new(calconnect_vault::MemoryStore::new()),
            calconnect_identity::http_client(&calconnect_identity::Trust::default()).unwrap(),
        ))
        .unwrap();
        let config = AppConfig {
            cloud_override: None,
            sandbox: SandboxSource::InProcess,
            paths,
        };
        build_app(
            tauri::test::mock_builder(),
            state::AppState::with_core(config, core),
        )
        .build(tauri::test::mock_context(tauri::test::noop_assets()))
        .unwrap()
    }

    fn invoke(
        app: &tauri::App<tauri::test::MockRuntime>,
        cmd: &str,
        body: serde_json::Value,
    ) -> Result<serde_json::Value, serde_json::Value> {
        let webview = tauri::WebviewWindowBuilder::new(app, "main", Default::default())
            .build()
            .unwrap();
        tauri::test::get_ipc_response(
            &webview,
            tauri::webview::InvokeRequest {
                cmd: cmd.into(),
                callback: tauri::ipc::CallbackFn(0),
                error: tauri::ipc::CallbackFn(1),
                url: "tauri://localhost".parse().unwrap(),
                body: tauri::ipc::InvokeBody::Json(body),
                headers: Default::default(),
                invoke_key: tauri::test::INVOKE_KEY.to_string(),
            },
        )
        .map(|body| body.deserialize::<serde_json::Value>().unwrap())
    }

    #[test]
    fn a_failing_command_rejects_with_the_ipc_error_json() {
        let dir = tempfile::tempdir().unwrap();
        let app = mock_app(dir.path());
        let rejection = invoke(
            &app,
            "calendars",
            serde_json::json!({ "accountId": "nope" }),
        )
        .expect_err("an unknown account must reject");
        assert_eq!(
            rejection,
            serde_json::json!({
                "code": "NotFound",
                "message": "There is no connected account `nope`.",
                "nextStep": "List the connected accounts and use one of their IDs."
            })
        );
    }

    #[test]
    fn list_accounts_answers_an_empty_list_before_any_sign_in() {
        let dir = tempfile::tempdir().unwrap();
        let app = mock_app(dir.path());
        let accounts = invoke(&app, "list_accounts", serde_json::json!({})).unwrap();
        assert_eq!(accounts, serde_json::json!([]));
    }

    #[test]
    fn access_options_list_full_then_free_busy_with_their_scopes() {
        let dir = tempfile::tempdir().unwrap();
        let app = mock_app(dir.path());
        let options = invoke(&app, "access_options", serde_json::json!({})).unwrap();
        assert_eq!(options[0]["access"], "full");
        assert_eq!(options[1]["access"], "freeBusy");
        assert_eq!(options[1]["scopes"][0]["scope"], "Calendars.ReadBasic");
    }
}
