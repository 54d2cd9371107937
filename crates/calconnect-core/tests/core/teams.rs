//! Teams conferencing: a connection of its own, beside the same person's calendar connection, that makes
//! (and removes) a test meeting and is refused calendars.

use calconnect_core::{ErrorKind, TEST_MEETING_SUBJECT};
use calconnect_identity::{AccessLevel, AppKind};
use calconnect_sandbox::demo;
use calconnect_sandbox::person::Consent;

use crate::support::Bench;

#[tokio::test]
async fn a_teams_connection_sits_beside_a_calendar_connection_and_gives_no_calendars() {
    let bench = Bench::start().await;
    let calendar = bench
        .connect_device_code(AppKind::Full, demo::ADELE, Consent::Approve)
        .await
        .expect("the calendar connection succeeds");
    let teams = bench
        .connect_device_code(AppKind::Teams, demo::ADELE, Consent::Approve)
        .await
        .expect("the Teams connection succeeds");

    assert_eq!(teams.account.access, AccessLevel::Teams);
    assert_eq!(teams.account.user.email, demo::ADELE);
    assert!(
        teams.calendars.is_empty(),
        "Teams conferencing reads no calendar"
    );
    assert_ne!(
        teams.account.id, calendar.account.id,
        "two accounts, one email"
    );
    assert_eq!(bench.core.list_accounts().await.unwrap().len(), 2);

    let refused = bench.core.calendars(&teams.account.id).await.unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::NotCalendarAccount);
    assert!(refused.user_message().contains("no access to calendars"));
    let refused = bench
        .core
        .free_busy(
            &teams.account.id,
            chrono::Utc::now(),
            chrono::Utc::now() + chrono::Duration::days(1),
        )
        .await
        .unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::NotCalendarAccount);
    // The calendar connection is untouched.
    assert!(!bench
        .core
        .calendars(&calendar.account.id)
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn a_test_meeting_has_a_join_link_and_is_deleted_again() {
    let bench = Bench::start().await;
    let teams = bench
        .connect_device_code(AppKind::Teams, demo::ADELE, Consent::Approve)
        .await
        .expect("the Teams connection succeeds");

    let meeting = bench
        .core
        .create_test_meeting(&teams.account.id, false)
        .await
        .unwrap();
    assert!(
        meeting
            .join_web_url
            .starts_with("https://teams.microsoft.com/l/meetup-join/"),
        "{}",
        meeting.join_web_url
    );
    assert!(!meeting.meeting_id.is_empty());
    assert_eq!(meeting.subject, TEST_MEETING_SUBJECT);
    assert!(meeting.deleted);
    let journal = bench.journal_text();
    let created = journal
        .lines()
        .filter(|line| line.starts_with("POST /v1.0/me/onlineMeetings "))
        .count();
    let deleted = journal
        .lines()
        .filter(|line| {
            line.starts_with("DELETE /v1.0/me/onlineMeetings/") && line.contains(" 204 ")
        })
        .count();
    assert_eq!(
        (created, deleted),
        (1, 1),
        "one POST, one DELETE:\n{journal}"
    );

    let kept = bench
        .core
        .create_test_meeting(&teams.account.id, true)
        .await
        .unwrap();
    assert!(!kept.deleted);
}

#[tokio::test]
async fn a_calendar_account_is_refused_a_test_meeting_before_any_request() {
    let bench = Bench::start().await;
    let calendar = bench
        .connect_device_code(AppKind::Full, demo::ADELE, Consent::Approve)
        .await
        .unwrap();
    let refused = bench
        .core
        .create_test_meeting(&calendar.account.id, false)
        .await
        .unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::NotTeamsAccount);
    assert!(
        !bench.journal_text().contains("onlineMeetings"),
        "no request was sent"
    );
}

#[tokio::test]
async fn a_user_without_a_teams_licence_gets_a_plain_message_and_a_next_step() {
    let bench = Bench::start().await;
    // The service account's user has no Teams licence in the demo tenant.
    let teams = bench
        .connect_device_code(AppKind::Teams, demo::SERVICE_ACCOUNT_UPN, Consent::Approve)
        .await
        .expect("signing in works without a licence");
    let refused = bench
        .core
        .create_test_meeting(&teams.account.id, false)
        .await
        .unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::TeamsUnavailable, "{refused:?}");
    assert!(
        refused.user_message().contains("Teams"),
        "{}",
        refused.user_message()
    );
    assert!(
        refused.next_step().contains("licence"),
        "{}",
        refused.next_step()
    );
}
