//! Renders EWS SOAP responses as Exchange 2019 does: `ServerVersionInfo` header, response messages with
//! `ResponseClass` / `MessageText` / `ResponseCode` / `DescriptiveLinkKey`, and SOAP faults for throttling
//! (faultcode `a:ErrorServerBusy` with `BackOffMilliseconds`, "EWS throttling in Exchange").
//!
//! Every body element declares its own `m:`/`t:` namespaces so it validates against `messages.xsd` alone.

use chrono::{DateTime, Utc};
use quick_xml::escape::escape;

const SOAP_NS: &str = "http://schemas.xmlsoap.org/soap/envelope/";
const MESSAGES_NS: &str = "http://schemas.microsoft.com/exchange/services/2006/messages";
const TYPES_NS: &str = "http://schemas.microsoft.com/exchange/services/2006/types";
const ERRORS_NS: &str = "http://schemas.microsoft.com/exchange/services/2006/errors";

/// Exchange Server 2019 CU12 as `ServerVersionInfo` reports it.
const SERVER_VERSION: &str = r#"<h:ServerVersionInfo MajorVersion="15" MinorVersion="2" MajorBuildNumber="1118" MinorBuildNumber="7" Version="V2017_07_11" xmlns:h="http://schemas.microsoft.com/exchange/services/2006/types"/>"#;

pub fn namespaces() -> String {
    format!(r#"xmlns:m="{MESSAGES_NS}" xmlns:t="{TYPES_NS}""#)
}

/// A whole envelope around `body`.
pub fn envelope(body: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="{SOAP_NS}"><s:Header>{SERVER_VERSION}</s:Header><s:Body>{body}</s:Body></s:Envelope>"#
    )
}

/// `ResponseClass` + error fields of a response message, or success.
#[derive(Debug, Clone)]
pub enum Status {
    Success,
    Error { code: &'static str, text: String },
}

impl Status {
    pub fn error(code: &'static str, text: impl Into<String>) -> Self {
        Self::Error {
            code,
            text: text.into(),
        }
    }

