use std::time::Duration;

use calconnect_sandbox::demo;
use calconnect_sandbox::tenant::week_start;
use serde_json::{json, Value};

use crate::support::{
    assert_graph_valid as assert_valid, graph_schema as schema_validator, sign_in_tokens, world,
    World, FREEBUSY_SCOPES, FULL_SCOPES,
};

async fn get(world: &World, token: &str, url: &str) -> (u16, Value) {
    let response = world.http.get(url).bearer_auth(token).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

async fn token_for(world: &World, user: &str, scopes: &str, client_id: &str) -> String {
    sign_in_tokens(world, client_id, scopes, user).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn me_returns_the_signed_in_user() {
    let world = world().await;
    let token = token_for(&world, demo::ADELE, FULL_SCOPES, demo::FULL_APP_CLIENT_ID).await;
    let (status, me) = get(&world, &token, &format!("{}me", world.sandbox.graph_url())).await;
    assert_eq!(status, 200);
    assert_eq!(me["userPrincipalName"], demo::ADELE);
    assert_valid(&schema_validator("user", false), &me);
}

#[tokio::test]
async fn missing_or_forged_tokens_get_401_invalid_authentication_token() {
    let world = world().await;
    let url = format!("{}me", world.sandbox.graph_url());
    let response = world.http.get(&url).send().await.unwrap();
    assert_eq!(response.status(), 401);
    let challenge = response.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        challenge.contains(&format!(
            "authorization_uri=\"{}common/oauth2/authorize\"",
            world.sandbox.base_url()
        )),
        "the challenge names the sandbox, not login.microsoftonline.com: {challenge}"
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "InvalidAuthenticationToken");
    assert!(body["error"]["innerError"]["request-id"].is_string());
    let (status, body) = get(&world, "eyJhbGciOiJSUzI1NiJ9.e30.c2ln", &url).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (401, Some("InvalidAuthenticationToken"))
    );
}

#[tokio::test]
async fn expired_access_token_gets_401() {
    let world = world().await;
    let token = token_for(&world, demo::ADELE, FULL_SCOPES, demo::FULL_APP_CLIENT_ID).await;
    world.sandbox.advance_time(Duration::from_secs(3600));
    let (status, body) = get(&world, &token, &format!("{}me", world.sandbox.graph_url())).await;
    assert_eq!(status, 401);
    assert_eq!(
        body["error"]["message"],
        "Access token has expired or is not yet valid."
    );
    let date = chrono::NaiveDateTime::parse_from_str(
        body["error"]["innerError"]["date"].as_str().unwrap(),
        "%Y-%m-%dT%H:%M:%S",
    )
    .unwrap()
    .and_utc();
    assert!(
        date >= chrono::Utc::now() + chrono::Duration::minutes(59),
        "innerError.date is sandbox time: {date}"
    );
}

