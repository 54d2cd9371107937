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

/// A folder a request names: a distinguished folder (optionally in another mailbox) or a `FolderId`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FolderRef {
    Distinguished { id: String, mailbox: Option<String> },
    Id(String),
}

/// How much of each folder or item the client asked for (`BaseShape` and `AdditionalProperties`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Shape {
    /// `IdOnly`, `Default` or `AllProperties`.
    pub base: String,
    /// `FieldURI` values of `AdditionalProperties` (`folder:EffectiveRights`, ...).
    pub additional: Vec<String>,
}

impl Shape {
    fn read(node: Option<&Node>) -> Self {
        let Some(node) = node else {
            return Self::default();
        };
        let mut uris = Vec::new();
        node.descendants("FieldURI", &mut uris);
        Self {
            base: node
                .child("BaseShape")
                .map(|base| base.text.trim().to_owned())
                .unwrap_or_default(),
            additional: uris
                .into_iter()
                .filter_map(|uri| uri.attribute("FieldURI").map(str::to_owned))
                .collect(),
        }
    }

    /// Whether the property `uri` (e.g. `folder:EffectiveRights`) is part of the answer.
    pub fn includes(&self, uri: &str) -> bool {
        self.base == "AllProperties" || self.additional.iter().any(|wanted| wanted == uri)
    }

    /// Whether only ids were asked for.
    pub fn id_only(&self) -> bool {
        self.base == "IdOnly" && self.additional.is_empty()
    }
}

/// The view of a `FindItem`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemView {
    /// `CalendarView`: occurrences expanded in a window.
    Calendar {
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        max_entries: Option<usize>,
    },
    /// `IndexedPageItemView` (or no view): the folder's items, a page at a time.
    Indexed {
        max_entries: Option<usize>,
        offset: usize,
    },
}

/// `FreeBusyViewOptions/RequestedView` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum RequestedView {
    MergedOnly,
    FreeBusy,
    FreeBusyMerged,
    Detailed,
    DetailedMerged,
}

impl RequestedView {
    fn parse(text: &str) -> Option<Self> {
        Some(match text.trim() {
            "MergedOnly" => Self::MergedOnly,
            "FreeBusy" => Self::FreeBusy,
            "FreeBusyMerged" => Self::FreeBusyMerged,
            "Detailed" => Self::Detailed,
            "DetailedMerged" => Self::DetailedMerged,
            _ => return None,
        })
    }

    /// Whether the merged string is part of this view.
    pub fn merged(self) -> bool {
        matches!(
            self,
            Self::MergedOnly | Self::FreeBusyMerged | Self::DetailedMerged
        )
    }

    /// Whether event details are asked for.
    pub fn detailed(self) -> bool {
        matches!(self, Self::Detailed | Self::DetailedMerged)
    }
}

/// The operation in a request body.
#[derive(Debug, Clone)]
pub enum Operation {
    GetFolder {
        folders: Vec<FolderRef>,
        shape: Shape,
    },
    FindItem {
        parent: FolderRef,
        view: ItemView,
        shape: Shape,
    },
    GetItem {
        ids: Vec<String>,
        shape: Shape,
    },
    GetUserAvailability {
        mailboxes: Vec<String>,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        view: RequestedView,
        interval_minutes: i64,
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
            Self::GetItem { .. } => "GetItem",
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
                let ids = operation
                    .child("FolderIds")
                    .ok_or_else(|| Malformed::Schema("GetFolder without FolderIds".into()))?;
                Operation::GetFolder {
                    folders: ids.children.iter().map(folder_ref).collect(),
                    shape: Shape::read(operation.child("FolderShape")),
                }
            }
            "FindItem" => {
                let parent = operation
                    .child("ParentFolderIds")
                    .and_then(|parent| parent.children.first())
                    .ok_or_else(|| Malformed::Schema("FindItem without ParentFolderIds".into()))?;
                let max = |node: &Node| {
                    node.attribute("MaxEntriesReturned")
                        .and_then(|value| value.parse().ok())
                };
                let view = if let Some(view) = operation.child("CalendarView") {
                    ItemView::Calendar {
                        start: date_time(view.attribute("StartDate"))?,
                        end: date_time(view.attribute("EndDate"))?,
                        max_entries: max(view),
                    }
                } else if let Some(view) = operation.child("IndexedPageItemView") {
                    ItemView::Indexed {
                        max_entries: max(view),
                        offset: view
                            .attribute("Offset")
                            .and_then(|value| value.parse().ok())
                            .unwrap_or(0),
                    }
                } else {
                    ItemView::Indexed {
                        max_entries: None,
                        offset: 0,
                    }
                };
                Operation::FindItem {
                    parent: folder_ref(parent),
                    view,
                    shape: Shape::read(operation.child("ItemShape")),
                }
            }
            "GetItem" => {
                let ids = operation
                    .child("ItemIds")
                    .ok_or_else(|| Malformed::Schema("GetItem without ItemIds".into()))?;
                Operation::GetItem {
                    ids: ids
                        .children
                        .iter()
                        .map(|id| id.attribute("Id").unwrap_or_default().to_owned())
                        .collect(),
                    shape: Shape::read(operation.child("ItemShape")),
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
                let options = operation.child("FreeBusyViewOptions");
                let window = options
                    .and_then(|options| options.child("TimeWindow"))
                    .or_else(|| operation.descendant("TimeWindow"))
                    .ok_or_else(|| {
                        Malformed::Schema("GetUserAvailabilityRequest without TimeWindow".into())
                    })?;
                let text = |name: &str| window.child(name).map(|node| node.text.as_str());
                let view = match options.and_then(|options| options.child("RequestedView")) {
                    None => RequestedView::Detailed,
                    Some(node) => RequestedView::parse(&node.text).ok_or_else(|| {
                        Malformed::Schema(format!("invalid RequestedView {}", node.text.trim()))
                    })?,
                };
                let interval_minutes = options
                    .and_then(|options| options.child("MergedFreeBusyIntervalInMinutes"))
                    .map(|node| {
                        node.text.trim().parse::<i64>().map_err(|_| {
                            Malformed::Schema("invalid MergedFreeBusyIntervalInMinutes".into())
                        })
                    })
                    .transpose()?
                    .unwrap_or(30);
                Operation::GetUserAvailability {
                    mailboxes,
                    start: date_time(text("StartTime"))?,
                    end: date_time(text("EndTime"))?,
                    view,
                    interval_minutes,
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

fn folder_ref(node: &Node) -> FolderRef {
    let id = node.attribute("Id").unwrap_or_default().to_owned();
    if node.name == "FolderId" {
        return FolderRef::Id(id);
    }
    let mailbox = node
        .child("Mailbox")
        .and_then(|mailbox| mailbox.child("EmailAddress"))
        .map(|email| email.text.trim().to_owned())
        .filter(|email| !email.is_empty());
    FolderRef::Distinguished { id, mailbox }
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
