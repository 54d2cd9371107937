//! Shared state of a running sandbox: tenant, issued codes and tokens, online meetings, faults, journal,
//! clock, signing key.
//!
//! Route modules (identity, Graph, EWS, Autodiscover) receive an [`AppState`] through axum's `State`.

use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, Validation};
use serde::{Deserialize, Serialize};
use url::Url;
use uuid::Uuid;

use crate::clock::Clock;
use crate::demo;
use crate::fault::FaultControl;
use crate::graph::online_meetings::MeetingStore;
use crate::journal::Journal;
use crate::persistence::{Snapshot, StateDir};
use crate::signing::SigningKey;
use crate::store::Store;
use crate::tenant::Tenant;

/// Lifetimes and polling parameters; tests shorten them.
#[derive(Debug, Clone, Copy)]
pub struct Lifetimes {
    /// Access token `expires_in` (Entra: 3599 s typical).
    pub access_token: Duration,
    /// Authorization code lifetime ("about 10 minutes").
    pub authorization_code: Duration,
    /// Device code `expires_in` (Entra default 900 s).
    pub device_code: Duration,
    /// Device code polling `interval` (Entra: 5 s).
    pub device_code_interval: Duration,
}

impl Default for Lifetimes {
    fn default() -> Self {
        Self {
            access_token: Duration::from_secs(3599),
            authorization_code: Duration::from_secs(600),
            device_code: Duration::from_secs(900),
            device_code_interval: Duration::from_secs(5),
        }
    }
}

/// Handle on the sandbox state; cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    tenant: Arc<Tenant>,
    base_url: Url,
    lifetimes: Lifetimes,
    signing_key: Arc<SigningKey>,
    store: Mutex<Store>,
    /// Online meetings Graph created.
    online_meetings: Mutex<MeetingStore>,
    created_events: Mutex<crate::graph::events::EventStore>,
    faults: FaultControl,
    journal: Journal,
    clock: Clock,
    state_dir: Option<Arc<StateDir>>,
    /// NTLM's expected `MsvAvChannelBindings` for this server's TLS certificate (unset over HTTP).
    channel_binding: OnceLock<[u8; 16]>,
    /// The bearer token `/_sandbox/` routes require (set by the builder, else drawn on first use).
    admin_token: OnceLock<secrecy::SecretString>,
}

/// Claims of an access token this sandbox issued (a subset of Entra's access token claims).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    /// Resource: `00000003-0000-0000-c000-000000000000` for Graph, `https://outlook.office365.com` for EWS.
    pub aud: String,
    pub iss: String,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    /// Client id of the app the token was issued to.
    pub appid: String,
    /// Delegated scopes, space separated, bare names (`User.Read Calendars.ReadBasic`). Absent in app-only tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scp: Option<String>,
    /// Application permissions of app-only tokens (`full_access_as_app`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<String>>,
    /// Object id of the user (delegated) or of the app's service principal (app-only).
    pub oid: Uuid,
    pub tid: Uuid,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferred_username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Unique token id.
    pub uti: String,
    pub ver: String,
}

impl AccessClaims {
    /// Delegated scopes as a list.
    pub fn scopes(&self) -> Vec<&str> {
        self.scp
            .as_deref()
            .map(|scp| scp.split_whitespace().collect())
            .unwrap_or_default()
    }

    /// Whether the delegated scope `name` was granted (case-insensitive, bare name).
    pub fn has_scope(&self, name: &str) -> bool {
        self.scopes()
            .iter()
            .any(|scope| scope.eq_ignore_ascii_case(name))
    }

    /// Whether the app role `name` was granted (app-only tokens).
    pub fn has_role(&self, name: &str) -> bool {
        self.roles
            .as_ref()
            .is_some_and(|roles| roles.iter().any(|role| role.eq_ignore_ascii_case(name)))
    }

    /// App-only token (client credentials): no user.
    pub fn is_app_only(&self) -> bool {
        self.upn.is_none()
    }
}

/// Why a bearer token was refused. Its text reaches journals and error bodies, so no variant may ever
/// hold the token (or any part of it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenRejection {
    #[error("access token is missing")]
    Missing,
    #[error("access token is malformed or its signature is invalid")]
    Invalid,
    #[error("access token has expired or is not yet valid")]
    Expired,
    #[error("access token audience {actual} is not {expected}")]
    WrongAudience { expected: String, actual: String },
}