#[tokio::test]
async fn app_only_token_on_me_gets_403_error_access_denied() {
    let world = world().await;
    let (status, body) = crate::support::post_token(
        &world,
        &[
            ("client_id", demo::EWS_APP_CLIENT_ID),
            ("client_secret", demo::EWS_APP_CLIENT_SECRET),
            ("grant_type", "client_credentials"),
            ("scope", "https://graph.microsoft.com/.default"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = get(
        &world,
        body["access_token"].as_str().unwrap(),
        &format!("{}me", world.sandbox.graph_url()),
    )
    .await;
    assert_eq!(status, 403);
    assert_eq!(body["error"]["code"], "ErrorAccessDenied");
}

#[tokio::test]
async fn token_without_the_permission_gets_403_error_access_denied() {
    let world = world().await;
    let token = token_for(
        &world,
        demo::ADELE,
        "User.Read offline_access",
        demo::FULL_APP_CLIENT_ID,
    )
    .await;
    let (status, body) = get(
        &world,
        &token,
        &format!("{}me/calendars", world.sandbox.graph_url()),
    )
    .await;
    assert_eq!(status, 403);
    assert_eq!(body["error"]["code"], "ErrorAccessDenied");
}

#[tokio::test]
async fn calendars_page_with_absolute_next_links_until_exhausted() {
    let world = world().await;
    let token = token_for(
        &world,
        demo::MEGAN,
        FREEBUSY_SCOPES,
        demo::FREEBUSY_APP_CLIENT_ID,
    )
    .await;
    let validator = schema_validator("calendar", true);
    let mut url = format!("{}me/calendars", world.sandbox.graph_url());
    let mut names = Vec::new();
    let mut pages = 0;
    loop {
        let (status, page) = get(&world, &token, &url).await;
        assert_eq!(status, 200, "{page}");
        assert_valid(&validator, &page);
        assert!(page["@odata.context"].is_string());
        pages += 1;
        names.extend(
            page["value"]
                .as_array()
                .unwrap()
                .iter()
                .map(|calendar| calendar["name"].as_str().unwrap().to_owned()),
        );
        match page.get("@odata.nextLink").and_then(Value::as_str) {
            Some(next) => {
                assert!(
                    next.starts_with(world.sandbox.base_url().as_str()),
                    "nextLink is absolute: {next}"
                );
                url = next.to_owned();
            }
            None => break,
        }
    }
    assert_eq!(names.len(), 25, "megan has 25 calendars");
    assert_eq!(pages, 3, "default page size is 10");
}

#[tokio::test]
async fn calendars_honour_top_up_to_graphs_maximum_and_carry_it_into_the_next_link() {
    let world = world().await;
    let token = token_for(
        &world,
        demo::MEGAN,
        FREEBUSY_SCOPES,
        demo::FREEBUSY_APP_CLIENT_ID,
    )
    .await;
    let calendars = format!("{}me/calendars", world.sandbox.graph_url());

    // A page as large as the client asks for (Outlook collections take $top up to 1000): all 25, no next page.
    let (status, page) = get(&world, &token, &format!("{calendars}?$top=100")).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["value"].as_array().unwrap().len(), 25);
    assert!(page.get("@odata.nextLink").is_none(), "{page}");

    // A smaller $top pages by it, and the next link keeps asking for the same size.
    let (status, page) = get(&world, &token, &format!("{calendars}?$top=20")).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["value"].as_array().unwrap().len(), 20);
    let next = page["@odata.nextLink"].as_str().unwrap();
    let next_url = url::Url::parse(next).unwrap();
    assert!(
        next_url
            .query_pairs()
            .any(|(key, value)| key == "$top" && value == "20"),
        "{next}"
    );
    let (status, rest) = get(&world, &token, next).await;
    assert_eq!(status, 200, "{rest}");
    assert_eq!(rest["value"].as_array().unwrap().len(), 5);
    assert!(rest.get("@odata.nextLink").is_none(), "{rest}");
}

#[tokio::test]
async fn calendar_view_expands_the_recurring_stand_up() {
    let world = world().await;
    let token = token_for(&world, demo::ADELE, FULL_SCOPES, demo::FULL_APP_CLIENT_ID).await;
    let monday = week_start(chrono::Utc::now());
    let mut url = world.sandbox.graph_url().join("me/calendarView").unwrap();
    url.query_pairs_mut()
        .append_pair("startDateTime", &monday.to_rfc3339())
        .append_pair(
            "endDateTime",
            &(monday + chrono::Duration::days(7)).to_rfc3339(),
        )
        .append_pair("$top", "50");
    let response = world
        .http
        .get(url)
        .bearer_auth(&token)
        .header("Prefer", "outlook.timezone=\"UTC\"")
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.headers()["preference-applied"],
        "outlook.timezone=\"UTC\""
    );
    let page: Value = response.json().await.unwrap();
    assert_valid(&schema_validator("event", true), &page);
    let events = page["value"].as_array().unwrap();
    let standups = events
        .iter()
        .filter(|event| event["subject"] == "Daily stand-up")
        .count();
    assert_eq!(standups, 5);
    assert!(events.iter().any(|event| event["isAllDay"] == true));
    assert!(events
        .iter()
        .all(|event| event["start"]["timeZone"] == "UTC"));
}

#[tokio::test]
async fn calendar_view_without_a_window_is_a_bad_request() {
    let world = world().await;
    let token = token_for(&world, demo::ADELE, FULL_SCOPES, demo::FULL_APP_CLIENT_ID).await;
    let (status, body) = get(
        &world,
        &token,
        &format!("{}me/calendarView", world.sandbox.graph_url()),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["code"], "ErrorInvalidParameter");
}

