//! Input of a service-account test, and the injected environment (endpoints, trust, clock, sleep, DNS).

use std::sync::Arc;
use std::time::Duration;

use url::Url;

use crate::auth::Credentials;
use crate::autodiscover::SrvResolver;
use crate::client::RetryPolicy;
use crate::clock::{Clock, Sleeper, SystemClock, TokioSleeper};
use crate::endpoints::Endpoints;
use crate::tls::Trust;

/// What the admin entered.
#[derive(Debug, Clone)]
pub struct TestConfig {
    /// Service account password or app client credentials.
    pub credentials: Credentials,
    /// The mailbox to test against.
    pub mailbox: String,
    /// The EWS URL; `None` runs Autodiscover.
    pub ews_url: Option<Url>,
    /// How to reach the network.
    pub environment: Environment,
}

impl TestConfig {
    /// A test with the production environment.
    pub fn new(credentials: Credentials, mailbox: impl Into<String>) -> Self {
        Self {
            credentials,
            mailbox: mailbox.into(),
            ews_url: None,
            environment: Environment::default(),
        }
    }
}

/// The injected environment.
#[derive(Clone)]
pub struct Environment {
    /// Host routing (tests map `https://contoso.com/` to the emulator).
    pub endpoints: Endpoints,
    /// Trust anchors.
    pub trust: Trust,
    /// Timeout of one request.
    pub request_timeout: Duration,
    /// Timeout of one Autodiscover candidate, redirects included.
    pub candidate_timeout: Duration,
    /// Throttling policy.
    pub retry: RetryPolicy,
    /// Today (Exchange Online EWS retirement dates) and the calendar window.
    pub clock: Arc<dyn Clock>,
    /// Back-off waits.
    pub sleeper: Arc<dyn Sleeper>,
    /// SRV lookups.
    pub srv: Arc<dyn SrvResolver>,
}

impl Default for Environment {
    fn default() -> Self {
        Self {
            endpoints: Endpoints::direct(),
            trust: Trust::default(),
            request_timeout: Duration::from_secs(30),
            candidate_timeout: Duration::from_secs(10),
            retry: RetryPolicy::default(),
            clock: Arc::new(SystemClock),
            sleeper: Arc::new(TokioSleeper),
            srv: Arc::new(crate::srv::SystemSrvResolver::new()),
        }
    }
}

impl std::fmt::Debug for Environment {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Environment")
            .field("endpoints", &self.endpoints)
            .field("trust", &self.trust)
            .field("request_timeout", &self.request_timeout)
            .field("candidate_timeout", &self.candidate_timeout)
            .finish_non_exhaustive()
    }
}
