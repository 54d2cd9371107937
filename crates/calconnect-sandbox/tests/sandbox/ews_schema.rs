//! The sandbox's EWS answers as Exchange does: every SOAP response body validates against `messages.xsd`
//! (xmllint), a 401 advertises exactly the virtual directory's methods, impersonating tokens need
//! `X-AnchorMailbox`, and impersonation, delegate access and free/busy each follow Exchange's primitives.

use calconnect_sandbox::{demo, Sandbox, SandboxHandle};

pub(crate) use super::support::assert_valid;
use super::support::{assert_well_formed, basic, MESSAGES_XSD};

const NAMESPACES: &str = r#"xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types""#;

async fn plain_sandbox() -> SandboxHandle {
    Sandbox::builder()
        .tls(false)
        .bind("127.0.0.1:0".parse().unwrap())
        .start()
        .await
        .expect("sandbox starts")
}

fn envelope(impersonate: Option<&str>, body: &str) -> String {
    let header = impersonate.map_or(String::new(), |mailbox| {
        format!("<t:ExchangeImpersonation><t:ConnectingSID><t:PrimarySmtpAddress>{mailbox}</t:PrimarySmtpAddress></t:ConnectingSID></t:ExchangeImpersonation>")
    });
    format!(
        r#"<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" {NAMESPACES}><soap:Header><t:RequestServerVersion Version="Exchange2013_SP1"/>{header}</soap:Header><soap:Body>{body}</soap:Body></soap:Envelope>"#
    )
}

pub(crate) fn get_folder(folder: &str) -> String {
    format!(
        r#"<m:GetFolder><m:FolderShape><t:BaseShape>IdOnly</t:BaseShape></m:FolderShape><m:FolderIds><t:DistinguishedFolderId Id="{folder}"/></m:FolderIds></m:GetFolder>"#
    )
}

/// GetFolder of another mailbox's folder without impersonation: delegate access.
pub(crate) fn get_folder_of(folder: &str, mailbox: &str) -> String {
    format!(
        r#"<m:GetFolder><m:FolderShape><t:BaseShape>AllProperties</t:BaseShape></m:FolderShape><m:FolderIds><t:DistinguishedFolderId Id="{folder}"><t:Mailbox><t:EmailAddress>{mailbox}</t:EmailAddress></t:Mailbox></t:DistinguishedFolderId></m:FolderIds></m:GetFolder>"#
    )
}

fn find_item(start: chrono::DateTime<chrono::Utc>, end: chrono::DateTime<chrono::Utc>) -> String {
    find_item_in(start, end, None)
}

pub(crate) fn find_item_in(
    start: chrono::DateTime<chrono::Utc>,
    end: chrono::DateTime<chrono::Utc>,
    mailbox: Option<&str>,
) -> String {
    let parent = match mailbox {
        Some(mailbox) => format!(
            r#"<t:DistinguishedFolderId Id="calendar"><t:Mailbox><t:EmailAddress>{mailbox}</t:EmailAddress></t:Mailbox></t:DistinguishedFolderId>"#
        ),
        None => r#"<t:DistinguishedFolderId Id="calendar"/>"#.to_owned(),
    };
    format!(
        r#"<m:FindItem Traversal="Shallow"><m:ItemShape><t:BaseShape>Default</t:BaseShape></m:ItemShape><m:CalendarView MaxEntriesReturned="100" StartDate="{}" EndDate="{}"/><m:ParentFolderIds>{parent}</m:ParentFolderIds></m:FindItem>"#,
        start.format("%Y-%m-%dT%H:%M:%SZ"),
        end.format("%Y-%m-%dT%H:%M:%SZ")
    )
}

fn availability(mailbox: &str, now: chrono::DateTime<chrono::Utc>) -> String {
    availability_view(mailbox, now, "Detailed")
}

