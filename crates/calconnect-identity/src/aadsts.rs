//! Entra ID error responses and the table that turns an AADSTS code into a plain message and a next step.
//!
//! Codes and meanings: Microsoft identity platform docs, "Microsoft Entra authentication and authorization error codes"
//! (reference-error-codes). Never branch on `error_description`: only on `error_codes` (or the code it starts with).
//!
//! Consent has two answers. AADSTS65001 (`DelegationDoesNotExist`, "The user or administrator has not
//! consented to use the application … Send an interactive authorization request for this user and
//! resource") says only that no consent is on record: never given, or withdrawn; it arrives as
//! `invalid_grant` with `suberror: consent_required` (facts §0). A person whose organisation lets users
//! consent fixes it by signing in with `prompt=consent`, which shows Microsoft's consent page
//! (learn.microsoft.com/entra/identity-platform/v2-oauth2-auth-code-flow, `prompt`), so it is
//! [`ErrorKind::ConsentRequired`]. Only AADSTS90094 ("needs permission … that only an admin can grant")
//! and AADSTS900941 (admin consent required, risky app) mean an administrator must approve
//! (learn.microsoft.com/troubleshoot/entra/entra-id/app-integration/troubleshoot-consent-issues: "Do not
//! allow user consent" gives "Need admin approval").

use serde::{Deserialize, Serialize};

/// What went wrong, coarse enough for a UI to branch on. The names are stable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    DeclinedConsent,
    /// No consent on record (AADSTS65001): sign in again with `prompt=consent`.
    ConsentRequired,
    /// Only an administrator can consent (AADSTS90094, 900941).
    AdminConsentRequired,
    ConditionalAccess,
    MfaRequired,
    InteractionRequired,
    WrongTenant,
    PublicClientFlowsDisabled,
    RedirectUriMismatch,
    SignInExpired,
    InvalidCredentials,
    AccountDisabled,
    InvalidScope,
    UnableToGrantScope,
    ServiceNotSubscribed,
    DeviceCodeDeclined,
    DeviceCodeExpired,
    CodeRejected,
    TooManyRequests,
    ServiceUnavailable,
    StateMismatch,
    Cancelled,
    TimedOut,
    LoopbackUnavailable,
    BrowserUnavailable,
    Network,
    Configuration,
    InvalidResponse,
    Other,
}

/// One row of the AADSTS table.
#[derive(Debug, Clone, Copy)]
pub struct AadstsEntry {
    pub code: u32,
    pub kind: ErrorKind,
    pub message: &'static str,
    pub next_step: &'static str,
}

const fn row(
    code: u32,
    kind: ErrorKind,
    message: &'static str,
    next_step: &'static str,
) -> AadstsEntry {
    AadstsEntry {
        code,
        kind,
        message,
        next_step,
    }
}

use ErrorKind as K;

