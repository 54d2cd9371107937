//! Admin endpoints for tests and humans: `POST /_sandbox/faults`, `GET /_sandbox/journal`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;

use crate::fault::Fault;
use crate::journal::JournalEntry;
use crate::state::AppState;

/// One fault or several.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum FaultRequest {
    One(Fault),
    Many(Vec<Fault>),
}

/// Admin routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/_sandbox/faults", post(install_faults))
        .route("/_sandbox/journal", get(journal))
}

async fn install_faults(
    State(state): State<AppState>,
    Json(request): Json<FaultRequest>,
) -> StatusCode {
    let faults = match request {
        FaultRequest::One(fault) => vec![fault],
        FaultRequest::Many(faults) => faults,
    };
    for fault in faults {
        state.faults().apply(fault);
    }
    StatusCode::NO_CONTENT
}

async fn journal(State(state): State<AppState>) -> Json<Vec<JournalEntry>> {
    Json(state.journal().entries())
}
