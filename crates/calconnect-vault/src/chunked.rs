//! The storage format: one secret spread over several keychain entries, each small enough for every platform.
//!
//! Windows Credential Manager caps a credential blob at 2,560 bytes (`CRED_MAX_CREDENTIAL_BLOB_SIZE`) and
//! Microsoft access and refresh tokens are often larger, so a secret is cut into chunks of at most
//! [`CHUNK_BYTES`] bytes of UTF-8, cut on character boundaries so that every chunk is itself valid UTF-8:
//!
//! ```text
//! entry `key`      "ccv1;<chunk count>;<sha256 of the whole secret, lowercase hex>\n" + chunk 0
//! entry `key#1`    chunk 1
//! ...
//! entry `key#N-1`  chunk N-1
//! ```
//!
//! The head entry is written last and removed first, so an interrupted save or delete leaves either the old
//! head (whose checksum then fails: reported as [`Error::Corrupt`]) or orphan chunks that no head points to
//! (ignored, and removed by the next save or delete). A chunk entry never exists beyond `#N-1` after a save.

use secrecy::zeroize::Zeroizing;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// Largest number of secret bytes per entry. With the header (≤ 80 ASCII bytes) an entry stays below
/// 1,280 bytes, so it fits Windows' 2,560-byte blob even if a store encodes it as UTF-16.
pub const CHUNK_BYTES: usize = 1024;

/// Most chunks one secret may use (about 1 MB), so a corrupt header cannot make us probe forever.
pub const MAX_CHUNKS: usize = 1000;

const MAGIC: &str = "ccv1";
const CHUNK_SEPARATOR: char = '#';

/// A raw keychain namespace: entries named by a string, holding bytes. Implemented by the platform store and
/// by in-memory doubles in tests.
pub(crate) trait EntryBackend {
    /// The entry's bytes, or `None` when it does not exist.
    fn read(&self, name: &str) -> Result<Option<Zeroizing<Vec<u8>>>>;
    /// Creates or replaces the entry.
    fn write(&self, name: &str, bytes: &[u8]) -> Result<()>;
    /// Removes the entry; `false` when it did not exist.
    fn remove(&self, name: &str) -> Result<bool>;
}

/// Rejects keys that cannot name an entry or would collide with chunk names.
pub(crate) fn validate_key(key: &str) -> Result<()> {
    let reason = if key.is_empty() {
        "it is empty"
    } else if key.contains(CHUNK_SEPARATOR) {
        "it contains '#', which the vault reserves for chunk entries"
    } else if key.len() > 200 {
        "it is longer than 200 bytes"
    } else if key.chars().any(char::is_control) {
        "it contains control characters"
    } else {
        return Ok(());
    };
    Err(Error::InvalidKey {
        key: key.to_owned(),
        reason,
    })
}

fn chunk_name(key: &str, index: usize) -> String {
    format!("{key}{CHUNK_SEPARATOR}{index}")
}

/// Cuts `text` into pieces of at most `max` bytes on character boundaries (at least one piece, maybe empty).
fn split_utf8(text: &str, max: usize) -> Vec<&str> {
    let mut pieces = Vec::new();
    let mut rest = text;
    loop {
        if rest.len() <= max {
            pieces.push(rest);
            return pieces;
        }
        let mut cut = max;
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        let (piece, tail) = rest.split_at(cut);
        pieces.push(piece);
        rest = tail;
    }
}

