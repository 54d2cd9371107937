//! The identity client: browser sign-in, device code and refresh against one authority and app.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;

use oauth2::basic::{
    BasicRevocationErrorResponse, BasicTokenIntrospectionResponse, BasicTokenResponse,
};
use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, CsrfToken, DeviceAuthorizationUrl, EndpointNotSet,
    EndpointSet, ExtraDeviceAuthorizationFields, HttpClientError, PkceCodeChallenge,
    PkceCodeVerifier, RedirectUrl, RefreshToken, RequestTokenError, Scope, StandardRevocableToken,
    TokenResponse, TokenUrl,
};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;
use url::Url;

use crate::aadsts::AadError;
use crate::app::AppRegistration;
use crate::authority::Authority;
use crate::device_code::{DeviceCode, DeviceProgress, PollState};
use crate::discovery::Discovery;
use crate::error::{Error, Result};
use crate::loopback::{Callback, LoopbackListener};
use crate::scopes::{check_grant, AccessLevel, ScopeSet};
use crate::time::{Clock, Sleeper, SystemClock, TokioSleeper};
use crate::token::TokenSet;

type AadOAuthClient = oauth2::Client<
    AadError,
    BasicTokenResponse,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointSet,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
>;

/// Microsoft adds a human `message` to the device authorization response.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct MicrosoftDeviceFields {
    #[serde(default)]
    message: Option<String>,
}

impl ExtraDeviceAuthorizationFields for MicrosoftDeviceFields {}

/// Access tokens without `expires_in` are assumed to live an hour (Entra's typical 3599 s).
const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(3600);

/// A successful sign-in: the tokens and what they allow.
#[derive(Debug, Clone)]
pub struct SignIn {
    pub tokens: TokenSet,
    pub access: AccessLevel,
}

/// Signs in and refreshes against one authority with one app registration. Cheap to clone.
#[derive(Clone)]
pub struct IdentityClient {
    inner: Arc<Inner>,
    clock: Arc<dyn Clock>,
    sleeper: Arc<dyn Sleeper>,
}

struct Inner {
    http: reqwest::Client,
    authority: Authority,
    discovery: Discovery,
    app: AppRegistration,
    oauth: AadOAuthClient,
}

impl std::fmt::Debug for IdentityClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdentityClient")
            .field("authority", &self.inner.authority.url().as_str())
            .field("app", &self.inner.app)
            .finish_non_exhaustive()
    }
}

impl IdentityClient {
    /// Fetches the authority's discovery document and builds a client for `app`.
    pub async fn discover(
        http: reqwest::Client,
        authority: Authority,
        app: AppRegistration,
    ) -> Result<Self> {
        let discovery = Discovery::fetch(&http, &authority).await?;
        Ok(Self::from_discovery(http, authority, discovery, app))
    }

    pub fn from_discovery(
        http: reqwest::Client,
        authority: Authority,
        discovery: Discovery,
        app: AppRegistration,
    ) -> Self {
        // Public client: the client id goes in the body and no secret is sent (Entra rejects one, AADSTS700025).
        let oauth = oauth2::Client::new(ClientId::new(app.client_id.clone()))
            .set_auth_type(oauth2::AuthType::RequestBody)
            .set_auth_uri(AuthUrl::from_url(discovery.authorization_endpoint.clone()))
            .set_token_uri(TokenUrl::from_url(discovery.token_endpoint.clone()))
            .set_device_authorization_url(DeviceAuthorizationUrl::from_url(
                discovery.device_authorization_endpoint.clone(),
            ));
        Self {
            inner: Arc::new(Inner {
                http,
                authority,
                discovery,
                app,
                oauth,
            }),
            clock: Arc::new(SystemClock),
            sleeper: Arc::new(TokioSleeper),
        }
    }

