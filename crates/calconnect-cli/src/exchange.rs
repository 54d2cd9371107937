//! `calconnect exchange-test`: runs the Enterprise Connect service-account test and prints each step as it
//! finishes, then the verdict.

use std::io::{BufRead, IsTerminal, Write};

use anyhow::{bail, Context};
use calconnect_ews::auth::Credentials;
use calconnect_ews::cloud::ExchangeCloud;
use calconnect_ews::diagnostics::{
    self, mailbox_list, AccessLevel, Environment, MailboxProgress, Report, Reporter, Step, StepId,
    StepStatus, TestConfig,
};
use calconnect_identity::Cloud;
use calconnect_sandbox::SandboxHandle;
use secrecy::SecretString;

use crate::args::ExchangeTestArgs;

/// Where the secret comes from when neither stdin nor a terminal prompt is used.
const SECRET_VARIABLE: &str = "CALCONNECT_EWS_SECRET";

/// The outcome the caller turns into an exit code.
pub enum Outcome {
    /// The expected level (or, without `--expect`, any access at all) was reached.
    Reached,
    /// The test ran but the credentials fall short.
    FellShort,
}

/// Runs the test; app credentials get their token from `cloud` (`--cloud`, worldwide when absent). With a
/// sandbox, its identity platform, EWS and Autodiscover stand in for the cloud and the mailbox's domain.
pub async fn run(
    args: ExchangeTestArgs,
    cloud: Option<Cloud>,
    sandbox: Option<&SandboxHandle>,
    json_output: bool,
) -> anyhow::Result<Outcome> {
    let expected = match &args.expect {
        Some(text) => Some(AccessLevel::parse(text).with_context(|| {
            format!("--expect takes full, restricted or free-busy, not {text:?}")
        })?),
        None => None,
    };
    let mailboxes = mailboxes(&args)?;
    let secret = read_secret(args.secret_stdin)?;
    let credentials = match (&args.user, &args.client_id) {
        (Some(username), None) => Credentials::Password {
            username: username.clone(),
            password: secret,
        },
        (None, Some(client_id)) => Credentials::ClientCredentials {
            cloud: exchange_cloud(cloud, sandbox),
            tenant: args.tenant_id.clone().unwrap_or_default(),
            client_id: client_id.clone(),
            client_secret: secret,
        },
        _ => {
            bail!("give either --user (a service account) or --client-id with --tenant-id (an app)")
        }
    };

    let mut config = TestConfig::with_mailboxes(credentials, mailboxes);
    // The bundled roots, the OS trust store and --ca-file (an on-premises Exchange's internal CA); the
    // sandbox below replaces it with its own CA.
    config.environment.trust = args.trust.clone();
    config.ews_url = args.ews_url.clone();
    if let Some(concurrency) = args.concurrency {
        config.concurrency = usize::from(concurrency);
    }
    if let Some(sandbox) = sandbox {
        config.environment = Environment::sandbox(
            &sandbox.base_url(),
            sandbox.ca_pem(),
            config.first_mailbox(),
        )?;
    }

    let reporter = LiveReporter {
        quiet: json_output,
        progress: std::sync::Mutex::new(Tally::default()),
    };
    let report = diagnostics::run(&config, &reporter).await;

    crate::admin::write_exports(
        args.export_json.as_deref(),
        args.export_text.as_deref(),
        || report.to_json(),
        || report.to_text(),
    )?;
    if json_output {
        println!("{}", report.to_json());
    } else {
        print_verdict(&report, expected);
    }

    let reached = match expected {
        Some(level) => report.meets(level),
        None => report.access_level() != AccessLevel::None,
    };
    Ok(if reached {
        Outcome::Reached
    } else {
        Outcome::FellShort
    })
}

