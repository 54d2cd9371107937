//! Exit codes, so scripts can branch without parsing text.

use calconnect_core::ErrorKind;

/// Success.
pub const OK: u8 = 0;
/// An error without a more specific code.
pub const FAILURE: u8 = 1;
/// Command-line usage error (clap uses 2 as well).
pub const USAGE: u8 = 2;
/// The user must sign in (again): expired or revoked sign-in, no account.
pub const SIGN_IN_REQUIRED: u8 = 3;
/// Consent was declined or is missing, or an administrator must approve the app.
pub const CONSENT: u8 = 4;
/// Sign-in blocked by policy (conditional access, MFA, wrong tenant, credentials).
pub const BLOCKED: u8 = 5;
/// No usable keychain.
pub const KEYCHAIN: u8 = 6;
/// Network problem, throttling, a service error, or another calconnect saving the same file: retrying
/// later may help.
pub const TEMPORARY: u8 = 7;
/// Cancelled or timed out.
pub const CANCELLED: u8 = 8;
/// Configuration or app registration problem.
pub const CONFIGURATION: u8 = 9;
/// `exchange-test`: the service account does not have the expected access level (or none at all).
pub const ACCESS_NOT_REACHED: u8 = 10;

pub fn for_kind(kind: ErrorKind) -> u8 {
    use ErrorKind as K;
    match kind {
        K::NeedsSignInAgain
        | K::AccountNotFound
        | K::DeviceCodeExpired
        | K::StateMismatch
        | K::SignInFailed => SIGN_IN_REQUIRED,
        K::ConsentDeclined
        | K::ConsentRequired
        | K::AdminConsentRequired
        | K::ScopeNotGranted
        | K::DeviceCodeDeclined
        | K::AccessDenied => CONSENT,
        K::ConditionalAccess | K::MfaRequired | K::WrongTenant | K::InvalidCredentials => BLOCKED,
        K::KeychainUnavailable | K::KeychainFailed => KEYCHAIN,
        K::Network | K::Throttled | K::ServiceError | K::FileBusy => TEMPORARY,
        K::Cancelled | K::TimedOut | K::LoopbackUnavailable | K::BrowserUnavailable => CANCELLED,
        K::Configuration | K::AppMisconfigured => CONFIGURATION,
        K::Internal => FAILURE,
        // The account is the wrong kind for the command: a usage error.
        K::NotCalendarAccount | K::NotTeamsAccount => USAGE,
        // Teams refused the meeting (licence, account type).
        K::TeamsUnavailable => FAILURE,
    }
}
