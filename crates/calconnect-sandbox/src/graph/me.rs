//! `GET /me` (Graph "Get user": default property set).

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::graph::caller::Caller;
use crate::graph::error::GraphError;
use crate::state::AppState;

/// Permissions that can read the signed-in user's profile.
const PROFILE_SCOPES: &[&str] = &[
    "User.Read",
    "User.ReadWrite",
    "User.ReadBasic.All",
    "User.Read.All",
    "User.ReadWrite.All",
    "Directory.Read.All",
];

/// `GET /v1.0/me`.
pub async fn me(State(state): State<AppState>, caller: Caller) -> Result<Response, GraphError> {
    caller.require_any(PROFILE_SCOPES)?;
    let user = caller.user(&state)?;
    Ok(Json(serde_json::json!({
        "@odata.context": format!("{}v1.0/$metadata#users/$entity", state.base_url()),
        "businessPhones": [],
        "displayName": user.display_name,
        "givenName": user.given_name,
        "jobTitle": user.job_title,
        "mail": user.mail,
        "mobilePhone": null,
        "officeLocation": user.office_location,
        "preferredLanguage": "en-US",
        "surname": user.surname,
        "userPrincipalName": user.user_principal_name,
        "id": user.id,
    }))
    .into_response())
}
