//! `calconnect login --app teams`, `teams-meeting` and `teams-test` through the real binary against the
//! sandbox.

use calconnect_sandbox::demo;

use crate::Cli;

#[tokio::test]
async fn a_teams_login_makes_a_test_meeting_that_is_deleted_and_is_refused_calendars() {
    let cli = Cli::start("teams").await;
    let login = cli
        .login_device_code("teams", demo::TEAMS_APP_CLIENT_ID, demo::ADELE)
        .await;
    assert_eq!(login.code, 0, "login succeeds:\n{}", login.stderr);
    assert_eq!(login.json()["account"]["access"], "teams");
    assert_eq!(login.json()["calendars"].as_array().map(Vec::len), Some(0));

    let meeting = cli.run(&["teams-meeting"]).await;
    assert_eq!(meeting.code, 0, "{}", meeting.stderr);
    let json = meeting.json();
    assert!(json["meeting"]["joinWebUrl"]
        .as_str()
        .is_some_and(|url| url.starts_with("https://teams.microsoft.com/l/meetup-join/")));
    assert_eq!(json["meeting"]["deleted"], true);

    let kept = cli.run(&["teams-meeting", "--keep"]).await;
    assert_eq!(kept.json()["meeting"]["deleted"], false);

    let calendars = cli.run(&["calendars"]).await;
    assert_ne!(calendars.code, 0);
    assert!(
        calendars.stdout.contains("no access to calendars")
            || calendars.stderr.contains("no access to calendars"),
        "{}\n{}",
        calendars.stdout,
        calendars.stderr
    );
}

/// Runs `teams-test` with the secret in the environment (never an argument).
async fn teams_test(cli: &Cli, user: &str, extra: &[&str]) -> crate::Output {
    let mut command = cli.command(&[
        "teams-test",
        "--client-id",
        demo::TEAMS_ENTERPRISE_APP_CLIENT_ID,
        "--tenant-id",
        demo::DOMAIN,
        "--user",
        user,
    ]);
    command.args(extra);
    if !extra.contains(&"--certificate") {
        command.env(
            "CALCONNECT_CLIENT_SECRET",
            demo::TEAMS_ENTERPRISE_APP_CLIENT_SECRET,
        );
    }
    let output = command.output().await.expect("the binary runs");
    let run = crate::Output {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    };
    assert!(!run
        .stdout
        .contains(demo::TEAMS_ENTERPRISE_APP_CLIENT_SECRET));
    assert!(!run
        .stderr
        .contains(demo::TEAMS_ENTERPRISE_APP_CLIENT_SECRET));
    run
}

#[tokio::test]
async fn teams_test_passes_inside_the_policy_and_exits_10_with_the_policy_fix_outside() {
    let cli = Cli::start("teams-test").await;
    let inside = teams_test(&cli, demo::ADELE, &[]).await;
    assert_eq!(inside.code, 0, "{}\n{}", inside.stdout, inside.stderr);
    assert_eq!(inside.json()["passed"], true);

    let outside = teams_test(&cli, demo::LEE, &[]).await;
    assert_eq!(outside.code, 10, "{}\n{}", outside.stdout, outside.stderr);
    let fixes = outside.json()["fixes"].to_string();
    assert!(
        fixes.contains("Grant-CsApplicationAccessPolicy") && fixes.contains(demo::LEE),
        "{fixes}"
    );
}

#[tokio::test]
async fn teams_test_signs_in_with_a_certificate_file() {
    let cli = Cli::start("teams-cert").await;
    let pem = cli.directory.path().join("app.pem");
    std::fs::write(&pem, demo::TEAMS_ENTERPRISE_CERTIFICATE_PEM).unwrap();
    let pem = pem.display().to_string();
    let run = teams_test(&cli, demo::ADELE, &["--certificate", &pem]).await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(!run.stdout.contains("PRIVATE KEY"));
}

#[tokio::test]
async fn graph_test_reaches_full_with_a_secret_and_exits_10_when_more_is_expected_than_granted() {
    let cli = Cli::start("graph-test").await;
    let mut command = cli.command(&[
        "graph-test",
        "--client-id",
        demo::GRAPH_ENTERPRISE_APP_CLIENT_ID,
        "--tenant-id",
        demo::DOMAIN,
        "--mailbox",
        demo::ADELE,
        "--expect",
        "full",
    ]);
    command.env(
        "CALCONNECT_CLIENT_SECRET",
        demo::GRAPH_ENTERPRISE_APP_CLIENT_SECRET,
    );
    let output = command.output().await.unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["level"], "full");
    assert!(!stdout.contains(demo::GRAPH_ENTERPRISE_APP_CLIENT_SECRET));

    let mut command = cli.command(&[
        "graph-test",
        "--client-id",
        demo::GRAPH_ENTERPRISE_NO_PLACES_APP_CLIENT_ID,
        "--tenant-id",
        demo::DOMAIN,
        "--mailbox",
        demo::ADELE,
        "--expect",
        "full",
    ]);
    command.env(
        "CALCONNECT_CLIENT_SECRET",
        demo::GRAPH_ENTERPRISE_NO_PLACES_APP_CLIENT_SECRET,
    );
    let output = command.output().await.unwrap();
    assert_eq!(
        output.status.code(),
        Some(10),
        "restricted is less than the full expected"
    );
}

#[tokio::test]
async fn graph_test_free_busy_signs_the_admin_in_and_reads_only_status_start_and_end() {
    let cli = Cli::start("graph-free-busy").await;
    let run = cli
        .with_device_code(
            &[
                "graph-test",
                "--app",
                "free-busy",
                "--device-code",
                "--client-id",
                demo::GRAPH_FREEBUSY_APP_CLIENT_ID,
                "--tenant-id",
                demo::DOMAIN,
                "--mailbox",
                demo::ADELE,
                "--also",
                demo::MEGAN,
            ],
            demo::ADELE,
        )
        .await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let report = run.json();
    assert_eq!(report["level"], "freeBusy");
    assert_eq!(
        report["kept"],
        serde_json::json!(["status", "start", "end"])
    );
    let schedules = report["schedules"].as_array().unwrap();
    assert_eq!(schedules.len(), 2);
    for block in schedules[0]["busyBlocks"].as_array().unwrap() {
        let keys: Vec<&String> = block.as_object().unwrap().keys().collect();
        assert_eq!(keys.len(), 3, "only status, start and end: {block}");
    }
}
