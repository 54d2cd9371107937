//! `ConvertId`: converts item and folder ids between `EwsId`, `EwsLegacyId`, `EntryId`, `HexEntryId`,
//! `StoreId` and `OwaId` (https://learn.microsoft.com/exchange/client-developer/web-service-reference/convertid-operation).
//!
//! Clients also use it as the cheapest valid request: exchangelib probes the server version and the
//! authentication scheme with `<t:AlternateId Format="EwsId" Id="DUMMY" Mailbox="DUMMY"/>` and
//! `DestinationFormat="EntryId"`, reads `ServerVersionInfo` from the header and accepts any per-id error;
//! only `ErrorInvalidServerVersion`, `ErrorIncorrectSchemaVersion`, `ErrorInvalidRequest` and
//! `ErrorInvalidSchemaVersionForMailboxVersion` make it retry with another version (exchangelib
//! `version.py` `Version.guess`, `protocol.py` `dummy_xml`, `services/common.py` `_get_response_xml`).
//!
//! What Exchange checks, per id, in this order here:
//! - the `Mailbox` must be a well-formed SMTP address, but need not exist ("The ConvertId operation
//!   validates that a given SMTP address has a valid format. The operation does not determine whether
//!   an SMTP address represents a valid mailbox."): `ErrorInvalidSmtpAddress`, "The SMTP address format
//!   is invalid." (the answer to exchangelib's `Mailbox="DUMMY"` probe, tests/test_protocol.py
//!   `test_version_guess`);
//! - an empty id is `ErrorInvalidIdEmpty` ("Id must be non-empty.", EWS Managed API `ServiceError`);
//! - an id that does not decode in its stated format is `ErrorInvalidIdMalformed`, "Id is malformed."
//!   (the operation page's error example).
//!
//! The sandbox's ids: its `EwsId` is the id it hands out in `FindItem`/`GetFolder` (event ids, occurrence
//! ids `{series}_{yyyymmdd}`, folder ids the distinguished folder name, both wrapped by `ews::ids` as EwsIds); an `EwsId` is "ours" when the
//! tenant has that item or folder, and anything else is malformed. The other formats are a reversible,
//! deterministic encoding of that id with the shape of the real ones (they are not Exchange's bytes):
//! - `EntryId`: base64 of a MAPI-style entry id: 4 zero flag bytes, a 16-byte provider UID, the object
//!   type (`0x0001` folder / `0x0007` message, as in [MS-OXCDATA] 2.2.4 Folder/Message EntryID) and the
//!   sandbox id in UTF-8;
//! - `HexEntryId`: the same bytes in upper-case hex (the availability calendar event id);
//! - `StoreId`: base64 of the entry id's length (u16, little-endian), the entry id and an object class
//!   byte;
//! - `OwaId`: the `StoreId` with `+`, `/` and `=` percent-encoded (the operation page's example id is
//!   URL-encoded);
//! - `EwsLegacyId`: base64 of a zero byte, the mailbox's length (u16, big-endian), the mailbox and the
//!   entry id (Exchange 2007 RTM ids carry the SMTP address).

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use quick_xml::escape::escape;

use super::{Outcome, XSI_NS};
use crate::ews::access::Acting;
use crate::ews::folders;
use crate::ews::ids::{self, IdKind};
use crate::ews::request::{Malformed, Node};
use crate::ews::response::namespaces;
use crate::state::AppState;

/// `IdFormatType` (types.xsd).
#[expect(
    clippy::enum_variant_names,
    reason = "the variants are the schema's enumeration values"
)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdFormat {
    EwsLegacyId,
    EwsId,
    EntryId,
    HexEntryId,
    StoreId,
    OwaId,
}

impl IdFormat {
    fn parse(text: &str) -> Option<Self> {
        Some(match text.trim() {
            "EwsLegacyId" => Self::EwsLegacyId,
            "EwsId" => Self::EwsId,
            "EntryId" => Self::EntryId,
            "HexEntryId" => Self::HexEntryId,
            "StoreId" => Self::StoreId,
            "OwaId" => Self::OwaId,
            _ => return None,
        })
    }

    fn as_str(self) -> &'static str {
        match self {
            Self::EwsLegacyId => "EwsLegacyId",
            Self::EwsId => "EwsId",
            Self::EntryId => "EntryId",
            Self::HexEntryId => "HexEntryId",
            Self::StoreId => "StoreId",
            Self::OwaId => "OwaId",
        }
    }
}