    /// Replaces the clock and sleeper used for expiry and polling (tests run on manual time).
    pub fn with_time(mut self, clock: Arc<dyn Clock>, sleeper: Arc<dyn Sleeper>) -> Self {
        self.clock = clock;
        self.sleeper = sleeper;
        self
    }

    pub fn authority(&self) -> &Authority {
        &self.inner.authority
    }

    pub fn discovery(&self) -> &Discovery {
        &self.inner.discovery
    }

    pub fn app(&self) -> &AppRegistration {
        &self.inner.app
    }

    pub fn http(&self) -> &reqwest::Client {
        &self.inner.http
    }

    fn scopes(&self) -> impl Iterator<Item = Scope> {
        self.inner
            .app
            .kind
            .scopes()
            .iter()
            .map(|scope| Scope::new((*scope).to_owned()))
    }

    /// Starts a browser sign-in: binds the loopback listener and builds the authorize URL with PKCE S256
    /// (RFC 7636 §4.2) and a random `state` (RFC 6749 §10.12).
    pub async fn begin_browser_sign_in(&self) -> Result<BrowserSignIn> {
        self.begin_browser_sign_in_prompting(None).await
    }

    /// Like [`Self::begin_browser_sign_in`], asking Microsoft for `prompt` (e.g. its consent page).
    pub async fn begin_browser_sign_in_prompting(
        &self,
        prompt: Option<Prompt>,
    ) -> Result<BrowserSignIn> {
        let listener = LoopbackListener::bind().await?;
        Ok(self.begin_browser_sign_in_with(listener, None, prompt))
    }

    /// Like [`Self::begin_browser_sign_in`], on a given listener and with an optional `login_hint`.
    pub fn begin_browser_sign_in_on(
        &self,
        listener: LoopbackListener,
        login_hint: Option<&str>,
    ) -> BrowserSignIn {
        self.begin_browser_sign_in_with(listener, login_hint, None)
    }

    /// The authorize request of every browser sign-in: on `listener`, with an optional `login_hint` and
    /// `prompt`.
    pub fn begin_browser_sign_in_with(
        &self,
        listener: LoopbackListener,
        login_hint: Option<&str>,
        prompt: Option<Prompt>,
    ) -> BrowserSignIn {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let redirect_uri = listener.redirect_uri();
        let redirect = RedirectUrl::from_url(redirect_uri.clone());
        let mut request = self
            .inner
            .oauth
            .authorize_url(CsrfToken::new_random)
            .add_scopes(self.scopes())
            .set_pkce_challenge(challenge)
            .set_redirect_uri(Cow::Owned(redirect));
        if let Some(hint) = login_hint {
            request = request.add_extra_param("login_hint", hint);
        }
        if let Some(prompt) = prompt {
            request = request.add_extra_param("prompt", prompt.as_str());
        }
        let (authorize_url, state) = request.url();
        BrowserSignIn {
            client: self.clone(),
            listener,
            authorize_url,
            redirect_uri,
            state,
            verifier,
        }
    }

    /// Requests a device code (RFC 8628 §3.1).
    pub async fn start_device_code(&self) -> Result<DeviceCode> {
        let url = self
            .inner
            .discovery
            .device_authorization_endpoint
            .to_string();
        let response: oauth2::DeviceAuthorizationResponse<MicrosoftDeviceFields> = self
            .inner
            .oauth
            .exchange_device_code()
            .add_scopes(self.scopes())
            .request_async(&self.inner.http)
            .await
            .map_err(|error| map_request_error("device code request", &url, error))?;
        let verification_uri = response.verification_uri().url().clone();
        crate::http::ensure_secure_url(&verification_uri)?;
        let expires_in = chrono::Duration::from_std(response.expires_in())
            .unwrap_or(chrono::Duration::minutes(15));
        Ok(DeviceCode {
            user_code: response.user_code().secret().clone(),
            verification_uri,
            message: response.extra_fields().message.clone(),
            expires_at: self.clock.now() + expires_in,
            interval: response.interval(),
            device_code: SecretString::from(response.device_code().secret().clone()),
        })
    }

