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
