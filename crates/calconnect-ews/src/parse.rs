//! Reading EWS SOAP responses with quick-xml: `ServerVersionInfo`, `soap:Fault` (with `BackOffMilliseconds`)
//! and the `ResponseClass` / `ResponseCode` / `MessageText` of each response message.
//!
//! Responses are small, so they are read into a minimal element tree keyed by local name; namespace
//! prefixes vary between Exchange versions, local names do not.
//!
//! The tree is bounded while it is read, since the document comes from a server that may be hostile:
//! at most [`MAX_DEPTH`] levels (so every walk of it, and its drop, which recurse, stay shallow: a
//! 300,000-deep answer would otherwise overflow the stack), [`MAX_ELEMENTS`] elements and
//! [`MAX_ATTRIBUTES`] attributes per element (quick-xml's duplicate check is quadratic in them). Its
//! size is bounded before that, by [`crate::MAX_BODY_BYTES`]. Every name, attribute value and text has
//! its control characters stripped ([`strip_control_characters`]): `MessageText` and `faultstring`
//! reach terminals and reports.

use calconnect_identity::text::strip_control_characters;
use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;
use serde::Serialize;

use crate::response_code::ResponseCode;

/// The deepest element nesting read. EWS answers nest about a dozen levels (envelope, body, response,
/// messages, message, items, item, properties); Autodiscover's fewer.
pub const MAX_DEPTH: usize = 64;

/// The most elements read from one document; a 4 MiB answer of real EWS XML holds under 100,000.
pub const MAX_ELEMENTS: usize = 250_000;

/// The most attributes read on one element (EWS elements carry a few, namespace declarations included).
pub const MAX_ATTRIBUTES: usize = 64;

/// One XML element: local name, attributes by local name, concatenated text and children.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct XmlElement {
    /// Local name, without prefix.
    pub name: String,
    /// Attributes as (local name, unescaped value).
    pub attributes: Vec<(String, String)>,
    /// Text directly inside the element.
    pub text: String,
    /// Child elements in document order.
    pub children: Vec<XmlElement>,
}

impl XmlElement {
    /// Parses a whole document and returns its root element; refuses one deeper than [`MAX_DEPTH`],
    /// with more than [`MAX_ELEMENTS`] elements or an element with more than [`MAX_ATTRIBUTES`].
    pub fn parse(document: &str) -> Result<Self, String> {
        Self::parse_unchecked(document).map_err(|detail| strip_control_characters(&detail))
    }

    fn parse_unchecked(document: &str) -> Result<Self, String> {
        let mut reader = Reader::from_str(document);
        reader.config_mut().trim_text(true);
        let mut stack: Vec<XmlElement> = Vec::new();
        let mut elements = 0usize;
        let mut count = |depth: usize| {
            elements += 1;
            if depth > MAX_DEPTH {
                Err(format!("elements nest deeper than {MAX_DEPTH} levels"))
            } else if elements > MAX_ELEMENTS {
                Err(format!("more than {MAX_ELEMENTS} elements"))
            } else {
                Ok(())
            }
        };
        loop {
            match reader.read_event() {
                Ok(Event::Start(start)) => {
                    count(stack.len() + 1)?;
                    stack.push(Self::open(&start)?);
                }
                Ok(Event::Empty(start)) => {
                    count(stack.len() + 1)?;
                    let element = Self::open(&start)?;
                    match stack.last_mut() {
                        Some(parent) => parent.children.push(element),
                        None => return Ok(element),
                    }
                }
                Ok(Event::End(_)) => {
                    let element = stack.pop().ok_or("unbalanced end tag")?;
                    match stack.last_mut() {
                        Some(parent) => parent.children.push(element),
                        None => return Ok(element),
                    }
                }
                Ok(Event::Text(text)) => {
                    if let Some(current) = stack.last_mut() {
                        let text = text.unescape().map_err(|error| error.to_string())?;
                        current.text.push_str(&strip_control_characters(&text));
                    }
                }
                Ok(Event::CData(data)) => {
                    if let Some(current) = stack.last_mut() {
                        current
                            .text
                            .push_str(&strip_control_characters(&String::from_utf8_lossy(&data)));
                    }
                }
                Ok(Event::Eof) => {
                    return Err("document ended before its root element closed".into())
                }
                Ok(_) => {}
                Err(error) => return Err(format!("at byte {}: {error}", reader.error_position())),
            }
        }
    }

