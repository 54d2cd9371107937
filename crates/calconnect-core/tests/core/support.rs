//! The test bench: a sandbox on loopback TLS, a core over it, a scripted person as the browser, and one
//! manual clock shared by the core and the sandbox so polling and expiry take no real time.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use calconnect_core::{Calconnect, Config, Options};
use calconnect_identity::time::ManualTime;
use calconnect_identity::{BrowserOpener, Clock, Sleeper};
use calconnect_sandbox::person::{Consent, Person};
use calconnect_sandbox::{demo, Sandbox, SandboxHandle};
use calconnect_vault::{MemoryStore, SecretStore};
use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use url::Url;

/// Time for the core, moved by its own sleeps; every move is mirrored into the sandbox's clock.
#[derive(Clone)]
pub struct SharedTime {
    pub manual: ManualTime,
    sandbox: Arc<SandboxHandle>,
    /// Sleep numbers (1-based) whose time is NOT mirrored to the sandbox: the core then polls "too early".
    unmirrored: Arc<Mutex<Vec<usize>>>,
    count: Arc<Mutex<usize>>,
}

impl SharedTime {
    pub fn advance(&self, by: Duration) {
        self.manual.advance(by);
        self.sandbox.advance_time(by);
    }

    pub fn sleeps(&self) -> Vec<Duration> {
        self.manual.sleeps()
    }

    pub fn skip_mirroring_sleep(&self, number: usize) {
        self.unmirrored.lock().unwrap().push(number);
    }
}

impl Clock for SharedTime {
    fn now(&self) -> DateTime<Utc> {
        self.manual.now()
    }
}

impl Sleeper for SharedTime {
    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()> {
        let number = {
            let mut count = self.count.lock().unwrap();
            *count += 1;
            *count
        };
        if !self.unmirrored.lock().unwrap().contains(&number) {
            self.sandbox.advance_time(duration);
        }
        let manual_sleep = self.manual.sleep(duration);
        Box::pin(async move {
            manual_sleep.await;
            // Real time for the person's task to make progress between polls.
            tokio::time::sleep(Duration::from_millis(5)).await;
        })
    }
}

/// What the scripted person does with the authorize URL the core opens.
#[derive(Clone, Debug)]
pub enum Behaviour {
    SignIn {
        email: String,
        consent: Consent,
    },
    /// Signs in, then (as another local program would) first delivers a forged redirect (another `state`
    /// and `code`), then the real one.
    ForgeStateFirst {
        email: String,
    },
    /// Never comes back (a closed browser tab).
    Vanish,
    /// Signs in approving consent, but the consent is withdrawn (the sandbox's `revoke_consent`) before
    /// the redirect reaches the app, so the code's redemption finds none: AADSTS65001.
    SignInThenConsentWithdrawn {
        email: String,
        client_id: String,
    },
}

/// The "system browser": hands the URL to the person, then follows the redirect to the loopback listener.
pub struct PersonBrowser {
    person: Person,
    sandbox: Arc<SandboxHandle>,
    behaviour: Mutex<Behaviour>,
    pub failures: Arc<Mutex<Vec<String>>>,
    /// Every redirect the person's browser followed (with `code=` when the sign-in succeeded).
    pub redirects: Arc<Mutex<Vec<Url>>>,
    /// The HTTP status the listener gave each forged redirect.
    pub forged_answers: Arc<Mutex<Vec<u16>>>,
}

impl PersonBrowser {
    pub fn set(&self, behaviour: Behaviour) {
        *self.behaviour.lock().unwrap() = behaviour;
    }
}

impl BrowserOpener for PersonBrowser {
    fn open(&self, url: &Url) -> std::io::Result<()> {
        let person = self.person.clone();
        let sandbox = self.sandbox.clone();
        let behaviour = self.behaviour.lock().unwrap().clone();
        let failures = self.failures.clone();
        let redirects = self.redirects.clone();
        let forged_answers = self.forged_answers.clone();
        let url = url.clone();
        tokio::spawn(async move {
            let outcome = async {
                let (email, consent, forge, withdraw) = match behaviour {
                    Behaviour::SignIn { email, consent } => (email, consent, false, None),
                    Behaviour::ForgeStateFirst { email } => (email, Consent::Approve, true, None),
                    Behaviour::SignInThenConsentWithdrawn { email, client_id } => {
                        (email, Consent::Approve, false, Some(client_id))
                    }
                    Behaviour::Vanish => return Ok(()),
                };
                let location = person.sign_in(&url, &email, consent).await?;
                if let Some(client_id) = withdraw {
                    sandbox
                        .faults()
                        .revoke_consent(Some(&email), Some(&client_id));
                }
                if forge {
                    let mut forged = location.clone();
                    forged
                        .query_pairs_mut()
                        .clear()
                        .extend_pairs([("code", "forged-code"), ("state", "forged")]);
                    let answer = person.follow(&forged).await?;
                    forged_answers
                        .lock()
                        .unwrap()
                        .push(answer.status().as_u16());
                }
                redirects.lock().unwrap().push(location.clone());
                person.follow(&location).await.map(|_| ())
            }
            .await;
            if let Err(error) = outcome {
                failures.lock().unwrap().push(error.to_string());
            }
        });
        Ok(())
    }
}

pub struct Bench {
    pub sandbox: Arc<SandboxHandle>,
    pub core: Calconnect,
    pub store: Arc<dyn SecretStore>,
    pub browser: Arc<PersonBrowser>,
    pub person: Person,
    pub time: SharedTime,
    pub directory: tempfile::TempDir,
}

