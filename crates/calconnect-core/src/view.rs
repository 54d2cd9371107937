//! What the UI and CLI show: calendars and busy blocks, independent of Graph's wire shapes.

use chrono::{DateTime, Utc};
use serde::Serialize;

/// A calendar of a connected account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CalendarInfo {
    pub id: String,
    pub name: String,
    /// Graph's `calendarColor` name (`auto`, `lightBlue`, …), when known.
    pub color: Option<String>,
    /// `#RRGGBB`, when the owner set one.
    pub hex_color: Option<String>,
    pub is_default: bool,
    pub can_edit: bool,
    pub owner_name: Option<String>,
    pub owner_email: Option<String>,
    /// Whether items are busy blocks (status, start, end) rather than events.
    pub free_busy_only: bool,
}

/// The name of the single calendar a Free/Busy account has.
pub const FREE_BUSY_CALENDAR_NAME: &str = "Free Busy";

impl CalendarInfo {
    /// The single read-only calendar of a Free/Busy account: its items are busy blocks of `email`'s schedule.
    pub fn free_busy(email: &str) -> Self {
        Self {
            id: format!("free-busy:{email}"),
            name: FREE_BUSY_CALENDAR_NAME.to_owned(),
            color: None,
            hex_color: None,
            is_default: true,
            can_edit: false,
            owner_name: None,
            owner_email: Some(email.to_owned()),
            free_busy_only: true,
        }
    }
}

/// One busy block: only status, start and end are kept (Cronofy's Free/Busy data rule).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BusyBlock {
    /// `free`, `tentative`, `busy`, `oof`, `workingElsewhere` or `unknown` (Graph's freeBusyStatus).
    pub status: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// Which Graph API the busy blocks were read from, for the UI and CLI to say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum FreeBusySource {
    /// `getSchedule`, the free/busy API.
    GetSchedule,
    /// `calendarView` of the account's own default calendar, because getSchedule was refused.
    CalendarView,
}

impl From<calconnect_graph::FreeBusySource> for FreeBusySource {
    fn from(source: calconnect_graph::FreeBusySource) -> Self {
        match source {
            calconnect_graph::FreeBusySource::GetSchedule => Self::GetSchedule,
            calconnect_graph::FreeBusySource::CalendarView => Self::CalendarView,
        }
    }
}

/// Free/busy of one account over a range.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FreeBusy {
    pub calendar: CalendarInfo,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub blocks: Vec<BusyBlock>,
    /// Where the blocks came from.
    pub source: FreeBusySource,
}
