//! The calconnect desktop shell.
//!
//! Everything here is translation: start-up options become an [`AppConfig`] held as Tauri state, and
//! each `#[tauri::command]` in [`commands`] adapts one operation of the core crates for the webview.
//! No protocol logic lives in this crate.

mod commands;
mod config;
mod ipc;

pub use config::{AppConfig, Cloud, StartupOptions};

use clap::Parser;

/// Parses the command line and environment, then runs the desktop app until its window closes.
pub fn run() {
    let options = StartupOptions::parse();
    init_logging();
    if let Err(message) = config::check_display() {
        eprintln!("{message}");
        std::process::exit(2);
    }
    let config = AppConfig::from_options(&options);
    tracing::info!(cloud = %config.cloud.label(), "starting calconnect");
    build_app(tauri::Builder::default(), config)
        .run(tauri::generate_context!())
        .expect("the calconnect window could not be started");
}

/// Registers state and commands on a builder; shared by [`run`] and the mock-runtime tests.
pub fn build_app<R: tauri::Runtime>(
    builder: tauri::Builder<R>,
    config: AppConfig,
) -> tauri::Builder<R> {
    builder
        .manage(config)
        .invoke_handler(tauri::generate_handler![commands::app::app_info])
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("CALCONNECT_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // A second initialisation (tests) is harmless, so its error is ignored on purpose.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
