//! EWS operations beyond the calendar core, one module each: `ConvertId` ([`convert_id`]),
//! `GetServerTimeZones` ([`server_time_zones`]) and `ResolveNames` ([`resolve_names`]). Each module has a
//! `parse` taking the operation's body element and an `answer` rendering the response body that
//! [`super::response::envelope`] wraps.
//!
//! Also here: the fault Exchange answers to a body it cannot dispatch ([`invalid_request_fault`]).

pub(crate) mod convert_id;
pub(crate) mod resolve_names;
pub(crate) mod server_time_zones;

use quick_xml::escape::escape;

use super::request::{Malformed, Node};
use super::response::Status;

const SOAP_NS: &str = "http://schemas.xmlsoap.org/soap/envelope/";
const TYPES_NS: &str = "http://schemas.microsoft.com/exchange/services/2006/types";
const ERRORS_NS: &str = "http://schemas.microsoft.com/exchange/services/2006/errors";
pub(crate) const XSI_NS: &str = "http://www.w3.org/2001/XMLSchema-instance";

/// Exchange's answer to a SOAP body it cannot dispatch to an operation (an unknown or unimplemented
/// body element, or an empty body): HTTP 500 with the fault `a:ErrorInvalidRequest`, "The request is
/// invalid.", and the WCF `Action` header of the "no addressing" namespace that the dispatcher adds.
///
/// Sources: Exchange Online's answer to such a POST, quoted in OfficeDev/ews-managed-api#243
/// (https://github.com/OfficeDev/ews-managed-api/issues/243); the `ErrorInvalidRequest` row of
/// https://learn.microsoft.com/exchange/client-developer/web-service-reference/responsecode ("Exchange
/// Web Services can determine the method to call from the local name of the root element in the SOAP
/// body"); the same fault body from Exchange 2019 in ecederstrand/exchangelib#927. Clients treat it as
/// final for the request (exchangelib raises `ErrorInvalidRequest`; it retries other
/// `RequestServerVersion` values first, as it does for every `ErrorInvalidRequest`).
pub(crate) fn invalid_request_fault() -> String {
    const MESSAGE: &str = "The request is invalid.";
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="{SOAP_NS}"><s:Header><Action s:mustUnderstand="1" xmlns="http://schemas.microsoft.com/ws/2005/05/addressing/none">*</Action></s:Header><s:Body><s:Fault><faultcode xmlns:a="{TYPES_NS}">a:ErrorInvalidRequest</faultcode><faultstring xml:lang="en-US">{MESSAGE}</faultstring><detail><e:ResponseCode xmlns:e="{ERRORS_NS}">ErrorInvalidRequest</e:ResponseCode><e:Message xmlns:e="{ERRORS_NS}">{MESSAGE}</e:Message></detail></s:Fault></s:Body></s:Envelope>"#
    )
}

/// The response class of a response message: [`Status`] plus the `Warning` class some operations use
/// (`ResolveNames` with several candidates).
#[derive(Debug, Clone)]
pub(crate) enum Outcome {
    Status(Status),
    Warning { code: &'static str, text: String },
}

impl From<Status> for Outcome {
    fn from(status: Status) -> Self {
        Self::Status(status)
    }
}

impl Outcome {
    pub(crate) fn error(code: &'static str, text: impl Into<String>) -> Self {
        Self::Status(Status::error(code, text))
    }

    /// Opening tag and leading children (`MessageText`, `ResponseCode`, `DescriptiveLinkKey`) of a
    /// `ResponseMessageType`, as `response.rs` renders them for the calendar operations.
    pub(crate) fn open(&self, element: &str) -> String {
        let (class, code, text) = match self {
            Self::Status(Status::Success) => {
                return format!(
                    r#"<m:{element} ResponseClass="Success"><m:ResponseCode>NoError</m:ResponseCode>"#
                )
            }
            Self::Status(Status::Error { code, text }) => ("Error", code, text),
            Self::Warning { code, text } => ("Warning", code, text),
        };
        format!(
            r#"<m:{element} ResponseClass="{class}"><m:MessageText>{}</m:MessageText><m:ResponseCode>{code}</m:ResponseCode><m:DescriptiveLinkKey>0</m:DescriptiveLinkKey>"#,
            escape(text.as_str())
        )
    }
}

/// An `xs:boolean` attribute (`true`/`false`/`1`/`0`); anything else breaks the schema.
pub(crate) fn boolean(node: &Node, name: &str) -> Result<Option<bool>, Malformed> {
    match node.attribute(name).map(str::trim) {
        None => Ok(None),
        Some("true" | "1") => Ok(Some(true)),
        Some("false" | "0") => Ok(Some(false)),
        Some(other) => Err(Malformed::Schema(format!(
            "The '{name}' attribute is invalid - The value '{other}' is invalid according to its datatype 'http://www.w3.org/2001/XMLSchema:boolean'"
        ))),
    }
}

/// The mailboxes of the tenant with their owners, read only from the `users` and `mailboxes` fields.
pub(crate) fn directory(
    tenant: &crate::tenant::Tenant,
) -> impl Iterator<Item = (&crate::tenant::Mailbox, &crate::tenant::User)> {
    tenant.exchange.mailboxes.iter().filter_map(|mailbox| {
        tenant
            .users
            .iter()
            .find(|user| {
                user.user_principal_name
                    .eq_ignore_ascii_case(&mailbox.owner)
            })
            .map(|user| (mailbox, user))
    })
}
