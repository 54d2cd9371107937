//! What commands share: the core for the chosen cloud (with the sandbox it may run), and the sign-in in flight.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use calconnect_core::{Calconnect, Options};
use calconnect_identity::CancellationToken;
use calconnect_sandbox::{Sandbox, SandboxHandle};
use calconnect_vault::{KeychainStore, SecretStore};
use url::Url;

use crate::config::{AppConfig, Cloud, SandboxSource};
use crate::error::{Error, Result};
use crate::settings::Settings;

/// Keychain service names: sandbox tokens never mix with real ones (the CLI uses the same names).
pub(crate) const KEYCHAIN_SERVICE: &str = "calconnect";
const SANDBOX_KEYCHAIN_SERVICE: &str = "calconnect-sandbox";

/// Where the sandbox of this session answers, for the Exchange step (its EWS plays the organisation's).
#[derive(Clone)]
pub struct SandboxEndpoint {
    pub base_url: Url,
    /// The sandbox's CA; `None` for an external sandbox served over plain HTTP on loopback.
    pub ca_pem: Option<String>,
}

/// The core built for one set of settings; replaced when Settings are saved.
struct Session {
    core: Calconnect,
    sandbox_endpoint: Option<SandboxEndpoint>,
    // Kept only to keep the in-process sandbox serving; dropping it stops the server.
    _sandbox: Option<SandboxHandle>,
}

/// The sign-in in flight: at most one, so starting another (or Cancel) cancels it.
struct PendingSignIn {
    id: u64,
    cancel: CancellationToken,
}

/// Tauri state shared by every command.
pub struct AppState {
    config: AppConfig,
    // Built in the background at start-up (`warm_up_core`) or on first use, whichever comes first, so the
    // window appears before the keychain and the sandbox are ready.
    session: tokio::sync::Mutex<Option<Session>>,
    pending: Mutex<Option<PendingSignIn>>,
    next_sign_in: AtomicU64,
}

impl AppState {
    pub fn new(config: AppConfig) -> Self {
        AppState {
            config,
            session: tokio::sync::Mutex::new(None),
            pending: Mutex::new(None),
            next_sign_in: AtomicU64::new(1),
        }
    }

    /// A state around an existing core (tests inject one with an in-memory keychain).
    pub fn with_core(config: AppConfig, core: Calconnect) -> Self {
        let state = AppState::new(config);
        *state.session.try_lock().expect("new state is unlocked") = Some(Session {
            core,
            sandbox_endpoint: None,
            _sandbox: None,
        });
        state
    }

    pub fn config(&self) -> &AppConfig {
        &self.config
    }

    /// The saved settings (defaults when none were saved).
    pub fn saved_settings(&self) -> Result<Settings> {
        Settings::load(&self.config.paths.settings)
    }

    /// The cloud this run talks to: the command line's choice, else the saved one.
    pub fn active_cloud(&self) -> Result<Cloud> {
        match self.config.cloud_override {
            Some(cloud) => Ok(cloud),
            None => Ok(self.saved_settings()?.cloud),
        }
    }

    /// The core for the active settings, built on first use unless the start-up warm-up built it already.
    pub async fn core(&self) -> Result<Calconnect> {
        Ok(self.session().await?.0)
    }

    /// The sandbox the current session talks to, if its cloud is the sandbox.
    pub async fn sandbox_endpoint(&self) -> Result<Option<SandboxEndpoint>> {
        Ok(self.session().await?.1)
    }

    /// The session's core and sandbox, building the session under the same lock if there is none yet.
    async fn session(&self) -> Result<(Calconnect, Option<SandboxEndpoint>)> {
        let mut session = self.session.lock().await;
        if session.is_none() {
            *session = Some(self.build_session(self.active_cloud()?).await?);
        }
        let current = session.as_ref().expect("built above");
        Ok((current.core.clone(), current.sandbox_endpoint.clone()))
    }

    /// Saves `settings` and, unless the command line fixed the cloud, rebuilds the core for them.
    pub async fn apply_settings(&self, settings: Settings) -> Result<()> {
        let path = self.config.paths.settings.clone();
        let form = settings.normalised();
        // The form holds every setting: it replaces them, under the lock (it may wait for the CLI).
        let settings = tokio::task::spawn_blocking(move || {
            Settings::update(&path, move |saved| *saved = form)
        })
        .await
        .map_err(|error| {
            Error::Core(calconnect_core::Error::Task {
                reason: error.to_string(),
            })
        })??;
        if self.config.cloud_override.is_none() {
            self.cancel_sign_in();
            let mut session = self.session.lock().await;
            // Drop the old session (and its sandbox) before a new one may bind.
            *session = None;
            *session = Some(self.build_session(settings.cloud).await?);
        }
        Ok(())
    }

