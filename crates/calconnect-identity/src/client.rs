//! The identity client: browser sign-in, device code and refresh against one authority and app.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;

use oauth2::basic::{
    BasicRevocationErrorResponse, BasicTokenIntrospectionResponse, BasicTokenResponse,
};
use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, CsrfToken, DeviceAuthorizationUrl, EndpointNotSet,
    EndpointSet, ExtraDeviceAuthorizationFields, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl,
    RefreshToken, RequestTokenError, Scope, StandardRevocableToken, TokenResponse, TokenUrl,
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
use crate::http::{read_json, BodyError, OAuthHttp};
use crate::loopback::{Callback, LoopbackListener};
use crate::redirect::RegisteredRedirect;
use crate::scopes::{check_grant, AccessLevel, ScopeSet};
use crate::text::strip_control_characters;
use crate::time::{deadline, Clock, Sleeper, SystemClock, TokioSleeper};
use crate::token::{TokenSet, MAX_ACCESS_TOKEN_LIFETIME};

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

/// The longest device-code lifetime believed: Entra's codes live 15 minutes (`expires_in` 900), so an
/// hour is generous; a longer one would keep the poll loop (and the person) waiting for nothing.
const MAX_DEVICE_CODE_LIFETIME: Duration = Duration::from_secs(60 * 60);

/// The shortest poll interval used, whatever the server says (RFC 8628 §3.2's default is 5 s; a zero
/// interval would poll the token endpoint in a tight loop).
const MIN_POLL_INTERVAL: Duration = Duration::from_secs(1);

/// What `slow_down` adds to the interval (RFC 8628 §3.5).
const SLOW_DOWN_STEP: Duration = Duration::from_secs(5);

/// A successful sign-in: the tokens and what they allow.
#[derive(Debug, Clone)]
pub struct SignIn {
    pub tokens: TokenSet,
    pub access: AccessLevel,
}

/// What an authorize request adds for the person at the browser (Microsoft identity platform "authorization
/// code flow": `prompt`, `login_hint`; <https://learn.microsoft.com/entra/identity-platform/v2-oauth2-auth-code-flow>).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthorizeOptions {
    /// `login_hint`: the account's sign-in name, pre-filled (signing a known account in again).
    pub login_hint: Option<String>,
    /// `prompt=select_account`: show the account picker even though the browser is signed in (connecting
    /// another account; without it the browser silently reuses the first account's session).
    pub select_account: bool,
    /// `prompt=consent`: show Microsoft's consent page even where consent is on record, the way on after
    /// AADSTS65001 (takes the place of `select_account`, as `prompt` carries one value).
    pub consent: bool,
}

