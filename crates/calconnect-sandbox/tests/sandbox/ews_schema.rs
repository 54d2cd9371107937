//! The sandbox's EWS answers as Exchange does: every SOAP response body validates against `messages.xsd`
//! (xmllint), a 401 advertises exactly NTLM, Basic (unless turned off) and Bearer, impersonating tokens need
//! `X-AnchorMailbox`, and each access level gets its documented codes.

use base64::Engine;
use calconnect_sandbox::{demo, Sandbox, SandboxHandle};

use super::support::{assert_valid, assert_well_formed, MESSAGES_XSD};

const NAMESPACES: &str = r#"xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types""#;

async fn plain_sandbox() -> SandboxHandle {
    Sandbox::builder()
        .tls(false)
        .bind("127.0.0.1:0".parse().unwrap())
        .start()
        .await
        .expect("sandbox starts")
}

fn basic() -> String {
    let pair = format!(
        "{}:{}",
        demo::SERVICE_ACCOUNT_UPN,
        demo::SERVICE_ACCOUNT_PASSWORD
    );
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(pair)
    )
}

fn envelope(impersonate: Option<&str>, body: &str) -> String {
    let header = impersonate.map_or(String::new(), |mailbox| {
        format!("<t:ExchangeImpersonation><t:ConnectingSID><t:PrimarySmtpAddress>{mailbox}</t:PrimarySmtpAddress></t:ConnectingSID></t:ExchangeImpersonation>")
    });
    format!(
        r#"<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" {NAMESPACES}><soap:Header><t:RequestServerVersion Version="Exchange2013_SP1"/>{header}</soap:Header><soap:Body>{body}</soap:Body></soap:Envelope>"#
    )
}

fn get_folder(folder: &str) -> String {
    format!(
        r#"<m:GetFolder><m:FolderShape><t:BaseShape>IdOnly</t:BaseShape></m:FolderShape><m:FolderIds><t:DistinguishedFolderId Id="{folder}"/></m:FolderIds></m:GetFolder>"#
    )
}

fn find_item(start: chrono::DateTime<chrono::Utc>, end: chrono::DateTime<chrono::Utc>) -> String {
    format!(
        r#"<m:FindItem Traversal="Shallow"><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape><t:AdditionalProperties><t:FieldURI FieldURI="calendar:Start"/><t:FieldURI FieldURI="calendar:End"/><t:FieldURI FieldURI="calendar:LegacyFreeBusyStatus"/></t:AdditionalProperties></m:ItemShape><m:CalendarView MaxEntriesReturned="100" StartDate="{}" EndDate="{}"/><m:ParentFolderIds><t:DistinguishedFolderId Id="calendar"/></m:ParentFolderIds></m:FindItem>"#,
        start.format("%Y-%m-%dT%H:%M:%SZ"),
        end.format("%Y-%m-%dT%H:%M:%SZ")
    )
}

fn availability(mailbox: &str, now: chrono::DateTime<chrono::Utc>) -> String {
    let start = (now - chrono::Duration::days(7)).format("%Y-%m-%dT00:00:00");
    let end = (now + chrono::Duration::days(14)).format("%Y-%m-%dT00:00:00");
    let rule = "<t:Bias>0</t:Bias><t:Time>00:00:00</t:Time><t:DayOrder>1</t:DayOrder><t:Month>1</t:Month><t:DayOfWeek>Sunday</t:DayOfWeek>";
    format!(
        r#"<m:GetUserAvailabilityRequest><t:TimeZone><t:Bias>0</t:Bias><t:StandardTime>{rule}</t:StandardTime><t:DaylightTime>{rule}</t:DaylightTime></t:TimeZone><m:MailboxDataArray><t:MailboxData><t:Email><t:Address>{mailbox}</t:Address></t:Email><t:AttendeeType>Required</t:AttendeeType></t:MailboxData></m:MailboxDataArray><t:FreeBusyViewOptions><t:TimeWindow><t:StartTime>{start}</t:StartTime><t:EndTime>{end}</t:EndTime></t:TimeWindow><t:RequestedView>Detailed</t:RequestedView></t:FreeBusyViewOptions></m:GetUserAvailabilityRequest>"#
    )
}

/// Posts a request and returns (status, the child of soap:Body).
async fn post(sandbox: &SandboxHandle, impersonate: Option<&str>, body: &str) -> (u16, String) {
    let response = reqwest::Client::new()
        .post(sandbox.ews_url())
        .header("Authorization", basic())
        .header("Content-Type", "text/xml; charset=utf-8")
        .body(envelope(impersonate, body))
        .send()
        .await
        .expect("ews answers");
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    let start = text.find("<s:Body>").expect("a soap body") + "<s:Body>".len();
    let end = text.rfind("</s:Body>").expect("a closed soap body");
    (status, text[start..end].to_owned())
}