pub(crate) fn availability_view(
    mailbox: &str,
    now: chrono::DateTime<chrono::Utc>,
    view: &str,
) -> String {
    let start = (now - chrono::Duration::days(7)).format("%Y-%m-%dT00:00:00");
    let end = (now + chrono::Duration::days(14)).format("%Y-%m-%dT00:00:00");
    let rule = "<t:Bias>0</t:Bias><t:Time>00:00:00</t:Time><t:DayOrder>1</t:DayOrder><t:Month>1</t:Month><t:DayOfWeek>Sunday</t:DayOfWeek>";
    format!(
        r#"<m:GetUserAvailabilityRequest><t:TimeZone><t:Bias>0</t:Bias><t:StandardTime>{rule}</t:StandardTime><t:DaylightTime>{rule}</t:DaylightTime></t:TimeZone><m:MailboxDataArray><t:MailboxData><t:Email><t:Address>{mailbox}</t:Address></t:Email><t:AttendeeType>Required</t:AttendeeType></t:MailboxData></m:MailboxDataArray><t:FreeBusyViewOptions><t:TimeWindow><t:StartTime>{start}</t:StartTime><t:EndTime>{end}</t:EndTime></t:TimeWindow><t:MergedFreeBusyIntervalInMinutes>60</t:MergedFreeBusyIntervalInMinutes><t:RequestedView>{view}</t:RequestedView></t:FreeBusyViewOptions></m:GetUserAvailabilityRequest>"#
    )
}

