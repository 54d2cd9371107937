//! Events a sign-in pushes to the webview over its `tauri::ipc::Channel`, so the UI never polls.

use calconnect_identity::PollState;
use serde::Serialize;

use crate::ipc::dto::{AccountView, CalendarView};
use crate::ipc::error::IpcError;

/// Where the device-code poll loop is (RFC 8628 §3.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Poll {
    Waiting,
    Pending,
    SlowDown,
}

impl From<PollState> for Poll {
    fn from(state: PollState) -> Self {
        match state {
            PollState::Waiting => Poll::Waiting,
            PollState::Pending => Poll::Pending,
            PollState::SlowDown => Poll::SlowDown,
        }
    }
}

/// One step of a sign-in, tagged by `kind`.
#[derive(Debug, Clone, Serialize)]
#[serde(
    tag = "kind",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum SignInEvent {
    /// Once a second: how long the code (or the browser wait) still has.
    Countdown { remaining_seconds: u64 },
    /// Before each wait of the device-code poll loop.
    Polling {
        poll: Poll,
        polls: u32,
        interval_seconds: u64,
    },
    /// Signed in and stored; Full accounts come with their calendars.
    Connected {
        account: AccountView,
        calendars: Vec<CalendarView>,
    },
    /// The sign-in ended without an account (code `Cancelled` when the person cancelled).
    Failed { error: IpcError },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_tagged_by_kind_with_camel_case_fields() {
        let event = SignInEvent::Polling {
            poll: Poll::SlowDown,
            polls: 2,
            interval_seconds: 10,
        };
        assert_eq!(
            serde_json::to_string(&event).unwrap(),
            r#"{"kind":"polling","poll":"slowDown","polls":2,"intervalSeconds":10}"#
        );
        let countdown = SignInEvent::Countdown {
            remaining_seconds: 3,
        };
        assert_eq!(
            serde_json::to_string(&countdown).unwrap(),
            r#"{"kind":"countdown","remainingSeconds":3}"#
        );
    }
}
