//! `POST /me/calendar/getSchedule` (Graph "calendar: getSchedule", "Get free/busy schedule").
//!
//! Limits: at most 20 schedules, a window shorter than 62 days, `availabilityViewInterval` 5..=1440 minutes.
//! Subject, location and `isPrivate` appear only where the target's sharing allows it (facts §2.3). The
//! demo tenant shares nothing beyond free/busy, so only a caller reading their own schedule with a
//! calendar-read permission sees them, and then only for events that are not private or confidential.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;

use crate::graph::calendars::{date_time_time_zone, parse_date_time};
use crate::graph::caller::Caller;
use crate::graph::error::GraphError;
use crate::graph::preference::{confirm_time_zone, is_utc};
use crate::state::AppState;
use crate::tenant::{Calendar, ShowAs};

/// Permissions accepted by getSchedule (current permission table: Calendars.ReadBasic is least privileged).
const SCHEDULE_SCOPES: &[&str] = &[
    "Calendars.ReadBasic",
    "Calendars.Read",
    "Calendars.ReadWrite",
];
const MAX_SCHEDULES: usize = 20;
const MAX_WINDOW_DAYS: i64 = 62;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScheduleRequest {
    #[serde(default)]
    schedules: Vec<String>,
    start_time: Option<DateTimeTimeZone>,
    end_time: Option<DateTimeTimeZone>,
    availability_view_interval: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DateTimeTimeZone {
    date_time: String,
    time_zone: Option<String>,
}

impl DateTimeTimeZone {
    fn to_utc(&self) -> Result<DateTime<Utc>, GraphError> {
        let zone = self.time_zone.as_deref().unwrap_or("UTC");
        if !is_utc(zone) {
            return Err(GraphError::bad_request(
                "ErrorTimeZoneNotSupported",
                format!("The sandbox evaluates schedules in UTC only; time zone '{zone}' is not emulated."),
            ));
        }
        parse_date_time(&self.date_time).ok_or_else(|| {
            GraphError::bad_request(
                "ErrorInvalidParameter",
                format!(
                    "The value '{}' is not a valid date and time.",
                    self.date_time
                ),
            )
        })
    }
}

/// `POST /v1.0/me/calendar/getSchedule`.
pub async fn get_schedule(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, GraphError> {
    // `[graph] get_schedule_requires = "Calendars.Read"`: the concept page's reading, under which a
    // Calendars.ReadBasic token is refused (facts §0: Microsoft's pages disagree).
    let accepted: &[&str] = match state.tenant().graph.get_schedule_requires.as_deref() {
        Some(required) if required.eq_ignore_ascii_case("Calendars.Read") => &SCHEDULE_SCOPES[1..],
        _ => SCHEDULE_SCOPES,
    };
    caller.require_any(accepted)?;
    let request: ScheduleRequest = serde_json::from_slice(&body).map_err(|error| {
        GraphError::bad_request(
            "BadRequest",
            format!("Unable to read JSON request payload: {error}"),
        )
    })?;
    if request.schedules.is_empty() {
        return Err(GraphError::bad_request(
            "ErrorInvalidParameter",
            "At least one schedule is required.",
        ));
    }
    if request.schedules.len() > MAX_SCHEDULES {
        return Err(GraphError::bad_request(
            "ErrorInvalidParameter",
            format!(
                "The number of schedules requested ({}) exceeds the maximum of {MAX_SCHEDULES}.",
                request.schedules.len()
            ),
        ));
    }
    let missing = |name: &str| {
        GraphError::bad_request(
            "ErrorInvalidParameter",
            format!("The parameter '{name}' is required."),
        )
    };
    let start = request
        .start_time
        .as_ref()
        .ok_or_else(|| missing("startTime"))?
        .to_utc()?;
    let end = request
        .end_time
        .as_ref()
        .ok_or_else(|| missing("endTime"))?
        .to_utc()?;
    if end <= start {
        return Err(GraphError::bad_request(
            "ErrorInvalidParameter",
            "The end time must be after the start time.",
        ));
    }
    if end - start >= Duration::days(MAX_WINDOW_DAYS) {
        return Err(GraphError::bad_request(
            "ErrorInvalidParameter",
            format!("The requested time window is too large: it must be less than {MAX_WINDOW_DAYS} days."),
        ));
    }
    let interval = request.availability_view_interval.unwrap_or(30);
    if !(5..=1440).contains(&interval) {
        return Err(GraphError::bad_request(
            "ErrorInvalidParameter",
            "The availabilityViewInterval must be between 5 and 1440 minutes.",
        ));
    }
    let tenant = state.tenant();
    let schedules: Vec<serde_json::Value> = request
        .schedules
        .iter()
        .map(|address| match tenant.user_by_email(address).and_then(|user| Some((user, user.default_calendar()?))) {
            Some((user, calendar)) => {
                // SCHEDULE_SCOPES are all calendar-read permissions, checked above.
                let details = if user.id == caller.claims.oid { Details::Shown } else { Details::Hidden };
                schedule_json(address, calendar, start, end, Duration::minutes(interval), details)
            }
            None => serde_json::json!({
                "scheduleId": address,
                "availabilityView": "",
                "scheduleItems": [],
                "error": {
                    "message": format!("The specified recipient {address} could not be resolved to a mailbox."),
                    "responseCode": "ErrorMailRecipientNotFound",
                },
            }),
        })
        .collect();
    let mut response = (
        StatusCode::OK,
        Json(serde_json::json!({
            "@odata.context": format!("{}v1.0/$metadata#Collection(microsoft.graph.scheduleInformation)", state.base_url()),
            "value": schedules,
        })),
    )
        .into_response();
    confirm_time_zone(&headers, &mut response);
    Ok(response)
}

/// Whether a schedule may show what its events are about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Details {
    /// Subject, location and `isPrivate` of events that are neither private nor confidential.
    Shown,
    /// Status and times only.
    Hidden,
}

/// Status priority when items overlap one slot: OOF over busy over tentative over working elsewhere.
fn priority(status: ShowAs) -> u8 {
    match status {
        ShowAs::Oof => 4,
        ShowAs::Busy => 3,
        ShowAs::Tentative => 2,
        ShowAs::WorkingElsewhere => 1,
        ShowAs::Free | ShowAs::Unknown => 0,
    }
}

fn schedule_json(
    address: &str,
    calendar: &Calendar,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    interval: Duration,
    details: Details,
) -> serde_json::Value {
    let occurrences = calendar.view(start, end);
    let mut availability = String::new();
    let mut slot = start;
    while slot < end {
        let slot_end = slot + interval;
        let status = occurrences
            .iter()
            .filter(|occurrence| occurrence.start < slot_end && occurrence.end > slot)
            .map(|occurrence| occurrence.event.show_as)
            .max_by_key(|status| priority(*status))
            .unwrap_or(ShowAs::Free);
        availability.push(status.availability_digit());
        slot = slot_end;
    }
    let items: Vec<serde_json::Value> = occurrences
        .iter()
        .filter(|occurrence| occurrence.event.show_as != ShowAs::Free)
        .map(|occurrence| {
            let event = occurrence.event;
            let mut item = serde_json::json!({
                "status": event.show_as.as_graph(),
                "start": date_time_time_zone(occurrence.start),
                "end": date_time_time_zone(occurrence.end),
            });
            if details == Details::Shown && !event.sensitivity.hides_details() {
                item["isPrivate"] = false.into();
                item["subject"] = event.subject.clone().into();
                item["location"] = event.location.clone().into();
            }
            item
        })
        .collect();
    serde_json::json!({
        "scheduleId": address,
        "availabilityView": availability,
        "scheduleItems": items,
        "workingHours": {
            "daysOfWeek": ["monday", "tuesday", "wednesday", "thursday", "friday"],
            "startTime": "08:00:00.0000000",
            "endTime": "17:00:00.0000000",
            "timeZone": { "name": "UTC" },
        },
    })
}
