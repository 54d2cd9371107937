//! `calconnect`: the command-line front end of calconnect-core, for admins and scripts.

mod admin;
mod args;
mod exchange;
mod exit;
mod graph;
mod output;
mod teams;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use calconnect_core::{Account, Calconnect, Config, Error, Options};
use calconnect_identity::{AppKind, Trust};
use calconnect_vault::SecretStore;
use chrono::{DateTime, NaiveDate, Utc};
use clap::Parser;
use serde_json::json;

use crate::args::{Cli, Command};

/// The keychain service name every calconnect entry is filed under.
const KEYCHAIN_SERVICE: &str = "calconnect";
/// A separate service for sandbox accounts, so demo tokens never mix with real ones.
const SANDBOX_KEYCHAIN_SERVICE: &str = "calconnect-sandbox";

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("CALCONNECT_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::from(exit::FAILURE);
        }
    };
    let json_output = cli.json;
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::from(exit::OK),
        Err(failure) => match failure {
            Failure::Core(error) => {
                if json_output {
                    output::print_json(&output::error_json(&error));
                } else {
                    output::print_error(&error);
                }
                ExitCode::from(exit::for_kind(error.kind()))
            }
            Failure::AccessNotReached => ExitCode::from(exit::ACCESS_NOT_REACHED),
            Failure::Usage(message) => {
                if json_output {
                    output::print_json(
                        &json!({ "error": { "kind": "usage", "message": message } }),
                    );
                } else {
                    eprintln!("error: {message}");
                }
                ExitCode::from(exit::USAGE)
            }
            Failure::Other(error) => {
                if json_output {
                    output::print_json(
                        &json!({ "error": { "kind": "internal", "message": format!("{error:#}") } }),
                    );
                } else {
                    eprintln!("error: {error:#}");
                }
                ExitCode::from(exit::FAILURE)
            }
        },
    }
}

enum Failure {
    Core(Error),
    /// `exchange-test` ran, but the credentials did not reach the expected access level.
    AccessNotReached,
    Usage(String),
    Other(anyhow::Error),
}

impl From<Error> for Failure {
    fn from(error: Error) -> Self {
        Self::Core(error)
    }
}

impl From<anyhow::Error> for Failure {
    fn from(error: anyhow::Error) -> Self {
        Self::Other(error)
    }
}

impl From<calconnect_identity::Error> for Failure {
    fn from(error: calconnect_identity::Error) -> Self {
        Self::Core(Error::Identity(error))
    }
}

