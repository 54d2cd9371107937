//! The properties the fuzz target in `fuzz/` checks, kept here so that an ordinary `#[test]` replays the
//! committed corpus (`fuzz/corpus/vault_chunked/`) through exactly the same code, without a fuzzer.
//!
//! Not an API: the function panics when a property is violated, which is how libFuzzer sees a failure.

use std::cell::RefCell;
use std::collections::BTreeMap;

use secrecy::zeroize::Zeroizing;
use secrecy::{ExposeSecret, SecretString};

use crate::chunked::{load, save, EntryBackend, CHUNK_BYTES, MAX_CHUNKS};
use crate::error::{Error, Result};

const KEY: &str = "account";

/// The keychain as a map of entries (what the platform stores hold, minus their size limits).
#[derive(Default)]
struct MapBackend(RefCell<BTreeMap<String, Vec<u8>>>);

impl EntryBackend for MapBackend {
    fn read(&self, name: &str) -> Result<Option<Zeroizing<Vec<u8>>>> {
        Ok(self.0.borrow().get(name).cloned().map(Zeroizing::new))
    }
    fn write(&self, name: &str, bytes: &[u8]) -> Result<()> {
        self.0.borrow_mut().insert(name.to_owned(), bytes.to_vec());
        Ok(())
    }
    fn remove(&self, name: &str) -> Result<bool> {
        Ok(self.0.borrow_mut().remove(name).is_some())
    }
}

/// `data` twice: split at `0xFF` bytes into the stored entries `account`, `account#1`, … (whatever a
/// damaged or foreign keychain holds), which [`load`] must read without panicking; and, lossily decoded,
/// as a secret saved over those entries, which must load back exactly, in entries of at most
/// [`CHUNK_BYTES`] secret bytes each, with no stale chunk left behind.
pub fn check_chunked(data: &[u8]) {
    let backend = MapBackend::default();
    for (index, entry) in data.split(|byte| *byte == 0xFF).enumerate() {
        let name = match index {
            0 => KEY.to_owned(),
            index => format!("{KEY}#{index}"),
        };
        backend.0.borrow_mut().insert(name, entry.to_vec());
    }
    match load(&backend, KEY) {
        Ok(Some(_)) | Ok(None) | Err(Error::Corrupt { .. }) => {}
        Err(other) => panic!("reading entries failed with something other than Corrupt: {other}"),
    }

    let secret = String::from_utf8_lossy(data).into_owned();
    let saved = save(&backend, KEY, &SecretString::from(secret.clone()));
    if secret.len() > CHUNK_BYTES * MAX_CHUNKS {
        assert!(matches!(saved, Err(Error::TooLarge { .. })));
        return;
    }
    saved.expect("a secret within the limit saves");
    let loaded = load(&backend, KEY)
        .expect("a saved secret loads")
        .expect("a saved secret is present");
    assert!(
        loaded.expose_secret() == secret,
        "the round trip is not exact"
    );
    let entries = backend.0.borrow();
    let head = std::str::from_utf8(&entries[KEY]).expect("the head entry is UTF-8");
    let count: usize = head
        .split(';')
        .nth(1)
        .and_then(|count| count.parse().ok())
        .expect("the head names its chunk count");
    // Every chunk name calconnect can write (`#1` to `#MAX_CHUNKS-1`) past this save's is gone. Entries
    // beyond that range are not the vault's (no save writes them, no load reads them) and may stay.
    let stale = |name: &str| {
        name.strip_prefix("account#")
            .and_then(|index| index.parse::<usize>().ok())
            .is_some_and(|index| (count..MAX_CHUNKS).contains(&index))
    };
    assert!(
        !entries.keys().any(|name| stale(name)),
        "stale chunks survived the save"
    );
    for index in 0..count {
        let name = match index {
            0 => KEY.to_owned(),
            index => format!("{KEY}#{index}"),
        };
        let bytes = entries
            .get(&name)
            .unwrap_or_else(|| panic!("chunk {name} missing"));
        assert!(
            std::str::from_utf8(bytes).is_ok(),
            "entry {name} is not UTF-8"
        );
        let secret_bytes = match index {
            0 => bytes.len() - bytes.iter().position(|b| *b == b'\n').expect("a header") - 1,
            _ => bytes.len(),
        };
        assert!(
            secret_bytes <= CHUNK_BYTES,
            "entry {name} holds {secret_bytes} bytes"
        );
    }
}

#[cfg(test)]
mod tests {
    /// Every file of the committed seed and regression corpus passes the fuzz target's checks.
    #[test]
    fn the_fuzz_corpus_replays_clean() {
        let corpus = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../fuzz/corpus/vault_chunked"
        );
        let mut replayed = 0;
        for entry in std::fs::read_dir(corpus).expect("the corpus folder exists") {
            let path = entry.expect("a corpus entry").path();
            super::check_chunked(&std::fs::read(&path).expect("a readable corpus file"));
            replayed += 1;
        }
        assert!(replayed >= 3, "only {replayed} corpus files in {corpus}");
    }
}
