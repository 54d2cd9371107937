//! The app registrations calconnect signs in with, and the delegated scopes each requests: two for
//! calendars, and one for Teams conferencing, which is a connection of its own ("Authorizing Teams
//! conferencing does not provide … Read/Write access to users' calendars", seed 002).

use serde::{Deserialize, Serialize};

use crate::scopes::ScopeSet;

/// Which app registration an account uses.
///
/// Scope sets follow Cronofy's Individual Connect registrations ("Which Graph scopes does Cronofy utilize?").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AppKind {
    /// Read-write calendar access: `User.Read Calendars.ReadWrite offline_access`.
    Full,
    /// Free/busy only: `Calendars.ReadBasic User.Read offline_access`.
    #[serde(rename = "freebusy")]
    FreeBusy,
    /// Teams conferencing, no calendar access: `User.Read OnlineMeetings.ReadWrite offline_access`.
    Teams,
}

impl AppKind {
    /// The delegated scopes this app requests, in the order they are sent.
    pub fn scopes(self) -> &'static [&'static str] {
        match self {
            Self::Full => &["User.Read", "Calendars.ReadWrite", "offline_access"],
            Self::FreeBusy => &["Calendars.ReadBasic", "User.Read", "offline_access"],
            Self::Teams => &["User.Read", "OnlineMeetings.ReadWrite", "offline_access"],
        }
    }

    /// Every app, in the order the "Choose access" step offers them.
    pub const ALL: [AppKind; 3] = [Self::Full, Self::FreeBusy, Self::Teams];

    /// Whether this app reads calendars (Teams conferencing does not).
    pub fn reads_calendars(self) -> bool {
        !matches!(self, Self::Teams)
    }

    pub fn scope_set(self) -> ScopeSet {
        ScopeSet::from_names(self.scopes().iter().copied())
    }

    /// The name used on the command line and in config files.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Full => "full",
            Self::FreeBusy => "freebusy",
            Self::Teams => "teams",
        }
    }

    /// A human label.
    pub fn label(self) -> &'static str {
        match self {
            Self::Full => "Full (read-write calendars)",
            Self::FreeBusy => "Free/Busy only",
            Self::Teams => "Teams conferencing",
        }
    }
}

impl std::fmt::Display for AppKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for AppKind {
    type Err = String;

    fn from_str(value: &str) -> std::result::Result<Self, Self::Err> {
        match value.to_ascii_lowercase().as_str() {
            "full" => Ok(Self::Full),
            "freebusy" | "free-busy" | "free_busy" => Ok(Self::FreeBusy),
            "teams" => Ok(Self::Teams),
            other => Err(format!(
                "unknown app `{other}` (expected `full`, `freebusy` or `teams`)"
            )),
        }
    }
}

/// A public-client app registration: which app it is and its client id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppRegistration {
    pub kind: AppKind,
    pub client_id: String,
}

impl AppRegistration {
    pub fn new(kind: AppKind, client_id: impl Into<String>) -> Self {
        Self {
            kind,
            client_id: client_id.into(),
        }
    }
}
