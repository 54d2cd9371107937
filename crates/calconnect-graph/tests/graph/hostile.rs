//! The Graph client against hostile servers on loopback: an endless or oversized page ends in an error
//! at the cap, a collection whose `@odata.nextLink` never ends or comes back to a page already read
//! ends in an error, as does one with more items than any directory, deep JSON is an error, and escape
//! sequences in Graph's text never reach what calconnect prints.

use std::future::Future;
use std::time::Duration;

use calconnect_graph::{Error, GraphClient};

use crate::FixedToken;
use calconnect_hostile_server::{serve, Answer, Hostile};

/// The Graph crate's page cap (`calconnect_graph::MAX_PAGE_BYTES`).
const CAP: usize = 16 * 1024 * 1024;

/// The Graph crate's page limit (`calconnect_graph::MAX_PAGES`).
const PAGES: usize = 1_000;

/// Each test's bound: a client without the limit would still be reading (or paging) then.
const GUARD: Duration = Duration::from_secs(30);

const TOKEN: FixedToken = FixedToken("the-token");

async fn guarded<T>(future: impl Future<Output = T>) -> T {
    tokio::time::timeout(GUARD, future)
        .await
        .expect("the client gave up on the hostile server in time")
}

fn graph(hostile: &Hostile) -> GraphClient {
    GraphClient::new(hostile.url("v1.0/"), reqwest::Client::new())
}

/// A page of one calendar whose `nextLink` asks for `query` (path-absolute: the client resolves it against
/// the page's URL, so it stays on the server's origin).
fn calendars_page(query: &str) -> String {
    format!(
        r#"{{"value":[{{"id":"cal","name":"Calendar"}}],"@odata.nextLink":"/v1.0/me/calendars?{query}"}}"#
    )
}

fn assert_printable(text: &str) {
    assert!(
        !text.contains(['\u{1b}', '\u{7}', '\u{9b}', '\r']),
        "a control character got through: {text:?}"
    );
}

#[tokio::test]
async fn a_page_that_never_ends_is_refused_once_past_the_cap() {
    let hostile = serve(|_| Answer::Endless {
        bytes: CAP + CAP / 4,
    })
    .await;

    let error = guarded(graph(&hostile).calendars(&TOKEN))
        .await
        .unwrap_err();

    let text = error.to_string();
    assert!(text.contains(&format!("larger than {CAP} bytes")), "{text}");
}

#[tokio::test]
async fn a_page_announcing_ten_gigabytes_is_refused_before_its_body() {
    let hostile = serve(|_| Answer::HugeLength).await;

    let error = guarded(graph(&hostile).me(&TOKEN)).await.unwrap_err();

    let text = error.to_string();
    assert!(text.contains(&format!("larger than {CAP} bytes")), "{text}");
}

#[tokio::test]
async fn a_next_link_back_to_a_page_already_read_ends_the_collection_in_an_error() {
    let hostile = serve(|path| {
        let next = match path {
            "/v1.0/me/calendars" => "page=1",
            "/v1.0/me/calendars?page=1" => "page=2",
            // From the third page back to the second: the client must not go round for ever.
            _ => "page=1",
        };
        Answer::json(200, calendars_page(next))
    })
    .await;

    let error = guarded(graph(&hostile).calendars(&TOKEN))
        .await
        .unwrap_err();

    let text = error.to_string();
    assert!(text.contains("page already read"), "{text}");
    assert_eq!(hostile.paths().len(), 3);
}

#[tokio::test]
async fn a_collection_whose_next_links_never_end_stops_at_the_page_limit() {
    let hostile = serve(|path| {
        let page: usize = path
            .split("page=")
            .nth(1)
            .and_then(|number| number.parse().ok())
            .unwrap_or(0);
        Answer::json(200, calendars_page(&format!("page={}", page + 1)))
    })
    .await;

    let error = guarded(graph(&hostile).calendars(&TOKEN))
        .await
        .unwrap_err();

    let text = error.to_string();
    assert!(text.contains(&format!("more than {PAGES} pages")), "{text}");
    assert_eq!(hostile.paths().len(), PAGES);
}

#[tokio::test]
async fn a_collection_with_more_items_than_any_directory_is_refused() {
    let items = vec!["{}"; 500_001].join(",");
    let hostile = serve(move |_| Answer::json(200, format!(r#"{{"value":[{items}]}}"#))).await;

    let error = guarded(graph(&hostile).user_calendar_count(&TOKEN, "adele@contoso.com"))
        .await
        .unwrap_err();

    let text = error.to_string();
    assert!(text.contains("more than 500000 items"), "{text}");
}

#[tokio::test]
async fn a_page_nested_300000_deep_is_refused_before_serde_reads_it() {
    let deep = format!(
        r#"{{"value":[{{"id":"cal","x":{}{}}}]}}"#,
        "[".repeat(300_000),
        "]".repeat(300_000)
    );
    let hostile = serve(move |_| Answer::json(200, deep.clone())).await;

    let error = guarded(graph(&hostile).calendars(&TOKEN))
        .await
        .unwrap_err();

    assert!(matches!(error, Error::Decode { .. }), "{error:?}");
}

#[tokio::test]
async fn escape_sequences_in_a_graph_error_never_reach_the_error_message() {
    let hostile = serve(|_| {
        Answer::json(
            403,
            r#"{"error":{"code":"ErrorAccessDenied\u001b[2J","message":"Access is denied. \u001b[31mRun this\u001b[0m \u001b]8;;https://evil.example\u0007here\u001b]8;;\u0007\r\u009b1A","innerError":{"request-id":"9f2c\u001b[1m"}}}"#,
        )
    })
    .await;

    let error = guarded(graph(&hostile).me(&TOKEN)).await.unwrap_err();

    assert_printable(&error.to_string());
    assert_printable(&format!("{error:?}"));
    let Error::AccessDenied { code, message } = &error else {
        panic!("{error:?}");
    };
    assert_eq!(code, "ErrorAccessDenied[2J");
    assert!(
        message.starts_with("Access is denied. [31mRun this[0m"),
        "{message}"
    );
}

#[tokio::test]
async fn escape_sequences_in_a_page_that_is_not_json_never_reach_the_error_message() {
    let hostile = serve(|_| Answer::json(200, "\u{1b}[31mnot json\u{1b}[0m\u{9b}2J")).await;

    let error = guarded(graph(&hostile).calendars(&TOKEN))
        .await
        .unwrap_err();

    assert_printable(&error.to_string());
}

#[tokio::test]
async fn escape_sequences_in_calendar_and_owner_names_are_stripped() {
    let hostile = serve(|_| {
        Answer::json(
            200,
            r#"{"value":[{"id":"cal","name":"Calendar\u001b[8m","owner":{"name":"Adele\u001b]0;pwned\u0007","address":"adele@contoso.com"}}]}"#,
        )
    })
    .await;

    let calendars = guarded(graph(&hostile).calendars(&TOKEN)).await.unwrap();

    assert_eq!(calendars[0].name, "Calendar[8m");
    assert_eq!(
        calendars[0].owner.as_ref().unwrap().name.as_deref(),
        Some("Adele]0;pwned")
    );
}
