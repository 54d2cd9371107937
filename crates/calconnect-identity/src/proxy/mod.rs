//! Which proxy each request goes through: one decision for every connection calconnect opens (identity
//! and Graph through [`crate::http_client`], EWS's pooled client and NTLM's own connections).
//!
//! The settings are read once per process ([`ProxyConfig::system`]), in this order:
//! 1. the environment, as curl reads it: `HTTPS_PROXY` for https destinations, `HTTP_PROXY` for http,
//!    `ALL_PROXY` for both when the specific one is missing or unusable, `NO_PROXY` for the exceptions
//!    (each upper-case name first, then the lower-case one);
//! 2. when no proxy variable is set, the desktop's settings: GNOME's (`org.gnome.system.proxy`, read with
//!    `gsettings`, only under a GNOME desktop as glib-networking does), Windows' Internet Options or
//!    macOS' network settings (both read by hyper-util). Automatic configuration (PAC, WPAD) is not
//!    evaluated: [`ProxySummary::notes`] says so, and requests go directly.
//!
//! The decision itself is hyper-util's matcher, the one reqwest uses: curl's `NO_PROXY` rules (a domain
//! matches itself and its subdomains, a leading dot is optional, `*` matches everything, IP addresses and
//! CIDR ranges match addresses), and userinfo in a proxy URL becomes Basic `Proxy-Authorization`.
//!
//! One rule is calconnect's own, as Go's `net/http` has it: **loopback destinations (`localhost`,
//! 127.0.0.0/8, `::1`) are always reached directly**, whatever `NO_PROXY` says. A proxy elsewhere cannot
//! reach this computer's loopback, and what listens there is calconnect's (the sign-in redirect, the
//! sandbox). A test that wants the proxy names its server with a host name only the proxy resolves.
//!
//! Only `http://` proxies are spoken to (the CONNECT method for https destinations); a `socks5://` or
//! `https://` proxy URL is ignored with a note and a warning. No message, log or summary holds the user
//! name or password of a proxy URL.

mod gnome;
mod problem;

use std::fmt;
use std::sync::{Arc, OnceLock};

use base64::Engine as _;
use hyper_util::client::proxy::matcher::Matcher;
use reqwest::header::HeaderValue;
use serde::Serialize;
use url::Url;

pub use problem::{ProxyProblem, ProxyProblemKind};

/// The variables naming proxies and exceptions, upper case first (curl's and hyper-util's order).
const HTTPS_VARIABLES: [&str; 2] = ["HTTPS_PROXY", "https_proxy"];
const HTTP_VARIABLES: [&str; 2] = ["HTTP_PROXY", "http_proxy"];
const ALL_VARIABLES: [&str; 2] = ["ALL_PROXY", "all_proxy"];
const NO_PROXY_VARIABLES: [&str; 2] = ["NO_PROXY", "no_proxy"];

/// The proxies and exceptions in force. Cheap to clone; [`ProxyConfig::system`] is the one every client
/// uses.
#[derive(Clone)]
pub struct ProxyConfig {
    inner: Arc<Inner>,
}

struct Inner {
    /// hyper-util's matcher over the settings below: the decision, with curl's `NO_PROXY` rules.
    matcher: Matcher,
    summary: ProxySummary,
}

impl fmt::Debug for ProxyConfig {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The summary holds no credentials; the matcher's Debug would not either, but says less.
        formatter
            .debug_tuple("ProxyConfig")
            .field(&self.inner.summary)
            .finish()
    }
}

/// Where the proxy settings came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProxySource {
    /// No proxy is configured anywhere calconnect looks: every request goes directly.
    None,
    /// `HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY` (and `NO_PROXY`).
    Environment,
    /// GNOME's proxy settings (`org.gnome.system.proxy`).
    Gnome,
    /// Windows' proxy settings (Internet Options, `HKCU\…\Internet Settings`).
    Windows,
    /// macOS' network settings.
    MacOs,
}

