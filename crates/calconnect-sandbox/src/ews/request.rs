//! Reads the EWS SOAP requests the sandbox understands: headers (`ExchangeImpersonation`,
//! `RequestServerVersion`) and the `GetFolder`, `FindItem` and `GetUserAvailabilityRequest` bodies;
//! `ConvertId`, `GetServerTimeZones` and `ResolveNames` are parsed by their modules in `operations`.

use chrono::{DateTime, NaiveDateTime, Utc};
use quick_xml::events::{BytesStart, Event};

use super::operations;

/// A minimal element tree keyed by local name (prefixes vary between clients; local names do not).
#[derive(Debug, Clone, Default)]
pub struct Node {
    pub name: String,
    pub namespace: String,
    pub attributes: Vec<(String, String)>,
    pub text: String,
    pub children: Vec<Node>,
}

impl Node {
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    pub fn child(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|child| child.name == name)
    }

    pub fn descendant(&self, name: &str) -> Option<&Node> {
        self.children.iter().find_map(|child| {
            if child.name == name {
                Some(child)
            } else {
                child.descendant(name)
            }
        })
    }

    pub fn descendants<'a>(&'a self, name: &str, found: &mut Vec<&'a Node>) {
        for child in &self.children {
            if child.name == name {
                found.push(child);
            }
            child.descendants(name, found);
        }
    }
}

/// Parses a document into a [`Node`] tree, resolving each element's namespace.
pub fn parse(document: &str) -> Result<Node, String> {
    let mut reader = quick_xml::NsReader::from_str(document);
    reader.config_mut().trim_text(true);
    let mut stack: Vec<Node> = Vec::new();
    loop {
        let (resolved, event) = reader
            .read_resolved_event()
            .map_err(|error| error.to_string())?;
        let namespace = match resolved {
            quick_xml::name::ResolveResult::Bound(namespace) => {
                String::from_utf8_lossy(namespace.as_ref()).into_owned()
            }
            _ => String::new(),
        };
        match event {
            Event::Start(start) => stack.push(open(&start, namespace)?),
            Event::Empty(start) => {
                let node = open(&start, namespace)?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(node),
                    None => return Ok(node),
                }
            }
            Event::End(_) => {
                let node = stack.pop().ok_or("unbalanced end tag")?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(node),
                    None => return Ok(node),
                }
            }
            Event::Text(text) => {
                if let Some(current) = stack.last_mut() {
                    current
                        .text
                        .push_str(&text.unescape().map_err(|error| error.to_string())?);
                }
            }
            Event::Eof => return Err("document ended early".into()),
            _ => {}
        }
    }
}

fn open(start: &BytesStart<'_>, namespace: String) -> Result<Node, String> {
    let name = String::from_utf8_lossy(start.local_name().as_ref()).into_owned();
    let mut attributes = Vec::new();
    for attribute in start.attributes() {
        let attribute = attribute.map_err(|error| error.to_string())?;
        let key = String::from_utf8_lossy(attribute.key.local_name().as_ref()).into_owned();
        let value = attribute
            .unescape_value()
            .map_err(|error| error.to_string())?
            .into_owned();
        attributes.push((key, value));
    }
    Ok(Node {
        name,
        namespace,
        attributes,
        ..Node::default()
    })
}

/// The operation in a request body.
#[derive(Debug, Clone)]
pub enum Operation {
    GetFolder {
        /// (distinguished folder id, delegate mailbox) per requested folder.
        folders: Vec<(String, Option<String>)>,
    },
    FindItem {
        folder: String,
        mailbox: Option<String>,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        max_entries: Option<usize>,
    },
    GetUserAvailability {
        mailboxes: Vec<String>,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        detailed: bool,
    },
    ConvertId(operations::convert_id::Request),
    GetServerTimeZones(operations::server_time_zones::Request),
    ResolveNames(operations::resolve_names::Request),
}

impl Operation {
    /// The operation's element name (`GetFolder`, `FindItem`, `GetUserAvailability`).
    pub fn name(&self) -> &'static str {
        match self {
            Self::GetFolder { .. } => "GetFolder",
            Self::FindItem { .. } => "FindItem",
            Self::GetUserAvailability { .. } => "GetUserAvailability",
            Self::ConvertId(_) => "ConvertId",
            Self::GetServerTimeZones(_) => "GetServerTimeZones",
            Self::ResolveNames(_) => "ResolveNames",
        }
    }
}

/// A parsed request.
#[derive(Debug, Clone)]
pub struct SoapRequest {
    /// SMTP/UPN from `ExchangeImpersonation/ConnectingSID`, when present.
    pub impersonate: Option<String>,
    /// Whether an impersonation header was present but named nobody.
    pub empty_impersonation: bool,
    pub operation: Operation,
}

pub const SOAP_NS: &str = "http://schemas.xmlsoap.org/soap/envelope/";
pub const MESSAGES_NS: &str = "http://schemas.microsoft.com/exchange/services/2006/messages";

