//! Commands of the admin's Exchange step: run the Enterprise Connect service-account test with each step
//! pushed live, and export the last report.
//!
//! The password or client secret arrives from the form once, goes straight into a `SecretString` and is
//! never sent back: the report holds no secret (calconnect-ews guarantees it), so it can be shown and saved.

use std::sync::Mutex;

use calconnect_ews::auth::Credentials;
use calconnect_ews::cloud::ExchangeCloud;
use calconnect_ews::diagnostics::{
    self, mailbox_list, Environment, MailboxProgress, Report, Reporter, Step, StepId, TestConfig,
};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use tauri::ipc::Channel;

use crate::config::Cloud;
use crate::ipc::error::{ErrorCode, IpcError};
use crate::state::{AppState, SandboxEndpoint};

/// The last report, kept for export (one test at a time, like the form).
#[derive(Default)]
pub struct ExchangeState {
    last_report: Mutex<Option<Report>>,
}

/// How the service account authenticates.
#[derive(Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum ExchangeCredentials {
    /// On-premises: user name (or UPN) and password, Basic authentication.
    #[serde(rename_all = "camelCase")]
    Password {
        username: String,
        password: SecretString,
    },
    /// Exchange Online: an app registration with a client secret (client-credentials OAuth).
    #[serde(rename_all = "camelCase")]
    App {
        tenant_id: String,
        client_id: String,
        client_secret: SecretString,
    },
}

/// The form of the Exchange step.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExchangeTestRequest {
    /// One address a line, or a pasted CSV export with a header (see `mailbox_list`).
    pub mailboxes: String,
    pub credentials: ExchangeCredentials,
    /// Empty when Autodiscover should find it.
    pub ews_url: Option<String>,
    /// The PEM of an internal CA the admin chose (the front end reads the file it was given; a CA
    /// certificate is public), trusted in addition to the OS trust store and the bundled roots.
    pub ca_pem: Option<String>,
}

/// A chosen CA file larger than this is not a certificate bundle.
const MAX_CA_PEM_BYTES: usize = 512 * 1024;

/// Pushed while the test runs.
#[derive(Clone, Serialize)]
#[serde(tag = "event", rename_all = "camelCase")]
pub enum ExchangeTestEvent {
    #[serde(rename_all = "camelCase")]
    StepStarted { id: StepId, title: String },
    #[serde(rename_all = "camelCase")]
    StepFinished { step: Step },
    /// A mailbox of a run with several finished.
    #[serde(rename_all = "camelCase")]
    MailboxFinished { progress: MailboxProgress },
}

struct ChannelReporter(Channel<ExchangeTestEvent>);

impl Reporter for ChannelReporter {
    fn step_started(&self, id: StepId, title: &str) {
        // A closed window cannot receive progress; the test still completes and returns its report.
        let _ = self.0.send(ExchangeTestEvent::StepStarted {
            id,
            title: title.to_owned(),
        });
    }

    fn step_finished(&self, step: &Step) {
        let _ = self
            .0
            .send(ExchangeTestEvent::StepFinished { step: step.clone() });
    }

    fn mailbox_finished(&self, progress: &MailboxProgress) {
        let _ = self.0.send(ExchangeTestEvent::MailboxFinished {
            progress: progress.clone(),
        });
    }
}