async fn run(cli: Cli) -> Result<(), Failure> {
    // Which proxy every request of this run goes through (read once, here, for all of them).
    let proxy = calconnect_core::network_summary();
    if let Command::Network = cli.command {
        if cli.json {
            output::print_json(&json!({ "proxy": proxy }));
        } else {
            output::network(&proxy);
        }
        return Ok(());
    }
    if !cli.json && proxy.source != calconnect_core::network::ProxySource::None {
        eprintln!("note: proxy: {proxy}");
    }

    let config_path = match &cli.config {
        Some(path) => path.clone(),
        None => Config::default_path()?,
    };
    let mut config = Config::load(&config_path)?;
    // Registering the apps needs no keychain, no sandbox and no network: it prints what creates them.
    if let Command::RegisterApps { shell } = &cli.command {
        if cli.sandbox {
            return Err(Failure::Usage(
                "the sandbox's apps are built in; register-apps is for a Microsoft 365 tenant"
                    .to_owned(),
            ));
        }
        if let Some(note) = cli.cloud.and_then(|choice| choice.note) {
            eprintln!("note: {note}");
        }
        let cloud = cli.cloud.map_or(config.cloud, |choice| choice.cloud);
        let tenant = cli.tenant.as_deref().unwrap_or(&config.tenant);
        output::registration(
            &calconnect_core::RegistrationGuide::new(cloud, tenant),
            shell.as_deref(),
            cli.json,
        );
        return Ok(());
    }
    // One trust set-up for every connection of this run: the bundled roots, the OS trust store and the
    // --ca-file (an organisation's CA), checked here so a bad file is named before anything connects.
    let mut trust = match &cli.ca_file {
        Some(path) => Trust::default()
            .with_ca_file(path)
            .map_err(|error| Failure::Usage(format!("--ca-file: {error}")))?,
        None => Trust::default(),
    };
    let mut accounts_path = match &cli.accounts_file {
        Some(path) => path.clone(),
        None => calconnect_core::AccountStore::default_path()?,
    };

    // The sandbox runs inside this process; its state directory (next to the accounts file) keeps its
    // signing key, certificate and refresh-token grants, so a later command finds the same tenant.
    let sandbox = if cli.sandbox {
        if cli.accounts_file.is_none() {
            accounts_path = sandbox_accounts_path(&accounts_path);
        }
        let state_dir = accounts_path
            .parent()
            .map(|dir| dir.join("sandbox-state"))
            .context("the accounts file has no parent directory")?;
        let sandbox = calconnect_sandbox::Sandbox::builder()
            .tls(true)
            .state_dir(state_dir)
            .start()
            .await
            .map_err(|error| anyhow::anyhow!("cannot start the sandbox: {error}"))?;
        config.authority = Some(sandbox.base_url());
        config.graph = Some(sandbox.base_url());
        config.tenant = calconnect_sandbox::demo::DOMAIN.to_owned();
        config.full_client_id = Some(calconnect_sandbox::demo::FULL_APP_CLIENT_ID.to_owned());
        config.freebusy_client_id =
            Some(calconnect_sandbox::demo::FREEBUSY_APP_CLIENT_ID.to_owned());
        config.teams_client_id = Some(calconnect_sandbox::demo::TEAMS_APP_CLIENT_ID.to_owned());
        if let Some(pem) = sandbox.ca_pem() {
            trust = trust
                .with_pem(pem)
                .map_err(|error| anyhow::anyhow!("the sandbox's CA: {error}"))?;
        }
        if !cli.json {
            eprintln!(
                "sandbox running at {} (demo users: adele@, megan@, lee@, alex@contoso.com)",
                sandbox.base_url()
            );
        }
        Some(sandbox)
    } else {
        None
    };
    let cloud = cli.cloud.map(|choice| choice.cloud);
    if let Some(note) = cli.cloud.and_then(|choice| choice.note) {
        eprintln!("note: {note}");
    }
    if let Some(cloud) = cloud {
        config.cloud = cloud;
    }
    if let Some(authority) = &cli.authority {
        config.authority = Some(authority.clone());
    }
    if let Some(graph) = &cli.graph {
        config.graph = Some(graph.clone());
    }
    if let Some(tenant) = &cli.tenant {
        config.tenant = tenant.clone();
    }
    if let Command::Login {
        app,
        client_id: Some(client_id),
        ..
    } = &cli.command
    {
        match app {
            AppKind::Full => config.full_client_id = Some(client_id.clone()),
            AppKind::FreeBusy => config.freebusy_client_id = Some(client_id.clone()),
            AppKind::Teams => config.teams_client_id = Some(client_id.clone()),
        }
    }

    // The service-account test needs no keychain and no signed-in account.
    if let Command::ExchangeTest(mut args) = cli.command {
        // --ca-file reaches the test through its arguments (an internal CA of an on-premises Exchange).
        args.trust = trust;
        return match exchange::run(*args, cloud, sandbox.as_ref(), cli.json).await? {
            exchange::Outcome::Reached => Ok(()),
            exchange::Outcome::FellShort => Err(Failure::AccessNotReached),
        };
    }

    // The Graph test's Free/Busy variant signs the admin in with the app given (delegated).
    if let Command::GraphTest(args) = &cli.command {
        if args.free_busy() {
            config.freebusy_client_id = Some(args.client_id.trim().to_owned());
            config.tenant = args.tenant_id.trim().to_owned();
        }
    }
    // The admin tests of Graph apps are app-only: no keychain, no signed-in account.
    if let Some(args) = cli.command.graph_app_only() {
        let http = calconnect_identity::http_client(&trust)?;
        return match graph::run(args, &config, &http, cli.json).await? {
            true => Ok(()),
            false => Err(Failure::AccessNotReached),
        };
    }
    if let Command::TeamsTest(args) = &cli.command {
        let http = calconnect_identity::http_client(&trust)?;
        return match teams::run(args, &config, &http, cli.json).await? {
            true => Ok(()),
            false => Err(Failure::AccessNotReached),
        };
    }

    let service = match &cli.keychain_service {
        Some(service) => service.clone(),
        None if cli.sandbox => SANDBOX_KEYCHAIN_SERVICE.to_owned(),
        None => KEYCHAIN_SERVICE.to_owned(),
    };
    let store: Arc<dyn SecretStore> = Arc::new(
        tokio::task::spawn_blocking(move || calconnect_vault::KeychainStore::new(&service))
            .await
            .map_err(|error| anyhow::anyhow!("keychain task failed: {error}"))?
            .map_err(|source| Error::Vault {
                operation: "open",
                source,
            })?,
    );
    let http = calconnect_identity::http_client(&trust)?;
    let mut options = Options::new(config, accounts_path, store, http);
    if let Command::Login { timeout, .. } = &cli.command {
        options.browser_timeout = std::time::Duration::from_secs(*timeout);
    }
    let core = Calconnect::new(options)?;
    let json_output = cli.json;

    match cli.command {
        Command::GraphTest(args) => {
            let connected = sign_in(
                &core,
                AppKind::FreeBusy,
                SignInMethod::new(args.device_code, false),
                json_output,
            )
            .await?;
            match graph::free_busy(&core, &connected.account, &args, json_output).await? {
                true => Ok(()),
                false => Err(Failure::AccessNotReached),
            }
        }
        Command::ExchangeTest(_)
        | Command::TeamsTest(_)
        | Command::RegisterApps { .. }
        | Command::Network => {
            unreachable!("handled before the keychain is opened")
        }
        Command::Login {
            app,
            device_code,
            prompt_consent,
            ..
        } => {
            login(
                &core,
                app,
                SignInMethod::new(device_code, prompt_consent),
                json_output,
            )
            .await
        }
        Command::Accounts { details } => {
            let accounts = core.list_accounts().await?;
            if details {
                let mut all = Vec::new();
                for account in &accounts {
                    all.push(core.account_details(&account.id).await?);
                }
                if json_output {
                    output::print_json(&json!({ "accounts": all }));
                } else {
                    all.iter().for_each(output::details);
                }
            } else if json_output {
                output::print_json(&json!({ "accounts": accounts }));
            } else if accounts.is_empty() {
                println!("No connected accounts. Run `calconnect login`.");
            } else {
                accounts
                    .iter()
                    .for_each(|account| println!("{}", output::account_line(account)));
            }
            Ok(())
        }
        Command::Calendars { account } => {
            let account = choose_account(&core, account.as_deref()).await?;
            let calendars = core.calendars(&account.id).await?;
            if json_output {
                output::print_json(&json!({ "account": account.id, "calendars": calendars }));
            } else {
                output::calendars(&calendars);
            }
            Ok(())
        }
        Command::Freebusy { account, from, to } => {
            let account = choose_account(&core, account.as_deref()).await?;
            let start = match from {
                Some(text) => parse_time(&text).map_err(Failure::Usage)?,
                None => Utc::now(),
            };
            let end = match to {
                Some(text) => parse_time(&text).map_err(Failure::Usage)?,
                None => start + chrono::Duration::days(7),
            };
            let free_busy = core.free_busy(&account.id, start, end).await?;
            if json_output {
                output::print_json(&json!({ "account": account.id, "free_busy": free_busy }));
            } else {
                output::free_busy(&free_busy);
            }
            Ok(())
        }
        Command::TeamsMeeting { account, keep } => {
            let account = choose_teams_account(&core, account.as_deref()).await?;
            let meeting = core.create_test_meeting(&account.id, keep).await?;
            if json_output {
                output::print_json(&json!({ "account": account.id, "meeting": meeting }));
            } else {
                output::test_meeting(&meeting);
            }
            Ok(())
        }
        Command::Logout { account, all } => {
            let targets = if all {
                core.list_accounts().await?
            } else {
                vec![choose_account(&core, account.as_deref()).await?]
            };
            for target in &targets {
                core.disconnect(&target.id).await?;
                if !json_output {
                    println!("Disconnected {}", target.id);
                }
            }
            if json_output {
                output::print_json(
                    &json!({ "disconnected": targets.iter().map(|target| &target.id).collect::<Vec<_>>() }),
                );
            }
            Ok(())
        }
    }
}