/// Why a request could not be served.
#[derive(Debug, Clone)]
pub enum Malformed {
    /// The body breaks the schema: an `ErrorSchemaValidation` fault.
    Schema(String),
    /// An empty body, or a body element that names no operation the sandbox serves: Exchange's
    /// `ErrorInvalidRequest` fault ([`super::operations::invalid_request_fault`]).
    InvalidRequest(String),
}

impl SoapRequest {
    pub fn parse(document: &str) -> Result<Self, Malformed> {
        let envelope = parse(document).map_err(Malformed::Schema)?;
        if envelope.name != "Envelope" || envelope.namespace != SOAP_NS {
            return Err(Malformed::Schema(format!(
                "expected a SOAP 1.1 Envelope in {SOAP_NS}"
            )));
        }
        let header = envelope.child("Header");
        let impersonation = header.and_then(|header| header.child("ExchangeImpersonation"));
        let impersonate = impersonation
            .and_then(|element| element.child("ConnectingSID"))
            .and_then(|sid| {
                ["PrimarySmtpAddress", "SmtpAddress", "PrincipalName"]
                    .iter()
                    .find_map(|name| sid.child(name))
                    .map(|node| node.text.trim().to_owned())
                    .filter(|text| !text.is_empty())
            });
        let empty_impersonation = impersonation.is_some() && impersonate.is_none();
        let body = envelope
            .child("Body")
            .ok_or_else(|| Malformed::Schema("no soap Body".into()))?;
        let operation = body
            .children
            .first()
            .ok_or_else(|| Malformed::InvalidRequest("empty soap Body".into()))?;
        if operation.namespace != MESSAGES_NS {
            return Err(Malformed::Schema(format!(
                "operation element {} is not in {MESSAGES_NS}",
                operation.name
            )));
        }
        let operation = match operation.name.as_str() {
            "GetFolder" => {
                let mut ids = Vec::new();
                operation.descendants("DistinguishedFolderId", &mut ids);
                Operation::GetFolder {
                    folders: ids.into_iter().map(distinguished).collect(),
                }
            }
            "FindItem" => {
                let view = operation
                    .child("CalendarView")
                    .ok_or_else(|| Malformed::Schema("FindItem without CalendarView".into()))?;
                let parent = operation
                    .child("ParentFolderIds")
                    .and_then(|parent| parent.child("DistinguishedFolderId"))
                    .ok_or_else(|| {
                        Malformed::Schema("FindItem without a distinguished parent folder".into())
                    })?;
                let (folder, mailbox) = distinguished(parent);
                Operation::FindItem {
                    folder,
                    mailbox,
                    start: date_time(view.attribute("StartDate"))?,
                    end: date_time(view.attribute("EndDate"))?,
                    max_entries: view
                        .attribute("MaxEntriesReturned")
                        .and_then(|value| value.parse().ok()),
                }
            }
            "GetUserAvailabilityRequest" => {
                let mut data = Vec::new();
                operation.descendants("MailboxData", &mut data);
                let mailboxes = data
                    .into_iter()
                    .filter_map(|item| item.child("Email").and_then(|email| email.child("Address")))
                    .map(|address| address.text.trim().to_owned())
                    .collect();
                let window = operation.descendant("TimeWindow").ok_or_else(|| {
                    Malformed::Schema("GetUserAvailabilityRequest without TimeWindow".into())
                })?;
                let text = |name: &str| window.child(name).map(|node| node.text.as_str());
                let view = operation
                    .descendant("RequestedView")
                    .map_or("Detailed", |node| node.text.trim());
                Operation::GetUserAvailability {
                    mailboxes,
                    start: date_time(text("StartTime"))?,
                    end: date_time(text("EndTime"))?,
                    detailed: view.starts_with("Detailed"),
                }
            }
            "ConvertId" => Operation::ConvertId(operations::convert_id::parse(operation)?),
            "GetServerTimeZones" => {
                Operation::GetServerTimeZones(operations::server_time_zones::parse(operation)?)
            }
            "ResolveNames" => Operation::ResolveNames(operations::resolve_names::parse(operation)?),
            other => return Err(Malformed::InvalidRequest(format!("no operation {other}"))),
        };
        Ok(Self {
            impersonate,
            empty_impersonation,
            operation,
        })
    }
}

fn distinguished(node: &Node) -> (String, Option<String>) {
    let id = node.attribute("Id").unwrap_or_default().to_owned();
    let mailbox = node
        .child("Mailbox")
        .and_then(|mailbox| mailbox.child("EmailAddress"))
        .map(|email| email.text.trim().to_owned());
    (id, mailbox)
}

/// xs:dateTime with `Z`, an offset, or none (read as UTC: requests use a UTC time zone).
fn date_time(text: Option<&str>) -> Result<DateTime<Utc>, Malformed> {
    let text = text
        .ok_or_else(|| Malformed::Schema("missing date-time".into()))?
        .trim();
    if let Ok(parsed) = DateTime::parse_from_rfc3339(text) {
        return Ok(parsed.with_timezone(&Utc));
    }
    NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S")
        .map(|naive| naive.and_utc())
        .map_err(|_| Malformed::Schema(format!("invalid date-time {text}")))
}