async fn get_schedule(world: &World, token: &str, body: &Value) -> (u16, Value) {
    let response = world
        .http
        .post(format!(
            "{}me/calendar/getSchedule",
            world.sandbox.graph_url()
        ))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

fn schedule_request(schedules: &[&str], days: i64) -> Value {
    let monday = week_start(chrono::Utc::now());
    json!({
        "schedules": schedules,
        "startTime": {"dateTime": monday.format("%Y-%m-%dT%H:%M:%S").to_string(), "timeZone": "UTC"},
        "endTime": {"dateTime": (monday + chrono::Duration::days(days)).format("%Y-%m-%dT%H:%M:%S").to_string(), "timeZone": "UTC"},
        "availabilityViewInterval": 60,
    })
}

#[tokio::test]
async fn get_schedule_of_another_user_shows_only_status_and_times_and_reports_unknown_users() {
    let world = world().await;
    let token = token_for(
        &world,
        demo::LEE,
        FREEBUSY_SCOPES,
        demo::FREEBUSY_APP_CLIENT_ID,
    )
    .await;
    let (status, body) = get_schedule(
        &world,
        &token,
        &schedule_request(&[demo::ADELE, "ghost@contoso.com"], 7),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_valid(&schema_validator("scheduleInformation", true), &body);
    let adele = &body["value"][0];
    assert_eq!(adele["availabilityView"].as_str().unwrap().len(), 7 * 24);
    let items = adele["scheduleItems"].as_array().unwrap();
    assert!(items.iter().any(|item| item["status"] == "tentative"));
    assert!(
        items.iter().all(|item| item.get("subject").is_none()
            && item.get("location").is_none()
            && item.get("isPrivate").is_none()),
        "Adele shares free/busy only: {items:?}"
    );
    assert_eq!(
        body["value"][1]["error"]["responseCode"],
        "ErrorMailRecipientNotFound"
    );
}

#[tokio::test]
async fn get_schedule_of_oneself_shows_details_except_for_private_events() {
    let world = world().await;
    let token = token_for(&world, demo::ADELE, FULL_SCOPES, demo::FULL_APP_CLIENT_ID).await;
    let (status, body) = get_schedule(&world, &token, &schedule_request(&[demo::ADELE], 7)).await;
    assert_eq!(status, 200, "{body}");
    let items = body["value"][0]["scheduleItems"].as_array().unwrap();
    assert!(items
        .iter()
        .any(|item| item["subject"] == "Product review: Mark 8" && item["isPrivate"] == false));
    let private = items
        .iter()
        .find(|item| item["subject"].is_null() && item["status"] == "busy")
        .expect("the private doctor appointment is listed without details");
    assert!(private.get("location").is_none() && private.get("isPrivate").is_none());
}

#[tokio::test]
async fn a_non_utc_time_zone_preference_is_ignored_not_refused() {
    let world = world().await;
    let token = token_for(&world, demo::ADELE, FULL_SCOPES, demo::FULL_APP_CLIENT_ID).await;
    let monday = week_start(chrono::Utc::now());
    let url = format!(
        "{}me/calendarView?startDateTime={}&endDateTime={}",
        world.sandbox.graph_url(),
        monday.format("%Y-%m-%dT%H:%M:%SZ"),
        (monday + chrono::Duration::days(7)).format("%Y-%m-%dT%H:%M:%SZ")
    );
    let response = world
        .http
        .get(&url)
        .bearer_auth(&token)
        .header("Prefer", "outlook.timezone=\"Pacific Standard Time\"")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers().get("preference-applied").is_none(),
        "only an applied preference is confirmed"
    );
    let body: Value = response.json().await.unwrap();
    assert!(body["value"]
        .as_array()
        .unwrap()
        .iter()
        .all(|event| event["start"]["timeZone"] == "UTC"));
    let response = world
        .http
        .post(format!(
            "{}me/calendar/getSchedule",
            world.sandbox.graph_url()
        ))
        .bearer_auth(&token)
        .header("Prefer", "outlook.timezone=\"Pacific Standard Time\"")
        .json(&schedule_request(&[demo::ADELE], 1))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn get_schedule_rejects_more_than_20_schedules_and_windows_of_62_days() {
    let world = world().await;
    let token = token_for(&world, demo::ADELE, FULL_SCOPES, demo::FULL_APP_CLIENT_ID).await;
    let many: Vec<String> = (0..21)
        .map(|index| format!("user{index}@contoso.com"))
        .collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    let (status, _) = get_schedule(&world, &token, &schedule_request(&many, 1)).await;
    assert_eq!(status, 400);
    let (status, _) = get_schedule(&world, &token, &schedule_request(&[demo::ADELE], 62)).await;
    assert_eq!(status, 400);
    let (status, _) = get_schedule(&world, &token, &schedule_request(&[demo::ADELE], 61)).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn online_meeting_needs_the_scope_and_a_teams_enabled_user() {
    let world = world().await;
    let body = json!({"startDateTime": "2030-01-01T10:00:00Z", "endDateTime": "2030-01-01T11:00:00Z", "subject": "Sync"});
    let url = format!("{}me/onlineMeetings", world.sandbox.graph_url());
    let without_scope = token_for(&world, demo::ADELE, FULL_SCOPES, demo::FULL_APP_CLIENT_ID).await;
    let response = world
        .http
        .post(&url)
        .bearer_auth(&without_scope)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    let token = token_for(
        &world,
        demo::ADELE,
        "User.Read OnlineMeetings.ReadWrite offline_access",
        demo::FULL_APP_CLIENT_ID,
    )
    .await;
    let response = world
        .http
        .post(&url)
        .bearer_auth(&token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let meeting: Value = response.json().await.unwrap();
    assert_valid(&schema_validator("onlineMeeting", false), &meeting);
    assert!(meeting["joinWebUrl"]
        .as_str()
        .unwrap()
        .starts_with("https://teams.microsoft.com/l/meetup-join/"));
    assert_eq!(meeting["startDateTime"], "2030-01-01T10:00:00.0000000Z");
    let created = meeting["creationDateTime"].as_str().unwrap();
    let fraction = created.trim_end_matches('Z').split('.').nth(1).unwrap();
    assert_eq!(fraction.len(), 7, "seven fractional digits: {created}");
}

#[tokio::test]
async fn a_tenant_that_reads_get_schedule_as_needing_calendars_read_refuses_a_read_basic_token() {
    let mut tenant = calconnect_sandbox::Tenant::demo();
    tenant.graph.get_schedule_requires = Some("Calendars.Read".to_owned());
    let world =
        crate::support::world_with(calconnect_sandbox::Sandbox::builder().tenant(tenant)).await;
    let free_busy = token_for(
        &world,
        demo::LEE,
        FREEBUSY_SCOPES,
        demo::FREEBUSY_APP_CLIENT_ID,
    )
    .await;
    let request = schedule_request(&[demo::ADELE], 7);
    let (status, body) = get_schedule(&world, &free_busy, &request).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"]["code"], "ErrorAccessDenied");
    let full = token_for(&world, demo::ADELE, FULL_SCOPES, demo::FULL_APP_CLIENT_ID).await;
    let (status, body) = get_schedule(&world, &full, &request).await;
    assert_eq!(status, 200, "Calendars.ReadWrite still works: {body}");
}

#[tokio::test]
async fn where_get_schedule_is_refused_calendar_view_serves_a_read_basic_token_only_the_selected_properties(
) {
    let mut tenant = calconnect_sandbox::Tenant::demo();
    tenant.graph.get_schedule_requires = Some("Calendars.Read".to_owned());
    let world =
        crate::support::world_with(calconnect_sandbox::Sandbox::builder().tenant(tenant)).await;
    let token = token_for(
        &world,
        demo::ADELE,
        FREEBUSY_SCOPES,
        demo::FREEBUSY_APP_CLIENT_ID,
    )
    .await;

    // Graph's refusal as Outlook sends it (facts §2.5): the envelope with a request id.
    let (status, body) = get_schedule(&world, &token, &schedule_request(&[demo::ADELE], 7)).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"]["code"], "ErrorAccessDenied");
    assert_eq!(
        body["error"]["message"],
        "Access is denied. Check credentials and try again."
    );
    assert!(body["error"]["innerError"]["request-id"].is_string());

    let monday = week_start(chrono::Utc::now());
    let mut url = world.sandbox.graph_url().join("me/calendarView").unwrap();
    url.query_pairs_mut()
        .append_pair("startDateTime", &monday.to_rfc3339())
        .append_pair(
            "endDateTime",
            &(monday + chrono::Duration::days(7)).to_rfc3339(),
        )
        .append_pair("$select", "showAs,start,end")
        .append_pair("$top", "3");
    let (status, page) = get(&world, &token, url.as_str()).await;
    assert_eq!(
        status, 200,
        "Calendars.ReadBasic reads calendarView: {page}"
    );
    assert!(
        page["@odata.context"]
            .as_str()
            .unwrap()
            .ends_with("/calendarView(showAs,start,end)"),
        "{page}"
    );
    assert_valid(&schema_validator("event", true), &page);
    let events = page["value"].as_array().unwrap();
    assert_eq!(events.len(), 3, "$top is the page size");
    for event in events {
        let mut keys: Vec<&str> = event
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort_unstable();
        assert_eq!(keys, ["end", "id", "showAs", "start"], "{event}");
    }
    let next = page["@odata.nextLink"]
        .as_str()
        .expect("more than 3 events");
    assert!(
        next.contains("%24select=showAs%2Cstart%2Cend") || next.contains("$select=showAs"),
        "{next}"
    );
    let (status, second) = get(&world, &token, next).await;
    assert_eq!(status, 200);
    assert!(
        second["value"][0].get("subject").is_none(),
        "$select kept on the next page: {second}"
    );

    let mut refused = world.sandbox.graph_url().join("me/calendarView").unwrap();
    refused
        .query_pairs_mut()
        .append_pair("startDateTime", &monday.to_rfc3339())
        .append_pair(
            "endDateTime",
            &(monday + chrono::Duration::days(7)).to_rfc3339(),
        )
        .append_pair("$select", "showAs,colour");
    let (status, body) = get(&world, &token, refused.as_str()).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["code"], "RequestBroker--ParseUri");
}