    /// Polls the token endpoint until the person finishes, declines, the code expires or `cancel` fires
    /// (RFC 8628 §3.4–3.5: wait `interval` between polls, add 5 s on `slow_down`).
    pub async fn poll_device_code(
        &self,
        device_code: &DeviceCode,
        cancel: &CancellationToken,
        on_progress: &mut (dyn FnMut(DeviceProgress) + Send),
    ) -> Result<SignIn> {
        let mut interval = device_code.interval.max(Duration::from_secs(1));
        let mut polls = 0u32;
        let mut last_state = PollState::Waiting;
        loop {
            let remaining = device_code.remaining(self.clock.now());
            if remaining.is_zero() {
                return Err(Error::DeviceCodeExpired);
            }
            on_progress(DeviceProgress {
                state: last_state,
                remaining_seconds: remaining.as_secs(),
                interval_seconds: interval.as_secs(),
                polls,
            });
            tokio::select! {
                biased;
                () = cancel.cancelled() => return Err(Error::Cancelled),
                () = self.sleeper.sleep(interval) => {}
            }
            if device_code.remaining(self.clock.now()).is_zero() {
                return Err(Error::DeviceCodeExpired);
            }
            polls += 1;
            let outcome = tokio::select! {
                biased;
                () = cancel.cancelled() => return Err(Error::Cancelled),
                outcome = self.poll_once(device_code) => outcome?,
            };
            match outcome {
                PollOutcome::Token(response) => return self.sign_in_from(&response),
                PollOutcome::Error(response) => match response.error.as_str() {
                    "authorization_pending" => last_state = PollState::Pending,
                    "slow_down" => {
                        interval += Duration::from_secs(5);
                        last_state = PollState::SlowDown;
                    }
                    "authorization_declined" => return Err(Error::DeviceCodeDeclined),
                    "expired_token" => return Err(Error::DeviceCodeExpired),
                    _ => return Err(Error::server("device code sign-in", response)),
                },
            }
        }
    }

    async fn poll_once(&self, device_code: &DeviceCode) -> Result<PollOutcome> {
        let url = &self.inner.discovery.token_endpoint;
        let form = [
            ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
            ("client_id", self.inner.app.client_id.as_str()),
            ("device_code", device_code.device_code.expose_secret()),
        ];
        let response = self
            .inner
            .http
            .post(url.clone())
            .header(reqwest::header::ACCEPT, "application/json")
            .form(&form)
            .send()
            .await
            .map_err(|source| Error::Network {
                url: url.to_string(),
                source,
            })?;
        let status = response.status();
        let body = response.bytes().await.map_err(|source| Error::Network {
            url: url.to_string(),
            source,
        })?;
        // Parse errors name the position only: a token response body must never reach an error message.
        let invalid = |error: serde_json::Error| Error::InvalidResponse {
            url: url.to_string(),
            reason: format!(
                "HTTP {status}, unreadable JSON at line {} column {}",
                error.line(),
                error.column()
            ),
        };
        if status.is_success() {
            Ok(PollOutcome::Token(
                serde_json::from_slice(&body).map_err(invalid)?,
            ))
        } else {
            Ok(PollOutcome::Error(
                serde_json::from_slice(&body).map_err(invalid)?,
            ))
        }
    }

