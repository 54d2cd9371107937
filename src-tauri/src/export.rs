//! Saving a report: the Save dialog (tauri-plugin-dialog) with a dated default name in Downloads, then
//! a private (0600) file. `CALCONNECT_EXPORT_DIR` skips the dialog and saves there: the end-to-end
//! tests' way past a native dialog WebDriver cannot reach.

use std::path::{Path, PathBuf};

use tauri_plugin_dialog::DialogExt as _;

use crate::ipc::error::{ErrorCode, IpcError};

/// Asks where to save `contents` (default `{stem}-{YYYY-MM-DD}.{extension}`) and writes it there.
/// `Ok(None)` when the person cancelled the dialog.
pub async fn save_report<R: tauri::Runtime>(
    app: &tauri::AppHandle<R>,
    stem: &str,
    extension: &str,
    contents: String,
) -> Result<Option<String>, IpcError> {
    let default_name = format!(
        "{stem}-{}.{extension}",
        chrono::Local::now().format("%Y-%m-%d")
    );
    let path = match std::env::var_os("CALCONNECT_EXPORT_DIR") {
        Some(dir) => Some(unique_path(&PathBuf::from(dir), &default_name)),
        None => {
            let (sender, receiver) = tokio::sync::oneshot::channel();
            let filter = if extension == "json" { "JSON" } else { "Text" };
            app.dialog()
                .file()
                .set_title("Save the report")
                .set_directory(downloads())
                .set_file_name(&default_name)
                .add_filter(filter, &[extension])
                .save_file(move |chosen| {
                    let _ = sender.send(chosen.and_then(|chosen| chosen.into_path().ok()));
                });
            receiver.await.unwrap_or(None)
        }
    };
    let Some(path) = path else {
        return Ok(None);
    };
    write(&path, &contents).map_err(|error| {
        tracing::warn!(path = %path.display(), %error, "cannot save the report");
        IpcError::new(
            ErrorCode::Failed,
            format!("The report could not be saved to {}.", path.display()),
            "Choose a folder you can write to, then save again.",
        )
    })?;
    Ok(Some(path.display().to_string()))
}

/// `dir/name`, or `dir/name (2)`-style variants when a file of that name exists (no overwrite without
/// the dialog asking).
fn unique_path(dir: &Path, name: &str) -> PathBuf {
    let candidate = dir.join(name);
    if !candidate.exists() {
        return candidate;
    }
    let (stem, extension) = name.rsplit_once('.').unwrap_or((name, ""));
    (2..)
        .map(|n| dir.join(format!("{stem}-{n}.{extension}")))
        .find(|path| !path.exists())
        .expect("an unused name exists")
}

/// Writes the report 0600 through an exclusive temporary file renamed over the target, so a file the
/// user agreed to replace takes the new mode too and a link planted at the name is replaced, not followed
/// (`calconnect_core::private_file`). The dialog already asked before replacing an existing file.
fn write(
    path: &Path,
    contents: &str,
) -> Result<(), calconnect_core::private_file::PrivateFileError> {
    calconnect_core::private_file::write_export(path, contents.as_bytes())
}

fn downloads() -> PathBuf {
    directories::UserDirs::new()
        .and_then(|dirs| dirs.download_dir().map(PathBuf::from))
        .or_else(|| directories::BaseDirs::new().map(|dirs| dirs.home_dir().to_path_buf()))
        .unwrap_or_else(std::env::temp_dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_existing_report_is_never_overwritten_without_the_dialog() {
        let dir = tempfile::tempdir().unwrap();
        let first = unique_path(dir.path(), "report-2026-12-01.json");
        write(&first, "one").unwrap();
        let second = unique_path(dir.path(), "report-2026-12-01.json");
        assert_eq!(second, dir.path().join("report-2026-12-01-2.json"));
        assert_eq!(std::fs::read_to_string(first).unwrap(), "one");
    }

    #[cfg(unix)]
    #[test]
    fn a_saved_report_is_private() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.txt");
        write(&path, "x").unwrap();
        assert_eq!(
            std::fs::metadata(path).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_report_saved_over_a_readable_file_is_private_and_a_planted_link_is_replaced_not_followed()
    {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let readable = dir.path().join("old.txt");
        std::fs::write(&readable, "old").unwrap();
        std::fs::set_permissions(&readable, std::fs::Permissions::from_mode(0o644)).unwrap();
        write(&readable, "new").unwrap();
        let mode = std::fs::metadata(&readable).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);

        let elsewhere = dir.path().join("elsewhere.txt");
        std::fs::write(&elsewhere, "keep").unwrap();
        let link = dir.path().join("link.txt");
        std::os::unix::fs::symlink(&elsewhere, &link).unwrap();
        write(&link, "report").unwrap();
        assert_eq!(std::fs::read_to_string(&elsewhere).unwrap(), "keep");
        assert!(!std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
    }
}
