//! Autodiscover: finds the EWS URL of a mailbox the way Outlook does ("Autodiscover for Exchange",
//! "Generate a list of Autodiscover endpoints"), but with every candidate raced at once under its own
//! timeout, so one dead host costs nothing when another answers.
//!
//! Candidates: Autodiscover v2 JSON (`/autodiscover/autodiscover.json/v1.0/{email}?Protocol=EWS`) at
//! `autodiscover.{domain}` and at Exchange Online; POX (`/autodiscover/autodiscover.xml`) at
//! `autodiscover.{domain}` and `{domain}`; the unauthenticated HTTP redirect probe; and the
//! `_autodiscover._tcp` SRV record. POX answers with `redirectAddr` / `redirectUrl` are followed, https
//! only, at most [`MAX_HOPS`] times.
//!
//! Credentials follow Outlook's rule ("Autodiscover for Exchange": only send credentials to HTTPS endpoints
//! with valid certificates; ask the user before following a redirect to another host): every POX request
//! goes out without `Authorization`, and a password is sent as Basic only when `https://autodiscover.{domain}/`
//! or `https://{domain}/` itself (TLS verified, no redirect to another origin) challenges for it. The bare
//! domain is often a web host or a CDN, so it is asked for credentials only once `autodiscover.{domain}` is
//! out of the race. App tokens are never sent: Autodiscover v2 (JSON) needs none.
//!
//! Provenance decides which EWS URL may receive credentials later. Only an answer fetched directly from
//! one of the mailbox's own https hosts, or Exchange Online's own JSON answer naming an Exchange Online host,
//! is [`CandidateOutcome::Found`]. An answer reached through a [`Detour`] — the HTTP redirect probe (plain
//! http, forgeable on the network path), an SRV record (unauthenticated DNS), a redirect to another origin,
//! a `redirectUrl` or `redirectAddr` — is [`CandidateOutcome::Unconfirmed`] even when it names an EWS URL:
//! the run stops and shows that URL for the admin to confirm, and its host never receives the password.
//! Such a candidate never stops the race; only a confirmed answer does.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use futures::stream::{FuturesUnordered, StreamExt};
use quick_xml::escape::escape;
use serde::Serialize;
use tokio::sync::watch;
use url::Url;

use crate::auth::{offered_schemes, AuthScheme, Authorization, Credentials};
use crate::body::read_response;
use crate::client::{elapsed_ms, transport_error};
use crate::cloud::is_exchange_online_host;
use crate::endpoints::{ensure_secure, Endpoints};
use crate::request_log::{RequestLog, RequestRecord};

pub(crate) mod answer;

use answer::{read_json_answer, read_pox_answer, require_https, PoxAnswer};

/// Redirects followed per candidate, as Microsoft's and Cronofy's clients do.
pub const MAX_HOPS: usize = 10;
/// Documentation of the Autodiscover process.
pub const AUTODISCOVER_DOC: &str =
    "https://learn.microsoft.com/en-us/exchange/client-developer/exchange-web-services/autodiscover-for-exchange";
const POX_REQUEST_SCHEMA: &str =
    "http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006";
const POX_RESPONSE_SCHEMA: &str =
    "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a";

/// One SRV record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SrvRecord {
    /// Lower is preferred.
    pub priority: u16,
    /// Higher is preferred among equal priorities.
    pub weight: u16,
    /// Port; Autodiscover uses only TLS targets.
    pub port: u16,
    /// Target host name.
    pub target: String,
}

/// DNS SRV lookups, injected so tests need no DNS.
pub trait SrvResolver: Send + Sync {
    /// Records for `name` (e.g. `_autodiscover._tcp.contoso.com`); an error text when the lookup failed.
    fn lookup(&self, name: &str) -> BoxFuture<'static, Result<Vec<SrvRecord>, String>>;
}

/// A resolver with no DNS access: the SRV candidate reports itself unavailable (production uses
/// [`crate::srv::SystemSrvResolver`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoSrvResolver;