#[tokio::test]
async fn every_ews_response_validates_against_messages_xsd() {
    let sandbox = plain_sandbox().await;
    let now = chrono::Utc::now();
    let week = chrono::Duration::days(7);
    let cases: Vec<(&str, Option<&str>, String, &str)> = vec![
        (
            "calendar_full",
            Some(demo::ADELE),
            get_folder("calendar"),
            "NoError",
        ),
        (
            "inbox_full",
            Some(demo::ADELE),
            get_folder("inbox"),
            "NoError",
        ),
        (
            "inbox_restricted",
            Some(demo::MEGAN),
            get_folder("inbox"),
            "ErrorAccessDenied",
        ),
        (
            "calendar_availability_only",
            Some(demo::LEE),
            get_folder("calendar"),
            "ErrorImpersonateUserDenied",
        ),
        (
            "calendar_unknown",
            Some("nobody@contoso.com"),
            get_folder("calendar"),
            "ErrorNonExistentMailbox",
        ),
        (
            "find_item_full",
            Some(demo::ADELE),
            find_item(now - week, now + week),
            "NoError",
        ),
        (
            "find_item_too_long",
            Some(demo::ADELE),
            find_item(now, now + week * 110),
            "ErrorCalendarViewRangeTooBig",
        ),
        (
            "find_item_denied",
            Some(demo::ALEX),
            find_item(now, now + week),
            "ErrorImpersonateUserDenied",
        ),
        (
            "availability_detailed",
            None,
            availability(demo::ADELE, now),
            "NoError",
        ),
        (
            "availability_free_busy_only",
            None,
            availability(demo::LEE, now),
            "NoError",
        ),
        (
            "availability_none",
            None,
            availability(demo::ALEX, now),
            "ErrorNoFreeBusyAccess",
        ),
        (
            "availability_unknown",
            None,
            availability("nobody@contoso.com", now),
            "ErrorMailRecipientNotFound",
        ),
    ];
    for (name, impersonate, request, expected_code) in cases {
        let (status, body) = post(&sandbox, impersonate, &request).await;
        assert_eq!(status, 200, "{name}");
        assert!(
            body.contains(&format!(">{expected_code}<")),
            "{name} should answer {expected_code}: {body}"
        );
        assert_valid(name, &body);
        if name == "find_item_full" {
            assert!(
                body.contains("<t:CalendarItem>"),
                "Adele's week has events: {body}"
            );
        }
    }
}

#[tokio::test]
async fn availability_only_gets_free_busy_even_when_detailed_is_requested() {
    let sandbox = plain_sandbox().await;
    let now = chrono::Utc::now();
    let (_, lee) = post(&sandbox, None, &availability(demo::LEE, now)).await;
    let (_, adele) = post(&sandbox, None, &availability(demo::ADELE, now)).await;
    assert!(
        lee.contains("<t:FreeBusyViewType>FreeBusy</t:FreeBusyViewType>")
            && !lee.contains("<t:Subject>"),
        "{lee}"
    );
    assert!(
        adele.contains("<t:FreeBusyViewType>Detailed</t:FreeBusyViewType>"),
        "{adele}"
    );
}

async fn offered_schemes(sandbox: &SandboxHandle) -> Vec<String> {
    let response = reqwest::Client::new()
        .post(sandbox.ews_url())
        .body(envelope(None, &get_folder("calendar")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 401);
    response
        .headers()
        .get_all("www-authenticate")
        .iter()
        .map(|value| {
            value
                .to_str()
                .unwrap()
                .split_whitespace()
                .next()
                .unwrap()
                .to_owned()
        })
        .collect()
}

#[tokio::test]
async fn an_unauthenticated_request_is_challenged_with_exactly_ntlm_basic_and_bearer() {
    let sandbox = plain_sandbox().await;
    assert_eq!(
        offered_schemes(&sandbox).await,
        vec!["NTLM", "Basic", "Bearer"]
    );
}

#[tokio::test]
async fn with_basic_disabled_only_ntlm_and_bearer_are_offered_and_basic_is_refused() {
    let mut tenant = calconnect_sandbox::Tenant::demo();
    tenant.exchange.basic_auth_disabled = true;
    let sandbox = Sandbox::builder()
        .tenant(tenant)
        .tls(false)
        .bind("127.0.0.1:0".parse().unwrap())
        .start()
        .await
        .unwrap();
    assert_eq!(offered_schemes(&sandbox).await, vec!["NTLM", "Bearer"]);
    let response = reqwest::Client::new()
        .post(sandbox.ews_url())
        .header("Authorization", basic())
        .body(envelope(None, &get_folder("calendar")))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status().as_u16(),
        401,
        "right password, but Basic is off"
    );
}