async fn login(
    core: &Calconnect,
    app: AppKind,
    method: SignInMethod,
    json_output: bool,
) -> Result<(), Failure> {
    let connected = sign_in(core, app, method, json_output).await?;
    if json_output {
        output::print_json(&json!(connected));
    } else {
        output::connected(&connected);
    }
    Ok(())
}

/// How to sign in: `--device-code`, or the browser, with Microsoft's consent page (`--prompt-consent`) or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SignInMethod {
    DeviceCode,
    Browser,
    BrowserWithConsent,
}

impl SignInMethod {
    fn new(device_code: bool, prompt_consent: bool) -> Self {
        match (device_code, prompt_consent) {
            (true, _) => Self::DeviceCode,
            (false, true) => Self::BrowserWithConsent,
            (false, false) => Self::Browser,
        }
    }
}

/// Signs in with `app` by device code or the browser, printing the prompt (on stderr with `--json`).
async fn sign_in(
    core: &Calconnect,
    app: AppKind,
    method: SignInMethod,
    json_output: bool,
) -> Result<calconnect_core::Connected, Failure> {
    let connected = if method == SignInMethod::DeviceCode {
        let pending = core.start_device_code(app).await?;
        if json_output {
            // Scripts need the code before the command ends: one JSON line on stderr.
            eprintln!("{}", json!({ "device_code": pending.prompt() }));
        } else {
            output::device_prompt(pending.prompt());
        }
        cancel_on_ctrl_c(pending.cancel_token());
        pending
            .finish(|progress| {
                if !json_output {
                    eprint!(
                        "\rwaiting for sign-in… {:>4} s left ",
                        progress.remaining_seconds
                    );
                }
            })
            .await
            .inspect(|_| eprintln!())?
    } else {
        let pending = if method == SignInMethod::BrowserWithConsent {
            core.start_browser_sign_in_with_consent(app).await?
        } else {
            core.start_browser_sign_in(app).await?
        };
        if json_output {
            eprintln!(
                "{}",
                json!({ "authorize_url": pending.authorize_url(), "browser_opened": pending.browser_opened() })
            );
        } else if pending.browser_opened() {
            eprintln!("Continue the sign-in in your browser (Ctrl-C to cancel). If it did not open, visit:\n  {}", pending.authorize_url());
        } else {
            eprintln!(
                "Open this URL in a browser to sign in (Ctrl-C to cancel):\n  {}",
                pending.authorize_url()
            );
        }
        cancel_on_ctrl_c(pending.cancel_token());
        pending.finish().await?
    };
    Ok(connected)
}

