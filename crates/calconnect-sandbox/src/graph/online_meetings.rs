//! Standalone Teams meetings, not on the calendar (Graph "Create onlineMeeting", "Get onlineMeeting",
//! "Delete onlineMeeting"):
//!
//! - delegated: `POST /me/onlineMeetings`, `GET` and `DELETE /me/onlineMeetings/{meetingId}` with
//!   `OnlineMeetings.ReadWrite` (`OnlineMeetings.Read` reads);
//! - app-only: `POST /users/{userId}/onlineMeetings`, `GET` and `DELETE /users/{userId}/onlineMeetings/{meetingId}`
//!   with the application permission `OnlineMeetings.ReadWrite.All` (`OnlineMeetings.Read.All` reads) and
//!   an application access policy covering that user ([`crate::tenant::Teams`]). A delegated token may use
//!   its own user's id there too.
//!
//! Personal Microsoft accounts are "Not supported" by these APIs; the sandbox's directory holds work
//! accounts only. [learn.microsoft.com/graph/api/application-post-onlinemeetings,
//! learn.microsoft.com/graph/api/onlinemeeting-get, learn.microsoft.com/graph/api/onlinemeeting-delete]
//!
//! Refusals:
//! - no application access policy covering the user: 403. Creating, Graph's documented body is code
//!   `Unauthorized`, "App <app_ID> is not authorized to Create meeting on behalf of user <user_ID>"
//!   [learn.microsoft.com/graph/cloud-communication-online-meeting-application-access-policy, "Errors"; the
//!   status is reported in microsoftgraph/microsoft-graph-docs#12135]; reading or deleting, the observed body
//!   is code `General`, "No application access policy found for this app."
//!   [microsoftgraph/msgraph-sdk-dotnet#2350]. A client must key on the 403, not on either text.
//! - an organizer without a Teams licence: 403 `Forbidden` (observed with varying messages, often empty:
//!   microsoftgraph/microsoft-graph-docs-contrib#4832, #6320; the sandbox's message is its own);
//! - a meeting of another organizer: 404 `NotFound` "Organizer Id mismatch User Id: …"
//!   [microsoftgraph/microsoft-graph-docs-contrib#716]; an id that does not decode: 404 `NotFound` "Meeting Id
//!   is corrupted." [#1597]; a deleted or never-created one: 404 `NotFound`.

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use rand::Rng as _;
use serde::Deserialize;
use uuid::Uuid;

use crate::graph::calendars::{parse_date_time, seven_digit_fraction};
use crate::graph::caller::{Bearer, Caller};
use crate::graph::error::GraphError;
use crate::state::AppState;
use crate::tenant::User;

/// Delegated permissions that create and delete meetings.
const DELEGATED_WRITE: &[&str] = &["OnlineMeetings.ReadWrite"];
/// Delegated permissions that read meetings.
const DELEGATED_READ: &[&str] = &["OnlineMeetings.Read", "OnlineMeetings.ReadWrite"];
/// Application permissions that create and delete meetings.
const APPLICATION_WRITE: &[&str] = &["OnlineMeetings.ReadWrite.All"];
/// Application permissions that read meetings.
const APPLICATION_READ: &[&str] = &["OnlineMeetings.Read.All", "OnlineMeetings.ReadWrite.All"];

/// The meetings Graph created, by id. Not persisted: meetings live as long as the sandbox runs.
#[derive(Debug, Default)]
pub struct MeetingStore {
    meetings: HashMap<String, StoredMeeting>,
}

#[derive(Debug, Clone)]
struct StoredMeeting {
    organizer: Uuid,
    /// The onlineMeeting resource, without `@odata.context`.
    resource: serde_json::Value,
}

impl MeetingStore {
    /// Number of meetings that exist.
    pub fn len(&self) -> usize {
        self.meetings.len()
    }

    /// Whether no meeting exists.
    pub fn is_empty(&self) -> bool {
        self.meetings.is_empty()
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct MeetingRequest {
    start_date_time: Option<String>,
    end_date_time: Option<String>,
    subject: Option<String>,
}

/// What a request does to meetings, for the permission it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Operation {
    Create,
    Get,
    Delete,
}

impl Operation {
    fn delegated(self) -> &'static [&'static str] {
        match self {
            Operation::Get => DELEGATED_READ,
            Operation::Create | Operation::Delete => DELEGATED_WRITE,
        }
    }

