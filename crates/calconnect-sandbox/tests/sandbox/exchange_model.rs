//! Exchange's primitives as a client meets them over loopback: app-only EWS inside and outside an RBAC
//! for Applications scope, the organisation's allow lists, `ServerVersionInfo` per deployment, every
//! distinguished folder, GetItem, a plain FindItem and the merged free/busy string.

use calconnect_sandbox::{demo, Sandbox, Tenant};

use crate::ews_schema::{
    app_token, app_token_for, assert_valid, availability_view, get_folder, get_folder_of,
    online_sandbox, post,
};

const NAMESPACES: &str = r#"xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types""#;

fn envelope(impersonate: Option<&str>, body: &str) -> String {
    let header = impersonate.map_or(String::new(), |mailbox| {
        format!("<t:ExchangeImpersonation><t:ConnectingSID><t:SmtpAddress>{mailbox}</t:SmtpAddress></t:ConnectingSID></t:ExchangeImpersonation>")
    });
    format!(
        r#"<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" {NAMESPACES}><soap:Header><t:RequestServerVersion Version="Exchange2016"/>{header}</soap:Header><soap:Body>{body}</soap:Body></soap:Envelope>"#
    )
}

/// An app-only request impersonating `mailbox` (with X-AnchorMailbox), or not impersonating at all.
async fn app_request(
    sandbox: &calconnect_sandbox::SandboxHandle,
    token: &str,
    mailbox: Option<&str>,
    body: &str,
) -> (u16, String) {
    let mut request = reqwest::Client::new()
        .post(sandbox.ews_url())
        .bearer_auth(token)
        .header("Content-Type", "text/xml; charset=utf-8")
        .body(envelope(mailbox, body));
    if let Some(mailbox) = mailbox {
        request = request.header("X-AnchorMailbox", mailbox);
    }
    let response = request.send().await.expect("ews answers");
    (
        response.status().as_u16(),
        response.text().await.unwrap_or_default(),
    )
}

#[tokio::test]
async fn app_only_ews_reaches_mailboxes_in_its_rbac_scope_and_gets_403_outside_it() {
    let sandbox = online_sandbox().await;
    let token = app_token(&sandbox).await;
    let (status, body) =
        app_request(&sandbox, &token, Some(demo::ADELE), &get_folder("inbox")).await;
    assert_eq!(status, 200, "adele is in the Retail scope: {body}");
    assert!(body.contains(">NoError<"), "{body}");
    let (status, body) =
        app_request(&sandbox, &token, Some(demo::MEGAN), &get_folder("calendar")).await;
    assert_eq!(status, 403, "megan is outside the scope: {body}");
    assert!(
        !body.contains("<s:Envelope"),
        "a policy block, not a SOAP answer: {body}"
    );
}

#[tokio::test]
async fn an_app_only_token_without_impersonation_gets_the_impersonation_header_fault() {
    let sandbox = online_sandbox().await;
    let token = app_token(&sandbox).await;
    let (status, body) = app_request(
        &sandbox,
        &token,
        None,
        &get_folder_of("calendar", demo::ADELE),
    )
    .await;
    assert_eq!(status, 500, "{body}");
    assert!(
        body.contains("a:ErrorInvalidExchangeImpersonationHeaderData")
            && body.contains(
                "ExchangeImpersonation SOAP header must be present for this type of OAuth token."
            ),
        "{body}"
    );
}

