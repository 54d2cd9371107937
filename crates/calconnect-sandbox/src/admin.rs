//! Admin endpoints for tests and humans: `POST /_sandbox/faults`, `GET /_sandbox/journal`.
//!
//! Any local program can reach the sandbox's port, and these routes change what every client sees (a
//! fault revokes refresh tokens) or read what they did (the journal), so each requires
//! `Authorization: Bearer <admin token>`: the token the builder was given (`--admin-token`), or a random
//! one the sandbox prints at start (`admin token: …`) and [`crate::SandboxHandle::admin_token`] returns.
//! A missing or wrong token gets 401 with `WWW-Authenticate: Bearer` (RFC 6750 §3).

use axum::extract::{Request, State};
use axum::http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use secrecy::ExposeSecret as _;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::fault::Fault;
use crate::journal::{JournalEntry, JournalNote};
use crate::state::AppState;

/// One fault or several.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum FaultRequest {
    One(Fault),
    Many(Vec<Fault>),
}

/// Admin routes, every one behind the admin token.
pub fn routes(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/_sandbox/faults", post(install_faults))
        .route("/_sandbox/journal", get(journal))
        .route_layer(axum::middleware::from_fn_with_state(
            state,
            require_admin_token,
        ))
}

async fn require_admin_token(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let presented = request
        .headers()
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .filter(|token| !token.is_empty());
    // Comparing digests keeps the comparison's timing from telling how much of a guess was right.
    let authorized = presented.is_some_and(|token| {
        Sha256::digest(token.as_bytes())
            == Sha256::digest(state.admin_token().expose_secret().as_bytes())
    });
    if authorized {
        return next.run(request).await;
    }
    let mut response = (
        StatusCode::UNAUTHORIZED,
        [(
            WWW_AUTHENTICATE,
            "Bearer realm=\"calconnect-sandbox admin\"",
        )],
        "The sandbox's admin routes need `Authorization: Bearer <admin token>`: the token printed at start \
         (`admin token: …`) or given with --admin-token.\n",
    )
        .into_response();
    response.extensions_mut().insert(JournalNote(
        if presented.is_some() {
            "wrong admin token"
        } else {
            "admin token missing"
        }
        .to_owned(),
    ));
    response
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
