//! The operations the desktop app and the CLI call: sign in, list, show, calendars, free/busy, disconnect.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use calconnect_graph::GraphClient;
use calconnect_identity::{
    AccessLevel, AdminConsent, AppKind, AppRegistration, AuthorizeOptions, BrowserOpener,
    CancellationToken, Clock, DeviceCode, DeviceProgress, IdentityClient, Prompt,
    RegisteredRedirect, SignIn, Sleeper, SystemBrowser, SystemClock, TokioSleeper,
};
use calconnect_vault::SecretStore;
use chrono::{DateTime, Utc};
use serde::Serialize;
use url::Url;

use crate::accounts::{Account, AccountStatus, AccountStore, UserInfo};
use crate::config::{Config, Endpoints};
use crate::error::{Error, Result};
use crate::token_source::{
    save_tokens, AccountTokenSource, IdentityFactory, Persistence, RefreshLocks,
};
use crate::view::{BusyBlock, CalendarInfo, FreeBusy};

/// How long the browser sign-in waits for the redirect before suggesting the device code.
pub const DEFAULT_BROWSER_TIMEOUT: Duration = Duration::from_secs(300);

/// Everything a [`Calconnect`] needs, with injectable parts for tests.
pub struct Options {
    pub config: Config,
    pub accounts_path: PathBuf,
    pub secret_store: Arc<dyn SecretStore>,
    pub http: reqwest::Client,
    pub clock: Arc<dyn Clock>,
    pub sleeper: Arc<dyn Sleeper>,
    pub browser: Arc<dyn BrowserOpener>,
    pub browser_timeout: Duration,
}

impl Options {
    /// Real clock, tokio sleep, the system browser and a five-minute browser timeout.
    pub fn new(
        config: Config,
        accounts_path: PathBuf,
        secret_store: Arc<dyn SecretStore>,
        http: reqwest::Client,
    ) -> Self {
        Self {
            config,
            accounts_path,
            secret_store,
            http,
            clock: Arc::new(SystemClock),
            sleeper: Arc::new(TokioSleeper),
            browser: Arc::new(SystemBrowser),
            browser_timeout: DEFAULT_BROWSER_TIMEOUT,
        }
    }
}

/// calconnect's core: one per app or CLI run. Cheap to clone.
#[derive(Clone)]
pub struct Calconnect {
    inner: Arc<Inner>,
}

struct Inner {
    config: Config,
    endpoints: Endpoints,
    redirect: RegisteredRedirect,
    http: reqwest::Client,
    store: Arc<dyn SecretStore>,
    accounts: Arc<AccountStore>,
    clock: Arc<dyn Clock>,
    sleeper: Arc<dyn Sleeper>,
    browser: Arc<dyn BrowserOpener>,
    browser_timeout: Duration,
    // Discovery documents are fetched once per authority and app.
    identities: tokio::sync::Mutex<HashMap<(String, String), IdentityClient>>,
    // One refresh-and-save at a time per account, across all commands.
    refresh_locks: RefreshLocks,
}

/// A finished sign-in: the stored account and, for a Full account, its calendars.
#[derive(Debug, Clone, Serialize)]
pub struct Connected {
    pub account: Account,
    pub calendars: Vec<CalendarInfo>,
}

/// An account with where its tokens live.
#[derive(Debug, Clone, Serialize)]
pub struct AccountDetails {
    pub account: Account,
    /// Which keychain holds the tokens, e.g. "Secret Service (GNOME Keyring)".
    pub keychain: String,
    pub refresh_token_last_used: DateTime<Utc>,
    /// Entra ends a refresh token after 90 days without use.
    pub refresh_token_expires_at: DateTime<Utc>,
}

impl Calconnect {
    pub fn new(options: Options) -> Result<Self> {
        let endpoints = options.config.endpoints()?;
        let redirect = options.config.redirect()?;
        Ok(Self {
            inner: Arc::new(Inner {
                config: options.config,
                endpoints,
                redirect,
                http: options.http,
                store: options.secret_store,
                accounts: Arc::new(AccountStore::new(options.accounts_path)),
                clock: options.clock,
                sleeper: options.sleeper,
                browser: options.browser,
                browser_timeout: options.browser_timeout,
                identities: tokio::sync::Mutex::new(HashMap::new()),
                refresh_locks: RefreshLocks::default(),
            }),
        })
    }

    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The HTTP client every request goes through (its trust set-up included), for admin tests that
    /// share it.
    pub fn http_client(&self) -> reqwest::Client {
        self.inner.http.clone()
    }

