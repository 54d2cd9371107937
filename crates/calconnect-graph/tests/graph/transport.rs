//! Paging, windows, throttling, 401 refresh and URL safety, against the scripted double.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use calconnect_graph::{BusyBlock, BusyStatus, Error, GraphClient, MAX_THROTTLE_RETRIES};
use chrono::{DateTime, NaiveDateTime, TimeDelta, TimeZone, Utc};
use serde_json::json;

use crate::double::{Double, Failure};
use crate::{FixedToken, RecordingSleeper, RecordingTokens, FRESH_TOKEN, STALE_TOKEN};

const TOKEN: &str = "the-token";

fn client(double: &Double, sleeper: &Arc<RecordingSleeper>) -> GraphClient {
    GraphClient::new(double.base.clone(), reqwest::Client::new()).with_sleeper(sleeper.clone())
}

fn parse_graph_time(text: &str) -> DateTime<Utc> {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S")
        .unwrap()
        .and_utc()
}

#[tokio::test]
async fn calendars_follow_every_next_link_verbatim_until_it_is_absent() {
    let double = Double::start(TOKEN).await;
    double.inner.calendar_pages.store(3, Ordering::SeqCst);
    let sleeper = Arc::new(RecordingSleeper::default());

    let calendars = client(&double, &sleeper)
        .calendars(&FixedToken(TOKEN))
        .await
        .unwrap();

    let ids: Vec<&str> = calendars
        .iter()
        .map(|calendar| calendar.id.as_str())
        .collect();
    assert_eq!(
        ids,
        ["cal-0-0", "cal-0-1", "cal-1-0", "cal-1-1", "cal-2-0", "cal-2-1"]
    );
    assert!(calendars[0].is_default && !calendars[1].is_default);
    let uris: Vec<String> = double.seen().into_iter().map(|seen| seen.uri).collect();
    assert_eq!(
        uris,
        [
            "/v1.0/me/calendars?%24top=100",
            "/v1.0/me/calendars?%24skiptoken=opaque%2F1&page=1",
            "/v1.0/me/calendars?%24skiptoken=opaque%2F2&page=2",
        ],
        "the first page asks for 100, and each nextLink is requested exactly as given"
    );
}

#[tokio::test]
async fn a_next_link_to_another_origin_is_refused_without_sending_the_token() {
    let double = Double::start(TOKEN).await;
    double.inner.calendar_pages.store(2, Ordering::SeqCst);
    *double.inner.next_link_override.lock().unwrap() =
        Some("https://attacker.example/v1.0/me/calendars?page=1".into());
    let sleeper = Arc::new(RecordingSleeper::default());

    let error = client(&double, &sleeper)
        .calendars(&FixedToken(TOKEN))
        .await
        .unwrap_err();

    assert!(matches!(error, Error::UnsafeUrl { .. }), "{error}");
    assert_eq!(double.seen().len(), 1);
}

#[tokio::test]
async fn plain_http_to_a_non_loopback_host_is_refused_before_any_request() {
    let sleeper = Arc::new(RecordingSleeper::default());
    let graph = GraphClient::new(
        "http://graph.example.com/v1.0/".parse().unwrap(),
        reqwest::Client::new(),
    )
    .with_sleeper(sleeper);
    let error = graph.me(&FixedToken(TOKEN)).await.unwrap_err();
    assert!(matches!(error, Error::UnsafeUrl { .. }), "{error}");
}

#[tokio::test]
async fn me_reads_the_user_and_falls_back_to_the_principal_name_for_mail() {
    let double = Double::start(TOKEN).await;
    let sleeper = Arc::new(RecordingSleeper::default());
    let user = client(&double, &sleeper)
        .me(&FixedToken(TOKEN))
        .await
        .unwrap();
    assert_eq!(user.mail, "adele@contoso.com");
    assert_eq!(user.display_name.as_deref(), Some("Adele Vance"));
    assert_eq!(double.seen()[0].bearer.as_deref(), Some(TOKEN));
}

#[tokio::test]
async fn throttling_honours_retry_after_through_the_sleeper_then_succeeds() {
    let double = Double::start(TOKEN).await;
    double.fail_next(
        Failure {
            status: 429,
            retry_after: Some("7"),
            code: "TooManyRequests",
        },
        2,
    );
    let sleeper = Arc::new(RecordingSleeper::default());

    let user = client(&double, &sleeper)
        .me(&FixedToken(TOKEN))
        .await
        .unwrap();

    assert_eq!(user.id, "user-1");
    assert_eq!(*sleeper.waits.lock().unwrap(), [Duration::from_secs(7); 2]);
    assert_eq!(double.seen().len(), 3);
}

#[tokio::test]
async fn persistent_throttling_gives_up_after_the_bounded_retries() {
    let double = Double::start(TOKEN).await;
    double.fail_next(
        Failure {
            status: 503,
            retry_after: Some("3"),
            code: "ServiceUnavailable",
        },
        10,
    );
    let sleeper = Arc::new(RecordingSleeper::default());

    let error = client(&double, &sleeper)
        .me(&FixedToken(TOKEN))
        .await
        .unwrap_err();

    assert!(
        matches!(error, Error::Throttled { retry_after: Some(wait) } if wait == Duration::from_secs(3)),
        "{error:?}"
    );
    assert_eq!(
        sleeper.waits.lock().unwrap().len(),
        MAX_THROTTLE_RETRIES as usize
    );
    assert_eq!(double.seen().len(), MAX_THROTTLE_RETRIES as usize + 1);
}

