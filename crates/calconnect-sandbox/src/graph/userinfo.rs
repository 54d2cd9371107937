//! `GET /oidc/userinfo` (Microsoft identity platform "UserInfo endpoint"): served by Graph and called
//! with a Graph access token; returns `sub` (the ID token's pairwise value), `name`, `family_name`,
//! `given_name` and `email` (`picture` is left out: the sandbox serves no photos).

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::graph::caller::Caller;
use crate::graph::error::GraphError;
use crate::identity::issuance::pairwise_subject;
use crate::state::AppState;

/// `GET /oidc/userinfo`.
pub async fn userinfo(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Response, GraphError> {
    let user = caller.user(&state)?;
    Ok(Json(serde_json::json!({
        "sub": pairwise_subject(user.id, &caller.claims.appid),
        "name": user.display_name,
        "family_name": user.surname,
        "given_name": user.given_name,
        "email": user.email(),
    }))
    .into_response())
}
