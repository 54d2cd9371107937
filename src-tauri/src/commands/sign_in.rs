//! Commands of the sign-in step: start a browser or device-code sign-in, and cancel it.
//!
//! Each start command returns what to show at once and finishes in a background task, which pushes a
//! countdown every second, the device-code poll state, and the outcome over the command's channel.

use std::time::Duration;

use calconnect_core::Connected;
use chrono::{DateTime, Utc};
use tauri::ipc::Channel;
use tauri::{AppHandle, Manager, Runtime};

use crate::ipc::dto::{Access, BrowserSignInView, DeviceCodeView};
use crate::ipc::error::IpcError;
use crate::ipc::event::SignInEvent;
use crate::state::AppState;

/// Opens the browser on the authorize URL (PKCE, loopback redirect; RFC 7636, RFC 8252) and waits for it.
/// `ask_consent` asks Microsoft to show its consent page (`prompt=consent`), the way on after
/// `ConsentRequired`.
#[tauri::command]
pub async fn start_browser_sign_in<R: Runtime>(
    app: AppHandle<R>,
    state: tauri::State<'_, AppState>,
    access: Access,
    ask_consent: Option<bool>,
    on_event: Channel<SignInEvent>,
) -> Result<BrowserSignInView, IpcError> {
    let core = state.core().await?;
    let pending = if ask_consent.unwrap_or(false) {
        core.start_browser_sign_in_with_consent(access.into())
            .await?
    } else {
        core.start_browser_sign_in(access.into()).await?
    };
    let timeout = pending.timeout();
    let view = BrowserSignInView {
        authorize_url: pending.authorize_url().to_string(),
        browser_opened: pending.browser_opened(),
        timeout_seconds: timeout.as_secs(),
    };
    let id = state.begin_sign_in(pending.cancel_token());
    let deadline = Utc::now() + timeout;
    tauri::async_runtime::spawn(async move {
        let countdown = spawn_countdown(on_event.clone(), deadline);
        let outcome = pending.finish().await;
        countdown.abort();
        report(&on_event, outcome);
        app.state::<AppState>().finish_sign_in(id);
    });
    Ok(view)
}

/// Requests a device code (RFC 8628) and polls for the person to enter it on another device.
#[tauri::command]
pub async fn start_device_code<R: Runtime>(
    app: AppHandle<R>,
    state: tauri::State<'_, AppState>,
    access: Access,
    on_event: Channel<SignInEvent>,
) -> Result<DeviceCodeView, IpcError> {
    let core = state.core().await?;
    let pending = core.start_device_code(access.into()).await?;
    let prompt = pending.prompt().clone();
    let view = DeviceCodeView {
        user_code: prompt.user_code.clone(),
        verification_uri: prompt.verification_uri.to_string(),
        qr_code: crate::qr::svg_data_url(prompt.verification_uri.as_str()),
        expires_at: prompt.expires_at,
        remaining_seconds: seconds_until(prompt.expires_at),
        message: prompt.message.clone(),
    };
    let id = state.begin_sign_in(pending.cancel_token());
    tauri::async_runtime::spawn(async move {
        let countdown = spawn_countdown(on_event.clone(), prompt.expires_at);
        let progress_channel = on_event.clone();
        let outcome = pending
            .finish(move |progress| {
                send(
                    &progress_channel,
                    SignInEvent::Polling {
                        poll: progress.state.into(),
                        polls: progress.polls,
                        interval_seconds: progress.interval_seconds,
                    },
                );
            })
            .await;
        countdown.abort();
        report(&on_event, outcome);
        app.state::<AppState>().finish_sign_in(id);
    });
    Ok(view)
}

/// Cancels the sign-in in flight; its channel then reports a `Cancelled` failure. `false` if none was.
#[tauri::command]
pub fn cancel_sign_in(state: tauri::State<'_, AppState>) -> bool {
    state.cancel_sign_in()
}

fn seconds_until(deadline: DateTime<Utc>) -> u64 {
    u64::try_from((deadline - Utc::now()).num_seconds()).unwrap_or(0)
}

/// Pushes the time left once a second until `deadline` (or until aborted when the sign-in ends).
fn spawn_countdown(
    channel: Channel<SignInEvent>,
    deadline: DateTime<Utc>,
) -> tauri::async_runtime::JoinHandle<()> {
    tauri::async_runtime::spawn(async move {
        let mut ticks = tokio::time::interval(Duration::from_secs(1));
        loop {
            ticks.tick().await;
            let remaining_seconds = seconds_until(deadline);
            send(&channel, SignInEvent::Countdown { remaining_seconds });
            if remaining_seconds == 0 {
                break;
            }
        }
    })
}

fn report(channel: &Channel<SignInEvent>, outcome: calconnect_core::Result<Connected>) {
    let event = match outcome {
        Ok(connected) => SignInEvent::Connected {
            account: connected.account.into(),
            calendars: connected.calendars.into_iter().map(Into::into).collect(),
        },
        Err(error) => SignInEvent::Failed {
            error: error.into(),
        },
    };
    send(channel, event);
}

fn send(channel: &Channel<SignInEvent>, event: SignInEvent) {
    if let Err(error) = channel.send(event) {
        // The window closed or reloaded; the sign-in itself is unaffected.
        tracing::debug!(%error, "sign-in event not delivered");
    }
}