/// One entry of `SourceIds`.
#[derive(Debug, Clone)]
pub enum SourceId {
    /// `t:AlternateId`: a mailbox item or folder.
    Mailbox {
        format: IdFormat,
        id: String,
        mailbox: String,
        is_archive: bool,
    },
    /// `t:AlternatePublicFolderId` / `t:AlternatePublicFolderItemId`: the sandbox has no public folders.
    PublicFolder,
}

/// A parsed `ConvertId` request.
#[derive(Debug, Clone)]
pub struct Request {
    pub destination: IdFormat,
    pub ids: Vec<SourceId>,
}

fn format_attribute(node: &Node, name: &str) -> Result<IdFormat, Malformed> {
    let text = node.attribute(name).ok_or_else(|| {
        Malformed::Schema(format!(
            "The required attribute '{name}' is missing on '{}'.",
            node.name
        ))
    })?;
    IdFormat::parse(text).ok_or_else(|| {
        Malformed::Schema(format!(
            "The '{name}' attribute is invalid - The value '{text}' is invalid according to its datatype 'http://schemas.microsoft.com/exchange/services/2006/types:IdFormatType' - The Enumeration constraint failed."
        ))
    })
}

/// Reads `ConvertId` (`DestinationFormat`, `SourceIds/AlternateId@Format,Id,Mailbox`).
pub fn parse(operation: &Node) -> Result<Request, Malformed> {
    let destination = format_attribute(operation, "DestinationFormat")?;
    let sources = operation
        .child("SourceIds")
        .ok_or_else(|| Malformed::Schema("ConvertId without SourceIds".into()))?;
    let mut ids = Vec::new();
    for source in &sources.children {
        match source.name.as_str() {
            "AlternateId" => {
                let format = format_attribute(source, "Format")?;
                let required = |name: &str| {
                    source.attribute(name).map(str::to_owned).ok_or_else(|| {
                        Malformed::Schema(format!(
                            "The required attribute '{name}' is missing on 'AlternateId'."
                        ))
                    })
                };
                let id = required("Id")?;
                let mailbox = required("Mailbox")?;
                if mailbox.is_empty() {
                    return Err(Malformed::Schema(
                        "The 'Mailbox' attribute is invalid - The actual length is less than the MinLength value."
                            .into(),
                    ));
                }
                ids.push(SourceId::Mailbox {
                    format,
                    id,
                    mailbox,
                    is_archive: super::boolean(source, "IsArchive")?.unwrap_or(false),
                });
            }
            "AlternatePublicFolderId" | "AlternatePublicFolderItemId" => {
                format_attribute(source, "Format")?;
                ids.push(SourceId::PublicFolder);
            }
            other => {
                return Err(Malformed::Schema(format!(
                    "The element 'SourceIds' has invalid child element '{other}'."
                )))
            }
        }
    }
    if ids.is_empty() {
        return Err(Malformed::Schema(
            "The element 'SourceIds' has incomplete content.".into(),
        ));
    }
    Ok(Request { destination, ids })
}

/// What a sandbox id names (the entry id's object type).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Folder,
    Item,
}

impl Kind {
    fn entry_type(self) -> u8 {
        match self {
            Self::Folder => 0x01,
            Self::Item => 0x07,
        }
    }

    fn store_class(self) -> u8 {
        match self {
            Self::Folder => 0x03,
            Self::Item => 0x05,
        }
    }
}

/// Provider UID of the sandbox's entry ids (16 bytes).
const PROVIDER_UID: [u8; 16] = *b"calconnectSANDBX";

/// Whether `id` is an item or folder id of this tenant.
fn kind_of(state: &AppState, id: &str) -> Option<Kind> {
    if folders::is_distinguished(id) {
        return Some(Kind::Folder);
    }
    let events = || {
        state
            .tenant()
            .users
            .iter()
            .flat_map(|user| &user.calendars)
            .flat_map(|calendar| &calendar.events)
    };
    if events().any(|event| event.id == id) {
        return Some(Kind::Item);
    }
    let (series, day) = id.rsplit_once('_')?;
    let is_day = day.len() == 8 && day.bytes().all(|byte| byte.is_ascii_digit());
    (is_day && events().any(|event| event.id == series && event.recurrence.is_some()))
        .then_some(Kind::Item)
}

