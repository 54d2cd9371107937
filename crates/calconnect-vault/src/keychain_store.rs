//! [`KeychainStore`]: the operating system's keychain through keyring 4's native stores.
//!
//! Each store owns its own connection (keyring-core's `CredentialStoreApi::build`), rather than keyring's
//! process-wide default store, so a failed connection is retried on the next [`KeychainStore::new`] and
//! parallel tests never share state.

use std::sync::Arc;

use keyring_core::api::CredentialStore;
use secrecy::zeroize::Zeroizing;
use secrecy::SecretString;

use crate::chunked::{self, EntryBackend};
use crate::error::{Error, Operation, Result};
use crate::SecretStore;

/// Secrets in the native keychain: Secret Service (default collection) on Linux and the BSDs, the login
/// keychain on macOS, Credential Manager on Windows. Entries are named by `service` and `key` (as the
/// Secret Service attributes `service` and `username`); long secrets use several entries, see
/// [`crate::chunked`].
pub struct KeychainStore {
    service: String,
    store: Arc<CredentialStore>,
}

impl std::fmt::Debug for KeychainStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeychainStore")
            .field("service", &self.service)
            .field("location", &self.location())
            .finish()
    }
}

impl KeychainStore {
    /// Connects to the platform's keychain now, so a missing keychain service is reported before the user
    /// signs in rather than after (the Secret Service store opens its D-Bus session here).
    pub fn new(service: &str) -> Result<Self> {
        if service.is_empty() {
            return Err(Error::InvalidKey {
                key: service.to_owned(),
                reason: "the keychain service name is empty",
            });
        }
        let store = native_store().map_err(|error| classify(error, Operation::Connect, service))?;
        tracing::debug!(service, vendor = %store.vendor(), "connected to the keychain");
        Ok(Self {
            service: service.to_owned(),
            store,
        })
    }

    fn entry(&self, name: &str, operation: Operation) -> Result<keyring_core::Entry> {
        self.store
            .build(&self.service, name, None)
            .map_err(|error| classify(error, operation, name))
    }
}

impl SecretStore for KeychainStore {
    fn load(&self, key: &str) -> Result<Option<SecretString>> {
        chunked::load(self, key)
    }

    fn save(&self, key: &str, secret: &SecretString) -> Result<()> {
        chunked::save(self, key, secret)
    }

    fn delete(&self, key: &str) -> Result<()> {
        chunked::delete(self, key)
    }

    fn location(&self) -> String {
        format!("{}, service \"{}\"", platform_location(), self.service)
    }
}

impl EntryBackend for KeychainStore {
    fn read(&self, name: &str) -> Result<Option<Zeroizing<Vec<u8>>>> {
        match self.entry(name, Operation::Load)?.get_secret() {
            Ok(bytes) => Ok(Some(Zeroizing::new(bytes))),
            Err(keyring_core::Error::NoEntry) => Ok(None),
            Err(error) => Err(classify(error, Operation::Load, name)),
        }
    }

    fn write(&self, name: &str, bytes: &[u8]) -> Result<()> {
        self.entry(name, Operation::Save)?
            .set_secret(bytes)
            .map_err(|error| classify(error, Operation::Save, name))
    }

    fn remove(&self, name: &str) -> Result<bool> {
        match self.entry(name, Operation::Delete)?.delete_credential() {
            Ok(()) => Ok(true),
            Err(keyring_core::Error::NoEntry) => Ok(false),
            Err(error) => Err(classify(error, Operation::Delete, name)),
        }
    }
}

/// Maps keyring errors to ours. Payload-carrying variants (`BadEncoding`, `BadDataFormat`) hold stored bytes,
/// so only their kind is kept.
fn classify(error: keyring_core::Error, operation: Operation, key: &str) -> Error {
    use keyring_core::Error as K;
    let key = key.to_owned();
    match error {
        K::NoDefaultStore => Error::NoKeychain {
            detail: "no native credential store is available".into(),
        },
        K::NoStorageAccess(source) => {
            let detail = source.to_string();
            if is_dismissed_prompt(source.as_ref()) {
                Error::AccessDenied {
                    operation,
                    key,
                    detail,
                }
            } else {
                Error::Locked {
                    operation,
                    key,
                    detail,
                }
            }
        }
        K::PlatformFailure(source) => {
            if is_unavailable(source.as_ref()) {
                Error::NoKeychain {
                    detail: source.to_string(),
                }
            } else {
                Error::Platform {
                    operation,
                    key,
                    detail: source.to_string(),
                }
            }
        }
        K::BadEncoding(_) | K::BadDataFormat(..) => Error::Corrupt {
            key,
            reason: "the keychain returned data in an unexpected format".into(),
        },
        K::Invalid(attribute, reason) => Error::Platform {
            operation,
            key,
            detail: format!("the keychain rejected {attribute}: {reason}"),
        },
        other => Error::Platform {
            operation,
            key,
            detail: other.to_string(),
        },
    }
}

