//! "Register the apps in my tenant": the permission IDs against Microsoft's published table, the three
//! artefacts against each other, and the Azure CLI script run by a real bash against a recording `az`.

use std::path::Path;
use std::process::{Command, Stdio};

use calconnect_core::registration::{
    delegated_permission_id, display_name, GRAPH_DELEGATED_PERMISSIONS, GRAPH_RESOURCE_APP_ID,
};
use calconnect_core::RegistrationGuide;
use calconnect_identity::{AppKind, Cloud};
use serde_json::{json, Value};

/// Microsoft's table, vendored: (permission name, type, ID) for each row.
fn published_permissions() -> Vec<(String, String, String)> {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/graph-permissions-reference.md");
    let text = std::fs::read_to_string(&path).expect("the fixture is readable");
    let rows: Vec<_> = text
        .lines()
        .filter(|line| line.starts_with('|') && !line.starts_with("|--"))
        .map(|line| {
            let cells: Vec<String> = line
                .trim_matches('|')
                .split('|')
                .map(|cell| cell.trim().to_owned())
                .collect();
            assert_eq!(cells.len(), 3, "a row has name, type and ID: {line}");
            (cells[0].clone(), cells[1].clone(), cells[2].clone())
        })
        .filter(|(name, _, _)| name != "Permission name")
        .collect();
    assert!(rows.len() >= 5, "the fixture has its rows");
    rows
}

fn published_delegated_id(name: &str) -> String {
    let rows = published_permissions();
    let matches: Vec<_> = rows
        .iter()
        .filter(|(row, kind, _)| row == name && kind == "Delegated")
        .collect();
    match matches.as_slice() {
        [(_, _, id)] => id.clone(),
        other => panic!(
            "Microsoft's table has {} delegated rows for {name}",
            other.len()
        ),
    }
}

fn guide() -> RegistrationGuide {
    RegistrationGuide::new(Cloud::Global, "contoso.com")
}

#[test]
fn every_permission_id_is_the_one_microsoft_publishes_for_that_delegated_permission() {
    for (name, id) in GRAPH_DELEGATED_PERMISSIONS {
        assert_eq!(id, published_delegated_id(name), "{name}");
    }
    // An application permission's ID in place of the delegated one would be refused by consent; the table
    // has both for Calendars.ReadWrite, and only the delegated one may be used.
    let application: Vec<_> = published_permissions()
        .into_iter()
        .filter(|(_, kind, _)| kind == "Application")
        .map(|(_, _, id)| id)
        .collect();
    for (name, id) in GRAPH_DELEGATED_PERMISSIONS {
        assert!(
            !application.contains(&id.to_owned()),
            "{name} uses an application permission's ID"
        );
    }
    for app in AppKind::ALL {
        for scope in app.scopes() {
            assert_eq!(
                delegated_permission_id(scope),
                Some(published_delegated_id(scope).as_str()),
                "{app}: {scope}"
            );
        }
    }
}

/// The `application` object each app must be, built from the published table and the app's scopes.
fn expected_application(app: AppKind) -> Value {
    let access: Vec<Value> = app
        .scopes()
        .iter()
        .map(|scope| json!({ "id": published_delegated_id(scope), "type": "Scope" }))
        .collect();
    json!({
        "displayName": display_name(app),
        "signInAudience": "AzureADMyOrg",
        "isFallbackPublicClient": true,
        "publicClient": { "redirectUris": ["http://localhost"] },
        "requiredResourceAccess": [
            { "resourceAppId": "00000003-0000-0000-c000-000000000000", "resourceAccess": access }
        ],
    })
}

#[test]
fn the_manifest_is_each_app_as_a_public_client_with_its_delegated_scopes() {
    let guide = guide();
    let manifest: Value = serde_json::from_str(&guide.manifest).expect("the manifest is JSON");
    let expected: Vec<Value> = AppKind::ALL
        .iter()
        .map(|app| expected_application(*app))
        .collect();
    assert_eq!(manifest, Value::Array(expected.clone()));
    for (plan, expected) in guide.apps.iter().zip(&expected) {
        let one: Value = serde_json::from_str(&plan.manifest).expect("an app's manifest is JSON");
        assert_eq!(&one, expected, "{}", plan.display_name);
    }
}