impl SrvResolver for NoSrvResolver {
    fn lookup(&self, _name: &str) -> BoxFuture<'static, Result<Vec<SrvRecord>, String>> {
        Box::pin(std::future::ready(Err(
            "SRV lookup is turned off (offline run)".to_owned(),
        )))
    }
}

/// Fixed answers (tests, or an admin who knows the record).
#[derive(Debug, Clone, Default)]
pub struct StaticSrvResolver {
    /// (record name, records).
    pub records: Vec<(String, Vec<SrvRecord>)>,
}

impl SrvResolver for StaticSrvResolver {
    fn lookup(&self, name: &str) -> BoxFuture<'static, Result<Vec<SrvRecord>, String>> {
        let found = self
            .records
            .iter()
            .find(|(record_name, _)| record_name.eq_ignore_ascii_case(name));
        let result = found
            .map(|(_, records)| records.clone())
            .ok_or_else(|| format!("no SRV record {name}"));
        Box::pin(std::future::ready(result))
    }
}

/// Which Autodiscover candidate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum CandidateKind {
    /// Autodiscover v2 JSON at `autodiscover.{domain}`.
    JsonDomain,
    /// Autodiscover v2 JSON at Exchange Online.
    JsonExchangeOnline,
    /// POX at `https://autodiscover.{domain}/autodiscover/autodiscover.xml`.
    PoxAutodiscoverDomain,
    /// POX at `https://{domain}/autodiscover/autodiscover.xml`.
    PoxDomain,
    /// Unauthenticated GET `http://autodiscover.{domain}/autodiscover/autodiscover.xml`, then POX at its https redirect.
    HttpRedirect,
    /// `_autodiscover._tcp.{domain}` SRV, then POX at the target.
    Srv,
}

impl CandidateKind {
    /// A short label for logs and reports.
    pub fn label(self) -> &'static str {
        match self {
            Self::JsonDomain => "Autodiscover v2 (JSON) at autodiscover.{domain}",
            Self::JsonExchangeOnline => "Autodiscover v2 (JSON) at Exchange Online",
            Self::PoxAutodiscoverDomain => "POX at autodiscover.{domain}",
            Self::PoxDomain => "POX at {domain}",
            Self::HttpRedirect => "HTTP redirect probe",
            Self::Srv => "SRV record",
        }
    }
}

/// How a candidate's answer arrived other than directly from one of the mailbox's own https hosts (or
/// Exchange Online's JSON naming its own host): why its EWS URL is not trusted with credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Detour {
    /// The plain-http redirect probe: anyone on the network path can rewrite its `Location`.
    HttpProbe,
    /// The `_autodiscover._tcp` SRV record: DNS answers are unauthenticated.
    Srv,
    /// A 30x to another origin than the one first asked.
    CrossOriginRedirect,
    /// A POX `redirectUrl` answer.
    RedirectUrl,
    /// A POX `redirectAddr` answer (another address, hence possibly another organisation).
    RedirectAddr,
    /// Exchange Online's Autodiscover naming an EWS host that is not Exchange Online's.
    ForeignEwsHost,
}

impl Detour {
    /// How the detour reads in a sentence ("found through …").
    pub fn describe(self) -> &'static str {
        match self {
            Self::HttpProbe => "the plain-http redirect probe",
            Self::Srv => "an SRV record",
            Self::CrossOriginRedirect => "a redirect to another host",
            Self::RedirectUrl => "a redirectUrl answer",
            Self::RedirectAddr => "a redirectAddr answer",
            Self::ForeignEwsHost => {
                "Exchange Online's Autodiscover naming a host outside Exchange Online"
            }
        }
    }
}

/// What happened to one candidate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "result", rename_all = "camelCase")]
pub enum CandidateOutcome {
    /// It returned this EWS URL, directly from a host trusted with credentials.
    Found {
        /// The EWS URL.
        ews_url: String,
    },
    /// It failed.
    Failed {
        /// Why.
        reason: String,
    },
    /// It went through a [`Detour`]: its host is never given the credentials, and an EWS URL it names is
    /// used only once the admin confirms it.
    #[serde(rename_all = "camelCase")]
    Unconfirmed {
        /// The Autodiscover URL that answered (or asked for the password).
        url: String,
        /// The EWS URL it named, when it answered.
        ews_url: Option<String>,
        /// How the candidate got there.
        via: Detour,
    },
    /// Another candidate answered first; this one was cancelled.
    Abandoned,
}