    fn application(self) -> &'static [&'static str] {
        match self {
            Operation::Get => APPLICATION_READ,
            Operation::Create | Operation::Delete => APPLICATION_WRITE,
        }
    }
}

/// `POST /v1.0/me/onlineMeetings`.
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    body: axum::body::Bytes,
) -> Result<Response, GraphError> {
    caller.require_any(Operation::Create.delegated())?;
    let user = caller.user(&state)?;
    create_for(&state, user, &body)
}

/// `GET /v1.0/me/onlineMeetings/{meetingId}`.
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(meeting_id): Path<String>,
) -> Result<Response, GraphError> {
    caller.require_any(Operation::Get.delegated())?;
    let user = caller.user(&state)?;
    get_for(&state, user, &meeting_id)
}

/// `DELETE /v1.0/me/onlineMeetings/{meetingId}`.
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(meeting_id): Path<String>,
) -> Result<Response, GraphError> {
    caller.require_any(Operation::Delete.delegated())?;
    let user = caller.user(&state)?;
    delete_for(&state, user, &meeting_id)
}

/// `POST /v1.0/users/{userId}/onlineMeetings`.
pub async fn create_for_user(
    State(state): State<AppState>,
    bearer: Bearer,
    Path(user_key): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, GraphError> {
    let user = authorize_for_user(&state, &bearer, &user_key, Operation::Create)?;
    create_for(&state, user, &body)
}

/// `GET /v1.0/users/{userId}/onlineMeetings/{meetingId}`.
pub async fn get_for_user(
    State(state): State<AppState>,
    bearer: Bearer,
    Path((user_key, meeting_id)): Path<(String, String)>,
) -> Result<Response, GraphError> {
    let user = authorize_for_user(&state, &bearer, &user_key, Operation::Get)?;
    get_for(&state, user, &meeting_id)
}

/// `DELETE /v1.0/users/{userId}/onlineMeetings/{meetingId}`.
pub async fn delete_for_user(
    State(state): State<AppState>,
    bearer: Bearer,
    Path((user_key, meeting_id)): Path<(String, String)>,
) -> Result<Response, GraphError> {
    let user = authorize_for_user(&state, &bearer, &user_key, Operation::Delete)?;
    delete_for(&state, user, &meeting_id)
}

/// The organizer of a `/users/{userId}/onlineMeetings` request, if the token may act for them: the
/// permission for `operation`, the user exists, and for app-only tokens an application access policy in
/// effect for the user lists the token's app.
fn authorize_for_user<'a>(
    state: &'a AppState,
    bearer: &Bearer,
    user_key: &str,
    operation: Operation,
) -> Result<&'a User, GraphError> {
    let claims = &bearer.claims;
    let app_only = claims.is_app_only();
    let permitted = if app_only {
        bearer.has_any(operation.application())
    } else {
        bearer.has_any(operation.delegated())
    };
    if !permitted {
        return Err(GraphError::access_denied());
    }
    let tenant = state.tenant();
    let user = tenant
        .user_by_id_or_upn(user_key)
        .ok_or_else(|| GraphError::resource_not_found(user_key))?;
    if !app_only {
        // A delegated token acts for its own user only.
        return if user.id == claims.oid {
            Ok(user)
        } else {
            Err(GraphError::access_denied())
        };
    }
    if !tenant.teams.allows_app_for(&claims.appid, user) {
        return Err(match operation {
            Operation::Create => GraphError::new(
                StatusCode::FORBIDDEN,
                "Unauthorized",
                format!(
                    "App {} is not authorized to Create meeting on behalf of user {}",
                    claims.appid, user.id
                ),
            ),
            Operation::Get | Operation::Delete => GraphError::new(
                StatusCode::FORBIDDEN,
                "General",
                "No application access policy found for this app.",
            ),
        });
    }
    Ok(user)
}

fn context(state: &AppState, user: &User) -> String {
    format!(
        "{}v1.0/$metadata#users('{}')/onlineMeetings/$entity",
        state.base_url(),
        user.id
    )
}

