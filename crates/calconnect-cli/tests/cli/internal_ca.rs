//! An on-premises Exchange whose certificate comes from an internal CA: `calconnect exchange-test` against
//! a TLS sandbox reached as a real server would be (no `--sandbox`: the given EWS URL, DNS for `localhost`,
//! calconnect's own trust set-up), trusting that CA through `--ca-file` or the OS trust store, or not at all.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use calconnect_ews::tls::TlsProblem;
use calconnect_sandbox::{demo, Sandbox, SandboxHandle};
use serde_json::Value;

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    /// The report `--json` printed.
    fn report(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|error| {
            panic!(
                "stdout is the JSON report ({error}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }

    /// The report's TLS step.
    fn tls_step(&self) -> Value {
        let report = self.report();
        report["steps"]
            .as_array()
            .and_then(|steps| steps.iter().find(|step| step["id"] == "tls"))
            .cloned()
            .unwrap_or_else(|| panic!("the report has a TLS step: {report}"))
    }
}

/// The sandbox, with TLS from its own CA, playing the organisation's Exchange server.
struct InternalExchange {
    sandbox: SandboxHandle,
    directory: tempfile::TempDir,
}

impl InternalExchange {
    async fn start() -> Self {
        let sandbox = Sandbox::builder()
            .tls(true)
            .start()
            .await
            .expect("sandbox starts");
        let directory = tempfile::tempdir().unwrap();
        sandbox
            .write_ca_pem(directory.path().join("ca.pem"))
            .unwrap();
        Self { sandbox, directory }
    }

    /// The internal CA's certificate, as an admin would export it.
    fn ca_file(&self) -> PathBuf {
        self.directory.path().join("ca.pem")
    }

    /// `https://localhost:PORT/EWS/Exchange.asmx`: a host name, as a real EWS URL has (the sandbox's
    /// certificate is issued for `localhost`, `127.0.0.1` and `::1`).
    fn ews_url(&self) -> String {
        format!(
            "https://localhost:{}/EWS/Exchange.asmx",
            self.sandbox
                .base_url()
                .port()
                .expect("the sandbox has a port")
        )
    }

    /// Runs `calconnect [global] --json exchange-test --user … --mailbox adele@… --ews-url …` without
    /// `--sandbox`, the password in `CALCONNECT_EWS_SECRET`; `environment` is added to the child's (the
    /// OS trust store's `SSL_CERT_FILE` / `SSL_CERT_DIR` are cleared unless given there).
    async fn exchange_test(&self, global: &[&str], environment: &[(&str, &Path)]) -> Run {
        let path = |name: &str| self.directory.path().join(name).display().to_string();
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_calconnect"));
        command
            .args(["--config", &path("config.toml")])
            .args(["--accounts-file", &path("accounts.json")])
            .args(global)
            .arg("--json")
            .args(["exchange-test", "--user", demo::SERVICE_ACCOUNT_UPN])
            .args(["--mailbox", demo::ADELE])
            .args(["--ews-url", &self.ews_url()])
            .env("CALCONNECT_EWS_SECRET", demo::SERVICE_ACCOUNT_PASSWORD)
            .env_remove("SSL_CERT_FILE")
            .env_remove("SSL_CERT_DIR")
            .envs(environment.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let output = command.output().await.expect("calconnect runs");
        let run = Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        };
        assert!(
            !run.stdout.contains(demo::SERVICE_ACCOUNT_PASSWORD)
                && !run.stderr.contains(demo::SERVICE_ACCOUNT_PASSWORD),
            "the password must never be printed"
        );
        run
    }
}

#[tokio::test]
async fn an_on_premises_exchange_behind_an_internal_ca_passes_tls_with_ca_file() {
    let exchange = InternalExchange::start().await;
    let ca_file = exchange.ca_file().display().to_string();
    let run = exchange.exchange_test(&["--ca-file", &ca_file], &[]).await;
    let tls = run.tls_step();
    assert_eq!(
        tls["status"], "passed",
        "the internal CA is trusted through --ca-file: {tls}\n{}",
        run.stderr
    );
    assert_eq!(
        run.code, 0,
        "the service account has Full access to adele:\n{}\n{}",
        run.stdout, run.stderr
    );
    assert_eq!(run.report()["verdict"]["level"], "full");
}

#[tokio::test]
async fn without_ca_file_the_internal_ca_is_an_unknown_issuer() {
    let exchange = InternalExchange::start().await;
    let run = exchange.exchange_test(&[], &[]).await;
    let tls = run.tls_step();
    assert_eq!(tls["status"], "failed", "{tls}");
    assert_eq!(
        tls["detail"],
        TlsProblem::UnknownIssuer.to_string(),
        "the failure says the issuer is not trusted: {tls}"
    );
    assert_eq!(run.code, 10, "no access was reached:\n{}", run.stderr);
    assert_eq!(run.report()["verdict"]["level"], "none");
}

/// Runs the test trusting the internal CA through the OS trust store only: rustls-native-certs reads it
/// from `SSL_CERT_FILE` when that is set, on every platform.
async fn with_the_ca_in_the_os_trust_store(exchange: &InternalExchange) -> Run {
    let ca_file = exchange.ca_file();
    exchange
        .exchange_test(&[], &[("SSL_CERT_FILE", ca_file.as_path())])
        .await
}

#[tokio::test]
async fn an_internal_ca_in_the_os_trust_store_passes_the_tls_step_without_ca_file() {
    let exchange = InternalExchange::start().await;
    let run = with_the_ca_in_the_os_trust_store(&exchange).await;
    let tls = run.tls_step();
    assert_eq!(
        tls["status"], "passed",
        "the default trust includes the OS store: {tls}\n{}",
        run.stderr
    );
}

#[tokio::test]
async fn an_internal_ca_in_the_os_trust_store_is_trusted_by_ntlm_too() {
    let exchange = InternalExchange::start().await;
    let run = with_the_ca_in_the_os_trust_store(&exchange).await;
    assert_eq!(
        run.code, 0,
        "NTLM's own connection trusts the OS store as the TLS probe does:\n{}\n{}",
        run.stdout, run.stderr
    );
    assert_eq!(run.report()["verdict"]["level"], "full");
}

#[tokio::test]
async fn a_ca_file_that_is_missing_or_not_pem_is_a_usage_error_naming_it() {
    let exchange = InternalExchange::start().await;
    let missing = exchange.directory.path().join("missing.pem");
    let der = exchange.directory.path().join("internal-ca.cer");
    std::fs::write(&der, [0x30, 0x82, 0x03, 0x1f, 0x30, 0x82]).unwrap();
    for (file, says) in [(&missing, "cannot read"), (&der, "not a PEM")] {
        let name = file.display().to_string();
        let run = exchange.exchange_test(&["--ca-file", &name], &[]).await;
        assert_eq!(
            run.code, 2,
            "a usage error:\n{}\n{}",
            run.stdout, run.stderr
        );
        let error: Value = serde_json::from_str(&run.stdout).expect("--json prints the error");
        let message = error["error"]["message"].as_str().unwrap_or_default();
        assert_eq!(error["error"]["kind"], "usage", "{error}");
        assert!(
            message.contains("--ca-file") && message.contains(&name) && message.contains(says),
            "{message}"
        );
    }
}