impl CandidateOutcome {
    /// The Autodiscover URL of an [`CandidateOutcome::Unconfirmed`] outcome that asked for the password
    /// instead of naming an EWS URL.
    pub fn unconfirmed_url(&self) -> Option<&str> {
        match self {
            Self::Unconfirmed {
                url, ews_url: None, ..
            } => Some(url),
            _ => None,
        }
    }
}

/// Why a candidate returned no confirmed EWS URL.
#[derive(Debug)]
enum Miss {
    Failed(String),
    /// The answer came through a detour: the host at `url` asked for credentials it may not be given
    /// (`ews_url` is `None`), or named `ews_url`, which the admin must confirm.
    Unconfirmed {
        url: Url,
        ews_url: Option<Url>,
        via: Detour,
    },
}

impl From<String> for Miss {
    fn from(reason: String) -> Self {
        Self::Failed(reason)
    }
}

impl From<&str> for Miss {
    fn from(reason: &str) -> Self {
        Self::Failed(reason.to_owned())
    }
}

/// The run's password, as far as POX may use it.
#[derive(Clone)]
struct Password<'a> {
    basic: &'a Authorization,
    /// For the bare domain: turns `true` once `autodiscover.{domain}` is out of the race, which the bare
    /// domain waits for before answering its own challenge.
    after: Option<watch::Receiver<bool>>,
    /// Every host the password was sent to, in order.
    sent_to: &'a Mutex<Vec<String>>,
}

/// One HTTP answer, as far as Autodiscover reads it.
struct Answer {
    status: u16,
    location: Option<String>,
    /// The schemes of a 401's `WWW-Authenticate`.
    offered: Vec<AuthScheme>,
    body: String,
}

/// One candidate's attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CandidateAttempt {
    /// Which candidate.
    pub kind: CandidateKind,
    /// Its first URL (or SRV name).
    pub url: String,
    /// The result.
    pub outcome: CandidateOutcome,
    /// Time until it finished (or until it was abandoned).
    pub duration_ms: u64,
}

/// The result of Autodiscover.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Discovery {
    /// The EWS URL found, if any.
    pub ews_url: Option<Url>,
    /// The candidate that found it.
    pub winner: Option<CandidateKind>,
    /// Every candidate, in start order.
    pub attempts: Vec<CandidateAttempt>,
    /// The hosts that were sent the password (as Basic, after their own challenge), in order.
    pub credentials_sent_to: Vec<String>,
}

/// An EWS URL a candidate named through a detour, awaiting the admin's confirmation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnconfirmedEwsUrl<'a> {
    /// The EWS URL.
    pub ews_url: &'a str,
    /// The Autodiscover URL that named it.
    pub named_at: &'a str,
    /// How the candidate got there.
    pub via: Detour,
}

impl Discovery {
    /// The first candidate's, in start order (not arrival order), EWS URL named through a detour.
    pub fn unconfirmed(&self) -> Option<UnconfirmedEwsUrl<'_>> {
        self.attempts
            .iter()
            .find_map(|attempt| match &attempt.outcome {
                CandidateOutcome::Unconfirmed {
                    url,
                    ews_url: Some(ews_url),
                    via,
                } => Some(UnconfirmedEwsUrl {
                    ews_url,
                    named_at: url,
                    via: *via,
                }),
                _ => None,
            })
    }
}

/// Runs Autodiscover.
#[derive(Clone)]
pub struct Autodiscover {
    http: reqwest::Client,
    endpoints: Endpoints,
    srv: Arc<dyn SrvResolver>,
    log: RequestLog,
    candidate_timeout: Duration,
}

impl Autodiscover {
    /// Autodiscover over `http` (the run's client), with `candidate_timeout` per candidate.
    pub fn new(
        http: reqwest::Client,
        endpoints: Endpoints,
        srv: Arc<dyn SrvResolver>,
        log: RequestLog,
        candidate_timeout: Duration,
    ) -> Self {
        Self {
            http,
            endpoints,
            srv,
            log,
            candidate_timeout,
        }
    }

