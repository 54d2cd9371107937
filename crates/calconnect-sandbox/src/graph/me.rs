//! `GET /me` and `GET /users/{id | userPrincipalName}` (Graph "Get user": the default property set, or the
//! basic profile a `User.ReadBasic.All` token may read).

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::graph::caller::{Bearer, Caller};
use crate::graph::error::GraphError;
use crate::state::AppState;
use crate::tenant::User;

/// Permissions that can read the signed-in user's profile.
const PROFILE_SCOPES: &[&str] = &[
    "User.Read",
    "User.ReadWrite",
    "User.ReadBasic.All",
    "User.Read.All",
    "User.ReadWrite.All",
    "Directory.Read.All",
];

/// Permissions that read every user's full profile, delegated or as app roles ("Get user" permissions).
const FULL_PROFILE_PERMISSIONS: &[&str] = &[
    "User.Read.All",
    "User.ReadWrite.All",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
];

/// "Read all users' basic profiles": delegated, and as an application permission ("Allows the app to read
/// a basic set of profile properties of other users in your organization without a signed-in user").
const BASIC_PROFILE_PERMISSION: &str = "User.ReadBasic.All";

/// How much of a user a token may read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    /// Graph's default property set: businessPhones, displayName, givenName, id, jobTitle, mail,
    /// mobilePhone, officeLocation, preferredLanguage, surname, userPrincipalName ("Get user").
    Default,
    /// The basic profile of `User.ReadBasic.All`: displayName, givenName, mail, photo, surname,
    /// userPrincipalName, and the id (learn.microsoft.com/answers/questions/285432, Microsoft's answer on
    /// "The User.ReadBasic.All permission constrains app access to a limited set of properties known as the
    /// basic profile"). The sandbox serves no photos.
    Basic,
}

/// A user as Graph renders it, with `@odata.context`.
pub fn user_json(state: &AppState, user: &User, profile: Profile) -> serde_json::Value {
    let mut body = serde_json::json!({
        "@odata.context": format!("{}v1.0/$metadata#users/$entity", state.base_url()),
        "displayName": user.display_name,
        "givenName": user.given_name,
        "mail": user.mail,
        "surname": user.surname,
        "userPrincipalName": user.user_principal_name,
        "id": user.id,
    });
    if profile == Profile::Default {
        body["businessPhones"] = serde_json::json!([]);
        body["jobTitle"] = serde_json::json!(user.job_title);
        body["mobilePhone"] = serde_json::Value::Null;
        body["officeLocation"] = serde_json::json!(user.office_location);
        body["preferredLanguage"] = serde_json::json!("en-US");
    }
    body
}

/// `GET /v1.0/me`.
pub async fn me(State(state): State<AppState>, caller: Caller) -> Result<Response, GraphError> {
    caller.require_any(PROFILE_SCOPES)?;
    let user = caller.user(&state)?;
    Ok(Json(user_json(&state, user, Profile::Default)).into_response())
}

/// `GET /v1.0/users/{id | userPrincipalName}`: app-only with `User.ReadBasic.All` (basic profile) or
/// `User.Read.All` and higher (default set); delegated with the same, or `User.Read` for oneself.
pub async fn user(
    State(state): State<AppState>,
    bearer: Bearer,
    Path(key): Path<String>,
) -> Result<Response, GraphError> {
    let oneself = bearer.signed_in_user(&state).filter(|user| {
        user.user_principal_name.eq_ignore_ascii_case(key.trim())
            || user.id.to_string() == key.trim()
    });
    let profile = if bearer.has_any(FULL_PROFILE_PERMISSIONS)
        || (oneself.is_some() && bearer.has_any(PROFILE_SCOPES))
    {
        Profile::Default
    } else if bearer.has_any(&[BASIC_PROFILE_PERMISSION]) {
        Profile::Basic
    } else {
        return Err(GraphError::insufficient_privileges());
    };
    let user = state
        .tenant()
        .user_by_id_or_upn(&key)
        .ok_or_else(|| GraphError::resource_not_found(&key))?;
    Ok(Json(user_json(&state, user, profile)).into_response())
}
