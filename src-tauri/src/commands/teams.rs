//! Commands of the admin's Teams test step: run the Teams Enterprise app test with each step pushed
//! live, and export the last report. The client secret or certificate arrives once from the form, goes
//! into a secret type and is never sent back: the report holds no secret.

use std::sync::Mutex;

use calconnect_core::admin_report::is_client_id;
use calconnect_core::teams_test::{self, TeamsReport, TeamsStep, TeamsTestConfig};
use calconnect_identity::app_only::{AppCredential, CertificateCredential};
use calconnect_identity::Authority;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use tauri::ipc::Channel;

use crate::commands::exchange::ExportFormat;
use crate::ipc::error::{ErrorCode, IpcError};
use crate::state::AppState;

/// The last report, kept for export.
#[derive(Default)]
pub struct TeamsState {
    last_report: Mutex<Option<TeamsReport>>,
}

/// The form of the Teams and Graph test steps.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppTestRequest {
    pub tenant_id: String,
    pub client_id: String,
    /// The test user (Teams) or mailbox (Graph).
    pub user: String,
    pub client_secret: Option<SecretString>,
    /// The PEM (key and certificate) the admin chose; read by the front end, kept only in memory.
    pub certificate_pem: Option<SecretString>,
}

/// The credential, the tenant's authority and the test user from the form, each checked.
pub(crate) fn app_sign_in(
    core: &calconnect_core::Calconnect,
    request: &AppTestRequest,
) -> Result<(AppCredential, Authority, String), IpcError> {
    let invalid = |message: &str| {
        IpcError::new(
            ErrorCode::Failed,
            message,
            "Correct the form and run the test again.",
        )
    };
    let credential = match (&request.certificate_pem, &request.client_secret) {
        (Some(pem), _) if !pem.expose_secret().trim().is_empty() => AppCredential::Certificate(
            CertificateCredential::from_pem(pem).map_err(|error| invalid(&error.to_string()))?,
        ),
        (_, Some(secret)) if !secret.expose_secret().is_empty() => {
            AppCredential::Secret(secret.clone())
        }
        _ => return Err(invalid(
            "Give the app's client secret or choose its certificate (PEM with the private key).",
        )),
    };
    if !is_client_id(request.client_id.trim()) {
        return Err(invalid(
            "The application (client) ID is a GUID such as 50617283-94a5-4b6c-97e8-f90a1b2c3d4e.",
        ));
    }
    let user = request.user.trim().to_owned();
    if !user.contains('@') {
        return Err(invalid(
            "The test user must be a UPN or address such as adele@contoso.com.",
        ));
    }
    let authority = Authority::new(
        core.endpoints().authority.base().clone(),
        request.tenant_id.trim(),
    )
    .ok()
    .filter(|authority| !authority.is_multi_tenant())
    .ok_or_else(|| {
        invalid(
            "The tenant must be the tenant ID or a verified domain (not common or organizations).",
        )
    })?;
    Ok((credential, authority, user))
}

/// Runs the test; steps are pushed on `on_step`, the report is returned at the end.
#[tauri::command]
pub async fn test_teams_app(
    state: tauri::State<'_, AppState>,
    teams: tauri::State<'_, TeamsState>,
    request: AppTestRequest,
    on_step: Channel<TeamsStep>,
) -> Result<TeamsReport, IpcError> {
    let core = state.core().await?;
    let (credential, authority, user) = app_sign_in(&core, &request)?;
    let endpoints = core.endpoints().clone();
    let config = TeamsTestConfig {
        authority,
        graph: endpoints.graph,
        graph_resource: endpoints.graph_resource,
        client_id: request.client_id.trim().to_owned(),
        credential,
        user,
        timeout: std::time::Duration::from_secs(30),
    };
    let progress = move |step: &TeamsStep| {
        // A closed window cannot receive progress; the test still completes and returns its report.
        let _ = on_step.send(step.clone());
    };
    let report = teams_test::run(&core.http_client(), &config, chrono::Utc::now(), &progress).await;
    *teams.last_report.lock().expect("report lock") = Some(report.clone());
    Ok(report)
}

/// Saves the last report like the Exchange step does (the Save dialog); `None` when cancelled.
#[tauri::command]
pub async fn export_teams_report<R: tauri::Runtime>(
    app: tauri::AppHandle<R>,
    teams: tauri::State<'_, TeamsState>,
    format: ExportFormat,
) -> Result<Option<String>, IpcError> {
    let (text, extension) = {
        let guard = teams.last_report.lock().expect("report lock");
        let report = guard
            .as_ref()
            .ok_or_else(crate::commands::exchange::no_report)?;
        match format {
            ExportFormat::Json => (report.to_json(), "json"),
            ExportFormat::Text => (report.to_text(), "txt"),
        }
    };
    crate::export::save_report(&app, "calconnect-teams-test", extension, text).await
}