#[tokio::test]
async fn an_app_missing_from_ews_allowed_app_ids_gets_403_even_with_full_access_as_app() {
    let sandbox = online_sandbox().await;
    let token = app_token_for(
        &sandbox,
        demo::EWS_UNLISTED_APP_CLIENT_ID,
        demo::EWS_UNLISTED_APP_CLIENT_SECRET,
    )
    .await;
    let (status, body) =
        app_request(&sandbox, &token, Some(demo::MEGAN), &get_folder("calendar")).await;
    assert_eq!(status, 403, "not on EwsAllowedAppIDs: {body}");
    // With the list emptied, the same app's tenant-wide grant reaches a mailbox outside any scope.
    let mut tenant = Tenant::demo_exchange_online();
    tenant.exchange.organization.ews_allowed_app_ids.clear();
    let open = Sandbox::builder()
        .tenant(tenant)
        .tls(false)
        .start()
        .await
        .unwrap();
    let token = app_token_for(
        &open,
        demo::EWS_UNLISTED_APP_CLIENT_ID,
        demo::EWS_UNLISTED_APP_CLIENT_SECRET,
    )
    .await;
    let (status, body) =
        app_request(&open, &token, Some(demo::MEGAN), &get_folder("calendar")).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn ews_enabled_never_set_blocks_exchange_online_but_not_on_premises() {
    let mut tenant = Tenant::demo_exchange_online();
    tenant.exchange.organization.ews_enabled = None;
    let sandbox = Sandbox::builder()
        .tenant(tenant)
        .tls(false)
        .start()
        .await
        .unwrap();
    let token = app_token(&sandbox).await;
    let (status, _) =
        app_request(&sandbox, &token, Some(demo::ADELE), &get_folder("calendar")).await;
    assert_eq!(
        status, 403,
        "from 2026-10-01 an unset EwsEnabled is blocked"
    );

    let mut tenant = Tenant::demo();
    tenant.exchange.organization.ews_enabled = Some(false);
    let sandbox = Sandbox::builder()
        .tenant(tenant)
        .tls(false)
        .start()
        .await
        .unwrap();
    let status = reqwest::Client::new()
        .post(sandbox.ews_url())
        .basic_auth(
            demo::SERVICE_ACCOUNT_UPN,
            Some(demo::SERVICE_ACCOUNT_PASSWORD),
        )
        .body(envelope(None, &get_folder("calendar")))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(
        status.as_u16(),
        403,
        "EwsEnabled False blocks on premises too"
    );
}

#[tokio::test]
async fn the_user_agent_policy_admits_only_the_allow_list() {
    use calconnect_sandbox::tenant::exchange::EwsApplicationAccessPolicy;
    let mut tenant = Tenant::demo();
    tenant.exchange.organization.ews_application_access_policy =
        Some(EwsApplicationAccessPolicy::EnforceAllowList);
    tenant.exchange.organization.ews_allow_list = vec!["OWA/*".to_owned()];
    let sandbox = Sandbox::builder()
        .tenant(tenant)
        .tls(false)
        .start()
        .await
        .unwrap();
    let send = |agent: &'static str| {
        reqwest::Client::new()
            .post(sandbox.ews_url())
            .basic_auth(
                demo::SERVICE_ACCOUNT_UPN,
                Some(demo::SERVICE_ACCOUNT_PASSWORD),
            )
            .header("User-Agent", agent)
            .body(envelope(None, &get_folder("calendar")))
            .send()
    };
    assert_eq!(send("calconnect/1.0").await.unwrap().status().as_u16(), 403);
    assert_eq!(send("OWA/15.2").await.unwrap().status().as_u16(), 200);
}

