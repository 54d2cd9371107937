//! What the CLI's admin tests of Graph apps share: the app's credential (a client secret from
//! `CALCONNECT_CLIENT_SECRET`, `--secret-stdin` or a prompt — never an argument — or a certificate PEM),
//! and the tenant's authority.

use std::io::{BufRead, IsTerminal};
use std::path::Path;

use anyhow::{bail, Context};
use calconnect_core::admin_report::{is_client_id, AdminFix, AdminStep, StepStatus};
use calconnect_core::{Config, Endpoints};
use calconnect_identity::app_only::{AppCredential, CertificateCredential};
use calconnect_identity::Authority;
use secrecy::SecretString;

/// Where the client secret comes from when neither stdin nor a terminal prompt is used.
const SECRET_VARIABLE: &str = "CALCONNECT_CLIENT_SECRET";
/// A certificate PEM larger than this is not a key and a certificate.
const MAX_PEM_BYTES: u64 = 256 * 1024;

/// The credential, the tenant's authority and the endpoints of an admin test.
pub fn app_sign_in(
    config: &Config,
    client_id: &str,
    tenant_id: &str,
    certificate: Option<&Path>,
    secret_stdin: bool,
) -> anyhow::Result<(AppCredential, Authority, Endpoints)> {
    if !is_client_id(client_id.trim()) {
        bail!("--client-id must be the app's application (client) ID, a GUID");
    }
    let credential = match certificate {
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
        None => AppCredential::Secret(read_secret(secret_stdin)?),
    };
    let endpoints = config.endpoints()?;
    let authority = Authority::new(endpoints.authority.base().clone(), tenant_id.trim())?;
    // Client credentials need the tenant itself (v2-oauth2-client-creds-grant-flow: "GUID or domain-name").
    if authority.is_multi_tenant() {
        bail!("--tenant-id must be the tenant ID or a verified domain, not common, organizations or consumers");
    }
    Ok((credential, authority, endpoints))
}

/// Writes the report's exports where `--export-json` / `--export-text` asked: 0600, atomically
/// (`calconnect_core::private_file::write_export`), since reports name the tenant's mailboxes and apps.
pub fn write_exports(
    json_path: Option<&Path>,
    text_path: Option<&Path>,
    json: impl FnOnce() -> String,
    text: impl FnOnce() -> String,
) -> anyhow::Result<()> {
    use calconnect_core::private_file::write_export;
    if let Some(path) = json_path {
        write_export(path, json().as_bytes())
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    if let Some(path) = text_path {
        write_export(path, text().as_bytes())
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

/// Prints each step as it finishes, to stderr (so `--json` stdout stays clean).
pub fn step_printer(quiet: bool) -> impl Fn(&AdminStep) + Send + Sync {
    move |step: &AdminStep| {
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
    }
}

/// Prints the fixes of a verdict.
pub fn print_fixes(fixes: &[AdminFix]) {
    for fix in fixes {
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
