//! Commands about the app itself.

use crate::access::{self, AccessOption};
use crate::ipc::dto::AppInfo;
use crate::ipc::error::IpcError;
use crate::state::AppState;

/// The app version and the Microsoft cloud this run talks to, for the welcome step.
#[tauri::command]
pub fn app_info(state: tauri::State<'_, AppState>) -> Result<AppInfo, IpcError> {
    let cloud = state.active_cloud()?;
    Ok(AppInfo {
        version: env!("CARGO_PKG_VERSION").to_owned(),
        cloud,
        cloud_label: cloud.label().to_owned(),
    })
}

/// The two kinds of access with their scopes, why each is needed, and what each can and cannot see.
#[tauri::command]
pub fn access_options() -> Vec<AccessOption> {
    access::options()
}
