//! Start-up options and the typed configuration chosen from them.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use url::Url;

/// Command-line options of the desktop app. Each has an environment-variable twin so that a launcher
/// that cannot pass arguments (a desktop file, a WebDriver session) can still choose.
#[derive(Debug, Clone, clap::Parser)]
#[command(
    name = "calconnect",
    version,
    about = "Connect a Microsoft 365 / Outlook calendar, locally and transparently."
)]
pub struct StartupOptions {
    /// Use the built-in Microsoft sandbox tenant instead of Microsoft 365.
    #[arg(long, env = "CALCONNECT_SANDBOX", value_parser = clap::builder::BoolishValueParser::new(), default_value_t = false, num_args = 0..=1, default_missing_value = "true")]
    pub sandbox: bool,
    /// Use an already running `calconnect-sandbox` at this base URL instead of starting one (implies --sandbox).
    #[arg(long, env = "CALCONNECT_SANDBOX_URL", value_name = "URL")]
    pub sandbox_url: Option<Url>,
    /// PEM file of the CA that signed that sandbox's certificate (its `--ca-out`).
    #[arg(
        long,
        env = "CALCONNECT_SANDBOX_CA",
        value_name = "PATH",
        requires = "sandbox_url"
    )]
    pub sandbox_ca: Option<PathBuf>,
    /// Directory for settings and the accounts list (default: the platform's config and data directories).
    #[arg(long, env = "CALCONNECT_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
}

/// Which Microsoft cloud the app talks to (the national clouds' hosts are calconnect-identity's presets).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Cloud {
    /// Microsoft 365 worldwide (login.microsoftonline.com, graph.microsoft.com), GCC (moderate) tenants too.
    #[default]
    Global,
    /// Microsoft 365 US Government GCC High (login.microsoftonline.us, graph.microsoft.us).
    UsGovernment,
    /// Microsoft 365 US Government DoD (login.microsoftonline.us, dod-graph.microsoft.us).
    UsGovernmentDod,
    /// Microsoft 365 operated by 21Vianet (login.chinacloudapi.cn).
    China,
    /// The offline demo tenant served by calconnect's own emulator.
    Sandbox,
}

impl Cloud {
    /// The name a person sees for this cloud: which US Government cloud is which, and that GCC is worldwide.
    pub fn label(self) -> &'static str {
        match self.national() {
            Some(cloud) => cloud.label(),
            None => "Sandbox",
        }
    }

    /// The identity crate's national cloud, `None` for the sandbox (its URLs are only known once it runs).
    pub fn national(self) -> Option<calconnect_identity::Cloud> {
        match self {
            Cloud::Global => Some(calconnect_identity::Cloud::Global),
            Cloud::UsGovernment => Some(calconnect_identity::Cloud::UsGovernment),
            Cloud::UsGovernmentDod => Some(calconnect_identity::Cloud::UsGovernmentDod),
            Cloud::China => Some(calconnect_identity::Cloud::China),
            Cloud::Sandbox => None,
        }
    }

    pub const ALL: [Cloud; 5] = [
        Cloud::Global,
        Cloud::UsGovernment,
        Cloud::UsGovernmentDod,
        Cloud::China,
        Cloud::Sandbox,
    ];
}

/// How this run reaches the sandbox tenant, when it uses one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SandboxSource {
    /// Start the emulator inside the app (the demo mode of `--sandbox`).
    InProcess,
    /// Attach to a running emulator (tests, or a sandbox shared with the CLI).
    External {
        base_url: Url,
        ca_pem: Option<Vec<u8>>,
    },
}

/// Where the app keeps its files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataPaths {
    pub settings: PathBuf,
    pub accounts: PathBuf,
    /// Sandbox accounts are kept apart from real ones (same name as the CLI uses).
    pub sandbox_accounts: PathBuf,
    /// The in-process sandbox's own state (signing key, certificate, refresh-token grants, port), shared
    /// with the CLI's `--sandbox`, so the demo tenant honours earlier sign-ins after a restart.
    pub sandbox_state: PathBuf,
    /// The log files (`calconnect.YYYY-MM-DD.log`): the platform's log folder, or `logs/` in `dir`.
    pub logs: PathBuf,
}

impl DataPaths {
    /// Everything in `dir` when given, else the platform's config directory (settings) and data directory (accounts).
    pub fn new(dir: Option<PathBuf>) -> Result<Self, String> {
        let (config_dir, data_dir, logs) = match dir {
            Some(dir) => (dir.clone(), dir.clone(), dir.join("logs")),
            None => {
                let dirs = directories::ProjectDirs::from("", "", "calconnect").ok_or_else(|| {
                    "calconnect cannot find a home directory for its settings (set HOME or CALCONNECT_DATA_DIR)"
                        .to_owned()
                })?;
                // Linux: $XDG_STATE_HOME/calconnect/logs (logs are state, not data, in the XDG spec);
                // macOS and Windows have no state folder, so the local data folder's logs/.
                let logs = dirs
                    .state_dir()
                    .unwrap_or_else(|| dirs.data_local_dir())
                    .join("logs");
                (
                    dirs.config_dir().to_owned(),
                    dirs.data_dir().to_owned(),
                    logs,
                )
            }
        };
        Ok(DataPaths {
            settings: config_dir.join("settings.toml"),
            accounts: data_dir.join("accounts.json"),
            sandbox_accounts: data_dir.join("sandbox-accounts.json"),
            sandbox_state: data_dir.join("sandbox-state"),
            logs,
        })
    }

