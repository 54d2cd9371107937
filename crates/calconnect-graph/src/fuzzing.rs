//! The properties the fuzz target in `fuzz/` checks, kept here so that an ordinary `#[test]` replays the
//! committed corpus (`fuzz/corpus/graph_json/`) through exactly the same code, without a fuzzer.
//!
//! Not an API: the function panics when a property is violated, which is how libFuzzer sees a failure.

use crate::error::{snippet, ErrorEnvelope};
use crate::model::{BusyStatus, Calendar, Page, User, WireBusyEvent, WireCalendar, WireUser};
use crate::schedule::ScheduleResponse;
use calconnect_identity::fuzzing::assert_printable;
use calconnect_identity::http::json_too_deep;

/// One body as every Graph answer the client reads: the error envelope (and its snippet fallback), a
/// page of calendars, a user, a getSchedule answer and a calendarView event. Asserts: no panic, and every
/// text that is printed (error code, message and request ID; calendar name, colour and owner; user name
/// and addresses) holds no control character other than newline and tab.
pub fn check_graph_json(data: &[u8]) {
    let body = String::from_utf8_lossy(data);
    let error = ErrorEnvelope::parse(&body);
    assert_printable("error code", &error.code);
    assert_printable("error message", &error.message);
    if let Some(request_id) = error.inner_error.and_then(|inner| inner.request_id) {
        assert_printable("request-id", &request_id);
    }
    let cut = snippet(&body);
    assert_printable("snippet", &cut);
    assert!(
        cut.chars().count() <= 201,
        "a snippet is at most 200 characters and an ellipsis"
    );

    // The client refuses deeper JSON before serde_json sees it (its parse and drop recurse).
    if json_too_deep(data) {
        return;
    }
    if let Ok(page) = serde_json::from_slice::<Page<WireCalendar>>(data) {
        for calendar in page.value.into_iter().map(Calendar::from) {
            assert_printable("calendar name", &calendar.name);
            for text in [calendar.hex_color.as_ref()].into_iter().flatten() {
                assert_printable("calendar hexColor", text);
            }
            if let Some(owner) = calendar.owner {
                for text in [owner.name, owner.address].iter().flatten() {
                    assert_printable("calendar owner", text);
                }
            }
        }
    }
    if let Ok(user) = serde_json::from_slice::<WireUser>(data).map(User::from) {
        assert_printable("user mail", &user.mail);
        assert_printable("user principal name", &user.user_principal_name);
        if let Some(name) = &user.display_name {
            assert_printable("user display name", name);
        }
    }
    if let Ok(response) = serde_json::from_slice::<ScheduleResponse>(data) {
        for information in response.value {
            for item in information.schedule_items {
                let _ = item.status.as_deref().map(BusyStatus::from_graph);
                let _ = (item.start.to_utc(), item.end.to_utc());
            }
        }
    }
    if let Ok(event) = serde_json::from_slice::<WireBusyEvent>(data) {
        let _ = event.show_as.as_deref().map(BusyStatus::from_graph);
        let _ = (event.start.to_utc(), event.end.to_utc());
    }
}

#[cfg(test)]
mod tests {
    /// Every file of the committed seed and regression corpus passes the fuzz target's checks.
    #[test]
    fn the_fuzz_corpus_replays_clean() {
        calconnect_identity::fuzzing::replay_corpus("graph_json", super::check_graph_json);
    }
}
