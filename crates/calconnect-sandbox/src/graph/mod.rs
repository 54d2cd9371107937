//! Microsoft Graph v1.0 subset: `/me`, calendars, calendarView, getSchedule, onlineMeetings (for `/me` and,
//! app-only, for `/users/{id}`), `/users` (paging, `$select`, `$filter`), `/users/{id | userPrincipalName}`
//! with its calendars and calendarView (app-only within RBAC for Applications), `/organization` and the
//! places API (rooms and room lists).
//!
//! Every route verifies the bearer token (signature, lifetime, audience) and the permission it needs
//! (delegated scopes in `scp`, application permissions in `roles`), answering in Graph's error envelope
//! (401 `InvalidAuthenticationToken`; 403 `ErrorAccessDenied`, or `Authorization_RequestDenied` on the
//! directory routes). Routes under `/me` refuse app-only tokens.

pub mod calendars;
pub mod caller;
pub mod error;
pub mod events;
pub mod me;
pub mod online_meetings;
pub mod organization;
pub mod places;
pub mod preference;
pub(crate) mod query;
pub mod schedule;
pub mod userinfo;
pub mod users;

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
        .route("/v1.0/users", get(users::list))
        .route("/v1.0/users/{user}", get(me::user))
        .route(
            "/v1.0/users/{user}/calendars",
            get(calendars::list_for_user),
        )
        .route(
            "/v1.0/users/{user}/calendarView",
            get(calendars::default_view_for_user),
        )
        .route("/v1.0/users/{user}/events", post(events::create))
        .route(
            "/v1.0/users/{user}/events/{event_id}",
            axum::routing::delete(events::delete),
        )
        .route(
            "/v1.0/users/{user}/calendar/calendarView",
            get(calendars::default_view_for_user),
        )
        .route("/v1.0/places/microsoft.graph.room", get(places::rooms))
        .route(
            "/v1.0/places/microsoft.graph.roomList",
            get(places::room_lists),
        )
        .route(
            "/v1.0/places/microsoft.graph.roomlist",
            get(places::room_lists),
        )
        .route(
            "/v1.0/places/{place}/microsoft.graph.roomList/rooms",
            get(places::rooms_in_list),
        )
        .route(
            "/v1.0/places/{place}/microsoft.graph.roomlist/rooms",
            get(places::rooms_in_list),
        )
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
