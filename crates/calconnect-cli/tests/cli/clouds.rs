//! `--cloud`: the presets' spellings, and `gcc`, which is the worldwide cloud.

use std::process::Stdio;

struct Run {
    code: i32,
    stderr: String,
}

/// Runs `calconnect --cloud CLOUD exchange-test …` with no password anywhere: it stops before any network
/// call, after the global options were read.
async fn with_cloud(cloud: &str) -> Run {
    let directory = tempfile::tempdir().unwrap();
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_calconnect"))
        .args([
            "--config",
            &directory.path().join("config.toml").display().to_string(),
        ])
        .args(["--cloud", cloud])
        .args(["exchange-test", "--mailbox", "adele@contoso.com"])
        .args(["--user", "svc-calconnect@contoso.com"])
        .env_remove("CALCONNECT_EWS_SECRET")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .await
        .expect("calconnect runs");
    Run {
        code: output.status.code().unwrap_or(-1),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

#[tokio::test]
async fn gcc_is_accepted_as_the_worldwide_cloud_with_a_note() {
    let run = with_cloud("gcc").await;
    assert!(
        run.stderr
            .contains("note: GCC (moderate) tenants use the worldwide"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("no password given"), "{}", run.stderr);
}

#[tokio::test]
async fn every_preset_spelling_is_accepted_without_a_note() {
    for cloud in [
        "global",
        "usgov",
        "gcc-high",
        "dod",
        "us-gov-dod",
        "usgov-dod",
        "china",
    ] {
        let run = with_cloud(cloud).await;
        assert_ne!(run.code, 2, "{cloud} is a cloud:\n{}", run.stderr);
        assert!(!run.stderr.contains("note:"), "{cloud}:\n{}", run.stderr);
    }
}

#[tokio::test]
async fn an_unknown_cloud_is_a_usage_error_naming_the_presets() {
    let run = with_cloud("germany").await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("germany")
            && run.stderr.contains("gcc-high")
            && run.stderr.contains("dod"),
        "{}",
        run.stderr
    );
}