#[tokio::test]
async fn throttling_without_retry_after_backs_off_exponentially() {
    let double = Double::start(TOKEN).await;
    double.fail_next(
        Failure {
            status: 429,
            retry_after: None,
            code: "TooManyRequests",
        },
        2,
    );
    let sleeper = Arc::new(RecordingSleeper::default());
    client(&double, &sleeper)
        .me(&FixedToken(TOKEN))
        .await
        .unwrap();
    assert_eq!(
        *sleeper.waits.lock().unwrap(),
        [Duration::from_secs(2), Duration::from_secs(4)]
    );
}

#[tokio::test]
async fn a_401_refreshes_the_token_once_and_retries_with_the_new_one() {
    let double = Double::start(FRESH_TOKEN).await;
    let tokens = RecordingTokens::default();
    let sleeper = Arc::new(RecordingSleeper::default());

    let user = client(&double, &sleeper).me(&tokens).await.unwrap();

    assert_eq!(user.id, "user-1");
    assert_eq!(*tokens.calls.lock().unwrap(), [false, true]);
    let bearers: Vec<Option<String>> = double.seen().into_iter().map(|seen| seen.bearer).collect();
    assert_eq!(
        bearers,
        [Some(STALE_TOKEN.into()), Some(FRESH_TOKEN.into())]
    );
}

#[tokio::test]
async fn throttling_after_a_refresh_retries_with_the_refreshed_token_without_refreshing_again() {
    let double = Double::start(FRESH_TOKEN).await;
    // Played only once the fresh token is accepted: the stale one gets its 401 first.
    double.fail_next(
        Failure {
            status: 429,
            retry_after: Some("1"),
            code: "TooManyRequests",
        },
        1,
    );
    let tokens = RecordingTokens::default();
    let sleeper = Arc::new(RecordingSleeper::default());

    let user = client(&double, &sleeper).me(&tokens).await.unwrap();

    assert_eq!(user.id, "user-1");
    assert_eq!(
        *tokens.calls.lock().unwrap(),
        [false, true, false],
        "the refresh token is redeemed once, not again on the throttled retry"
    );
    assert_eq!(*sleeper.waits.lock().unwrap(), [Duration::from_secs(1)]);
}

#[tokio::test]
async fn a_second_401_after_refreshing_is_unauthorized() {
    let double = Double::start("a-token-nobody-has").await;
    let tokens = RecordingTokens::default();
    let sleeper = Arc::new(RecordingSleeper::default());

    let error = client(&double, &sleeper).me(&tokens).await.unwrap_err();

    assert!(
        matches!(&error, Error::Unauthorized { message } if message == "Access token has expired or is not yet valid."),
        "{error:?}"
    );
    assert_eq!(
        *tokens.calls.lock().unwrap(),
        [false, true],
        "one refresh only"
    );
    assert!(!error.to_string().contains(FRESH_TOKEN));
}

#[tokio::test]
async fn a_403_is_access_denied_with_graphs_code_and_other_errors_keep_the_request_id() {
    let double = Double::start(TOKEN).await;
    double.fail_next(
        Failure {
            status: 403,
            retry_after: None,
            code: "ErrorAccessDenied",
        },
        1,
    );
    double.fail_next(
        Failure {
            status: 500,
            retry_after: None,
            code: "generalException",
        },
        1,
    );
    let sleeper = Arc::new(RecordingSleeper::default());
    let graph = client(&double, &sleeper);

    let denied = graph.calendars(&FixedToken(TOKEN)).await.unwrap_err();
    assert!(
        matches!(&denied, Error::AccessDenied { code, .. } if code == "ErrorAccessDenied"),
        "{denied:?}"
    );
    let failed = graph.me(&FixedToken(TOKEN)).await.unwrap_err();
    assert!(
        matches!(&failed, Error::Api { status: 500, code, request_id: Some(id), .. } if code == "generalException" && id == "req-1"),
        "{failed:?}"
    );
}

