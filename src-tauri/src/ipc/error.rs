//! The single error shape every command rejects with: `{ code, message, nextStep, … }`.

use calconnect_core::ErrorKind;
use serde::Serialize;

/// Codes the UI branches on; everything else that went wrong is `Failed` (or `Internal` for bugs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ErrorCode {
    /// A bug or a failed background task: nothing the person can fix.
    Internal,
    /// The operation failed for a reason the message explains; the UI shows it and its next step.
    Failed,
    /// The person cancelled (or started another sign-in): the UI goes back quietly.
    Cancelled,
    /// Microsoft has no consent on record (AADSTS65001): the UI offers "Sign in again with consent"
    /// (`prompt=consent`) before any talk of an administrator.
    ConsentRequired,
    /// The tenant requires an administrator's consent: the UI shows the link to send.
    AdminConsentRequired,
    /// The account's saved sign-in no longer works: the UI offers "Sign in again".
    NeedsSignInAgain,
    /// Settings are incomplete or wrong (missing client ID, misregistered app): the UI links to Settings.
    Configuration,
    /// The account is gone (disconnected elsewhere): the UI reloads the list.
    NotFound,
}

/// Which other sign-in method may work after this failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Alternative {
    Browser,
    DeviceCode,
}

/// A failed command as the webview sees it: a plain sentence and what to do next, never a secret.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IpcError {
    pub code: ErrorCode,
    pub message: String,
    pub next_step: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alternative: Option<Alternative>,
    /// Boxed: commands return `Result<T, IpcError>`, and the rare details should not bloat every result.
    #[serde(flatten)]
    pub details: Box<Details>,
}

/// What an administrator needs, present only for sign-in failures.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Details {
    /// Entra's IDs an administrator asks for when investigating a sign-in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub correlation_id: Option<String>,
    /// The admin-consent link to send to an administrator (AADSTS90094/900941, or AADSTS65001 again after
    /// the consent page).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admin_consent_url: Option<String>,
}

impl IpcError {
    /// An error with just a message and a next step.
    pub fn new(code: ErrorCode, message: impl Into<String>, next_step: impl Into<String>) -> Self {
        IpcError {
            code,
            message: message.into(),
            next_step: Some(next_step.into()),
            alternative: None,
            details: Box::default(),
        }
        .remembered()
    }

    /// Keeps the error for "Copy diagnostic info" (a cancellation is not an error the person saw).
    fn remembered(self) -> Self {
        if self.code != ErrorCode::Cancelled {
            let ids = [
                self.details
                    .trace_id
                    .as_deref()
                    .map(|id| format!(" (trace ID {id})")),
                self.details
                    .correlation_id
                    .as_deref()
                    .map(|id| format!(" (correlation ID {id})")),
            ]
            .into_iter()
            .flatten()
            .collect::<String>();
            crate::recent_errors::record(
                &format!("{:?}", self.code),
                &format!("{}{ids}", self.message),
            );
        }
        self
    }
}

/// The one place core errors are classified for the UI; the match is exhaustive on purpose, so a new
/// core error kind cannot reach the webview unclassified.
fn code_for(kind: ErrorKind) -> ErrorCode {
    match kind {
        ErrorKind::Cancelled => ErrorCode::Cancelled,
        ErrorKind::ConsentRequired => ErrorCode::ConsentRequired,
        ErrorKind::AdminConsentRequired => ErrorCode::AdminConsentRequired,
        ErrorKind::NeedsSignInAgain => ErrorCode::NeedsSignInAgain,
        ErrorKind::AppMisconfigured | ErrorKind::Configuration => ErrorCode::Configuration,
        ErrorKind::AccountNotFound => ErrorCode::NotFound,
        ErrorKind::NotCalendarAccount | ErrorKind::NotTeamsAccount => ErrorCode::Failed,
        ErrorKind::TeamsUnavailable => ErrorCode::Failed,
        ErrorKind::Internal => ErrorCode::Internal,
        ErrorKind::TimedOut
        | ErrorKind::ConsentDeclined
        | ErrorKind::ConditionalAccess
        | ErrorKind::MfaRequired
        | ErrorKind::WrongTenant
        | ErrorKind::ScopeNotGranted
        | ErrorKind::DeviceCodeExpired
        | ErrorKind::DeviceCodeDeclined
        | ErrorKind::StateMismatch
        | ErrorKind::LoopbackUnavailable
        | ErrorKind::BrowserUnavailable
        | ErrorKind::InvalidCredentials
        | ErrorKind::SignInFailed
        | ErrorKind::KeychainUnavailable
        | ErrorKind::KeychainFailed
        | ErrorKind::Network
        | ErrorKind::Throttled
        | ErrorKind::AccessDenied
        | ErrorKind::ServiceError
        | ErrorKind::FileBusy => ErrorCode::Failed,
    }
}

