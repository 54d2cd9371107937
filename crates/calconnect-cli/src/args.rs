//! Command-line arguments.

use std::path::PathBuf;

use calconnect_identity::{AppKind, Cloud, Trust};
use clap::{Parser, Subcommand};
use url::Url;

/// Connect Microsoft 365 calendars (Microsoft Graph) from a terminal or a script.
#[derive(Debug, Parser)]
#[command(name = "calconnect", version, about)]
pub struct Cli {
    /// Print machine-readable JSON on stdout (errors too) instead of text.
    #[arg(long, global = true)]
    pub json: bool,

    /// Use the built-in sandbox (an offline Microsoft emulator with the Contoso demo tenant) instead of
    /// Microsoft. It runs inside each command; its state (next to the accounts file) carries sign-ins over.
    #[arg(long, global = true)]
    pub sandbox: bool,

    /// Configuration file [default: calconnect's config dir/config.toml].
    #[arg(long, global = true, env = "CALCONNECT_CONFIG")]
    pub config: Option<PathBuf>,

    /// Accounts metadata file [default: calconnect's data dir/accounts.json].
    #[arg(long, global = true, env = "CALCONNECT_ACCOUNTS")]
    pub accounts_file: Option<PathBuf>,

    /// Microsoft cloud: global (worldwide, which includes GCC), gcc-high (US Government GCC High; also
    /// usgov), dod (US Government DoD; also usgov-dod) or china (21Vianet). `gcc` is global.
    #[arg(long, global = true, value_name = "CLOUD")]
    pub cloud: Option<CloudChoice>,

    /// Authority base URL of any standards-compliant identity provider (overrides --cloud).
    #[arg(long, global = true)]
    pub authority: Option<Url>,

    /// Graph root (without the version) to use with --authority [default: the authority's base URL].
    #[arg(long, global = true)]
    pub graph: Option<Url>,

    /// Tenant: organizations, common, consumers, a tenant ID or a domain.
    #[arg(long, global = true)]
    pub tenant: Option<String>,

    /// A CA certificate file (PEM) to trust besides the bundled roots and the OS trust store: an
    /// on-premises Exchange's internal CA, a TLS-inspecting proxy's, or a sandbox's.
    #[arg(long, global = true, value_name = "PEM")]
    pub ca_file: Option<PathBuf>,

    /// Keychain service name the tokens are filed under [default: calconnect, or calconnect-sandbox with --sandbox].
    #[arg(long, global = true, env = "CALCONNECT_KEYCHAIN_SERVICE", hide = true)]
    pub keychain_service: Option<String>,

    #[command(subcommand)]
    pub command: Command,
}

/// `--cloud` as given: the cloud, and the note its spelling deserves (`gcc` is the worldwide cloud).
#[derive(Debug, Clone, Copy)]
pub struct CloudChoice {
    pub cloud: Cloud,
    pub note: Option<&'static str>,
}