    /// Finds the EWS URL for `email`. A password of `credentials` is sent (as Basic) only when the POX
    /// endpoint of the mailbox's `autodiscover.` host or own domain challenges for it, the bare domain only
    /// once `autodiscover.{domain}` is out of the race; app credentials are never sent (see the module
    /// documentation).
    pub async fn discover(&self, email: &str, credentials: &Credentials) -> Discovery {
        let basic = match credentials {
            Credentials::Password { username, password } => {
                Some(Authorization::basic(username, password))
            }
            Credentials::ClientCredentials { .. } => None,
        };
        let domain = email
            .rsplit('@')
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        let encoded_email: String =
            url::form_urlencoded::byte_serialize(email.as_bytes()).collect();
        let json_path =
            format!("/autodiscover/autodiscover.json/v1.0/{encoded_email}?Protocol=EWS");
        let candidates: Vec<(CandidateKind, String)> = vec![
            (
                CandidateKind::JsonDomain,
                format!("https://autodiscover.{domain}{json_path}"),
            ),
            (
                CandidateKind::JsonExchangeOnline,
                format!("https://outlook.office365.com{json_path}"),
            ),
            (
                CandidateKind::PoxAutodiscoverDomain,
                format!("https://autodiscover.{domain}/autodiscover/autodiscover.xml"),
            ),
            (
                CandidateKind::PoxDomain,
                format!("https://{domain}/autodiscover/autodiscover.xml"),
            ),
            (
                CandidateKind::HttpRedirect,
                format!("http://autodiscover.{domain}/autodiscover/autodiscover.xml"),
            ),
            (CandidateKind::Srv, format!("_autodiscover._tcp.{domain}")),
        ];
        let sent_to = Mutex::new(Vec::new());
        let (autodiscover_host_done, after_autodiscover_host) = watch::channel(false);
        let started = Instant::now();
        let mut running = FuturesUnordered::new();
        for (index, (kind, url)) in candidates.iter().enumerate() {
            let password = basic.as_ref().map(|basic| Password {
                basic,
                after: (*kind == CandidateKind::PoxDomain).then(|| after_autodiscover_host.clone()),
                sent_to: &sent_to,
            });
            // The bare domain may spend up to one candidate timeout waiting for `autodiscover.{domain}`
            // before it answers its challenge; that wait does not count against its own time.
            let timeout = if *kind == CandidateKind::PoxDomain && password.is_some() {
                self.candidate_timeout * 2
            } else {
                self.candidate_timeout
            };
            let attempt = self.candidate(*kind, url.clone(), email.to_owned(), password);
            let candidate_timeout = self.candidate_timeout;
            running.push(async move {
                let result = match tokio::time::timeout(timeout, attempt).await {
                    Ok(result) => result,
                    Err(_) => Err(Miss::Failed(format!(
                        "no answer within {} s",
                        candidate_timeout.as_secs_f32()
                    ))),
                };
                (index, result)
            });
        }
        let mut outcomes: Vec<Option<(CandidateOutcome, u64)>> = vec![None; candidates.len()];
        let mut found = None;
        while let Some((index, result)) = running.next().await {
            let duration = elapsed_ms(started);
            let kind = candidates[index].0;
            if kind == CandidateKind::PoxAutodiscoverDomain {
                autodiscover_host_done.send_replace(true);
            }
            match result {
                Ok(ews_url) => {
                    outcomes[index] = Some((
                        CandidateOutcome::Found {
                            ews_url: ews_url.to_string(),
                        },
                        duration,
                    ));
                    found = Some((kind, ews_url));
                    break;
                }
                Err(Miss::Failed(reason)) => {
                    tracing::debug!(candidate = kind.label(), %reason, "autodiscover candidate failed");
                    outcomes[index] = Some((CandidateOutcome::Failed { reason }, duration));
                }
                Err(Miss::Unconfirmed { url, ews_url, via }) => {
                    tracing::debug!(candidate = kind.label(), %url, ews_url = ?ews_url.as_ref().map(Url::as_str), via = via.describe(), "autodiscover candidate went through a detour; its host gets no credentials");
                    outcomes[index] = Some((
                        CandidateOutcome::Unconfirmed {
                            url: url.to_string(),
                            ews_url: ews_url.map(String::from),
                            via,
                        },
                        duration,
                    ));
                }
            }
        }
        // Dropping the rest cancels their requests.
        drop(running);
        let abandoned_at = elapsed_ms(started);
        let attempts = candidates
            .into_iter()
            .zip(outcomes)
            .map(|((kind, url), outcome)| {
                let (outcome, duration_ms) =
                    outcome.unwrap_or((CandidateOutcome::Abandoned, abandoned_at));
                CandidateAttempt {
                    kind,
                    url,
                    outcome,
                    duration_ms,
                }
            })
            .collect();
        let (winner, ews_url) = found.map_or((None, None), |(kind, url)| (Some(kind), Some(url)));
        Discovery {
            ews_url,
            winner,
            attempts,
            credentials_sent_to: sent_to.into_inner().unwrap_or_default(),
        }
    }