    pub fn endpoints(&self) -> &Endpoints {
        &self.inner.endpoints
    }

    /// Where tokens are kept, for display.
    pub fn keychain_location(&self) -> String {
        self.inner.store.location()
    }

    /// Binds the loopback listener, builds the authorize URL and opens the browser on it.
    ///
    /// While another account is connected the authorize request adds `prompt=select_account`, or the
    /// browser would silently sign the first account in again (Microsoft identity platform, "authorization
    /// code flow": `prompt`). If the browser cannot be opened the handle is still returned (show its URL);
    /// if the listener cannot bind, the error [`Error::suggests_device_code`].
    pub async fn start_browser_sign_in(&self, app: AppKind) -> Result<PendingBrowserSignIn> {
        let another_account = !self.inner.accounts.list().await?.is_empty();
        let options = AuthorizeOptions {
            select_account: another_account,
            ..AuthorizeOptions::default()
        };
        self.start_browser_sign_in_with(app, &options).await
    }

    /// Signs a known account in again (its sign-in expired, or it was revoked): the same app, with its
    /// address as `login_hint` so the browser goes straight to that account.
    pub async fn start_browser_sign_in_again(
        &self,
        account_id: &str,
    ) -> Result<PendingBrowserSignIn> {
        let account = self.inner.accounts.get(account_id).await?;
        let options = AuthorizeOptions {
            login_hint: Some(account.user.email.clone()),
            ..AuthorizeOptions::default()
        };
        self.start_browser_sign_in_with(account.app, &options).await
    }

    /// Like [`Self::start_browser_sign_in`], asking Microsoft to show its consent page (`prompt=consent`):
    /// the way on after [`Error::suggests_consent_prompt`] (AADSTS65001). If Microsoft still reports the
    /// consent missing afterwards, the error is [`Error::ConsentStillMissing`], with the admin-consent link.
    pub async fn start_browser_sign_in_with_consent(
        &self,
        app: AppKind,
    ) -> Result<PendingBrowserSignIn> {
        let options = AuthorizeOptions {
            consent: true,
            ..AuthorizeOptions::default()
        };
        self.start_browser_sign_in_with(app, &options).await
    }

    async fn start_browser_sign_in_with(
        &self,
        app: AppKind,
        options: &AuthorizeOptions,
    ) -> Result<PendingBrowserSignIn> {
        let prompt = options.consent.then_some(Prompt::Consent);
        let registration = self.inner.config.app(app)?;
        let identity = self
            .identity(&registration)
            .await
            .map_err(|error| self.sign_in_error(error, &registration, None))?;
        let browser_sign_in = identity
            .begin_browser_sign_in_with(options)
            .await
            .map_err(|error| self.sign_in_error(error, &registration, prompt))?;
        let authorize_url = browser_sign_in.authorize_url().clone();
        let browser_opened = match self.inner.browser.open(&authorize_url) {
            Ok(()) => true,
            Err(error) => {
                tracing::warn!(%error, "could not open the browser; the URL must be opened by hand");
                false
            }
        };
        Ok(PendingBrowserSignIn {
            core: self.clone(),
            registration,
            authorize_url,
            browser_opened,
            cancel: CancellationToken::new(),
            sign_in: browser_sign_in,
            prompt,
        })
    }

    /// Requests a device code; show [`PendingDeviceCode::prompt`], then await [`PendingDeviceCode::finish`].
    pub async fn start_device_code(&self, app: AppKind) -> Result<PendingDeviceCode> {
        let registration = self.inner.config.app(app)?;
        let identity = self
            .identity(&registration)
            .await
            .map_err(|error| self.sign_in_error(error, &registration, None))?;
        let device_code = identity
            .start_device_code()
            .await
            .map_err(|error| self.sign_in_error(error, &registration, None))?;
        let prompt = DeviceCodePrompt {
            user_code: device_code.user_code.clone(),
            verification_uri: device_code.verification_uri.clone(),
            message: device_code.message.clone(),
            expires_at: device_code.expires_at,
            interval_seconds: device_code.interval.as_secs(),
        };
        Ok(PendingDeviceCode {
            core: self.clone(),
            registration,
            identity,
            device_code,
            prompt,
            cancel: CancellationToken::new(),
        })
    }

    pub async fn list_accounts(&self) -> Result<Vec<Account>> {
        self.inner.accounts.list().await
    }

    pub async fn account_details(&self, account_id: &str) -> Result<AccountDetails> {
        let account = self.inner.accounts.get(account_id).await?;
        Ok(AccountDetails {
            keychain: self.keychain_location(),
            refresh_token_last_used: account.refresh_token_last_used,
            refresh_token_expires_at: account.refresh_token_expires_at(),
            account,
        })
    }

