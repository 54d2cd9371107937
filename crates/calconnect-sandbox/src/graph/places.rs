//! Graph's places API over Exchange's room mailboxes and room lists: `GET /places/microsoft.graph.room`,
//! `GET /places/microsoft.graph.roomList` and `GET /places/{room list}/microsoft.graph.roomlist/rooms`
//! (learn.microsoft.com/graph/api/place-list; microsoft-graph-docs-contrib api-reference/v1.0/api/place-list.md).
//!
//! Permissions: `Place.Read.All`, delegated or application (higher `Place.ReadWrite.All`). Without it the
//! sandbox answers 403 `ErrorAccessDenied` "Access is denied. Check credentials and try again."
//! (ASSUMPTION: the places API is served by Exchange, whose refusal this is; no page shows the body).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::graph::caller::Bearer;
use crate::graph::error::GraphError;
use crate::state::AppState;
use crate::tenant::{RoomList, RoomMailbox};

const PLACE_PERMISSIONS: &[&str] = &["Place.Read.All", "Place.ReadWrite.All"];

fn require(bearer: &Bearer) -> Result<(), GraphError> {
    if bearer.has_any(PLACE_PERMISSIONS) {
        Ok(())
    } else {
        Err(GraphError::access_denied())
    }
}

/// A room as the "List places" example renders it.
fn room_json(room: &RoomMailbox) -> serde_json::Value {
    json!({
        "@odata.type": "#microsoft.graph.room",
        "id": room.id,
        "emailAddress": room.smtp,
        "displayName": room.display_name,
        "address": null,
        "geoCoordinates": null,
        "phone": "",
        "nickname": room.display_name,
        "label": null,
        "capacity": room.capacity,
        "building": room.building,
        "floorLabel": null,
        "floorNumber": room.floor_number,
        "isWheelChairAccessible": room.is_wheel_chair_accessible,
        "bookingType": "standard",
        "tags": [],
        "audioDeviceName": null,
        "videoDeviceName": null,
        "displayDeviceName": null,
    })
}

fn room_list_json(list: &RoomList) -> serde_json::Value {
    json!({
        "@odata.type": "#microsoft.graph.roomList",
        "id": list.id,
        "displayName": list.display_name,
        "address": null,
        "geoCoordinates": null,
        "phone": null,
        "emailAddress": list.smtp,
    })
}

/// `GET /v1.0/places/microsoft.graph.room`.
pub async fn rooms(State(state): State<AppState>, bearer: Bearer) -> Result<Response, GraphError> {
    require(&bearer)?;
    let value: Vec<_> = state
        .tenant()
        .exchange
        .rooms
        .iter()
        .map(room_json)
        .collect();
    Ok(Json(json!({
        "@odata.context": format!("{}v1.0/$metadata#places/microsoft.graph.room", state.base_url()),
        "value": value,
    }))
    .into_response())
}

/// `GET /v1.0/places/microsoft.graph.roomList`.
pub async fn room_lists(
    State(state): State<AppState>,
    bearer: Bearer,
) -> Result<Response, GraphError> {
    require(&bearer)?;
    let value: Vec<_> = state
        .tenant()
        .exchange
        .room_lists
        .iter()
        .map(room_list_json)
        .collect();
    Ok(Json(json!({
        "@odata.context": format!("{}v1.0/$metadata#places/microsoft.graph.roomList", state.base_url()),
        "value": value,
    }))
    .into_response())
}

/// `GET /v1.0/places/{room list id or email address}/microsoft.graph.roomlist/rooms`.
pub async fn rooms_in_list(
    State(state): State<AppState>,
    bearer: Bearer,
    Path(key): Path<String>,
) -> Result<Response, GraphError> {
    require(&bearer)?;
    let exchange = &state.tenant().exchange;
    let list = exchange
        .room_lists
        .iter()
        .find(|list| {
            list.smtp.eq_ignore_ascii_case(key.trim()) || list.id.to_string() == key.trim()
        })
        .ok_or_else(|| {
            GraphError::new(
                StatusCode::NOT_FOUND,
                "ErrorItemNotFound",
                "The specified object was not found in the store.",
            )
        })?;
    let value: Vec<_> = list
        .members
        .iter()
        .filter_map(|member| exchange.room(member))
        .map(room_json)
        .collect();
    Ok(Json(json!({
        "@odata.context": format!("{}v1.0/$metadata#places('{}')/microsoft.graph.roomList/rooms", state.base_url(), list.smtp),
        "value": value,
    }))
    .into_response())
}