    fn open(start: &BytesStart<'_>) -> Result<Self, String> {
        let name = strip_control_characters(&String::from_utf8_lossy(start.local_name().as_ref()));
        let mut attributes = Vec::new();
        for attribute in start.attributes() {
            if attributes.len() == MAX_ATTRIBUTES {
                return Err(format!(
                    "<{name}> has more than {MAX_ATTRIBUTES} attributes"
                ));
            }
            let attribute = attribute.map_err(|error| error.to_string())?;
            let key = strip_control_characters(&String::from_utf8_lossy(
                attribute.key.local_name().as_ref(),
            ));
            let value = strip_control_characters(
                &attribute
                    .unescape_value()
                    .map_err(|error| error.to_string())?,
            );
            attributes.push((key, value));
        }
        Ok(Self {
            name,
            attributes,
            ..Self::default()
        })
    }

    /// The value of an attribute by local name.
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// The first direct child with this local name.
    pub fn child(&self, name: &str) -> Option<&XmlElement> {
        self.children.iter().find(|child| child.name == name)
    }

    /// The text of the first direct child with this local name.
    pub fn child_text(&self, name: &str) -> Option<&str> {
        self.child(name).map(|child| child.text.as_str())
    }

    /// The first descendant (depth first, self excluded) with this local name.
    pub fn descendant(&self, name: &str) -> Option<&XmlElement> {
        self.children.iter().find_map(|child| {
            if child.name == name {
                Some(child)
            } else {
                child.descendant(name)
            }
        })
    }

    /// Every descendant with this local name, in document order.
    pub fn descendants<'a>(&'a self, name: &str) -> Vec<&'a XmlElement> {
        let mut found = Vec::new();
        self.collect(name, &mut found);
        found
    }

    fn collect<'a>(&'a self, name: &str, found: &mut Vec<&'a XmlElement>) {
        for child in &self.children {
            if child.name == name {
                found.push(child);
            }
            child.collect(name, found);
        }
    }
}

/// `ServerVersionInfo` from the SOAP header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServerVersionInfo {
    /// Major build number (15 for Exchange 2013–2019 and Exchange Online).
    pub major: u32,
    /// Minor build number.
    pub minor: u32,
    /// Build number.
    pub build: u32,
    /// Revision.
    pub revision: u32,
    /// The schema version the server answered with (`Version` attribute), e.g. `V2018_01_08`.
    pub version: Option<String>,
}

impl ServerVersionInfo {
    /// `15.2.1118.7 (V2018_01_08)` style text.
    pub fn display(&self) -> String {
        let build = format!(
            "{}.{}.{}.{}",
            self.major, self.minor, self.build, self.revision
        );
        match &self.version {
            Some(version) => format!("{build} ({version})"),
            None => build,
        }
    }
}

/// A `soap:Fault`, as Exchange sends for throttling (`ErrorServerBusy`) and schema errors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SoapFault {
    /// `faultcode`, e.g. `a:ErrorServerBusy`.
    pub fault_code: String,
    /// `faultstring`.
    pub fault_string: String,
    /// `detail/ResponseCode`, when present.
    pub response_code: Option<ResponseCode>,
    /// `detail/MessageXml/Value[@Name="BackOffMilliseconds"]`, when present.
    pub back_off_milliseconds: Option<u64>,
}

/// One `*ResponseMessage` (or availability `ResponseMessage`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseMessage {
    /// `ResponseClass` attribute: `Success`, `Warning` or `Error`.
    pub response_class: String,
    /// `ResponseCode` text (`NoError` when absent on success).
    pub response_code: ResponseCode,
    /// `MessageText`, when present.
    pub message_text: Option<String>,
    /// `MessageXml/Value[@Name="BackOffMilliseconds"]`, when present.
    pub back_off_milliseconds: Option<u64>,
    /// `MessageXml/Value[@Name="InnerErrorResponseCode"]`: the real cause behind an
    /// `ErrorInternalServerError` (e.g. `ErrorServerBusy`, "EWS throttling in Exchange" table 4).
    pub inner_response_code: Option<ResponseCode>,
}

impl ResponseMessage {
    /// Throttled: `ErrorServerBusy`, or HTTP 200 `ErrorInternalServerError` with an inner `ErrorServerBusy`.
    pub fn is_server_busy(&self) -> bool {
        self.response_code == ResponseCode::ErrorServerBusy
            || (self.response_code == ResponseCode::ErrorInternalServerError
                && self.inner_response_code == Some(ResponseCode::ErrorServerBusy))
    }
}

/// A parsed SOAP response envelope.
#[derive(Debug, Clone)]
pub struct SoapResponse {
    /// `ServerVersionInfo` from the header, when sent.
    pub server_version: Option<ServerVersionInfo>,
    /// The fault, when the body is a `soap:Fault`.
    pub fault: Option<SoapFault>,
    /// The child of `soap:Body`.
    pub body: Option<XmlElement>,
}

