//! Microsoft Graph client for the calendar APIs calconnect uses: `/me`, `/me/calendars` (all pages),
//! `/me/calendar/getSchedule` (free/busy over any range, with `/me/calendarView` as the signed-in user's
//! fallback when getSchedule is refused) and `/me/onlineMeetings` (Teams check).
//!
//! The client is given its base URL (Graph or the sandbox), its `reqwest::Client`, a [`TokenProvider`]
//! per call and optionally a [`Sleeper`], so every network endpoint, token and wait is injected.
//! It refreshes the token once on 401, honours `Retry-After` on 429/503 a bounded number of times
//! ([`MAX_THROTTLE_RETRIES`]), follows `@odata.nextLink` as given, and sends the token only to the base
//! URL's origin (https, or http on loopback).
//!
//! ```no_run
//! # use calconnect_graph::{GraphClient, TokenProvider};
//! # async fn run(tokens: &dyn TokenProvider) -> calconnect_graph::Result<()> {
//! let graph = GraphClient::new("https://graph.microsoft.com/v1.0/".parse().unwrap(), reqwest::Client::new());
//! let me = graph.me(tokens).await?;
//! for calendar in graph.calendars(tokens).await? {
//!     println!("{} {}", calendar.name, if calendar.is_default { "(default)" } else { "" });
//! }
//! let now = chrono::Utc::now();
//! let busy = graph.free_busy(tokens, &me.mail, now, now + chrono::TimeDelta::days(90)).await?;
//! # Ok(()) }
//! ```
#![warn(missing_docs)]

pub mod app_only;
mod calendar_view;
mod calendars;
mod client;
mod error;
/// The fuzz target's properties (`fuzz/`), replayed over the committed corpus by this crate's tests.
#[doc(hidden)]
pub mod fuzzing;
mod model;
mod schedule;
mod token;

pub use calendar_view::CALENDAR_VIEW_PAGE_SIZE;
pub use calendars::CALENDARS_PAGE_SIZE;
pub use client::{GraphClient, MAX_ITEMS, MAX_PAGES, MAX_PAGE_BYTES, MAX_THROTTLE_RETRIES};
pub use error::{Error, Result, TokenError};
pub use model::{
    BusyBlock, BusyStatus, Calendar, CalendarColor, EmailAddress, FreeBusySource, OnlineMeeting,
    OwnFreeBusy, User,
};
pub use schedule::{
    ScheduleOutcome, MAX_SCHEDULES_PER_REQUEST, MAX_WINDOWS_IN_FLIGHT, MAX_WINDOW_DAYS,
};
pub use token::{Sleeper, TokenProvider, TokioSleeper};
