//! An account's access tokens for Graph: cached, refreshed shortly before expiry, rotated into the keychain.

use std::collections::HashMap;
use std::sync::Arc;

use calconnect_graph::{TokenError, TokenProvider};
use calconnect_identity::{Clock, ErrorKind as IdentityKind, IdentityClient, TokenSet};
use calconnect_vault::SecretStore;
use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use secrecy::{ExposeSecret, SecretString};

use crate::accounts::{vault_key, AccountStatus, AccountStore};
use crate::error::{Error, Result};

/// Refresh this long before the access token expires, so a request never leaves with a token about to lapse.
pub const REFRESH_MARGIN: chrono::Duration = chrono::Duration::minutes(5);

/// A forced refresh (after a 401) is skipped if another caller refreshed this recently.
const FORCED_REFRESH_DEBOUNCE: chrono::Duration = chrono::Duration::seconds(30);

/// Supplies the identity client for refreshes, built on first use (refreshing needs the discovery document).
pub(crate) type IdentityFactory =
    Arc<dyn Fn() -> BoxFuture<'static, Result<IdentityClient>> + Send + Sync>;

/// Serialises "load tokens → refresh if needed → save" per account across every token source of one
/// [`crate::Calconnect`]. Each command builds its own source, so the source's own lock is not enough: two
/// concurrent commands near expiry would both redeem the same refresh token (the second one already rotated
/// away) and both write the keychain, whose chunked entries can interleave.
#[derive(Default)]
pub(crate) struct RefreshLocks {
    locks: std::sync::Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl RefreshLocks {
    /// The lock of `account_id`, created on first use.
    pub(crate) fn for_account(&self, account_id: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self
            .locks
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        locks.entry(account_id.to_owned()).or_default().clone()
    }
}

/// Where refreshed tokens go.
pub(crate) struct Persistence {
    pub(crate) account_id: String,
    pub(crate) store: Arc<dyn SecretStore>,
    pub(crate) accounts: Arc<AccountStore>,
    /// The account's entry in [`RefreshLocks`].
    pub(crate) lock: Arc<tokio::sync::Mutex<()>>,
}

pub(crate) struct AccountTokenSource {
    identity: IdentityFactory,
    persistence: Option<Persistence>,
    clock: Arc<dyn Clock>,
    state: tokio::sync::Mutex<CachedTokens>,
}

#[derive(Default)]
struct CachedTokens {
    tokens: Option<TokenSet>,
    refreshed_at: Option<DateTime<Utc>>,
}

impl AccountTokenSource {
    /// A source for an account whose tokens live in the keychain.
    pub(crate) fn stored(
        identity: IdentityFactory,
        persistence: Persistence,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            identity,
            persistence: Some(persistence),
            clock,
            state: tokio::sync::Mutex::new(CachedTokens::default()),
        }
    }

    /// A source for tokens that have just arrived and are not stored yet (the sign-in's first Graph calls).
    pub(crate) fn fresh(
        identity: IdentityFactory,
        tokens: TokenSet,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let state = CachedTokens {
            tokens: Some(tokens),
            refreshed_at: None,
        };
        Self {
            identity,
            persistence: None,
            clock,
            state: tokio::sync::Mutex::new(state),
        }
    }

    /// The tokens as they are now, including any refresh made while the source was in use (the refresh
    /// token rotates, so this, not the set the source started with, is what must be stored).
    pub(crate) fn into_tokens(self) -> Option<TokenSet> {
        self.state.into_inner().tokens
    }

    pub(crate) async fn current(&self, force_refresh: bool) -> Result<SecretString> {
        // Holding the lock across the refresh makes this source's concurrent callers share one refresh.
        let mut state = self.state.lock().await;
        let now = self.clock.now();
        let recently_refreshed = state
            .refreshed_at
            .is_some_and(|at| now - at < FORCED_REFRESH_DEBOUNCE);
        let force_refresh = force_refresh && !recently_refreshed;
        if let Some(tokens) = &state.tokens {
            if !force_refresh && !tokens.expires_within(now, REFRESH_MARGIN) {
                return Ok(tokens.access_token.clone());
            }
        }
        let Some(persistence) = &self.persistence else {
            let tokens = state.tokens.as_ref().ok_or_else(|| Error::Task {
                reason: "token source has neither tokens nor storage".into(),
            })?;
            let refreshed = self.refresh(tokens).await?;
            return Ok(self.keep(&mut state, refreshed, now));
        };
        // Across commands: the keychain entry is read, refreshed and written by one caller at a time, and
        // read again under the lock so a caller that waited uses what the previous one stored.
        let _account = persistence.lock.lock().await;
        let stored = self.load(persistence).await?;
        let rejected = state.tokens.take();
        let refreshed_elsewhere = rejected.as_ref().is_some_and(|rejected| {
            rejected.access_token.expose_secret() != stored.access_token.expose_secret()
        });
        let stale = stored.expires_within(now, REFRESH_MARGIN);
        if !stale && (!force_refresh || refreshed_elsewhere) {
            let access_token = stored.access_token.clone();
            state.tokens = Some(stored);
            return Ok(access_token);
        }
        let refreshed = match self.refresh(&stored).await {
            Ok(refreshed) => refreshed,
            Err(error) => {
                state.tokens = Some(stored);
                return Err(error);
            }
        };
        self.persist(persistence, &refreshed, now).await?;
        Ok(self.keep(&mut state, refreshed, now))
    }

