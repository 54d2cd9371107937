//! The EWS client and Autodiscover against hostile servers on loopback: an answer nested 300,000 deep is
//! an error (not a stack overflow), endless or oversized answers end in an error at the cap on the pooled
//! client, on NTLM's own connection and in Autodiscover, and escape sequences in `faultstring`,
//! `MessageText` or a 403 page never reach what calconnect prints.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use calconnect_ews::auth::{Authorization, Credentials};
use calconnect_ews::autodiscover::{
    Autodiscover, CandidateKind, CandidateOutcome, StaticSrvResolver,
};
use calconnect_ews::client::EwsClient;
use calconnect_ews::clock::RecordingSleeper;
use calconnect_ews::connection::Connector;
use calconnect_ews::endpoints::Endpoints;
use calconnect_ews::operations::{DistinguishedFolder, GetFolder};
use calconnect_ews::request_log::RequestLog;
use calconnect_ews::tls::{http_client, Trust};
use secrecy::SecretString;

use calconnect_hostile_server::{serve, Answer, Hostile};

/// The EWS crate's body cap (`calconnect_ews::MAX_BODY_BYTES`).
const CAP: usize = 4 * 1024 * 1024;

/// Each test's bound: a reader without a cap would wait on the silent server until then.
const GUARD: Duration = Duration::from_secs(20);

async fn guarded<T>(future: impl Future<Output = T>) -> T {
    tokio::time::timeout(GUARD, future)
        .await
        .expect("the client gave up on the hostile answer in time")
}

fn xml(status: u16, body: impl Into<String>) -> Answer {
    Answer::Full {
        status,
        content_type: "text/xml; charset=utf-8",
        body: body.into(),
    }
}

fn client(hostile: &Hostile, authorization: Authorization) -> EwsClient {
    let endpoints = Endpoints::offline();
    // Longer than GUARD: only the cap can end a read of the silent server in time.
    let timeout = Duration::from_secs(60);
    let trust = Trust::default();
    EwsClient::new(
        http_client(&trust, timeout, &endpoints).unwrap(),
        Connector::new(&trust, timeout, &endpoints).unwrap(),
        hostile.url("EWS/Exchange.asmx"),
        Arc::new(RecordingSleeper::default()),
        RequestLog::default(),
    )
    .with_authorization(authorization)
    .unwrap()
}

fn basic() -> Authorization {
    Authorization::basic(
        "svc-calconnect@contoso.com",
        &SecretString::from("service-password"),
    )
}

fn ntlm() -> Authorization {
    Authorization::ntlm(
        "svc-calconnect@contoso.com",
        &SecretString::from("service-password"),
    )
}

fn calendar() -> GetFolder {
    GetFolder {
        folder: DistinguishedFolder::Calendar,
        mailbox: None,
    }
}

fn assert_too_large(text: &str) {
    assert!(text.contains(&format!("larger than {CAP} bytes")), "{text}");
}

fn assert_printable(text: &str) {
    assert!(
        !text.contains(['\u{1b}', '\u{7}', '\u{9b}', '\r']),
        "a control character got through: {text:?}"
    );
}

#[tokio::test]
async fn an_answer_nested_300000_deep_is_an_error_not_a_stack_overflow() {
    let depth = 300_000;
    let document = format!(
        r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>{}{}</s:Body></s:Envelope>"#,
        "<a>".repeat(depth),
        "</a>".repeat(depth)
    );
    let hostile = serve(move |_| xml(200, document.clone())).await;

    let error = guarded(client(&hostile, basic()).call(&calendar(), None))
        .await
        .unwrap_err();

    let text = error.to_string();
    assert!(text.contains("deeper than 64 levels"), "{text}");
}

#[tokio::test]
async fn an_answer_that_never_ends_is_refused_once_past_the_cap() {
    let hostile = serve(|_| Answer::Endless {
        bytes: CAP + CAP / 4,
    })
    .await;

    let error = guarded(client(&hostile, basic()).call(&calendar(), None))
        .await
        .unwrap_err();

    assert_too_large(&error.to_string());
}

#[tokio::test]
async fn an_answer_announcing_ten_gigabytes_is_refused_before_its_body() {
    let hostile = serve(|_| Answer::HugeLength).await;

    let error = guarded(client(&hostile, basic()).call(&calendar(), None))
        .await
        .unwrap_err();

    assert_too_large(&error.to_string());
}