fn cancel_on_ctrl_c(cancel: calconnect_identity::CancellationToken) {
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            cancel.cancel();
        }
    });
}

async fn choose_account(core: &Calconnect, wanted: Option<&str>) -> Result<Account, Failure> {
    let accounts = core.list_accounts().await?;
    match wanted {
        Some(wanted) => {
            let matches: Vec<&Account> = accounts
                .iter()
                .filter(|account| {
                    account.id == wanted || account.user.email.eq_ignore_ascii_case(wanted)
                })
                .collect();
            match matches.as_slice() {
                [one] => Ok((*one).clone()),
                [] => Err(Error::AccountNotFound {
                    id: wanted.to_owned(),
                }
                .into()),
                _ => Err(Failure::Usage(format!(
                    "{wanted} is connected with several apps; use one of the IDs: {}",
                    matches
                        .iter()
                        .map(|account| account.id.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ))),
            }
        }
        None => match accounts.as_slice() {
            [one] => Ok(one.clone()),
            [] => Err(Error::AccountNotFound {
                id: "(none connected)".to_owned(),
            }
            .into()),
            _ => Err(Failure::Usage(format!(
                "several accounts are connected; name one of: {}",
                accounts
                    .iter()
                    .map(|account| account.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        },
    }
}

/// The account of `teams-meeting`: the one named, or the only Teams connection.
async fn choose_teams_account(core: &Calconnect, wanted: Option<&str>) -> Result<Account, Failure> {
    if wanted.is_some() {
        return choose_account(core, wanted).await;
    }
    let teams: Vec<Account> = core
        .list_accounts()
        .await?
        .into_iter()
        .filter(|account| account.app == AppKind::Teams)
        .collect();
    match teams.as_slice() {
        [one] => Ok(one.clone()),
        [] => Err(Failure::Usage(
            "no Teams conferencing connection: run `calconnect login --app teams` first".to_owned(),
        )),
        _ => Err(Failure::Usage(format!(
            "several Teams connections; name one of: {}",
            teams
                .iter()
                .map(|account| account.id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

/// RFC 3339, or a date meaning midnight UTC.
fn parse_time(text: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Ok(time.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map(|date| {
            date.and_hms_opt(0, 0, 0)
                .expect("midnight exists")
                .and_utc()
        })
        .map_err(|_| format!("`{text}` is not a date (YYYY-MM-DD) or an RFC 3339 time"))
}

fn sandbox_accounts_path(default: &std::path::Path) -> PathBuf {
    default.with_file_name("sandbox-accounts.json")
}