impl std::str::FromStr for CloudChoice {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Cloud::parse(text).map(|(cloud, note)| Self { cloud, note })
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Sign in and connect an account, then list its calendars.
    Login {
        /// Which app registration to sign in with.
        #[arg(long, default_value = "full")]
        app: AppKind,
        /// Use the device code flow instead of the browser.
        #[arg(long)]
        device_code: bool,
        /// Ask Microsoft to show its consent page (`prompt=consent`), e.g. after AADSTS65001 ("no consent
        /// on record"). Browser sign-in only: the device code has no prompt.
        #[arg(long, conflicts_with = "device_code")]
        prompt_consent: bool,
        /// Client ID of the app registration (overrides the configuration).
        #[arg(long)]
        client_id: Option<String>,
        /// Seconds to wait for the browser's redirect.
        #[arg(long, default_value_t = 300)]
        timeout: u64,
    },
    /// List connected accounts.
    Accounts {
        /// Also show where tokens live and when the refresh token was last used.
        #[arg(long)]
        details: bool,
    },
    /// List an account's calendars.
    Calendars {
        /// Account ID or email (optional when only one account is connected).
        account: Option<String>,
    },
    /// Show an account's busy blocks for a range.
    Freebusy {
        /// Account ID or email (optional when only one account is connected).
        account: Option<String>,
        /// Start: RFC 3339 or YYYY-MM-DD (UTC) [default: now].
        #[arg(long)]
        from: Option<String>,
        /// End: RFC 3339 or YYYY-MM-DD (UTC) [default: 7 days after the start].
        #[arg(long)]
        to: Option<String>,
    },
    /// Prove a Teams conferencing connection: create a test meeting, print its join link, and delete it
    /// again (unless --keep).
    TeamsMeeting {
        /// Account ID or email of a Teams connection (optional when only one is connected).
        account: Option<String>,
        /// Keep the meeting instead of deleting it.
        #[arg(long)]
        keep: bool,
    },
    /// Test the Teams Enterprise app as an admin: its app-only token and roles, the organisation, the test
    /// user, and a meeting created on the user's behalf (then deleted). Exits 10 when no meeting could be
    /// created.
    ///
    /// The client secret is read from CALCONNECT_CLIENT_SECRET, from stdin with --secret-stdin, or asked
    /// for on the terminal; --certificate uses a certificate credential instead.
    TeamsTest(TeamsTestArgs),
    /// Test the Graph Enterprise Connect app as an admin: its roles, the organisation, the users (by UPN
    /// and proxyAddresses), rooms, and the test mailbox's calendars, in or out of the app's scope. Exits 10
    /// when the expected level (or any access) is not reached.
    ///
    /// The client secret is read from CALCONNECT_CLIENT_SECRET, from stdin with --secret-stdin, or asked
    /// for on the terminal; --certificate uses a certificate credential instead.
    GraphTest(GraphTestArgs),
    /// Test an Exchange (EWS) Enterprise Connect service account: Autodiscover, TLS, authentication,
    /// impersonation and delegate access to one or many mailboxes, and the access level actually granted.
    ///
    /// The password (or client secret) is read from CALCONNECT_EWS_SECRET, from stdin with --secret-stdin,
    /// or asked for on the terminal; it is never taken as an argument.
    ExchangeTest(Box<ExchangeTestArgs>),
    /// Print, ready to copy, what creates calconnect's Full, Free/Busy and Teams apps in your own tenant:
    /// Azure CLI commands (bash or zsh), Microsoft Graph PowerShell commands and the apps' manifest JSON.
    /// The commands print the tenant ID and client IDs to put in config.toml. Uses --cloud and --tenant.
    RegisterApps {
        /// Print only one of them: `az` (Azure CLI), `powershell` or `manifest`; the notes go to stderr.
        #[arg(long, value_parser = ["az", "powershell", "manifest"])]
        shell: Option<String>,
    },
    /// Show how calconnect reaches the network: the proxy each request goes through (from HTTPS_PROXY,
    /// HTTP_PROXY, ALL_PROXY and NO_PROXY, else the desktop's proxy settings), the exceptions, and what
    /// was ignored. Loopback is always reached directly. No credentials are shown.
    Network,
    /// Disconnect an account: remove its keychain entry and metadata.
    Logout {
        /// Account ID or email.
        account: Option<String>,
        /// Disconnect every account.
        #[arg(long, conflicts_with = "account")]
        all: bool,
    },
}

/// Arguments of `calconnect exchange-test`.
#[derive(Debug, clap::Args)]
pub struct ExchangeTestArgs {
    /// A mailbox to test against (a user or resource mailbox); repeat it for several.
    #[arg(long = "mailbox", required_unless_present = "mailboxes")]
    pub mailbox: Vec<String>,
    /// A file of mailboxes to test: one address a line, or a CSV export with a header naming the address
    /// column (PrimarySmtpAddress, EmailAddress, Mail, …).
    #[arg(long, value_name = "FILE")]
    pub mailboxes: Option<PathBuf>,
    /// At most this many mailboxes in flight [default: 8; the service account's EWSMaxConcurrency is 10
    /// by default on premises].
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub concurrency: Option<u16>,
    /// The service account: user name, DOMAIN\\user or UPN (Basic authentication).
    #[arg(
        long,
        required_unless_present = "client_id",
        conflicts_with = "client_id"
    )]
    pub user: Option<String>,
    /// Exchange Online: the app registration's client ID (client-credentials OAuth instead of a password).
    #[arg(long, requires = "tenant_id")]
    pub client_id: Option<String>,
    /// Exchange Online: the tenant ID or domain of the app registration.
    #[arg(long)]
    pub tenant_id: Option<String>,
    /// The EWS URL, when Autodiscover is not set up for the mailbox's domain.
    #[arg(long)]
    pub ews_url: Option<Url>,
    /// Read the password or client secret from the first line of stdin.
    #[arg(long)]
    pub secret_stdin: bool,
    /// Exit non-zero unless at least this access level is granted: full, restricted or free-busy.
    #[arg(long)]
    pub expect: Option<String>,
    /// Also write the validation log as JSON to this file.
    #[arg(long)]
    pub export_json: Option<PathBuf>,
    /// Also write the validation log as a readable text report to this file.
    #[arg(long)]
    pub export_text: Option<PathBuf>,
    /// The run's trust set-up, not an argument of its own: main.rs fills it with the bundled roots, the
    /// OS trust store and the global `--ca-file`.
    #[arg(skip)]
    pub trust: Trust,
}

