//! `GetUserAvailability` for one mailbox (EWS reference "GetUserAvailability operation",
//! "FreeBusyViewType"): the only operation an AvailabilityOnly grant allows.

use chrono::{DateTime, Utc};
use quick_xml::escape::escape;
use serde::Serialize;

use super::{xml_date_time, Operation};
use crate::parse::XmlElement;
use crate::soap::namespace_declarations;

/// `FreeBusyViewOptions/RequestedView`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestedView {
    /// Times and busy types only.
    FreeBusy,
    /// "The maximum the requester is privileged to see": the server downgrades when rights are lower.
    Detailed,
    /// `Detailed` plus the merged free/busy string: what the test asks for, to record what the server
    /// actually grants (`FreeBusyMerged` for AvailabilityOnly, `DetailedMerged` for LimitedDetails and up).
    DetailedMerged,
}

/// Free/busy of one mailbox over a window.
#[derive(Debug, Clone)]
pub struct GetUserAvailability {
    /// The mailbox.
    pub mailbox: String,
    /// Start of the window.
    pub start: DateTime<Utc>,
    /// End of the window (at most 42 days by default).
    pub end: DateTime<Utc>,
    /// What to ask for.
    pub requested_view: RequestedView,
}

/// What the server returned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Availability {
    /// `FreeBusyViewType` actually granted (`FreeBusy`, `Detailed`, ...).
    pub view_type: String,
    /// Whether a `MergedFreeBusy` string came back.
    pub merged: bool,
    /// Number of `CalendarEvent`s.
    pub event_count: usize,
    /// Whether any event came with `CalendarEventDetails` (subject/location level access).
    pub has_details: bool,
}

impl Operation for GetUserAvailability {
    type Output = Availability;

    fn name(&self) -> &'static str {
        "GetUserAvailability"
    }

    fn body(&self) -> String {
        let view = match self.requested_view {
            RequestedView::FreeBusy => "FreeBusy",
            RequestedView::Detailed => "Detailed",
            RequestedView::DetailedMerged => "DetailedMerged",
        };
        // UTC with no daylight saving: the request window is already in UTC.
        let utc_rule = "<t:Bias>0</t:Bias><t:Time>00:00:00</t:Time><t:DayOrder>1</t:DayOrder><t:Month>1</t:Month><t:DayOfWeek>Sunday</t:DayOfWeek>";
        format!(
            r#"<m:GetUserAvailabilityRequest {ns}><t:TimeZone><t:Bias>0</t:Bias><t:StandardTime>{utc_rule}</t:StandardTime><t:DaylightTime>{utc_rule}</t:DaylightTime></t:TimeZone><m:MailboxDataArray><t:MailboxData><t:Email><t:Address>{mailbox}</t:Address></t:Email><t:AttendeeType>Required</t:AttendeeType><t:ExcludeConflicts>false</t:ExcludeConflicts></t:MailboxData></m:MailboxDataArray><t:FreeBusyViewOptions><t:TimeWindow><t:StartTime>{start}</t:StartTime><t:EndTime>{end}</t:EndTime></t:TimeWindow><t:MergedFreeBusyIntervalInMinutes>30</t:MergedFreeBusyIntervalInMinutes><t:RequestedView>{view}</t:RequestedView></t:FreeBusyViewOptions></m:GetUserAvailabilityRequest>"#,
            ns = namespace_declarations(),
            mailbox = escape(self.mailbox.as_str()),
            start = xml_date_time(self.start),
            end = xml_date_time(self.end),
        )
    }

    fn read(&self, body: &XmlElement) -> Availability {
        let events = body.descendants("CalendarEvent");
        Availability {
            view_type: body
                .descendant("FreeBusyViewType")
                .map(|view| view.text.clone())
                .unwrap_or_default(),
            merged: body.descendant("MergedFreeBusy").is_some(),
            event_count: events.len(),
            has_details: events
                .iter()
                .any(|event| event.child("CalendarEventDetails").is_some()),
        }
    }
}
