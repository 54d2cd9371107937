//! `calconnect --sandbox exchange-test`: the service-account test end to end through the binary, against
//! the sandbox's EWS and Autodiscover.

use std::process::Stdio;

use calconnect_sandbox::demo;
use serde_json::Value;
use tokio::io::AsyncWriteExt;

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs `calconnect --sandbox [--json] exchange-test ...` with the secret on stdin.
async fn exchange_test(json: bool, mailbox: &str, secret: &str, extra: &[&str]) -> Run {
    let directory = tempfile::tempdir().unwrap();
    let accounts = directory.path().join("accounts.json");
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_calconnect"));
    command
        .arg("--sandbox")
        .args(["--accounts-file", &accounts.display().to_string()])
        .args([
            "--config",
            &directory.path().join("config.toml").display().to_string(),
        ]);
    if json {
        command.arg("--json");
    }
    command
        .args(["exchange-test", "--mailbox", mailbox])
        .args(["--user", demo::SERVICE_ACCOUNT_UPN, "--secret-stdin"])
        .args(extra)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("calconnect starts");
    let mut stdin = child.stdin.take().unwrap();
    stdin
        .write_all(format!("{secret}\n").as_bytes())
        .await
        .unwrap();
    drop(stdin);
    let output = child.wait_with_output().await.unwrap();
    let run = Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    };
    assert!(
        !run.stdout.contains(secret) && !run.stderr.contains(secret),
        "the password must never be printed"
    );
    // Files the run wrote next to the accounts file (the sandbox state) must not hold it either.
    for entry in walk(directory.path()) {
        let bytes = std::fs::read(&entry).unwrap();
        assert!(
            !String::from_utf8_lossy(&bytes).contains(secret),
            "{} contains the password",
            entry.display()
        );
    }
    run
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

#[tokio::test]
async fn availability_only_mailbox_reaches_free_busy_and_json_names_the_level() {
    let run = exchange_test(
        true,
        demo::LEE,
        demo::SERVICE_ACCOUNT_PASSWORD,
        &["--expect", "free-busy"],
    )
    .await;
    assert_eq!(
        run.code, 0,
        "free-busy was expected and granted:\n{}\n{}",
        run.stdout, run.stderr
    );
    let report: Value = serde_json::from_str(&run.stdout).expect("--json prints the report");
    assert_eq!(report["verdict"]["level"], "freeBusy");
    assert!(
        report["steps"]
            .as_array()
            .is_some_and(|steps| steps.len() >= 5),
        "every step is in the report: {report}"
    );
}

#[tokio::test]
async fn expecting_full_from_an_availability_only_grant_exits_10_with_the_fix() {
    let run = exchange_test(
        false,
        demo::LEE,
        demo::SERVICE_ACCOUNT_PASSWORD,
        &["--expect", "full"],
    )
    .await;
    assert_eq!(
        run.code, 10,
        "full was expected but only free-busy granted:\n{}\n{}",
        run.stdout, run.stderr
    );
    assert!(
        run.stdout.contains("Access granted: Free-busy only"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("ApplicationImpersonation")
            && run.stdout.contains(demo::SERVICE_ACCOUNT_UPN),
        "the fix names the role and the service account:\n{}",
        run.stdout
    );
    assert!(
        run.stderr.contains("Autodiscover"),
        "steps are printed live on stderr:\n{}",
        run.stderr
    );
}

#[tokio::test]
async fn full_impersonation_reaches_full() {
    let run = exchange_test(
        false,
        demo::ADELE,
        demo::SERVICE_ACCOUNT_PASSWORD,
        &["--expect", "full"],
    )
    .await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("Access granted: Full"),
        "{}",
        run.stdout
    );
}