#[cfg(all(
    unix,
    not(any(target_os = "macos", target_os = "ios", target_os = "android"))
))]
mod platform {
    use super::*;

    pub(super) fn native_store() -> keyring_core::Result<Arc<CredentialStore>> {
        Ok(zbus_secret_service_keyring_store::Store::new()?)
    }

    pub(super) fn platform_location() -> &'static str {
        "Secret Service (org.freedesktop.secrets on the D-Bus session bus), default collection"
    }

    fn service_error<'a>(
        error: &'a (dyn std::error::Error + Send + Sync + 'static),
    ) -> Option<&'a secret_service::Error> {
        error.downcast_ref::<secret_service::Error>()
    }

    /// No session bus (no address, nothing listening at it, a failed handshake), or nobody owning
    /// `org.freedesktop.secrets` on it (D-Bus `ServiceUnknown`, what a session without gnome-keyring or
    /// KeePassXC answers).
    pub(super) fn is_unavailable(error: &(dyn std::error::Error + Send + Sync + 'static)) -> bool {
        match service_error(error) {
            Some(secret_service::Error::Unavailable) => true,
            Some(secret_service::Error::Zbus(error)) => is_missing_bus_or_service(error),
            Some(secret_service::Error::ZbusFdo(error)) => is_missing_service(error),
            _ => false,
        }
    }

    fn is_missing_bus_or_service(error: &zbus::Error) -> bool {
        match error {
            zbus::Error::Address(_)
            | zbus::Error::Connection(..)
            | zbus::Error::InputOutput(_)
            | zbus::Error::Handshake(_)
            | zbus::Error::InterfaceNotFound => true,
            zbus::Error::MethodError(name, ..) => matches!(
                name.as_str(),
                "org.freedesktop.DBus.Error.ServiceUnknown"
                    | "org.freedesktop.DBus.Error.NameHasNoOwner"
            ),
            zbus::Error::FDO(error) => is_missing_service(error),
            _ => false,
        }
    }

    fn is_missing_service(error: &zbus::fdo::Error) -> bool {
        match error {
            zbus::fdo::Error::ServiceUnknown(_) | zbus::fdo::Error::NameHasNoOwner(_) => true,
            zbus::fdo::Error::ZBus(error) => is_missing_bus_or_service(error),
            _ => false,
        }
    }

    pub(super) fn is_dismissed_prompt(
        error: &(dyn std::error::Error + Send + Sync + 'static),
    ) -> bool {
        matches!(
            service_error(error),
            Some(secret_service::Error::Prompt | secret_service::Error::PromptDisconnected)
        )
    }
}

#[cfg(target_os = "windows")]
mod platform {
    use super::*;

    pub(super) fn native_store() -> keyring_core::Result<Arc<CredentialStore>> {
        Ok(windows_native_keyring_store::Store::new()?)
    }

    pub(super) fn platform_location() -> &'static str {
        "Windows Credential Manager, generic credentials"
    }

    pub(super) fn is_unavailable(_: &(dyn std::error::Error + Send + Sync + 'static)) -> bool {
        false
    }

    pub(super) fn is_dismissed_prompt(_: &(dyn std::error::Error + Send + Sync + 'static)) -> bool {
        false
    }
}

#[cfg(target_os = "macos")]
mod platform {
    use super::*;

    pub(super) fn native_store() -> keyring_core::Result<Arc<CredentialStore>> {
        Ok(apple_native_keyring_store::keychain::Store::new()?)
    }

    pub(super) fn platform_location() -> &'static str {
        "macOS Keychain, login keychain"
    }

    pub(super) fn is_unavailable(_: &(dyn std::error::Error + Send + Sync + 'static)) -> bool {
        false
    }

    pub(super) fn is_dismissed_prompt(_: &(dyn std::error::Error + Send + Sync + 'static)) -> bool {
        false
    }
}

#[cfg(not(any(
    target_os = "windows",
    target_os = "macos",
    all(
        unix,
        not(any(target_os = "macos", target_os = "ios", target_os = "android"))
    )
)))]
mod platform {
    use super::*;

    pub(super) fn native_store() -> keyring_core::Result<Arc<CredentialStore>> {
        Err(keyring_core::Error::NoDefaultStore)
    }

    pub(super) fn platform_location() -> &'static str {
        "no keychain on this platform"
    }

    pub(super) fn is_unavailable(_: &(dyn std::error::Error + Send + Sync + 'static)) -> bool {
        false
    }

    pub(super) fn is_dismissed_prompt(_: &(dyn std::error::Error + Send + Sync + 'static)) -> bool {
        false
    }
}

use platform::{is_dismissed_prompt, is_unavailable, native_store, platform_location};
