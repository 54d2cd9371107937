//! The identity client (and the app-only token request) against hostile servers on loopback: endless or
//! oversized answers end in an error at the cap, absurd `expires_in` and `interval` values are clamped
//! without a panic, and escape sequences in Entra's error text never reach calconnect's messages.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use calconnect_identity::app_only::{request_app_token, AppCredential, AppToken};
use calconnect_identity::time::ManualTime;
use calconnect_identity::{
    AppKind, AppRegistration, Authority, CancellationToken, Discovery, Error, ErrorKind,
    IdentityClient, ScopeSet, TokenSet, Trust,
};
use chrono::{DateTime, Utc};
use secrecy::SecretString;

use calconnect_hostile_server::{serve, Answer, Hostile};

/// The identity crate's body cap (`calconnect_identity::http::MAX_BODY_BYTES`).
const CAP: usize = 4 * 1024 * 1024;

/// Each test's bound: a reader without a cap would wait on the silent server until then.
const GUARD: Duration = Duration::from_secs(20);

async fn guarded<T>(future: impl Future<Output = T>) -> T {
    tokio::time::timeout(GUARD, future)
        .await
        .expect("the client gave up on the hostile answer in time")
}

fn client(hostile: &Hostile, time: &ManualTime) -> IdentityClient {
    let http = calconnect_identity::http_client(&Trust::default()).unwrap();
    let authority = Authority::new(hostile.base.clone(), "contoso.com").unwrap();
    let discovery = Discovery {
        issuer: "hostile".into(),
        authorization_endpoint: hostile.url("authorize"),
        token_endpoint: hostile.url("token"),
        device_authorization_endpoint: hostile.url("devicecode"),
    };
    IdentityClient::from_discovery(
        http,
        authority,
        discovery,
        AppRegistration::new(AppKind::Full, "00000000-0000-0000-0000-00000000000a"),
    )
    .with_time(Arc::new(time.clone()), Arc::new(time.clone()))
}

fn stored_tokens() -> TokenSet {
    TokenSet {
        access_token: SecretString::from("old-access"),
        refresh_token: Some(SecretString::from("old-refresh")),
        expires_at: Utc::now(),
        granted_scopes: ScopeSet::parse("User.Read Calendars.ReadWrite offline_access"),
    }
}

fn assert_too_large(error: &Error) {
    assert_eq!(error.kind(), ErrorKind::InvalidResponse, "{error:?}");
    let text = error.to_string();
    assert!(text.contains(&format!("larger than {CAP} bytes")), "{text}");
}

fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2030-01-01T00:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

#[tokio::test]
async fn a_discovery_document_that_never_ends_is_refused_once_past_the_cap() {
    let hostile = serve(|_| Answer::Endless {
        bytes: CAP + CAP / 4,
    })
    .await;
    let http = calconnect_identity::http_client(&Trust::default()).unwrap();
    let authority = Authority::new(hostile.base.clone(), "contoso.com").unwrap();

    let error = guarded(IdentityClient::discover(
        http,
        authority,
        AppRegistration::new(AppKind::Full, "client"),
    ))
    .await
    .unwrap_err();

    assert_too_large(&error);
}

#[tokio::test]
async fn a_token_answer_that_never_ends_is_refused_once_past_the_cap() {
    let hostile = serve(|_| Answer::Endless {
        bytes: CAP + CAP / 4,
    })
    .await;
    let time = ManualTime::starting_at(t0());

    let error = guarded(client(&hostile, &time).refresh(&stored_tokens()))
        .await
        .unwrap_err();

    assert_too_large(&error);
}

#[tokio::test]
async fn a_token_answer_announcing_ten_gigabytes_is_refused_before_its_body() {
    let hostile = serve(|_| Answer::HugeLength).await;
    let time = ManualTime::starting_at(t0());

    let error = guarded(client(&hostile, &time).refresh(&stored_tokens()))
        .await
        .unwrap_err();

    assert_too_large(&error);
}

#[tokio::test]
async fn a_device_code_poll_answer_that_never_ends_is_refused_once_past_the_cap() {
    let hostile = serve(|path| match path {
        "/devicecode" => Answer::json(
            200,
            r#"{"device_code":"dc","user_code":"UC","verification_uri":"https://microsoft.com/devicelogin","expires_in":900,"interval":5}"#,
        ),
        _ => Answer::Endless { bytes: CAP + CAP / 4 },
    })
    .await;
    let time = ManualTime::starting_at(t0());
    let client = client(&hostile, &time);
    let device_code = client.start_device_code().await.unwrap();

    let error =
        guarded(client.poll_device_code(&device_code, &CancellationToken::new(), &mut |_| {}))
            .await
            .unwrap_err();

    assert_too_large(&error);
}