#[tokio::test]
async fn a_wrong_password_exits_10_and_exports_a_log_without_the_password() {
    let directory = tempfile::tempdir().unwrap();
    let json_path = directory.path().join("log.json");
    let text_path = directory.path().join("log.txt");
    let wrong = "Not-The-Password-4711";
    let run = exchange_test(
        false,
        demo::ADELE,
        wrong,
        &[
            "--export-json",
            &json_path.display().to_string(),
            "--export-text",
            &text_path.display().to_string(),
        ],
    )
    .await;
    assert_eq!(run.code, 10, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("Access granted: None"),
        "{}",
        run.stdout
    );
    let json = std::fs::read_to_string(&json_path).expect("JSON log written");
    let text = std::fs::read_to_string(&text_path).expect("text log written");
    serde_json::from_str::<Value>(&json).expect("the JSON export parses");
    assert!(
        text.contains("401"),
        "the text report shows the refusal:\n{text}"
    );
    assert!(
        !json.contains(wrong) && !text.contains(wrong),
        "exports never hold the password"
    );
    #[cfg(unix)]
    for path in [&json_path, &text_path] {
        use std::os::unix::fs::MetadataExt as _;
        let mode = std::fs::metadata(path).unwrap().mode() & 0o777;
        assert_eq!(mode, 0o600, "{} is private to the user", path.display());
    }
}

#[tokio::test]
async fn several_mailboxes_from_flags_and_a_csv_file_get_a_table_and_one_fix_per_kind() {
    let directory = tempfile::tempdir().unwrap();
    let list = directory.path().join("mailboxes.csv");
    // Exchange's Export-Csv quotes every field; the address column is found by its header.
    std::fs::write(
        &list,
        format!(
            "\"DisplayName\",\"PrimarySmtpAddress\"\n\"Lee\",\"{}\"\n\"Alex\",\"{}\"\n\"Adele again\",\"{}\"\n",
            demo::LEE,
            demo::ALEX,
            demo::ADELE
        ),
    )
    .unwrap();
    let list_arg = list.display().to_string();
    let run = exchange_test(
        false,
        demo::ADELE,
        demo::SERVICE_ACCOUNT_PASSWORD,
        &["--mailbox", demo::MEGAN, "--mailboxes", &list_arg],
    )
    .await;
    assert_eq!(
        run.code, 10,
        "alex reaches nothing:\n{}\n{}",
        run.stdout, run.stderr
    );
    let table_line = |mailbox: &str| {
        run.stdout
            .lines()
            .find(|line| line.starts_with(mailbox))
            .unwrap_or_else(|| panic!("no table line for {mailbox}:\n{}", run.stdout))
            .to_owned()
    };
    assert!(
        table_line(demo::ADELE).contains("Full")
            && table_line(demo::ADELE).contains("impersonation")
    );
    assert!(
        table_line(demo::MEGAN).contains("Restricted")
            && table_line(demo::MEGAN).contains("delegate access")
    );
    assert!(table_line(demo::LEE).contains("Free-busy only"));
    assert!(
        table_line(demo::ALEX).contains("None")
            && table_line(demo::ALEX).contains("ErrorNoFreeBusyAccess")
    );
    assert_eq!(
        run.stdout.matches(demo::ADELE).count(),
        1,
        "adele, given twice, is tested once and needs no fix:\n{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("4 mailboxes tested: 1 Full, 1 Restricted, 1 Free-busy only, 1 None"),
        "{}",
        run.stdout
    );
    // One scoped-impersonation command covers megan, lee and alex.
    assert_eq!(
        run.stdout.matches("New-ManagementRoleAssignment").count(),
        1,
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains(&format!(
        "PrimarySmtpAddress -eq '{}' -or PrimarySmtpAddress -eq '{}' -or PrimarySmtpAddress -eq '{}'",
        demo::MEGAN,
        demo::LEE,
        demo::ALEX
    )));
}

#[tokio::test]
async fn a_mailbox_list_with_something_that_is_not_an_address_is_refused_before_any_request() {
    let directory = tempfile::tempdir().unwrap();
    let list = directory.path().join("mailboxes.txt");
    std::fs::write(
        &list,
        format!("{}\nlee$(Remove-Mailbox)@contoso.com\n", demo::LEE),
    )
    .unwrap();
    let list_arg = list.display().to_string();
    let run = exchange_test(
        false,
        demo::ADELE,
        demo::SERVICE_ACCOUNT_PASSWORD,
        &["--mailboxes", &list_arg],
    )
    .await;
    assert_ne!(run.code, 0);
    assert!(
        run.stderr.contains("entry 2 is not a mailbox address"),
        "{}",
        run.stderr
    );
    assert!(
        !run.stderr.contains("Autodiscover"),
        "nothing ran:\n{}",
        run.stderr
    );
}
