//! The core error: one type for the UI and CLI, with a stable [`ErrorKind`], a plain message and a next step.

use std::path::PathBuf;

use calconnect_identity::{AdminConsent, AppKind};
use serde::Serialize;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Signing in failed. When the tenant requires admin consent, `admin_consent` is the link to send.
    #[error("sign-in failed")]
    SignIn {
        #[source]
        source: calconnect_identity::Error,
        admin_consent: Option<Box<AdminConsent>>,
    },
    /// AADSTS65001 again after a sign-in that asked for Microsoft's consent page (`prompt=consent`): the
    /// person could not give consent, so an administrator must. `admin_consent` is the link to send.
    #[error("consent is still missing after Microsoft's consent page")]
    ConsentStillMissing {
        #[source]
        source: calconnect_identity::Error,
        admin_consent: Box<AdminConsent>,
    },
    #[error("identity configuration is invalid")]
    Identity(#[from] calconnect_identity::Error),
    /// Renewing an account's access token failed for a reason other than a rejected refresh token
    /// (which is [`Error::NeedsSignInAgain`]): network, throttling, an outage.
    #[error("token refresh failed")]
    Refresh(#[source] calconnect_identity::Error),
    #[error("keychain {operation} failed")]
    Vault {
        operation: &'static str,
        #[source]
        source: calconnect_vault::Error,
    },
    #[error("microsoft graph request failed")]
    Graph(#[source] calconnect_graph::Error),
    #[error("account {id} must sign in again")]
    NeedsSignInAgain {
        id: String,
        #[source]
        source: Option<calconnect_identity::Error>,
    },
    #[error("no connected account {id}")]
    AccountNotFound { id: String },
    /// A Teams conferencing account asked for calendars.
    #[error("account {id} is a Teams conferencing connection without calendar access")]
    NotCalendarAccount { id: String },
    /// A calendar account asked to create a Teams meeting.
    #[error("account {id} has no Teams conferencing permission")]
    NotTeamsAccount { id: String },
    /// Graph refused to create or delete a Teams meeting (no Teams licence, a personal account, a policy).
    #[error("microsoft graph refused the teams meeting")]
    MeetingRefused(#[source] calconnect_graph::Error),
    #[error("no client id configured for the {app} app")]
    ClientIdMissing { app: AppKind },
    #[error("cannot read or write {path}")]
    ConfigIo {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The folder for calconnect's files belongs to another user, is shared, or is the home folder.
    #[error("calconnect will not keep its files in {path}: {reason}")]
    UnsafeFolder { path: PathBuf, reason: String },
    #[error("configuration file {path} is invalid: {reason}")]
    ConfigInvalid { path: PathBuf, reason: String },
    /// Another calconnect (the app or the CLI) kept a shared file locked for the whole wait
    /// ([`crate::shared_file`]); `holder` names its process when it said.
    #[error("{path} is locked by another calconnect")]
    FileBusy {
        path: PathBuf,
        holder: Option<String>,
        waited: std::time::Duration,
    },
    #[error("accounts file {path} is invalid: {reason}")]
    AccountsInvalid { path: PathBuf, reason: String },
    #[error("the platform has no home directory for calconnect's configuration")]
    NoHomeDirectory,
    #[error("invalid free/busy range: {reason}")]
    InvalidRange { reason: String },
    #[error("background task failed: {reason}")]
    Task { reason: String },
}

/// What went wrong, for a UI to branch on. Serialises as a stable snake_case string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    Cancelled,
    TimedOut,
    ConsentDeclined,
    /// No consent on record (AADSTS65001): sign in again with Microsoft's consent page.
    ConsentRequired,
    AdminConsentRequired,
    ConditionalAccess,
    MfaRequired,
    WrongTenant,
    AppMisconfigured,
    ScopeNotGranted,
    DeviceCodeExpired,
    DeviceCodeDeclined,
    StateMismatch,
    LoopbackUnavailable,
    BrowserUnavailable,
    InvalidCredentials,
    SignInFailed,
    NeedsSignInAgain,
    KeychainUnavailable,
    KeychainFailed,
    AccountNotFound,
    Configuration,
    Network,
    Throttled,
    AccessDenied,
    ServiceError,
    Internal,
    NotCalendarAccount,
    NotTeamsAccount,
    TeamsUnavailable,
    /// Another calconnect is changing the same file: trying again shortly works.
    FileBusy,
}

impl From<crate::private_file::PrivateFileError> for Error {
    fn from(error: crate::private_file::PrivateFileError) -> Self {
        use crate::private_file::PrivateFileError;
        match error {
            PrivateFileError::Io { path, source } => Self::ConfigIo { path, source },
            PrivateFileError::UnsafeFolder { path, reason } => Self::UnsafeFolder { path, reason },
        }
    }
}

impl From<crate::shared_file::SharedFileError> for Error {
    fn from(error: crate::shared_file::SharedFileError) -> Self {
        use crate::shared_file::SharedFileError;
        match error {
            SharedFileError::Busy {
                path,
                holder,
                waited,
            } => Self::FileBusy {
                path,
                holder,
                waited,
            },
            SharedFileError::File(error) => error.into(),
        }
    }
}

impl Error {
    pub(crate) fn task(error: tokio::task::JoinError) -> Self {
        Self::Task {
            reason: error.to_string(),
        }
    }

    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::SignIn { source, .. } | Self::Identity(source) | Self::Refresh(source) => {
                identity_kind(source.kind())
            }
            Self::ConsentStillMissing { .. } => ErrorKind::AdminConsentRequired,
            Self::Vault { source, .. } => vault_kind(source),
            Self::Graph(source) => crate::graph_errors::kind(source),
            // A refresh refused for missing consent: the account needs a sign-in that shows the consent page.
            Self::NeedsSignInAgain {
                source: Some(source),
                ..
            } if source.needs_consent_prompt() => ErrorKind::ConsentRequired,
            Self::NeedsSignInAgain { .. } => ErrorKind::NeedsSignInAgain,
            Self::AccountNotFound { .. } => ErrorKind::AccountNotFound,
            Self::NotCalendarAccount { .. } => ErrorKind::NotCalendarAccount,
            Self::NotTeamsAccount { .. } => ErrorKind::NotTeamsAccount,
            Self::MeetingRefused(source) => match source {
                calconnect_graph::Error::AccessDenied { .. } => ErrorKind::TeamsUnavailable,
                other => crate::graph_errors::kind(other),
            },
            Self::ClientIdMissing { .. }
            | Self::ConfigInvalid { .. }
            | Self::ConfigIo { .. }
            | Self::UnsafeFolder { .. }
            | Self::AccountsInvalid { .. }
            | Self::NoHomeDirectory
            | Self::InvalidRange { .. } => ErrorKind::Configuration,
            Self::FileBusy { .. } => ErrorKind::FileBusy,
            Self::Task { .. } => ErrorKind::Internal,
        }
    }

    /// A plain sentence without any secret.
    pub fn user_message(&self) -> String {
        match self {
            Self::SignIn { source, .. } | Self::Identity(source) => source.user_message(),
            Self::ConsentStillMissing { .. } => "Microsoft still has no consent on record after its consent page, so your organisation does not let you consent to this app yourself.".to_owned(),
            Self::NeedsSignInAgain {
                source: Some(source),
                ..
            } if source.needs_consent_prompt() => source.user_message(),
            Self::Refresh(source) => format!(
                "calconnect could not renew the account's access. {}",
                source.user_message()
            ),
            Self::Vault { source, .. } => source.user_message(),
            Self::Graph(source) => crate::graph_errors::user_message(source),
            Self::NeedsSignInAgain { .. } => {
                "This account's saved sign-in is no longer valid.".to_owned()
            }
            Self::AccountNotFound { id } => format!("There is no connected account `{id}`."),
            Self::NotCalendarAccount { .. } => "This account is a Teams conferencing connection: it gives calconnect no access to calendars.".to_owned(),
            Self::NotTeamsAccount { .. } => "This account is connected for calendars: it has no permission to create Teams meetings.".to_owned(),
            Self::MeetingRefused(source) => match source {
                calconnect_graph::Error::AccessDenied { message, .. } => format!(
                    "Microsoft Teams refused to create the meeting: {message}"
                ),
                other => crate::graph_errors::user_message(other),
            },
            Self::ClientIdMissing { app } => {
                format!("No client ID is configured for the {} app.", app.label())
            }
            Self::ConfigIo { path, .. } => {
                format!("calconnect cannot read or write {}.", path.display())
            }
            Self::UnsafeFolder { path, reason } => format!(
                "calconnect will not keep its files in {}: {reason}.",
                path.display()
            ),
            Self::ConfigInvalid { path, reason } | Self::AccountsInvalid { path, reason } => {
                format!("{} is invalid: {reason}.", path.display())
            }
            Self::FileBusy {
                path,
                holder,
                waited,
            } => format!(
                "Another calconnect (the app or the CLI{}) is saving {}; calconnect waited {} s for it to finish.",
                holder
                    .as_deref()
                    .map(|holder| format!(": {holder}"))
                    .unwrap_or_default(),
                path.display(),
                waited.as_secs()
            ),
            Self::NoHomeDirectory => {
                "calconnect cannot find a home directory for its configuration.".to_owned()
            }
            Self::InvalidRange { reason } => format!("The date range is invalid: {reason}."),
            Self::Task { .. } => "An internal task failed.".to_owned(),
        }
    }

    pub fn next_step(&self) -> String {
        match self {
            Self::SignIn { source, .. } | Self::Identity(source) | Self::Refresh(source) => {
                source.next_step()
            }
            Self::ConsentStillMissing { .. } => "Send the admin-consent link to your Microsoft 365 administrator, then sign in again.".to_owned(),
            Self::Vault { source, .. } => source.next_step(),
            Self::Graph(source) => crate::graph_errors::next_step(source),
            Self::NeedsSignInAgain {
                source: Some(source),
                ..
            } if source.needs_consent_prompt() => source.next_step(),
            Self::NeedsSignInAgain { .. } => "Sign in again with the same app; the account's settings are kept.".to_owned(),
            Self::AccountNotFound { .. } => "List the connected accounts and use one of their IDs.".to_owned(),
            Self::NotCalendarAccount { .. } => "Connect the same person's calendar with Full or Free/Busy access; the Teams connection stays as it is.".to_owned(),
            Self::NotTeamsAccount { .. } => "Connect Teams conferencing for this person (a separate connection); their calendar connection stays as it is.".to_owned(),
            Self::MeetingRefused(source) => match source {
                calconnect_graph::Error::AccessDenied { .. } => "Teams meetings need a work or school account with a Microsoft Teams licence (personal Microsoft accounts are not supported): ask your administrator to assign one, then try again.".to_owned(),
                other => crate::graph_errors::next_step(other),
            },
            Self::ClientIdMissing { app } => format!(
                "Register your app in Microsoft Entra ID and enter its client ID in Settings (desktop) or set `{}_client_id` in config.toml / pass --client-id (CLI); see the README.",
                app.as_str()
            ),
            Self::ConfigIo { .. } => "Check the file's permissions.".to_owned(),
            Self::UnsafeFolder { .. } => "Point calconnect at a folder only you can use (CALCONNECT_DATA_DIR, --config, --accounts-file), or remove this one so calconnect creates it.".to_owned(),
            Self::ConfigInvalid { .. } | Self::AccountsInvalid { .. } => "Fix or delete the file.".to_owned(),
            Self::FileBusy { .. } => "Try again; if it keeps happening, close the other calconnect (the desktop app or a `calconnect` command still running).".to_owned(),
            Self::NoHomeDirectory => "Set HOME (or the platform's equivalent).".to_owned(),
            Self::InvalidRange { .. } => "Give a start before the end.".to_owned(),
            Self::Task { .. } => "Try again; if it keeps failing, report a bug.".to_owned(),
        }
    }

    /// The admin-consent link to send, when the tenant requires an administrator's approval.
    pub fn admin_consent(&self) -> Option<&AdminConsent> {
        match self {
            Self::SignIn { admin_consent, .. } => admin_consent.as_deref(),
            Self::ConsentStillMissing { admin_consent, .. } => Some(admin_consent),
            _ => None,
        }
    }

    /// No consent is on record (AADSTS65001): offer a browser sign-in that asks for Microsoft's consent page
    /// (`prompt=consent`) before any talk of an administrator.
    pub fn suggests_consent_prompt(&self) -> bool {
        self.kind() == ErrorKind::ConsentRequired
    }

    fn identity(&self) -> Option<&calconnect_identity::Error> {
        match self {
            Self::SignIn { source, .. }
            | Self::ConsentStillMissing { source, .. }
            | Self::Identity(source)
            | Self::Refresh(source) => Some(source),
            Self::NeedsSignInAgain { source, .. } => source.as_ref(),
            _ => None,
        }
    }

    /// Entra's trace ID, for the administrator.
    pub fn trace_id(&self) -> Option<&str> {
        self.identity()
            .and_then(calconnect_identity::Error::trace_id)
    }

    /// Entra's correlation ID, for the administrator.
    pub fn correlation_id(&self) -> Option<&str> {
        self.identity()
            .and_then(calconnect_identity::Error::correlation_id)
    }

    /// The device code was blocked by device policy: offer the browser sign-in.
    pub fn suggests_browser(&self) -> bool {
        self.identity()
            .is_some_and(calconnect_identity::Error::suggests_browser)
    }

    /// The browser sign-in could not complete locally: offer the device code.
    pub fn suggests_device_code(&self) -> bool {
        self.identity()
            .is_some_and(calconnect_identity::Error::suggests_device_code)
    }
}

fn identity_kind(kind: calconnect_identity::ErrorKind) -> ErrorKind {
    use calconnect_identity::ErrorKind as I;
    match kind {
        I::DeclinedConsent => ErrorKind::ConsentDeclined,
        I::ConsentRequired => ErrorKind::ConsentRequired,
        I::AdminConsentRequired => ErrorKind::AdminConsentRequired,
        I::ConditionalAccess => ErrorKind::ConditionalAccess,
        I::MfaRequired | I::InteractionRequired => ErrorKind::MfaRequired,
        I::WrongTenant => ErrorKind::WrongTenant,
        I::PublicClientFlowsDisabled
        | I::RedirectUriMismatch
        | I::InvalidScope
        | I::ServiceNotSubscribed => ErrorKind::AppMisconfigured,
        I::SignInExpired => ErrorKind::NeedsSignInAgain,
        I::InvalidCredentials | I::AccountDisabled => ErrorKind::InvalidCredentials,
        I::UnableToGrantScope => ErrorKind::ScopeNotGranted,
        I::DeviceCodeDeclined => ErrorKind::DeviceCodeDeclined,
        I::DeviceCodeExpired => ErrorKind::DeviceCodeExpired,
        I::CodeRejected | I::Other | I::InvalidResponse => ErrorKind::SignInFailed,
        I::TooManyRequests => ErrorKind::Throttled,
        I::ServiceUnavailable => ErrorKind::ServiceError,
        I::StateMismatch => ErrorKind::StateMismatch,
        I::Cancelled => ErrorKind::Cancelled,
        I::TimedOut => ErrorKind::TimedOut,
        I::LoopbackUnavailable => ErrorKind::LoopbackUnavailable,
        I::BrowserUnavailable => ErrorKind::BrowserUnavailable,
        I::Network => ErrorKind::Network,
        I::Configuration => ErrorKind::Configuration,
    }
}

fn vault_kind(error: &calconnect_vault::Error) -> ErrorKind {
    if matches!(error, calconnect_vault::Error::NoKeychain { .. }) {
        ErrorKind::KeychainUnavailable
    } else {
        ErrorKind::KeychainFailed
    }
}