/// Signs in and refreshes against one authority with one app registration. Cheap to clone.
#[derive(Clone)]
pub struct IdentityClient {
    inner: Arc<Inner>,
    clock: Arc<dyn Clock>,
    sleeper: Arc<dyn Sleeper>,
    redirect: RegisteredRedirect,
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
            redirect: RegisteredRedirect::default(),
        }
    }

    /// The loopback redirect URI the app registration lists (default `http://localhost`).
    pub fn with_redirect(mut self, redirect: RegisteredRedirect) -> Self {
        self.redirect = redirect;
        self
    }

    pub fn redirect(&self) -> &RegisteredRedirect {
        &self.redirect
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
        self.begin_browser_sign_in_with(&AuthorizeOptions::default())
            .await
    }

    /// Like [`Self::begin_browser_sign_in`], asking Microsoft for `prompt` (e.g. its consent page).
    pub async fn begin_browser_sign_in_prompting(
        &self,
        prompt: Option<Prompt>,
    ) -> Result<BrowserSignIn> {
        let options = AuthorizeOptions {
            consent: prompt == Some(Prompt::Consent),
            ..AuthorizeOptions::default()
        };
        self.begin_browser_sign_in_with(&options).await
    }

    /// Like [`Self::begin_browser_sign_in`], with `prompt` and `login_hint` as `options` say.
    pub async fn begin_browser_sign_in_with(
        &self,
        options: &AuthorizeOptions,
    ) -> Result<BrowserSignIn> {
        let listener = LoopbackListener::bind(&self.redirect).await?;
        self.begin_browser_sign_in_on(listener, options)
    }

    /// Like [`Self::begin_browser_sign_in_with`], on a given listener.
    pub fn begin_browser_sign_in_on(
        &self,
        listener: LoopbackListener,
        options: &AuthorizeOptions,
    ) -> Result<BrowserSignIn> {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        // The string as built (no trailing slash added): `RedirectUrl::new` keeps it, `from_url` would not.
        let redirect_uri = listener.redirect_uri();
        let redirect =
            RedirectUrl::new(redirect_uri.clone()).map_err(|_| Error::InvalidRedirectUri {
                uri: redirect_uri.clone(),
                reason: "it is not a URL",
            })?;
        let mut request = self
            .inner
            .oauth
            .authorize_url(CsrfToken::new_random)
            .add_scopes(self.scopes())
            .set_pkce_challenge(challenge)
            .set_redirect_uri(Cow::Owned(redirect.clone()));
        // `prompt` takes one value: the consent page (which follows the account choice anyway) wins.
        if options.consent {
            request = request.add_extra_param("prompt", Prompt::Consent.as_str());
        } else if options.select_account {
            request = request.add_extra_param("prompt", "select_account");
        }
        if let Some(hint) = options.login_hint.as_deref() {
            request = request.add_extra_param("login_hint", hint);
        }
        let (authorize_url, state) = request.url();
        Ok(BrowserSignIn {
            client: self.clone(),
            listener,
            authorize_url,
            redirect,
            state,
            verifier,
        })
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
            .request_async(&OAuthHttp(self.inner.http.clone()))
            .await
            .map_err(|error| map_request_error("device code request", &url, error))?;
        let verification_uri = response.verification_uri().url().clone();
        crate::device_code::check_verification_uri(
            &verification_uri,
            &self.inner.discovery.device_authorization_endpoint,
        )
        .map_err(|reason| Error::InvalidResponse {
            url: url.clone(),
            reason,
        })?;
        // The lifetime and interval are the server's numbers: believed within bounds, never overflowing.
        let lifetime = response.expires_in().min(MAX_DEVICE_CODE_LIFETIME);
        Ok(DeviceCode {
            // Both are shown to the person as they came: no escape sequence may reach the terminal.
            user_code: strip_control_characters(response.user_code().secret()),
            verification_uri,
            message: response
                .extra_fields()
                .message
                .as_deref()
                .map(strip_control_characters),
            expires_at: deadline(self.clock.now(), lifetime, MAX_DEVICE_CODE_LIFETIME),
            interval: response
                .interval()
                .clamp(MIN_POLL_INTERVAL, lifetime.max(MIN_POLL_INTERVAL)),
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
        let mut interval = device_code.interval.max(MIN_POLL_INTERVAL);
        let mut polls = 0u32;
        let mut last_state = PollState::Waiting;
        loop {
            let remaining = device_code.remaining(self.clock.now());
            if remaining.is_zero() {
                return Err(Error::DeviceCodeExpired);
            }
            // Never wait past the code's expiry, whatever interval the server asked for.
            let wait = interval.min(remaining);
            on_progress(DeviceProgress {
                state: last_state,
                remaining_seconds: remaining.as_secs(),
                interval_seconds: wait.as_secs(),
                polls,
            });
            tokio::select! {
                biased;
                () = cancel.cancelled() => return Err(Error::Cancelled),
                () = self.sleeper.sleep(wait) => {}
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
                        interval = interval.saturating_add(SLOW_DOWN_STEP);
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
        let body = read_json(response, url).await?;
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
            .request_async(&OAuthHttp(self.inner.http.clone()))
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
        redirect: &RedirectUrl,
    ) -> Result<SignIn> {
        let url = self.inner.discovery.token_endpoint.to_string();
        let response = self
            .inner
            .oauth
            .exchange_code(AuthorizationCode::new(code.expose_secret().to_owned()))
            .set_pkce_verifier(verifier)
            .set_redirect_uri(Cow::Borrowed(redirect))
            .request_async(&OAuthHttp(self.inner.http.clone()))
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
            expires_at: deadline(self.clock.now(), lifetime, MAX_ACCESS_TOKEN_LIFETIME),
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
    error: RequestTokenError<BodyError, AadError>,
) -> Error {
    match error {
        RequestTokenError::ServerResponse(response) => Error::server(operation, response),
        RequestTokenError::Request(BodyError::TooLarge { limit }) => Error::ResponseTooLarge {
            url: url.to_owned(),
            limit,
        },
        RequestTokenError::Request(BodyError::Http(source)) => Error::Network {
            url: url.to_owned(),
            source,
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
    redirect: RedirectUrl,
    state: CsrfToken,
    verifier: PkceCodeVerifier,
}

impl std::fmt::Debug for BrowserSignIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BrowserSignIn")
            .field("redirect_uri", &self.redirect.as_str())
            .finish_non_exhaustive()
    }
}

impl BrowserSignIn {
    pub fn authorize_url(&self) -> &Url {
        &self.authorize_url
    }

    /// The redirect URI sent: the registered one with the listener's port.
    pub fn redirect_uri(&self) -> &str {
        self.redirect.as_str()
    }

    /// Waits for the redirect (at most `timeout`, or until `cancel`), checks `state`, and redeems the code.
    pub async fn complete(self, timeout: Duration, cancel: &CancellationToken) -> Result<SignIn> {
        let Self {
            client,
            listener,
            redirect,
            state,
            verifier,
            ..
        } = self;
        let callback = tokio::select! {
            biased;
            () = cancel.cancelled() => return Err(Error::Cancelled),
            callback = listener.accept_callback(state.secret(), timeout) => callback?,
        };
        match callback {
            Callback::Error(response) => Err(Error::server("browser sign-in", response)),
            Callback::Code(code) => tokio::select! {
                biased;
                () = cancel.cancelled() => Err(Error::Cancelled),
                signed_in = client.redeem_code(code, verifier, &redirect) => signed_in,
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
        assert_eq!(query["redirect_uri"], sign_in.redirect_uri());
        assert!(
            sign_in.redirect_uri().starts_with("http://localhost:")
                && !sign_in.redirect_uri().ends_with('/'),
            "the registered http://localhost with the port, nothing added: {}",
            sign_in.redirect_uri()
        );
        assert!(!query.contains_key("prompt") && !query.contains_key("login_hint"));
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