/// Arguments of `calconnect teams-test`.
#[derive(Debug, clap::Args)]
pub struct TeamsTestArgs {
    /// The Teams Enterprise app's application (client) ID.
    #[arg(long)]
    pub client_id: String,
    /// The tenant ID or a verified domain of the organisation.
    #[arg(long)]
    pub tenant_id: String,
    /// The test user's UPN: the meeting is created on their behalf.
    #[arg(long)]
    pub user: String,
    /// A PEM file with the app's certificate and its private key (certificate credential).
    #[arg(long, value_name = "PEM")]
    pub certificate: Option<PathBuf>,
    /// Read the client secret from the first line of stdin.
    #[arg(long, conflicts_with = "certificate")]
    pub secret_stdin: bool,
    /// Also write the report as JSON to this file.
    #[arg(long)]
    pub export_json: Option<PathBuf>,
    /// Also write the report as text to this file.
    #[arg(long)]
    pub export_text: Option<PathBuf>,
}

/// Arguments of `calconnect graph-test`.
#[derive(Debug, clap::Args)]
pub struct GraphTestArgs {
    /// The Enterprise Connect app's application (client) ID.
    #[arg(long)]
    pub client_id: String,
    /// The tenant ID or a verified domain of the organisation.
    #[arg(long)]
    pub tenant_id: String,
    /// The test mailbox: a UPN or one of its addresses.
    #[arg(long)]
    pub mailbox: String,
    /// A PEM file with the app's certificate and its private key (certificate credential).
    #[arg(long, value_name = "PEM")]
    pub certificate: Option<PathBuf>,
    /// Read the client secret from the first line of stdin.
    #[arg(long, conflicts_with = "certificate")]
    pub secret_stdin: bool,
    /// Exit 10 unless at least this level is reached: full, restricted or free-busy.
    #[arg(long)]
    pub expect: Option<String>,
    /// Also create and delete one event in the test mailbox's calendar.
    #[arg(long)]
    pub write_test: bool,
    /// `app-only` (default): the organisation-wide app with client credentials. `free-busy`: the
    /// Enterprise Connect Free/Busy app, signed in as the admin (delegated), reading getSchedule.
    #[arg(long, default_value = "app-only", value_parser = ["app-only", "free-busy"])]
    pub app: String,
    /// Free/Busy variant: more addresses to read with the test mailbox (up to 20 in all).
    #[arg(long = "also", value_name = "ADDRESS")]
    pub also: Vec<String>,
    /// Free/Busy variant: sign in with a device code instead of the browser.
    #[arg(long)]
    pub device_code: bool,
    /// Also write the report as JSON to this file.
    #[arg(long)]
    pub export_json: Option<PathBuf>,
    /// Also write the report as text to this file.
    #[arg(long)]
    pub export_text: Option<PathBuf>,
}

impl GraphTestArgs {
    /// The Free/Busy variant (delegated sign-in, getSchedule).
    pub fn free_busy(&self) -> bool {
        self.app == "free-busy"
    }
}

impl Command {
    /// The app-only Graph test, which needs no keychain.
    pub fn graph_app_only(&self) -> Option<&GraphTestArgs> {
        match self {
            Self::GraphTest(args) if !args.free_busy() => Some(args),
            _ => None,
        }
    }
}
