//! Exchange Web Services (`/EWS/Exchange.asmx`): SOAP 1.1 over the authentication methods the tenant's
//! virtual directory offers ([`auth`]), the organisation's EWS access controls ([`policy`]),
//! `ExchangeImpersonation` with its `X-AnchorMailbox` routing header, and every operation answered from
//! Exchange's own primitives ([`access`]): role assignments, management scopes and folder permissions.
//!
//! Operations: `GetFolder` ([`folders`]), `FindItem` and `GetItem` ([`items`]), `GetUserAvailability`
//! ([`availability`]). Responses carry the deployment's `ServerVersionInfo` and validate against
//! `messages.xsd`.

pub(crate) mod access;
pub(crate) mod auth;
pub(crate) mod availability;
pub(crate) mod connection;
pub(crate) mod folders;
pub mod ids;
pub(crate) mod items;
pub(crate) mod ntlm;
pub(crate) mod operations;
pub(crate) mod policy;
pub(crate) mod request;
pub(crate) mod response;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;

use crate::journal::JournalNote;
use crate::state::AppState;
use access::{Acting, Caller, ImpersonationRefusal};
pub(crate) use auth::{authenticate, unauthorized};
pub(crate) use connection::Connection;
pub use connection::ConnectionKey;
use ntlm::NtlmHandshakes;
use request::{Malformed, Operation, SoapRequest};

/// EWS routes.
pub fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/EWS/Exchange.asmx", post(soap).get(service_page))
        .route("/ews/exchange.asmx", post(soap).get(service_page))
        .layer(axum::Extension(NtlmHandshakes::default()))
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
    let user_agent = headers
        .get(header::USER_AGENT)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    if let Err(blocked) = policy::admits(state.tenant(), &caller, user_agent, state.now()) {
        return policy::forbidden(&blocked);
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
            response::busy_response_message(&state, request.operation.name(), back_off),
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
    let acting = match acting(&state, &caller, &request) {
        Ok(acting) => acting,
        Err(response) => return *response,
    };
    let body = match answer(&state, &acting, &request) {
        Ok(body) => body,
        Err(fault) => {
            return xml(
                StatusCode::INTERNAL_SERVER_ERROR,
                response::fault(fault.code, &fault.message, None),
            )
        }
    };
    let mut response = xml(StatusCode::OK, response::envelope(&state, &body));
    if let Some(anchor) = anchor {
        response
            .extensions_mut()
            .insert(JournalNote(format!("X-AnchorMailbox {anchor}")));
    }
    response
}

/// Whom the request acts as, or the fault Exchange answers a refused impersonation header with.
fn acting(
    state: &AppState,
    caller: &Caller,
    request: &SoapRequest,
) -> Result<Acting, Box<Response>> {
    let fault = |code: &str, message: &str| -> Box<Response> {
        let mut response = xml(
            StatusCode::INTERNAL_SERVER_ERROR,
            response::fault(code, message, None),
        );
        response
            .extensions_mut()
            .insert(JournalNote(format!("500: {code}")));
        Box::new(response)
    };
    if request.empty_impersonation {
        return Err(fault(
            "ErrorInvalidExchangeImpersonationHeaderData",
            "The impersonation header must name a user.",
        ));
    }
    let Some(target) = &request.impersonate else {
        // Facts §0 (OfficeDev/ews-managed-api#245, ecederstrand/exchangelib#735).
        return access::without_impersonation(caller).ok_or_else(|| {
            fault(
                "ErrorInvalidExchangeImpersonationHeaderData",
                "ExchangeImpersonation SOAP header must be present for this type of OAuth token.",
            )
        });
    };
    access::impersonate(state.tenant(), caller, target).map_err(|refusal| match refusal {
        ImpersonationRefusal::NoMailbox(target) => fault(
            "ErrorNonExistentMailbox",
            &format!("The SMTP address has no mailbox associated with it: {target}"),
        ),
        // "ErrorImpersonateUserDenied" as an HTTP 500 fault (OfficeDev/ews-managed-api#223).
        ImpersonationRefusal::Denied => fault(
            "ErrorImpersonateUserDenied",
            "The account does not have permission to impersonate the requested user.",
        ),
        ImpersonationRefusal::AppOutOfScope => Box::new(policy::forbidden(&format!(
            "the application has no access to mailbox {target} (RBAC for Applications scope)"
        ))),
    })
}

/// Dispatches an operation; each module answers from what `acting` may do. `Err` is a request-level
/// error, sent as a SOAP fault.
fn answer(
    state: &AppState,
    acting: &Acting,
    request: &SoapRequest,
) -> Result<String, response::RequestFault> {
    Ok(match &request.operation {
        Operation::GetFolder { folders, shape } => {
            folders::get_folder(state.tenant(), acting, folders, shape)
        }
        Operation::FindItem {
            parent,
            view,
            shape,
        } => items::find_item(state.tenant(), acting, parent, view, shape),
        Operation::GetItem { ids, shape } => items::get_item(state.tenant(), acting, ids, shape),
        Operation::GetUserAvailability {
            mailboxes,
            start,
            end,
            view,
            interval_minutes,
        } => availability::get_user_availability(
            state,
            acting,
            &availability::Query {
                mailboxes,
                start: *start,
                end: *end,
                view: *view,
                interval_minutes: *interval_minutes,
            },
        )?,
        Operation::ConvertId(request) => operations::convert_id::answer(state, acting, request),
        Operation::GetServerTimeZones(request) => {
            operations::server_time_zones::answer(state, acting, request)
        }
        Operation::ResolveNames(request) => {
            operations::resolve_names::answer(state, acting, request)
        }
    })
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

pub(crate) fn xml(status: StatusCode, body: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/xml; charset=utf-8")],
        body,
    )
        .into_response()
}
