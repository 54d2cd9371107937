//! Exchange Web Services (`/EWS/Exchange.asmx`): SOAP 1.1 with NTLM and Basic (service account password;
//! Basic can be turned off per tenant) and Bearer (Entra token for `https://outlook.office365.com`)
//! authentication, `ExchangeImpersonation` with its `X-AnchorMailbox` routing header, and the three
//! Enterprise Connect access levels of the tenant's service accounts.
//!
//! What each level may do (Cronofy's Enterprise Connect setup; "ResponseCode", "GetUserAvailability operation"):
//! Full impersonates and opens every folder; Restricted impersonates but only the calendar (other folders
//! answer `ErrorAccessDenied`); AvailabilityOnly may not impersonate (`ErrorImpersonateUserDenied`) and gets
//! free/busy only, downgraded from Detailed; None gets `ErrorImpersonateUserDenied` and `ErrorNoFreeBusyAccess`.
//! Unknown mailboxes answer `ErrorNonExistentMailbox` / `ErrorMailRecipientNotFound`. App-only tokens need
//! the `full_access_as_app` role, as in Exchange Online since ApplicationImpersonation was retired there.

pub(crate) mod connection;
pub(crate) mod ntlm;
pub(crate) mod operations;
pub(crate) mod request;
pub(crate) mod response;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use base64::Engine;
use chrono::Duration;

use crate::demo;
use crate::journal::JournalNote;
use crate::state::AppState;
use crate::tenant::{AccessLevel, ShowAs};
pub(crate) use connection::Connection;
use ntlm::{NtlmHandshakes, Outcome};
use request::{Malformed, Operation, SoapRequest};
use response::{AvailabilityAnswer, BusyAnswer, FolderAnswer, ItemAnswer, Status};

/// EWS routes.
pub fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/EWS/Exchange.asmx", post(soap).get(service_page))
        .route("/ews/exchange.asmx", post(soap).get(service_page))
        .layer(axum::Extension(NtlmHandshakes::default()))
}

/// Who is calling, after authentication.
#[derive(Debug, Clone)]
pub(crate) enum Caller {
    /// A service account authenticated with NTLM or Basic.
    ServiceAccount { upn: String },
    /// An app-only token; `full_access` when it carries `full_access_as_app`.
    App { app_id: String, full_access: bool },
    /// A delegated token (`EWS.AccessAsUser.All`) of a user.
    User { app_id: String, upn: String },
}

impl Caller {
    /// Client id of the app calling, for token callers.
    fn app_id(&self) -> Option<&str> {
        match self {
            Self::ServiceAccount { .. } => None,
            Self::App { app_id, .. } | Self::User { app_id, .. } => Some(app_id),
        }
    }

    /// Whether the caller presented an Entra token (Exchange Online's only way in).
    fn is_token(&self) -> bool {
        !matches!(self, Self::ServiceAccount { .. })
    }
}

/// `GET` on the endpoint: Exchange answers an authenticated browser with the service page.
async fn service_page(
    State(state): State<AppState>,
    connection: Connection,
    headers: HeaderMap,
) -> Response {
    match authenticate(&state, &connection, &headers) {
        Ok(_) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/html")],
            "<html><body>You have created a service.</body></html>",
        )
            .into_response(),
        Err(reason) => unauthorized(&state, &reason),
    }
}