async fn app_token(sandbox: &SandboxHandle) -> String {
    let token: serde_json::Value = reqwest::Client::new()
        .post(
            sandbox
                .base_url()
                .join("contoso.com/oauth2/v2.0/token")
                .unwrap(),
        )
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", demo::EWS_APP_CLIENT_ID),
            ("client_secret", demo::EWS_APP_CLIENT_SECRET),
            ("scope", "https://outlook.office365.com/.default"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    token["access_token"]
        .as_str()
        .expect("an app token")
        .to_owned()
}

#[tokio::test]
async fn bearer_impersonation_without_x_anchor_mailbox_gets_an_internal_server_error_fault() {
    let sandbox = plain_sandbox().await;
    let token = app_token(&sandbox).await;
    let send = |anchor: Option<&'static str>| {
        let mut request = reqwest::Client::new()
            .post(sandbox.ews_url())
            .bearer_auth(&token)
            .header("Content-Type", "text/xml; charset=utf-8")
            .body(envelope(Some(demo::ADELE), &get_folder("calendar")));
        if let Some(anchor) = anchor {
            request = request.header("X-AnchorMailbox", anchor);
        }
        request.send()
    };
    for anchor in [None, Some(demo::MEGAN)] {
        let response = send(anchor).await.unwrap();
        assert_eq!(response.status().as_u16(), 500, "anchor {anchor:?}");
        let text = response.text().await.unwrap();
        assert!(
            text.contains("<s:Fault>")
                && text.contains("a:ErrorInternalServerError")
                && text.contains("X-AnchorMailbox")
                && text.contains(demo::ADELE),
            "{text}"
        );
        // The fault's ResponseCode is one messages.xsd defines; the envelope is well-formed XML.
        let schema = std::fs::read_to_string(MESSAGES_XSD).unwrap();
        assert!(schema.contains(r#"<xs:enumeration value="ErrorInternalServerError"/>"#));
        assert_well_formed("missing_anchor_fault", &text);
    }
    let (status, body) = {
        let response = send(Some(demo::ADELE)).await.unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    };
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(">NoError<"), "{body}");
    let start = body.find("<s:Body>").unwrap() + "<s:Body>".len();
    assert_valid(
        "anchored_impersonation",
        &body[start..body.rfind("</s:Body>").unwrap()],
    );
    assert!(sandbox.journal().iter().any(|entry| entry.note.as_deref()
        == Some("500: X-AnchorMailbox none for impersonation of adele@contoso.com")));
    assert!(sandbox
        .journal()
        .iter()
        .any(|entry| entry.note.as_deref() == Some("X-AnchorMailbox adele@contoso.com")));
}

#[tokio::test]
async fn server_busy_is_a_soap_fault_with_back_off_milliseconds() {
    let sandbox = plain_sandbox().await;
    sandbox
        .faults()
        .ews_server_busy(std::time::Duration::from_millis(297_749), 1);
    let (status, body) = post(&sandbox, Some(demo::ADELE), &get_folder("calendar")).await;
    assert_eq!(status, 500);
    assert!(
        body.contains("a:ErrorServerBusy")
            && body.contains(r#"<t:Value Name="BackOffMilliseconds">297749</t:Value>"#),
        "{body}"
    );
    let (status, _) = post(&sandbox, Some(demo::ADELE), &get_folder("calendar")).await;
    assert_eq!(
        status, 200,
        "the knob fires the requested number of times only"
    );
}

#[tokio::test]
async fn server_busy_inside_a_response_message_validates_against_messages_xsd() {
    let sandbox = plain_sandbox().await;
    sandbox
        .faults()
        .ews_server_busy_in_response_message(std::time::Duration::from_millis(297_749), 1);
    let (status, body) = post(&sandbox, Some(demo::ADELE), &get_folder("calendar")).await;
    assert_eq!(status, 200);
    assert!(
        body.contains(">ErrorInternalServerError<")
            && body.contains(r#"<t:Value Name="InnerErrorResponseCode">ErrorServerBusy</t:Value>"#)
            && body.contains(r#"<t:Value Name="BackOffMilliseconds">297749</t:Value>"#),
        "{body}"
    );
    assert_valid("busy_in_response_message", &body);
}

#[tokio::test]
async fn pox_autodiscover_returns_the_ews_url_and_json_v2_does_too() {
    let sandbox = plain_sandbox().await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let pox = format!(
        r#"<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006"><Request><EMailAddress>{}</EMailAddress><AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema></Request></Autodiscover>"#,
        demo::ADELE
    );
    let text = client
        .post(sandbox.autodiscover_url())
        .header("Authorization", basic())
        .body(pox)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains(&format!("<EwsUrl>{}</EwsUrl>", sandbox.ews_url())),
        "{text}"
    );
    let json: serde_json::Value = client
        .get(
            sandbox
                .base_url()
                .join(&format!(
                    "autodiscover/autodiscover.json/v1.0/{}?Protocol=EWS",
                    demo::ADELE
                ))
                .unwrap(),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(json["Url"], sandbox.ews_url().as_str());
    let probe = client.get(sandbox.autodiscover_url()).send().await.unwrap();
    assert_eq!(
        probe.status().as_u16(),
        302,
        "the unauthenticated GET redirects to the POX endpoint"
    );
}