    /// The account's calendars: the whole `/me/calendars` list for Full access, the single read-only
    /// "Free Busy" calendar for Free/Busy access.
    pub async fn calendars(&self, account_id: &str) -> Result<Vec<CalendarInfo>> {
        let account = self.usable_account(account_id).await?;
        refuse_teams_only(&account)?;
        if account.access == AccessLevel::FreeBusy {
            return Ok(vec![CalendarInfo::free_busy(&account.user.email)]);
        }
        let source = self.token_source(&account)?;
        let calendars = self
            .graph(&account.graph)
            .calendars(&source)
            .await
            .map_err(crate::graph_errors::from_graph)?;
        Ok(calendars.into_iter().map(CalendarInfo::from).collect())
    }

    /// Busy blocks of the account's own schedule between `start` and `end` (getSchedule; the graph client
    /// splits ranges over Graph's 62-day limit). Only status, start and end are kept. Where getSchedule is
    /// refused (facts §0: Calendars.ReadBasic is listed for it on one Microsoft page only), the blocks
    /// come from the account's own calendarView, and [`FreeBusy::source`] says so.
    pub async fn free_busy(
        &self,
        account_id: &str,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<FreeBusy> {
        if end <= start {
            return Err(Error::InvalidRange {
                reason: format!("start {start} is not before end {end}"),
            });
        }
        let account = self.usable_account(account_id).await?;
        refuse_teams_only(&account)?;
        let source = self.token_source(&account)?;
        let own = self
            .graph(&account.graph)
            .own_free_busy(&source, &account.user.email, start, end)
            .await
            .map_err(crate::graph_errors::from_graph)?;
        Ok(FreeBusy {
            calendar: CalendarInfo::free_busy(&account.user.email),
            start,
            end,
            blocks: own.blocks.into_iter().map(BusyBlock::from).collect(),
            source: own.source.into(),
        })
    }

    /// The busy blocks of other people's schedules (up to 20 addresses, one request) with a calendar
    /// account's delegated token: what the Graph Enterprise Connect Free/Busy variant reads. Only status,
    /// start and end are kept.
    pub async fn schedules(
        &self,
        account_id: &str,
        addresses: &[String],
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<Vec<calconnect_graph::ScheduleOutcome>> {
        let account = self.usable_account(account_id).await?;
        refuse_teams_only(&account)?;
        let source = self.token_source(&account)?;
        self.graph(&account.graph)
            .schedules(&source, addresses, start, end)
            .await
            .map_err(crate::graph_errors::from_graph)
    }

    /// Removes the account's keychain entry and its metadata. Idempotent for the keychain part.
    pub async fn disconnect(&self, account_id: &str) -> Result<()> {
        let account = self.inner.accounts.get(account_id).await?;
        let store = self.inner.store.clone();
        let key = account.vault_key();
        tokio::task::spawn_blocking(move || store.delete(&key))
            .await
            .map_err(Error::task)?
            .map_err(|source| Error::Vault {
                operation: "delete",
                source,
            })?;
        self.inner.accounts.remove(account_id).await?;
        tracing::info!(account = account_id, "disconnected");
        Ok(())
    }

    /// Now, from the injected clock.
    pub(crate) fn now(&self) -> DateTime<Utc> {
        self.inner.clock.now()
    }

    pub(crate) async fn usable_account(&self, account_id: &str) -> Result<Account> {
        let account = self.inner.accounts.get(account_id).await?;
        if account.status == AccountStatus::NeedsSignInAgain {
            return Err(Error::NeedsSignInAgain {
                id: account.id,
                source: None,
            });
        }
        Ok(account)
    }

    pub(crate) fn graph(&self, base: &Url) -> GraphClient {
        GraphClient::new(base.clone(), self.inner.http.clone()).with_sleeper(
            crate::graph_errors::graph_sleeper(self.inner.sleeper.clone()),
        )
    }

    pub(crate) fn token_source(&self, account: &Account) -> Result<AccountTokenSource> {
        let persistence = Persistence {
            account_id: account.id.clone(),
            store: self.inner.store.clone(),
            accounts: self.inner.accounts.clone(),
            lock: self.inner.refresh_locks.for_account(&account.id),
        };
        Ok(AccountTokenSource::stored(
            self.identity_factory(account)?,
            persistence,
            self.inner.clock.clone(),
        ))
    }

    /// Refreshes use the account's own authority and app, which may differ from today's configuration.
    fn identity_factory(&self, account: &Account) -> Result<IdentityFactory> {
        let core = self.clone();
        let registration = AppRegistration::new(account.app, account.client_id.clone());
        let authority =
            calconnect_identity::Authority::new(account.authority.clone(), account.tenant.clone())?;
        Ok(Arc::new(move || {
            let core = core.clone();
            let registration = registration.clone();
            let authority = authority.clone();
            Box::pin(async move { core.identity_at(authority, &registration).await })
        }))
    }

    async fn identity(
        &self,
        registration: &AppRegistration,
    ) -> calconnect_identity::Result<IdentityClient> {
        self.identity_at(self.inner.endpoints.authority.clone(), registration)
            .await
            .map_err(|error| match error {
                Error::Identity(error) => error,
                other => calconnect_identity::Error::InvalidResponse {
                    url: self.inner.endpoints.authority.to_string(),
                    reason: other.to_string(),
                },
            })
    }

    async fn identity_at(
        &self,
        authority: calconnect_identity::Authority,
        registration: &AppRegistration,
    ) -> Result<IdentityClient> {
        let key = (authority.url().to_string(), registration.client_id.clone());
        let mut identities = self.inner.identities.lock().await;
        if let Some(identity) = identities.get(&key) {
            return Ok(identity.clone());
        }
        let identity =
            IdentityClient::discover(self.inner.http.clone(), authority, registration.clone())
                .await?
                .with_time(self.inner.clock.clone(), self.inner.sleeper.clone())
                .with_redirect(self.inner.redirect.clone());
        identities.insert(key, identity.clone());
        Ok(identity)
    }

    /// A sign-in failure with what the person needs next. AADSTS65001 offers the consent page first
    /// ([`Error::suggests_consent_prompt`]); only an administrator-only refusal (AADSTS90094, 900941) or
    /// AADSTS65001 again after `prompt` showed the consent page carries the admin-consent link.
    fn sign_in_error(
        &self,
        error: calconnect_identity::Error,
        registration: &AppRegistration,
        prompt: Option<Prompt>,
    ) -> Error {
        let admin_consent = || {
            Box::new(AdminConsent::new(
                &self.inner.endpoints.authority,
                None,
                registration,
                &self.inner.endpoints.graph_resource,
                &self.inner.redirect.registered(),
            ))
        };
        if prompt == Some(Prompt::Consent) && error.needs_consent_prompt() {
            return Error::ConsentStillMissing {
                source: error,
                admin_consent: admin_consent(),
            };
        }
        Error::SignIn {
            admin_consent: error.needs_admin_consent().then(admin_consent),
            source: error,
        }
    }

    /// After the token response: `/me` and `/me/calendars` concurrently (one more round trip), then store.
    async fn connect(&self, registration: &AppRegistration, sign_in: SignIn) -> Result<Connected> {
        let SignIn { tokens, access } = sign_in;
        let identity = self.identity(registration).await?;
        let factory: IdentityFactory = Arc::new(move || {
            let identity = identity.clone();
            Box::pin(async move { Ok(identity) })
        });
        let source = AccountTokenSource::fresh(factory, tokens, self.inner.clock.clone());
        let graph = self.graph(&self.inner.endpoints.graph);
        let (user, calendars) = match access {
            AccessLevel::Full => {
                let (user, calendars) =
                    futures::try_join!(graph.me(&source), graph.calendars(&source))
                        .map_err(crate::graph_errors::from_graph)?;
                (
                    user,
                    calendars
                        .into_iter()
                        .map(CalendarInfo::from)
                        .collect::<Vec<_>>(),
                )
            }
            AccessLevel::FreeBusy => {
                let user = graph
                    .me(&source)
                    .await
                    .map_err(crate::graph_errors::from_graph)?;
                let email = user_email(&user);
                (user, vec![CalendarInfo::free_busy(&email)])
            }
            // Teams conferencing gives no calendar access: the profile only.
            AccessLevel::Teams => {
                let user = graph
                    .me(&source)
                    .await
                    .map_err(crate::graph_errors::from_graph)?;
                (user, Vec::new())
            }
        };
        // A refresh during the Graph calls (a 401, or a token inside the margin) rotated the refresh token:
        // store what the source holds now, not the set the sign-in returned.
        let tokens = source.into_tokens().ok_or_else(|| Error::Task {
            reason: "the sign-in's token source lost its tokens".into(),
        })?;
        let now = self.inner.clock.now();
        let email = user_email(&user);
        let account = Account {
            id: Account::account_id(registration.kind, &user.id),
            authority: self.inner.endpoints.authority.base().clone(),
            tenant: self.inner.endpoints.authority.tenant().to_owned(),
            graph: self.inner.endpoints.graph.clone(),
            user: UserInfo {
                id: user.id.clone(),
                name: user.display_name.clone().unwrap_or_else(|| email.clone()),
                email,
            },
            app: registration.kind,
            client_id: registration.client_id.clone(),
            access,
            granted_scopes: tokens.granted_scopes.clone(),
            status: AccountStatus::Connected,
            connected_at: now,
            refresh_token_last_used: now,
        };
        {
            // A signed-in-again account may have commands refreshing its old entry right now.
            let lock = self.inner.refresh_locks.for_account(&account.id);
            let _account = lock.lock().await;
            save_tokens(&self.inner.store, &account.id, &tokens).await?;
            self.inner.accounts.upsert(account.clone()).await?;
        }
        tracing::info!(account = %account.id, access = ?account.access, calendars = calendars.len(), "account connected");
        Ok(Connected { account, calendars })
    }
}

/// Graph's `mail` can be empty (unlicensed users); the UPN is the address then.
fn user_email(user: &calconnect_graph::User) -> String {
    if user.mail.is_empty() {
        user.user_principal_name.clone()
    } else {
        user.mail.clone()
    }
}

/// A browser sign-in waiting for its redirect.
pub struct PendingBrowserSignIn {
    core: Calconnect,
    registration: AppRegistration,
    authorize_url: Url,
    browser_opened: bool,
    cancel: CancellationToken,
    sign_in: calconnect_identity::BrowserSignIn,
    /// What the authorize request asked Microsoft to show (`prompt=consent` after AADSTS65001).
    prompt: Option<Prompt>,
}

impl PendingBrowserSignIn {
    /// The URL opened in the browser (show it too, in case the browser did not open).
    pub fn authorize_url(&self) -> &Url {
        &self.authorize_url
    }

    pub fn browser_opened(&self) -> bool {
        self.browser_opened
    }

    /// How long [`Self::finish`] waits for the browser's redirect before giving up.
    pub fn timeout(&self) -> Duration {
        self.core.inner.browser_timeout
    }

    /// Cancels [`Self::finish`] from elsewhere (a UI button, Ctrl-C).
    pub fn cancel_token(&self) -> CancellationToken {
        self.cancel.clone()
    }

    /// Waits for the redirect, redeems the code, loads the profile (and calendars) and stores the account.
    pub async fn finish(self) -> Result<Connected> {
        let Self {
            core,
            registration,
            cancel,
            sign_in,
            prompt,
            ..
        } = self;
        let signed_in = sign_in
            .complete(core.inner.browser_timeout, &cancel)
            .await
            .map_err(|error| core.sign_in_error(error, &registration, prompt))?;
        core.connect(&registration, signed_in).await
    }
}

/// What to show for a device-code sign-in.
#[derive(Debug, Clone, Serialize)]
pub struct DeviceCodePrompt {
    pub user_code: String,
    pub verification_uri: Url,
    pub message: Option<String>,
    pub expires_at: DateTime<Utc>,
    pub interval_seconds: u64,
}

/// A device-code sign-in waiting for the person.
pub struct PendingDeviceCode {
    core: Calconnect,
    registration: AppRegistration,
    identity: IdentityClient,
    device_code: DeviceCode,
    prompt: DeviceCodePrompt,
    cancel: CancellationToken,
}

impl PendingDeviceCode {
    pub fn prompt(&self) -> &DeviceCodePrompt {
        &self.prompt
    }

    pub fn cancel_token(&self) -> CancellationToken {
        self.cancel.clone()
    }

    /// Polls until the person finishes; `on_progress` gets the remaining time and poll state before each wait.
    pub async fn finish(
        self,
        mut on_progress: impl FnMut(DeviceProgress) + Send,
    ) -> Result<Connected> {
        let Self {
            core,
            registration,
            identity,
            device_code,
            cancel,
            ..
        } = self;
        let signed_in = identity
            .poll_device_code(&device_code, &cancel, &mut on_progress)
            .await
            .map_err(|error| core.sign_in_error(error, &registration, None))?;
        core.connect(&registration, signed_in).await
    }
}

/// A Teams conferencing account has no calendar permission: say so rather than send a request Graph
/// would refuse with 403.
fn refuse_teams_only(account: &Account) -> Result<()> {
    if account.app.reads_calendars() {
        Ok(())
    } else {
        Err(Error::NotCalendarAccount {
            id: account.id.clone(),
        })
    }
}
