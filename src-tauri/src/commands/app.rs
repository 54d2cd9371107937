//! Commands about the app itself.

use crate::ipc::dto::AppInfo;
use crate::AppConfig;

/// The app version and the Microsoft cloud chosen at start-up, for the welcome step.
#[tauri::command]
pub fn app_info(config: tauri::State<'_, AppConfig>) -> AppInfo {
    AppInfo {
        version: env!("CARGO_PKG_VERSION").to_owned(),
        cloud: config.cloud,
        cloud_label: config.cloud.label().to_owned(),
    }
}