/// Runs the service-account test; steps are pushed on `on_event`, the whole report is returned at the end.
#[tauri::command]
pub async fn test_exchange_account(
    state: tauri::State<'_, AppState>,
    exchange: tauri::State<'_, ExchangeState>,
    request: ExchangeTestRequest,
    on_event: Channel<ExchangeTestEvent>,
) -> Result<Report, IpcError> {
    let sandbox = state.sandbox_endpoint().await?;
    let invalid = |message: &str| {
        IpcError::new(
            ErrorCode::Failed,
            message,
            "Correct the form and run the test again.",
        )
    };
    let mailboxes = mailbox_list::parse(&request.mailboxes).map_err(|error| {
        IpcError::new(
            ErrorCode::Failed,
            format!("{error}."),
            "Enter one mailbox address a line, or paste a CSV export with a header such as PrimarySmtpAddress.",
        )
    })?;
    let ca_pem = match request.ca_pem.as_deref().map(str::trim) {
        Some(pem) if pem.len() > MAX_CA_PEM_BYTES || !pem.contains("-----BEGIN CERTIFICATE-----") => {
            return Err(invalid(
                "The CA file chosen is not a PEM certificate (it must contain -----BEGIN CERTIFICATE-----).",
            ))
        }
        Some(pem) if !pem.is_empty() => Some(pem.to_owned()),
        _ => None,
    };
    let credentials = match request.credentials {
        ExchangeCredentials::Password { username, password } => Credentials::Password {
            username: username.trim().to_owned(),
            password,
        },
        ExchangeCredentials::App {
            tenant_id,
            client_id,
            client_secret,
        } => Credentials::ClientCredentials {
            cloud: exchange_cloud(state.active_cloud()?, sandbox.as_ref()),
            tenant: tenant_id.trim().to_owned(),
            client_id: client_id.trim().to_owned(),
            client_secret,
        },
    };
    let mut config = TestConfig::with_mailboxes(credentials, mailboxes);
    config.ews_url = match request.ews_url.as_deref().map(str::trim).filter(|url| !url.is_empty()) {
        Some(text) => Some(url::Url::parse(text).map_err(|_| {
            invalid("The EWS URL is not a valid URL (for example https://mail.contoso.com/EWS/Exchange.asmx).")
        })?),
        None => None,
    };
    if let Some(sandbox) = &sandbox {
        // The sandbox plays the organisation: the mailbox's domain and its autodiscover host lead to it.
        config.environment = Environment::sandbox(
            &sandbox.base_url,
            sandbox.ca_pem.as_deref(),
            config.first_mailbox(),
        )
        .map_err(|_| invalid("The mailbox's domain is not a valid host name."))?;
    }
    if let Some(pem) = ca_pem {
        config.environment.trust.extra_roots_pem.push(pem);
    }

    let report = diagnostics::run(&config, &ChannelReporter(on_event)).await;
    *exchange.last_report.lock().expect("report lock") = Some(report.clone());
    Ok(report)
}

/// The Exchange Online cloud of the active settings; the sandbox issues worldwide Exchange tokens.
fn exchange_cloud(cloud: Cloud, sandbox: Option<&SandboxEndpoint>) -> ExchangeCloud {
    match (cloud, sandbox) {
        (_, Some(sandbox)) => ExchangeCloud::emulator(sandbox.base_url.clone()),
        (Cloud::UsGovernment, None) => ExchangeCloud::us_government(),
        (Cloud::UsGovernmentDod, None) => ExchangeCloud::us_government_dod(),
        (Cloud::China, None) => ExchangeCloud::china(),
        (Cloud::Global | Cloud::Sandbox, None) => ExchangeCloud::global(),
    }
}

/// The formats the report can be saved in.
#[derive(Clone, Copy, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ExportFormat {
    Json,
    Text,
}

/// Saves the last report where the person chooses (the Save dialog) and returns the file's path, or
/// `None` when the dialog was cancelled.
#[tauri::command]
pub async fn export_exchange_report<R: tauri::Runtime>(
    app: tauri::AppHandle<R>,
    exchange: tauri::State<'_, ExchangeState>,
    format: ExportFormat,
) -> Result<Option<String>, IpcError> {
    let (contents, extension) = {
        let guard = exchange.last_report.lock().expect("report lock");
        let report = guard.as_ref().ok_or_else(no_report)?;
        match format {
            ExportFormat::Json => (report.to_json(), "json"),
            ExportFormat::Text => (report.to_text(), "txt"),
        }
    };
    crate::export::save_report(&app, "calconnect-exchange-test", extension, contents).await
}

/// The export buttons appear only after a test, but the state may have been lost in between.
pub(crate) fn no_report() -> IpcError {
    IpcError::new(
        ErrorCode::Failed,
        "There is no test result to save yet.",
        "Run the test first.",
    )
}
