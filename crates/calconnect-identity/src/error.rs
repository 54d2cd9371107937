//! The identity error type. Messages never contain a token, code or verifier.

use crate::aadsts::{AadError, ErrorKind};

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("refusing insecure URL {url}: plain http is only allowed for loopback addresses")]
    InsecureUrl { url: String },
    #[error("invalid authority {url}: {reason}")]
    InvalidAuthority { url: String, reason: String },
    /// The trusted CAs could not be set up (a `--ca-file` that is missing or not PEM, say).
    #[error(transparent)]
    Trust(#[from] crate::trust::TrustError),
    #[error("could not build the HTTP client")]
    HttpClient {
        #[source]
        source: reqwest::Error,
    },
    #[error("request to {url} failed")]
    Network {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("discovery document at {url} returned HTTP {status}")]
    DiscoveryStatus { url: String, status: u16 },
    #[error("discovery document at {url} is invalid: {reason}")]
    DiscoveryInvalid { url: String, reason: String },
    /// Entra ID answered with an error (authorize redirect, token or device-code endpoint).
    #[error("{operation} failed: {response}")]
    Server {
        operation: &'static str,
        response: Box<AadError>,
    },
    #[error("unexpected response from {url}: {reason}")]
    InvalidResponse { url: String, reason: String },
    /// The answer was longer than any genuine one ([`crate::http::MAX_BODY_BYTES`]); it was not read further.
    #[error("the answer from {url} is larger than {limit} bytes, far more than any sign-in answer, so calconnect stopped reading it")]
    ResponseTooLarge { url: String, limit: usize },
    #[error("unable_to_grant_scope: the sign-in did not grant `{scope}` (granted: {granted})")]
    UnableToGrantScope { scope: String, granted: String },
    /// Only answers with another (or no) `state` reached the listener before it gave up waiting: each was
    /// refused, so a sign-in started elsewhere (or a forged answer) could not complete this one.
    #[error("the redirect's state did not match the sign-in request (possible cross-site request forgery)")]
    StateMismatch,
    #[error("could not listen on the loopback interface for the sign-in redirect")]
    LoopbackBind {
        #[source]
        source: std::io::Error,
    },
    /// Another program holds the listener's port on the other loopback address (`::1` or `127.0.0.1`),
    /// where a browser resolving `localhost` could have delivered the code to it.
    #[error("port {port} is taken on the {address} loopback by another program, every time calconnect tried")]
    LoopbackPortTaken { port: u16, address: &'static str },
    /// The configured redirect URI is not one calconnect's loopback listener can receive.
    #[error("the redirect URI `{uri}` cannot be used: {reason}")]
    InvalidRedirectUri { uri: String, reason: &'static str },
    #[error("no sign-in redirect arrived within {seconds} seconds")]
    RedirectTimedOut { seconds: u64 },
    #[error("could not open the browser")]
    BrowserOpen {
        #[source]
        source: std::io::Error,
    },
    #[error("the device code was declined on the verification page")]
    DeviceCodeDeclined,
    #[error("the device code expired before the sign-in was finished")]
    DeviceCodeExpired,
    #[error("sign-in cancelled")]
    Cancelled,
    #[error("stored token set is unreadable: {reason}")]
    TokenSetFormat { reason: String },
    /// An app credential (certificate PEM) cannot be used; the reason never quotes it.
    #[error("the app credential cannot be used: {reason}")]
    InvalidCredential { reason: String },
}

impl Error {
    /// A body read through [`crate::http::read_body`] that failed.
    pub(crate) fn body(url: &url::Url, error: crate::http::BodyError) -> Self {
        use crate::http::BodyError;
        match error {
            BodyError::TooLarge { limit } => Self::ResponseTooLarge {
                url: url.to_string(),
                limit,
            },
            BodyError::TooDeep { limit } => Self::InvalidResponse {
                url: url.to_string(),
                reason: format!("JSON nested deeper than {limit} levels"),
            },
            BodyError::Http(source) => Self::Network {
                url: url.to_string(),
                source,
            },
            BodyError::Response(error) => Self::InvalidResponse {
                url: url.to_string(),
                reason: error.to_string(),
            },
        }
    }

    /// Entra's error answer, with its text made printable (it reaches terminals and reports).
    pub(crate) fn server(operation: &'static str, mut response: AadError) -> Self {
        response.strip_control_characters();
        response.fill_from_description();
        Self::Server {
            operation,
            response: Box::new(response),
        }
    }

    /// The Entra error response, if the failure came from the server.
    pub fn aad(&self) -> Option<&AadError> {
        match self {
            Self::Server { response, .. } => Some(response),
            _ => None,
        }
    }

    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::InsecureUrl { .. }
            | Self::InvalidAuthority { .. }
            | Self::Trust(_)
            | Self::HttpClient { .. } => ErrorKind::Configuration,
            Self::Network { .. } => ErrorKind::Network,
            Self::DiscoveryStatus { .. }
            | Self::DiscoveryInvalid { .. }
            | Self::InvalidResponse { .. }
            | Self::ResponseTooLarge { .. }
            | Self::TokenSetFormat { .. } => ErrorKind::InvalidResponse,
            Self::InvalidCredential { .. } | Self::InvalidRedirectUri { .. } => {
                ErrorKind::Configuration
            }
            Self::Server { response, .. } => response.kind(),
            Self::UnableToGrantScope { .. } => ErrorKind::UnableToGrantScope,
            Self::StateMismatch => ErrorKind::StateMismatch,
            Self::LoopbackBind { .. } | Self::LoopbackPortTaken { .. } => {
                ErrorKind::LoopbackUnavailable
            }
            Self::RedirectTimedOut { .. } => ErrorKind::TimedOut,
            Self::BrowserOpen { .. } => ErrorKind::BrowserUnavailable,
            Self::DeviceCodeDeclined => ErrorKind::DeviceCodeDeclined,
            Self::DeviceCodeExpired => ErrorKind::DeviceCodeExpired,
            Self::Cancelled => ErrorKind::Cancelled,
        }
    }

    /// The proxy that refused the request, when one did (HTTP 407, a refused tunnel, no proxy there).
    pub fn proxy_problem(&self) -> Option<crate::proxy::ProxyProblem> {
        match self {
            Self::Network { url, source } => {
                let url = url::Url::parse(url).ok()?;
                crate::proxy::ProxyProblem::find(source, &url)
            }
            _ => None,
        }
    }

    /// A plain sentence for the person signing in.
    pub fn user_message(&self) -> String {
        if let Some(entry) = self.aad().and_then(AadError::entry) {
            return entry.message.to_owned();
        }
        if let Some(problem) = self.proxy_problem() {
            return problem.message();
        }
        match self {
            Self::UnableToGrantScope { scope, .. } => {
                format!("The sign-in did not grant the `{scope}` permission calconnect needs.")
            }
            Self::RedirectTimedOut { seconds } => {
                format!("No answer came back from the browser within {seconds} seconds.")
            }
            Self::LoopbackPortTaken { port, address } => format!(
                "Another program is listening on port {port} of this computer's {address} loopback address, so the browser's answer could reach it instead of calconnect."
            ),
            Self::InvalidRedirectUri { uri, reason } => {
                format!("The redirect URI `{uri}` cannot be used: {reason}.")
            }
            _ => kind_message(self.kind()).to_owned(),
        }
    }

    /// What to do about it.
    pub fn next_step(&self) -> String {
        if let Some(entry) = self.aad().and_then(AadError::entry) {
            return entry.next_step.to_owned();
        }
        if let Some(problem) = self.proxy_problem() {
            return problem.next_step();
        }
        kind_next_step(self.kind()).to_owned()
    }

    /// Entra's trace ID, for the admin's sign-in logs.
    pub fn trace_id(&self) -> Option<&str> {
        self.aad().and_then(|response| response.trace_id.as_deref())
    }

    /// Entra's correlation ID, for the admin's sign-in logs.
    pub fn correlation_id(&self) -> Option<&str> {
        self.aad()
            .and_then(|response| response.correlation_id.as_deref())
    }

    /// The device code was blocked by device policy (AADSTS53003, 50097, 50005): the browser may work.
    pub fn suggests_browser(&self) -> bool {
        self.aad().is_some_and(AadError::suggests_browser)
    }

    /// The browser flow could not complete locally: the device code does not need a listener.
    pub fn suggests_device_code(&self) -> bool {
        matches!(
            self,
            Self::LoopbackBind { .. }
                | Self::LoopbackPortTaken { .. }
                | Self::RedirectTimedOut { .. }
                | Self::BrowserOpen { .. }
        )
    }

    pub fn needs_admin_consent(&self) -> bool {
        self.aad().is_some_and(AadError::needs_admin_consent)
    }

    /// No consent is on record (AADSTS65001): a browser sign-in with `prompt=consent` lets the person give it.
    pub fn needs_consent_prompt(&self) -> bool {
        self.aad().is_some_and(AadError::needs_consent_prompt)
    }
}

