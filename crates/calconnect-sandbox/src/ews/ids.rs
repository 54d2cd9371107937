//! Item and folder ids. Exchange's ids are opaque base64 strings that carry the mailbox they belong to,
//! so a later call (GetItem, GetFolder by FolderId) needs no `<t:Mailbox>` ("implicit access",
//! "Delegate access and EWS in Exchange"). The sandbox's ids do the same: standard base64 of a small
//! header (`00 03 24`, which makes them start with `AAMk` like Exchange's), a kind byte, the mailbox's
//! SMTP address, a zero byte and the item or folder name.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

const HEADER: [u8; 3] = [0x00, 0x03, 0x24];
/// Ids longer than this are not ours (and are refused before decoding).
const MAX_ID_LENGTH: usize = 1024;

/// What an id names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdKind {
    Item,
    Folder,
}

impl IdKind {
    fn byte(self) -> u8 {
        match self {
            Self::Item => b'I',
            Self::Folder => b'F',
        }
    }
}

/// A decoded id: the mailbox and the item (event or occurrence id) or distinguished folder name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreId {
    pub kind: IdKind,
    pub mailbox: String,
    pub name: String,
}

/// Encodes an id.
pub fn encode(kind: IdKind, mailbox: &str, name: &str) -> String {
    let mut bytes = HEADER.to_vec();
    bytes.push(kind.byte());
    bytes.extend_from_slice(mailbox.to_ascii_lowercase().as_bytes());
    bytes.push(0);
    bytes.extend_from_slice(name.as_bytes());
    STANDARD.encode(bytes)
}

/// Decodes an id of `kind`; `None` for anything that is not one of ours (Exchange then answers
/// `ErrorInvalidIdMalformed`).
pub fn decode(id: &str, kind: IdKind) -> Option<StoreId> {
    if id.len() > MAX_ID_LENGTH {
        return None;
    }
    let bytes = STANDARD.decode(id.trim()).ok()?;
    let rest = bytes.strip_prefix(&HEADER[..])?;
    let (&kind_byte, rest) = rest.split_first()?;
    if kind_byte != kind.byte() {
        return None;
    }
    let separator = rest.iter().position(|byte| *byte == 0)?;
    let mailbox = String::from_utf8(rest[..separator].to_vec()).ok()?;
    let name = String::from_utf8(rest[separator + 1..].to_vec()).ok()?;
    (!mailbox.is_empty() && !name.is_empty()).then_some(StoreId {
        kind,
        mailbox,
        name,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_look_like_exchange_ids() {
        let id = encode(IdKind::Item, "Adele@contoso.com", "AAMkAGAdeleReview");
        assert!(id.starts_with("AAMk"), "{id}");
        let decoded = decode(&id, IdKind::Item).unwrap();
        assert_eq!(decoded.mailbox, "adele@contoso.com");
        assert_eq!(decoded.name, "AAMkAGAdeleReview");
        assert_eq!(decode(&id, IdKind::Folder), None, "kinds do not mix");
        assert_eq!(decode("not base64!", IdKind::Item), None);
        assert_eq!(decode(&"A".repeat(5000), IdKind::Item), None);
    }
}
