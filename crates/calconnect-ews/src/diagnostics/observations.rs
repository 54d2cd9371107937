//! What the probes saw: the only input of the verdict. Nothing here is inferred; every field is the
//! outcome of one request.

use chrono::NaiveDate;

use super::route::Route;
use crate::response_code::ResponseCode;
use crate::tls::TlsProblem;

/// What happened to one operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    /// `NoError`.
    Granted,
    /// A response code (or a SOAP fault's code) refused it.
    Denied(ResponseCode),
    /// HTTP 403 without a SOAP answer (Exchange Online's EWS allow list, or an app outside its RBAC scope).
    Forbidden(String),
    /// It never got an answer (transport, HTTP status).
    Failed(String),
}

impl Access {
    /// `NoError`.
    pub fn is_granted(&self) -> bool {
        *self == Self::Granted
    }

    /// The refusing response code.
    pub fn code(&self) -> Option<&ResponseCode> {
        match self {
            Self::Denied(code) => Some(code),
            _ => None,
        }
    }

    /// One line for reports.
    pub fn describe(&self) -> String {
        match self {
            Self::Granted => "NoError".into(),
            Self::Denied(code) => code.to_string(),
            Self::Forbidden(_) => "HTTP 403".into(),
            Self::Failed(detail) => detail.clone(),
        }
    }
}

/// Why the run stopped before the mailbox operations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Blocker {
    /// No EWS URL.
    Autodiscover(String),
    /// Autodiscover named an EWS URL only through a detour; the admin must confirm it.
    Unconfirmed {
        /// The EWS URL named.
        ews_url: String,
        /// How it was reached ("an SRV record", …).
        via: String,
    },
    /// The EWS host answered an anonymous request without a challenge, so it was sent no credentials.
    NoChallenge {
        /// The EWS URL.
        url: String,
        /// The HTTP status it answered with.
        status: u16,
    },
    /// The certificate was refused.
    Tls(TlsProblem),
    /// The host did not answer.
    Unreachable(String),
    /// The proxy between this computer and the host refused the connection, or was not there.
    Proxy(calconnect_identity::proxy::ProxyProblem),
    /// The app's token request failed.
    Token(String),
    /// The server does not offer a scheme this tool speaks with these credentials.
    SchemeNotOffered {
        /// What the credentials need.
        needed: String,
        /// What the server offers.
        offered: Vec<String>,
    },
    /// HTTP 401 with credentials that the server's schemes accept.
    Unauthorized {
        /// The scheme refused (`NTLM`, `Basic`, `Bearer`).
        scheme: String,
        /// Whether Basic was tried as well and refused the same password.
        basic_refused_too: bool,
    },
    /// Still throttled after backing off.
    Throttled(String),
    /// HTTP 403 to authenticated EWS requests, also to a request naming no mailbox (in Exchange Online
    /// since 2026-10-01: the app is not allow-listed).
    Forbidden(String),
    /// An app's request got 403 and the request naming no mailbox got no SOAP answer either: neither the
    /// allow list nor the RBAC scope can be named.
    AllowListUndetermined(String),
}

/// What one route reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteAccess {
    /// Which route.
    pub route: Route,
    /// `GetFolder` calendar.
    pub calendar: Option<Access>,
    /// Whether the calendar's `EffectiveRights` allow reading and creating items.
    pub calendar_writable: Option<bool>,
    /// `GetFolder` inbox (run only when the calendar opened).
    pub inbox: Option<Access>,
}

impl RouteAccess {
    /// Nothing probed yet.
    pub fn new(route: Route) -> Self {
        Self {
            route,
            calendar: None,
            calendar_writable: None,
            inbox: None,
        }
    }

    /// The calendar opened.
    pub fn calendar_granted(&self) -> bool {
        self.calendar.as_ref().is_some_and(Access::is_granted)
    }

    /// The inbox opened too.
    pub fn inbox_granted(&self) -> bool {
        self.inbox.as_ref().is_some_and(Access::is_granted)
    }
}

/// What the probes saw on one mailbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailboxObservations {
    /// The address.
    pub mailbox: String,
    /// Impersonation (password) or app-only.
    pub impersonation: RouteAccess,
    /// Delegate access (password accounts only; not run when impersonation reached everything).
    pub delegate: Option<RouteAccess>,
    /// `FindItem` calendar view, with the route it took.
    pub calendar_view: Option<(Route, Access)>,
    /// `GetUserAvailability`.
    pub availability: Option<Access>,
    /// The `FreeBusyViewType` returned (`FreeBusy`, `FreeBusyMerged`, `Detailed`, `DetailedMerged`).
    pub availability_view: Option<String>,
}

impl MailboxObservations {
    /// Nothing probed yet on `mailbox`.
    pub fn new(mailbox: &str, impersonation_route: Route) -> Self {
        Self {
            mailbox: mailbox.to_owned(),
            impersonation: RouteAccess::new(impersonation_route),
            delegate: None,
            calendar_view: None,
            availability: None,
            availability_view: None,
        }
    }

    /// Every operation outcome, in probe order.
    pub fn outcomes(&self) -> Vec<Access> {
        let mut outcomes = Vec::new();
        for route in std::iter::once(&self.impersonation).chain(self.delegate.as_ref()) {
            outcomes.extend(route.calendar.iter().chain(&route.inbox).cloned());
        }
        outcomes.extend(self.calendar_view.iter().map(|(_, access)| access.clone()));
        outcomes.extend(self.availability.iter().cloned());
        outcomes
    }
}

/// What the shared steps saw: deployment, credentials and what stopped the run.
#[derive(Debug, Clone)]
pub struct Observations {
    /// The service account or client id.
    pub service_account: String,
    /// Whether the target is Exchange Online.
    pub exchange_online: bool,
    /// Whether the credentials are an app (client credentials) rather than a password.
    pub app_credentials: bool,
    /// Today, from the injected clock.
    pub today: NaiveDate,
    /// What stopped the run early.
    pub blocker: Option<Blocker>,
    /// The scheme that authenticated the service account (`NTLM`, `Basic`, `Bearer`), once it did.
    pub authenticated_with: Option<String>,
    /// NTLM was refused with 401 and the same password then worked with Basic: the password is right,
    /// so Extended Protection's channel binding failed.
    pub ntlm_refused_basic_accepted: bool,
    /// An app-only request naming no mailbox got past the EWS allow list (`true`), or got the same 403
    /// (`false`); `None` when not needed.
    pub passes_allow_list: Option<bool>,
}