async fn soap(
    State(state): State<AppState>,
    connection: Connection,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let caller = match authenticate(&state, &connection, &headers) {
        Ok(caller) => caller,
        Err(reason) => return unauthorized(&state, &reason),
    };
    if let Some(exchange_online) = &state.tenant().exchange.exchange_online {
        if !exchange_online.allows(caller.app_id(), state.now()) {
            return ews_blocked(caller.app_id());
        }
    }
    let busy = state.faults().take_ews_server_busy();
    if let Some((back_off, false)) = busy {
        let mut response = xml(
            StatusCode::INTERNAL_SERVER_ERROR,
            response::fault(
                "ErrorServerBusy",
                "The server cannot service this request right now. Try again later.",
                Some(back_off),
            ),
        );
        response.extensions_mut().insert(JournalNote(format!(
            "ErrorServerBusy back-off {back_off} ms"
        )));
        return response;
    }
    let text = String::from_utf8_lossy(&body);
    let request = match SoapRequest::parse(&text) {
        Ok(request) => request,
        Err(Malformed::Schema(reason)) => {
            return xml(
                StatusCode::INTERNAL_SERVER_ERROR,
                response::fault("ErrorSchemaValidation", &reason, None),
            );
        }
        Err(Malformed::InvalidRequest(reason)) => {
            let mut response = xml(
                StatusCode::INTERNAL_SERVER_ERROR,
                operations::invalid_request_fault(),
            );
            response
                .extensions_mut()
                .insert(JournalNote(format!("ErrorInvalidRequest: {reason}")));
            return response;
        }
    };
    if let Some((back_off, true)) = busy {
        let mut response = xml(
            StatusCode::OK,
            response::busy_response_message(request.operation.name(), back_off),
        );
        response.extensions_mut().insert(JournalNote(format!(
            "ErrorInternalServerError (inner ErrorServerBusy) back-off {back_off} ms"
        )));
        return response;
    }
    let anchor = headers
        .get("x-anchormailbox")
        .and_then(|value| value.to_str().ok())
        .map(str::trim)
        .filter(|value| !value.is_empty());
    if let (true, Some(target)) = (caller.is_token(), request.impersonate.as_deref()) {
        if !anchor.is_some_and(|anchor| anchor.eq_ignore_ascii_case(target)) {
            return missing_anchor(target, anchor);
        }
    }
    let body = answer(&state, &caller, &request);
    let mut response = xml(StatusCode::OK, response::envelope(&body));
    if let Some(anchor) = anchor {
        response
            .extensions_mut()
            .insert(JournalNote(format!("X-AnchorMailbox {anchor}")));
    }
    response
}

/// Exchange Online's answer to an impersonating token request whose `X-AnchorMailbox` is missing or names
/// another mailbox.
///
/// ASSUMPTION: Microsoft says such requests "must always use" the header and that without it they "can
/// give 500/503" errors, slowness or timeouts (facts §3.1), without documenting the exact response. We
/// answer what a careful client survives and can explain: HTTP 500 with a SOAP fault
/// `ErrorInternalServerError` whose text names the header and the mailbox it must carry. Only token
/// (Exchange Online) callers are checked: on-premises NTLM/Basic requests are routed without it.
fn missing_anchor(target: &str, anchor: Option<&str>) -> Response {
    let found = anchor.map_or_else(|| "none".to_owned(), |anchor| format!("'{anchor}'"));
    let message = format!(
        "An internal server error occurred. The operation failed. ExchangeImpersonation requests must carry the X-AnchorMailbox header naming the impersonated mailbox ({target}); found {found}."
    );
    let mut response = xml(
        StatusCode::INTERNAL_SERVER_ERROR,
        response::fault("ErrorInternalServerError", &message, None),
    );
    response.extensions_mut().insert(JournalNote(format!(
        "500: X-AnchorMailbox {found} for impersonation of {target}"
    )));
    response
}

/// Exchange Online's answer to an app that is not allow-listed once EWS is restricted (2026-10-01).
///
/// ASSUMPTION: Microsoft has not documented the exact response (facts §3.2: unverified). We answer what a
/// careful client survives and can explain: HTTP 403 (authenticated, but this app may not use the service)
/// with a plain-text body naming the cause, no SOAP envelope, and no `WWW-Authenticate` (re-authenticating
/// cannot help). Clients must not depend on the body's wording, only on 403 from Exchange Online.
fn ews_blocked(app_id: Option<&str>) -> Response {
    let app = app_id.unwrap_or("(no application: basic authentication)");
    let body = format!(
        "EWS is not available to application {app} in this organization: Exchange Web Services in Exchange Online is restricted to applications on the organization's allow list (EWSEnabled, EWSAllowedAppIDs)."
    );
    let mut response = (
        StatusCode::FORBIDDEN,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        body,
    )
        .into_response();
    response
        .extensions_mut()
        .insert(JournalNote(format!("403: EWS blocked for {app}")));
    response
}