#[tokio::test]
async fn a_year_of_free_busy_is_fetched_in_windows_below_62_days_at_most_four_at_a_time() {
    let double = Double::start(TOKEN).await;
    *double.inner.schedule_delay.lock().unwrap() = Duration::from_millis(150);
    let start = Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap();
    let end = start + TimeDelta::days(365);
    let boundary = start + TimeDelta::days(61);
    // Each window reports a one-hour meeting at its start, a free slot, and an all-day event crossing the
    // first window boundary (so both first windows return it).
    *double.inner.schedule.lock().unwrap() = Some(Box::new(
        move |window_start: &str, _end: &str| {
            let window_start = parse_graph_time(window_start);
            let format =
                |instant: DateTime<Utc>| instant.format("%Y-%m-%dT%H:%M:%S.0000000").to_string();
            let item = |status: &str, from: DateTime<Utc>, to: DateTime<Utc>| {
                json!({"status": status, "subject": "Private stuff", "isPrivate": true,
                   "start": {"dateTime": format(from), "timeZone": "UTC"},
                   "end": {"dateTime": format(to), "timeZone": "UTC"}})
            };
            let mut items = vec![
                item(
                    "Busy",
                    window_start + TimeDelta::hours(9),
                    window_start + TimeDelta::hours(10),
                ),
                item(
                    "free",
                    window_start + TimeDelta::hours(11),
                    window_start + TimeDelta::hours(12),
                ),
            ];
            if window_start <= boundary && boundary < window_start + TimeDelta::days(62) {
                items.push(item(
                    "oof",
                    boundary - TimeDelta::hours(12),
                    boundary + TimeDelta::hours(12),
                ));
            }
            json!({"value": [{"scheduleId": "adele@contoso.com", "availabilityView": "0", "scheduleItems": items}]})
        },
    ));
    let sleeper = Arc::new(RecordingSleeper::default());

    let blocks = client(&double, &sleeper)
        .free_busy(&FixedToken(TOKEN), "adele@contoso.com", start, end)
        .await
        .unwrap();

    // Windows: contiguous, each < 62 days, covering the range, with the UTC preference header semantics.
    let mut windows: Vec<(DateTime<Utc>, DateTime<Utc>)> = double
        .seen()
        .iter()
        .map(|seen| {
            assert_eq!(seen.method, axum::http::Method::POST);
            assert!(seen.uri.ends_with("/me/calendar/getSchedule"));
            let body = seen.body.as_ref().unwrap();
            assert_eq!(body["schedules"], json!(["adele@contoso.com"]));
            assert_eq!(body["startTime"]["timeZone"], "UTC");
            (
                parse_graph_time(body["startTime"]["dateTime"].as_str().unwrap()),
                parse_graph_time(body["endTime"]["dateTime"].as_str().unwrap()),
            )
        })
        .collect();
    windows.sort();
    assert_eq!(windows.len(), 6);
    assert_eq!(windows.first().unwrap().0, start);
    assert_eq!(windows.last().unwrap().1, end);
    for pair in windows.windows(2) {
        assert_eq!(pair[0].1, pair[1].0);
    }
    for (window_start, window_end) in &windows {
        assert!(*window_end - *window_start < TimeDelta::days(62));
    }
    let max_in_flight = double.inner.max_in_flight.load(Ordering::SeqCst);
    assert!(
        max_in_flight <= 4,
        "at most 4 in flight, saw {max_in_flight}"
    );
    assert!(
        max_in_flight >= 2,
        "windows are fetched concurrently, saw {max_in_flight}"
    );

    // Results: sorted, free dropped, the boundary-crossing event once.
    let mut expected: Vec<BusyBlock> = windows
        .iter()
        .map(|(window_start, _)| BusyBlock {
            start: *window_start + TimeDelta::hours(9),
            end: *window_start + TimeDelta::hours(10),
            status: BusyStatus::Busy,
        })
        .collect();
    expected.push(BusyBlock {
        start: boundary - TimeDelta::hours(12),
        end: boundary + TimeDelta::hours(12),
        status: BusyStatus::Oof,
    });
    expected.sort();
    assert_eq!(blocks, expected);
}

#[tokio::test]
async fn a_schedule_level_error_becomes_an_error() {
    let double = Double::start(TOKEN).await;
    *double.inner.schedule.lock().unwrap() = Some(Box::new(|_: &str, _: &str| {
        json!({"value": [{"scheduleId": "nobody@contoso.com", "availabilityView": "",
            "error": {"message": "Failed to resolve the recipient", "responseCode": "ErrorMailRecipientNotFound"}}]})
    }));
    let sleeper = Arc::new(RecordingSleeper::default());
    let start = Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap();

    let error = client(&double, &sleeper)
        .free_busy(
            &FixedToken(TOKEN),
            "nobody@contoso.com",
            start,
            start + TimeDelta::days(7),
        )
        .await
        .unwrap_err();

    assert!(
        matches!(&error, Error::Schedule { response_code, .. } if response_code == "ErrorMailRecipientNotFound"),
        "{error:?}"
    );
}

#[tokio::test]
async fn an_online_meeting_returns_its_join_link() {
    let double = Double::start(TOKEN).await;
    let sleeper = Arc::new(RecordingSleeper::default());
    let start = Utc.with_ymd_and_hms(2025, 1, 1, 9, 0, 0).unwrap();
    let meeting = client(&double, &sleeper)
        .create_online_meeting(
            &FixedToken(TOKEN),
            "calconnect check",
            start,
            start + TimeDelta::minutes(30),
        )
        .await
        .unwrap();
    assert_eq!(
        meeting.join_web_url,
        "https://teams.microsoft.com/l/meetup-join/abc"
    );
    let body = double.seen()[0].body.clone().unwrap();
    assert_eq!(body["startDateTime"], "2025-01-01T09:00:00Z");
    assert_eq!(body["subject"], "calconnect check");
}
