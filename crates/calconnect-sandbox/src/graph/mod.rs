//! Microsoft Graph v1.0 subset: `/me`, calendars, calendarView, getSchedule, onlineMeetings.
//!
//! Every route verifies the bearer token (signature, lifetime, audience) and the delegated permission it
//! needs, answering in Graph's error envelope (401 `InvalidAuthenticationToken`, 403 `ErrorAccessDenied`).

pub mod calendars;
pub mod caller;
pub mod error;
pub mod me;
pub mod online_meetings;
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
        .route("/oidc/userinfo", get(userinfo::userinfo))
}