    /// Opening tag attributes and leading children of a `ResponseMessageType`.
    fn open(&self, element: &str) -> String {
        match self {
            Self::Success => format!(
                r#"<m:{element} ResponseClass="Success"><m:ResponseCode>NoError</m:ResponseCode>"#
            ),
            Self::Error { code, text } => format!(
                r#"<m:{element} ResponseClass="Error"><m:MessageText>{}</m:MessageText><m:ResponseCode>{code}</m:ResponseCode><m:DescriptiveLinkKey>0</m:DescriptiveLinkKey>"#,
                escape(text.as_str())
            ),
        }
    }
}

/// One folder in a `GetFolder` answer.
pub struct FolderAnswer {
    pub status: Status,
    pub id: String,
    pub calendar: bool,
}

pub fn get_folder(answers: &[FolderAnswer]) -> String {
    let mut messages = String::new();
    for answer in answers {
        messages.push_str(&answer.status.open("GetFolderResponseMessage"));
        if matches!(answer.status, Status::Success) {
            let element = if answer.calendar {
                "CalendarFolder"
            } else {
                "Folder"
            };
            messages.push_str(&format!(
                r#"<m:Folders><t:{element}><t:FolderId Id="{id}" ChangeKey="AQAAABYAAAA"/></t:{element}></m:Folders>"#,
                id = escape(answer.id.as_str())
            ));
        }
        messages.push_str("</m:GetFolderResponseMessage>");
    }
    format!(
        r#"<m:GetFolderResponse {}><m:ResponseMessages>{messages}</m:ResponseMessages></m:GetFolderResponse>"#,
        namespaces()
    )
}

/// One occurrence in a `FindItem` calendar view.
pub struct ItemAnswer {
    pub id: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub free_busy: &'static str,
}

pub fn find_item(status: &Status, items: &[ItemAnswer]) -> String {
    let mut message = status.open("FindItemResponseMessage");
    if matches!(status, Status::Success) {
        message.push_str(&format!(
            r#"<m:RootFolder TotalItemsInView="{}" IncludesLastItemInRange="true"><t:Items>"#,
            items.len()
        ));
        for item in items {
            message.push_str(&format!(
                r#"<t:CalendarItem><t:ItemId Id="{}" ChangeKey="DwAAABYAAAA"/><t:Start>{}</t:Start><t:End>{}</t:End><t:LegacyFreeBusyStatus>{}</t:LegacyFreeBusyStatus></t:CalendarItem>"#,
                escape(item.id.as_str()),
                utc(item.start),
                utc(item.end),
                item.free_busy
            ));
        }
        message.push_str("</t:Items></m:RootFolder>");
    }
    message.push_str("</m:FindItemResponseMessage>");
    format!(
        r#"<m:FindItemResponse {}><m:ResponseMessages>{message}</m:ResponseMessages></m:FindItemResponse>"#,
        namespaces()
    )
}

/// One busy period in a free/busy view.
pub struct BusyAnswer {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub busy_type: &'static str,
    /// `Some((subject, location, is_private, is_recurring))` in the Detailed view.
    pub details: Option<(String, String, bool, bool)>,
}

/// One `FreeBusyResponse`.
pub struct AvailabilityAnswer {
    pub status: Status,
    pub view_type: &'static str,
    pub events: Vec<BusyAnswer>,
}

pub fn get_user_availability(answers: &[AvailabilityAnswer]) -> String {
    let mut responses = String::new();
    for answer in answers {
        responses.push_str("<m:FreeBusyResponse>");
        responses.push_str(&answer.status.open("ResponseMessage"));
        responses.push_str("</m:ResponseMessage>");
        if matches!(answer.status, Status::Success) {
            responses.push_str(&format!(
                "<m:FreeBusyView><t:FreeBusyViewType>{}</t:FreeBusyViewType><t:CalendarEventArray>",
                answer.view_type
            ));
            for event in &answer.events {
                responses.push_str(&format!(
                    "<t:CalendarEvent><t:StartTime>{}</t:StartTime><t:EndTime>{}</t:EndTime><t:BusyType>{}</t:BusyType>",
                    local(event.start),
                    local(event.end),
                    event.busy_type
                ));
                if let Some((subject, location, is_private, is_recurring)) = &event.details {
                    let subject_location = if *is_private {
                        String::new()
                    } else {
                        format!(
                            "<t:Subject>{}</t:Subject><t:Location>{}</t:Location>",
                            escape(subject.as_str()),
                            escape(location.as_str())
                        )
                    };
                    responses.push_str(&format!(
                        "<t:CalendarEventDetails>{subject_location}<t:IsMeeting>false</t:IsMeeting><t:IsRecurring>{is_recurring}</t:IsRecurring><t:IsException>false</t:IsException><t:IsReminderSet>false</t:IsReminderSet><t:IsPrivate>{is_private}</t:IsPrivate></t:CalendarEventDetails>"
                    ));
                }
                responses.push_str("</t:CalendarEvent>");
            }
            responses.push_str("</t:CalendarEventArray></m:FreeBusyView>");
        }
        responses.push_str("</m:FreeBusyResponse>");
    }
    format!(
        r#"<m:GetUserAvailabilityResponse {}><m:FreeBusyResponseArray>{responses}</m:FreeBusyResponseArray></m:GetUserAvailabilityResponse>"#,
        namespaces()
    )
}

/// A SOAP fault as Exchange sends it: `faultcode` in the types namespace, `detail` with an errors-namespace
/// `ResponseCode` and `Message`, and `MessageXml` values such as `BackOffMilliseconds`.
pub fn fault(code: &str, message: &str, back_off_millis: Option<u64>) -> String {
    let message_xml = back_off_millis
        .map(|millis| {
            format!(r#"<t:MessageXml xmlns:t="{TYPES_NS}"><t:Value Name="BackOffMilliseconds">{millis}</t:Value></t:MessageXml>"#)
        })
        .unwrap_or_default();
    let message = escape(message);
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="{SOAP_NS}"><s:Body><s:Fault><faultcode xmlns:a="{TYPES_NS}">a:{code}</faultcode><faultstring xml:lang="en-US">{message}</faultstring><detail><e:ResponseCode xmlns:e="{ERRORS_NS}">{code}</e:ResponseCode><e:Message xmlns:e="{ERRORS_NS}">{message}</e:Message>{message_xml}</detail></s:Fault></s:Body></s:Envelope>"#
    )
}

fn utc(instant: DateTime<Utc>) -> String {
    instant.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Availability times are in the requester's time zone without an offset; requests here ask for UTC.
fn local(instant: DateTime<Utc>) -> String {
    instant.format("%Y-%m-%dT%H:%M:%S").to_string()
}

/// HTTP 200 throttling ("EWS throttling in Exchange", table 4): the operation's response message is
/// `ErrorInternalServerError`, and its `MessageXml` names the inner `ErrorServerBusy` with the back-off,
/// spelled as Exchange spells inner errors (`InnerErrorResponseCode`, `InnerErrorMessageText`).
pub fn busy_response_message(operation: &str, back_off_millis: u64) -> String {
    let message = r#"<m:MessageText>An internal server error occurred. The operation failed.</m:MessageText><m:ResponseCode>ErrorInternalServerError</m:ResponseCode><m:DescriptiveLinkKey>0</m:DescriptiveLinkKey>"#;
    let inner = format!(
        r#"<m:MessageXml><t:Value Name="InnerErrorMessageText">The server cannot service this request right now. Try again later.</t:Value><t:Value Name="InnerErrorResponseCode">ErrorServerBusy</t:Value><t:Value Name="InnerErrorDescriptiveLinkKey">0</t:Value><t:Value Name="BackOffMilliseconds">{back_off_millis}</t:Value></m:MessageXml>"#
    );
    let body = if operation == "GetUserAvailability" {
        format!(
            r#"<m:GetUserAvailabilityResponse {}><m:FreeBusyResponseArray><m:FreeBusyResponse><m:ResponseMessage ResponseClass="Error">{message}{inner}</m:ResponseMessage></m:FreeBusyResponse></m:FreeBusyResponseArray></m:GetUserAvailabilityResponse>"#,
            namespaces()
        )
    } else {
        format!(
            r#"<m:{operation}Response {}><m:ResponseMessages><m:{operation}ResponseMessage ResponseClass="Error">{message}{inner}</m:{operation}ResponseMessage></m:ResponseMessages></m:{operation}Response>"#,
            namespaces()
        )
    };
    envelope(&body)
}
