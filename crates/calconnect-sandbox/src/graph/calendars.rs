//! `GET /me/calendars` and calendarView (Graph "List calendars", "List calendarView", "Paging").
//!
//! Pages hold `$top` items (default 10) and link to the next one with a full absolute `@odata.nextLink`.
//! calendarView honours `$select` ("Use query parameters": `$select` returns only the named properties);
//! Outlook adds the event's `id` and refuses a name the event type does not have.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, NaiveDateTime, Utc};
use url::Url;

use crate::graph::caller::{Bearer, Caller};
use crate::graph::error::GraphError;
use crate::graph::preference::confirm_time_zone;
use crate::graph::query::{parameter, selected_properties};
use crate::state::AppState;
use crate::tenant::exchange::{APPLICATION_CALENDARS_READ, APPLICATION_CALENDARS_READ_WRITE};
use crate::tenant::{Calendar, Occurrence, User};

/// Permissions that can list calendars and read calendarView (least privileged first).
pub const CALENDAR_READ_SCOPES: &[&str] = &[
    "Calendars.ReadBasic",
    "Calendars.Read",
    "Calendars.ReadWrite",
    "Calendars.Read.Shared",
    "Calendars.ReadWrite.Shared",
];

const DEFAULT_PAGE_SIZE: usize = 10;
const MAX_PAGE_SIZE: usize = 1000;

/// `$top` and `$skip`, validated.
fn page_window(query: &HashMap<String, String>) -> Result<(usize, usize), GraphError> {
    let number = |name: &str, default: usize| -> Result<usize, GraphError> {
        parameter(query, name).map_or(Ok(default), |value| {
            value.parse::<usize>().map_err(|_| {
                GraphError::bad_request(
                    "BadRequest",
                    format!("Invalid value '{value}' for query parameter '{name}'."),
                )
            })
        })
    };
    let top = number("$top", DEFAULT_PAGE_SIZE)?.clamp(1, MAX_PAGE_SIZE);
    Ok((top, number("$skip", 0)?))
}

/// The link to the page after `skip + top`, keeping the request's other parameters.
fn next_link(
    state: &AppState,
    path: &str,
    query: &HashMap<String, String>,
    top: usize,
    next_skip: usize,
) -> String {
    let mut url: Url = state.url(path);
    {
        let mut pairs = url.query_pairs_mut();
        let mut kept: Vec<(&String, &String)> = query
            .iter()
            .filter(|(key, _)| {
                !key.eq_ignore_ascii_case("$top") && !key.eq_ignore_ascii_case("$skip")
            })
            .collect();
        kept.sort();
        for (key, value) in kept {
            pairs.append_pair(key, value);
        }
        pairs.append_pair("$top", &top.to_string());
        pairs.append_pair("$skip", &next_skip.to_string());
    }
    url.to_string()
}

fn calendar_json(user: &User, calendar: &Calendar) -> serde_json::Value {
    let providers: Vec<&str> = if user.teams_enabled {
        vec!["teamsForBusiness"]
    } else {
        Vec::new()
    };
    serde_json::json!({
        "id": calendar.id,
        "name": calendar.name,
        "color": calendar.color,
        "hexColor": calendar.hex_color,
        "isDefaultCalendar": calendar.is_default,
        "changeKey": format!("{}-ck", calendar.id),
        "canShare": calendar.can_share,
        "canViewPrivateItems": true,
        "canEdit": calendar.can_edit,
        "allowedOnlineMeetingProviders": providers,
        "defaultOnlineMeetingProvider": if user.teams_enabled { "teamsForBusiness" } else { "unknown" },
        // Graph "calendar resource": only invitations sent from the primary calendar track responses.
        "isTallyingResponses": calendar.is_default,
        "isRemovable": !calendar.is_default,
        "owner": { "name": user.display_name, "address": user.email() },
    })
}

/// `GET /v1.0/me/calendars`.
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, GraphError> {
    caller.require_any(CALENDAR_READ_SCOPES)?;
    let user = caller.user(&state)?;
    render_calendars(&state, user, "v1.0/me/calendars", &query)
}

