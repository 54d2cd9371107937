//! Commands of the admin's Graph Enterprise Connect test step: run the test with each step pushed live,
//! and export the last report. The secret or certificate arrives once and is never sent back.

use std::sync::Mutex;

use calconnect_core::admin_report::AdminStep;
use calconnect_core::graph_test::{self, GraphReport, GraphTestConfig};
use tauri::ipc::Channel;

use crate::commands::exchange::ExportFormat;
use crate::commands::teams::{app_sign_in, AppTestRequest};
use crate::ipc::error::{ErrorCode, IpcError};
use crate::state::AppState;

/// The last report, kept for export.
#[derive(Default)]
pub struct GraphState {
    last_report: Mutex<Option<GraphReport>>,
}

/// Runs the test; steps are pushed on `on_step`, the report is returned at the end.
#[tauri::command]
pub async fn test_graph_app(
    state: tauri::State<'_, AppState>,
    graph: tauri::State<'_, GraphState>,
    request: AppTestRequest,
    write_test: bool,
    on_step: Channel<AdminStep>,
) -> Result<GraphReport, IpcError> {
    let core = state.core().await?;
    let (credential, authority, mailbox) = app_sign_in(&core, &request)?;
    let endpoints = core.endpoints().clone();
    let config = GraphTestConfig {
        authority,
        graph: endpoints.graph,
        graph_resource: endpoints.graph_resource,
        client_id: request.client_id.trim().to_owned(),
        credential,
        mailbox,
        write_test,
        timeout: std::time::Duration::from_secs(30),
    };
    let progress = move |step: &AdminStep| {
        let _ = on_step.send(step.clone());
    };
    let report = graph_test::run(&core.http_client(), &config, chrono::Utc::now(), &progress).await;
    *graph.last_report.lock().expect("report lock") = Some(report.clone());
    Ok(report)
}

/// Saves the last report like the Exchange step does (the Save dialog); `None` when cancelled.
#[tauri::command]
pub async fn export_graph_report<R: tauri::Runtime>(
    app: tauri::AppHandle<R>,
    graph: tauri::State<'_, GraphState>,
    format: ExportFormat,
) -> Result<Option<String>, IpcError> {
    let (text, extension) = {
        let guard = graph.last_report.lock().expect("report lock");
        let report = guard
            .as_ref()
            .ok_or_else(crate::commands::exchange::no_report)?;
        match format {
            ExportFormat::Json => (report.to_json(), "json"),
            ExportFormat::Text => (report.to_text(), "txt"),
        }
    };
    crate::export::save_report(&app, "calconnect-graph-test", extension, text).await
}

/// One schedule read by the Free/Busy variant: its busy blocks (status, start, end), or Graph's reason.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScheduleView {
    pub schedule: String,
    pub busy_blocks: Option<Vec<calconnect_graph::BusyBlock>>,
    pub error: Option<String>,
}

/// The Graph test's Free/Busy variant: with a connected Free/Busy account (the admin signed in with the
/// Enterprise Connect Free/Busy app, delegated), getSchedule for up to 20 addresses over the next 7 days.
#[tauri::command]
pub async fn read_schedules(
    state: tauri::State<'_, AppState>,
    account_id: String,
    addresses: Vec<String>,
) -> Result<Vec<ScheduleView>, IpcError> {
    let addresses: Vec<String> = addresses
        .iter()
        .map(|address| address.trim().to_owned())
        .filter(|address| !address.is_empty())
        .collect();
    if addresses.is_empty() || addresses.len() > calconnect_graph::MAX_SCHEDULES_PER_REQUEST {
        return Err(IpcError::new(
            ErrorCode::Failed,
            "Give between 1 and 20 addresses.",
            "getSchedule reads at most 20 schedules per request (a distribution list's members count too).",
        ));
    }
    let core = state.core().await?;
    let start = chrono::Utc::now();
    let outcomes = core
        .schedules(
            &account_id,
            &addresses,
            start,
            start + chrono::Duration::days(7),
        )
        .await?;
    Ok(outcomes
        .into_iter()
        .map(|outcome| match outcome.blocks {
            Ok(blocks) => ScheduleView {
                schedule: outcome.schedule,
                busy_blocks: Some(blocks),
                error: None,
            },
            Err(error) => ScheduleView {
                schedule: outcome.schedule,
                busy_blocks: None,
                error: Some(error),
            },
        })
        .collect())
}