    async fn candidate(
        &self,
        kind: CandidateKind,
        url: String,
        email: String,
        password: Option<Password<'_>>,
    ) -> Result<Url, Miss> {
        let url_or_error =
            || Url::parse(&url).map_err(|error| format!("invalid url {url}: {error}"));
        match kind {
            CandidateKind::JsonDomain => self.json(url_or_error()?, false).await,
            CandidateKind::JsonExchangeOnline => self.json(url_or_error()?, true).await,
            // The mailbox's own hosts, reached directly: the only ones that may be given the password.
            CandidateKind::PoxAutodiscoverDomain | CandidateKind::PoxDomain => {
                self.pox(url_or_error()?, email, password, None).await
            }
            CandidateKind::HttpRedirect => {
                let probe = url_or_error()?;
                let (status, location) = self.get("Autodiscover redirect probe", &probe).await?;
                let location =
                    location.ok_or_else(|| format!("http {status} without a redirect"))?;
                let redirected = probe
                    .join(&location)
                    .map_err(|error| format!("bad Location {location}: {error}"))?;
                require_https(&redirected)?;
                // Plain http can be rewritten on the way: its target never gets the password.
                self.pox(redirected, email, password, Some(Detour::HttpProbe))
                    .await
            }
            CandidateKind::Srv => {
                let records = self.srv.lookup(&url).await?;
                let targets = crate::srv::ssl_targets(&records);
                if targets.is_empty() {
                    return Err(format!("{url} has no SSL (port 443) target").into());
                }
                // In preference order; the next target is tried only when one fails.
                let mut failures = Vec::new();
                for record in targets {
                    let target = record.target.trim_end_matches('.');
                    let pox_url =
                        Url::parse(&format!("https://{target}/autodiscover/autodiscover.xml"))
                            .map_err(|error| format!("bad SRV target {target}: {error}"))?;
                    // DNS answers are unauthenticated: an SRV target never gets the password.
                    match self
                        .pox(pox_url, email.clone(), password.clone(), Some(Detour::Srv))
                        .await
                    {
                        Ok(ews_url) => return Ok(ews_url),
                        Err(unconfirmed @ Miss::Unconfirmed { .. }) => return Err(unconfirmed),
                        Err(Miss::Failed(reason)) => failures.push(format!("{target}: {reason}")),
                    }
                }
                Err(Miss::Failed(failures.join("; ")))
            }
        }
    }

