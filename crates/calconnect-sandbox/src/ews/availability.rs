//! `GetUserAvailability`: free/busy as the acting identity may see it. The view returned is the one asked
//! for, downgraded to the caller's free/busy rights on each target's calendar ("Detailed … returns the
//! maximum amount of information for which the requesting user is privileged", FreeBusyViewType):
//! the owner, an impersonator of the owner, `Reviewer`+ and `LimitedDetails` get `Detailed`; the
//! `AvailabilityOnly` that `Default` gives everyone gets `FreeBusy`; `None` gets `ErrorNoFreeBusyAccess`.
//! Merged views carry `MergedFreeBusy`: one digit per interval (0 free, 1 tentative, 2 busy, 3 OOF,
//! 4 working elsewhere, 5 no data; the highest wins), interval 5–1440 minutes, default 30
//! (learn.microsoft.com/exchange/client-developer/web-service-reference/mergedfreebusy; digits 4 and 5 as
//! Exchange 2013+ and the EWS Managed API's LegacyFreeBusyStatus read them).
//!
//! Request-level errors (interval, window) are HTTP 500 SOAP faults, as Exchange sends
//! `ErrorInvalidTimeInterval` (gautamsi/ews-javascript-api#235). ASSUMPTION: that `ErrorTimeIntervalTooBig`
//! is a fault too rather than a per-mailbox message is unverified.

use chrono::{DateTime, Duration, Utc};
use quick_xml::escape::escape;

use super::access::Acting;
use super::items::legacy_free_busy;
use super::request::RequestedView;
use super::response::{namespaces, RequestFault};
use crate::state::AppState;
use crate::tenant::{Occurrence, ShowAs};

/// The time window limit (TimeWindow: "The maximum value for this time period is 42 days").
const MAX_WINDOW_DAYS: i64 = 42;

/// What the request asks.
pub(crate) struct Query<'a> {
    pub mailboxes: &'a [String],
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub view: RequestedView,
    pub interval_minutes: i64,
}

/// The response body (request-level errors are SOAP faults in the body, as Exchange sends them).
pub(crate) fn get_user_availability(
    state: &AppState,
    acting: &Acting,
    query: &Query<'_>,
) -> Result<String, RequestFault> {
    if !(5..=1440).contains(&query.interval_minutes) && query.view.merged() {
        return Err(RequestFault::new(
            "ErrorInvalidMergedFreeBusyInterval",
            "The default minimum value is 5 minutes. The default maximum value is 1440 minutes.",
        ));
    }
    if query.end <= query.start {
        return Err(RequestFault::new(
            "ErrorInvalidTimeInterval",
            "The time duration specified for FreeBusyViewOptions.TimeWindow is invalid.",
        ));
    }
    if query.end - query.start > Duration::days(MAX_WINDOW_DAYS) {
        return Err(RequestFault::new(
            "ErrorTimeIntervalTooBig",
            format!("The time window that was specified is larger than the allowed limit. By default, the allowed limit is {MAX_WINDOW_DAYS}."),
        ));
    }
    let mut responses = String::new();
    for mailbox in query.mailboxes {
        responses.push_str("<m:FreeBusyResponse>");
        responses.push_str(&one(state, acting, mailbox, query));
        responses.push_str("</m:FreeBusyResponse>");
    }
    Ok(format!(
        r#"<m:GetUserAvailabilityResponse {}><m:FreeBusyResponseArray>{responses}</m:FreeBusyResponseArray></m:GetUserAvailabilityResponse>"#,
        namespaces()
    ))
}