fn xml(status: StatusCode, body: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/xml; charset=utf-8")],
        body,
    )
        .into_response()
}

/// Why a request is answered with HTTP 401 ([`unauthorized`]).
#[derive(Debug)]
pub(crate) enum Refusal {
    /// Not (or wrongly) authenticated; the reason goes to the journal.
    Reason(String),
    /// NTLM handshake in progress: answer with this CHALLENGE_MESSAGE (base64).
    NtlmChallenge(String),
}

impl From<&str> for Refusal {
    fn from(reason: &str) -> Self {
        Self::Reason(reason.to_owned())
    }
}

/// Checks `Authorization` (NTLM, Basic, Bearer); a refusal is answered with [`unauthorized`].
pub(crate) fn authenticate(
    state: &AppState,
    connection: &Connection,
    headers: &HeaderMap,
) -> Result<Caller, Refusal> {
    let value = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    let (scheme, credentials) = value.split_once(' ').unwrap_or((value, ""));
    if scheme.eq_ignore_ascii_case("ntlm") {
        let Some(peer) = connection.peer else {
            return Err("ntlm needs a connection (no peer address)".into());
        };
        return match connection
            .handshakes
            .handle(state.tenant(), peer, credentials, state.now())
        {
            Outcome::Challenge(challenge) => Err(Refusal::NtlmChallenge(challenge)),
            Outcome::Authenticated(upn) => Ok(Caller::ServiceAccount { upn }),
            Outcome::Refused(reason) => Err(Refusal::Reason(reason)),
        };
    }
    if scheme.eq_ignore_ascii_case("basic") {
        if state.tenant().exchange.basic_auth_disabled {
            return Err("basic authentication is disabled on this server".into());
        }
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(credentials.trim())
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .unwrap_or_default();
        let (user, password) = decoded.split_once(':').unwrap_or_default();
        // DOMAIN\user is accepted like the UPN, as on-premises IIS does.
        let user = user.rsplit('\\').next().unwrap_or(user);
        let upn = if user.contains('@') {
            user.to_owned()
        } else {
            format!("{user}@{}", demo::DOMAIN)
        };
        if let Some(account) = state.tenant().service_account(&upn) {
            if account.password.matches(password) {
                return Ok(Caller::ServiceAccount {
                    upn: account.upn.clone(),
                });
            }
        }
        return Err("invalid user name or password".into());
    }
    if scheme.eq_ignore_ascii_case("bearer") {
        return match state.verify_access_token(credentials, demo::EXCHANGE_RESOURCE) {
            Ok(claims) if claims.is_app_only() => Ok(Caller::App {
                full_access: claims.has_role("full_access_as_app"),
                app_id: claims.appid,
            }),
            Ok(claims) if claims.has_scope("EWS.AccessAsUser.All") => Ok(Caller::User {
                upn: claims.upn.unwrap_or_default(),
                app_id: claims.appid,
            }),
            Ok(_) => Err("the token carries no EWS permission".into()),
            // Safe to put in the journal note: a TokenRejection describes the token (kind, audience)
            // and must never hold the token itself.
            Err(rejection) => Err(Refusal::Reason(rejection.to_string())),
        };
    }
    Err("no credentials".into())
}

