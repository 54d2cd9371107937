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

/// Saves the last report and returns the file's path.
#[tauri::command]
pub fn export_graph_report(
    graph: tauri::State<'_, GraphState>,
    format: ExportFormat,
) -> Result<String, IpcError> {
    let guard = graph.last_report.lock().expect("report lock");
    let report = guard.as_ref().ok_or_else(|| {
        IpcError::new(
            ErrorCode::Failed,
            "There is no test result to save yet.",
            "Run the test first.",
        )
    })?;
    let (text, extension) = match format {
        ExportFormat::Json => (report.to_json(), "json"),
        ExportFormat::Text => (report.to_text(), "txt"),
    };
    crate::commands::exchange::save_export("calconnect-graph-test", extension, &text)
}