fn one(state: &AppState, acting: &Acting, mailbox: &str, query: &Query<'_>) -> String {
    let tenant = state.tenant();
    let Some(target) = tenant.mailbox(mailbox) else {
        return error_message(
            "ErrorMailRecipientNotFound",
            &format!("Unable to resolve e-mail address {mailbox} to an Active Directory object."),
        );
    };
    let rights = acting.folder_rights(tenant, &target.smtp, "calendar");
    let detailed = rights.free_busy_detailed || rights.read_items;
    if !detailed && !rights.free_busy_simple {
        return error_message(
            "ErrorNoFreeBusyAccess",
            "Microsoft.Exchange.InfoWorker.Common.Availability.NoFreeBusyAccessException: The caller does not have access to free/busy data.",
        );
    }
    let view = match (query.view, detailed) {
        (RequestedView::Detailed, false) => RequestedView::FreeBusy,
        (RequestedView::DetailedMerged, false) => RequestedView::FreeBusyMerged,
        (view, _) => view,
    };
    let view_name = match view {
        RequestedView::MergedOnly => "MergedOnly",
        RequestedView::FreeBusy => "FreeBusy",
        RequestedView::FreeBusyMerged => "FreeBusyMerged",
        RequestedView::Detailed => "Detailed",
        RequestedView::DetailedMerged => "DetailedMerged",
    };
    let occurrences: Vec<Occurrence<'_>> = tenant
        .mailbox_owner(&target.smtp)
        .and_then(|owner| owner.default_calendar())
        .map(|calendar| calendar.view(query.start, query.end))
        .unwrap_or_default()
        .into_iter()
        .filter(|occurrence| occurrence.event.show_as != ShowAs::Free)
        .collect();
    let mut xml = String::from(
        r#"<m:ResponseMessage ResponseClass="Success"><m:ResponseCode>NoError</m:ResponseCode></m:ResponseMessage>"#,
    );
    xml.push_str(&format!(
        "<m:FreeBusyView><t:FreeBusyViewType>{view_name}</t:FreeBusyViewType>"
    ));
    if view.merged() {
        xml.push_str(&format!(
            "<t:MergedFreeBusy>{}</t:MergedFreeBusy>",
            merged(&occurrences, query.start, query.end, query.interval_minutes)
        ));
    }
    if view != RequestedView::MergedOnly {
        xml.push_str("<t:CalendarEventArray>");
        for occurrence in &occurrences {
            xml.push_str(&event(
                occurrence,
                view.detailed(),
                rights.view_private_items,
            ));
        }
        xml.push_str("</t:CalendarEventArray>");
    }
    xml.push_str("</m:FreeBusyView>");
    xml
}

fn error_message(code: &str, text: &str) -> String {
    format!(
        r#"<m:ResponseMessage ResponseClass="Error"><m:MessageText>{}</m:MessageText><m:ResponseCode>{code}</m:ResponseCode><m:DescriptiveLinkKey>0</m:DescriptiveLinkKey></m:ResponseMessage>"#,
        escape(text)
    )
}

fn event(occurrence: &Occurrence<'_>, detailed: bool, view_private: bool) -> String {
    let event = occurrence.event;
    let mut xml = format!(
        "<t:CalendarEvent><t:StartTime>{}</t:StartTime><t:EndTime>{}</t:EndTime><t:BusyType>{}</t:BusyType>",
        local(occurrence.start),
        local(occurrence.end),
        legacy_free_busy(event.show_as)
    );
    if detailed {
        let private = event.sensitivity.hides_details();
        let subject_location = if private && !view_private {
            String::new()
        } else {
            format!(
                "<t:Subject>{}</t:Subject><t:Location>{}</t:Location>",
                escape(event.subject.as_str()),
                escape(event.location.as_str())
            )
        };
        xml.push_str(&format!(
            "<t:CalendarEventDetails>{subject_location}<t:IsMeeting>{}</t:IsMeeting><t:IsRecurring>{}</t:IsRecurring><t:IsException>false</t:IsException><t:IsReminderSet>false</t:IsReminderSet><t:IsPrivate>{private}</t:IsPrivate></t:CalendarEventDetails>",
            event.organizer.is_some(),
            occurrence.is_occurrence
        ));
    }
    xml.push_str("</t:CalendarEvent>");
    xml
}

/// One digit per interval; the highest classification in an interval wins.
fn merged(
    occurrences: &[Occurrence<'_>],
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    interval_minutes: i64,
) -> String {
    let interval = Duration::minutes(interval_minutes.clamp(5, 1440));
    let mut digits = String::new();
    let mut slot = start;
    while slot < end {
        let slot_end = slot + interval;
        let digit = occurrences
            .iter()
            .filter(|occurrence| occurrence.start < slot_end && occurrence.end > slot)
            .map(|occurrence| rank(occurrence.event.show_as))
            .max()
            .map_or('0', |(_, digit)| digit);
        digits.push(digit);
        slot = slot_end;
    }
    digits
}

/// (precedence, digit): OOF over busy over tentative over working elsewhere over free.
fn rank(show_as: ShowAs) -> (u8, char) {
    match show_as {
        ShowAs::Free => (0, '0'),
        ShowAs::WorkingElsewhere => (1, '4'),
        ShowAs::Tentative => (2, '1'),
        ShowAs::Busy => (3, '2'),
        ShowAs::Oof => (4, '3'),
        ShowAs::Unknown => (0, '5'),
    }
}

/// Availability times are in the requester's time zone without an offset; requests here ask for UTC.
fn local(instant: DateTime<Utc>) -> String {
    instant.format("%Y-%m-%dT%H:%M:%S").to_string()
}
