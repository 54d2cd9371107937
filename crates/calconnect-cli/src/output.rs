//! Human and JSON output. JSON goes to stdout as one document; progress and hints go to stderr.

use calconnect_core::{
    Account, AccountDetails, AccountStatus, CalendarInfo, Connected, DeviceCodePrompt, Error,
    FreeBusy, FreeBusySource,
};
use serde_json::{json, Value};

pub fn print_json(value: &Value) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
    );
}

pub fn error_json(error: &Error) -> Value {
    json!({ "error": {
        "kind": error.kind(),
        "message": error.user_message(),
        "next_step": error.next_step(),
        "trace_id": error.trace_id(),
        "correlation_id": error.correlation_id(),
        "admin_consent": error.admin_consent(),
        "try_prompt_consent": error.suggests_consent_prompt(),
        "try_browser": error.suggests_browser(),
        "try_device_code": error.suggests_device_code(),
    }})
}

pub fn print_error(error: &Error) {
    eprintln!("error: {}", error.user_message());
    eprintln!("  next step: {}", error.next_step());
    if let Some(trace_id) = error.trace_id() {
        eprintln!("  trace ID: {trace_id}");
    }
    if let Some(correlation_id) = error.correlation_id() {
        eprintln!("  correlation ID: {correlation_id}");
    }
    if let Some(consent) = error.admin_consent() {
        eprintln!(
            "  admin-consent link for your administrator:\n    {}",
            consent.url
        );
        eprintln!("  permissions it grants:");
        for permission in &consent.permissions {
            eprintln!("    - {}: {}", permission.scope, permission.why);
        }
    }
    if error.suggests_consent_prompt() {
        eprintln!(
            "  hint: sign in again with Microsoft's consent page: `calconnect login --prompt-consent` (with the same --app)"
        );
    }
    if error.suggests_browser() {
        eprintln!(
            "  hint: the browser sign-in may work: run `calconnect login` without --device-code"
        );
    }
    if error.suggests_device_code() {
        eprintln!("  hint: try the device code instead: `calconnect login --device-code`");
    }
    // The chain names the failing operation and URL, for bug reports. It never holds a token.
    let mut source = std::error::Error::source(error);
    let mut chain = vec![error.to_string()];
    while let Some(cause) = source {
        chain.push(cause.to_string());
        source = cause.source();
    }
    eprintln!("  details: {}", chain.join(": "));
}

pub fn device_prompt(prompt: &DeviceCodePrompt) {
    let minutes = (prompt.expires_at - chrono::Utc::now())
        .num_minutes()
        .max(0);
    eprintln!(
        "To sign in, open {} and enter the code {}",
        prompt.verification_uri, prompt.user_code
    );
    eprintln!("(the code expires in about {minutes} minutes; press Ctrl-C to cancel)");
}

fn status_label(status: AccountStatus) -> &'static str {
    match status {
        AccountStatus::Connected => "connected",
        AccountStatus::NeedsSignInAgain => "needs sign-in again",
    }
}

pub fn account_line(account: &Account) -> String {
    format!(
        "{}  {} <{}>  app={} access={:?} tenant={}  [{}]",
        account.id,
        account.user.name,
        account.user.email,
        account.app,
        account.access,
        account.tenant,
        status_label(account.status)
    )
}

pub fn details(details: &AccountDetails) {
    println!("{}", account_line(&details.account));
    println!("    scopes: {}", details.account.granted_scopes);
    println!("    tokens: {}", details.keychain);
    println!(
        "    refresh token last used {} (expires {} unless used)",
        details.refresh_token_last_used.format("%Y-%m-%d %H:%M UTC"),
        details.refresh_token_expires_at.format("%Y-%m-%d")
    );
}

pub fn calendars(calendars: &[CalendarInfo]) {
    for calendar in calendars {
        let mut flags = Vec::new();
        if calendar.is_default {
            flags.push("default");
        }
        flags.push(if calendar.can_edit {
            "can edit"
        } else {
            "read-only"
        });
        if calendar.free_busy_only {
            flags.push("free/busy only");
        }
        let colour = calendar
            .hex_color
            .clone()
            .or_else(|| calendar.color.clone())
            .unwrap_or_else(|| "-".to_owned());
        let owner = calendar.owner_email.clone().unwrap_or_default();
        println!(
            "{}  colour={}  owner={}  [{}]",
            calendar.name,
            colour,
            owner,
            flags.join(", ")
        );
    }
}