/// One proxy in force, without its credentials.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProxyEntry {
    /// `http://host:port` (never a user name or password).
    pub proxy: String,
    /// The setting it came from: `HTTPS_PROXY`, `ALL_PROXY`, `GNOME proxy settings`, …
    pub origin: String,
    /// Whether the proxy URL carries a user name and password (sent as Basic `Proxy-Authorization`).
    pub credentials: bool,
}

/// What [`ProxyConfig`] does, in words a Settings page or `calconnect network` shows: secret-free.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProxySummary {
    /// Where the settings came from.
    pub source: ProxySource,
    /// The proxy of https destinations (every Microsoft endpoint), if any.
    pub https: Option<ProxyEntry>,
    /// The proxy of http destinations, if any.
    pub http: Option<ProxyEntry>,
    /// The exceptions (`NO_PROXY` entries or the desktop's ignored hosts), as given.
    pub bypass: Vec<String>,
    /// The setting the exceptions came from.
    pub bypass_origin: Option<String>,
    /// What was ignored or cannot be honoured (unusable values, automatic configuration).
    pub notes: Vec<String>,
}

/// The rule every summary ends with.
pub const LOOPBACK_RULE: &str =
    "loopback addresses (localhost, 127.0.0.0/8, ::1) are always reached directly";

impl fmt::Display for ProxySummary {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let entry = |entry: &ProxyEntry| {
            format!(
                "{} (from {}{})",
                entry.proxy,
                entry.origin,
                if entry.credentials {
                    ", with a user name and password"
                } else {
                    ""
                }
            )
        };
        let mut parts = Vec::new();
        match (&self.https, &self.http) {
            (None, None) => parts.push("no proxy: every request goes directly".to_owned()),
            (https, http) => {
                parts.push(format!(
                    "https: {}",
                    https.as_ref().map_or_else(|| "direct".to_owned(), entry)
                ));
                parts.push(format!(
                    "http: {}",
                    http.as_ref().map_or_else(|| "direct".to_owned(), entry)
                ));
                if !self.bypass.is_empty() {
                    parts.push(format!(
                        "bypass: {}{}",
                        self.bypass.join(", "),
                        self.bypass_origin
                            .as_ref()
                            .map_or_else(String::new, |origin| format!(" (from {origin})"))
                    ));
                }
            }
        }
        parts.push(LOOPBACK_RULE.to_owned());
        parts.extend(self.notes.iter().cloned());
        formatter.write_str(&parts.join("; "))
    }
}

/// The proxy one request goes through. Its Debug and Display never show credentials.
#[derive(Clone)]
pub struct ProxyRoute {
    /// `http://host:port/`, without userinfo.
    uri: http::Uri,
    /// Basic `Proxy-Authorization` from the proxy URL's userinfo (marked sensitive).
    authorization: Option<HeaderValue>,
    /// The setting it came from.
    origin: String,
}

impl ProxyRoute {
    /// `http://host:port/` of the proxy, without credentials.
    pub fn uri(&self) -> &http::Uri {
        &self.uri
    }

    /// `host:port` of the proxy.
    pub fn authority(&self) -> String {
        self.uri
            .authority()
            .map_or_else(String::new, ToString::to_string)
    }

    /// The `Proxy-Authorization` to send with CONNECT (Basic, from the proxy URL), if any.
    pub fn authorization(&self) -> Option<&HeaderValue> {
        self.authorization.as_ref()
    }

    /// The setting that named this proxy (`HTTPS_PROXY`, `GNOME proxy settings`, …).
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The proxy URL reqwest is given: the URI with the credentials put back as userinfo, which reqwest
    /// (hyper-util) turns into the same `Proxy-Authorization`.
    fn reqwest_url(&self) -> Option<Url> {
        let mut url = Url::parse(&self.uri.to_string()).ok()?;
        if let Some((user, password)) = self.authorization.as_ref().and_then(basic_credentials) {
            url.set_username(&user).ok()?;
            url.set_password(Some(&password)).ok()?;
        }
        Some(url)
    }
}

