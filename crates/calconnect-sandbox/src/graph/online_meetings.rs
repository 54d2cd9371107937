//! `POST /me/onlineMeetings` (Graph "Create onlineMeeting"): a standalone Teams meeting, not on the calendar.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use rand::Rng as _;
use serde::Deserialize;

use crate::graph::calendars::{parse_date_time, seven_digit_fraction};
use crate::graph::caller::Caller;
use crate::graph::error::GraphError;
use crate::state::AppState;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct MeetingRequest {
    start_date_time: Option<String>,
    end_date_time: Option<String>,
    subject: Option<String>,
}

/// `POST /v1.0/me/onlineMeetings`; needs `OnlineMeetings.ReadWrite` and a Teams-enabled user.
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    body: axum::body::Bytes,
) -> Result<Response, GraphError> {
    caller.require_any(&["OnlineMeetings.ReadWrite", "OnlineMeetings.ReadWrite.All"])?;
    let user = caller.user(&state)?;
    if !user.teams_enabled {
        return Err(GraphError::new(
            StatusCode::FORBIDDEN,
            "Forbidden",
            "The user does not have a Microsoft Teams license or is not enabled for Teams.",
        ));
    }
    let request: MeetingRequest = serde_json::from_slice(&body).map_err(|error| {
        GraphError::bad_request(
            "BadRequest",
            format!("Unable to read JSON request payload: {error}"),
        )
    })?;
    let now = state.now();
    let start = request
        .start_date_time
        .as_deref()
        .and_then(parse_date_time)
        .unwrap_or(now);
    let end = request
        .end_date_time
        .as_deref()
        .and_then(parse_date_time)
        .unwrap_or(start + chrono::Duration::hours(1));
    if end < start {
        return Err(GraphError::bad_request(
            "BadRequest",
            "endDateTime must not be before startDateTime.",
        ));
    }
    let format = |value: chrono::DateTime<chrono::Utc>| format!("{}Z", seven_digit_fraction(value));
    let thread_id = format!(
        "19:meeting_{}@thread.v2",
        crate::identity::issuance::opaque(24)
    );
    let meeting_id = format!("MSo{}", crate::identity::issuance::opaque(30));
    let mut random = rand::thread_rng();
    let join_meeting_id: String = (0..12)
        .map(|_| char::from(b'0' + random.gen_range(0..10u8)))
        .collect();
    let passcode: String = (0..6)
        .map(|_| char::from(b'a' + random.gen_range(0..26u8)))
        .collect();
    let join_url = format!(
        "https://teams.microsoft.com/l/meetup-join/{}/0?context=%7b%22Tid%22%3a%22{}%22%2c%22Oid%22%3a%22{}%22%7d",
        url::form_urlencoded::byte_serialize(thread_id.as_bytes()).collect::<String>(),
        state.tenant().id,
        user.id
    );
    let body = serde_json::json!({
        "@odata.context": format!("{}v1.0/$metadata#users('{}')/onlineMeetings/$entity", state.base_url(), user.id),
        "id": meeting_id,
        "creationDateTime": format(now),
        "startDateTime": format(start),
        "endDateTime": format(end),
        "subject": request.subject,
        "joinWebUrl": join_url,
        "joinMeetingIdSettings": {
            "isPasscodeRequired": true,
            "joinMeetingId": join_meeting_id,
            "passcode": passcode,
        },
        "chatInfo": { "threadId": thread_id, "messageId": "0", "replyChainMessageId": null },
        "participants": {
            "organizer": {
                "identity": { "user": { "id": user.id.to_string(), "displayName": user.display_name } },
                "role": "presenter",
                "upn": user.user_principal_name,
            },
            "attendees": [],
        },
    });
    Ok((StatusCode::CREATED, Json(body)).into_response())
}
