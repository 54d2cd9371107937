//! Teams conferencing for a connected Teams account: "Create a test meeting" makes a standalone meeting
//! (`POST /me/onlineMeetings`), hands back its join link and ID, and deletes it again unless asked to
//! keep it, so proving the connection leaves nothing behind.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::flows::Calconnect;

/// The subject every test meeting carries, so an admin recognises one that was kept.
pub const TEST_MEETING_SUBJECT: &str = "calconnect test meeting";

/// The meeting a test made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TestMeeting {
    /// Graph's meeting ID.
    pub meeting_id: String,
    /// The Teams join link.
    pub join_web_url: String,
    /// Its subject.
    pub subject: String,
    /// When it starts and ends (an hour from now, for an hour).
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// Whether it was deleted again (false with `keep`, or when deleting failed).
    pub deleted: bool,
    /// Why deleting it failed: the meeting still exists and its link works.
    pub delete_error: Option<String>,
}

impl Calconnect {
    /// Creates a test meeting with the account's Teams connection and deletes it again unless `keep`.
    /// Accounts connected for calendars have no Teams permission and are refused before any request.
    pub async fn create_test_meeting(&self, account_id: &str, keep: bool) -> Result<TestMeeting> {
        let account = self.usable_account(account_id).await?;
        if account.app != calconnect_identity::AppKind::Teams {
            return Err(Error::NotTeamsAccount {
                id: account.id.clone(),
            });
        }
        let source = self.token_source(&account)?;
        let graph = self.graph(&account.graph);
        let start = self.now() + Duration::hours(1);
        let end = start + Duration::hours(1);
        let meeting = graph
            .create_online_meeting(&source, TEST_MEETING_SUBJECT, start, end)
            .await
            .map_err(crate::graph_errors::from_meeting)?;
        // A failed delete must not lose the meeting: it exists, so its link and id are returned.
        let (deleted, delete_error) = if keep {
            (false, None)
        } else {
            match graph.delete_online_meeting(&source, &meeting.id).await {
                Ok(()) => (true, None),
                Err(error) => {
                    let error = crate::graph_errors::from_graph(error);
                    (
                        false,
                        Some(format!(
                            "{} {}",
                            error.user_message(),
                            "Delete the meeting in Teams; it is the one with the subject below."
                        )),
                    )
                }
            }
        };
        tracing::info!(account = %account.id, deleted, "test meeting created");
        Ok(TestMeeting {
            meeting_id: meeting.id,
            join_web_url: meeting.join_web_url,
            subject: TEST_MEETING_SUBJECT.to_owned(),
            start,
            end,
            deleted,
            delete_error,
        })
    }
}