    /// Autodiscover v2 at `url`, following redirects. Its answer is confirmed when no redirect left the
    /// origin first asked (for Exchange Online: Exchange Online's hosts, which redirect between clouds)
    /// and, for Exchange Online, when it names an Exchange Online host.
    async fn json(&self, mut url: Url, exchange_online: bool) -> Result<Url, Miss> {
        let mut detour = None;
        for _ in 0..MAX_HOPS {
            let Answer {
                status,
                location,
                body,
                ..
            } = self
                .send("Autodiscover JSON", reqwest::Method::GET, &url, None, None)
                .await?;
            match status {
                200 => {
                    let ews_url = read_json_answer(&body)?;
                    if exchange_online && !ews_url.host_str().is_some_and(is_exchange_online_host) {
                        detour.get_or_insert(Detour::ForeignEwsHost);
                    }
                    return match detour {
                        None => Ok(ews_url),
                        Some(via) => Err(Miss::Unconfirmed {
                            url,
                            ews_url: Some(ews_url),
                            via,
                        }),
                    };
                }
                301 | 302 | 307 | 308 => {
                    let location = location.ok_or("redirect without Location")?;
                    let next = url
                        .join(&location)
                        .map_err(|error| format!("bad Location {location}: {error}"))?;
                    require_https(&next)?;
                    let within_exchange_online = exchange_online
                        && [&url, &next]
                            .iter()
                            .all(|hop| hop.host_str().is_some_and(is_exchange_online_host));
                    if next.origin() != url.origin() && !within_exchange_online {
                        detour.get_or_insert(Detour::CrossOriginRedirect);
                    }
                    url = next;
                }
                other => return Err(format!("http {other}").into()),
            }
        }
        Err(format!("more than {MAX_HOPS} redirects").into())
    }

    /// POX at `url`, following redirects. `detour` is how the candidate got to `url` (`None`: it is one of
    /// the mailbox's own https hosts). Only without a detour, and only after a Basic challenge from that
    /// same origin, is the run's `password` sent; any other origin asking for it, or any answer reached
    /// through a detour, makes the candidate [`Miss::Unconfirmed`].
    async fn pox(
        &self,
        mut url: Url,
        mut email: String,
        password: Option<Password<'_>>,
        mut detour: Option<Detour>,
    ) -> Result<Url, Miss> {
        // Same scheme, host and port as the first request: a redirect within it exposes nothing new.
        let home = url.origin();
        let mut authorization: Option<&Authorization> = None;
        for _ in 0..MAX_HOPS {
            ensure_secure(&url).map_err(|error| error.to_string())?;
            if url.origin() != home {
                detour.get_or_insert(Detour::CrossOriginRedirect);
            }
            let trusted = detour.is_none() && url.scheme() == "https";
            if !trusted {
                authorization = None;
            }
            let body = format!(
                r#"<?xml version="1.0" encoding="utf-8"?><Autodiscover xmlns="{POX_REQUEST_SCHEMA}"><Request><EMailAddress>{}</EMailAddress><AcceptableResponseSchema>{POX_RESPONSE_SCHEMA}</AcceptableResponseSchema></Request></Autodiscover>"#,
                escape(email.as_str())
            );
            let answer = self
                .send(
                    "Autodiscover POX",
                    reqwest::Method::POST,
                    &url,
                    Some(body),
                    authorization,
                )
                .await?;
            match answer.status {
                200 => {}
                301 | 302 | 307 | 308 => {
                    let location = answer.location.ok_or("redirect without Location")?;
                    url = url
                        .join(&location)
                        .map_err(|error| format!("bad Location {location}: {error}"))?;
                    require_https(&url)?;
                    continue;
                }
                401 if authorization.is_some() => {
                    return Err("http 401: the credentials were refused".into())
                }
                401 => {
                    match &password {
                        Some(password) if trusted => {
                            if !answer.offered.contains(&AuthScheme::Basic) {
                                return Err(Miss::Failed(not_offered(&answer.offered)));
                            }
                            if let Some(mut after) = password.after.clone() {
                                // Closed only when the race is over, and then this candidate is dropped.
                                let _ = after.wait_for(|done| *done).await;
                            }
                            if let (Ok(mut sent_to), Some(host)) =
                                (password.sent_to.lock(), url.host_str())
                            {
                                if !sent_to.iter().any(|known| known == host) {
                                    sent_to.push(host.to_owned());
                                }
                            }
                            authorization = Some(password.basic);
                            continue;
                        }
                        Some(_) => {
                            return Err(Miss::Unconfirmed {
                                url,
                                ews_url: None,
                                via: detour.unwrap_or(Detour::CrossOriginRedirect),
                            })
                        }
                        None => return Err(
                            "http 401: this endpoint wants credentials, which are not sent to it"
                                .into(),
                        ),
                    }
                }
                other => return Err(format!("http {other}").into()),
            }
            match read_pox_answer(&answer.body)? {
                PoxAnswer::RedirectAddr(address) => {
                    email = address;
                    detour.get_or_insert(Detour::RedirectAddr);
                }
                PoxAnswer::RedirectUrl(next) => {
                    url = next;
                    detour.get_or_insert(Detour::RedirectUrl);
                }
                PoxAnswer::Settings(ews_url) => {
                    return match detour {
                        None => Ok(ews_url),
                        Some(via) => Err(Miss::Unconfirmed {
                            url,
                            ews_url: Some(ews_url),
                            via,
                        }),
                    };
                }
            }
        }
        Err(format!("more than {MAX_HOPS} redirects").into())
    }

