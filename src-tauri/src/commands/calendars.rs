//! Commands of the Connected step: the calendar list and the Free/Busy week, and for a Teams
//! conferencing account the test meeting.

use chrono::{DateTime, Utc};

use crate::ipc::dto::{CalendarView, FreeBusyView};
use crate::ipc::error::IpcError;
use crate::state::AppState;

/// The account's calendars (the single "Free Busy" calendar for a Free/Busy account).
#[tauri::command]
pub async fn calendars(
    state: tauri::State<'_, AppState>,
    account_id: String,
) -> Result<Vec<CalendarView>, IpcError> {
    let core = state.core().await?;
    Ok(core
        .calendars(&account_id)
        .await?
        .into_iter()
        .map(CalendarView::from)
        .collect())
}

/// Busy blocks of the account's schedule between `start` and `end` (RFC 3339 instants).
#[tauri::command]
pub async fn free_busy(
    state: tauri::State<'_, AppState>,
    account_id: String,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Result<FreeBusyView, IpcError> {
    let core = state.core().await?;
    Ok(core.free_busy(&account_id, start, end).await?.into())
}

/// Creates a Teams test meeting with a Teams conferencing account and deletes it again.
#[tauri::command]
pub async fn create_test_meeting(
    state: tauri::State<'_, AppState>,
    account_id: String,
) -> Result<calconnect_core::TestMeeting, IpcError> {
    let core = state.core().await?;
    Ok(core.create_test_meeting(&account_id, false).await?)
}

/// Opens a Teams join link in the system browser. Only Teams meeting links are accepted: the webview
/// cannot make calconnect open anything else.
#[tauri::command]
pub fn open_meeting_link(url: String) -> Result<(), IpcError> {
    use crate::ipc::error::ErrorCode;
    let refused = || {
        IpcError::new(
            ErrorCode::Failed,
            "That is not a Teams meeting link.",
            "Copy the link instead.",
        )
    };
    let parsed = url::Url::parse(&url).map_err(|_| refused())?;
    if !is_teams_join_link(&parsed) {
        return Err(refused());
    }
    calconnect_identity::BrowserOpener::open(&calconnect_identity::SystemBrowser, &parsed).map_err(
        |_| {
            IpcError::new(
                ErrorCode::Failed,
                "No browser could be opened.",
                "Copy the link and paste it into a browser.",
            )
        },
    )
}

/// `https://teams.microsoft.com/l/meetup-join/…` and the US Government clouds' Teams hosts.
fn is_teams_join_link(url: &url::Url) -> bool {
    const TEAMS_HOSTS: [&str; 4] = [
        "teams.microsoft.com",
        "teams.microsoft.us",
        "gov.teams.microsoft.us",
        "dod.teams.microsoft.us",
    ];
    url.scheme() == "https"
        && url.port().is_none()
        && url
            .host_str()
            .is_some_and(|host| TEAMS_HOSTS.contains(&host))
        && url.path().starts_with("/l/meetup-join/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_teams_join_links_may_be_opened() {
        let ok = url::Url::parse(
            "https://teams.microsoft.com/l/meetup-join/19%3ameeting_x%40thread.v2/0",
        )
        .unwrap();
        assert!(is_teams_join_link(&ok));
        for bad in [
            "http://teams.microsoft.com/l/meetup-join/x",
            "https://teams.microsoft.com.evil.example/l/meetup-join/x",
            "https://teams.microsoft.com:8443/l/meetup-join/x",
            "https://teams.microsoft.com/settings",
            "file:///etc/passwd",
        ] {
            assert!(!is_teams_join_link(&url::Url::parse(bad).unwrap()), "{bad}");
        }
    }
}