    fn keep(
        &self,
        state: &mut CachedTokens,
        refreshed: TokenSet,
        now: DateTime<Utc>,
    ) -> SecretString {
        let access_token = refreshed.access_token.clone();
        state.tokens = Some(refreshed);
        state.refreshed_at = Some(now);
        access_token
    }

    /// Redeems the refresh token (RFC 6749 §6). A rejected one marks the account as needing sign-in.
    async fn refresh(&self, tokens: &TokenSet) -> Result<TokenSet> {
        let identity = (self.identity)().await.map_err(|error| match error {
            // Discovery at refresh time fails for runtime reasons (network, outage), not configuration.
            Error::Identity(source) => Error::Refresh(source),
            other => other,
        })?;
        match identity.refresh(tokens).await {
            Ok(refreshed) => {
                tracing::debug!(account = self.account_id(), "access token refreshed");
                Ok(refreshed)
            }
            // A grant without consent (AADSTS65001: withdrawn, or never given for these scopes) is as
            // unusable as an expired one; the sign-in that follows shows Microsoft's consent page.
            Err(error)
                if error.kind() == IdentityKind::SignInExpired || error.needs_consent_prompt() =>
            {
                tracing::warn!(account = self.account_id(), code = ?error.aad().and_then(|aad| aad.code()), "refresh token rejected; account needs sign-in again");
                if let Some(persistence) = &self.persistence {
                    persistence
                        .accounts
                        .update(&persistence.account_id, |account| {
                            account.status = AccountStatus::NeedsSignInAgain
                        })
                        .await?;
                }
                Err(Error::NeedsSignInAgain {
                    id: self.account_id().to_owned(),
                    source: Some(error),
                })
            }
            Err(error) => {
                tracing::warn!(account = self.account_id(), %error, "access token refresh failed");
                Err(Error::Refresh(error))
            }
        }
    }

    fn account_id(&self) -> &str {
        self.persistence
            .as_ref()
            .map_or("(signing in)", |persistence| {
                persistence.account_id.as_str()
            })
    }

    async fn load(&self, persistence: &Persistence) -> Result<TokenSet> {
        let store = persistence.store.clone();
        let key = vault_key(&persistence.account_id);
        let secret = tokio::task::spawn_blocking(move || store.load(&key))
            .await
            .map_err(Error::task)?
            .map_err(|source| Error::Vault {
                operation: "load",
                source,
            })?;
        match secret {
            Some(secret) => Ok(TokenSet::from_vault_secret(&secret)?),
            None => Err(Error::NeedsSignInAgain {
                id: persistence.account_id.clone(),
                source: None,
            }),
        }
    }

    async fn persist(
        &self,
        persistence: &Persistence,
        tokens: &TokenSet,
        used_at: DateTime<Utc>,
    ) -> Result<()> {
        save_tokens(&persistence.store, &persistence.account_id, tokens).await?;
        persistence
            .accounts
            .update(&persistence.account_id, move |account| {
                account.refresh_token_last_used = used_at
            })
            .await
    }
}

/// Writes an account's token set to the keychain, off the async runtime.
pub(crate) async fn save_tokens(
    store: &Arc<dyn SecretStore>,
    account_id: &str,
    tokens: &TokenSet,
) -> Result<()> {
    let store = store.clone();
    let key = vault_key(account_id);
    let secret = tokens.to_vault_secret();
    tokio::task::spawn_blocking(move || store.save(&key, &secret))
        .await
        .map_err(Error::task)?
        .map_err(|source| Error::Vault {
            operation: "save",
            source,
        })
}

impl TokenProvider for AccountTokenSource {
    fn access_token(
        &self,
        force_refresh: bool,
    ) -> BoxFuture<'_, std::result::Result<SecretString, TokenError>> {
        Box::pin(async move {
            self.current(force_refresh)
                .await
                .map_err(|error| TokenError(Box::new(error)))
        })
    }
}
