//! Commands of the Accounts step: list, details and disconnect.

use crate::ipc::dto::{AccountDetailsView, AccountView};
use crate::ipc::error::IpcError;
use crate::state::AppState;

/// The connected accounts (read from the accounts file; no network call).
#[tauri::command]
pub async fn list_accounts(
    state: tauri::State<'_, AppState>,
) -> Result<Vec<AccountView>, IpcError> {
    let core = state.core().await?;
    Ok(core
        .list_accounts()
        .await?
        .into_iter()
        .map(AccountView::from)
        .collect())
}

/// Removes the account's tokens from the keychain and the account from the list.
#[tauri::command]
pub async fn disconnect(
    state: tauri::State<'_, AppState>,
    account_id: String,
) -> Result<(), IpcError> {
    state.core().await?.disconnect(&account_id).await?;
    Ok(())
}

/// Where the account's tokens are kept and when its refresh token was last used.
#[tauri::command]
pub async fn account_details(
    state: tauri::State<'_, AppState>,
    account_id: String,
) -> Result<AccountDetailsView, IpcError> {
    let details = state.core().await?.account_details(&account_id).await?;
    Ok(details.into())
}