/// `GET /v1.0/users/{id | userPrincipalName}/calendars`: app-only within the app's mailbox access
/// ([`mailbox_access`]), or delegated for oneself.
pub async fn list_for_user(
    State(state): State<AppState>,
    bearer: Bearer,
    Path(key): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, GraphError> {
    let user = mailbox_access(&state, &bearer, &key)?;
    let path = format!("v1.0/users/{key}/calendars");
    render_calendars(&state, user, &path, &query)
}

/// `GET /v1.0/users/{id | userPrincipalName}/calendarView` and `/calendar/calendarView`.
pub async fn default_view_for_user(
    State(state): State<AppState>,
    bearer: Bearer,
    Path(key): Path<String>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, GraphError> {
    let user = mailbox_access(&state, &bearer, &key)?;
    let calendar = user.default_calendar().ok_or_else(|| {
        GraphError::new(
            StatusCode::NOT_FOUND,
            "ErrorItemNotFound",
            "The specified object was not found in the store.",
        )
    })?;
    let path = format!("v1.0/users/{key}/calendarView");
    render_view(&state, user, calendar, &path, &headers, &query)
}

/// Application permissions that read every mailbox's calendars when granted in Entra ("List calendars",
/// "List calendarView": application Calendars.ReadBasic, Calendars.Read, Calendars.ReadWrite).
const APP_CALENDAR_READ_ROLES: &[&str] = &[
    "Calendars.ReadBasic",
    "Calendars.Read",
    "Calendars.ReadWrite",
];

/// Who may read `key`'s calendars.
///
/// - Delegated: the signed-in user's own mailbox with a calendar scope; another user's calendars need
///   sharing this sandbox does not model (403).
/// - App-only: Exchange Online adds up the two grants (learn.microsoft.com/exchange/permissions-exo/application-rbac:
///   RBAC for Applications grants "are independent of the unscoped grants in Microsoft Entra ID", and the
///   two are additive, so an unscoped Entra grant gives every mailbox; codewithlaszlo.com/en/blog/exchange-online-rbac-for-applications
///   "Microsoft is explicit that permissions are additive"): a calendar app role in the token's `roles`
///   covers the whole organisation; otherwise an `Application Calendars.Read` or `Application
///   Calendars.ReadWrite` role assignment whose resource scope holds the mailbox
///   ([`crate::tenant::Tenant::app_role_assignment_covers`]). Neither: 403 `ErrorAccessDenied`,
///   "Access is denied. Check credentials and try again." (ASSUMPTION for RBAC for Applications: no
///   Microsoft page shows its body; it is Exchange's generic refusal, facts §2.5. The legacy application
///   access policies answer "Access to OData is disabled." instead, learn.microsoft.com/graph/auth-limit-mailbox-access,
///   "Handling API errors"; the sandbox does not model those policies.)
/// - An unknown user: 404 `ErrorInvalidUser` (observed Exchange answer, not in a Microsoft page).
pub fn mailbox_access<'a>(
    state: &'a AppState,
    bearer: &Bearer,
    key: &str,
) -> Result<&'a User, GraphError> {
    let tenant = state.tenant();
    if !bearer.claims.is_app_only() {
        let own = bearer.signed_in_user(state).filter(|user| {
            user.id.to_string() == key.trim()
                || user.user_principal_name.eq_ignore_ascii_case(key.trim())
        });
        return match own {
            Some(user) if bearer.has_any(CALENDAR_READ_SCOPES) => Ok(user),
            _ => Err(GraphError::access_denied()),
        };
    }
    let user = tenant.user_by_id_or_upn(key).ok_or_else(|| {
        GraphError::new(
            StatusCode::NOT_FOUND,
            "ErrorInvalidUser",
            format!("The requested user '{key}' is invalid."),
        )
    })?;
    let entra = bearer.has_any(APP_CALENDAR_READ_ROLES);
    let rbac = tenant.app_role_assignment_covers(
        &bearer.claims.appid,
        &[APPLICATION_CALENDARS_READ, APPLICATION_CALENDARS_READ_WRITE],
        user.email(),
    );
    if entra || rbac {
        Ok(user)
    } else {
        Err(GraphError::access_denied())
    }
}