fn kind_message(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::DeclinedConsent => "The permission request was declined.",
        ErrorKind::ConsentRequired => {
            "Microsoft has no consent on record for the permissions calconnect asks for."
        }
        ErrorKind::AdminConsentRequired => "An administrator must approve this app first.",
        ErrorKind::ConditionalAccess => "Your organisation's policy blocked this sign-in.",
        ErrorKind::MfaRequired => "Your organisation requires multi-factor authentication.",
        ErrorKind::InteractionRequired => "You need to sign in interactively.",
        ErrorKind::WrongTenant => "This account or app does not belong to the configured tenant.",
        ErrorKind::PublicClientFlowsDisabled => {
            "The app registration does not allow public client flows."
        }
        ErrorKind::RedirectUriMismatch => "The app registration does not list this redirect URI.",
        ErrorKind::SignInExpired => "The saved sign-in is no longer valid.",
        ErrorKind::InvalidCredentials => "The sign-in credentials were not accepted.",
        ErrorKind::AccountDisabled => "The account is disabled.",
        ErrorKind::InvalidScope => "The app asked for a permission Microsoft does not recognise.",
        ErrorKind::UnableToGrantScope => {
            "The sign-in did not grant every permission calconnect needs."
        }
        ErrorKind::ServiceNotSubscribed => {
            "Your organisation does not subscribe to the service this app needs."
        }
        ErrorKind::DeviceCodeDeclined => "The sign-in was declined on the verification page.",
        ErrorKind::DeviceCodeExpired => "The code expired before the sign-in was finished.",
        ErrorKind::CodeRejected => "Microsoft rejected the sign-in code.",
        ErrorKind::TooManyRequests => "Too many sign-in requests were made.",
        ErrorKind::ServiceUnavailable => "Microsoft's sign-in service is temporarily unavailable.",
        ErrorKind::StateMismatch => {
            "The only answers that reached calconnect did not belong to this sign-in, so each was refused for your safety."
        }
        ErrorKind::Cancelled => "The sign-in was cancelled.",
        ErrorKind::TimedOut => "The sign-in took too long.",
        ErrorKind::LoopbackUnavailable => {
            "calconnect could not listen on this computer for the browser's answer."
        }
        ErrorKind::BrowserUnavailable => "calconnect could not open a web browser.",
        ErrorKind::Network => "Microsoft's sign-in service could not be reached.",
        ErrorKind::Configuration => "The sign-in configuration is invalid.",
        ErrorKind::InvalidResponse => {
            "Microsoft's sign-in service sent an answer calconnect does not understand."
        }
        ErrorKind::Other => "The sign-in failed.",
    }
}