    async fn build_session(&self, cloud: Cloud) -> Result<Session> {
        // Each part's time goes into the "core ready" line: start-up is measured, not guessed.
        let started = std::time::Instant::now();
        let paths = &self.config.paths;
        let (settings, sandbox, base, ca_pem) = if cloud == Cloud::Sandbox {
            let (handle, base, ca_pem) = self.sandbox().await?;
            (Settings::sandbox(), handle, Some(base), ca_pem)
        } else {
            (Settings::load(&paths.settings)?, None, None, None)
        };
        let sandbox_ms = started.elapsed().as_millis();
        let (accounts, service) = if cloud == Cloud::Sandbox {
            (paths.sandbox_accounts.clone(), SANDBOX_KEYCHAIN_SERVICE)
        } else {
            (paths.accounts.clone(), KEYCHAIN_SERVICE)
        };
        // Connecting to the Secret Service is blocking D-Bus work.
        let store: Arc<dyn SecretStore> = Arc::new(
            tokio::task::spawn_blocking(move || KeychainStore::new(service))
                .await
                .map_err(|error| calconnect_core::Error::Task {
                    reason: error.to_string(),
                })?
                .map_err(|source| calconnect_core::Error::Vault {
                    operation: "open",
                    source,
                })?,
        );
        let keychain_ms = started.elapsed().as_millis() - sandbox_ms;
        // The bundled roots and the OS trust store, plus the sandbox's CA when it has one.
        let mut trust = calconnect_identity::Trust::default();
        if let Some(pem) = &ca_pem {
            trust = trust
                .with_pem(String::from_utf8_lossy(pem).into_owned())
                .map_err(|error| calconnect_core::Error::Identity(error.into()))?;
        }
        let http =
            calconnect_identity::http_client(&trust).map_err(calconnect_core::Error::Identity)?;
        let http_ms = started.elapsed().as_millis() - sandbox_ms - keychain_ms;
        // Every sandbox session has an endpoint, with or without a CA, so the Exchange step never
        // mistakes the sandbox for a real organisation.
        let sandbox_endpoint = base.as_ref().map(|base_url| SandboxEndpoint {
            base_url: base_url.clone(),
            ca_pem: ca_pem
                .as_ref()
                .map(|pem| String::from_utf8_lossy(pem).into_owned()),
        });
        let core = Calconnect::new(Options::new(
            settings.core_config(base.as_ref()),
            accounts,
            store,
            http,
        ))?;
        tracing::info!(
            cloud = cloud.label(),
            total_ms = started.elapsed().as_millis(),
            sandbox_ms,
            keychain_ms,
            http_ms,
            "core ready"
        );
        Ok(Session {
            core,
            sandbox_endpoint,
            _sandbox: sandbox,
        })
    }

    /// Starts the built-in sandbox (TLS on, its CA trusted, its state kept on disk) or describes the external one.
    async fn sandbox(&self) -> Result<(Option<SandboxHandle>, Url, Option<Vec<u8>>)> {
        match &self.config.sandbox {
            SandboxSource::External { base_url, ca_pem } => {
                Ok((None, base_url.clone(), ca_pem.clone()))
            }
            SandboxSource::InProcess => {
                // The state directory keeps keys, grants and the port, so accounts survive a restart.
                let handle = Sandbox::builder()
                    .tls(true)
                    .state_dir(self.config.paths.sandbox_state.clone())
                    .start()
                    .await
                    .map_err(Error::Sandbox)?;
                let base = handle.base_url();
                let ca_pem = handle.ca_pem().map(|pem| pem.as_bytes().to_vec());
                tracing::info!(%base, "built-in sandbox started");
                Ok((Some(handle), base, ca_pem))
            }
        }
    }

    /// Records a new sign-in, cancelling the one before it; returns its id for [`Self::finish_sign_in`].
    pub fn begin_sign_in(&self, cancel: CancellationToken) -> u64 {
        let id = self.next_sign_in.fetch_add(1, Ordering::Relaxed);
        let previous = self
            .pending
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .replace(PendingSignIn { id, cancel });
        if let Some(previous) = previous {
            previous.cancel.cancel();
        }
        id
    }

    /// Forgets sign-in `id` if it is still the pending one.
    pub fn finish_sign_in(&self, id: u64) {
        let mut pending = self
            .pending
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        if pending.as_ref().is_some_and(|current| current.id == id) {
            *pending = None;
        }
    }

    /// Cancels the sign-in in flight; `false` when there was none.
    pub fn cancel_sign_in(&self) -> bool {
        let pending = self
            .pending
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .take();
        match pending {
            Some(pending) => {
                pending.cancel.cancel();
                true
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::DataPaths;

    fn state() -> AppState {
        AppState::new(AppConfig {
            cloud_override: None,
            sandbox: SandboxSource::InProcess,
            paths: DataPaths::new(Some("/nonexistent".into())).unwrap(),
        })
    }

    #[test]
    fn a_new_sign_in_cancels_the_one_in_flight() {
        let state = state();
        let first = CancellationToken::new();
        let second = CancellationToken::new();
        state.begin_sign_in(first.clone());
        let id = state.begin_sign_in(second.clone());
        assert!(first.is_cancelled());
        assert!(!second.is_cancelled());
        state.finish_sign_in(id);
        assert!(
            !state.cancel_sign_in(),
            "a finished sign-in is no longer pending"
        );
    }

    #[test]
    fn cancel_cancels_the_pending_token_once() {
        let state = state();
        let token = CancellationToken::new();
        state.begin_sign_in(token.clone());
        assert!(state.cancel_sign_in());
        assert!(token.is_cancelled());
        assert!(!state.cancel_sign_in());
    }

    #[test]
    fn finishing_an_older_sign_in_keeps_the_newer_one_pending() {
        let state = state();
        let old = state.begin_sign_in(CancellationToken::new());
        let newer = CancellationToken::new();
        state.begin_sign_in(newer.clone());
        state.finish_sign_in(old);
        assert!(state.cancel_sign_in());
        assert!(newer.is_cancelled());
    }
}
