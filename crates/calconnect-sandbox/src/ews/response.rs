//! Renders EWS SOAP responses as Exchange 2019 does: `ServerVersionInfo` header, response messages with
//! `ResponseClass` / `MessageText` / `ResponseCode` / `DescriptiveLinkKey`, and SOAP faults for throttling
//! (faultcode `a:ErrorServerBusy` with `BackOffMilliseconds`, "EWS throttling in Exchange").
//!
//! Every body element declares its own `m:`/`t:` namespaces so it validates against `messages.xsd` alone.

use quick_xml::escape::escape;

use crate::state::AppState;

const SOAP_NS: &str = "http://schemas.xmlsoap.org/soap/envelope/";
const MESSAGES_NS: &str = "http://schemas.microsoft.com/exchange/services/2006/messages";
const TYPES_NS: &str = "http://schemas.microsoft.com/exchange/services/2006/types";
const ERRORS_NS: &str = "http://schemas.microsoft.com/exchange/services/2006/errors";

/// `ServerVersionInfo` of the tenant's deployment (Exchange 2019 CU14 on premises by default).
pub fn server_version_info(state: &AppState) -> String {
    let version = state.tenant().exchange.version();
    format!(
        r#"<h:ServerVersionInfo MajorVersion="{}" MinorVersion="{}" MajorBuildNumber="{}" MinorBuildNumber="{}" Version="{}" xmlns:h="{TYPES_NS}"/>"#,
        version.major,
        version.minor,
        version.build,
        version.revision,
        version.schema_name()
    )
}

/// A request-level error, answered as an HTTP 500 SOAP fault.
#[derive(Debug, Clone)]
pub struct RequestFault {
    pub code: &'static str,
    pub message: String,
}

impl RequestFault {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

pub fn namespaces() -> String {
    format!(r#"xmlns:m="{MESSAGES_NS}" xmlns:t="{TYPES_NS}""#)
}

/// A whole envelope around `body`, with the deployment's `ServerVersionInfo` header.
pub fn envelope(state: &AppState, body: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="{SOAP_NS}"><s:Header>{}</s:Header><s:Body>{body}</s:Body></s:Envelope>"#,
        server_version_info(state)
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
    pub(crate) fn open(&self, element: &str) -> String {
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

/// HTTP 200 throttling ("EWS throttling in Exchange", table 4): the operation's response message is
/// `ErrorInternalServerError`, and its `MessageXml` names the inner `ErrorServerBusy` with the back-off,
/// spelled as Exchange spells inner errors (`InnerErrorResponseCode`, `InnerErrorMessageText`).
pub fn busy_response_message(state: &AppState, operation: &str, back_off_millis: u64) -> String {
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
    envelope(state, &body)
}
