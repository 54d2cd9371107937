//! `register-apps`: what creates calconnect's three apps in a tenant, printed with the right permission IDs.

use calconnect_core::registration::{delegated_permission_id, display_name};
use calconnect_core::RegistrationGuide;
use calconnect_identity::{AppKind, Cloud};
use serde_json::Value;

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs `calconnect [global options] register-apps [arguments]` with `config` as config.toml. No keychain,
/// sandbox or network is involved.
async fn register_apps(config: &str, global: &[&str], arguments: &[&str]) -> Run {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("config.toml");
    std::fs::write(&path, config).unwrap();
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_calconnect"))
        .args(["--config", &path.display().to_string()])
        .args(global)
        .arg("register-apps")
        .args(arguments)
        .env(
            "CALCONNECT_KEYCHAIN_SERVICE",
            "calconnect-register-apps-test-unused",
        )
        .output()
        .await
        .expect("calconnect runs");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// The permission IDs an app's registration must request, from the core's table (which the core tests
/// check against Microsoft's published one).
fn ids(app: AppKind) -> Vec<&'static str> {
    app.scopes()
        .iter()
        .map(|scope| delegated_permission_id(scope).expect("every scope has an ID"))
        .collect()
}

#[tokio::test]
async fn the_manifest_alone_is_json_with_each_apps_delegated_permission_ids() {
    let run = register_apps("", &["--tenant", "contoso.com"], &["--shell", "manifest"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let manifest: Value =
        serde_json::from_str(&run.stdout).expect("stdout is the manifest JSON alone");
    let apps = manifest.as_array().expect("an array of applications");
    assert_eq!(apps.len(), 3);
    for (app, object) in AppKind::ALL.iter().zip(apps) {
        assert_eq!(object["displayName"], display_name(*app));
        assert_eq!(object["isFallbackPublicClient"], true);
        assert_eq!(
            object["publicClient"]["redirectUris"][0],
            "http://localhost"
        );
        let access = &object["requiredResourceAccess"][0];
        assert_eq!(
            access["resourceAppId"],
            "00000003-0000-0000-c000-000000000000"
        );
        let requested: Vec<&str> = access["resourceAccess"]
            .as_array()
            .unwrap()
            .iter()
            .map(|entry| {
                assert_eq!(entry["type"], "Scope", "{entry}");
                entry["id"].as_str().unwrap()
            })
            .collect();
        assert_eq!(requested, ids(*app), "{app}");
    }
    assert!(
        run.stderr.contains("note: The apps are single-tenant"),
        "{}",
        run.stderr
    );
}

#[tokio::test]
async fn the_azure_cli_commands_follow_the_configured_cloud_and_tenant() {
    let run = register_apps(
        "cloud = \"china\"\ntenant = \"contoso.partner.onmschina.cn\"\n",
        &[],
        &["--shell", "az"],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let expected = RegistrationGuide::new(Cloud::China, "contoso.partner.onmschina.cn");
    assert_eq!(run.stdout, expected.azure_cli);
    assert!(run.stdout.starts_with(
        "az cloud set --name AzureChinaCloud\naz login --allow-no-subscriptions --tenant 'contoso.partner.onmschina.cn'\n"
    ));
    for app in AppKind::ALL {
        for id in ids(app) {
            assert!(
                run.stdout
                    .contains(&format!("{{\"id\": \"{id}\", \"type\": \"Scope\"}}")),
                "{id}"
            );
        }
    }
}

#[tokio::test]
async fn without_a_choice_all_three_are_printed_and_json_is_the_whole_guide() {
    let run = register_apps("", &["--cloud", "gcc"], &[]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    for heading in [
        "== Azure CLI (bash or zsh) ==",
        "== Microsoft Graph PowerShell ==",
        "== Manifest (Microsoft Graph application objects) ==",
    ] {
        assert!(run.stdout.contains(heading), "{heading}");
    }
    assert!(run
        .stdout
        .contains("$calconnect_teams = New-MgApplication @params"));
    assert!(
        run.stderr
            .contains("note: GCC (moderate) tenants use the worldwide"),
        "{}",
        run.stderr
    );

    let run = register_apps(
        "",
        &["--json", "--cloud", "dod", "--tenant", "army.mil"],
        &[],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let guide: Value = serde_json::from_str(&run.stdout).expect("stdout is JSON");
    assert_eq!(guide["cloud"], "usgov-dod");
    assert_eq!(guide["tenant"], "army.mil");
    for (app, plan) in AppKind::ALL.iter().zip(guide["apps"].as_array().unwrap()) {
        let listed: Vec<&str> = plan["permissions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|permission| permission["id"].as_str().unwrap())
            .collect();
        assert_eq!(listed, ids(*app), "{app}");
    }
    assert!(guide["powershell"]
        .as_str()
        .unwrap()
        .contains("-Environment 'USGovDoD'"));
}

#[tokio::test]
async fn the_sandbox_has_nothing_to_register() {
    let run = register_apps("", &["--sandbox"], &[]).await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("the sandbox's apps are built in"),
        "{}",
        run.stderr
    );
    assert_eq!(run.stdout, "");
}

#[tokio::test]
async fn an_unknown_shell_is_a_usage_error() {
    let run = register_apps("", &[], &["--shell", "cmd"]).await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("powershell"), "{}", run.stderr);
}
