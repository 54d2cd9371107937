//! `POST /v1.0/users/{user}/events` and `DELETE /v1.0/users/{user}/events/{id}` for app-only writes
//! (learn.microsoft.com/graph/api/user-post-events, event-delete): what an admin's write test does. The
//! app needs `Calendars.ReadWrite` consented tenant-wide, or an RBAC for Applications assignment of
//! `Application Calendars.ReadWrite` covering the mailbox (application-rbac: the two add up). Created events
//! are kept in memory until deleted; they do not join the tenant's calendars.

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::graph::caller::Bearer;
use crate::graph::error::GraphError;
use crate::state::AppState;
use crate::tenant::exchange::APPLICATION_CALENDARS_READ_WRITE;
use crate::tenant::User;

/// Events created through the API, by id: (owner's object id, the event as returned).
#[derive(Debug, Default)]
pub struct EventStore {
    events: HashMap<String, (String, serde_json::Value)>,
}

/// The mailbox, if the token may write its calendar.
fn write_access<'a>(
    state: &'a AppState,
    bearer: &Bearer,
    key: &str,
) -> Result<&'a User, GraphError> {
    let tenant = state.tenant();
    let user = tenant.user_by_id_or_upn(key).ok_or_else(|| {
        GraphError::new(
            StatusCode::NOT_FOUND,
            "ErrorInvalidUser",
            format!("The requested user '{key}' is invalid."),
        )
    })?;
    let allowed = if bearer.claims.is_app_only() {
        bearer.has_any(&["Calendars.ReadWrite"])
            || tenant.app_role_assignment_covers(
                &bearer.claims.appid,
                &[APPLICATION_CALENDARS_READ_WRITE],
                user.email(),
            )
    } else {
        bearer
            .signed_in_user(state)
            .is_some_and(|me| me.id == user.id)
            && bearer.has_any(&["Calendars.ReadWrite"])
    };
    if allowed {
        Ok(user)
    } else {
        Err(GraphError::access_denied())
    }
}

/// `POST /v1.0/users/{user}/events`: 201 with the event.
pub async fn create(
    State(state): State<AppState>,
    bearer: Bearer,
    Path(key): Path<String>,
    Json(body): Json<serde_json::Value>,
) -> Result<Response, GraphError> {
    let user = write_access(&state, &bearer, &key)?;
    let (Some(start), Some(end)) = (body.get("start"), body.get("end")) else {
        return Err(GraphError::bad_request(
            "ErrorInvalidRequest",
            "The event needs a start and an end.",
        ));
    };
    let id = format!("AAMk{}", uuid::Uuid::new_v4().simple());
    let event = serde_json::json!({
        "id": id,
        "subject": body.get("subject").cloned().unwrap_or_default(),
        "start": start,
        "end": end,
        "showAs": body.get("showAs").cloned().unwrap_or_else(|| "busy".into()),
        "isCancelled": false,
    });
    state
        .created_events()
        .events
        .insert(id, (user.id.to_string(), event.clone()));
    Ok((StatusCode::CREATED, Json(event)).into_response())
}

/// `DELETE /v1.0/users/{user}/events/{id}`: 204, or 404 for an id this mailbox does not hold.
pub async fn delete(
    State(state): State<AppState>,
    bearer: Bearer,
    Path((key, id)): Path<(String, String)>,
) -> Result<Response, GraphError> {
    let user = write_access(&state, &bearer, &key)?;
    let mut store = state.created_events();
    match store.events.get(&id) {
        Some((owner, _)) if *owner == user.id.to_string() => {
            store.events.remove(&id);
            Ok(StatusCode::NO_CONTENT.into_response())
        }
        _ => Err(GraphError::new(
            StatusCode::NOT_FOUND,
            "ErrorItemNotFound",
            "The specified object was not found in the store.",
        )),
    }
}