pub fn connected(connected: &Connected) {
    println!("Connected {}", account_line(&connected.account));
    if connected.account.app.reads_calendars() {
        calendars(&connected.calendars);
    } else {
        println!("Teams conferencing: meeting links only, no access to calendars. Try `calconnect teams-meeting`.");
    }
}

pub fn test_meeting(meeting: &calconnect_core::TestMeeting) {
    println!(
        "Created \"{}\" ({} to {})",
        meeting.subject, meeting.start, meeting.end
    );
    println!("Join link:  {}", meeting.join_web_url);
    println!("Meeting ID: {}", meeting.meeting_id);
    if meeting.deleted {
        println!("Deleted again: the test left nothing behind.");
    } else if let Some(error) = &meeting.delete_error {
        println!("Not deleted: {error}");
    } else {
        println!("Kept (--keep): delete it in Teams when you no longer need it.");
    }
}

pub fn free_busy(free_busy: &FreeBusy) {
    println!(
        "{} of {} from {} to {}: {} busy blocks",
        free_busy.calendar.name,
        free_busy.calendar.owner_email.clone().unwrap_or_default(),
        free_busy.start.format("%Y-%m-%d %H:%M"),
        free_busy.end.format("%Y-%m-%d %H:%M"),
        free_busy.blocks.len()
    );
    if free_busy.source == FreeBusySource::CalendarView {
        println!("(read from your calendar's calendarView: Microsoft refused getSchedule for this sign-in)");
    }
    for block in &free_busy.blocks {
        println!(
            "{}  {}  {}",
            block.start.format("%Y-%m-%d %H:%M"),
            block.end.format("%Y-%m-%d %H:%M"),
            block.status
        );
    }
}

/// `register-apps`: one artefact alone on stdout (so it can be redirected to a file) with the notes on
/// stderr, or all three under headings; with `--json`, the whole guide.
pub fn registration(
    guide: &calconnect_core::RegistrationGuide,
    only: Option<&str>,
    json_output: bool,
) {
    if json_output {
        print_json(&json!(guide));
        return;
    }
    let manifest = format!("{}\n", guide.manifest);
    match only {
        Some(shell) => {
            let text = match shell {
                "az" => &guide.azure_cli,
                "powershell" => &guide.powershell,
                _ => &manifest,
            };
            print!("{text}");
            for note in &guide.notes {
                eprintln!("note: {note}");
            }
        }
        None => {
            println!(
                "calconnect's apps: Full, Free/Busy and Teams conferencing, each a public client."
            );
            for note in &guide.notes {
                println!("- {note}");
            }
            for (title, text) in [
                ("Azure CLI (bash or zsh)", &guide.azure_cli),
                ("Microsoft Graph PowerShell", &guide.powershell),
                ("Manifest (Microsoft Graph application objects)", &manifest),
            ] {
                println!("\n== {title} ==\n");
                print!("{text}");
            }
            println!(
                "\nThen put the IDs they print in config.toml: tenant, full_client_id, freebusy_client_id, teams_client_id."
            );
        }
    }
}

/// `calconnect network`: the proxy of each destination scheme, the exceptions and the notes.
pub fn network(proxy: &calconnect_core::network::ProxySummary) {
    let entry = |entry: &Option<calconnect_core::network::ProxyEntry>| match entry {
        Some(entry) => format!(
            "{} (from {}{})",
            entry.proxy,
            entry.origin,
            if entry.credentials {
                ", with a user name and password"
            } else {
                ""
            }
        ),
        None => "direct".to_owned(),
    };
    println!("https requests: {}", entry(&proxy.https));
    println!("http requests:  {}", entry(&proxy.http));
    if !proxy.bypass.is_empty() {
        println!(
            "bypass:         {}{}",
            proxy.bypass.join(", "),
            proxy
                .bypass_origin
                .as_ref()
                .map_or_else(String::new, |origin| format!(" (from {origin})"))
        );
    }
    println!("loopback:       always direct");
    for note in &proxy.notes {
        println!("note: {note}");
    }
}
