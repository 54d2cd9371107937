//! Free/busy through `POST /me/calendar/getSchedule` (learn.microsoft.com/graph/api/calendar-getschedule).
//!
//! Graph refuses windows of 62 days or more, so longer ranges are cut into windows of at most
//! [`MAX_WINDOW_DAYS`] days, fetched with at most [`MAX_WINDOWS_IN_FLIGHT`] requests in flight (Outlook allows
//! 4 concurrent requests per app and mailbox, learn.microsoft.com/graph/throttling), then merged.
//!
//! [`GraphClient::own_free_busy`] reads the signed-in user's own schedule and, when getSchedule is refused
//! with 403, falls back to calendarView (`crate::calendar_view`), saying which source answered.

use chrono::{DateTime, TimeDelta, Utc};
use futures::{StreamExt, TryStreamExt};
use reqwest::Method;

use crate::client::{Body, GraphClient};
use crate::error::{Error, Result};
use crate::model::{
    BusyBlock, BusyStatus, DateTimeTimeZone, FreeBusySource, OwnFreeBusy, WireScheduleInformation,
};
use crate::token::TokenProvider;
use calconnect_identity::text::strip_control_characters;

/// Longest window per request: Graph requires less than 62 days.
pub const MAX_WINDOW_DAYS: i64 = 61;

/// Most getSchedule requests in flight for one range.
pub const MAX_WINDOWS_IN_FLIGHT: usize = 4;

/// Granularity of Graph's `availabilityView` string; we read `scheduleItems`, so it only sizes that string.
const AVAILABILITY_VIEW_INTERVAL_MINUTES: u32 = 30;

#[derive(Debug, serde::Deserialize)]
pub(crate) struct ScheduleResponse {
    #[serde(default)]
    pub(crate) value: Vec<WireScheduleInformation>,
}