pub struct BenchOptions {
    pub store: Option<Arc<dyn SecretStore>>,
    pub tenant: String,
    pub browser_timeout: Duration,
    /// The sandbox's access token `expires_in` (its default when `None`).
    pub access_token_lifetime: Option<Duration>,
    /// The sandbox's directory (the demo tenant when `None`).
    pub sandbox_tenant: Option<calconnect_sandbox::Tenant>,
}

impl Default for BenchOptions {
    fn default() -> Self {
        Self {
            store: None,
            tenant: demo::DOMAIN.to_owned(),
            browser_timeout: Duration::from_secs(20),
            access_token_lifetime: None,
            sandbox_tenant: None,
        }
    }
}

impl Bench {
    pub async fn start() -> Self {
        Self::start_with(BenchOptions::default()).await
    }

    pub async fn start_with(options: BenchOptions) -> Self {
        let mut builder = Sandbox::builder();
        if let Some(lifetime) = options.access_token_lifetime {
            builder = builder.access_token_lifetime(lifetime);
        }
        if let Some(tenant) = options.sandbox_tenant {
            builder = builder.tenant(tenant);
        }
        let sandbox = Arc::new(builder.start().await.expect("sandbox starts"));
        let person = Person::new(&sandbox).expect("person's browser");
        let time = SharedTime {
            manual: ManualTime::starting_at(Utc::now()),
            sandbox: sandbox.clone(),
            unmirrored: Arc::default(),
            count: Arc::default(),
        };
        let browser = Arc::new(PersonBrowser {
            person: person.clone(),
            sandbox: sandbox.clone(),
            behaviour: Mutex::new(Behaviour::SignIn {
                email: demo::ADELE.to_owned(),
                consent: Consent::Approve,
            }),
            failures: Arc::default(),
            redirects: Arc::default(),
            forged_answers: Arc::default(),
        });
        let store: Arc<dyn SecretStore> = options
            .store
            .unwrap_or_else(|| Arc::new(MemoryStore::new()));
        let directory = tempfile::tempdir().expect("temp dir");
        let config = Config {
            authority: Some(sandbox.base_url()),
            graph: Some(sandbox.base_url()),
            tenant: options.tenant,
            full_client_id: Some(demo::FULL_APP_CLIENT_ID.to_owned()),
            freebusy_client_id: Some(demo::FREEBUSY_APP_CLIENT_ID.to_owned()),
            teams_client_id: Some(demo::TEAMS_APP_CLIENT_ID.to_owned()),
            ..Config::default()
        };
        let http = calconnect_identity::http_client(&sandbox.ca_pem().map_or_else(
            calconnect_identity::Trust::default,
            calconnect_identity::Trust::only,
        ))
        .expect("http client");
        let mut core_options = Options::new(
            config,
            directory.path().join("accounts.json"),
            store.clone(),
            http,
        );
        core_options.clock = Arc::new(time.clone());
        core_options.sleeper = Arc::new(time.clone());
        core_options.browser = browser.clone();
        core_options.browser_timeout = options.browser_timeout;
        let core = Calconnect::new(core_options).expect("core");
        Self {
            sandbox,
            core,
            store,
            browser,
            person,
            time,
            directory,
        }
    }

    /// Token endpoint requests that redeemed a refresh token (the journal notes the grant type).
    pub fn refreshes(&self) -> usize {
        self.sandbox
            .journal()
            .iter()
            .filter(|entry| {
                entry.route == "token"
                    && entry
                        .note
                        .as_deref()
                        .is_some_and(|note| note.contains("refresh_token"))
            })
            .count()
    }

    pub fn routes(&self, route: &str) -> usize {
        self.sandbox
            .journal()
            .iter()
            .filter(|entry| entry.route == route)
            .count()
    }

    /// The query parameters of every authorize request, in order (as the journal keeps them).
    pub fn authorize_requests(&self) -> Vec<std::collections::HashMap<String, String>> {
        self.sandbox
            .journal()
            .iter()
            .filter(|entry| entry.route == "authorize")
            .map(|entry| {
                url::form_urlencoded::parse(entry.query.as_deref().unwrap_or("").as_bytes())
                    .into_owned()
                    .collect()
            })
            .collect()
    }

    pub fn journal_text(&self) -> String {
        self.sandbox
            .journal()
            .iter()
            .map(|entry| {
                format!(
                    "{} {} {} {} {:?}",
                    entry.method, entry.path, entry.status, entry.route, entry.note
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Browser sign-in as `email`, accepting consent.
    pub async fn connect_browser(
        &self,
        app: calconnect_identity::AppKind,
        email: &str,
    ) -> calconnect_core::Result<calconnect_core::Connected> {
        self.browser.set(Behaviour::SignIn {
            email: email.to_owned(),
            consent: Consent::Approve,
        });
        self.core.start_browser_sign_in(app).await?.finish().await
    }

    /// Device-code sign-in as `email`, the person entering the code as soon as it is shown.
    pub async fn connect_device_code(
        &self,
        app: calconnect_identity::AppKind,
        email: &str,
        consent: Consent,
    ) -> calconnect_core::Result<calconnect_core::Connected> {
        let pending = self.core.start_device_code(app).await?;
        let person = self.person.clone();
        let user_code = pending.prompt().user_code.clone();
        let email = email.to_owned();
        let person_task =
            tokio::spawn(
                async move { person.enter_device_code(&user_code, &email, consent).await },
            );
        let result = pending.finish(|_| {}).await;
        // The person's own outcome only matters when the sign-in failed; the test asserts on `result`.
        if let Err(error) = person_task.await.expect("person task") {
            eprintln!("person stopped on the device pages: {error}");
        }
        result
    }
}
