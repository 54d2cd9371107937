//! The signed-in user's busy blocks from `GET /me/calendarView` (learn.microsoft.com/graph/api/user-list-calendarview),
//! for when getSchedule is refused.
//!
//! Microsoft's generated permission table lists Calendars.ReadBasic for getSchedule while its free/busy
//! concept page still says Calendars.Read (facts §0), so a tenant may answer a Free/Busy token's
//! getSchedule with 403. calendarView is documented for Calendars.ReadBasic and covers the same default
//! calendar. Only `showAs`, `start` and `end` are asked for (`$select`) and deserialised; `showAs` takes
//! getSchedule's status values (`freeBusyStatus`), so the blocks are the same [`BusyBlock`]s, `free`
//! events dropped as getSchedule does not list them.
//!
//! The range is cut into the same windows as getSchedule's (under 62 days, at most four in flight, one
//! mailbox's concurrency limit), each read page by page through `@odata.nextLink`. calendarView returns
//! an event that overlaps two windows whole from both, so identical blocks are removed after sorting.

use chrono::{DateTime, SecondsFormat, Utc};
use futures::{StreamExt, TryStreamExt};

use crate::client::GraphClient;
use crate::error::{Error, Result};
use crate::model::{BusyBlock, BusyStatus, WireBusyEvent};
use crate::schedule::{windows, MAX_WINDOWS_IN_FLIGHT};
use crate::token::TokenProvider;

/// Events per calendarView page. Graph documents no maximum for calendarView
/// (microsoftgraph/microsoft-graph-docs#12653: "the maximum depends on the corresponding API"); 100 is
/// well inside what Outlook serves and keeps a busy two months to a few pages.
pub const CALENDAR_VIEW_PAGE_SIZE: u32 = 100;

/// What the fallback asks for: status and times, nothing that says what an event is about.
const SELECT: &str = "showAs,start,end";

impl GraphClient {
    /// The busy blocks of the signed-in user's default calendar between `start` and `end`, sorted by
    /// start, from calendarView (needs `Calendars.ReadBasic` or more). An empty or inverted range gives no
    /// blocks. A time that is not UTC fails the call rather than dropping a block, which would show the
    /// person as free.
    pub async fn calendar_view_busy(
        &self,
        tokens: &dyn TokenProvider,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<Vec<BusyBlock>> {
        let per_window: Vec<Vec<BusyBlock>> = futures::stream::iter(windows(start, end))
            .map(|(window_start, window_end)| self.view_window(tokens, window_start, window_end))
            .buffer_unordered(MAX_WINDOWS_IN_FLIGHT)
            .try_collect()
            .await?;
        let mut blocks: Vec<BusyBlock> = per_window.into_iter().flatten().collect();
        blocks.sort();
        blocks.dedup();
        Ok(blocks)
    }

    async fn view_window(
        &self,
        tokens: &dyn TokenProvider,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<Vec<BusyBlock>> {
        let mut url = self.endpoint("me/calendarView");
        url.query_pairs_mut()
            .append_pair(
                "startDateTime",
                &start.to_rfc3339_opts(SecondsFormat::Secs, true),
            )
            .append_pair(
                "endDateTime",
                &end.to_rfc3339_opts(SecondsFormat::Secs, true),
            )
            .append_pair("$select", SELECT)
            .append_pair("$top", &CALENDAR_VIEW_PAGE_SIZE.to_string());
        let events: Vec<WireBusyEvent> = self
            .get_all_with(
                tokens,
                url.clone(),
                &[("Prefer", r#"outlook.timezone="UTC""#)],
            )
            .await?;
        events
            .into_iter()
            .filter_map(|event| {
                let status = match event.show_as.as_deref() {
                    Some(show_as) => BusyStatus::from_graph(show_as)?,
                    None => BusyStatus::Unknown,
                };
                Some(match (event.start.to_utc(), event.end.to_utc()) {
                    (Some(start), Some(end)) => Ok(BusyBlock { start, end, status }),
                    _ => Err(Error::Decode {
                        url: url.to_string(),
                        body_snippet: format!(
                            "event times {:?} / {:?} are not UTC date-times",
                            event.start, event.end
                        ),
                    }),
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_selected_event_keeps_only_show_as_and_times() {
        // learn.microsoft.com/graph/api/user-list-calendarview with `$select=showAs,start,end`: Outlook adds
        // `@odata.etag` and `id`; anything else a server sends anyway is not kept.
        let body = r#"{"@odata.etag":"W/\"ZlnW4RIAV06KYYwlrfNZvQAAKGWwbw==\"","id":"AAMkAGIAAAoZDOFAAA=",
            "subject":"Salary review","showAs":"oof",
            "start":{"dateTime":"2024-05-06T08:30:00.0000000","timeZone":"UTC"},
            "end":{"dateTime":"2024-05-06T09:00:00.0000000","timeZone":"UTC"}}"#;
        let event: WireBusyEvent = serde_json::from_str(body).unwrap();
        let debug = format!("{event:?}");
        assert!(!debug.contains("Salary"), "{debug}");
        assert!(!debug.contains("AAMkAGIAAAoZDOFAAA"), "{debug}");
        assert_eq!(
            BusyStatus::from_graph(event.show_as.as_deref().unwrap()),
            Some(BusyStatus::Oof)
        );
        assert!(event.start.to_utc().is_some());
    }
}
