//! Start-up options and the typed configuration chosen from them.

use serde::Serialize;

/// Command-line options of the desktop app. Each has an environment-variable twin so that a launcher
/// that cannot pass arguments (a desktop file, a WebDriver session) can still choose.
#[derive(Debug, Clone, clap::Parser)]
#[command(name = "calconnect", version, about = "Connect a Microsoft 365 / Outlook calendar, locally and transparently.")]
pub struct StartupOptions {
    /// Use the built-in Microsoft sandbox tenant instead of Microsoft 365.
    #[arg(long, env = "CALCONNECT_SANDBOX", value_parser = clap::builder::BoolishValueParser::new(), default_value_t = false, num_args = 0..=1, default_missing_value = "true")]
    pub sandbox: bool,
}

/// Which Microsoft cloud the app talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Cloud {
    /// The offline demo tenant served by calconnect's own emulator.
    Sandbox,
    /// Microsoft 365 global (login.microsoftonline.com, graph.microsoft.com).
    Global,
}

impl Cloud {
    /// The name a person sees for this cloud.
    pub fn label(self) -> &'static str {
        match self {
            Cloud::Sandbox => "Sandbox",
            Cloud::Global => "Microsoft 365 (global)",
        }
    }
}

/// The app's configuration, decided once at start-up and shared with commands as Tauri state.
#[derive(Debug, Clone)]
pub struct AppConfig {
    pub cloud: Cloud,
}

impl AppConfig {
    pub fn from_options(options: &StartupOptions) -> Self {
        let cloud = if options.sandbox {
            Cloud::Sandbox
        } else {
            Cloud::Global
        };
        AppConfig { cloud }
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

    #[test]
    fn sandbox_switch_selects_the_sandbox_cloud() {
        let options = StartupOptions::try_parse_from(["calconnect", "--sandbox"]).unwrap();
        assert_eq!(AppConfig::from_options(&options).cloud, Cloud::Sandbox);
    }

    #[test]
    fn without_the_switch_the_global_cloud_is_used() {
        let options = StartupOptions::try_parse_from(["calconnect", "--sandbox=false"]).unwrap();
        assert_eq!(AppConfig::from_options(&options).cloud, Cloud::Global);
    }
}