impl GraphClient {
    /// The busy blocks of `schedule_email` between `start` and `end`, sorted by start.
    ///
    /// Only statuses other than `free` are returned (tentative, busy, oof, workingElsewhere, and `unknown`,
    /// which a careful client treats as busy). Nothing but status, start and end is kept: subject, location and
    /// privacy flags are dropped while parsing. A schedule-level `error` (unknown mailbox, no rights) is
    /// [`Error::Schedule`]. An empty or inverted range gives no blocks.
    pub async fn free_busy(
        &self,
        tokens: &dyn TokenProvider,
        schedule_email: &str,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<Vec<BusyBlock>> {
        let windows = windows(start, end);
        let per_window: Vec<Vec<BusyBlock>> = futures::stream::iter(windows.iter().copied())
            .map(|(window_start, window_end)| {
                self.schedule_window(tokens, schedule_email, window_start, window_end)
            })
            .buffer_unordered(MAX_WINDOWS_IN_FLIGHT)
            .try_collect()
            .await?;
        let boundaries: Vec<DateTime<Utc>> = windows
            .iter()
            .skip(1)
            .map(|(window_start, _)| *window_start)
            .collect();
        Ok(merge(
            per_window.into_iter().flatten().collect(),
            &boundaries,
        ))
    }

    /// The signed-in user's own busy blocks: getSchedule for `own_email`, or, when Graph refuses getSchedule
    /// with 403 (a tenant that reads it as needing Calendars.Read, facts §0), the default calendar's
    /// calendarView, which Calendars.ReadBasic may read. Both keep only status, start and end. Any other
    /// failure is returned as it is; a refused calendarView returns calendarView's error.
    pub async fn own_free_busy(
        &self,
        tokens: &dyn TokenProvider,
        own_email: &str,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<OwnFreeBusy> {
        match self.free_busy(tokens, own_email, start, end).await {
            Ok(blocks) => Ok(OwnFreeBusy {
                blocks,
                source: FreeBusySource::GetSchedule,
            }),
            Err(Error::AccessDenied { code, message }) => {
                tracing::info!(%code, %message, "getSchedule refused; reading busy times from calendarView");
                let blocks = self.calendar_view_busy(tokens, start, end).await?;
                Ok(OwnFreeBusy {
                    blocks,
                    source: FreeBusySource::CalendarView,
                })
            }
            Err(other) => Err(other),
        }
    }

    async fn schedule_window(
        &self,
        tokens: &dyn TokenProvider,
        schedule_email: &str,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<Vec<BusyBlock>> {
        let url = self.endpoint("me/calendar/getSchedule");
        let body = serde_json::json!({
            "schedules": [schedule_email],
            "startTime": DateTimeTimeZone::utc(start),
            "endTime": DateTimeTimeZone::utc(end),
            "availabilityViewInterval": AVAILABILITY_VIEW_INTERVAL_MINUTES,
        });
        let response: ScheduleResponse = self
            .request(
                tokens,
                Method::POST,
                url.clone(),
                Body::Json(&body),
                &[("Prefer", r#"outlook.timezone="UTC""#)],
            )
            .await?;
        let information = response
            .value
            .into_iter()
            .find(|information| {
                information
                    .schedule_id
                    .as_deref()
                    .is_none_or(|id| id.eq_ignore_ascii_case(schedule_email))
            })
            .ok_or_else(|| Error::Decode {
                url: url.to_string(),
                body_snippet: format!("no scheduleInformation for {schedule_email}"),
            })?;
        if let Some(error) = information.error {
            return Err(Error::Schedule {
                schedule: schedule_email.to_owned(),
                response_code: strip_control_characters(&error.response_code.unwrap_or_default()),
                message: strip_control_characters(&error.message.unwrap_or_default()),
            });
        }
        information
            .schedule_items
            .into_iter()
            .filter_map(|item| {
                let status = match item.status.as_deref() {
                    Some(status) => BusyStatus::from_graph(status)?,
                    None => BusyStatus::Unknown,
                };
                Some(match (item.start.to_utc(), item.end.to_utc()) {
                    (Some(start), Some(end)) => Ok(BusyBlock { start, end, status }),
                    _ => Err(Error::Decode {
                        url: url.to_string(),
                        body_snippet: format!(
                            "scheduleItem times {:?} / {:?} are not UTC date-times",
                            item.start, item.end
                        ),
                    }),
                })
            })
            .collect()
    }
}

/// Most schedules in one getSchedule request (learn.microsoft.com/graph/api/calendar-getschedule: "up to 20").
pub const MAX_SCHEDULES_PER_REQUEST: usize = 20;

/// One schedule of a [`GraphClient::schedules`] answer: its busy blocks, or Graph's reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleOutcome {
    /// The address asked for.
    pub schedule: String,
    /// Busy blocks (status, start, end only), or `freeBusyError.responseCode: message`.
    pub blocks: std::result::Result<Vec<BusyBlock>, String>,
}

impl GraphClient {
    /// The busy blocks of up to [`MAX_SCHEDULES_PER_REQUEST`] addresses in one request over a window under
    /// [`MAX_WINDOW_DAYS`] days. A schedule-level error is that schedule's outcome, not the call's.
    pub async fn schedules(
        &self,
        tokens: &dyn TokenProvider,
        addresses: &[String],
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<Vec<ScheduleOutcome>> {
        let addresses = &addresses[..addresses.len().min(MAX_SCHEDULES_PER_REQUEST)];
        let end = end.min(start + TimeDelta::days(MAX_WINDOW_DAYS));
        let url = self.endpoint("me/calendar/getSchedule");
        let body = serde_json::json!({
            "schedules": addresses,
            "startTime": DateTimeTimeZone::utc(start),
            "endTime": DateTimeTimeZone::utc(end),
            "availabilityViewInterval": AVAILABILITY_VIEW_INTERVAL_MINUTES,
        });
        let response: ScheduleResponse = self
            .request(
                tokens,
                Method::POST,
                url,
                Body::Json(&body),
                &[("Prefer", r#"outlook.timezone="UTC""#)],
            )
            .await?;
        Ok(addresses
            .iter()
            .map(|address| {
                let information = response.value.iter().find(|information| {
                    information
                        .schedule_id
                        .as_deref()
                        .is_some_and(|id| id.eq_ignore_ascii_case(address))
                });
                let blocks = match information {
                    None => Err("no scheduleInformation in the answer".to_owned()),
                    Some(information) => match &information.error {
                        Some(error) => Err(strip_control_characters(&format!(
                            "{}: {}",
                            error.response_code.as_deref().unwrap_or("error"),
                            error.message.as_deref().unwrap_or_default()
                        ))),
                        // A time that is not UTC fails the schedule (as `free_busy` does) rather than
                        // dropping a busy block, which would show the person as free.
                        None => information
                            .schedule_items
                            .iter()
                            .filter_map(|item| {
                                let status = match item.status.as_deref() {
                                    Some(status) => BusyStatus::from_graph(status)?,
                                    None => BusyStatus::Unknown,
                                };
                                Some(match (item.start.to_utc(), item.end.to_utc()) {
                                    (Some(start), Some(end)) => {
                                        Ok(BusyBlock { start, end, status })
                                    }
                                    _ => {
                                        Err("a scheduleItem time is not a UTC date-time".to_owned())
                                    }
                                })
                            })
                            .collect(),
                    },
                };
                ScheduleOutcome {
                    schedule: address.clone(),
                    blocks,
                }
            })
            .collect())
    }
}

/// Cuts `[start, end)` into consecutive windows of at most [`MAX_WINDOW_DAYS`] days.
pub(crate) fn windows(
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    let step = TimeDelta::days(MAX_WINDOW_DAYS);
    let mut windows = Vec::new();
    let mut window_start = start;
    while window_start < end {
        let window_end = (window_start + step).min(end);
        windows.push((window_start, window_end));
        window_start = window_end;
    }
    windows
}

/// Sorts blocks and removes what the window cut introduced: an item spanning a boundary comes back from
/// both windows (identical, or clipped into two touching halves), so identical blocks are dropped and
/// same-status blocks that meet or overlap at a boundary are joined. Back-to-back meetings away from a
/// boundary stay separate.
pub(crate) fn merge(mut blocks: Vec<BusyBlock>, boundaries: &[DateTime<Utc>]) -> Vec<BusyBlock> {
    blocks.sort();
    blocks.dedup();
    let mut merged: Vec<BusyBlock> = Vec::with_capacity(blocks.len());
    for block in blocks {
        if let Some(previous) = merged.last_mut() {
            let joined_at_boundary = previous.status == block.status
                && block.start <= previous.end
                && boundaries.iter().any(|boundary| {
                    (previous.start..=previous.end).contains(boundary)
                        && (block.start..=block.end).contains(boundary)
                });
            if joined_at_boundary {
                previous.end = previous.end.max(block.end);
                continue;
            }
        }
        merged.push(block);
    }
    merged
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::model::WireScheduleInformation;

    fn at(day: u32, hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap()
            + TimeDelta::days(i64::from(day))
            + TimeDelta::hours(i64::from(hour))
    }

    fn block(start: DateTime<Utc>, end: DateTime<Utc>, status: BusyStatus) -> BusyBlock {
        BusyBlock { start, end, status }
    }

    #[test]
    fn ranges_are_cut_into_windows_shorter_than_62_days() {
        assert!(windows(at(0, 0), at(0, 0)).is_empty());
        assert!(windows(at(5, 0), at(0, 0)).is_empty());
        assert_eq!(windows(at(0, 0), at(61, 0)), vec![(at(0, 0), at(61, 0))]);
        let year = windows(at(0, 0), at(365, 0));
        assert_eq!(year.len(), 6);
        assert_eq!(year[0], (at(0, 0), at(61, 0)));
        assert_eq!(year[5], (at(305, 0), at(365, 0)));
        for (start, end) in &year {
            assert!(*end - *start < TimeDelta::days(62));
        }
        for pair in year.windows(2) {
            assert_eq!(pair[0].1, pair[1].0, "windows are contiguous");
        }
    }

    #[test]
    fn an_event_returned_by_both_windows_appears_once() {
        let boundary = at(61, 0);
        let spanning = block(at(60, 23), at(61, 1), BusyStatus::Busy);
        let merged = merge(
            vec![
                spanning,
                block(at(3, 9), at(3, 10), BusyStatus::Tentative),
                spanning,
            ],
            &[boundary],
        );
        assert_eq!(
            merged,
            vec![block(at(3, 9), at(3, 10), BusyStatus::Tentative), spanning]
        );
    }

    #[test]
    fn halves_clipped_at_a_window_edge_are_joined_but_back_to_back_meetings_are_not() {
        let boundary = at(61, 0);
        let merged = merge(
            vec![
                block(boundary, at(61, 1), BusyStatus::Oof),
                block(at(60, 23), boundary, BusyStatus::Oof),
                block(at(10, 9), at(10, 10), BusyStatus::Busy),
                block(at(10, 10), at(10, 11), BusyStatus::Busy),
            ],
            &[boundary],
        );
        assert_eq!(
            merged,
            vec![
                block(at(10, 9), at(10, 10), BusyStatus::Busy),
                block(at(10, 10), at(10, 11), BusyStatus::Busy),
                block(at(60, 23), at(61, 1), BusyStatus::Oof),
            ]
        );
    }

    #[test]
    fn the_get_schedule_doc_example_keeps_only_status_and_times() {
        // learn.microsoft.com/graph/api/calendar-getschedule, "Response" (trimmed to one schedule).
        let body = r#"{"value":[{
            "scheduleId":"adelev@contoso.com","availabilityView":"000220000",
            "scheduleItems":[
              {"isPrivate":false,"status":"busy","subject":"Let's go for lunch","location":"Harry's Bar",
               "start":{"dateTime":"2019-03-15T12:00:00.0000000","timeZone":"Pacific Standard Time"},
               "end":{"dateTime":"2019-03-15T14:00:00.0000000","timeZone":"Pacific Standard Time"}}],
            "workingHours":{"daysOfWeek":["monday"],"startTime":"08:00:00.0000000","endTime":"17:00:00.0000000",
              "timeZone":{"name":"Pacific Standard Time"}}}]}"#;
        let response: ScheduleResponse = serde_json::from_str(body).unwrap();
        let information: &WireScheduleInformation = &response.value[0];
        let debug = format!("{information:?}");
        assert!(!debug.contains("lunch"), "the subject is not kept: {debug}");
        assert!(
            !debug.contains("Harry"),
            "the location is not kept: {debug}"
        );
        assert_eq!(
            information.schedule_items[0].status.as_deref(),
            Some("busy")
        );
        // We ask for UTC; a response in another zone is not silently misread.
        assert_eq!(information.schedule_items[0].start.to_utc(), None);
    }

    #[test]
    fn a_free_busy_error_for_an_unknown_mailbox_is_kept() {
        let body = r#"{"value":[{"scheduleId":"nobody@contoso.com","availabilityView":"",
            "error":{"message":"Failed to resolve the recipient","responseCode":"ErrorMailRecipientNotFound"},
            "scheduleItems":[],"workingHours":null}]}"#;
        let response: ScheduleResponse = serde_json::from_str(body).unwrap();
        let error = response.value[0].error.as_ref().unwrap();
        assert_eq!(
            error.response_code.as_deref(),
            Some("ErrorMailRecipientNotFound")
        );
    }
}