/// `--mailbox` (repeatable) and `--mailboxes FILE`, validated, duplicates dropped, order kept.
fn mailboxes(args: &ExchangeTestArgs) -> anyhow::Result<Vec<String>> {
    let mut list = Vec::new();
    for mailbox in &args.mailbox {
        list.push(mailbox_list::validate(mailbox)?);
    }
    if let Some(path) = &args.mailboxes {
        // A list of a few thousand addresses is well under a megabyte; anything bigger is the wrong file.
        const MAX_LIST_BYTES: u64 = 2 * 1024 * 1024;
        let mut file = String::new();
        std::fs::File::open(path)
            .and_then(|opened| {
                use std::io::Read as _;
                opened.take(MAX_LIST_BYTES + 1).read_to_string(&mut file)
            })
            .with_context(|| format!("cannot read the mailbox list {}", path.display()))?;
        if file.len() as u64 > MAX_LIST_BYTES {
            bail!(
                "the mailbox list {} is larger than 2 MB: give a list of addresses",
                path.display()
            );
        }
        for mailbox in mailbox_list::parse(&file)? {
            if !list
                .iter()
                .any(|known: &String| known.eq_ignore_ascii_case(&mailbox))
            {
                list.push(mailbox);
            }
        }
    }
    if list.is_empty() {
        bail!("give a mailbox to test with --mailbox or --mailboxes FILE");
    }
    if list.len() > mailbox_list::MAX_MAILBOXES {
        bail!(
            "more than {} mailboxes; split the list",
            mailbox_list::MAX_MAILBOXES
        );
    }
    Ok(list)
}

/// The cloud of `--cloud`; the sandbox plays the worldwide one.
fn exchange_cloud(cloud: Option<Cloud>, sandbox: Option<&SandboxHandle>) -> ExchangeCloud {
    if let Some(sandbox) = sandbox {
        return ExchangeCloud::emulator(sandbox.base_url());
    }
    match cloud.unwrap_or(Cloud::Global) {
        Cloud::Global => ExchangeCloud::global(),
        Cloud::UsGovernment => ExchangeCloud::us_government(),
        Cloud::UsGovernmentDod => ExchangeCloud::us_government_dod(),
        Cloud::China => ExchangeCloud::china(),
    }
}

/// Takes the password or client secret without ever accepting it as an argument (visible to `ps`).
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
    if let Ok(value) = std::env::var(SECRET_VARIABLE) {
        return Ok(SecretString::from(value));
    }
    if std::io::stdin().is_terminal() {
        let value = rpassword::prompt_password("Password or client secret (not shown): ")
            .context("cannot read the secret from the terminal")?;
        return Ok(SecretString::from(value));
    }
    bail!("no password given: set {SECRET_VARIABLE}, pipe it with --secret-stdin, or run in a terminal to be asked")
}

/// Prints each step as it finishes, to stderr so that `--json` stdout stays clean. On a terminal the
/// running step shows on a line of its own until its result replaces it, and a run of several mailboxes
/// draws a progress bar.
struct LiveReporter {
    quiet: bool,
    progress: std::sync::Mutex<Tally>,
}

/// Mailboxes finished per level, for the progress bar.
#[derive(Default)]
struct Tally {
    full: usize,
    restricted: usize,
    free_busy: usize,
    none: usize,
}

/// `[#######.............]  37/200 mailboxes: 10 Full, 9 Restricted, 9 Free-busy, 9 None`.
fn progress_bar(done: usize, total: usize, tally: &Tally) -> String {
    const WIDTH: usize = 30;
    let filled = (done * WIDTH)
        .checked_div(total)
        .unwrap_or(WIDTH)
        .min(WIDTH);
    format!(
        "[{}{}] {done:>4}/{total} mailboxes: {} Full, {} Restricted, {} Free-busy, {} None",
        "#".repeat(filled),
        ".".repeat(WIDTH - filled),
        tally.full,
        tally.restricted,
        tally.free_busy,
        tally.none
    )
}

