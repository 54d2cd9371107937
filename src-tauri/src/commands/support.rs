//! Commands that help a person help themselves: open a link in the system browser (https only), open
//! the log folder, and the diagnostic summary a helpdesk asks for.

use crate::ipc::error::{ErrorCode, IpcError};
use crate::state::AppState;

/// Opens `url` in the system browser: the admin-consent link, Microsoft's documentation, the
/// device-code page, a Teams join link. Only `https` URLs without credentials in them are opened, so
/// the webview cannot make calconnect launch a local file, a custom scheme handler or a program.
#[tauri::command]
pub fn open_link(url: String) -> Result<(), IpcError> {
    let parsed = openable(&url).ok_or_else(|| {
        IpcError::new(
            ErrorCode::Failed,
            "calconnect opens only https links.",
            "Copy the link instead.",
        )
    })?;
    calconnect_identity::BrowserOpener::open(&calconnect_identity::SystemBrowser, &parsed).map_err(
        |_| {
            IpcError::new(
                ErrorCode::Failed,
                "No browser could be opened.",
                "Copy the link and paste it into a browser.",
            )
        },
    )
}

/// `Some` for an absolute `https` URL with a host and no user name or password in it.
fn openable(text: &str) -> Option<url::Url> {
    let url = url::Url::parse(text.trim()).ok()?;
    let acceptable = url.scheme() == "https"
        && url.host_str().is_some_and(|host| !host.is_empty())
        && url.username().is_empty()
        && url.password().is_none();
    acceptable.then_some(url)
}

/// Opens the folder holding calconnect's log files in the file manager.
#[tauri::command]
pub fn open_log_folder(state: tauri::State<'_, AppState>) -> Result<String, IpcError> {
    let folder = state.config().paths.logs.clone();
    open::that_detached(&folder).map_err(|_| {
        IpcError::new(
            ErrorCode::Failed,
            format!("The log folder {} could not be opened.", folder.display()),
            "Open it in your file manager yourself; the path is shown in Settings.",
        )
    })?;
    Ok(folder.display().to_string())
}

/// What a helpdesk needs first, ready to paste: version, platform, cloud, keychain, proxy, log folder
/// and the last errors shown. No token, no code, no address beyond the tenant the person typed.
#[tauri::command]
pub async fn diagnostic_info(state: tauri::State<'_, AppState>) -> Result<String, IpcError> {
    let mut lines = vec![
        format!(
            "calconnect {} ({} {})",
            env!("CARGO_PKG_VERSION"),
            std::env::consts::OS,
            std::env::consts::ARCH
        ),
        format!("Cloud: {}", state.active_cloud()?.label()),
    ];
    if let Ok(settings) = state.saved_settings() {
        lines.push(format!(
            "Tenant (as typed in Settings): {}",
            settings.tenant
        ));
    }
    lines.push(format!("Keychain: {}", keychain_status().await));
    lines.push(format!("Proxy: {}", crate::network::proxy_summary()));
    lines.push(format!(
        "Log folder: {}",
        state.config().paths.logs.display()
    ));
    let errors = crate::recent_errors::snapshot();
    if errors.is_empty() {
        lines.push("Last errors: none".to_owned());
    } else {
        lines.push("Last errors (oldest first):".to_owned());
        lines.extend(errors.into_iter().map(|error| format!("  {error}")));
    }
    Ok(lines.join("\n"))
}

/// Whether the OS keychain answers (the same connection a sign-in opens), in words.
async fn keychain_status() -> String {
    let opened = tokio::task::spawn_blocking(|| {
        calconnect_vault::KeychainStore::new(crate::state::KEYCHAIN_SERVICE)
    })
    .await;
    match opened {
        Ok(Ok(_)) => "available".to_owned(),
        Ok(Err(error)) => format!("unavailable: {}", error.user_message()),
        Err(_) => "not checked (the check did not finish)".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::openable;

    #[test]
    fn only_https_links_without_credentials_are_opened() {
        for accepted in [
            "https://login.microsoftonline.com/contoso.com/adminconsent?client_id=x",
            "https://learn.microsoft.com/en-us/exchange/",
            "https://127.0.0.1:8443/devicelogin",
            "https://teams.microsoft.com/l/meetup-join/abc",
        ] {
            assert!(openable(accepted).is_some(), "{accepted}");
        }
        for refused in [
            "http://login.microsoftonline.com/",
            "file:///etc/passwd",
            "javascript:alert(1)",
            "ms-teams://x",
            "https://user:pass@example.com/",
            "https://user@example.com/",
            "/relative/path",
            "",
        ] {
            assert!(openable(refused).is_none(), "{refused}");
        }
    }
}