    /// Redeems a refresh token (RFC 6749 §6). Entra rotates refresh tokens: the new one replaces the old,
    /// and if none comes back the old one stays (RFC 6749 §6 makes a new one optional).
    pub async fn refresh(&self, previous: &TokenSet) -> Result<TokenSet> {
        let Some(refresh_token) = previous.refresh_token.as_ref() else {
            return Err(Error::server(
                "token refresh",
                AadError {
                    error: "invalid_grant".into(),
                    error_description: Some("no refresh token stored".into()),
                    ..AadError::default()
                },
            ));
        };
        let url = self.inner.discovery.token_endpoint.to_string();
        let refresh_token = RefreshToken::new(refresh_token.expose_secret().to_owned());
        let response = self
            .inner
            .oauth
            .exchange_refresh_token(&refresh_token)
            .add_scopes(self.scopes())
            .request_async(&self.inner.http)
            .await
            .map_err(|error| map_request_error("token refresh", &url, error))?;
        let mut tokens = self.token_set(&response);
        if tokens.refresh_token.is_none() {
            tokens.refresh_token = previous.refresh_token.clone();
        }
        if tokens.granted_scopes.is_empty() {
            tokens.granted_scopes = previous.granted_scopes.clone();
        }
        Ok(tokens)
    }

    async fn redeem_code(
        &self,
        code: SecretString,
        verifier: PkceCodeVerifier,
        redirect_uri: &Url,
    ) -> Result<SignIn> {
        let url = self.inner.discovery.token_endpoint.to_string();
        let response = self
            .inner
            .oauth
            .exchange_code(AuthorizationCode::new(code.expose_secret().to_owned()))
            .set_pkce_verifier(verifier)
            .set_redirect_uri(Cow::Owned(RedirectUrl::from_url(redirect_uri.clone())))
            .request_async(&self.inner.http)
            .await
            .map_err(|error| map_request_error("authorization code redemption", &url, error))?;
        self.sign_in_from(&response)
    }

    fn sign_in_from(&self, response: &BasicTokenResponse) -> Result<SignIn> {
        let tokens = self.token_set(response);
        let access = check_grant(
            self.inner.app.kind,
            &tokens.granted_scopes,
            tokens.refresh_token.is_some(),
        )?;
        tracing::info!(app = %self.inner.app.kind, ?access, scopes = %tokens.granted_scopes, "signed in");
        Ok(SignIn { tokens, access })
    }

    fn token_set(&self, response: &BasicTokenResponse) -> TokenSet {
        let lifetime = response.expires_in().unwrap_or(DEFAULT_TOKEN_LIFETIME);
        let granted_scopes = response
            .scopes()
            .map(|scopes| ScopeSet::from_names(scopes.iter().map(|scope| scope.as_str())))
            .unwrap_or_default();
        TokenSet {
            access_token: SecretString::from(response.access_token().secret().clone()),
            refresh_token: response
                .refresh_token()
                .map(|token| SecretString::from(token.secret().clone())),
            expires_at: self.clock.now()
                + chrono::Duration::from_std(lifetime).unwrap_or(chrono::Duration::hours(1)),
            granted_scopes,
        }
    }
}

enum PollOutcome {
    Token(BasicTokenResponse),
    Error(AadError),
}

fn map_request_error(
    operation: &'static str,
    url: &str,
    error: RequestTokenError<HttpClientError<reqwest::Error>, AadError>,
) -> Error {
    match error {
        RequestTokenError::ServerResponse(response) => Error::server(operation, response),
        RequestTokenError::Request(HttpClientError::Reqwest(source)) => Error::Network {
            url: url.to_owned(),
            source: *source,
        },
        RequestTokenError::Request(other) => Error::InvalidResponse {
            url: url.to_owned(),
            reason: other.to_string(),
        },
        // The body may hold tokens: keep only the JSON path that failed.
        RequestTokenError::Parse(parse_error, _body) => Error::InvalidResponse {
            url: url.to_owned(),
            reason: format!("unreadable JSON at `{}`", parse_error.path()),
        },
        RequestTokenError::Other(reason) => Error::InvalidResponse {
            url: url.to_owned(),
            reason,
        },
    }
}

/// The `prompt` of an authorize request (learn.microsoft.com/entra/identity-platform/v2-oauth2-auth-code-flow:
/// "`prompt=consent` triggers the OAuth consent dialog after the user signs in, asking the user to grant
/// permissions to the app").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prompt {
    /// Show the consent page even where consent is on record: the way on after AADSTS65001.
    Consent,
}