/// HTTP 401: the NTLM challenge of a handshake in progress, or every scheme implemented here (NTLM, Basic
/// unless the tenant turned it off, Bearer) as IIS lists them.
pub(crate) fn unauthorized(state: &AppState, refusal: &Refusal) -> Response {
    let reason = match refusal {
        Refusal::Reason(reason) => reason,
        Refusal::NtlmChallenge(challenge) => {
            let mut response = StatusCode::UNAUTHORIZED.into_response();
            if let Ok(value) = HeaderValue::from_str(&format!("NTLM {challenge}")) {
                response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, value);
            }
            response
                .extensions_mut()
                .insert(JournalNote("401: ntlm challenge".into()));
            return response;
        }
    };
    let host = state
        .base_url()
        .host_str()
        .unwrap_or("localhost")
        .to_owned();
    let bearer = format!(
        r#"Bearer client_id="{}", trusted_issuers="00000001-0000-0000-c000-000000000000@*", token_types="app_asserted_user_v1 service_asserted_app_v1", authorization_uri="{}common/oauth2/authorize""#,
        demo::EXCHANGE_RESOURCE_APP_ID,
        state.base_url()
    );
    let mut response = StatusCode::UNAUTHORIZED.into_response();
    let headers = response.headers_mut();
    headers.append(header::WWW_AUTHENTICATE, HeaderValue::from_static("NTLM"));
    if !state.tenant().exchange.basic_auth_disabled {
        if let Ok(value) = HeaderValue::from_str(&format!(r#"Basic realm="{host}""#)) {
            headers.append(header::WWW_AUTHENTICATE, value);
        }
    }
    if let Ok(value) = HeaderValue::from_str(&bearer) {
        headers.append(header::WWW_AUTHENTICATE, value);
    }
    response
        .extensions_mut()
        .insert(JournalNote(format!("401: {reason}")));
    response
}

/// Where an operation acts, after impersonation or delegation.
struct Context {
    mailbox: String,
    calendar_only: bool,
}

/// The rights `caller` has on `mailbox`.
fn rights(state: &AppState, caller: &Caller, mailbox: &str) -> AccessLevel {
    match caller {
        Caller::ServiceAccount { upn } if upn.eq_ignore_ascii_case(mailbox) => AccessLevel::Full,
        Caller::ServiceAccount { upn } => state
            .tenant()
            .service_account(upn)
            .map_or(AccessLevel::None, |account| account.access_to(mailbox)),
        Caller::App {
            full_access: true, ..
        } => AccessLevel::Full,
        Caller::App {
            full_access: false, ..
        } => AccessLevel::None,
        Caller::User { upn, .. } if upn.eq_ignore_ascii_case(mailbox) => AccessLevel::Full,
        Caller::User { .. } => AccessLevel::None,
    }
}

fn answer(state: &AppState, caller: &Caller, request: &SoapRequest) -> String {
    // Impersonation decides the acting mailbox for every operation in the request.
    let impersonated = match (&request.impersonate, request.empty_impersonation) {
        (_, true) => Err(Status::error(
            "ErrorInvalidExchangeImpersonationHeaderData",
            "The impersonation header must name a user.",
        )),
        (Some(target), _) => impersonate(state, caller, target),
        (None, _) => Ok(None),
    };
    match &request.operation {
        Operation::GetFolder { folders } => {
            let answers: Vec<FolderAnswer> = folders
                .iter()
                .map(|(folder, delegate)| {
                    let status = match context(state, caller, &impersonated, delegate.as_deref()) {
                        Ok(context) => folder_access(&context, folder),
                        Err(status) => status,
                    };
                    FolderAnswer {
                        status,
                        id: format!("AAMkSandbox{folder}"),
                        calendar: folder == "calendar",
                    }
                })
                .collect();
            response::get_folder(&answers)
        }
        Operation::FindItem {
            folder,
            mailbox,
            start,
            end,
            max_entries,
        } => {
            let status = match context(state, caller, &impersonated, mailbox.as_deref()) {
                Ok(context) => match folder_access(&context, folder) {
                    Status::Success if folder != "calendar" => Status::error(
                        "ErrorInvalidRequest",
                        "CalendarView can only be used with calendar folders.",
                    ),
                    Status::Success if *end - *start > Duration::days(730) => Status::error(
                        "ErrorCalendarViewRangeTooBig",
                        "The time range for the calendar view is greater than two years.",
                    ),
                    Status::Success => {
                        let items = calendar_items(
                            state,
                            &context.mailbox,
                            *start,
                            *end,
                            max_entries.unwrap_or(usize::MAX),
                        );
                        return response::find_item(&Status::Success, &items);
                    }
                    denied => denied,
                },
                Err(status) => status,
            };
            response::find_item(&status, &[])
        }
        Operation::GetUserAvailability {
            mailboxes,
            start,
            end,
            detailed,
        } => {
            let answers: Vec<AvailabilityAnswer> = mailboxes
                .iter()
                .map(|mailbox| match &impersonated {
                    Err(status) => AvailabilityAnswer {
                        status: status.clone(),
                        view_type: "None",
                        events: Vec::new(),
                    },
                    Ok(acting) => availability(
                        state,
                        caller,
                        acting.as_ref(),
                        mailbox,
                        *start,
                        *end,
                        *detailed,
                    ),
                })
                .collect();
            response::get_user_availability(&answers)
        }
        Operation::ConvertId(request) => operations::convert_id::answer(state, caller, request),
        Operation::GetServerTimeZones(request) => {
            operations::server_time_zones::answer(state, caller, request)
        }
        Operation::ResolveNames(request) => {
            operations::resolve_names::answer(state, caller, request)
        }
    }
}

