//! Autodiscover: POX (`POST /autodiscover/autodiscover.xml`, authenticated like EWS; "POX Autodiscover
//! request/response for Exchange"), the unauthenticated `GET` that answers with a redirect (Outlook's HTTP
//! redirect method), Autodiscover v2 JSON (`GET /autodiscover/autodiscover.json/v1.0/{email}?Protocol=EWS`)
//! and SOAP Autodiscover (`POST /autodiscover/autodiscover.svc`, [`soap`]).

mod soap;

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use quick_xml::escape::escape;
use serde::Deserialize;

use crate::state::AppState;

const RESPONSE_NS: &str = "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006";
const OUTLOOK_RESPONSE_NS: &str =
    "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a";

/// Autodiscover routes.
pub fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route(
            "/autodiscover/autodiscover.xml",
            get(redirect_probe).post(pox),
        )
        .route(
            "/Autodiscover/Autodiscover.xml",
            get(redirect_probe).post(pox),
        )
        .route("/autodiscover/autodiscover.json/v1.0/{email}", get(json))
        .merge(soap::routes())
        .layer(axum::Extension(crate::ews::ntlm::NtlmHandshakes::default()))
}

/// Outlook's HTTP redirect method: an unauthenticated GET is sent to the https POX endpoint.
async fn redirect_probe(State(state): State<AppState>) -> Response {
    let location = state.url("autodiscover/autodiscover.xml").to_string();
    (StatusCode::FOUND, [(header::LOCATION, location)]).into_response()
}

async fn pox(
    State(state): State<AppState>,
    connection: crate::ews::Connection,
    headers: HeaderMap,
    body: String,
) -> Response {
    if let Err(refusal) = crate::ews::authenticate(&state, &connection, &headers) {
        return crate::ews::unauthorized(&state, &refusal);
    }
    let email = crate::ews::request::parse(&body)
        .ok()
        .and_then(|root| {
            root.descendant("EMailAddress")
                .map(|node| node.text.trim().to_owned())
        })
        .filter(|email| !email.is_empty());
    let Some(email) = email else {
        return pox_error(600, "Invalid Request");
    };
    let Some(user) = state.tenant().mailbox_owner(&email) else {
        return pox_error(500, "The e-mail address cannot be found.");
    };
    let ews_url = state.url("EWS/Exchange.asmx");
    let host = ews_url.host_str().unwrap_or("localhost").to_owned();
    let document = format!(
        r#"<?xml version="1.0" encoding="utf-8"?><Autodiscover xmlns="{RESPONSE_NS}"><Response xmlns="{OUTLOOK_RESPONSE_NS}"><User><DisplayName>{name}</DisplayName><LegacyDN>/o=ExchangeLabs/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn={id}</LegacyDN><AutoDiscoverSMTPAddress>{email}</AutoDiscoverSMTPAddress><DeploymentId>{tenant}</DeploymentId></User><Account><AccountType>email</AccountType><Action>settings</Action><MicrosoftOnline>False</MicrosoftOnline><Protocol><Type>EXCH</Type><Server>{host}</Server><EwsUrl>{ews}</EwsUrl></Protocol><Protocol><Type>EXPR</Type><Server>{host}</Server><SSL>On</SSL><EwsUrl>{ews}</EwsUrl></Protocol></Account></Response></Autodiscover>"#,
        name = escape(user.display_name.as_str()),
        id = user.id,
        email = escape(user.email()),
        tenant = state.tenant().id,
        ews = escape(ews_url.as_str()),
    );
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/xml; charset=utf-8")],
        document,
    )
        .into_response()
}

/// POX errors are HTTP 200 with an `Error` element (codes 500 "not found", 600 "invalid request").
fn pox_error(code: u16, message: &str) -> Response {
    let document = format!(
        r#"<?xml version="1.0" encoding="utf-8"?><Autodiscover xmlns="{RESPONSE_NS}"><Response><Error Time="00:00:00.0000000" Id="2477272013"><ErrorCode>{code}</ErrorCode><Message>{message}</Message><DebugData /></Error></Response></Autodiscover>"#
    );
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/xml; charset=utf-8")],
        document,
    )
        .into_response()
}

#[derive(Debug, Deserialize)]
struct JsonQuery {
    #[serde(rename = "Protocol", alias = "protocol")]
    protocol: Option<String>,
}

async fn json(
    State(state): State<AppState>,
    Path(email): Path<String>,
    Query(query): Query<JsonQuery>,
) -> Response {
    let protocol = query.protocol.unwrap_or_default();
    let url = match protocol.to_ascii_lowercase().as_str() {
        "ews" => state.url("EWS/Exchange.asmx"),
        "autodiscoverv1" => state.url("autodiscover/autodiscover.xml"),
        _ => {
            let body = serde_json::json!({"ErrorCode": "ProtocolNotSupported", "ErrorMessage": format!("The given protocol value '{protocol}' is invalid. Supported values are 'EWS,AutodiscoverV1'")});
            return (StatusCode::BAD_REQUEST, axum::Json(body)).into_response();
        }
    };
    if state.tenant().mailbox(&email).is_none() {
        let body = serde_json::json!({"ErrorCode": "UserNotFound", "ErrorMessage": "The given user is not found"});
        return (StatusCode::NOT_FOUND, axum::Json(body)).into_response();
    }
    axum::Json(serde_json::json!({"Protocol": if protocol.eq_ignore_ascii_case("ews") { "EWS" } else { "AutodiscoverV1" }, "Url": url.as_str()}))
        .into_response()
}