impl LiveReporter {
    fn interactive(&self) -> bool {
        !self.quiet && std::io::stderr().is_terminal()
    }
}

impl Reporter for LiveReporter {
    fn step_started(&self, _id: StepId, title: &str) {
        if self.interactive() {
            eprint!("  … {title}");
            let _ = std::io::stderr().flush();
        }
    }

    fn step_finished(&self, step: &Step) {
        if self.quiet {
            return;
        }
        if self.interactive() {
            // Carriage return + "erase line" replaces the running step with its result.
            eprint!("\r\x1b[2K");
        }
        let mark = match step.status {
            StepStatus::Passed => "✔",
            StepStatus::Failed => "✘",
            StepStatus::Warning => "!",
            StepStatus::Skipped => "-",
            StepStatus::Unconfirmed => "?",
        };
        eprintln!("  {mark} {} ({} ms)", step.title, step.duration_ms);
        if !step.detail.is_empty() {
            eprintln!("      {}", step.detail);
        }
        if let Some(url) = step
            .doc_url
            .as_deref()
            .filter(|_| step.status == StepStatus::Failed)
        {
            eprintln!("      see {url}");
        }
    }

    fn mailbox_finished(&self, progress: &MailboxProgress) {
        let Ok(mut tally) = self.progress.lock() else {
            return;
        };
        match progress.level {
            AccessLevel::Full => tally.full += 1,
            AccessLevel::Restricted => tally.restricted += 1,
            AccessLevel::FreeBusy => tally.free_busy += 1,
            AccessLevel::None => tally.none += 1,
        }
        if self.interactive() {
            eprint!(
                "\r\x1b[2K  {}",
                progress_bar(progress.done, progress.total, &tally)
            );
            if progress.done == progress.total {
                eprintln!();
            }
            let _ = std::io::stderr().flush();
        }
    }
}

fn print_verdict(report: &Report, expected: Option<AccessLevel>) {
    let verdict = &report.verdict;
    if report.mailboxes.len() > 1 {
        print_mailbox_table(report);
    }
    println!();
    println!("Access granted: {}", verdict.level.label());
    println!("{}", verdict.summary);
    for line in &verdict.vendor_can {
        println!("  can:    {line}");
    }
    for line in &verdict.vendor_cannot {
        println!("  cannot: {line}");
    }
    if !verdict.fixes.is_empty() {
        println!();
        println!("{}:", verdict.fixes_heading());
    }
    for (index, fix) in verdict.fixes.iter().enumerate() {
        println!();
        match verdict.fix_label(index) {
            Some(label) => println!("{label}: {}", fix.problem),
            None => println!("{}", fix.problem),
        }
        if !fix.changes.is_empty() {
            println!("  It {}", fix.changes);
        }
        if let Some(command) = &fix.command {
            println!("  {command}");
        }
        println!("  see {}", fix.doc_url);
    }
    for note in &verdict.notes {
        println!();
        println!("Note: {note}");
    }
    if let Some(url) = &report.unconfirmed_ews_url {
        println!();
        println!(
            "If {url} is your Exchange server's EWS URL, run the same command again with --ews-url {url}"
        );
    }
    if let Some(level) = expected {
        println!();
        if report.meets(level) {
            println!("Expected {} access: reached.", level.label());
        } else {
            println!("Expected {} access: NOT reached.", level.label());
        }
    }
}

/// One line per mailbox: level, route, what failed.
fn print_mailbox_table(report: &Report) {
    println!();
    print!("{}", report.mailbox_table());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_progress_bar_fills_with_the_mailboxes_done() {
        let tally = Tally {
            full: 1,
            ..Tally::default()
        };
        assert!(progress_bar(0, 4, &tally).starts_with("[.............................."));
        assert!(progress_bar(2, 4, &tally).starts_with("[###############..............."));
        assert!(progress_bar(4, 4, &tally).contains("4/4 mailboxes: 1 Full"));
    }
}
