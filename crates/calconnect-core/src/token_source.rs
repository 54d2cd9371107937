//! An account's access tokens for Graph: cached, refreshed shortly before expiry, rotated into the keychain.

use std::sync::Arc;

use calconnect_graph::{TokenError, TokenProvider};
use calconnect_identity::{Clock, ErrorKind as IdentityKind, IdentityClient, TokenSet};
use calconnect_vault::SecretStore;
use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use secrecy::SecretString;

use crate::accounts::{vault_key, AccountStatus, AccountStore};
use crate::error::{Error, Result};

/// Refresh this long before the access token expires, so a request never leaves with a token about to lapse.
pub const REFRESH_MARGIN: chrono::Duration = chrono::Duration::minutes(5);

/// A forced refresh (after a 401) is skipped if another caller refreshed this recently.
const FORCED_REFRESH_DEBOUNCE: chrono::Duration = chrono::Duration::seconds(30);

/// Supplies the identity client for refreshes, built on first use (refreshing needs the discovery document).
pub(crate) type IdentityFactory =
    Arc<dyn Fn() -> BoxFuture<'static, Result<IdentityClient>> + Send + Sync>;

/// Where refreshed tokens go.
pub(crate) struct Persistence {
    pub(crate) account_id: String,
    pub(crate) store: Arc<dyn SecretStore>,
    pub(crate) accounts: Arc<AccountStore>,
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

    pub(crate) async fn current(&self, force_refresh: bool) -> Result<SecretString> {
        // Holding the lock across the refresh makes concurrent callers share one refresh.
        let mut state = self.state.lock().await;
        if state.tokens.is_none() {
            state.tokens = Some(self.load().await?);
        }
        let now = self.clock.now();
        let tokens = state.tokens.as_ref().expect("loaded above");
        let recently_refreshed = state
            .refreshed_at
            .is_some_and(|at| now - at < FORCED_REFRESH_DEBOUNCE);
        let needs_refresh =
            tokens.expires_within(now, REFRESH_MARGIN) || (force_refresh && !recently_refreshed);
        if !needs_refresh {
            return Ok(tokens.access_token.clone());
        }
        let identity = (self.identity)().await?;
        match identity.refresh(tokens).await {
            Ok(refreshed) => {
                tracing::debug!(account = self.account_id(), "access token refreshed");
                self.persist(&refreshed, now).await?;
                let access_token = refreshed.access_token.clone();
                state.tokens = Some(refreshed);
                state.refreshed_at = Some(now);
                Ok(access_token)
            }
            Err(error) if error.kind() == IdentityKind::SignInExpired => {
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
            Err(error) => Err(Error::Identity(error)),
        }
    }

    fn account_id(&self) -> &str {
        self.persistence
            .as_ref()
            .map_or("(signing in)", |persistence| {
                persistence.account_id.as_str()
            })
    }

    async fn load(&self) -> Result<TokenSet> {
        let Some(persistence) = &self.persistence else {
            return Err(Error::Task {
                reason: "token source has neither tokens nor storage".into(),
            });
        };
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

    async fn persist(&self, tokens: &TokenSet, used_at: DateTime<Utc>) -> Result<()> {
        let Some(persistence) = &self.persistence else {
            return Ok(());
        };
        save_tokens(&persistence.store, &persistence.account_id, tokens).await?;
        persistence
            .accounts
            .update(&persistence.account_id, |account| {
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