/// The AADSTS codes calconnect explains. Unknown codes fall back to the OAuth `error` value.
pub const AADSTS_TABLE: &[AadstsEntry] = &[
    row(65004, K::DeclinedConsent, "The permission request was declined.", "Sign in again and choose Accept, or pick the Free/Busy app if you only want to share availability."),
    row(65001, K::ConsentRequired, "Microsoft has no consent on record for the permissions calconnect asks for: it was never given, or it was withdrawn.", "Sign in again and approve the permissions on the consent page Microsoft shows (calconnect asks Microsoft to show it). Only if Microsoft then says an administrator must approve is the admin-consent link needed."),
    row(90094, K::AdminConsentRequired, "Only an administrator can grant the permissions this app asks for.", "Send the admin-consent link to your Microsoft 365 administrator, then sign in again."),
    row(900941, K::AdminConsentRequired, "An administrator must approve this app before you can use it.", "Send the admin-consent link to your Microsoft 365 administrator, then sign in again."),
    row(53003, K::ConditionalAccess, "A Conditional Access policy of your organisation blocked this sign-in.", "Try the browser sign-in instead of the device code, or ask your administrator which policy applies (give them the trace and correlation IDs)."),
    row(50097, K::ConditionalAccess, "Your organisation requires a managed device for this sign-in.", "Sign in with the browser on a registered device, or ask your administrator."),
    row(50005, K::ConditionalAccess, "Your organisation's policy does not allow sign-in from this device platform.", "Sign in with the browser instead, or ask your administrator."),
    row(530035, K::ConditionalAccess, "The sign-in was blocked by your organisation's security defaults.", "Ask your administrator to review the sign-in logs with the trace and correlation IDs."),
    row(50076, K::MfaRequired, "Your organisation requires multi-factor authentication.", "Sign in with the browser so you can complete the second factor."),
    row(50079, K::MfaRequired, "You need to set up multi-factor authentication first.", "Sign in with the browser and follow the enrolment steps."),
    row(50020, K::WrongTenant, "Your account does not exist in this organisation.", "Use your own organisation's tenant (or `organizations`), or ask to be invited as a guest."),
    row(50034, K::WrongTenant, "This account was not found in the organisation.", "Check the email address and the tenant setting."),
    row(50194, K::WrongTenant, "This app is registered for a single organisation and cannot be used through `common`.", "Set the tenant to your organisation's domain or tenant ID."),
    row(700016, K::WrongTenant, "The app was not found in this organisation.", "Check the client ID and tenant in the configuration, or ask your administrator to add the app."),
    row(9002332, K::WrongTenant, "This app is for work or school accounts and cannot be used with the `consumers` tenant.", "Set the tenant to `organizations` or your organisation's domain."),
    row(500208, K::WrongTenant, "This kind of account cannot sign in to this tenant.", "Use a work or school account of the organisation, or change the tenant."),
    row(90072, K::WrongTenant, "Your account is not a member of this organisation.", "Ask the organisation to invite you as a guest, or sign in to your own tenant."),
    row(7000218, K::PublicClientFlowsDisabled, "The app registration does not allow public client flows.", "In Entra ID, open the app's Authentication page, set 'Allow public client flows' to Yes and register `http://localhost` as a Mobile and desktop redirect URI."),
    row(700025, K::PublicClientFlowsDisabled, "The app is a public client and must not send a secret.", "Remove the client secret from the configuration."),
    row(50011, K::RedirectUriMismatch, "The app registration does not list this redirect URI.", "Register `http://localhost` as a Mobile and desktop redirect URI in Entra ID."),
    row(70000, K::SignInExpired, "The saved sign-in is no longer valid.", "Sign in again."),
    row(70008, K::SignInExpired, "The saved sign-in expired after a long time unused or was revoked.", "Sign in again."),
    row(700082, K::SignInExpired, "The saved sign-in expired because it was not used for 90 days.", "Sign in again."),
    row(700084, K::SignInExpired, "The saved sign-in reached its maximum lifetime.", "Sign in again."),
    row(70043, K::SignInExpired, "Your organisation requires you to sign in again (sign-in frequency policy).", "Sign in again."),
    row(50173, K::SignInExpired, "The saved sign-in was revoked, for example after a password change.", "Sign in again."),
    row(50126, K::InvalidCredentials, "The username or password is wrong.", "Check your credentials and try again."),
    row(50055, K::InvalidCredentials, "Your password has expired.", "Change your password in the browser, then sign in again."),
    row(50053, K::InvalidCredentials, "The account is locked after too many attempts.", "Wait a while, or ask your administrator to unlock it."),
    row(50057, K::AccountDisabled, "The account is disabled.", "Ask your administrator to enable it."),
    row(70011, K::InvalidScope, "The app asked for a permission Microsoft does not recognise.", "Check the scopes of the app registration; this is a configuration problem."),
    row(650052, K::ServiceNotSubscribed, "Your organisation does not subscribe to the service this app needs (for example Exchange Online).", "Ask your administrator to assign a licence that includes Exchange Online."),
    row(70016, K::InteractionRequired, "The device code has not been entered yet.", "Finish the sign-in on the verification page."),
    row(70018, K::CodeRejected, "The device code was not recognised.", "Start the sign-in again."),
    row(70019, K::DeviceCodeExpired, "The device code expired before the sign-in was finished.", "Start the sign-in again and enter the new code within the time shown."),
    row(70020, K::DeviceCodeExpired, "The device code expired before the sign-in was finished.", "Start the sign-in again and enter the new code within the time shown."),
    row(54005, K::CodeRejected, "The authorisation code was already used.", "Start the sign-in again."),
    row(501481, K::CodeRejected, "The sign-in was rejected because the PKCE verifier did not match.", "Start the sign-in again; if it keeps happening, report a bug."),
    row(50196, K::TooManyRequests, "Too many identical sign-in requests were made.", "Wait a minute, then try again."),
    row(50058, K::InteractionRequired, "You are not signed in.", "Sign in interactively."),
];