/// Checks an impersonation header: the target must exist and the caller must hold ApplicationImpersonation on it.
fn impersonate(state: &AppState, caller: &Caller, target: &str) -> Result<Option<Context>, Status> {
    let Some(mailbox) = state.tenant().mailbox(target) else {
        return Err(Status::error(
            "ErrorNonExistentMailbox",
            format!("The SMTP address has no mailbox associated with it: {target}"),
        ));
    };
    match rights(state, caller, &mailbox.smtp) {
        AccessLevel::Full => Ok(Some(Context {
            mailbox: mailbox.smtp.clone(),
            calendar_only: false,
        })),
        AccessLevel::Restricted => Ok(Some(Context {
            mailbox: mailbox.smtp.clone(),
            calendar_only: true,
        })),
        AccessLevel::AvailabilityOnly | AccessLevel::None => Err(Status::error(
            "ErrorImpersonateUserDenied",
            "The account does not have permission to impersonate the requested user.",
        )),
    }
}

/// The acting context of a folder operation: the impersonated mailbox, a delegate `Mailbox`, or the caller's own.
fn context(
    state: &AppState,
    caller: &Caller,
    impersonated: &Result<Option<Context>, Status>,
    delegate: Option<&str>,
) -> Result<Context, Status> {
    match impersonated {
        Err(status) => return Err(status.clone()),
        Ok(Some(context)) if delegate.is_none() => {
            return Ok(Context {
                mailbox: context.mailbox.clone(),
                calendar_only: context.calendar_only,
            })
        }
        Ok(_) => {}
    }
    if let Some(owner) = delegate {
        let Some(mailbox) = state.tenant().mailbox(owner) else {
            return Err(Status::error(
                "ErrorNonExistentMailbox",
                format!("The SMTP address has no mailbox associated with it: {owner}"),
            ));
        };
        // Delegate access rides on folder permissions: Restricted and Full hold Editor on the Calendar.
        return match rights(state, caller, &mailbox.smtp) {
            AccessLevel::Full | AccessLevel::Restricted => Ok(Context {
                mailbox: mailbox.smtp.clone(),
                calendar_only: true,
            }),
            _ => Err(Status::error(
                "ErrorAccessDenied",
                "Access is denied. Check credentials and try again.",
            )),
        };
    }
    match caller {
        Caller::ServiceAccount { upn } | Caller::User { upn, .. } => match state.tenant().mailbox(upn) {
            Some(mailbox) => Ok(Context { mailbox: mailbox.smtp.clone(), calendar_only: false }),
            None => Err(Status::error(
                "ErrorMissingEmailAddress",
                "When making a request as an account that does not have a mailbox, you must specify the mailbox primary SMTP address for any distinguished folder Ids.",
            )),
        },
        Caller::App { .. } => Err(Status::error(
            "ErrorMissingEmailAddress",
            "When making a request as an account that does not have a mailbox, you must specify the mailbox primary SMTP address for any distinguished folder Ids.",
        )),
    }
}