fn render_calendars(
    state: &AppState,
    user: &User,
    path: &str,
    query: &HashMap<String, String>,
) -> Result<Response, GraphError> {
    let (top, skip) = page_window(query)?;
    let page: Vec<serde_json::Value> = user
        .calendars
        .iter()
        .skip(skip)
        .take(top)
        .map(|calendar| calendar_json(user, calendar))
        .collect();
    let mut body = serde_json::json!({
        "@odata.context": format!("{}v1.0/$metadata#users('{}')/calendars", state.base_url(), user.id),
        "value": page,
    });
    if skip + top < user.calendars.len() {
        body["@odata.nextLink"] = next_link(state, path, query, top, skip + top).into();
    }
    Ok(Json(body).into_response())
}

/// `GET /v1.0/me/calendarView` and `/me/calendar/calendarView`: the default calendar.
pub async fn default_view(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, GraphError> {
    caller.require_any(CALENDAR_READ_SCOPES)?;
    let user = caller.user(&state)?;
    let calendar = user.default_calendar().ok_or_else(|| {
        GraphError::new(
            StatusCode::NOT_FOUND,
            "ErrorItemNotFound",
            "The specified object was not found in the store.",
        )
    })?;
    let path = format!("v1.0{}", "/me/calendarView");
    render_view(&state, user, calendar, &path, &headers, &query)
}

/// `GET /v1.0/me/calendars/{id}/calendarView`.
pub async fn view(
    State(state): State<AppState>,
    caller: Caller,
    Path(calendar_id): Path<String>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, GraphError> {
    caller.require_any(CALENDAR_READ_SCOPES)?;
    let user = caller.user(&state)?;
    let calendar = user
        .calendars
        .iter()
        .find(|calendar| calendar.id == calendar_id)
        .ok_or_else(|| {
            GraphError::new(
                StatusCode::NOT_FOUND,
                "ErrorItemNotFound",
                "The specified object was not found in the store.",
            )
        })?;
    let path = format!("v1.0/me/calendars/{calendar_id}/calendarView");
    render_view(&state, user, calendar, &path, &headers, &query)
}

/// Parses an ISO 8601 date-time; no offset means UTC (Graph "List calendarView").
pub fn parse_date_time(value: &str) -> Option<DateTime<Utc>> {
    if let Ok(parsed) = DateTime::parse_from_rfc3339(value) {
        return Some(parsed.with_timezone(&Utc));
    }
    [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
    ]
    .iter()
    .find_map(|format| NaiveDateTime::parse_from_str(value, format).ok())
    .map(|naive| naive.and_utc())
}

/// Graph's `dateTimeTimeZone` in UTC: `{"dateTime":"2024-05-06T08:30:00.0000000","timeZone":"UTC"}`.
pub fn date_time_time_zone(value: DateTime<Utc>) -> serde_json::Value {
    serde_json::json!({
        "dateTime": seven_digit_fraction(value),
        "timeZone": "UTC",
    })
}

/// `2024-05-06T08:30:00.0000000`: Graph's seven fractional digits (chrono has no `%.7f`).
pub fn seven_digit_fraction(value: DateTime<Utc>) -> String {
    format!(
        "{}.{:07}",
        value.format("%Y-%m-%dT%H:%M:%S"),
        value.timestamp_subsec_nanos() / 100
    )
}

fn render_view(
    state: &AppState,
    user: &User,
    calendar: &Calendar,
    path: &str,
    headers: &HeaderMap,
    query: &HashMap<String, String>,
) -> Result<Response, GraphError> {
    let missing_window = || {
        GraphError::bad_request(
            "ErrorInvalidParameter",
            "This request requires a time window specified by the query string parameters StartDateTime and EndDateTime.",
        )
    };
    let start = parameter(query, "startDateTime").ok_or_else(missing_window)?;
    let end = parameter(query, "endDateTime").ok_or_else(missing_window)?;
    let (Some(start), Some(end)) = (parse_date_time(start), parse_date_time(end)) else {
        return Err(GraphError::bad_request(
            "ErrorInvalidParameter",
            "The value of the parameter 'StartDateTime' or 'EndDateTime' is invalid.",
        ));
    };
    let (top, skip) = page_window(query)?;
    let select = selected_event_properties(query)?;
    let occurrences = calendar.view(start, end);
    let page: Vec<serde_json::Value> = occurrences
        .iter()
        .skip(skip)
        .take(top)
        .map(|occurrence| {
            let event = event_json(user, occurrence);
            match &select {
                Some(properties) => only(event, properties),
                None => event,
            }
        })
        .collect();
    let context = match &select {
        Some(properties) => format!(
            "{}v1.0/$metadata#users('{}')/calendarView({})",
            state.base_url(),
            user.id,
            properties.join(",")
        ),
        None => format!(
            "{}v1.0/$metadata#users('{}')/calendarView",
            state.base_url(),
            user.id
        ),
    };
    let mut body = serde_json::json!({
        "@odata.context": context,
        "value": page,
    });
    if skip + top < occurrences.len() {
        body["@odata.nextLink"] = next_link(state, path, query, top, skip + top).into();
    }
    let mut response = Json(body).into_response();
    confirm_time_zone(headers, &mut response);
    Ok(response)
}

/// The properties of Graph v1.0's `event` resource (learn.microsoft.com/graph/api/resources/event), the
/// names `$select` may use.
const EVENT_PROPERTIES: &[&str] = &[
    "allowNewTimeProposals",
    "attendees",
    "body",
    "bodyPreview",
    "categories",
    "changeKey",
    "createdDateTime",
    "end",
    "hasAttachments",
    "hideAttendees",
    "iCalUId",
    "id",
    "importance",
    "isAllDay",
    "isCancelled",
    "isDraft",
    "isOnlineMeeting",
    "isOrganizer",
    "isReminderOn",
    "lastModifiedDateTime",
    "location",
    "locations",
    "onlineMeeting",
    "onlineMeetingProvider",
    "onlineMeetingUrl",
    "organizer",
    "originalEndTimeZone",
    "originalStart",
    "originalStartTimeZone",
    "recurrence",
    "reminderMinutesBeforeStart",
    "responseRequested",
    "responseStatus",
    "sensitivity",
    "seriesMasterId",
    "showAs",
    "start",
    "subject",
    "transactionId",
    "type",
    "webLink",
];

/// `$select` of calendarView in Graph's spelling, or `None` for every property. A name the event type
/// lacks is refused as Outlook refuses it: 400 `RequestBroker--ParseUri`, "Could not find a property
/// named '…' on type 'Microsoft.OutlookServices.Event'." (observed answers,
/// microsoftgraph/microsoft-graph-docs-contrib#8020 for messages and #6427 for the code's spelling).
fn selected_event_properties(
    query: &HashMap<String, String>,
) -> Result<Option<Vec<&'static str>>, GraphError> {
    selected_properties(query, EVENT_PROPERTIES, |name| {
        GraphError::bad_request(
            "RequestBroker--ParseUri",
            format!("Could not find a property named '{name}' on type 'Microsoft.OutlookServices.Event'."),
        )
    })
}

/// `event` reduced to `properties` and its `id`, which Outlook returns with every `$select`. A known
/// property the sandbox does not model is `null`.
fn only(mut event: serde_json::Value, properties: &[&str]) -> serde_json::Value {
    let mut kept = serde_json::Map::new();
    for name in std::iter::once("id").chain(properties.iter().copied()) {
        let value = event
            .get_mut(name)
            .map_or(serde_json::Value::Null, serde_json::Value::take);
        kept.entry(name.to_owned()).or_insert(value);
    }
    serde_json::Value::Object(kept)
}

fn event_json(user: &User, occurrence: &Occurrence<'_>) -> serde_json::Value {
    let event = occurrence.event;
    let organizer = event.organizer.as_deref().unwrap_or(user.email());
    let mut json = serde_json::json!({
        "id": occurrence.id,
        "subject": event.subject,
        "bodyPreview": "",
        "isAllDay": event.is_all_day,
        "isCancelled": false,
        "isOrganizer": organizer.eq_ignore_ascii_case(user.email()),
        "showAs": event.show_as.as_graph(),
        "sensitivity": event.sensitivity.as_graph(),
        "type": if occurrence.is_occurrence { "occurrence" } else { "singleInstance" },
        "start": date_time_time_zone(occurrence.start),
        "end": date_time_time_zone(occurrence.end),
        "location": { "displayName": event.location },
        "organizer": { "emailAddress": { "address": organizer, "name": organizer } },
    });
    if occurrence.is_occurrence {
        json["seriesMasterId"] = event.id.clone().into();
    }
    json
}