pub fn lookup(code: u32) -> Option<&'static AadstsEntry> {
    AADSTS_TABLE.iter().find(|entry| entry.code == code)
}

/// An error response from Entra ID's authorize redirect or token endpoint (RFC 6749 §4.1.2.1 and §5.2 plus
/// Entra's `error_codes`, `trace_id` and `correlation_id`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AadError {
    pub error: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_description: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub error_codes: Vec<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correlation_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_uri: Option<String>,
    /// Entra's finer reason, where it sends one (`consent_required`, `basic_action`, `bad_token`, …; facts §0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suberror: Option<String>,
}

impl oauth2::ErrorResponse for AadError {}

impl std::fmt::Display for AadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.error)?;
        if let Some(code) = self.code() {
            write!(f, " (AADSTS{code})")?;
        }
        Ok(())
    }
}

impl AadError {
    /// An error from the authorize redirect (`?error=…&error_description=…`), where Entra has no
    /// `error_codes` field and puts the code and IDs in the description text.
    pub fn from_redirect(error: &str, description: Option<&str>) -> Self {
        let mut parsed = Self {
            error: error.to_owned(),
            error_description: description.map(str::to_owned),
            ..Self::default()
        };
        parsed.fill_from_description();
        parsed
    }

    /// Removes control characters from every text field ([`crate::text::strip_control_characters`]): the
    /// description and IDs are printed as they came.
    pub fn strip_control_characters(&mut self) {
        use crate::text::strip_control_characters as strip;
        self.error = strip(&self.error);
        for field in [
            &mut self.error_description,
            &mut self.timestamp,
            &mut self.trace_id,
            &mut self.correlation_id,
            &mut self.error_uri,
            // Found by the identity_token_error fuzz target: it is shown with the error like the rest.
            &mut self.suberror,
        ]
        .into_iter()
        .flatten()
        {
            *field = strip(field);
        }
    }

    /// Fills the code and IDs from the description when the structured fields are absent.
    pub fn fill_from_description(&mut self) {
        let Some(description) = self.error_description.clone() else {
            return;
        };
        if self.error_codes.is_empty() {
            if let Some(code) = code_in_description(&description) {
                self.error_codes.push(code);
            }
        }
        if self.trace_id.is_none() {
            self.trace_id = labelled_value(&description, "Trace ID:");
        }
        if self.correlation_id.is_none() {
            self.correlation_id = labelled_value(&description, "Correlation ID:");
        }
    }

    /// The first AADSTS code.
    pub fn code(&self) -> Option<u32> {
        self.error_codes.first().copied()
    }

    pub fn entry(&self) -> Option<&'static AadstsEntry> {
        self.error_codes.iter().find_map(|code| lookup(*code))
    }

    pub fn kind(&self) -> ErrorKind {
        if let Some(entry) = self.entry() {
            return entry.kind;
        }
        if self.suberror.as_deref() == Some("consent_required") {
            return K::ConsentRequired;
        }
        match self.error.as_str() {
            "access_denied" => K::DeclinedConsent,
            "consent_required" => K::ConsentRequired,
            "interaction_required" | "login_required" => K::InteractionRequired,
            "invalid_grant" => K::SignInExpired,
            "authorization_declined" => K::DeviceCodeDeclined,
            "expired_token" => K::DeviceCodeExpired,
            "bad_verification_code" => K::CodeRejected,
            "invalid_scope" => K::InvalidScope,
            "unauthorized_client" | "invalid_client" => K::Configuration,
            "temporarily_unavailable" | "server_error" => K::ServiceUnavailable,
            "slow_down" => K::TooManyRequests,
            _ => K::Other,
        }
    }

    /// Whether the browser sign-in may succeed where the device code was blocked by device policy.
    pub fn suggests_browser(&self) -> bool {
        self.error_codes
            .iter()
            .any(|code| matches!(code, 53003 | 50097 | 50005))
    }

    /// Only an administrator can consent (AADSTS90094, 900941): the admin-consent link is the way on.
    pub fn needs_admin_consent(&self) -> bool {
        self.kind() == K::AdminConsentRequired
    }

    /// No consent is on record (AADSTS65001): signing in again with `prompt=consent` lets the person give it.
    pub fn needs_consent_prompt(&self) -> bool {
        self.kind() == K::ConsentRequired
    }
}