fn with_context(state: &AppState, user: &User, resource: &serde_json::Value) -> serde_json::Value {
    let mut body = serde_json::json!({ "@odata.context": context(state, user) });
    if let (Some(target), Some(fields)) = (body.as_object_mut(), resource.as_object()) {
        target.extend(
            fields
                .iter()
                .map(|(key, value)| (key.clone(), value.clone())),
        );
    }
    body
}

/// Creates a meeting organised by `user` (a Teams-licensed user) from the request `body`.
fn create_for(state: &AppState, user: &User, body: &[u8]) -> Result<Response, GraphError> {
    if !user.teams_enabled {
        return Err(GraphError::new(
            StatusCode::FORBIDDEN,
            "Forbidden",
            "The user does not have a Microsoft Teams license or is not enabled for Teams.",
        ));
    }
    let request: MeetingRequest = serde_json::from_slice(body).map_err(|error| {
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
    let (meeting_id, thread_id) = new_meeting_id(user.id);
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
    let resource = serde_json::json!({
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
    state.online_meetings().meetings.insert(
        meeting_id,
        StoredMeeting {
            organizer: user.id,
            resource: resource.clone(),
        },
    );
    Ok((
        StatusCode::CREATED,
        Json(with_context(state, user, &resource)),
    )
        .into_response())
}

/// A meeting id as Graph forms them: base64 of `1*{organizer oid}*0**{chat thread id}`, the thread id being
/// `19:meeting_{base64 of a GUID}@thread.v2` (the ids in Graph's examples decode that way). Ids with `/` or
/// `+` are drawn again, so that every id is one plain path segment.
fn new_meeting_id(organizer: Uuid) -> (String, String) {
    loop {
        let thread_id = format!(
            "19:meeting_{}@thread.v2",
            STANDARD.encode(Uuid::new_v4().to_string())
        );
        let id = STANDARD.encode(format!("1*{organizer}*0**{thread_id}"));
        if !id.contains(['/', '+']) {
            return (id, thread_id);
        }
    }
}

/// The organizer object id inside a meeting id, `None` if the id does not decode.
fn organizer_of(meeting_id: &str) -> Option<Uuid> {
    let decoded = STANDARD.decode(meeting_id.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let mut parts = text.splitn(5, '*');
    if parts.next()? != "1" {
        return None;
    }
    parts.next()?.parse().ok()
}

/// The stored meeting `meeting_id` of `user`, or Graph's 404.
fn find(state: &AppState, user: &User, meeting_id: &str) -> Result<StoredMeeting, GraphError> {
    let not_found = |message: String| GraphError::new(StatusCode::NOT_FOUND, "NotFound", message);
    let organizer =
        organizer_of(meeting_id).ok_or_else(|| not_found("Meeting Id is corrupted.".to_owned()))?;
    if organizer != user.id {
        return Err(not_found(format!(
            "Organizer Id mismatch User Id: {}.",
            user.id
        )));
    }
    state
        .online_meetings()
        .meetings
        .get(meeting_id.trim())
        .filter(|meeting| meeting.organizer == user.id)
        .cloned()
        .ok_or_else(|| not_found("The online meeting was not found.".to_owned()))
}

fn get_for(state: &AppState, user: &User, meeting_id: &str) -> Result<Response, GraphError> {
    let meeting = find(state, user, meeting_id)?;
    Ok(Json(with_context(state, user, &meeting.resource)).into_response())
}

fn delete_for(state: &AppState, user: &User, meeting_id: &str) -> Result<Response, GraphError> {
    find(state, user, meeting_id)?;
    state.online_meetings().meetings.remove(meeting_id.trim());
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meeting_ids_decode_to_their_organizer_and_are_one_path_segment() {
        let organizer = Uuid::new_v4();
        for _ in 0..50 {
            let (id, thread) = new_meeting_id(organizer);
            assert!(id.starts_with("MS"), "{id}");
            assert!(!id.contains(['/', '+']), "{id}");
            assert_eq!(organizer_of(&id), Some(organizer));
            assert!(thread.starts_with("19:meeting_") && thread.ends_with("@thread.v2"));
        }
        assert_eq!(organizer_of("not base64!"), None);
    }
}