impl SoapResponse {
    /// Parses a SOAP 1.1 envelope.
    pub fn parse(document: &str) -> Result<Self, String> {
        let envelope = XmlElement::parse(document)?;
        if envelope.name != "Envelope" {
            return Err(format!(
                "expected a soap Envelope, found <{}>",
                envelope.name
            ));
        }
        let server_version = envelope
            .child("Header")
            .and_then(|header| header.child("ServerVersionInfo"))
            .map(|info| {
                let number = |name: &str| {
                    info.attribute(name)
                        .and_then(|value| value.parse().ok())
                        .unwrap_or(0)
                };
                ServerVersionInfo {
                    major: number("MajorVersion"),
                    minor: number("MinorVersion"),
                    build: number("MajorBuildNumber"),
                    revision: number("MinorBuildNumber"),
                    version: info.attribute("Version").map(str::to_owned),
                }
            });
        let body = envelope
            .child("Body")
            .ok_or("the envelope has no soap Body")?;
        let first = body.children.first().cloned();
        let fault = first
            .as_ref()
            .filter(|element| element.name == "Fault")
            .map(|fault| SoapFault {
                fault_code: fault.child_text("faultcode").unwrap_or_default().to_owned(),
                fault_string: fault
                    .child_text("faultstring")
                    .unwrap_or_default()
                    .to_owned(),
                response_code: fault
                    .descendant("ResponseCode")
                    .map(|code| ResponseCode::parse(&code.text)),
                back_off_milliseconds: back_off(fault),
            });
        Ok(Self {
            server_version,
            body: if fault.is_some() { None } else { first },
            fault,
        })
    }

    /// Every response message in the body, in order.
    pub fn messages(&self) -> Vec<ResponseMessage> {
        let Some(body) = &self.body else {
            return Vec::new();
        };
        let mut messages = Vec::new();
        collect_messages(body, &mut messages);
        messages
    }
}

fn collect_messages(element: &XmlElement, messages: &mut Vec<ResponseMessage>) {
    for child in &element.children {
        if let Some(response_class) = child.attribute("ResponseClass") {
            messages.push(ResponseMessage {
                response_class: response_class.to_owned(),
                response_code: child
                    .child_text("ResponseCode")
                    .map_or(ResponseCode::NoError, ResponseCode::parse),
                message_text: child.child_text("MessageText").map(str::to_owned),
                back_off_milliseconds: back_off(child),
                inner_response_code: message_value(child, "InnerErrorResponseCode")
                    .map(ResponseCode::parse),
            });
        } else {
            collect_messages(child, messages);
        }
    }
}

fn back_off(element: &XmlElement) -> Option<u64> {
    message_value(element, "BackOffMilliseconds").and_then(|text| text.trim().parse().ok())
}

