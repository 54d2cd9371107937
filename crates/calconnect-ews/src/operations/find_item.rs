//! `FindItem` with a `CalendarView` (EWS reference "FindItem operation", "CalendarView"): expands
//! recurrences and asks only for start, end and free/busy status, never subjects or bodies.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{xml_date_time, Operation};
use crate::parse::XmlElement;
use crate::soap::namespace_declarations;

/// A calendar view of a mailbox's default calendar: the impersonated one, or `mailbox`'s by delegate access.
#[derive(Debug, Clone)]
pub struct FindCalendarView {
    /// Owner for delegate access (`DistinguishedFolderId/Mailbox`); `None` when impersonating.
    pub mailbox: Option<String>,
    /// Start of the window.
    pub start: DateTime<Utc>,
    /// End of the window (at most two years after `start`).
    pub end: DateTime<Utc>,
    /// `MaxEntriesReturned`.
    pub max_entries: u32,
}

/// One occurrence in the view: times and free/busy status only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CalendarSlot {
    /// `calendar:Start` as sent by the server.
    pub start: String,
    /// `calendar:End` as sent by the server.
    pub end: String,
    /// `LegacyFreeBusyStatus` (Free, Tentative, Busy, OOF, WorkingElsewhere, NoData).
    pub free_busy: String,
}

impl Operation for FindCalendarView {
    type Output = Vec<CalendarSlot>;

    fn name(&self) -> &'static str {
        "FindItem"
    }

    fn body(&self) -> String {
        let mailbox = super::mailbox_element(self.mailbox.as_deref());
        format!(
            r#"<m:FindItem {ns} Traversal="Shallow"><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape><t:AdditionalProperties><t:FieldURI FieldURI="calendar:Start"/><t:FieldURI FieldURI="calendar:End"/><t:FieldURI FieldURI="calendar:LegacyFreeBusyStatus"/></t:AdditionalProperties></m:ItemShape><m:CalendarView MaxEntriesReturned="{max}" StartDate="{start}" EndDate="{end}"/><m:ParentFolderIds><t:DistinguishedFolderId Id="calendar">{mailbox}</t:DistinguishedFolderId></m:ParentFolderIds></m:FindItem>"#,
            ns = namespace_declarations(),
            max = self.max_entries,
            start = xml_date_time(self.start),
            end = xml_date_time(self.end),
        )
    }

    fn read(&self, body: &XmlElement) -> Vec<CalendarSlot> {
        body.descendants("CalendarItem")
            .into_iter()
            .map(|item| CalendarSlot {
                start: item.child_text("Start").unwrap_or_default().to_owned(),
                end: item.child_text("End").unwrap_or_default().to_owned(),
                free_busy: item
                    .child_text("LegacyFreeBusyStatus")
                    .unwrap_or_default()
                    .to_owned(),
            })
            .collect()
    }
}
