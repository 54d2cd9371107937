//! Commands of the Settings step.

use calconnect_core::RegistrationGuide;

use crate::config::Cloud;
use crate::ipc::dto::{CloudOption, RegistrationGuideView, SettingsView};
use crate::ipc::error::{ErrorCode, IpcError};
use crate::settings::Settings;
use crate::state::AppState;

/// The saved settings and what this run uses.
#[tauri::command]
pub fn get_settings(state: tauri::State<'_, AppState>) -> Result<SettingsView, IpcError> {
    view(&state)
}

/// Saves the settings; the next sign-in uses them (unless the command line fixed the cloud). A client ID
/// that is not a GUID is refused before anything is written (the sandbox's own are not the form's).
#[tauri::command]
pub async fn save_settings(
    state: tauri::State<'_, AppState>,
    settings: Settings,
) -> Result<SettingsView, IpcError> {
    if settings.cloud != Cloud::Sandbox {
        if let Some(field) = settings.misfilled_client_id() {
            return Err(IpcError::new(
                ErrorCode::Configuration,
                format!("{field} is not an application (client) ID."),
                "Paste the app's Application (client) ID, a GUID such as 0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9: \
                 it is on the app's Overview page in Entra ID, and the registration commands print it.",
            ));
        }
    }
    state.apply_settings(settings).await?;
    view(&state)
}

/// "Register the apps in my tenant": the Azure CLI and Microsoft Graph PowerShell commands and the manifest
/// that create the three apps, for the cloud and tenant the form shows (saved or not).
#[tauri::command]
pub fn registration_guide(cloud: Cloud, tenant: String) -> Result<RegistrationGuideView, IpcError> {
    let cloud = cloud.national().ok_or_else(|| {
        IpcError::new(
            ErrorCode::Configuration,
            "The sandbox's apps are built in: there is nothing to register.",
            "Choose the Microsoft cloud of your tenant first.",
        )
    })?;
    Ok(RegistrationGuide::new(cloud, &tenant).into())
}

fn view(state: &AppState) -> Result<SettingsView, IpcError> {
    let active_cloud = state.active_cloud()?;
    Ok(SettingsView {
        saved: state.saved_settings()?,
        active_cloud,
        active_cloud_label: active_cloud.label().to_owned(),
        locked_by_command_line: state.config().cloud_override.is_some(),
        clouds: Cloud::ALL
            .iter()
            .map(|cloud| CloudOption {
                value: *cloud,
                label: cloud.label().to_owned(),
            })
            .collect(),
        sandbox: Settings::sandbox(),
    })
}
