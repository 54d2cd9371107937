//! Token storage in the OS keychain, chunked to fit every platform's secret size limit.
//!
//! [`SecretStore`] is the seam the rest of calconnect uses; [`KeychainStore`] is the real one (keyring 4's
//! native stores: Secret Service, macOS Keychain, Windows Credential Manager) and [`MemoryStore`] serves
//! other crates' unit tests. There is no plaintext fallback: without a keychain, calls fail with
//! [`Error::NoKeychain`], whose [`Error::user_message`] and [`Error::next_step`] tell the user what to do.
//!
//! Calls block (D-Bus round trips, possibly an unlock prompt), so async callers use
//! `tokio::task::spawn_blocking`.
//!
//! ```no_run
//! use calconnect_vault::{KeychainStore, SecretStore};
//! use secrecy::{ExposeSecret, SecretString};
//!
//! # fn main() -> calconnect_vault::Result<()> {
//! let store = KeychainStore::new("calconnect")?;
//! store.save("refresh-token:adele@contoso.com", &SecretString::from("0.AAAA…"))?;
//! let token = store.load("refresh-token:adele@contoso.com")?;
//! assert_eq!(token.map(|t| t.expose_secret().len()), Some("0.AAAA…".len()));
//! # Ok(()) }
//! ```
//!
//! # Storage format
//!
//! Windows Credential Manager caps a secret at 2,560 bytes and Microsoft tokens exceed it, so
//! [`KeychainStore`] spreads each secret over entries `key`, `key#1`, … of at most
//! [`chunked::CHUNK_BYTES`] bytes. The first carries a header `ccv1;<count>;<sha256 hex>` so a partial or
//! corrupt set is detected ([`Error::Corrupt`]) instead of yielding a truncated token. See [`chunked`].
#![warn(missing_docs)]

pub mod chunked;
mod error;
/// The fuzz target's properties (`fuzz/`), replayed over the committed corpus by this crate's tests.
#[doc(hidden)]
pub mod fuzzing;
mod keychain_store;
mod memory_store;

use secrecy::SecretString;

pub use error::{Error, Operation, Result};
pub use keychain_store::KeychainStore;
pub use memory_store::MemoryStore;

/// Where calconnect keeps secrets (refresh tokens, passwords). Blocking: call from `spawn_blocking`.
pub trait SecretStore: Send + Sync {
    /// The secret under `key`, or `None` when there is none.
    fn load(&self, key: &str) -> Result<Option<SecretString>>;
    /// Stores `secret` under `key`, replacing any previous one.
    fn save(&self, key: &str, secret: &SecretString) -> Result<()>;
    /// Removes the secret under `key` and all its chunks; succeeds when there is none.
    fn delete(&self, key: &str) -> Result<()>;
    /// Where the secrets live, for people, e.g. "Secret Service (…), default collection, service \"calconnect\"".
    fn location(&self) -> String;
}
