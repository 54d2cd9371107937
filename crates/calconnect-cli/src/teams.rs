//! `calconnect teams-test`: the admin's Enterprise Teams test, printed step by step, then the verdict.

use std::io::{BufRead, IsTerminal};

use anyhow::{bail, Context};
use calconnect_core::teams_test::{self, StepStatus, TeamsReport, TeamsStep, TeamsTestConfig};
use calconnect_core::Config;
use calconnect_identity::app_only::{AppCredential, CertificateCredential};
use calconnect_identity::Authority;
use secrecy::SecretString;

use crate::args::TeamsTestArgs;

/// Where the client secret comes from when neither stdin nor a terminal prompt is used.
const SECRET_VARIABLE: &str = "CALCONNECT_CLIENT_SECRET";
/// A certificate PEM larger than this is not a key and a certificate.
const MAX_PEM_BYTES: u64 = 256 * 1024;

/// Runs the test; `Ok(true)` when a meeting could be created on the user's behalf.
pub async fn run(
    args: &TeamsTestArgs,
    config: &Config,
    http: &reqwest::Client,
    json_output: bool,
) -> anyhow::Result<bool> {
    if !teams_test::is_client_id(args.client_id.trim()) {
        bail!("--client-id must be the app's application (client) ID, a GUID");
    }
    let credential = match &args.certificate {
        Some(path) => {
            let mut pem = String::new();
            std::fs::File::open(path)
                .and_then(|file| {
                    use std::io::Read as _;
                    file.take(MAX_PEM_BYTES + 1).read_to_string(&mut pem)
                })
                .with_context(|| format!("cannot read the certificate {}", path.display()))?;
            if pem.len() as u64 > MAX_PEM_BYTES {
                bail!(
                    "{} is larger than 256 KB: give the PEM with the certificate and its key",
                    path.display()
                );
            }
            AppCredential::Certificate(CertificateCredential::from_pem(&SecretString::from(pem))?)
        }
        None => AppCredential::Secret(read_secret(args.secret_stdin)?),
    };
    let endpoints = config.endpoints()?;
    let authority = Authority::new(endpoints.authority.base().clone(), args.tenant_id.trim())?;
    // Client credentials need the tenant itself (v2-oauth2-client-creds-grant-flow: "GUID or domain-name").
    if authority.is_multi_tenant() {
        bail!("--tenant-id must be the tenant ID or a verified domain, not common, organizations or consumers");
    }
    let test = TeamsTestConfig {
        authority,
        graph: endpoints.graph,
        graph_resource: endpoints.graph_resource,
        client_id: args.client_id.trim().to_owned(),
        credential,
        user: args.user.clone(),
        timeout: std::time::Duration::from_secs(30),
    };
    let quiet = json_output;
    let progress = move |step: &TeamsStep| {
        if quiet {
            return;
        }
        let mark = match step.status {
            StepStatus::Passed => "✔",
            StepStatus::Failed => "✘",
            StepStatus::Warning => "!",
            StepStatus::Skipped => "-",
        };
        eprintln!("  {mark} {} ({} ms)", step.title, step.duration_ms);
        eprintln!("      {}", step.detail);
    };
    let report = teams_test::run(http, &test, chrono::Utc::now(), &progress).await;
    if let Some(path) = &args.export_json {
        std::fs::write(path, report.to_json())
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    if let Some(path) = &args.export_text {
        std::fs::write(path, report.to_text())
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    if json_output {
        println!("{}", report.to_json());
    } else {
        print_verdict(&report);
    }
    Ok(report.passed)
}

fn print_verdict(report: &TeamsReport) {
    println!();
    println!("{}", report.summary);
    for fix in &report.fixes {
        println!();
        println!("To fix: {}", fix.problem);
        println!("  It {}", fix.changes);
        if let Some(command) = &fix.command {
            println!("  {command}");
        }
        if let Some(link) = &fix.link {
            println!("  {link}");
        }
        println!("  see {}", fix.doc_url);
    }
}

/// Takes the client secret without ever accepting it as an argument (visible to `ps`).
fn read_secret(from_stdin: bool) -> anyhow::Result<SecretString> {
    if from_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("cannot read the secret from stdin")?;
        return Ok(SecretString::from(
            line.trim_end_matches(['\r', '\n']).to_owned(),
        ));
    }
    if let Some(value) = std::env::var(SECRET_VARIABLE)
        .ok()
        .filter(|value| !value.is_empty())
    {
        return Ok(SecretString::from(value));
    }
    if std::io::stdin().is_terminal() {
        let value = rpassword::prompt_password("Client secret (not shown): ")
            .context("cannot read the secret from the terminal")?;
        return Ok(SecretString::from(value));
    }
    bail!("no client secret given: set {SECRET_VARIABLE}, pipe it with --secret-stdin, give --certificate PEM, or run in a terminal to be asked")
}