fn folder_access(context: &Context, folder: &str) -> Status {
    const KNOWN: [&str; 6] = [
        "calendar",
        "inbox",
        "msgfolderroot",
        "contacts",
        "tasks",
        "sentitems",
    ];
    if !KNOWN.contains(&folder) {
        return Status::error(
            "ErrorFolderNotFound",
            "The specified folder could not be found in the store.",
        );
    }
    if context.calendar_only && folder != "calendar" {
        return Status::error(
            "ErrorAccessDenied",
            "Access is denied. Check credentials and try again.",
        );
    }
    Status::Success
}

fn legacy_free_busy(show_as: ShowAs) -> &'static str {
    match show_as {
        ShowAs::Free => "Free",
        ShowAs::Tentative => "Tentative",
        ShowAs::Busy => "Busy",
        ShowAs::Oof => "OOF",
        ShowAs::WorkingElsewhere => "WorkingElsewhere",
        ShowAs::Unknown => "NoData",
    }
}

fn calendar_items(
    state: &AppState,
    mailbox: &str,
    start: chrono::DateTime<chrono::Utc>,
    end: chrono::DateTime<chrono::Utc>,
    max: usize,
) -> Vec<ItemAnswer> {
    let Some(calendar) = state
        .tenant()
        .mailbox_owner(mailbox)
        .and_then(|owner| owner.default_calendar())
    else {
        return Vec::new();
    };
    calendar
        .view(start, end)
        .into_iter()
        .take(max)
        .map(|occurrence| ItemAnswer {
            id: occurrence.id.clone(),
            start: occurrence.start,
            end: occurrence.end,
            free_busy: legacy_free_busy(occurrence.event.show_as),
        })
        .collect()
}

fn availability(
    state: &AppState,
    caller: &Caller,
    acting: Option<&Context>,
    mailbox: &str,
    start: chrono::DateTime<chrono::Utc>,
    end: chrono::DateTime<chrono::Utc>,
    detailed: bool,
) -> AvailabilityAnswer {
    let denied = |status: Status| AvailabilityAnswer {
        status,
        view_type: "None",
        events: Vec::new(),
    };
    let Some(target) = state.tenant().mailbox(mailbox) else {
        return denied(Status::error(
            "ErrorMailRecipientNotFound",
            format!("Unable to resolve e-mail address {mailbox} to an Active Directory object."),
        ));
    };
    if end - start > Duration::days(42) {
        return denied(Status::error(
            "ErrorInvalidRequest",
            "The time window exceeds the allowed 42 days.",
        ));
    }
    let level = match acting {
        Some(context) if context.mailbox.eq_ignore_ascii_case(&target.smtp) => AccessLevel::Full,
        _ => rights(state, caller, &target.smtp),
    };
    // "Detailed returns the maximum the requester is privileged to see": AvailabilityOnly is times only.
    let show_details = detailed && matches!(level, AccessLevel::Full | AccessLevel::Restricted);
    if level == AccessLevel::None {
        return denied(Status::error("ErrorNoFreeBusyAccess", "The requester does not have permission to view free/busy information for this mailbox."));
    }
    let events = state
        .tenant()
        .mailbox_owner(&target.smtp)
        .and_then(|owner| owner.default_calendar())
        .map(|calendar| {
            calendar
                .view(start, end)
                .into_iter()
                .filter(|occurrence| occurrence.event.show_as != ShowAs::Free)
                .map(|occurrence| BusyAnswer {
                    start: occurrence.start,
                    end: occurrence.end,
                    busy_type: legacy_free_busy(occurrence.event.show_as),
                    details: show_details.then(|| {
                        (
                            occurrence.event.subject.clone(),
                            occurrence.event.location.clone(),
                            occurrence.event.sensitivity.hides_details(),
                            occurrence.is_occurrence,
                        )
                    }),
                })
                .collect()
        })
        .unwrap_or_default();
    AvailabilityAnswer {
        status: Status::Success,
        view_type: if show_details { "Detailed" } else { "FreeBusy" },
        events,
    }
}