/// Text of the `MessageXml` `Value` named `name` under `element`.
fn message_value<'a>(element: &'a XmlElement, name: &str) -> Option<&'a str> {
    element
        .descendants("Value")
        .into_iter()
        .find(|value| value.attribute("Name") == Some(name))
        .map(|value| value.text.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    const THROTTLED: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/">
  <s:Body><s:Fault>
    <faultcode xmlns:a="http://schemas.microsoft.com/exchange/services/2006/types">a:ErrorServerBusy</faultcode>
    <faultstring xml:lang="en-US">The server cannot service this request right now. Try again later.</faultstring>
    <detail>
      <e:ResponseCode xmlns:e="http://schemas.microsoft.com/exchange/services/2006/errors">ErrorServerBusy</e:ResponseCode>
      <e:Message xmlns:e="http://schemas.microsoft.com/exchange/services/2006/errors">The server cannot service this request right now. Try again later.</e:Message>
      <t:MessageXml xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types">
        <t:Value Name="BackOffMilliseconds">297749</t:Value>
      </t:MessageXml>
    </detail>
  </s:Fault></s:Body>
</s:Envelope>"#;

    const GET_FOLDER_DENIED: &str = r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/">
  <s:Header><h:ServerVersionInfo MajorVersion="15" MinorVersion="2" MajorBuildNumber="1118" MinorBuildNumber="7" Version="V2017_07_11" xmlns:h="http://schemas.microsoft.com/exchange/services/2006/types"/></s:Header>
  <s:Body><m:GetFolderResponse xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages">
    <m:ResponseMessages><m:GetFolderResponseMessage ResponseClass="Error">
      <m:MessageText>The account does not have permission to impersonate the requested user.</m:MessageText>
      <m:ResponseCode>ErrorImpersonateUserDenied</m:ResponseCode><m:DescriptiveLinkKey>0</m:DescriptiveLinkKey>
    </m:GetFolderResponseMessage></m:ResponseMessages>
  </m:GetFolderResponse></s:Body></s:Envelope>"#;

    #[test]
    fn server_busy_fault_yields_its_back_off_hint() {
        let response = SoapResponse::parse(THROTTLED).expect("fault parses");
        let fault = response.fault.expect("a fault");
        assert_eq!(fault.response_code, Some(ResponseCode::ErrorServerBusy));
        assert_eq!(fault.back_off_milliseconds, Some(297_749));
        assert_eq!(fault.fault_code, "a:ErrorServerBusy");
    }

    #[test]
    fn error_response_message_yields_class_code_text_and_server_version() {
        let response = SoapResponse::parse(GET_FOLDER_DENIED).expect("response parses");
        let messages = response.messages();
        assert_eq!(messages.len(), 1);
        assert_eq!(messages[0].response_class, "Error");
        assert_eq!(
            messages[0].response_code,
            ResponseCode::ErrorImpersonateUserDenied
        );
        assert!(messages[0]
            .message_text
            .as_deref()
            .unwrap_or_default()
            .contains("impersonate"));
        let version = response.server_version.expect("ServerVersionInfo");
        assert_eq!(version.display(), "15.2.1118.7 (V2017_07_11)");
    }

    #[test]
    fn internal_server_error_with_an_inner_server_busy_is_throttling() {
        let document = r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>
  <m:FindItemResponse xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types">
    <m:ResponseMessages><m:FindItemResponseMessage ResponseClass="Error">
      <m:MessageText>An internal server error occurred. The operation failed.</m:MessageText>
      <m:ResponseCode>ErrorInternalServerError</m:ResponseCode><m:DescriptiveLinkKey>0</m:DescriptiveLinkKey>
      <m:MessageXml><t:Value Name="InnerErrorMessageText">The server cannot service this request right now.</t:Value>
        <t:Value Name="InnerErrorResponseCode">ErrorServerBusy</t:Value><t:Value Name="BackOffMilliseconds">250</t:Value></m:MessageXml>
    </m:FindItemResponseMessage></m:ResponseMessages></m:FindItemResponse></s:Body></s:Envelope>"#;
        let message = SoapResponse::parse(document).expect("parses").messages()[0].clone();
        assert_eq!(
            message.response_code,
            ResponseCode::ErrorInternalServerError
        );
        assert_eq!(
            message.inner_response_code,
            Some(ResponseCode::ErrorServerBusy)
        );
        assert_eq!(message.back_off_milliseconds, Some(250));
        assert!(message.is_server_busy());
        let other_inner = ResponseMessage {
            inner_response_code: Some(ResponseCode::Other("ErrorInvalidLicense".into())),
            ..message
        };
        assert!(
            !other_inner.is_server_busy(),
            "only an inner ErrorServerBusy is throttling"
        );
    }

    #[test]
    fn nesting_deeper_than_the_limit_is_refused_while_reading() {
        let nested = |depth: usize| format!("{}{}", "<a>".repeat(depth), "</a>".repeat(depth));
        let mut root = XmlElement::parse(&nested(MAX_DEPTH)).expect("the limit itself is read");
        for _ in 1..MAX_DEPTH {
            root = root.children.pop().unwrap();
        }
        assert!(root.children.is_empty());
        let error = XmlElement::parse(&nested(MAX_DEPTH + 1)).unwrap_err();
        assert!(error.contains("deeper than 64"), "{error}");
        // Refused at level 65, long before the end: an unclosed document of 300,000 levels too.
        assert!(XmlElement::parse(&"<a>".repeat(300_000)).is_err());
        let empty_at_the_bottom = format!(
            "{}<b/>{}",
            "<a>".repeat(MAX_DEPTH),
            "</a>".repeat(MAX_DEPTH)
        );
        assert!(XmlElement::parse(&empty_at_the_bottom).is_err());
    }

    #[test]
    fn too_many_elements_or_attributes_are_refused() {
        let wide = format!("<r>{}</r>", "<a/>".repeat(MAX_ELEMENTS));
        let error = XmlElement::parse(&wide).unwrap_err();
        assert!(error.contains("more than 250000 elements"), "{error}");
        let attributes: String = (0..=MAX_ATTRIBUTES)
            .map(|n| format!(" a{n}=\"\""))
            .collect();
        let error = XmlElement::parse(&format!("<r{attributes}/>")).unwrap_err();
        assert!(error.contains("more than 64 attributes"), "{error}");
    }

    #[test]
    fn control_characters_are_stripped_from_names_attributes_and_text() {
        let root =
            XmlElement::parse("<r v=\"x&#x1b;[31my\">a\u{1b}[2Jb&#x9b;c<![CDATA[d\u{7}e]]></r>")
                .unwrap();
        assert_eq!(root.attribute("v"), Some("x[31my"));
        assert_eq!(root.text, "a[2Jbcde");
    }

    #[test]
    fn a_document_that_is_not_an_envelope_is_rejected() {
        assert!(SoapResponse::parse("<html><body>Bad gateway</body></html>").is_err());
        assert!(SoapResponse::parse("<Envelope><Body>").is_err());
    }
}
