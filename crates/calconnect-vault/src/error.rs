//! The vault's error type: every failure a user can hit, with a message and a next step for the UI.

use std::fmt;

/// What the vault was doing when a keychain call failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// Reading a secret (or one of its chunks).
    Load,
    /// Writing a secret (or one of its chunks).
    Save,
    /// Deleting a secret (or one of its chunks).
    Delete,
    /// Connecting to the keychain service.
    Connect,
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Operation::Load => "reading",
            Operation::Save => "writing",
            Operation::Delete => "deleting",
            Operation::Connect => "connecting to",
        })
    }
}

/// Errors of the vault. Messages never contain secret material: only keys, sizes and platform descriptions.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No keychain service could be reached: no D-Bus session bus, no Secret Service provider on it
    /// (`org.freedesktop.DBus.Error.ServiceUnknown`), or no native store on this platform.
    #[error("no keychain service is running: {detail}")]
    NoKeychain {
        /// The platform's own description of what is missing.
        detail: String,
    },
    /// The keychain (collection) is locked and could not be unlocked without the user.
    #[error("the keychain is locked while {operation} secret {key:?}: {detail}")]
    Locked {
        /// What the vault was doing.
        operation: Operation,
        /// The vault key concerned.
        key: String,
        /// The platform's own description.
        detail: String,
    },
    /// The keychain refused access (an unlock or permission prompt was dismissed or denied).
    #[error("the keychain refused access while {operation} secret {key:?}: {detail}")]
    AccessDenied {
        /// What the vault was doing.
        operation: Operation,
        /// The vault key concerned.
        key: String,
        /// The platform's own description.
        detail: String,
    },
    /// Any other failure reported by the platform store.
    #[error("keychain failure while {operation} secret {key:?}: {detail}")]
    Platform {
        /// What the vault was doing.
        operation: Operation,
        /// The vault key concerned.
        key: String,
        /// The platform's own description.
        detail: String,
    },
    /// The stored chunks of a secret do not form a whole: a chunk is missing, the header is unreadable or the
    /// checksum does not match (for example after an interrupted write or an edit by another program).
    #[error("stored secret {key:?} is incomplete or corrupt: {reason}")]
    Corrupt {
        /// The vault key concerned.
        key: String,
        /// What is wrong, without any of the stored content.
        reason: String,
    },
    /// The key cannot name a vault entry.
    #[error("invalid secret key {key:?}: {reason}")]
    InvalidKey {
        /// The rejected key.
        key: String,
        /// Why it was rejected.
        reason: &'static str,
    },
    /// The secret needs more chunks than the format allows.
    #[error("secret {key:?} is too large to store: {bytes} bytes, at most {max} bytes")]
    TooLarge {
        /// The vault key concerned.
        key: String,
        /// Size of the secret in bytes.
        bytes: usize,
        /// Largest secret the vault stores.
        max: usize,
    },
}

/// Result of vault operations.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// One sentence for the user saying what went wrong, free of jargon and secrets.
    pub fn user_message(&self) -> String {
        match self {
            Error::NoKeychain { .. } => {
                "No keychain service is running, so calconnect cannot keep your sign-in safe."
                    .into()
            }
            Error::Locked { .. } => "Your keychain is locked.".into(),
            Error::AccessDenied { .. } => "Access to your keychain was refused.".into(),
            Error::Platform { operation, .. } => {
                format!("The keychain reported an error while {operation} your sign-in.")
            }
            Error::Corrupt { .. } => {
                "Your saved sign-in in the keychain is incomplete or damaged.".into()
            }
            Error::InvalidKey { .. } | Error::TooLarge { .. } => {
                "calconnect could not store your sign-in in the keychain.".into()
            }
        }
    }

    /// What the user can do about it.
    pub fn next_step(&self) -> String {
        match self {
            Error::NoKeychain { .. } => no_keychain_next_step().into(),
            Error::Locked { .. } => {
                "Unlock your keyring (for example in Passwords and Keys / Seahorse, or by signing out and in again), then try again."
                    .into()
            }
            Error::AccessDenied { .. } => {
                "Try again and allow calconnect to use the keychain when asked.".into()
            }
            Error::Platform { .. } => {
                "Check that your keychain service is running and working, then try again.".into()
            }
            Error::Corrupt { .. } => {
                "Sign in again: calconnect will replace the damaged entry.".into()
            }
            Error::InvalidKey { .. } | Error::TooLarge { .. } => {
                "This is a bug in calconnect; please report it with the log.".into()
            }
        }
    }
}

#[cfg(target_os = "windows")]
fn no_keychain_next_step() -> &'static str {
    "Make sure the Windows Credential Manager service is running, then try again."
}

#[cfg(target_os = "macos")]
fn no_keychain_next_step() -> &'static str {
    "Make sure your login keychain exists and is available (Keychain Access), then try again."
}

#[cfg(not(any(target_os = "windows", target_os = "macos")))]
fn no_keychain_next_step() -> &'static str {
    "Start a Secret Service such as gnome-keyring or KeePassXC with Secret Service enabled, then try again."
}
