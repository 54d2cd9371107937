//! The Settings step: the cloud, tenant and client IDs a person saves are what the next run uses.

use calconnect_e2e::{app_binary, screenshot_dir, AppSession, ARROW_RIGHT};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

const SHORT: Duration = Duration::from_secs(10);
const LONG: Duration = Duration::from_secs(45);

#[tokio::test]
async fn saved_settings_choose_the_cloud_of_the_next_run() -> anyhow::Result<()> {
    let data = tempfile::tempdir()?;
    let data_dir = data.path().to_string_lossy().into_owned();
    let env = [
        ("CALCONNECT_SANDBOX", "0"),
        ("CALCONNECT_DATA_DIR", data_dir.as_str()),
    ];
    let app = app_binary()?;

    let session = AppSession::launch(&app, &[], &env).await?;
    session
        .open_step(
            "[data-testid=nav-settings]",
            "main#step h1",
            "Settings",
            LONG,
        )
        .await?;
    let cloud = session.find("[data-testid=settings-cloud]", LONG).await?;
    // Choosing an option through script, as WebKitWebDriver cannot open a native <select> under Xvfb.
    session
        .execute(
            "arguments[0].value = 'usGovernmentDod'; arguments[0].dispatchEvent(new Event('change'));",
            vec![cloud.as_argument()],
        )
        .await?;
    let tenant = session.find("#tenant", SHORT).await?;
    session
        .execute("document.getElementById('tenant').value = '';", vec![])
        .await?;
    session.type_text(&tenant, "contoso.us").await?;
    let client = session.find("#freebusyClientId", SHORT).await?;
    session
        .type_text(&client, "11111111-2222-3333-4444-555555555555")
        .await?;
    session
        .click_on("[data-testid=settings-save]", SHORT)
        .await?;
    session
        .wait_for_text("[data-testid=settings-status]", LONG, |text| {
            text == "Saved."
        })
        .await?;
    session
        .wait_for_text("[data-testid=cloud-badge]", SHORT, |text| {
            text == "Microsoft 365 US Government DoD"
        })
        .await?;
    session
        .screenshot(&screenshot_dir().join("12-settings.png"))
        .await?;
    session.close().await?;

    let saved = std::fs::read_to_string(data.path().join("settings.toml"))?;
    assert!(
        saved.contains(r#"cloud = "usGovernmentDod""#) && saved.contains("contoso.us"),
        "{saved}"
    );

    let session = AppSession::launch(&app, &[], &env).await?;
    session
        .wait_for_text("[data-testid=cloud-label]", LONG, |text| text != "loading…")
        .await
        .map(|cloud| assert_eq!(cloud, "Microsoft 365 US Government DoD"))?;
    session.close().await
}

/// Microsoft Graph's delegated permission IDs each app must request (the core tests check them against
/// Microsoft's published table).
const PERMISSION_IDS: [(&str, &str); 5] = [
    ("User.Read", "e1fe6dd8-ba31-4d61-89e7-88639da4683d"),
    (
        "Calendars.ReadWrite",
        "1ec239c2-d7c9-4623-a91a-a9775856bb36",
    ),
    (
        "Calendars.ReadBasic",
        "662d75ba-a364-42ad-adee-f5f880ea4878",
    ),
    (
        "OnlineMeetings.ReadWrite",
        "a65f2972-a4f8-4f5e-afd7-69ccb046d5dc",
    ),
    ("offline_access", "7427e0e9-2fba-42fe-b0c0-848c9e6a8182"),
];

/// A proxy on loopback that refuses every request and keeps each request's first line, so a test sees
/// which host the app reached for without any traffic leaving the machine.
async fn refusing_proxy() -> anyhow::Result<(String, Arc<Mutex<Vec<String>>>)> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let record = record.clone();
            tokio::spawn(async move {
                let mut stream = BufReader::new(stream);
                let mut line = String::new();
                if stream.read_line(&mut line).await.is_ok() {
                    record.lock().unwrap().push(line.trim_end().to_owned());
                }
                let _ = stream
                    .get_mut()
                    .write_all(
                        b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                    )
                    .await;
            });
        }
    });
    Ok((url, seen))
}