    async fn get(&self, operation: &str, url: &Url) -> Result<(u16, Option<String>), String> {
        let answer = self
            .send(operation, reqwest::Method::GET, url, None, None)
            .await?;
        Ok((answer.status, answer.location))
    }

    async fn send(
        &self,
        operation: &str,
        method: reqwest::Method,
        url: &Url,
        body: Option<String>,
        authorization: Option<&Authorization>,
    ) -> Result<Answer, String> {
        let target = self
            .endpoints
            .target(url)
            .map_err(|error| error.to_string())?;
        let started = Instant::now();
        let mut request = self.http.request(method.clone(), target);
        if let Some(body) = body {
            request = request
                .header(reqwest::header::CONTENT_TYPE, "text/xml; charset=utf-8")
                .body(body);
        }
        // Only Basic reaches here (see `pox`): NTLM needs one connection per handshake, which the racing
        // candidates' shared pool cannot give.
        let header = authorization
            .map(Authorization::header_value)
            .transpose()
            .map_err(|error| error.to_string())?
            .flatten();
        let authenticated = header.is_some();
        if let Some(header) = header {
            request = request.header(reqwest::header::AUTHORIZATION, header);
        }
        let mut record = RequestRecord {
            operation: operation.into(),
            method: method.to_string(),
            url: url.to_string(),
            status: None,
            response_code: None,
            duration_ms: 0,
            note: authenticated.then(|| {
                format!(
                    "Basic credentials sent to {}, after its challenge",
                    url.host_str().unwrap_or_default()
                )
            }),
        };
        let result = async {
            let response = request
                .send()
                .await
                .map_err(|error| transport_error(url, operation, error))?;
            let status = response.status().as_u16();
            let location = response
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned);
            let offered = offered_schemes(response.headers());
            let body = read_response(response, url, operation).await?;
            Ok::<_, crate::Error>(Answer {
                status,
                location,
                offered,
                body: String::from_utf8_lossy(&body).into_owned(),
            })
        }
        .await;
        record.duration_ms = elapsed_ms(started);
        match result {
            Ok(answer) => {
                record.status = Some(answer.status);
                self.log.push(record);
                Ok(answer)
            }
            Err(error) => {
                let error = error.to_string();
                record.note = Some(error.clone());
                self.log.push(record);
                Err(error)
            }
        }
    }
}

/// Why a challenge from the mailbox's own host could not be answered with a password over Basic.
fn not_offered(offered: &[AuthScheme]) -> String {
    let names: Vec<String> = offered.iter().map(AuthScheme::to_string).collect();
    if offered
        .iter()
        .any(|scheme| matches!(scheme, AuthScheme::Ntlm | AuthScheme::Negotiate))
    {
        format!(
            "http 401: Autodiscover here needs NTLM (offered: {}); this test sends only Basic to Autodiscover, so enter the EWS URL",
            names.join(", ")
        )
    } else if names.is_empty() {
        "http 401 without a WWW-Authenticate challenge".to_owned()
    } else {
        format!(
            "http 401: Basic is not offered (offered: {})",
            names.join(", ")
        )
    }
}