impl From<calconnect_core::Error> for IpcError {
    fn from(error: calconnect_core::Error) -> Self {
        let kind = error.kind();
        tracing::warn!(?kind, error = %error, "command failed");
        let alternative = if error.suggests_device_code() {
            Some(Alternative::DeviceCode)
        } else if error.suggests_browser() {
            Some(Alternative::Browser)
        } else {
            None
        };
        IpcError {
            code: code_for(kind),
            message: error.user_message(),
            next_step: Some(error.next_step()),
            alternative,
            details: Box::new(Details {
                trace_id: error.trace_id().map(str::to_owned),
                correlation_id: error.correlation_id().map(str::to_owned),
                admin_consent_url: error.admin_consent().map(|consent| consent.url.to_string()),
            }),
        }
        .remembered()
    }
}

impl From<crate::error::Error> for IpcError {
    fn from(error: crate::error::Error) -> Self {
        use crate::error::Error;
        match error {
            Error::Core(error) => error.into(),
            Error::SettingsIo { ref path, .. } => {
                tracing::warn!(error = %error, "settings file failed");
                IpcError::new(
                    ErrorCode::Failed,
                    format!(
                        "calconnect cannot read or write its settings at {}.",
                        path.display()
                    ),
                    "Check the folder's permissions, then try again.",
                )
            }
            Error::SettingsInvalid { ref path, .. } => IpcError::new(
                ErrorCode::Configuration,
                format!("The settings file {} is not valid.", path.display()),
                "Fix or delete the file, then open Settings again.",
            ),
            Error::Sandbox(ref source) => {
                tracing::error!(error = %source, "sandbox did not start");
                IpcError::new(
                    ErrorCode::Internal,
                    "The built-in sandbox tenant could not start.",
                    "Restart calconnect; if it keeps happening, choose another cloud in Settings.",
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_shape_is_code_message_next_step() {
        let error = IpcError::new(ErrorCode::Internal, "something failed", "try again");
        assert_eq!(
            serde_json::to_string(&error).unwrap(),
            r#"{"code":"Internal","message":"something failed","nextStep":"try again"}"#
        );
    }

    #[test]
    fn a_missing_client_id_is_a_configuration_error_with_the_core_sentence() {
        let error: IpcError = calconnect_core::Error::ClientIdMissing {
            app: calconnect_identity::AppKind::Full,
        }
        .into();
        let json = serde_json::to_value(&error).unwrap();
        assert_eq!(json["code"], "Configuration");
        assert_eq!(
            json["message"],
            "No client ID is configured for the Full (read-write calendars) app."
        );
        assert!(json["nextStep"].as_str().unwrap().contains("client"));
        assert!(json.get("adminConsentUrl").is_none());
    }

    #[test]
    fn missing_consent_offers_the_consent_page_without_an_admin_link() {
        let aad = calconnect_identity::AadError {
            error: "invalid_grant".into(),
            error_codes: vec![65001],
            suberror: Some("consent_required".into()),
            ..calconnect_identity::AadError::default()
        };
        let source = calconnect_identity::Error::Server {
            operation: "device code poll",
            response: Box::new(aad),
        };
        let error: IpcError = calconnect_core::Error::SignIn {
            source,
            admin_consent: None,
        }
        .into();
        let json = serde_json::to_value(&error).unwrap();
        assert_eq!(json["code"], "ConsentRequired");
        assert!(json["nextStep"].as_str().unwrap().contains("consent page"));
        assert!(json.get("adminConsentUrl").is_none());
    }

    #[test]
    fn an_unknown_account_is_not_found() {
        let error: IpcError = calconnect_core::Error::AccountNotFound { id: "x".into() }.into();
        assert_eq!(error.code, ErrorCode::NotFound);
    }
}