impl AppState {
    /// Builds the state for a sandbox reachable at `base_url`.
    pub fn new(
        tenant: Tenant,
        base_url: Url,
        lifetimes: Lifetimes,
        signing_key: Arc<SigningKey>,
    ) -> Self {
        Self::build(tenant, base_url, lifetimes, signing_key, None, None)
    }

    /// Like [`AppState::new`], restoring `snapshot` and saving changes to `state_dir`
    /// (see [`AppState::persist`]).
    pub fn persistent(
        tenant: Tenant,
        base_url: Url,
        lifetimes: Lifetimes,
        signing_key: Arc<SigningKey>,
        state_dir: Arc<StateDir>,
        snapshot: Option<&Snapshot>,
    ) -> Self {
        Self::build(
            tenant,
            base_url,
            lifetimes,
            signing_key,
            Some(state_dir),
            snapshot,
        )
    }

    fn build(
        tenant: Tenant,
        base_url: Url,
        lifetimes: Lifetimes,
        signing_key: Arc<SigningKey>,
        state_dir: Option<Arc<StateDir>>,
        snapshot: Option<&Snapshot>,
    ) -> Self {
        let mut store = Store::default();
        if let Some(snapshot) = snapshot {
            snapshot.restore_into(&mut store);
        }
        Self {
            inner: Arc::new(Inner {
                tenant: Arc::new(tenant),
                base_url,
                lifetimes,
                signing_key,
                store: Mutex::new(store),
                online_meetings: Mutex::new(MeetingStore::default()),
                created_events: Mutex::new(crate::graph::events::EventStore::default()),
                faults: FaultControl::default(),
                journal: Journal::default(),
                clock: snapshot.map_or_else(Clock::default, |snapshot| {
                    Clock::with_offset(snapshot.clock_offset())
                }),
                state_dir,
                channel_binding: OnceLock::new(),
                admin_token: OnceLock::new(),
            }),
        }
    }

    /// Records the TLS server certificate's RFC 5929 hash, from which NTLM's channel binding follows.
    pub(crate) fn set_server_certificate_hash(&self, hash: &[u8]) {
        let _ = self
            .inner
            .channel_binding
            .set(crate::ews::ntlm::channel_binding(hash));
    }

    /// Sets the admin token before the server starts; a token already in use is kept.
    pub(crate) fn set_admin_token(&self, token: secrecy::SecretString) {
        if self.inner.admin_token.set(token).is_err() {
            tracing::warn!("the sandbox admin token was already set; keeping the first");
        }
    }

    /// The bearer token the admin routes (`/_sandbox/…`) require: the one the builder was given, or 32
    /// random bytes drawn once.
    pub fn admin_token(&self) -> &secrecy::SecretString {
        self.inner
            .admin_token
            .get_or_init(|| secrecy::SecretString::from(crate::identity::issuance::opaque(32)))
    }

    /// The `MsvAvChannelBindings` a client on this server's TLS connections must send; `None` over HTTP.
    pub fn channel_binding(&self) -> Option<[u8; 16]> {
        self.inner.channel_binding.get().copied()
    }

    /// Saves consents, tenant-wide admin consents, refresh-token grants, the clock offset and the port to the state directory if
    /// any changed since the last save. Blocking file I/O; a no-op without a state directory.
    pub fn persist(&self) -> crate::Result<()> {
        let Some(state_dir) = &self.inner.state_dir else {
            return Ok(());
        };
        let wrote = state_dir.save_if_changed(|| {
            Snapshot::capture(
                &self.store(),
                self.inner.base_url.port(),
                self.inner.clock.offset(),
            )
        })?;
        if wrote {
            tracing::debug!(path = %state_dir.path().display(), "sandbox state saved");
        }
        Ok(())
    }

    /// Whether changes are saved to a state directory.
    pub fn is_persistent(&self) -> bool {
        self.inner.state_dir.is_some()
    }

    pub fn tenant(&self) -> &Tenant {
        &self.inner.tenant
    }