/// Every GUID in `text`, in order.
fn guids(text: &str) -> Vec<String> {
    let bytes = text.as_bytes();
    let shape = |window: &[u8]| {
        window.iter().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => *b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
    };
    (0..bytes.len().saturating_sub(35))
        .filter(|start| shape(&bytes[*start..start + 36]))
        .map(|start| text[start..start + 36].to_owned())
        .collect()
}

#[test]
fn the_powershell_script_requests_each_apps_scopes_and_prints_its_client_id() {
    let guide = guide();
    let script = &guide.powershell;
    assert!(
        script.contains("Connect-MgGraph -Environment 'Global' -TenantId 'contoso.com' -Scopes 'AppRegistration.Create' -NoWelcome"),
        "{script}"
    );
    // One section per app, from its `$params = @{` to its New-MgApplication.
    let sections: Vec<&str> = script.split("$params = @{").skip(1).collect();
    assert_eq!(sections.len(), 3, "{script}");
    for (app, section) in AppKind::ALL.iter().zip(&sections) {
        let section = section.split("New-MgApplication").next().unwrap();
        assert!(
            section.contains(&format!(
                "DisplayName            = '{}'",
                display_name(*app)
            )),
            "{section}"
        );
        assert!(
            section.contains("SignInAudience         = 'AzureADMyOrg'"),
            "{section}"
        );
        assert!(
            section.contains("IsFallbackPublicClient = $true"),
            "{section}"
        );
        assert!(
            section.contains("PublicClient           = @{ RedirectUris = @('http://localhost') }"),
            "{section}"
        );
        let mut expected = vec![GRAPH_RESOURCE_APP_ID.to_owned()];
        expected.extend(
            app.scopes()
                .iter()
                .map(|scope| published_delegated_id(scope)),
        );
        assert_eq!(guids(section), expected, "{app}: {section}");
        for scope in app.scopes() {
            assert!(
                section.contains(&format!(
                    "@{{ Id = '{}'; Type = 'Scope' }} # {scope}",
                    published_delegated_id(scope)
                )),
                "{section}"
            );
        }
    }
    for line in [
        "'{0,-40} {1}' -f 'Tenant ID:', (Get-MgContext).TenantId",
        "'{0,-40} {1}' -f 'Client ID of the Full app:', $calconnect_full.AppId",
        "'{0,-40} {1}' -f 'Client ID of the Free/Busy app:', $calconnect_freebusy.AppId",
        "'{0,-40} {1}' -f 'Client ID of the Teams conferencing app:', $calconnect_teams.AppId",
    ] {
        assert!(
            script.lines().any(|candidate| candidate == line),
            "{line} in\n{script}"
        );
    }
    assert!(
        !script
            .lines()
            .any(|line| line.ends_with('`') || line.ends_with(' ')),
        "{script}"
    );
}

#[test]
fn a_national_cloud_is_signed_in_to_by_both_scripts() {
    let dod = RegistrationGuide::new(Cloud::UsGovernmentDod, "army.mil");
    assert!(dod.powershell.contains("Connect-MgGraph -Environment 'USGovDoD' -TenantId 'army.mil' -Scopes 'Application.ReadWrite.All'"));
    assert!(dod
        .azure_cli
        .starts_with("az cloud set --name AzureUSGovernment\n"));
    assert!(dod
        .notes
        .iter()
        .any(|note| note.contains("dod-graph.microsoft.us")));
    let china = RegistrationGuide::new(Cloud::China, "organizations");
    assert!(china
        .azure_cli
        .starts_with("az cloud set --name AzureChinaCloud\naz login --allow-no-subscriptions\n"));
    assert!(china
        .powershell
        .contains("Connect-MgGraph -Environment 'China' -Scopes"));
    assert_eq!(china.tenant, None);
}