#[tokio::test]
async fn server_version_info_names_the_deployment() {
    let on_premises = Sandbox::builder().tls(false).start().await.unwrap();
    let response = reqwest::Client::new()
        .post(on_premises.ews_url())
        .basic_auth(
            demo::SERVICE_ACCOUNT_UPN,
            Some(demo::SERVICE_ACCOUNT_PASSWORD),
        )
        .body(envelope(None, &get_folder("calendar")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        response.contains(r#"MajorVersion="15" MinorVersion="2" MajorBuildNumber="1544" MinorBuildNumber="4" Version="V2017_07_11""#),
        "Exchange 2019 CU14: {response}"
    );
    let online = online_sandbox().await;
    let token = app_token(&online).await;
    let (_, body) = app_request(&online, &token, Some(demo::ADELE), &get_folder("calendar")).await;
    assert!(
        body.contains(r#"MajorVersion="15" MinorVersion="20""#)
            && body.contains(r#"Version="V2018_01_08""#),
        "{body}"
    );
}

#[tokio::test]
async fn every_distinguished_folder_answers_for_the_owner_and_validates() {
    let sandbox = Sandbox::builder().tls(false).start().await.unwrap();
    for folder in [
        "root",
        "msgfolderroot",
        "calendar",
        "contacts",
        "deleteditems",
        "drafts",
        "inbox",
        "journal",
        "junkemail",
        "notes",
        "outbox",
        "sentitems",
        "tasks",
    ] {
        let (status, body) = post(
            &sandbox,
            Some(demo::ADELE),
            &get_folder_of(folder, demo::ADELE),
        )
        .await;
        assert_eq!(status, 200, "{folder}");
        assert!(body.contains(">NoError<"), "{folder}: {body}");
        assert!(
            body.contains("<t:EffectiveRights>"),
            "AllProperties has EffectiveRights: {body}"
        );
        assert_valid(&format!("folder_{folder}"), &body);
    }
    let (_, body) = post(&sandbox, Some(demo::ADELE), &get_folder("searchfolders")).await;
    assert!(body.contains(">ErrorFolderNotFound<"), "{body}");
    assert_valid("folder_missing", &body);
}

#[tokio::test]
async fn a_delegate_editors_effective_rights_read_and_create_but_do_not_own() {
    let sandbox = Sandbox::builder().tls(false).start().await.unwrap();
    let (_, body) = post(&sandbox, None, &get_folder_of("calendar", demo::MEGAN)).await;
    assert!(
        body.contains("<t:CreateContents>true</t:CreateContents>")
            && body.contains("<t:Read>true</t:Read>")
            && body.contains("<t:Modify>false</t:Modify>"),
        "{body}"
    );
}

fn first_item_id(body: &str) -> String {
    let start = body.find("<t:ItemId Id=\"").expect("an item id") + "<t:ItemId Id=\"".len();
    body[start..start + body[start..].find('"').unwrap()].to_owned()
}

#[tokio::test]
async fn plain_find_item_and_get_item_read_items_through_the_same_rights() {
    let sandbox = Sandbox::builder().tls(false).start().await.unwrap();
    let plain = r#"<m:FindItem Traversal="Shallow"><m:ItemShape><t:BaseShape>AllProperties</t:BaseShape></m:ItemShape><m:IndexedPageItemView MaxEntriesReturned="3" Offset="0" BasePoint="Beginning"/><m:ParentFolderIds><t:DistinguishedFolderId Id="calendar"/></m:ParentFolderIds></m:FindItem>"#;
    let (status, body) = post(&sandbox, Some(demo::ADELE), plain).await;
    assert_eq!(status, 200);
    assert!(
        body.contains(r#"IncludesLastItemInRange="false""#),
        "a first page: {body}"
    );
    assert_eq!(body.matches("<t:CalendarItem>").count(), 3, "{body}");
    assert!(
        body.contains("<t:CalendarItemType>RecurringMaster</t:CalendarItemType>"),
        "{body}"
    );
    assert_valid("find_item_plain", &body);

    let id = first_item_id(&body);
    let get = format!(
        r#"<m:GetItem><m:ItemShape><t:BaseShape>AllProperties</t:BaseShape></m:ItemShape><m:ItemIds><t:ItemId Id="{id}"/></m:ItemIds></m:GetItem>"#
    );
    let (_, item) = post(&sandbox, Some(demo::ADELE), &get).await;
    assert!(
        item.contains(">NoError<") && item.contains("<t:Subject>Daily stand-up</t:Subject>"),
        "{item}"
    );
    assert_valid("get_item", &item);

    // The same id, read as the service account itself: adele's calendar gives it only Default.
    let (_, denied) = post(&sandbox, None, &get).await;
    assert!(denied.contains(">ErrorItemNotFound<"), "{denied}");
    assert_valid("get_item_denied", &denied);
    let malformed = get.replace(&id, "AAAA");
    let (_, malformed) = post(&sandbox, None, &malformed).await;
    assert!(
        malformed.contains(">ErrorInvalidIdMalformed<"),
        "{malformed}"
    );
}

#[tokio::test]
async fn merged_free_busy_has_one_digit_per_interval_and_downgrades_with_the_rights() {
    let sandbox = Sandbox::builder().tls(false).start().await.unwrap();
    let now = chrono::Utc::now();
    let (_, body) = post(
        &sandbox,
        None,
        &availability_view(demo::LEE, now, "DetailedMerged"),
    )
    .await;
    assert!(
        body.contains("<t:FreeBusyViewType>FreeBusyMerged</t:FreeBusyViewType>"),
        "{body}"
    );
    let start =
        body.find("<t:MergedFreeBusy>").expect("a merged string") + "<t:MergedFreeBusy>".len();
    let merged = &body[start..start + body[start..].find('<').unwrap()];
    // 21 days at 60-minute intervals (see availability_view's window).
    assert_eq!(merged.len(), 21 * 24, "{merged}");
    assert!(
        merged.chars().all(|digit| ('0'..='5').contains(&digit)),
        "{merged}"
    );
    assert!(
        merged.contains('2'),
        "lee's board preparation is busy time: {merged}"
    );
    let (_, only) = post(
        &sandbox,
        None,
        &availability_view(demo::MEGAN, now, "MergedOnly"),
    )
    .await;
    assert!(
        only.contains("<t:MergedFreeBusy>") && !only.contains("<t:CalendarEventArray>"),
        "{only}"
    );
    assert_valid("merged_only", &only);
}

#[tokio::test]
async fn a_window_over_42_days_is_a_fault() {
    let sandbox = Sandbox::builder().tls(false).start().await.unwrap();
    let body = availability_view(demo::LEE, chrono::Utc::now(), "FreeBusy");
    // The same request with its end moved far into the future.
    let too_long = {
        let start = body.find("<t:EndTime>").unwrap() + "<t:EndTime>".len();
        let end = start + body[start..].find('<').unwrap();
        format!("{}2099-01-01T00:00:00{}", &body[..start], &body[end..])
    };
    let (status, answer) = post(&sandbox, None, &too_long).await;
    assert_eq!(status, 500, "{answer}");
    assert!(answer.contains("a:ErrorTimeIntervalTooBig"), "{answer}");
}
