//! A scripted Graph double on axum, bound to 127.0.0.1:0.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{OriginalUri, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

/// A request as the double saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: Method,
    pub uri: String,
    pub bearer: Option<String>,
    pub body: Option<Value>,
}

/// A canned failure answered before the normal handler runs.
#[derive(Debug, Clone)]
pub struct Failure {
    pub status: u16,
    pub retry_after: Option<&'static str>,
    pub code: &'static str,
}

#[derive(Default)]
pub struct Inner {
    pub seen: Mutex<Vec<Seen>>,
    pub failures: Mutex<VecDeque<Failure>>,
    pub accepted_token: Mutex<String>,
    pub in_flight: AtomicUsize,
    pub max_in_flight: AtomicUsize,
    pub base: Mutex<String>,
    pub calendar_pages: AtomicUsize,
    /// Answer of getSchedule for a window, given (start, end) as sent.
    #[allow(clippy::type_complexity)]
    pub schedule: Mutex<Option<Box<dyn Fn(&str, &str) -> Value + Send>>>,
    pub schedule_delay: Mutex<Duration>,
    pub next_link_override: Mutex<Option<String>>,
}

#[derive(Clone)]
pub struct Double {
    pub inner: Arc<Inner>,
    pub base: url::Url,
}

impl Double {
    pub async fn start(accepted_token: &str) -> Double {
        let inner = Arc::new(Inner::default());
        *inner.accepted_token.lock().unwrap() = accepted_token.to_owned();
        let app = Router::new()
            .route("/v1.0/me", get(me))
            .route("/v1.0/me/calendars", get(calendars))
            .route("/v1.0/me/calendar/getSchedule", post(get_schedule))
            .route("/v1.0/me/onlineMeetings", post(online_meeting))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        let base = url::Url::parse(&format!("http://{address}/v1.0/")).unwrap();
        *inner.base.lock().unwrap() = base.to_string();
        Double { inner, base }
    }

    pub fn fail_next(&self, failure: Failure, times: usize) {
        let mut failures = self.inner.failures.lock().unwrap();
        for _ in 0..times {
            failures.push_back(failure.clone());
        }
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.inner.seen.lock().unwrap().clone()
    }
}

fn graph_error(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        Json(json!({"error": {"code": code, "message": message,
            "innerError": {"date": "2025-01-01T00:00:00", "request-id": "req-1", "client-request-id": "req-1"}}})),
    )
        .into_response()
}

/// Records the request, checks the bearer token, and plays queued failures.
fn gate(
    inner: &Inner,
    method: Method,
    uri: &OriginalUri,
    headers: &HeaderMap,
    body: Option<Value>,
) -> Option<Response> {
    let bearer = headers
        .get("authorization")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(str::to_owned);
    inner.seen.lock().unwrap().push(Seen {
        method,
        uri: uri.0.to_string(),
        bearer: bearer.clone(),
        body,
    });
    if bearer.as_deref() != Some(inner.accepted_token.lock().unwrap().as_str()) {
        return Some(graph_error(
            StatusCode::UNAUTHORIZED,
            "InvalidAuthenticationToken",
            "Access token has expired or is not yet valid.",
        ));
    }
    let failure = inner.failures.lock().unwrap().pop_front()?;
    let mut response = graph_error(
        StatusCode::from_u16(failure.status).unwrap(),
        failure.code,
        "scripted failure",
    );
    if let Some(retry_after) = failure.retry_after {
        response
            .headers_mut()
            .insert("retry-after", retry_after.parse().unwrap());
    }
    Some(response)
}

async fn me(State(inner): State<Arc<Inner>>, uri: OriginalUri, headers: HeaderMap) -> Response {
    if let Some(response) = gate(&inner, Method::GET, &uri, &headers, None) {
        return response;
    }
    Json(json!({"id": "user-1", "displayName": "Adele Vance", "mail": null, "userPrincipalName": "adele@contoso.com"}))
        .into_response()
}

/// `calendar_pages` pages of two calendars each; nextLinks are absolute and carry an opaque token plus an
/// extra parameter, so a client that rebuilds the URL from `$skiptoken` is caught.
async fn calendars(
    State(inner): State<Arc<Inner>>,
    uri: OriginalUri,
    headers: HeaderMap,
) -> Response {
    if let Some(response) = gate(&inner, Method::GET, &uri, &headers, None) {
        return response;
    }
    let page: usize = uri
        .0
        .query()
        .and_then(|query| query.split('&').find_map(|pair| pair.strip_prefix("page=")))
        .and_then(|page| page.parse().ok())
        .unwrap_or(0);
    let pages = inner.calendar_pages.load(Ordering::SeqCst).max(1);
    let value: Vec<Value> = (0..2)
        .map(|index| {
            json!({"id": format!("cal-{page}-{index}"), "name": format!("Calendar {page}.{index}"),
                   "color": "lightBlue", "isDefaultCalendar": page == 0 && index == 0, "canEdit": true})
        })
        .collect();
    let mut body = json!({"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#me/calendars", "value": value});
    if page + 1 < pages {
        let link = inner
            .next_link_override
            .lock()
            .unwrap()
            .clone()
            .unwrap_or_else(|| {
                format!(
                    "{}me/calendars?%24skiptoken=opaque%2F{}&page={}",
                    inner.base.lock().unwrap(),
                    page + 1,
                    page + 1
                )
            });
        body["@odata.nextLink"] = Value::String(link);
    }
    Json(body).into_response()
}

async fn get_schedule(
    State(inner): State<Arc<Inner>>,
    uri: OriginalUri,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if let Some(response) = gate(&inner, Method::POST, &uri, &headers, Some(body.clone())) {
        return response;
    }
    let now = inner.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    inner.max_in_flight.fetch_max(now, Ordering::SeqCst);
    let delay = *inner.schedule_delay.lock().unwrap();
    tokio::time::sleep(delay).await;
    inner.in_flight.fetch_sub(1, Ordering::SeqCst);
    let start = body["startTime"]["dateTime"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let end = body["endTime"]["dateTime"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let answer = inner
        .schedule
        .lock()
        .unwrap()
        .as_ref()
        .map(|answer| answer(&start, &end))
        .unwrap_or_else(
            || json!({"value": [{"scheduleId": body["schedules"][0], "scheduleItems": []}]}),
        );
    Json(answer).into_response()
}

async fn online_meeting(
    State(inner): State<Arc<Inner>>,
    uri: OriginalUri,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if let Some(response) = gate(&inner, Method::POST, &uri, &headers, Some(body)) {
        return response;
    }
    (
        StatusCode::CREATED,
        Json(
            json!({"id": "meeting-1", "joinWebUrl": "https://teams.microsoft.com/l/meetup-join/abc",
                    "subject": "check"}),
        ),
    )
        .into_response()
}