fn checksum(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// Saves `secret` under `key`, then removes chunks a previous, longer secret left behind.
pub(crate) fn save(backend: &dyn EntryBackend, key: &str, secret: &SecretString) -> Result<()> {
    validate_key(key)?;
    let text = secret.expose_secret();
    let pieces = split_utf8(text, CHUNK_BYTES);
    if pieces.len() > MAX_CHUNKS {
        return Err(Error::TooLarge {
            key: key.to_owned(),
            bytes: text.len(),
            max: CHUNK_BYTES * MAX_CHUNKS,
        });
    }
    for (index, piece) in pieces.iter().enumerate().skip(1) {
        backend.write(&chunk_name(key, index), piece.as_bytes())?;
    }
    let mut head = Zeroizing::new(format!(
        "{MAGIC};{};{}\n",
        pieces.len(),
        checksum(text.as_bytes())
    ));
    head.push_str(pieces[0]);
    backend.write(key, head.as_bytes())?;
    remove_chunks_from(backend, key, pieces.len())?;
    tracing::debug!(key, chunks = pieces.len(), "saved secret");
    Ok(())
}

/// Loads the secret under `key`: `None` when there is no head entry.
pub(crate) fn load(backend: &dyn EntryBackend, key: &str) -> Result<Option<SecretString>> {
    validate_key(key)?;
    let Some(head) = backend.read(key)? else {
        return Ok(None);
    };
    let corrupt = |reason: String| Error::Corrupt {
        key: key.to_owned(),
        reason,
    };
    let newline = head
        .iter()
        .position(|byte| *byte == b'\n')
        .ok_or_else(|| corrupt("the first entry has no calconnect header".into()))?;
    let header = std::str::from_utf8(&head[..newline])
        .map_err(|_| corrupt("the header is not text".into()))?;
    let mut fields = header.split(';');
    let (Some(MAGIC), Some(count), Some(expected_checksum), None) =
        (fields.next(), fields.next(), fields.next(), fields.next())
    else {
        return Err(corrupt("the header is not in the calconnect format".into()));
    };
    let count: usize = count
        .parse()
        .ok()
        .filter(|count| (1..=MAX_CHUNKS).contains(count))
        .ok_or_else(|| corrupt(format!("the chunk count {count:?} is invalid")))?;
    let mut whole = Zeroizing::new(Vec::with_capacity(count * CHUNK_BYTES));
    whole.extend_from_slice(&head[newline + 1..]);
    for index in 1..count {
        let chunk = backend
            .read(&chunk_name(key, index))?
            .ok_or_else(|| corrupt(format!("chunk {index} of {count} is missing")))?;
        whole.extend_from_slice(&chunk);
    }
    if checksum(&whole) != expected_checksum {
        return Err(corrupt(format!(
            "the checksum over {count} chunks does not match"
        )));
    }
    // Validate in place: `String::from_utf8` would hand the bytes to a `FromUtf8Error` that is dropped
    // without being zeroized. The copy goes straight into the `SecretString`; `whole` is wiped on drop.
    let text =
        std::str::from_utf8(&whole).map_err(|_| corrupt("the secret is not UTF-8".into()))?;
    Ok(Some(SecretString::from(text.to_owned())))
}

/// Deletes the head first (so a half-done delete reads as absent), then every chunk.
pub(crate) fn delete(backend: &dyn EntryBackend, key: &str) -> Result<()> {
    validate_key(key)?;
    backend.remove(key)?;
    remove_chunks_from(backend, key, 1)
}

/// Chunks are contiguous, so the first missing one ends the set.
fn remove_chunks_from(backend: &dyn EntryBackend, key: &str, first: usize) -> Result<()> {
    for index in first..MAX_CHUNKS {
        if !backend.remove(&chunk_name(key, index))? {
            break;
        }
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use std::collections::BTreeMap;
    use std::sync::Mutex;

    use super::*;

    /// An in-memory backend that enforces Windows' blob limit (as UTF-16, the strictest reading) and
    /// lets a test tamper with entries.
    #[derive(Default)]
    pub(crate) struct LimitedBackend {
        pub(crate) entries: Mutex<BTreeMap<String, Vec<u8>>>,
    }

    const WINDOWS_BLOB_LIMIT: usize = 2560;

    impl EntryBackend for LimitedBackend {
        fn read(&self, name: &str) -> Result<Option<Zeroizing<Vec<u8>>>> {
            Ok(self
                .entries
                .lock()
                .unwrap()
                .get(name)
                .cloned()
                .map(Zeroizing::new))
        }
        fn write(&self, name: &str, bytes: &[u8]) -> Result<()> {
            let utf16_bytes = std::str::from_utf8(bytes)
                .expect("entries are UTF-8")
                .encode_utf16()
                .count()
                * 2;
            assert!(
                utf16_bytes <= WINDOWS_BLOB_LIMIT,
                "entry {name} is {utf16_bytes} bytes as UTF-16, over Windows' limit"
            );
            self.entries
                .lock()
                .unwrap()
                .insert(name.to_owned(), bytes.to_vec());
            Ok(())
        }
        fn remove(&self, name: &str) -> Result<bool> {
            Ok(self.entries.lock().unwrap().remove(name).is_some())
        }
    }

    impl LimitedBackend {
        fn names(&self) -> Vec<String> {
            self.entries.lock().unwrap().keys().cloned().collect()
        }
    }

    fn round_trip(secret: &str) -> LimitedBackend {
        let backend = LimitedBackend::default();
        save(&backend, "acct", &SecretString::from(secret)).unwrap();
        let loaded = load(&backend, "acct").unwrap().expect("saved secret loads");
        assert_eq!(loaded.expose_secret(), secret, "round trip must be exact");
        backend
    }

    #[test]
    fn secrets_around_the_chunk_size_round_trip_with_the_expected_number_of_entries() {
        for (length, entries) in [
            (0, 1),
            (1, 1),
            (CHUNK_BYTES - 1, 1),
            (CHUNK_BYTES, 1),
            (CHUNK_BYTES + 1, 2),
            (2 * CHUNK_BYTES, 2),
            (2 * CHUNK_BYTES + 1, 3),
            (2560, 3),
            (2561, 3),
        ] {
            let backend = round_trip(&"x".repeat(length));
            assert_eq!(backend.names().len(), entries, "length {length}");
        }
    }

    #[test]
    fn a_ten_kilobyte_token_is_split_into_entries_below_the_windows_limit() {
        let token: String = (0..10 * 1024)
            .map(|index| char::from(b'A' + (index % 26) as u8))
            .collect();
        let backend = round_trip(&token);
        assert_eq!(backend.names().len(), 10);
        assert!(backend.names().contains(&"acct#9".to_owned()));
    }

    #[test]
    fn multi_byte_characters_are_never_cut_in_half() {
        // 3-byte and 4-byte characters placed so that naive byte cuts would land inside them.
        let secret = format!("{}{}", "é".repeat(700), "😀".repeat(600));
        let backend = round_trip(&secret);
        for (name, bytes) in backend.entries.lock().unwrap().iter() {
            assert!(std::str::from_utf8(bytes).is_ok(), "{name} is valid UTF-8");
        }
    }

    #[test]
    fn saving_a_shorter_secret_removes_the_stale_chunks() {
        let backend = round_trip(&"a".repeat(5 * CHUNK_BYTES));
        assert_eq!(backend.names().len(), 5);
        save(&backend, "acct", &SecretString::from("short")).unwrap();
        assert_eq!(backend.names(), vec!["acct".to_owned()]);
        assert_eq!(
            load(&backend, "acct").unwrap().unwrap().expose_secret(),
            "short"
        );
    }

    #[test]
    fn a_missing_chunk_is_reported_as_corrupt() {
        let backend = round_trip(&"b".repeat(3 * CHUNK_BYTES));
        backend.remove("acct#1").unwrap();
        let error = load(&backend, "acct").unwrap_err();
        assert!(
            matches!(&error, Error::Corrupt { reason, .. } if reason == "chunk 1 of 3 is missing"),
            "{error}"
        );
    }

    #[test]
    fn a_chunk_from_another_save_fails_the_checksum() {
        let backend = round_trip(&"c".repeat(2 * CHUNK_BYTES));
        backend
            .write("acct#1", "d".repeat(CHUNK_BYTES).as_bytes())
            .unwrap();
        let error = load(&backend, "acct").unwrap_err();
        assert!(matches!(error, Error::Corrupt { .. }), "{error}");
        assert!(!error.to_string().contains("ddd"), "no content in messages");
    }

    #[test]
    fn an_entry_without_the_header_is_corrupt_not_a_secret() {
        let backend = LimitedBackend::default();
        backend
            .write("acct", b"plain-token-from-elsewhere")
            .unwrap();
        let error = load(&backend, "acct").unwrap_err();
        assert!(matches!(error, Error::Corrupt { .. }), "{error}");
        assert!(!error.to_string().contains("plain-token"));
    }

    #[test]
    fn stored_bytes_that_are_not_utf8_are_corrupt_even_with_a_matching_checksum() {
        let backend = LimitedBackend::default();
        let bytes = [0xff, 0xfe, b'x'];
        let mut head = format!("{MAGIC};1;{}\n", checksum(&bytes)).into_bytes();
        head.extend_from_slice(&bytes);
        // Written directly: the backend's own `write` accepts UTF-8 only.
        backend
            .entries
            .lock()
            .unwrap()
            .insert("acct".to_owned(), head);
        let error = load(&backend, "acct").unwrap_err();
        assert!(
            matches!(&error, Error::Corrupt { reason, .. } if reason == "the secret is not UTF-8"),
            "{error}"
        );
    }

    #[test]
    fn an_absurd_chunk_count_is_rejected_before_probing() {
        let backend = LimitedBackend::default();
        backend.write("acct", b"ccv1;99999999;00\nx").unwrap();
        assert!(matches!(load(&backend, "acct"), Err(Error::Corrupt { .. })));
    }

    #[test]
    fn delete_removes_every_chunk_and_is_fine_when_absent() {
        let backend = round_trip(&"e".repeat(4 * CHUNK_BYTES));
        delete(&backend, "acct").unwrap();
        assert!(backend.names().is_empty());
        delete(&backend, "acct").unwrap();
        assert!(load(&backend, "acct").unwrap().is_none());
    }

    #[test]
    fn orphan_chunks_without_a_head_read_as_absent_and_are_cleaned_by_delete() {
        let backend = LimitedBackend::default();
        backend.write("acct#1", b"orphan").unwrap();
        backend.write("acct#2", b"orphan").unwrap();
        assert!(load(&backend, "acct").unwrap().is_none());
        delete(&backend, "acct").unwrap();
        assert!(backend.names().is_empty());
    }

    #[test]
    fn keys_that_would_collide_with_chunks_are_rejected() {
        let backend = LimitedBackend::default();
        for key in ["", "a#1", "line\nbreak"] {
            assert!(
                matches!(load(&backend, key), Err(Error::InvalidKey { .. })),
                "{key:?}"
            );
        }
    }

    #[test]
    fn secrets_beyond_the_chunk_limit_are_refused() {
        let backend = LimitedBackend::default();
        let huge = SecretString::from("z".repeat(CHUNK_BYTES * MAX_CHUNKS + 1));
        assert!(matches!(
            save(&backend, "acct", &huge),
            Err(Error::TooLarge { .. })
        ));
        assert!(backend.names().is_empty(), "nothing written");
    }
}