/// Home → Connect → Full → browser sign-in, and the error the sign-in stops at.
async fn start_full_sign_in(session: &AppSession) -> anyhow::Result<String> {
    session
        .open_step(
            "[data-testid=nav-home]",
            "main#step h1",
            "Connect your Outlook calendar",
            LONG,
        )
        .await?;
    session.click_on("[data-testid=connect]", LONG).await?;
    session.click_on("[data-testid=access-full]", SHORT).await?;
    session
        .click_on("[data-testid=access-continue]", SHORT)
        .await?;
    session
        .click_on("[data-testid=method-browser]", SHORT)
        .await?;
    session
        .wait_for_text("[data-testid=error-message]", LONG, |text| !text.is_empty())
        .await
}

#[tokio::test]
async fn register_the_apps_shows_the_commands_and_saves_the_ids_they_print() -> anyhow::Result<()> {
    let data = tempfile::tempdir()?;
    let data_dir = data.path().to_string_lossy().into_owned();
    let (proxy, proxied) = refusing_proxy().await?;
    let env = [
        ("CALCONNECT_SANDBOX", "0"),
        ("CALCONNECT_DATA_DIR", data_dir.as_str()),
        ("HTTPS_PROXY", proxy.as_str()),
        ("NO_PROXY", ""),
    ];
    let session = AppSession::launch(&app_binary()?, &[], &env).await?;

    // No client ID yet: the sign-in stops before it reaches Microsoft.
    let before = start_full_sign_in(&session).await?;
    assert!(
        before.starts_with("No client ID is configured for the Full"),
        "{before}"
    );
    assert_eq!(*proxied.lock().unwrap(), Vec::<String>::new());

    session
        .open_step(
            "[data-testid=nav-settings]",
            "main#step h1",
            "Settings",
            LONG,
        )
        .await?;
    // The Settings form itself refuses a client ID that is not a GUID, in Rust, before writing.
    let full = session.find("#fullClientId", LONG).await?;
    session.type_text(&full, "calconnect Full").await?;
    session
        .click_on("[data-testid=settings-save]", SHORT)
        .await?;
    session
        .wait_for_text(
            "[data-testid=settings-status] [data-testid=error-message]",
            LONG,
            |text| text == "Client ID of the Full app is not an application (client) ID.",
        )
        .await?;
    assert!(!data.path().join("settings.toml").exists());
    session
        .execute(
            "for (const id of ['tenant', 'fullClientId']) document.getElementById(id).value = '';",
            vec![],
        )
        .await?;
    let tenant = session.find("#tenant", SHORT).await?;
    session.type_text(&tenant, "contoso.com").await?;
    session
        .click_on("[data-testid=settings-register-apps]", SHORT)
        .await?;

    // The permission table and every artefact carry Graph's IDs; the commands sign in to the tenant typed.
    let table = session
        .wait_for_text("[data-testid=register-permissions]", LONG, |text| {
            text.contains("calconnect Teams conferencing")
        })
        .await?;
    for (name, id) in PERMISSION_IDS {
        assert!(
            table.contains(name) && table.contains(id),
            "{name} {id} in {table}"
        );
    }
    let az = session
        .wait_for_text("[data-testid=register-az]", SHORT, |text| {
            text.contains("az ad app create")
        })
        .await?;
    for expected in [
        "az login --allow-no-subscriptions --tenant 'contoso.com'",
        "--sign-in-audience AzureADMyOrg",
        "--is-fallback-public-client true",
        "--public-client-redirect-uris 'http://localhost'",
        "--required-resource-accesses '[{\"resourceAppId\": \"00000003-0000-0000-c000-000000000000\"",
    ] {
        assert!(az.contains(expected), "{expected} in {az}");
    }
    for (_, id) in PERMISSION_IDS {
        assert!(az.contains(id), "{id} in {az}");
    }
    let hidden = |panel: &'static str| {
        let session = &session;
        async move {
            session
                .execute(
                    "return document.getElementById(arguments[0]).hidden;",
                    vec![serde_json::json!(panel)],
                )
                .await
                .map(|value| value.as_bool())
        }
    };
    assert_eq!(hidden("register-panel-powershell").await?, Some(true));
    session
        .execute(
            "document.getElementById('register-apps-title').scrollIntoView();",
            vec![],
        )
        .await?;
    session
        .screenshot(&screenshot_dir().join("24-registration-helper.png"))
        .await?;

    session
        .click_on("[data-testid=register-tab-powershell]", SHORT)
        .await?;
    assert_eq!(hidden("register-panel-az").await?, Some(true));
    let powershell = session
        .wait_for_text("[data-testid=register-powershell]", SHORT, |text| {
            text.contains("New-MgApplication")
        })
        .await?;
    for expected in [
        "Connect-MgGraph -Environment 'Global' -TenantId 'contoso.com'",
        "IsFallbackPublicClient = $true",
        "PublicClient           = @{ RedirectUris = @('http://localhost') }",
        "ResourceAppId  = '00000003-0000-0000-c000-000000000000'",
    ] {
        assert!(powershell.contains(expected), "{expected} in {powershell}");
    }
    for (_, id) in PERMISSION_IDS {
        assert!(powershell.contains(id), "{id} in {powershell}");
    }
    // The arrow key moves to the next tab, as in every tab list.
    session
        .execute(
            "document.getElementById('register-tab-powershell').focus();",
            vec![],
        )
        .await?;
    session.press_keys(&[ARROW_RIGHT]).await?;
    let manifest = session
        .wait_for_text("#register-panel-manifest", SHORT, |text| {
            text.contains("isFallbackPublicClient")
        })
        .await?;
    assert_eq!(hidden("register-panel-manifest").await?, Some(false));
    for (_, id) in PERMISSION_IDS {
        assert!(manifest.contains(id), "{id} in {manifest}");
    }

    // A pasted line that is not an ID is caught before anything is saved.
    let tenant_id = "72f988bf-86f1-41af-91ab-2d7cd011db47";
    let ids = [
        (
            "#register-fullClientId",
            "11111111-1111-1111-1111-111111111111",
        ),
        (
            "#register-freebusyClientId",
            "22222222-2222-2222-2222-222222222222",
        ),
        (
            "#register-teamsClientId",
            "33333333-3333-3333-3333-333333333333",
        ),
    ];
    let full = session.find("#register-fullClientId", SHORT).await?;
    session
        .type_text(&full, "Client ID of the Full app:")
        .await?;
    session
        .click_on("[data-testid=register-save]", SHORT)
        .await?;
    session
        .wait_for_text("[data-testid=register-status]", SHORT, |text| {
            text.contains("Client ID of the Full app: paste the ID printed after")
        })
        .await?;
    assert!(!data.path().join("settings.toml").exists());

    session
        .execute(
            "for (const id of ['register-tenant', 'register-fullClientId']) document.getElementById(id).value = '';",
            vec![],
        )
        .await?;
    let tenant = session.find("#register-tenant", SHORT).await?;
    session.type_text(&tenant, tenant_id).await?;
    for (field, id) in ids {
        let input = session.find(field, SHORT).await?;
        session.type_text(&input, id).await?;
    }
    session
        .click_on("[data-testid=register-save]", SHORT)
        .await?;
    session
        .wait_for_text("[data-testid=settings-status]", LONG, |text| {
            text == "Saved."
        })
        .await?;
    // Back on the Settings form, with what was saved.
    for (field, expected) in [
        ("tenant", tenant_id),
        ("fullClientId", ids[0].1),
        ("freebusyClientId", ids[1].1),
        ("teamsClientId", ids[2].1),
    ] {
        let value = session
            .execute(
                "return document.getElementById(arguments[0]).value;",
                vec![serde_json::json!(field)],
            )
            .await?;
        assert_eq!(value.as_str(), Some(expected), "{field}");
    }

    // The running app now uses them: the same sign-in gets past the client ID and reaches for Microsoft's
    // worldwide sign-in host (through the test's proxy, which refuses it).
    let after = start_full_sign_in(&session).await?;
    assert_ne!(after, before);
    assert!(
        proxied
            .lock()
            .unwrap()
            .iter()
            .any(|line| line.starts_with("CONNECT login.microsoftonline.com:443 ")),
        "{:?}, then {after}",
        proxied.lock().unwrap()
    );
    session.close().await?;

    let saved = std::fs::read_to_string(data.path().join("settings.toml"))?;
    for expected in [
        r#"cloud = "global""#.to_owned(),
        format!(r#"tenant = "{tenant_id}""#),
        format!(r#"fullClientId = "{}""#, ids[0].1),
        format!(r#"freebusyClientId = "{}""#, ids[1].1),
        format!(r#"teamsClientId = "{}""#, ids[2].1),
    ] {
        assert!(saved.contains(&expected), "{expected} in {saved}");
    }
    Ok(())
}