fn kind_next_step(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::DeclinedConsent => "Sign in again and choose Accept, or pick the Free/Busy app.",
        ErrorKind::ConsentRequired => "Sign in again and approve the permissions on the consent page Microsoft shows.",
        ErrorKind::AdminConsentRequired => "Send the admin-consent link to your administrator, then sign in again.",
        ErrorKind::ConditionalAccess | ErrorKind::MfaRequired => "Sign in with the browser, or ask your administrator (give them the trace and correlation IDs).",
        ErrorKind::InteractionRequired | ErrorKind::SignInExpired => "Sign in again.",
        ErrorKind::WrongTenant => "Check the tenant and client ID settings.",
        ErrorKind::PublicClientFlowsDisabled => "In Entra ID, set 'Allow public client flows' to Yes for the app.",
        ErrorKind::RedirectUriMismatch => "Register `http://localhost` as a Mobile and desktop redirect URI.",
        ErrorKind::InvalidCredentials | ErrorKind::AccountDisabled => "Check the account, or ask your administrator.",
        ErrorKind::InvalidScope | ErrorKind::Configuration => "Check the app registration and calconnect's configuration.",
        ErrorKind::UnableToGrantScope => "Sign in again and accept every permission, or ask your administrator to grant them.",
        ErrorKind::ServiceNotSubscribed => "Ask your administrator for an Exchange Online licence.",
        ErrorKind::DeviceCodeDeclined | ErrorKind::DeviceCodeExpired | ErrorKind::CodeRejected | ErrorKind::StateMismatch => "Start the sign-in again.",
        ErrorKind::TooManyRequests | ErrorKind::ServiceUnavailable | ErrorKind::Network => "Wait a moment and try again.",
        ErrorKind::Cancelled => "Start again when you are ready.",
        ErrorKind::TimedOut | ErrorKind::LoopbackUnavailable | ErrorKind::BrowserUnavailable => "Use the device code sign-in instead.",
        ErrorKind::InvalidResponse | ErrorKind::Other => "Try again; if it keeps failing, report it with the trace and correlation IDs.",
    }
}