fn entry_id(id: &str, kind: Kind) -> Vec<u8> {
    let mut bytes = vec![0, 0, 0, 0];
    bytes.extend_from_slice(&PROVIDER_UID);
    bytes.extend_from_slice(&[kind.entry_type(), 0x00]);
    bytes.extend_from_slice(id.as_bytes());
    bytes
}

fn from_entry_id(bytes: &[u8]) -> Option<(String, Kind)> {
    let rest = bytes.strip_prefix(&[0, 0, 0, 0])?;
    let rest = rest.strip_prefix(&PROVIDER_UID)?;
    let kind = match rest.get(..2)? {
        [0x01, 0x00] => Kind::Folder,
        [0x07, 0x00] => Kind::Item,
        _ => return None,
    };
    let id = std::str::from_utf8(rest.get(2..)?).ok()?;
    (!id.is_empty()).then(|| (id.to_owned(), kind))
}

fn store_id(id: &str, kind: Kind) -> Vec<u8> {
    let entry = entry_id(id, kind);
    let length = u16::try_from(entry.len()).unwrap_or(u16::MAX);
    let mut bytes = length.to_le_bytes().to_vec();
    bytes.extend_from_slice(&entry);
    bytes.push(kind.store_class());
    bytes
}

fn from_store_id(bytes: &[u8]) -> Option<(String, Kind)> {
    let length = usize::from(u16::from_le_bytes([*bytes.first()?, *bytes.get(1)?]));
    let entry = bytes.get(2..2 + length)?;
    let (id, kind) = from_entry_id(entry)?;
    (bytes.get(2 + length..)? == [kind.store_class()]).then_some((id, kind))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02X}")).collect()
}

fn from_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || !text.is_ascii() {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|at| u8::from_str_radix(&text[at..at + 2], 16).ok())
        .collect()
}

fn owa_escape(text: &str) -> String {
    text.replace('+', "%2B")
        .replace('/', "%2F")
        .replace('=', "%3D")
}

fn owa_unescape(text: &str) -> String {
    text.replace("%2B", "+")
        .replace("%2b", "+")
        .replace("%2F", "/")
        .replace("%2f", "/")
        .replace("%3D", "=")
        .replace("%3d", "=")
}

/// The sandbox id behind `id` written in `format`, if it decodes.
fn decode(state: &AppState, format: IdFormat, id: &str) -> Option<(String, Kind)> {
    let id = id.trim();
    let (native, kind) = match format {
        IdFormat::EwsId => {
            let (decoded, kind) = ids::decode(id, IdKind::Item)
                .map(|decoded| (decoded, Kind::Item))
                .or_else(|| {
                    ids::decode(id, IdKind::Folder).map(|decoded| (decoded, Kind::Folder))
                })?;
            (decoded.name, kind)
        }
        IdFormat::EntryId => from_entry_id(&STANDARD.decode(id).ok()?)?,
        IdFormat::HexEntryId => from_entry_id(&from_hex(id)?)?,
        IdFormat::StoreId => from_store_id(&STANDARD.decode(id).ok()?)?,
        IdFormat::OwaId => from_store_id(&STANDARD.decode(owa_unescape(id)).ok()?)?,
        IdFormat::EwsLegacyId => {
            let bytes = STANDARD.decode(id).ok()?;
            let rest = bytes.strip_prefix(&[0])?;
            let length = usize::from(u16::from_be_bytes([*rest.first()?, *rest.get(1)?]));
            from_entry_id(rest.get(2 + length..)?)?
        }
    };
    // An id that decodes but names nothing in this tenant is not one of ours either.
    (kind_of(state, &native) == Some(kind)).then_some((native, kind))
}

fn encode(format: IdFormat, id: &str, kind: Kind, mailbox: &str) -> String {
    match format {
        IdFormat::EwsId => ids::encode(
            match kind {
                Kind::Item => IdKind::Item,
                Kind::Folder => IdKind::Folder,
            },
            mailbox,
            id,
        ),
        IdFormat::EntryId => STANDARD.encode(entry_id(id, kind)),
        IdFormat::HexEntryId => hex(&entry_id(id, kind)),
        IdFormat::StoreId => STANDARD.encode(store_id(id, kind)),
        IdFormat::OwaId => owa_escape(&STANDARD.encode(store_id(id, kind))),
        IdFormat::EwsLegacyId => {
            let length = u16::try_from(mailbox.len()).unwrap_or(u16::MAX);
            let mut bytes = vec![0];
            bytes.extend_from_slice(&length.to_be_bytes());
            bytes.extend_from_slice(mailbox.as_bytes());
            bytes.extend_from_slice(&entry_id(id, kind));
            STANDARD.encode(bytes)
        }
    }
}

