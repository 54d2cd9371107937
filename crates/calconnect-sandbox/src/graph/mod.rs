//! Microsoft Graph v1.0 subset: `/me`, calendars, calendarView, getSchedule, onlineMeetings (for `/me` and,
//! app-only, for `/users/{id}`), `/users/{id | userPrincipalName}` and `/organization`.
//!
//! Every route verifies the bearer token (signature, lifetime, audience) and the permission it needs
//! (delegated scopes in `scp`, application permissions in `roles`), answering in Graph's error envelope
//! (401 `InvalidAuthenticationToken`; 403 `ErrorAccessDenied`, or `Authorization_RequestDenied` on the
//! directory routes). Routes under `/me` refuse app-only tokens.

pub mod calendars;
pub mod caller;
pub mod error;
pub mod me;
pub mod online_meetings;
pub mod organization;
pub mod preference;
pub mod schedule;
pub mod userinfo;

use axum::routing::{get, post};
use axum::Router;

use crate::state::AppState;

/// Graph routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1.0/me", get(me::me))
        .route("/v1.0/me/calendars", get(calendars::list))
        .route("/v1.0/me/calendarView", get(calendars::default_view))
        .route(
            "/v1.0/me/calendar/calendarView",
            get(calendars::default_view),
        )
        .route(
            "/v1.0/me/calendars/{calendar_id}/calendarView",
            get(calendars::view),
        )
        .route(
            "/v1.0/me/calendar/getSchedule",
            post(schedule::get_schedule),
        )
        .route("/v1.0/me/onlineMeetings", post(online_meetings::create))
        .route(
            "/v1.0/me/onlineMeetings/{meeting_id}",
            get(online_meetings::get).delete(online_meetings::delete),
        )
        .route("/v1.0/users/{user}", get(me::user))
        .route(
            "/v1.0/users/{user}/onlineMeetings",
            post(online_meetings::create_for_user),
        )
        .route(
            "/v1.0/users/{user}/onlineMeetings/{meeting_id}",
            get(online_meetings::get_for_user).delete(online_meetings::delete_for_user),
        )
        .route("/v1.0/organization", get(organization::list))
        .route("/oidc/userinfo", get(userinfo::userinfo))
}
