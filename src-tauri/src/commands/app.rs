//! Commands about the app itself.

use crate::access::{self, AccessOption};
use crate::ipc::dto::AppInfo;
use crate::ipc::error::IpcError;
use crate::state::AppState;

/// The app version and the Microsoft cloud this run talks to, for the welcome step.
#[tauri::command]
pub fn app_info(state: tauri::State<'_, AppState>) -> Result<AppInfo, IpcError> {
    let cloud = state.active_cloud()?;
    Ok(AppInfo {
        version: env!("CARGO_PKG_VERSION").to_owned(),
        cloud,
        cloud_label: cloud.label().to_owned(),
    })
}

/// The two kinds of access with their scopes, why each is needed, and what each can and cannot see.
#[tauri::command]
pub fn access_options() -> Vec<AccessOption> {
    access::options()
}

/// The most start-up marks [`ui_ready`] logs.
const MAX_MARKS: usize = 16;

/// The environment variable naming the file [`ui_ready`] creates; `scripts/bench.sh` sets it.
pub const BENCH_READY_FILE: &str = "CALCONNECT_BENCH_READY_FILE";

/// The welcome step is drawn and its first commands have answered: the end of start-up, by which
/// `scripts/bench.sh` times it (from spawn to this, not a sleep). Creates the file named by
/// `CALCONNECT_BENCH_READY_FILE` once per process; without that variable it does nothing.
/// `marks` are the page's start-up marks (milliseconds since its navigation began), logged as they come:
/// at most [`MAX_MARKS`] of them, names cut to 40 characters (the page is ours, but the log stays small).
#[tauri::command]
pub fn ui_ready(marks: Option<std::collections::BTreeMap<String, f64>>) {
    static SIGNALLED: std::sync::Once = std::sync::Once::new();
    SIGNALLED.call_once(|| {
        let marks: Vec<String> = marks
            .unwrap_or_default()
            .into_iter()
            .take(MAX_MARKS)
            .map(|(name, at)| format!("{}={at:.0}", name.chars().take(40).collect::<String>()))
            .collect();
        tracing::info!(page_marks_ms = %marks.join(" "), "first screen ready");
        signal_ready(std::env::var_os(BENCH_READY_FILE).as_deref());
    });
}

/// Writes the ready file, if one is asked for. A failure only costs the benchmark its figure.
fn signal_ready(path: Option<&std::ffi::OsStr>) {
    let Some(path) = path.filter(|path| !path.is_empty()) else {
        return;
    };
    if let Err(error) = std::fs::write(path, b"ready\n") {
        tracing::warn!(%error, "could not write the start-up benchmark's ready file");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ready_file_is_written_only_when_one_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ready");
        signal_ready(None);
        signal_ready(Some(std::ffi::OsStr::new("")));
        assert!(std::fs::read_dir(dir.path()).unwrap().next().is_none());
        signal_ready(Some(path.as_os_str()));
        assert_eq!(std::fs::read(&path).unwrap(), b"ready\n");
    }
}