impl fmt::Display for ProxyRoute {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            formatter,
            "http://{} (from {})",
            self.authority(),
            self.origin
        )
    }
}

impl fmt::Debug for ProxyRoute {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("ProxyRoute")
            .field("proxy", &self.authority())
            .field("origin", &self.origin)
            .field("credentials", &self.authorization.is_some())
            .finish()
    }
}

/// `(user, password)` of a `Basic` header value.
fn basic_credentials(value: &HeaderValue) -> Option<(String, String)> {
    let encoded = value.to_str().ok()?.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

/// A proxy setting as read: its text (which may carry a user name and password) and where it came from.
struct Setting {
    value: String,
    origin: String,
}

/// The raw settings of one source, before they are checked.
struct Settings {
    source: ProxySource,
    https: Option<Setting>,
    http: Option<Setting>,
    no_proxy: Option<Setting>,
    notes: Vec<String>,
}

/// A proxy URL as hyper-util parses it: `None` when it is not one.
struct Parsed {
    uri: http::Uri,
    credentials: bool,
}

fn parse(value: &str) -> Option<Parsed> {
    let probe = http::Uri::from_static("https://calconnect.invalid/");
    let intercept = Matcher::builder().all(value).build().intercept(&probe)?;
    Some(Parsed {
        uri: intercept.uri().clone(),
        credentials: intercept.basic_auth().is_some(),
    })
}

/// The text of `http://host:port` without the trailing slash hyper-util adds.
fn display_uri(uri: &http::Uri) -> String {
    uri.to_string().trim_end_matches('/').to_owned()
}

impl ProxyConfig {
    /// The proxies of this process, read on first use from the environment, else the desktop's
    /// settings (see the module documentation), and logged once (without credentials). Changing the
    /// settings takes effect when calconnect is started again.
    pub fn system() -> &'static ProxyConfig {
        static SYSTEM: OnceLock<ProxyConfig> = OnceLock::new();
        SYSTEM.get_or_init(|| {
            let config = Self::resolve(&|name| std::env::var(name).ok(), &gnome::gsettings);
            tracing::info!(proxy = %config.summary(), "proxy settings");
            for note in &config.summary().notes {
                tracing::warn!(%note, "proxy setting not used");
            }
            config
        })
    }

    /// No proxy: every request goes directly.
    pub fn direct() -> Self {
        Self::build(Settings {
            source: ProxySource::None,
            https: None,
            http: None,
            no_proxy: None,
            notes: Vec::new(),
        })
    }

    /// The proxies the environment variables name (`variable` looks one up), as curl reads them.
    pub fn from_variables(variable: &dyn Fn(&str) -> Option<String>) -> Self {
        Self::build(environment_settings(variable))
    }

    /// The environment when it names a proxy; else, under a GNOME desktop, GNOME's settings (`get` reads
    /// one key, as `gsettings get SCHEMA KEY` prints it); else Windows' or macOS' settings.
    fn resolve(
        variable: &dyn Fn(&str) -> Option<String>,
        get: &dyn Fn(&str, &str) -> Option<String>,
    ) -> Self {
        let named = |names: &[&str]| names.iter().any(|name| variable(name).is_some());
        if named(&HTTPS_VARIABLES) || named(&HTTP_VARIABLES) || named(&ALL_VARIABLES) {
            return Self::from_variables(variable);
        }
        let desktop = variable("XDG_CURRENT_DESKTOP").unwrap_or_default();
        if desktop.contains("GNOME") {
            if let Some(mut settings) = gnome::settings(get) {
                // NO_PROXY still applies, as hyper-util lets it on Windows.
                if let Some(no_proxy) = first_set(variable, &NO_PROXY_VARIABLES) {
                    settings.no_proxy = Some(no_proxy);
                }
                return Self::build(settings);
            }
        }
        Self::operating_system().unwrap_or_else(|| Self::from_variables(variable))
    }

    /// Windows' or macOS' own settings, read by hyper-util (`None` when they name no proxy, and on other
    /// systems). hyper-util reads the proxy of each scheme (and on Windows the exception list) but not
    /// automatic configuration.
    #[cfg(any(windows, target_os = "macos"))]
    fn operating_system() -> Option<Self> {
        let (source, origin) = if cfg!(windows) {
            (ProxySource::Windows, "the Windows proxy settings")
        } else {
            (ProxySource::MacOs, "the macOS network settings")
        };
        let matcher = Matcher::from_system();
        // The settings themselves are private to hyper-util: ask for a destination no exception names.
        let entry = |probe: &'static str| {
            let intercept = matcher.intercept(&http::Uri::from_static(probe))?;
            Some(ProxyEntry {
                proxy: display_uri(intercept.uri()),
                origin: origin.to_owned(),
                credentials: intercept.basic_auth().is_some(),
            })
        };
        let https = entry("https://calconnect-proxy-probe.invalid/");
        let http = entry("http://calconnect-proxy-probe.invalid/");
        if https.is_none() && http.is_none() {
            return None;
        }
        let notes = vec![format!(
            "the exceptions are those of {origin}; automatic configuration (PAC, WPAD) is not evaluated"
        )];
        Some(Self {
            inner: Arc::new(Inner {
                matcher,
                summary: ProxySummary {
                    source,
                    https,
                    http,
                    bypass: Vec::new(),
                    bypass_origin: None,
                    notes,
                },
            }),
        })
    }

    #[cfg(not(any(windows, target_os = "macos")))]
    fn operating_system() -> Option<Self> {
        None
    }

    /// Checks the settings (hyper-util parses each proxy URL) and builds the matcher over them.
    fn build(settings: Settings) -> Self {
        let Settings {
            source,
            https,
            http,
            no_proxy,
            mut notes,
        } = settings;
        let mut usable = |setting: Option<Setting>| -> Option<(Setting, Parsed)> {
            let setting = setting?;
            match parse(&setting.value) {
                Some(parsed) if parsed.uri.scheme_str() == Some("http") => Some((setting, parsed)),
                Some(parsed) => {
                    notes.push(format!(
                        "{} names a {}:// proxy, which calconnect does not speak (only http:// proxies): ignored",
                        setting.origin,
                        parsed.uri.scheme_str().unwrap_or_default()
                    ));
                    None
                }
                None => {
                    notes.push(format!("{} is not a proxy URL: ignored", setting.origin));
                    None
                }
            }
        };
        let https = usable(https);
        let http = usable(http);
        // ALL_PROXY stands in for both schemes: one note of it is enough.
        let mut seen = std::collections::HashSet::new();
        notes.retain(|note| seen.insert(note.clone()));
        let mut builder = Matcher::builder();
        if let Some((setting, _)) = &https {
            builder = builder.https(setting.value.as_str());
        }
        if let Some((setting, _)) = &http {
            builder = builder.http(setting.value.as_str());
        }
        let bypass: Vec<String> = no_proxy
            .as_ref()
            .map(|setting| {
                setting
                    .value
                    .split(',')
                    .map(str::trim)
                    .filter(|entry| !entry.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        if let Some(setting) = &no_proxy {
            builder = builder.no(setting.value.as_str());
        }
        let entry = |(setting, parsed): &(Setting, Parsed)| ProxyEntry {
            proxy: display_uri(&parsed.uri),
            origin: setting.origin.clone(),
            credentials: parsed.credentials,
        };
        let source = if https.is_none() && http.is_none() {
            ProxySource::None
        } else {
            source
        };
        let summary = ProxySummary {
            source,
            https: https.as_ref().map(entry),
            http: http.as_ref().map(entry),
            bypass_origin: (!bypass.is_empty())
                .then(|| no_proxy.map(|setting| setting.origin))
                .flatten(),
            bypass,
            notes,
        };
        Self {
            inner: Arc::new(Inner {
                matcher: builder.build(),
                summary,
            }),
        }
    }

    /// The proxy a request to `url` goes through, or `None` to connect directly: loopback destinations
    /// always directly, then the exceptions, then the proxy of the URL's scheme.
    pub fn route(&self, url: &Url) -> Option<ProxyRoute> {
        let host = url.host()?;
        if crate::http::is_loopback_host(&host) {
            return None;
        }
        let port = url.port_or_known_default()?;
        let authority = match host {
            url::Host::Ipv6(address) => format!("[{address}]:{port}"),
            other => format!("{other}:{port}"),
        };
        let uri: http::Uri = format!("{}://{authority}/", url.scheme()).parse().ok()?;
        let intercept = self.inner.matcher.intercept(&uri)?;
        // Windows' and macOS' settings come through hyper-util unchecked: only http:// proxies are spoken.
        if intercept.uri().scheme_str() != Some("http") {
            return None;
        }
        let summary = &self.inner.summary;
        let entry = if url.scheme() == "https" {
            summary.https.as_ref()
        } else {
            summary.http.as_ref()
        };
        Some(ProxyRoute {
            uri: intercept.uri().clone(),
            authorization: intercept.basic_auth().cloned(),
            origin: entry.map_or_else(
                || "the system settings".to_owned(),
                |entry| entry.origin.clone(),
            ),
        })
    }

    /// What this configuration does, without credentials.
    pub fn summary(&self) -> &ProxySummary {
        &self.inner.summary
    }

    /// The same decision for a reqwest client (`ClientBuilder::proxy`, which also stops reqwest from
    /// reading the environment itself): the proxy of [`ProxyConfig::route`], except for the URLs
    /// `direct` names.
    pub fn reqwest_proxy(
        &self,
        direct: impl Fn(&Url) -> bool + Send + Sync + 'static,
    ) -> reqwest::Proxy {
        let config = self.clone();
        reqwest::Proxy::custom(move |url| {
            if direct(url) {
                return None;
            }
            config.route(url).and_then(|route| route.reqwest_url())
        })
    }
}

/// The first of `names` that is set (even to an empty value, as hyper-util reads them).
fn first_set(variable: &dyn Fn(&str) -> Option<String>, names: &[&str]) -> Option<Setting> {
    names.iter().find_map(|name| {
        variable(name).map(|value| Setting {
            value,
            origin: (*name).to_owned(),
        })
    })
}

/// The environment's settings: for each scheme its own variable when it holds a proxy URL, else
/// `ALL_PROXY` (hyper-util's `Matcher::from_env`, whose choice this reproduces to name the variable).
fn environment_settings(variable: &dyn Fn(&str) -> Option<String>) -> Settings {
    let mut notes = Vec::new();
    let all = first_set(variable, &ALL_VARIABLES);
    let mut pick = |names: &[&str]| -> Option<Setting> {
        match first_set(variable, names) {
            Some(setting) if parse(&setting.value).is_some() => Some(setting),
            Some(setting) => {
                if !setting.value.trim().is_empty() {
                    notes.push(format!("{} is not a proxy URL: ignored", setting.origin));
                }
                all.as_ref().map(|all| Setting {
                    value: all.value.clone(),
                    origin: all.origin.clone(),
                })
            }
            None => all.as_ref().map(|all| Setting {
                value: all.value.clone(),
                origin: all.origin.clone(),
            }),
        }
    };
    let https = pick(&HTTPS_VARIABLES);
    let http = pick(&HTTP_VARIABLES);
    Settings {
        source: ProxySource::Environment,
        https,
        http,
        no_proxy: first_set(variable, &NO_PROXY_VARIABLES),
        notes,
    }
}

#[cfg(test)]
mod tests;