    /// The single-instance D-Bus name's base for this profile: one window per set of files, so a
    /// second launch on the same files focuses the first, while a profile of its own (another
    /// `CALCONNECT_DATA_DIR`, as each end-to-end test has) runs beside it.
    pub fn instance_id(&self) -> String {
        use sha2::Digest as _;
        let digest = sha2::Sha256::digest(self.accounts.to_string_lossy().as_bytes());
        let short: String = digest[..8]
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect();
        format!("dev.calconnect.desktop.p{short}")
    }
}

/// The app's configuration, decided once at start-up and shared with commands as Tauri state.
#[derive(Debug, Clone)]
pub struct AppConfig {
    /// `Some(Sandbox)` when the command line chose the sandbox; otherwise the saved settings decide.
    pub cloud_override: Option<Cloud>,
    pub sandbox: SandboxSource,
    pub paths: DataPaths,
}

impl AppConfig {
    pub fn from_options(options: &StartupOptions) -> Result<Self, String> {
        let sandbox = match &options.sandbox_url {
            Some(base_url) => {
                let ca_pem = match &options.sandbox_ca {
                    Some(path) => Some(std::fs::read(path).map_err(|error| {
                        format!(
                            "cannot read the sandbox CA file {}: {error}",
                            path.display()
                        )
                    })?),
                    None => None,
                };
                SandboxSource::External {
                    base_url: base_url.clone(),
                    ca_pem,
                }
            }
            None => SandboxSource::InProcess,
        };
        let cloud_override =
            (options.sandbox || options.sandbox_url.is_some()).then_some(Cloud::Sandbox);
        Ok(AppConfig {
            cloud_override,
            sandbox,
            paths: DataPaths::new(options.data_dir.clone())?,
        })
    }
}

/// GTK aborts without a display; say so plainly instead, with the way out.
pub fn check_display() -> Result<(), String> {
    if !cfg!(target_os = "linux") {
        return Ok(());
    }
    let has = |name: &str| std::env::var_os(name).is_some_and(|value| !value.is_empty());
    if has("DISPLAY") || has("WAYLAND_DISPLAY") {
        Ok(())
    } else {
        Err("calconnect needs a graphical display, and none was found (DISPLAY and WAYLAND_DISPLAY are unset).\n\
             On a machine without a screen, run it under a virtual one: xvfb-run -a calconnect-app --sandbox"
            .to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn parse(args: &[&str]) -> AppConfig {
        let mut all = vec!["calconnect", "--data-dir", "/tmp/calconnect-test"];
        all.extend_from_slice(args);
        AppConfig::from_options(&StartupOptions::try_parse_from(all).unwrap()).unwrap()
    }

    #[test]
    fn sandbox_switch_selects_the_sandbox_cloud() {
        let config = parse(&["--sandbox"]);
        assert_eq!(config.cloud_override, Some(Cloud::Sandbox));
        assert_eq!(config.sandbox, SandboxSource::InProcess);
    }

    #[test]
    fn without_the_switch_the_saved_settings_decide() {
        assert_eq!(parse(&["--sandbox=false"]).cloud_override, None);
    }

    #[test]
    fn a_sandbox_url_attaches_to_that_sandbox_and_implies_the_sandbox_cloud() {
        let config = parse(&["--sandbox-url", "http://127.0.0.1:4444/"]);
        assert_eq!(config.cloud_override, Some(Cloud::Sandbox));
        assert!(
            matches!(config.sandbox, SandboxSource::External { ref base_url, ca_pem: None } if base_url.port() == Some(4444))
        );
    }

    #[test]
    fn every_cloud_option_has_a_label_that_tells_the_us_government_clouds_apart() {
        let labels: Vec<&str> = Cloud::ALL.iter().map(|cloud| cloud.label()).collect();
        assert_eq!(
            labels,
            [
                "Microsoft 365 worldwide (includes GCC)",
                "Microsoft 365 US Government GCC High",
                "Microsoft 365 US Government DoD",
                "Microsoft 365 China (operated by 21Vianet)",
                "Sandbox",
            ]
        );
        assert_eq!(
            serde_json::to_value(Cloud::UsGovernmentDod).unwrap(),
            "usGovernmentDod"
        );
    }

    #[test]
    fn a_data_dir_holds_settings_and_both_account_lists() {
        let paths = DataPaths::new(Some("/d".into())).unwrap();
        assert_eq!(paths.settings, PathBuf::from("/d/settings.toml"));
        assert_eq!(paths.accounts, PathBuf::from("/d/accounts.json"));
        assert_eq!(
            paths.sandbox_accounts,
            PathBuf::from("/d/sandbox-accounts.json")
        );
    }
}