fn code_in_description(description: &str) -> Option<u32> {
    let start = description.find("AADSTS")? + "AADSTS".len();
    let digits: String = description[start..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

fn labelled_value(description: &str, label: &str) -> Option<String> {
    let start = description.find(label)? + label.len();
    let value: String = description[start..]
        .trim_start()
        .chars()
        .take_while(|c| c.is_ascii_hexdigit() || *c == '-')
        .collect();
    (!value.is_empty()).then_some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_error_body_keeps_codes_and_trace_ids() {
        let body = r#"{"error":"invalid_grant","error_description":"AADSTS70008: The refresh token has expired.\r\nTrace ID: 0b1c\r\nCorrelation ID: 9f2e\r\nTimestamp: 2024-01-01 00:00:00Z","error_codes":[70008],"timestamp":"2024-01-01 00:00:00Z","trace_id":"0b1c","correlation_id":"9f2e"}"#;
        let error: AadError = serde_json::from_str(body).unwrap();
        assert_eq!(error.kind(), ErrorKind::SignInExpired);
        assert_eq!(error.trace_id.as_deref(), Some("0b1c"));
        assert_eq!(error.correlation_id.as_deref(), Some("9f2e"));
    }

    #[test]
    fn a_redirect_error_finds_code_and_ids_in_the_description() {
        let error = AadError::from_redirect(
            "access_denied",
            Some("AADSTS65004: User declined to consent to access the app.\r\nTrace ID: 1234abcd-0000\r\nCorrelation ID: 5678ef00-1111\r\nTimestamp: x"),
        );
        assert_eq!(error.code(), Some(65004));
        assert_eq!(error.kind(), ErrorKind::DeclinedConsent);
        assert_eq!(error.trace_id.as_deref(), Some("1234abcd-0000"));
        assert_eq!(error.correlation_id.as_deref(), Some("5678ef00-1111"));
    }

    #[test]
    fn every_table_code_appears_once_and_has_text() {
        for entry in AADSTS_TABLE {
            assert_eq!(
                AADSTS_TABLE
                    .iter()
                    .filter(|other| other.code == entry.code)
                    .count(),
                1,
                "{}",
                entry.code
            );
            assert!(!entry.message.is_empty() && !entry.next_step.is_empty());
        }
    }

    #[test]
    fn only_90094_and_900941_need_an_administrator() {
        for code in [90094, 900941] {
            let error = AadError {
                error: "access_denied".into(),
                error_codes: vec![code],
                ..AadError::default()
            };
            assert!(error.needs_admin_consent(), "{code}");
            assert!(!error.needs_consent_prompt(), "{code}");
        }
    }

    #[test]
    fn aadsts65001_with_suberror_consent_required_asks_for_consent_not_an_administrator() {
        // The token endpoint's body (facts §0): invalid_grant, AADSTS65001, suberror consent_required.
        let body = r#"{"error":"invalid_grant","error_description":"AADSTS65001: The user or administrator has not consented to use the application with ID 'c0ffee00-0000-4000-8000-000000000001' named 'calconnect'. Send an interactive authorization request for this user and resource. Trace ID: 11aa Correlation ID: 22bb Timestamp: 2024-01-01 00:00:00Z","error_codes":[65001],"suberror":"consent_required","trace_id":"11aa","correlation_id":"22bb"}"#;
        let error: AadError = serde_json::from_str(body).unwrap();
        assert_eq!(error.suberror.as_deref(), Some("consent_required"));
        assert_eq!(error.kind(), ErrorKind::ConsentRequired);
        assert!(error.needs_consent_prompt());
        assert!(!error.needs_admin_consent());
        assert!(error.entry().unwrap().next_step.contains("consent page"));
        // The suberror alone is enough when the code is one calconnect does not know.
        let unknown = AadError {
            error: "invalid_grant".into(),
            error_codes: vec![65999],
            suberror: Some("consent_required".into()),
            ..AadError::default()
        };
        assert_eq!(unknown.kind(), ErrorKind::ConsentRequired);
    }

    #[test]
    fn device_policy_blocks_suggest_the_browser() {
        for code in [53003, 50097, 50005] {
            let error = AadError {
                error: "invalid_grant".into(),
                error_codes: vec![code],
                ..AadError::default()
            };
            assert!(error.suggests_browser(), "{code}");
        }
    }
}