/// An `az` that records each call (arguments separated by 0x1f, calls by 0x1e) and answers as the real one
/// does with `--query … --output tsv`.
const FAKE_AZ: &str = r#"#!/usr/bin/env bash
printf '%s\x1f' "$@" >> "$AZ_LOG"
printf '\x1e' >> "$AZ_LOG"
case "$1 $2 $3" in
  "ad app create")
    name=""; previous=""
    for argument in "$@"; do
      [ "$previous" = "--display-name" ] && name="$argument"
      previous="$argument"
    done
    case "$name" in
      "calconnect Full") echo 11111111-1111-1111-1111-111111111111 ;;
      "calconnect Free/Busy") echo 22222222-2222-2222-2222-222222222222 ;;
      "calconnect Teams conferencing") echo 33333333-3333-3333-3333-333333333333 ;;
      *) echo "unexpected display name: $name" >&2; exit 3 ;;
    esac ;;
  "account show --query") echo 99999999-9999-9999-9999-999999999999 ;;
esac
"#;

fn argument_after<'a>(call: &'a [String], option: &str) -> &'a str {
    let at = call
        .iter()
        .position(|argument| argument == option)
        .unwrap_or_else(|| panic!("{option} in {call:?}"));
    &call[at + 1]
}

#[test]
fn the_azure_cli_script_pasted_into_bash_creates_the_three_apps_and_prints_their_ids() {
    let guide = guide();
    let directory = tempfile::tempdir().unwrap();
    let az = directory.path().join("az");
    std::fs::write(&az, FAKE_AZ).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&az, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let log = directory.path().join("az.log");
    let path = format!(
        "{}:{}",
        directory.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    // As if pasted at a prompt: the script on standard input of a shell with no start-up files.
    let mut shell = Command::new("bash")
        .args(["--norc", "--noprofile", "-s"])
        .env("PATH", path)
        .env("AZ_LOG", &log)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("bash runs");
    use std::io::Write;
    shell
        .stdin
        .take()
        .unwrap()
        .write_all(guide.azure_cli.as_bytes())
        .unwrap();
    let output = shell.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        output.stderr,
        b"",
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let expected: String = [
        ("Tenant ID:", "99999999-9999-9999-9999-999999999999"),
        (
            "Client ID of the Full app:",
            "11111111-1111-1111-1111-111111111111",
        ),
        (
            "Client ID of the Free/Busy app:",
            "22222222-2222-2222-2222-222222222222",
        ),
        (
            "Client ID of the Teams conferencing app:",
            "33333333-3333-3333-3333-333333333333",
        ),
    ]
    .iter()
    .map(|(label, id)| format!("{label:<40} {id}\n"))
    .collect();
    assert_eq!(stdout, expected);

    let recorded = std::fs::read_to_string(&log).unwrap();
    let calls: Vec<Vec<String>> = recorded
        .split('\u{1e}')
        .filter(|call| !call.is_empty())
        .map(|call| {
            call.split('\u{1f}')
                .filter(|a| !a.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .collect();
    assert_eq!(calls[0], ["cloud", "set", "--name", "AzureCloud"]);
    assert_eq!(
        calls[1],
        [
            "login",
            "--allow-no-subscriptions",
            "--tenant",
            "contoso.com"
        ]
    );
    let creates: Vec<&Vec<String>> = calls
        .iter()
        .filter(|call| call.starts_with(&["ad".into(), "app".into(), "create".into()]))
        .collect();
    assert_eq!(creates.len(), 3, "{calls:?}");
    for (app, call) in AppKind::ALL.iter().zip(creates) {
        let expected = expected_application(*app);
        assert_eq!(argument_after(call, "--display-name"), display_name(*app));
        assert_eq!(argument_after(call, "--sign-in-audience"), "AzureADMyOrg");
        assert_eq!(argument_after(call, "--is-fallback-public-client"), "true");
        assert_eq!(
            argument_after(call, "--public-client-redirect-uris"),
            "http://localhost"
        );
        let access: Value =
            serde_json::from_str(argument_after(call, "--required-resource-accesses"))
                .expect("--required-resource-accesses is JSON");
        assert_eq!(access, expected["requiredResourceAccess"], "{app}");
        assert_eq!(argument_after(call, "--query"), "appId");
        assert_eq!(argument_after(call, "--output"), "tsv");
    }
    assert_eq!(
        calls.last().unwrap(),
        &["account", "show", "--query", "tenantId", "--output", "tsv"]
    );
    // zsh runs a pasted `# …` line as a command unless interactive_comments is set.
    assert!(
        !guide
            .azure_cli
            .lines()
            .any(|line| line.trim_start().starts_with('#')),
        "{}",
        guide.azure_cli
    );
}
