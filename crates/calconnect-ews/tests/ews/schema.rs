//! Every SOAP request body calconnect sends validates against `messages.xsd` (xmllint).

use std::path::Path;
use std::process::Command;

use calconnect_ews::operations::{
    DistinguishedFolder, FindCalendarView, GetFolder, GetUserAvailability, Operation, RequestedView,
};
use chrono::{TimeZone, Utc};

const SCHEMA: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/reference/ews-schema/messages.xsd"
);

fn schema_path() -> String {
    let candidates = [
        SCHEMA.to_owned(),
        "/work/shared/reference/ews-schema/messages.xsd".to_owned(),
    ];
    candidates
        .into_iter()
        .find(|path| Path::new(path).exists())
        .expect("messages.xsd from shared/reference")
}

/// Validates one body with xmllint and returns xmllint's complaint on failure.
pub fn assert_valid(name: &str, body: &str) {
    let directory = tempfile::tempdir().expect("temp dir");
    let file = directory.path().join(format!("{name}.xml"));
    std::fs::write(&file, body).expect("write body");
    let output = Command::new("xmllint")
        .args(["--noout", "--schema", &schema_path()])
        .arg(&file)
        .output()
        .expect("xmllint is installed (libxml2-utils)");
    assert!(
        output.status.success(),
        "{name} does not validate against messages.xsd:\n{}\n{body}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn all_requests() -> Vec<(&'static str, String)> {
    let start = Utc.with_ymd_and_hms(2026, 11, 23, 9, 0, 0).unwrap();
    let end = Utc.with_ymd_and_hms(2026, 11, 30, 9, 0, 0).unwrap();
    vec![
        (
            "get_folder_calendar",
            GetFolder {
                folder: DistinguishedFolder::Calendar,
                mailbox: None,
            }
            .body(),
        ),
        (
            "get_folder_inbox",
            GetFolder {
                folder: DistinguishedFolder::Inbox,
                mailbox: None,
            }
            .body(),
        ),
        (
            "get_folder_delegate",
            GetFolder {
                folder: DistinguishedFolder::Calendar,
                mailbox: Some("adele@contoso.com".into()),
            }
            .body(),
        ),
        (
            "find_item_calendar_view",
            FindCalendarView {
                mailbox: None,
                start,
                end,
                max_entries: 100,
            }
            .body(),
        ),
        (
            "find_item_calendar_view_delegate",
            FindCalendarView {
                mailbox: Some("megan@contoso.com".into()),
                start,
                end,
                max_entries: 100,
            }
            .body(),
        ),
        (
            "get_user_availability_detailed_merged",
            GetUserAvailability {
                mailbox: "lee@contoso.com".into(),
                start,
                end,
                requested_view: RequestedView::DetailedMerged,
            }
            .body(),
        ),
        (
            "get_user_availability_detailed",
            GetUserAvailability {
                mailbox: "adele@contoso.com".into(),
                start,
                end,
                requested_view: RequestedView::Detailed,
            }
            .body(),
        ),
        (
            "get_user_availability_free_busy",
            GetUserAvailability {
                mailbox: "lee@contoso.com".into(),
                start,
                end,
                requested_view: RequestedView::FreeBusy,
            }
            .body(),
        ),
    ]
}

#[test]
fn every_request_body_validates_against_messages_xsd() {
    for (name, body) in all_requests() {
        assert_valid(name, &body);
    }
}

#[test]
fn the_schema_check_rejects_a_wrong_body() {
    // Proves the check above can fail: a misspelt distinguished folder id is not in the schema's enum.
    let body = GetFolder {
        folder: DistinguishedFolder::Calendar,
        mailbox: None,
    }
    .body()
    .replace("\"calendar\"", "\"Calendar\"");
    let result = std::panic::catch_unwind(|| assert_valid("wrong", &body));
    assert!(result.is_err(), "xmllint must refuse Id=\"Calendar\"");
}
