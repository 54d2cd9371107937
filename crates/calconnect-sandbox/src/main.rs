//! `calconnect-sandbox`: run the offline Microsoft emulator with the demo tenant (or your own).

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use anyhow::Context as _;
use calconnect_sandbox::{demo, Sandbox, Tenant};
use clap::Parser;

/// Offline emulator of the Microsoft identity platform, Microsoft Graph and Exchange Web Services.
///
/// Serves the Contoso demo tenant (or a tenant file) on 127.0.0.1 over HTTPS with a freshly generated
/// certificate authority. Clients must trust that CA: write it with --ca-out and add it as a root
/// certificate (reqwest: Certificate::from_pem + add_root_certificate; curl: --cacert PATH).
///
/// Demo users (no password asked): adele@contoso.com, megan@contoso.com, lee@contoso.com (admin consent
/// required for the Full app; outside the Teams application access policy), alex@contoso.com (blocked by
/// conditional access). Apps: calconnect (Full), calconnect Free/Busy, calconnect Teams (public clients),
/// calconnect Teams Enterprise (client secret or certificate; its demo certificate and key are
/// calconnect_sandbox::demo::TEAMS_ENTERPRISE_CERTIFICATE_PEM) and the EWS apps.
///
/// Admin endpoints, each requiring `Authorization: Bearer <admin token>` (the token printed at start as
/// `admin token: …`, or the one given with --admin-token): POST /_sandbox/faults with JSON such as
/// {"kind":"throttle","route":"graph.calendars","status":429,"retry_after_secs":2,"times":1}
/// (kinds: latency, throttle, drop_connection, revoke_refresh_tokens, expire_refresh_tokens,
/// revoke_consent, decline_consent, conditional_access, ews_server_busy, clear) and GET /_sandbox/journal.
#[derive(Debug, Parser)]
#[command(version, about, long_about)]
struct Arguments {
    /// Address to listen on (loopback recommended).
    #[arg(long, default_value = "127.0.0.1")]
    bind: IpAddr,
    /// Port to listen on; 0 picks a free one (the one --state-dir remembers, if it is free).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Keep signing key, CA, refresh-token grants (as SHA-256 digests), consents, clock offset and port in
    /// this directory, so sign-ins survive a restart and clients keep trusting the same CA.
    #[arg(long, value_name = "DIR")]
    state_dir: Option<PathBuf>,
    /// Serve plain HTTP instead of HTTPS.
    #[arg(long)]
    http: bool,
    /// Tenant definition (.toml or .json); see --print-demo for the format.
    #[arg(long, value_name = "PATH")]
    tenant_file: Option<PathBuf>,
    /// Write the CA certificate (PEM) to this path so clients can trust the sandbox.
    #[arg(long, value_name = "PATH")]
    ca_out: Option<PathBuf>,
    /// Print the demo tenant (the --demo flavour) as TOML, each scenario commented, and exit (a starting
    /// point for --tenant-file).
    #[arg(long)]
    print_demo: bool,
    /// Which demo tenant to serve without --tenant-file: Exchange 2019 on premises (service account:
    /// impersonation, delegate folder permissions, Default free/busy) or Exchange Online (app-only EWS
    /// scoped by RBAC for Applications, an app missing from EwsAllowedAppIDs).
    #[arg(long, value_enum, default_value_t = DemoFlavour::OnPremises)]
    demo: DemoFlavour,
    /// Also issue the server certificate for this host name (repeatable), for clients that reach the
    /// sandbox through a proxy or a test resolver under that name.
    #[arg(long = "hostname", value_name = "NAME")]
    hostnames: Vec<String>,
    /// The bearer token the admin endpoints (/_sandbox/…) require; random when not given. The
    /// environment variable keeps it out of the process list other users can read.
    #[arg(
        long,
        value_name = "TOKEN",
        env = "CALCONNECT_SANDBOX_ADMIN_TOKEN",
        hide_env_values = true
    )]
    admin_token: Option<String>,
    /// Serve under this host name: every URL the sandbox writes (discovery, device-code page, Graph
    /// links, Autodiscover answers, EWS URLs) names https://NAME:PORT/ instead of 127.0.0.1, and the
    /// certificate is issued for it. For clients that reach the sandbox through a proxy resolving NAME.
    #[arg(long, value_name = "NAME")]
    public_hostname: Option<String>,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum DemoFlavour {
    OnPremises,
    ExchangeOnline,
}

impl DemoFlavour {
    fn tenant(self) -> Tenant {
        match self {
            Self::OnPremises => Tenant::demo(),
            Self::ExchangeOnline => Tenant::demo_exchange_online(),
        }
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "calconnect_sandbox=info".into()),
        )
        .init();
    let arguments = Arguments::parse();
    if arguments.print_demo {
        print!("{}", arguments.demo.tenant().to_annotated_toml()?);
        return Ok(());
    }
    let tenant = match &arguments.tenant_file {
        Some(path) => Tenant::from_file(path)?,
        None => arguments.demo.tenant(),
    };
    let mut builder = Sandbox::builder()
        .tenant(tenant)
        .tls(!arguments.http)
        .bind(SocketAddr::new(arguments.bind, arguments.port));
    if let Some(directory) = &arguments.state_dir {
        builder = builder.state_dir(directory);
    }
    for name in &arguments.hostnames {
        builder = builder.hostname(name);
    }
    if let Some(token) = &arguments.admin_token {
        builder = builder.admin_token(token);
    }
    if let Some(name) = &arguments.public_hostname {
        builder = builder.public_hostname(name);
    }
    let sandbox = builder.start().await?;
    println!("calconnect sandbox listening on {}", sandbox.base_url());
    if arguments.public_hostname.is_some() {
        println!("  address:      {}", sandbox.local_address());
    }
    // For whoever started the sandbox (its scripts read this line); /_sandbox/ routes need it.
    println!("admin token: {}", sandbox.admin_token());
    println!("  authority:    {}", sandbox.authority("organizations"));
    println!("  graph:        {}", sandbox.graph_url());
    println!("  ews:          {}", sandbox.ews_url());
    println!("  full app:     {}", demo::FULL_APP_CLIENT_ID);
    println!("  free/busy app: {}", demo::FREEBUSY_APP_CLIENT_ID);
    println!("  teams app:    {}", demo::TEAMS_APP_CLIENT_ID);
    println!(
        "  teams enterprise app: {}",
        demo::TEAMS_ENTERPRISE_APP_CLIENT_ID
    );
    if let Some(path) = &arguments.ca_out {
        sandbox
            .write_ca_pem(path)
            .with_context(|| format!("failed to write the CA certificate to {}", path.display()))?;
        println!("  CA:           {}", path.display());
    } else if sandbox.ca_pem().is_some() {
        println!("  CA:           not written (use --ca-out PATH to trust it)");
    }
    if let Some(directory) = &arguments.state_dir {
        println!("  state:        {}", directory.display());
    }
    tokio::signal::ctrl_c()
        .await
        .context("failed to wait for ctrl-c")?;
    Ok(())
}