/// The syntax Exchange's SMTP parser accepts, closely enough: `local@domain`, the domain made of
/// labels of letters, digits and hyphens, no spaces.
fn is_smtp_address(address: &str) -> bool {
    let Some((local, domain)) = address.trim().rsplit_once('@') else {
        return false;
    };
    let local_ok = !local.is_empty()
        && !local.starts_with('.')
        && !local.ends_with('.')
        && local
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c));
    let domain_ok = domain.split('.').all(|label| {
        !label.is_empty()
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    });
    local_ok && domain_ok
}

/// Renders `ConvertIdResponse`: one `ConvertIdResponseMessage` per source id, in request order.
pub fn answer(state: &AppState, _acting: &Acting, request: &Request) -> String {
    let mut messages = String::new();
    for source in &request.ids {
        let (outcome, converted) = convert(state, request.destination, source);
        messages.push_str(&outcome.open("ConvertIdResponseMessage"));
        if let Some(converted) = converted {
            messages.push_str(&converted);
        }
        messages.push_str("</m:ConvertIdResponseMessage>");
    }
    format!(
        r#"<m:ConvertIdResponse {} xmlns:xsi="{XSI_NS}"><m:ResponseMessages>{messages}</m:ResponseMessages></m:ConvertIdResponse>"#,
        namespaces()
    )
}

fn convert(
    state: &AppState,
    destination: IdFormat,
    source: &SourceId,
) -> (Outcome, Option<String>) {
    let malformed = || Outcome::error("ErrorInvalidIdMalformed", "Id is malformed.");
    let SourceId::Mailbox {
        format,
        id,
        mailbox,
        is_archive,
    } = source
    else {
        return (malformed(), None);
    };
    if !is_smtp_address(mailbox) {
        return (
            Outcome::error(
                "ErrorInvalidSmtpAddress",
                "The SMTP address format is invalid.",
            ),
            None,
        );
    }
    if id.trim().is_empty() {
        return (
            Outcome::error("ErrorInvalidIdEmpty", "Id must be non-empty."),
            None,
        );
    }
    let Some((native, kind)) = decode(state, *format, id) else {
        return (malformed(), None);
    };
    let converted = encode(destination, &native, kind, mailbox.trim());
    let archive = if *is_archive {
        r#" IsArchive="true""#
    } else {
        ""
    };
    (
        Outcome::Status(crate::ews::response::Status::Success),
        Some(format!(
            r#"<m:AlternateId xsi:type="t:AlternateIdType" Format="{}" Id="{}" Mailbox="{}"{archive}/>"#,
            destination.as_str(),
            escape(converted.as_str()),
            escape(mailbox.trim())
        )),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_format_round_trips_through_its_decoder() {
        for kind in [Kind::Folder, Kind::Item] {
            let id = "AAMkAGAdeleStandup_20260105";
            assert_eq!(
                from_entry_id(
                    &STANDARD
                        .decode(encode(IdFormat::EntryId, id, kind, "a@b.c"))
                        .unwrap()
                ),
                Some((id.to_owned(), kind))
            );
            assert_eq!(
                from_store_id(
                    &STANDARD
                        .decode(owa_unescape(&encode(IdFormat::OwaId, id, kind, "a@b.c")))
                        .unwrap()
                ),
                Some((id.to_owned(), kind))
            );
            assert_eq!(
                from_entry_id(&from_hex(&encode(IdFormat::HexEntryId, id, kind, "a@b.c")).unwrap()),
                Some((id.to_owned(), kind))
            );
        }
    }

    #[test]
    fn smtp_syntax() {
        assert!(is_smtp_address("adele@contoso.com"));
        assert!(!is_smtp_address("DUMMY"));
        assert!(!is_smtp_address("a b@contoso.com"));
        assert!(!is_smtp_address("adele@contoso..com"));
    }
}
