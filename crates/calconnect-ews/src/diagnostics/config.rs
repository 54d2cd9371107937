//! Input of a service-account test, and the injected environment (endpoints, trust, clock, sleep, DNS).

use std::sync::Arc;
use std::time::Duration;

use url::Url;

use crate::auth::Credentials;
use crate::autodiscover::{NoSrvResolver, SrvResolver};
use crate::client::RetryPolicy;
use crate::clock::{Clock, Sleeper, SystemClock, TokioSleeper};
use crate::endpoints::Endpoints;
use crate::error::{Error, Result};
use crate::tls::Trust;

/// Mailboxes probed at once by default: the service account's EWS concurrency budget
/// (`EWSMaxConcurrency`) is 10 by default on premises ("EWS throttling in Exchange"), and the run keeps two
/// connections' headroom for the vendor's own traffic.
pub const DEFAULT_CONCURRENCY: usize = 8;

/// What the admin entered.
#[derive(Debug, Clone)]
pub struct TestConfig {
    /// Service account password or app client credentials.
    pub credentials: Credentials,
    /// The mailboxes to test against, in order (at least one; the first drives Autodiscover).
    pub mailboxes: Vec<String>,
    /// The EWS URL; `None` runs Autodiscover.
    pub ews_url: Option<Url>,
    /// At most this many mailboxes in flight.
    pub concurrency: usize,
    /// How to reach the network.
    pub environment: Environment,
}

impl TestConfig {
    /// A test of one mailbox with the production environment.
    pub fn new(credentials: Credentials, mailbox: impl Into<String>) -> Self {
        Self::with_mailboxes(credentials, vec![mailbox.into()])
    }

    /// A test of several mailboxes with the production environment.
    pub fn with_mailboxes(credentials: Credentials, mailboxes: Vec<String>) -> Self {
        Self {
            credentials,
            mailboxes,
            ews_url: None,
            concurrency: DEFAULT_CONCURRENCY,
            environment: Environment::default(),
        }
    }

    /// The first mailbox (Autodiscover, and app-only authentication, use it).
    pub fn first_mailbox(&self) -> &str {
        self.mailboxes.first().map_or("", String::as_str)
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

impl Environment {
    /// An emulator (the sandbox at `base`) plays the organisation of `mailbox`: its domain and
    /// `autodiscover.` host are routed to `base`, so Autodiscover runs for real; nothing else is reachable,
    /// no DNS is queried, and the emulator's CA (when it serves https) is the only trust anchor.
    pub fn sandbox(base: &Url, ca_pem: Option<&str>, mailbox: &str) -> Result<Self> {
        let domain = mailbox
            .rsplit_once('@')
            .map(|(_, domain)| domain.trim())
            .filter(|domain| !domain.is_empty())
            .ok_or_else(|| Error::InvalidMailbox {
                mailbox: mailbox.to_owned(),
            })?;
        let mut endpoints = Endpoints::offline();
        for host in [domain.to_owned(), format!("autodiscover.{domain}")] {
            endpoints = endpoints.route(&format!("https://{host}/"), base.as_str())?;
        }
        let mut environment = Self {
            endpoints,
            srv: Arc::new(NoSrvResolver),
            ..Self::default()
        };
        if let Some(ca_pem) = ca_pem {
            environment.trust = Trust::only(ca_pem);
        }
        Ok(environment)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sandbox_environment_routes_the_mailbox_domain_and_its_autodiscover_host_only() {
        let base = Url::parse("https://127.0.0.1:4431/").unwrap();
        let environment = Environment::sandbox(&base, Some("PEM"), "adele@contoso.com").unwrap();
        let target = |url: &str| environment.endpoints.target(&Url::parse(url).unwrap());
        assert_eq!(
            target("https://contoso.com/autodiscover/autodiscover.xml")
                .unwrap()
                .as_str(),
            "https://127.0.0.1:4431/autodiscover/autodiscover.xml"
        );
        assert_eq!(
            target("https://autodiscover.contoso.com/autodiscover/autodiscover.xml")
                .unwrap()
                .as_str(),
            "https://127.0.0.1:4431/autodiscover/autodiscover.xml"
        );
        assert!(target("https://outlook.office365.com/EWS/Exchange.asmx").is_err());
        assert_eq!(environment.trust.extra_roots_pem, vec!["PEM".to_owned()]);
        assert!(!environment.trust.builtin_roots);
    }

    #[test]
    fn a_mailbox_without_a_domain_is_refused() {
        let base = Url::parse("http://127.0.0.1:4431/").unwrap();
        assert!(matches!(
            Environment::sandbox(&base, None, "adele"),
            Err(Error::InvalidMailbox { .. })
        ));
    }
}