    /// `https://127.0.0.1:PORT/` (always ends with `/`).
    pub fn base_url(&self) -> &Url {
        &self.inner.base_url
    }

    /// Absolute URL of `path` (no leading `/`) on this sandbox.
    pub fn url(&self, path: &str) -> Url {
        self.inner
            .base_url
            .join(path.trim_start_matches('/'))
            .unwrap_or_else(|_| self.inner.base_url.clone())
    }

    pub fn lifetimes(&self) -> Lifetimes {
        self.inner.lifetimes
    }

    pub fn signing_key(&self) -> &SigningKey {
        &self.inner.signing_key
    }

    pub fn faults(&self) -> &FaultControl {
        &self.inner.faults
    }

    pub fn journal(&self) -> &Journal {
        &self.inner.journal
    }

    /// Sandbox time (wall clock plus whatever tests advanced).
    pub fn now(&self) -> DateTime<Utc> {
        self.inner.clock.now()
    }

    pub(crate) fn clock(&self) -> &Clock {
        &self.inner.clock
    }

    /// Locks the store of issued codes and tokens; never hold it across an `.await`.
    pub(crate) fn store(&self) -> MutexGuard<'_, Store> {
        let mut store = self
            .inner
            .store
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        // Revocations installed through the fault knobs apply to what was issued before them.
        for fault in self.inner.faults.take_refresh_token_faults() {
            store.apply_refresh_token_fault(&fault, &self.inner.tenant);
        }
        for revocation in self.inner.faults.take_consent_revocations() {
            store.revoke_consent(&revocation, &self.inner.tenant);
        }
        store
    }

    /// Events created through `POST /users/{user}/events`; never hold it across an `.await`.
    pub fn created_events(&self) -> MutexGuard<'_, crate::graph::events::EventStore> {
        self.inner
            .created_events
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Locks the online meetings Graph created; never hold it across an `.await`.
    pub fn online_meetings(&self) -> MutexGuard<'_, MeetingStore> {
        self.inner
            .online_meetings
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    /// Issuer of tokens for the tenant: `{base}{tenant id}/v2.0`.
    pub fn issuer(&self) -> String {
        format!("{}{}/v2.0", self.inner.base_url, self.inner.tenant.id)
    }

    /// Verifies a bearer token (signature, `exp`/`nbf` against sandbox time, `aud`) and returns its claims.
    ///
    /// `audience` is the resource URI (`https://graph.microsoft.com`, `https://outlook.office365.com`) or its
    /// app id; both spellings of the same resource are accepted in `aud`, as resources do.
    pub fn verify_access_token(
        &self,
        bearer: &str,
        audience: &str,
    ) -> Result<AccessClaims, TokenRejection> {
        let bearer = bearer.trim();
        if bearer.is_empty() {
            return Err(TokenRejection::Missing);
        }
        let mut validation = Validation::new(Algorithm::RS256);
        // Time and audience are checked below against the sandbox clock and resource aliases.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = false;
        validation.required_spec_claims.clear();
        validation.set_issuer(&[self.issuer()]);
        let claims = jsonwebtoken::decode::<AccessClaims>(
            bearer,
            self.inner.signing_key.decoding_key(),
            &validation,
        )
        .map_err(|_| TokenRejection::Invalid)?
        .claims;
        let now = self.now().timestamp();
        if claims.exp <= now || claims.nbf > now + 300 {
            return Err(TokenRejection::Expired);
        }
        if !same_resource(&claims.aud, audience) {
            return Err(TokenRejection::WrongAudience {
                expected: audience.to_owned(),
                actual: claims.aud,
            });
        }
        Ok(claims)
    }
}

/// Whether two resource identifiers name the same resource (URI or app id).
pub fn same_resource(a: &str, b: &str) -> bool {
    let canonical = |value: &str| -> String {
        let value = value.trim_end_matches('/').to_ascii_lowercase();
        match value.as_str() {
            demo::GRAPH_RESOURCE_APP_ID => demo::GRAPH_RESOURCE.to_owned(),
            demo::EXCHANGE_RESOURCE_APP_ID => demo::EXCHANGE_RESOURCE.to_owned(),
            _ => value,
        }
    };
    canonical(a) == canonical(b)
}