/// Posts a request and returns (status, the child of soap:Body).
pub(crate) async fn post(
    sandbox: &SandboxHandle,
    impersonate: Option<&str>,
    body: &str,
) -> (u16, String) {
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
    // (name, impersonated mailbox, request, expected ResponseCode): impersonation of adele (in the
    // service account's scope), delegate access to megan's calendar (Editor), lee's and alex's Default.
    let cases: Vec<(&str, Option<&str>, String, &str)> = vec![
        (
            "calendar_impersonated",
            Some(demo::ADELE),
            get_folder("calendar"),
            "NoError",
        ),
        (
            "inbox_impersonated",
            Some(demo::ADELE),
            get_folder("inbox"),
            "NoError",
        ),
        (
            "delegate_calendar_editor",
            None,
            get_folder_of("calendar", demo::MEGAN),
            "NoError",
        ),
        (
            "delegate_inbox_no_permission",
            None,
            get_folder_of("inbox", demo::MEGAN),
            "ErrorFolderNotFound",
        ),
        (
            "delegate_root_no_permission",
            None,
            get_folder_of("msgfolderroot", demo::MEGAN),
            "ErrorAccessDenied",
        ),
        (
            "delegate_calendar_default_only",
            None,
            get_folder_of("calendar", demo::LEE),
            "ErrorAccessDenied",
        ),
        (
            "delegate_unknown_mailbox",
            None,
            get_folder_of("calendar", "nobody@contoso.com"),
            "ErrorNonExistentMailbox",
        ),
        (
            "find_item_impersonated",
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
            "find_item_delegate_editor",
            None,
            find_item_in(now - week, now + week, Some(demo::MEGAN)),
            "NoError",
        ),
        (
            "find_item_delegate_default",
            None,
            find_item_in(now, now + week, Some(demo::LEE)),
            "ErrorAccessDenied",
        ),
        (
            "availability_default",
            None,
            availability(demo::ADELE, now),
            "NoError",
        ),
        (
            "availability_impersonated",
            Some(demo::ADELE),
            availability(demo::ADELE, now),
            "NoError",
        ),
        (
            "availability_editor_merged",
            None,
            availability_view(demo::MEGAN, now, "DetailedMerged"),
            "NoError",
        ),
        (
            "availability_default_merged",
            None,
            availability_view(demo::LEE, now, "DetailedMerged"),
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
        assert_eq!(status, 200, "{name}: {body}");
        assert!(
            body.contains(&format!(">{expected_code}<")),
            "{name} should answer {expected_code}: {body}"
        );
        assert_valid(name, &body);
        if name.starts_with("find_item") && expected_code == "NoError" {
            assert!(
                body.contains("<t:CalendarItem>"),
                "{name}: the week has events: {body}"
            );
        }
    }
}

#[tokio::test]
async fn impersonation_outside_the_role_assignments_scope_is_an_impersonate_user_denied_fault() {
    let sandbox = plain_sandbox().await;
    for outside in [demo::MEGAN, demo::LEE, demo::ALEX] {
        let (status, body) = post(&sandbox, Some(outside), &get_folder("calendar")).await;
        assert_eq!(status, 500, "{outside}: {body}");
        assert!(
            body.contains("<s:Fault>") && body.contains("a:ErrorImpersonateUserDenied"),
            "{outside}: {body}"
        );
    }
    let (status, body) = post(
        &sandbox,
        Some("nobody@contoso.com"),
        &get_folder("calendar"),
    )
    .await;
    assert_eq!(status, 500);
    assert!(body.contains("a:ErrorNonExistentMailbox"), "{body}");
}

#[tokio::test]
async fn availability_only_gets_free_busy_even_when_detailed_is_requested() {
    let sandbox = plain_sandbox().await;
    let now = chrono::Utc::now();
    let (_, lee) = post(&sandbox, None, &availability(demo::LEE, now)).await;
    let (_, megan) = post(&sandbox, None, &availability(demo::MEGAN, now)).await;
    let (_, adele_as_owner) =
        post(&sandbox, Some(demo::ADELE), &availability(demo::ADELE, now)).await;
    assert!(
        lee.contains("<t:FreeBusyViewType>FreeBusy</t:FreeBusyViewType>")
            && !lee.contains("<t:Subject>"),
        "Default AvailabilityOnly downgrades Detailed to FreeBusy: {lee}"
    );
    assert!(
        megan.contains("<t:FreeBusyViewType>Detailed</t:FreeBusyViewType>")
            && megan.contains("<t:Subject>Campaign planning</t:Subject>"),
        "Editor sees details: {megan}"
    );
    assert!(
        adele_as_owner.contains("<t:FreeBusyViewType>Detailed</t:FreeBusyViewType>")
            && adele_as_owner.contains("<t:Subject>Doctor appointment</t:Subject>"),
        "impersonating the owner is the owner, private items included: {adele_as_owner}"
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
async fn an_unauthenticated_request_is_challenged_with_exactly_the_virtual_directorys_methods() {
    let sandbox = plain_sandbox().await;
    assert_eq!(
        offered_schemes(&sandbox).await,
        vec!["NTLM", "Negotiate", "Basic"]
    );
    let online = online_sandbox().await;
    assert_eq!(offered_schemes(&online).await, vec!["Bearer"]);
}

pub(crate) async fn online_sandbox() -> SandboxHandle {
    Sandbox::builder()
        .tenant(calconnect_sandbox::Tenant::demo_exchange_online())
        .tls(false)
        .bind("127.0.0.1:0".parse().unwrap())
        .start()
        .await
        .expect("sandbox starts")
}

#[tokio::test]
async fn with_basic_disabled_only_windows_authentication_is_offered_and_basic_is_refused() {
    use calconnect_sandbox::tenant::AuthMethod;
    let mut tenant = calconnect_sandbox::Tenant::demo();
    tenant.exchange.authentication = Some(vec![AuthMethod::Ntlm, AuthMethod::Negotiate]);
    let sandbox = Sandbox::builder()
        .tenant(tenant)
        .tls(false)
        .bind("127.0.0.1:0".parse().unwrap())
        .start()
        .await
        .unwrap();
    assert_eq!(offered_schemes(&sandbox).await, vec!["NTLM", "Negotiate"]);
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

pub(crate) async fn app_token(sandbox: &SandboxHandle) -> String {
    app_token_for(
        sandbox,
        demo::EWS_APP_CLIENT_ID,
        demo::EWS_APP_CLIENT_SECRET,
    )
    .await
}

pub(crate) async fn app_token_for(
    sandbox: &SandboxHandle,
    client_id: &str,
    secret: &str,
) -> String {
    let token: serde_json::Value = reqwest::Client::new()
        .post(
            sandbox
                .base_url()
                .join("contoso.com/oauth2/v2.0/token")
                .unwrap(),
        )
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", client_id),
            ("client_secret", secret),
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
    let sandbox = online_sandbox().await;
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