impl Prompt {
    /// The parameter's value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Consent => "consent",
        }
    }
}

/// A browser sign-in in progress: open [`BrowserSignIn::authorize_url`], then await [`BrowserSignIn::complete`].
pub struct BrowserSignIn {
    client: IdentityClient,
    listener: LoopbackListener,
    authorize_url: Url,
    redirect_uri: Url,
    state: CsrfToken,
    verifier: PkceCodeVerifier,
}

impl std::fmt::Debug for BrowserSignIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BrowserSignIn")
            .field("redirect_uri", &self.redirect_uri.as_str())
            .finish_non_exhaustive()
    }
}

impl BrowserSignIn {
    pub fn authorize_url(&self) -> &Url {
        &self.authorize_url
    }

    pub fn redirect_uri(&self) -> &Url {
        &self.redirect_uri
    }

    /// Waits for the redirect (at most `timeout`, or until `cancel`), checks `state`, and redeems the code.
    pub async fn complete(self, timeout: Duration, cancel: &CancellationToken) -> Result<SignIn> {
        let Self {
            client,
            listener,
            redirect_uri,
            state,
            verifier,
            ..
        } = self;
        let callback = tokio::select! {
            biased;
            () = cancel.cancelled() => return Err(Error::Cancelled),
            waited = tokio::time::timeout(timeout, listener.accept_callback(state.secret())) => match waited {
                Ok(callback) => callback?,
                Err(_) => return Err(Error::RedirectTimedOut { seconds: timeout.as_secs() }),
            },
        };
        match callback {
            Callback::Error(response) => Err(Error::server("browser sign-in", response)),
            Callback::Code(code) => tokio::select! {
                biased;
                () = cancel.cancelled() => Err(Error::Cancelled),
                signed_in = client.redeem_code(code, verifier, &redirect_uri) => signed_in,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_authorize_url_carries_pkce_state_scopes_and_the_loopback_redirect() {
        let authority =
            Authority::new(Url::parse("http://127.0.0.1:1/").unwrap(), "common").unwrap();
        let discovery = Discovery {
            issuer: "x".into(),
            authorization_endpoint: Url::parse("http://127.0.0.1:1/common/oauth2/v2.0/authorize")
                .unwrap(),
            token_endpoint: Url::parse("http://127.0.0.1:1/common/oauth2/v2.0/token").unwrap(),
            device_authorization_endpoint: Url::parse(
                "http://127.0.0.1:1/common/oauth2/v2.0/devicecode",
            )
            .unwrap(),
        };
        let app = AppRegistration::new(crate::AppKind::FreeBusy, "client-1");
        let client =
            IdentityClient::from_discovery(reqwest::Client::new(), authority, discovery, app);
        let sign_in = client.begin_browser_sign_in().await.unwrap();
        let query: std::collections::HashMap<String, String> =
            sign_in.authorize_url().query_pairs().into_owned().collect();
        assert_eq!(query["response_type"], "code");
        assert_eq!(query["client_id"], "client-1");
        assert_eq!(query["code_challenge_method"], "S256");
        assert_eq!(
            query["scope"],
            "Calendars.ReadBasic User.Read offline_access"
        );
        assert_eq!(query["redirect_uri"], sign_in.redirect_uri().as_str());
        assert!(query["state"].len() >= 16);
        assert!(query["code_challenge"].len() >= 43);
        assert!(!query.contains_key("prompt"), "no prompt unless asked");

        let consent = client
            .begin_browser_sign_in_prompting(Some(Prompt::Consent))
            .await
            .unwrap();
        let prompts: Vec<String> = consent
            .authorize_url()
            .query_pairs()
            .filter(|(name, _)| name == "prompt")
            .map(|(_, value)| value.into_owned())
            .collect();
        assert_eq!(prompts, ["consent"]);
    }
}