#[tokio::test]
async fn an_endless_answer_on_an_ntlm_connection_is_refused_once_past_the_cap() {
    // The NEGOTIATE goes out on the client's own connection (hyper), not the pooled reqwest client.
    let hostile = serve(|_| Answer::Endless {
        bytes: CAP + CAP / 4,
    })
    .await;

    let error = guarded(client(&hostile, ntlm()).call(&calendar(), None))
        .await
        .unwrap_err();

    assert_too_large(&error.to_string());
}

#[tokio::test]
async fn an_answer_announcing_ten_gigabytes_on_an_ntlm_connection_is_refused_before_its_body() {
    let hostile = serve(|_| Answer::HugeLength).await;

    let error = guarded(client(&hostile, ntlm()).call(&calendar(), None))
        .await
        .unwrap_err();

    assert_too_large(&error.to_string());
}

#[tokio::test]
async fn autodiscover_answers_that_never_end_fail_their_candidates_at_the_cap() {
    let hostile = serve(|_| Answer::Endless {
        bytes: CAP + CAP / 4,
    })
    .await;
    let endpoints = Endpoints::offline()
        .route("https://contoso.com/", hostile.base.as_str())
        .unwrap()
        .route("https://autodiscover.contoso.com/", hostile.base.as_str())
        .unwrap();
    let http = http_client(&Trust::default(), Duration::from_secs(60), &endpoints).unwrap();
    let autodiscover = Autodiscover::new(
        http,
        endpoints,
        Arc::new(StaticSrvResolver::default()),
        RequestLog::default(),
        Duration::from_secs(60),
    );
    let credentials = Credentials::Password {
        username: "svc-calconnect@contoso.com".into(),
        password: SecretString::from("service-password"),
    };

    let discovery = guarded(autodiscover.discover("adele@contoso.com", &credentials)).await;

    assert_eq!(discovery.ews_url, None);
    for kind in [
        CandidateKind::JsonDomain,
        CandidateKind::PoxDomain,
        CandidateKind::PoxAutodiscoverDomain,
    ] {
        let attempt = discovery
            .attempts
            .iter()
            .find(|attempt| attempt.kind == kind)
            .unwrap();
        match &attempt.outcome {
            CandidateOutcome::Failed { reason } => assert_too_large(reason),
            other => panic!("{kind:?}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn escape_sequences_in_a_soap_fault_never_reach_the_error_message() {
    let fault = "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body><s:Fault>\
        <faultcode>a:ErrorInvalidRequest\u{1b}[2J</faultcode>\
        <faultstring>The request failed. \u{1b}[31mRun Set-Mailbox now\u{1b}[0m &#x9b;1A\u{7}\r</faultstring>\
        </s:Fault></s:Body></s:Envelope>";
    let hostile = serve(move |_| xml(500, fault)).await;

    let error = guarded(client(&hostile, basic()).call(&calendar(), None))
        .await
        .unwrap_err();

    let text = error.to_string();
    assert_printable(&text);
    assert_printable(&format!("{error:?}"));
    assert!(
        text.contains("The request failed. [31mRun Set-Mailbox now[0m"),
        "{text}"
    );
}

#[tokio::test]
async fn escape_sequences_in_a_message_text_never_reach_the_result() {
    let answer = "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body>\
        <m:GetFolderResponse xmlns:m=\"http://schemas.microsoft.com/exchange/services/2006/messages\">\
        <m:ResponseMessages><m:GetFolderResponseMessage ResponseClass=\"Error\">\
        <m:MessageText>The account does not have permission \u{1b}]8;;https://evil.example\u{7}here\u{1b}]8;;\u{7}</m:MessageText>\
        <m:ResponseCode>ErrorAccessDenied\u{1b}[1m</m:ResponseCode>\
        </m:GetFolderResponseMessage></m:ResponseMessages></m:GetFolderResponse></s:Body></s:Envelope>";
    let hostile = serve(move |_| xml(200, answer)).await;

    let result = guarded(client(&hostile, basic()).call(&calendar(), None))
        .await
        .unwrap();

    let message = result.message_text.unwrap();
    assert_printable(&message);
    assert!(
        message.starts_with("The account does not have permission"),
        "{message}"
    );
    assert_printable(&result.response_code.to_string());
}

#[tokio::test]
async fn escape_sequences_in_a_forbidden_page_never_reach_the_error_message() {
    let hostile = serve(|_| {
        xml(
            403,
            "\u{1b}[31mThis app is not on the EWS allow list\u{1b}[0m\u{9b}2J",
        )
    })
    .await;

    let error = guarded(client(&hostile, basic()).call(&calendar(), None))
        .await
        .unwrap_err();

    let text = error.to_string();
    assert_printable(&text);
    assert!(
        text.contains("This app is not on the EWS allow list"),
        "{text}"
    );
}
