//! [`MemoryStore`]: a process-local [`SecretStore`] for other crates' unit tests.

use std::collections::HashMap;
use std::sync::Mutex;

use secrecy::SecretString;

use crate::error::{Error, Result};
use crate::SecretStore;

/// Keeps secrets in memory only. Not for production: nothing survives the process.
/// [`MemoryStore::unavailable`] plays a machine without a keychain, for testing that path.
#[derive(Debug, Default)]
pub struct MemoryStore {
    entries: Mutex<HashMap<String, SecretString>>,
    unavailable: bool,
}

impl MemoryStore {
    /// An empty, working store.
    pub fn new() -> Self {
        Self::default()
    }

    /// A store whose every call fails with [`Error::NoKeychain`].
    pub fn unavailable() -> Self {
        Self {
            unavailable: true,
            ..Self::default()
        }
    }

    fn entries(&self) -> Result<std::sync::MutexGuard<'_, HashMap<String, SecretString>>> {
        if self.unavailable {
            return Err(Error::NoKeychain {
                detail: "the in-memory test store plays a machine without a keychain".into(),
            });
        }
        // A panic while holding the lock cannot leave a map half-updated, so a poisoned lock is still usable.
        Ok(self
            .entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner))
    }
}

impl SecretStore for MemoryStore {
    fn load(&self, key: &str) -> Result<Option<SecretString>> {
        crate::chunked::validate_key(key)?;
        Ok(self.entries()?.get(key).cloned())
    }

    fn save(&self, key: &str, secret: &SecretString) -> Result<()> {
        crate::chunked::validate_key(key)?;
        self.entries()?.insert(key.to_owned(), secret.clone());
        Ok(())
    }

    fn delete(&self, key: &str) -> Result<()> {
        crate::chunked::validate_key(key)?;
        self.entries()?.remove(key);
        Ok(())
    }

    fn location(&self) -> String {
        "process memory (not persisted)".into()
    }
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::*;

    #[test]
    fn memory_store_round_trips_and_deletes() {
        let store = MemoryStore::new();
        assert!(store.load("k").unwrap().is_none());
        store.save("k", &SecretString::from("v1")).unwrap();
        store.save("k", &SecretString::from("v2")).unwrap();
        assert_eq!(store.load("k").unwrap().unwrap().expose_secret(), "v2");
        store.delete("k").unwrap();
        store.delete("k").unwrap();
        assert!(store.load("k").unwrap().is_none());
    }

    #[test]
    fn an_unavailable_memory_store_fails_like_a_missing_keychain() {
        let store = MemoryStore::unavailable();
        let error = store.load("k").unwrap_err();
        assert!(matches!(error, Error::NoKeychain { .. }));
        assert!(error.next_step().contains("then try again"));
    }
}