#[tokio::test]
async fn an_absurd_expires_in_is_believed_for_a_day_at_most_and_never_panics() {
    for (expires_in, lifetime) in [
        ("18446744073709551615", chrono::Duration::hours(24)),
        // Within chrono's Duration but 31 million years past now: `now + lifetime` overflowed.
        ("1000000000000000", chrono::Duration::hours(24)),
        ("90000", chrono::Duration::hours(24)),
        ("3599", chrono::Duration::seconds(3599)),
        ("0", chrono::Duration::zero()),
    ] {
        let body = format!(
            r#"{{"access_token":"new-access","token_type":"Bearer","expires_in":{expires_in},"refresh_token":"new-refresh","scope":"User.Read"}}"#
        );
        let hostile = serve(move |_| Answer::json(200, body.clone())).await;
        let time = ManualTime::starting_at(t0());

        let tokens = guarded(client(&hostile, &time).refresh(&stored_tokens()))
            .await
            .unwrap_or_else(|error| panic!("expires_in {expires_in}: {error}"));

        assert_eq!(
            tokens.expires_at,
            t0() + lifetime,
            "expires_in {expires_in}"
        );
    }
}

#[tokio::test]
async fn an_absurd_device_code_lifetime_and_interval_end_at_the_expiry_without_a_panic() {
    let hostile = serve(|path| match path {
        "/devicecode" => Answer::json(
            200,
            r#"{"device_code":"dc","user_code":"UC","verification_uri":"https://microsoft.com/devicelogin","expires_in":18446744073709551615,"interval":18446744073709551615}"#,
        ),
        _ => Answer::json(400, r#"{"error":"authorization_pending"}"#),
    })
    .await;
    let time = ManualTime::starting_at(t0());
    let client = client(&hostile, &time);

    let device_code = client.start_device_code().await.unwrap();
    assert_eq!(device_code.expires_at, t0() + chrono::Duration::hours(1));
    assert_eq!(device_code.interval, Duration::from_secs(3600));
    let error =
        guarded(client.poll_device_code(&device_code, &CancellationToken::new(), &mut |_| {}))
            .await
            .unwrap_err();

    assert!(matches!(error, Error::DeviceCodeExpired), "{error:?}");
    // One wait, to the expiry, and no poll after it.
    assert_eq!(time.sleeps(), [Duration::from_secs(3600)]);
    assert_eq!(hostile.paths(), ["/devicecode"]);
}

#[tokio::test]
async fn a_slow_down_never_makes_the_client_wait_past_the_expiry() {
    let hostile = serve(|path| match path {
        "/devicecode" => Answer::json(
            200,
            r#"{"device_code":"dc","user_code":"UC","verification_uri":"https://microsoft.com/devicelogin","expires_in":60,"interval":50}"#,
        ),
        _ => Answer::json(400, r#"{"error":"slow_down"}"#),
    })
    .await;
    let time = ManualTime::starting_at(t0());
    let client = client(&hostile, &time);
    let device_code = client.start_device_code().await.unwrap();

    let error =
        guarded(client.poll_device_code(&device_code, &CancellationToken::new(), &mut |_| {}))
            .await
            .unwrap_err();

    assert!(matches!(error, Error::DeviceCodeExpired), "{error:?}");
    // 50 s, a slow_down (55 s asked), then only the 10 s left.
    assert_eq!(
        time.sleeps(),
        [Duration::from_secs(50), Duration::from_secs(10)]
    );
    assert_eq!(hostile.paths(), ["/devicecode", "/token"]);
}

#[tokio::test]
async fn a_zero_interval_polls_once_a_second_at_most() {
    let hostile = serve(|path| match path {
        "/devicecode" => Answer::json(
            200,
            r#"{"device_code":"dc","user_code":"UC","verification_uri":"https://microsoft.com/devicelogin","expires_in":5,"interval":0}"#,
        ),
        _ => Answer::json(400, r#"{"error":"authorization_pending"}"#),
    })
    .await;
    let time = ManualTime::starting_at(t0());
    let client = client(&hostile, &time);
    let device_code = client.start_device_code().await.unwrap();

    let error =
        guarded(client.poll_device_code(&device_code, &CancellationToken::new(), &mut |_| {}))
            .await
            .unwrap_err();

    assert!(matches!(error, Error::DeviceCodeExpired), "{error:?}");
    assert_eq!(time.sleeps(), vec![Duration::from_secs(1); 5]);
}

#[tokio::test]
async fn a_negative_interval_is_an_unreadable_answer_not_a_panic() {
    let hostile = serve(|_| {
        Answer::json(
            200,
            r#"{"device_code":"dc","user_code":"UC","verification_uri":"https://microsoft.com/devicelogin","expires_in":900,"interval":-5}"#,
        )
    })
    .await;
    let time = ManualTime::starting_at(t0());

    let error = guarded(client(&hostile, &time).start_device_code())
        .await
        .unwrap_err();

    assert_eq!(error.kind(), ErrorKind::InvalidResponse, "{error:?}");
}

#[tokio::test]
async fn escape_sequences_in_entra_error_text_never_reach_calconnect_messages() {
    let hostile = serve(|_| {
        Answer::json(
            400,
            r#"{"error":"invalid_grant\u001b[2J","error_description":"AADSTS70008: \u001b[31mThe refresh token has expired.\u001b[0m\u001b]8;;https://evil.example\u0007click\u001b]8;;\u0007\r\nTrace ID: 0b1c\u009b","error_codes":[70008],"trace_id":"0b1c\u001b[1A","correlation_id":"9f2e"}"#,
        )
    })
    .await;
    let time = ManualTime::starting_at(t0());

    let error = guarded(client(&hostile, &time).refresh(&stored_tokens()))
        .await
        .unwrap_err();

    let aad = error.aad().expect("Entra's answer is kept");
    let description = aad.error_description.as_deref().unwrap();
    for text in [
        error.to_string(),
        format!("{error:?}"),
        description.to_owned(),
        aad.trace_id.clone().unwrap(),
    ] {
        assert!(
            !text.contains(['\u{1b}', '\u{7}', '\u{9b}', '\r']),
            "a control character got through: {text:?}"
        );
    }
    assert!(
        description.contains("The refresh token has expired.")
            && description.contains("\nTrace ID: 0b1c"),
        "{description:?}"
    );
    assert_eq!(error.kind(), ErrorKind::SignInExpired);
}

#[tokio::test]
async fn a_token_answer_nested_300000_deep_is_an_error_not_a_stack_overflow() {
    let deep = format!(
        r#"{{"access_token":"a","token_type":"Bearer","x":{}{}}}"#,
        "[".repeat(300_000),
        "]".repeat(300_000)
    );
    let hostile = serve(move |_| Answer::json(200, deep.clone())).await;
    let time = ManualTime::starting_at(t0());

    let error = guarded(client(&hostile, &time).refresh(&stored_tokens()))
        .await
        .unwrap_err();

    assert_eq!(error.kind(), ErrorKind::InvalidResponse, "{error:?}");
}

async fn app_token(hostile: &Hostile) -> Result<AppToken, Error> {
    let http = calconnect_identity::http_client(&Trust::default()).unwrap();
    let authority = Authority::new(hostile.base.clone(), "contoso.com").unwrap();
    guarded(request_app_token(
        &http,
        &authority,
        "00000000-0000-0000-0000-00000000000b",
        &AppCredential::Secret(SecretString::from("client-secret")),
        "https://graph.microsoft.com/.default",
        Utc::now(),
        Duration::from_secs(60),
    ))
    .await
}

#[tokio::test]
async fn an_app_only_token_is_believed_for_a_day_at_most() {
    let hostile = serve(|_| {
        Answer::json(
            200,
            r#"{"access_token":"app-token","token_type":"Bearer","expires_in":18446744073709551615}"#,
        )
    })
    .await;

    let token = app_token(&hostile).await.unwrap();

    assert_eq!(token.expires_in, 24 * 60 * 60);
}

#[tokio::test]
async fn an_app_only_token_answer_that_never_ends_is_refused_once_past_the_cap() {
    let hostile = serve(|_| Answer::Endless {
        bytes: CAP + CAP / 4,
    })
    .await;

    let error = app_token(&hostile).await.unwrap_err();

    assert_too_large(&error);
}
