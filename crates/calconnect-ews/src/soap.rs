//! SOAP 1.1 envelopes for EWS: `RequestServerVersion`, `ExchangeImpersonation` and `TimeZoneContext`
//! headers around an operation body.
//!
//! Namespaces are the real `http://` ones (the learn.microsoft.com pages show `https://`, a conversion bug;
//! see "ExchangeImpersonation" and "RequestServerVersion" in the EWS reference).

use quick_xml::escape::escape;

/// SOAP 1.1 envelope namespace.
pub const SOAP_NS: &str = "http://schemas.xmlsoap.org/soap/envelope/";
/// EWS messages namespace (`m:`).
pub const MESSAGES_NS: &str = "http://schemas.microsoft.com/exchange/services/2006/messages";
/// EWS types namespace (`t:`).
pub const TYPES_NS: &str = "http://schemas.microsoft.com/exchange/services/2006/types";

/// `RequestServerVersion@Version` values this client may ask for (`ExchangeVersionType` in types.xsd).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ExchangeVersion {
    /// Exchange 2010 SP2: the oldest schema with everything the test sends.
    Exchange2010Sp2,
    /// Exchange 2013 SP1; understood by Exchange 2013–2019 and Exchange Online.
    #[default]
    Exchange2013Sp1,
    /// Exchange 2016.
    Exchange2016,
}

impl ExchangeVersion {
    /// The schema spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Exchange2010Sp2 => "Exchange2010_SP2",
            Self::Exchange2013Sp1 => "Exchange2013_SP1",
            Self::Exchange2016 => "Exchange2016",
        }
    }
}

/// Everything that goes into `soap:Header`.
#[derive(Debug, Clone, Default)]
pub struct Headers {
    /// The schema version requested.
    pub version: ExchangeVersion,
    /// Primary SMTP address of the mailbox to impersonate (`ExchangeImpersonation/ConnectingSID/PrimarySmtpAddress`).
    pub impersonate: Option<String>,
}

/// Wraps an operation body (an element carrying its own `m:`/`t:` declarations) in a SOAP envelope.
pub fn envelope(headers: &Headers, body: &str) -> String {
    let mut header = format!(
        r#"<t:RequestServerVersion Version="{}"/>"#,
        headers.version.as_str()
    );
    if let Some(mailbox) = &headers.impersonate {
        header.push_str(&format!(
            "<t:ExchangeImpersonation><t:ConnectingSID><t:PrimarySmtpAddress>{}</t:PrimarySmtpAddress></t:ConnectingSID></t:ExchangeImpersonation>",
            escape(mailbox.as_str())
        ));
    }
    // Times in requests are UTC; asking for UTC back keeps the calendar view unambiguous.
    header.push_str(r#"<t:TimeZoneContext><t:TimeZoneDefinition Id="UTC"/></t:TimeZoneContext>"#);
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="{SOAP_NS}" xmlns:t="{TYPES_NS}" xmlns:m="{MESSAGES_NS}"><soap:Header>{header}</soap:Header><soap:Body>{body}</soap:Body></soap:Envelope>"#
    )
}

/// The opening-tag namespace declarations each operation body carries, so the body validates on its own.
pub(crate) fn namespace_declarations() -> String {
    format!(r#"xmlns:m="{MESSAGES_NS}" xmlns:t="{TYPES_NS}""#)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn impersonation_header_names_the_mailbox_by_primary_smtp_address() {
        let headers = Headers {
            impersonate: Some("adele@contoso.com".into()),
            ..Headers::default()
        };
        let xml = envelope(&headers, "<m:Body/>");
        assert!(xml.contains("<t:ExchangeImpersonation><t:ConnectingSID><t:PrimarySmtpAddress>adele@contoso.com</t:PrimarySmtpAddress>"));
        assert!(xml.contains(r#"<t:RequestServerVersion Version="Exchange2013_SP1"/>"#));
        assert!(
            xml.contains(r#"xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/""#),
            "SOAP 1.1 namespace is http://"
        );
    }

    #[test]
    fn mailbox_addresses_are_escaped() {
        let headers = Headers {
            impersonate: Some("a<b>@contoso.com".into()),
            ..Headers::default()
        };
        assert!(envelope(&headers, "").contains("a&lt;b&gt;@contoso.com"));
    }

    #[test]
    fn no_impersonation_header_without_a_mailbox() {
        assert!(!envelope(&Headers::default(), "").contains("ExchangeImpersonation"));
    }
}
