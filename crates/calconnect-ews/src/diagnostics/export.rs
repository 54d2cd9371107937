//! Exports of a [`Report`]: JSON (the structured validation log) and a readable text report.

use std::fmt::Write;

use super::report::{Deployment, Report, Step, StepStatus};

impl Report {
    /// Pretty JSON of the whole report, request log included.
    pub fn to_json(&self) -> String {
        // Serialising plain strings, numbers and enums cannot fail.
        serde_json::to_string_pretty(self)
            .unwrap_or_else(|error| format!("{{\"error\":\"{error}\"}}"))
    }

    /// One line per mailbox: address, level, route and what failed, in aligned columns.
    pub fn mailbox_table(&self) -> String {
        let width = self
            .mailboxes
            .iter()
            .map(|entry| entry.mailbox.len())
            .max()
            .unwrap_or(7)
            .max(7);
        let mut table = format!(
            "{:<width$}  {:<14}  {:<16}  What failed\n",
            "Mailbox", "Level", "Route"
        );
        for entry in &self.mailboxes {
            let _ = writeln!(
                table,
                "{:<width$}  {:<14}  {:<16}  {}",
                entry.mailbox,
                entry.level.label(),
                entry.route.map_or("-", |route| route.label()),
                entry.failed.as_deref().unwrap_or("-")
            );
        }
        table
    }

    /// A plain-text report for e-mail or a ticket.
    pub fn to_text(&self) -> String {
        let mut text = String::new();
        let _ = writeln!(text, "EWS service account test");
        let _ = writeln!(text, "Service account: {}", self.service_account);
        if self.mailboxes.len() > 1 {
            let _ = writeln!(text, "Mailboxes:       {}", self.mailboxes.len());
        } else {
            let _ = writeln!(text, "Mailbox:         {}", self.mailbox);
        }
        let _ = writeln!(
            text,
            "EWS URL:         {}",
            self.ews_url.as_deref().unwrap_or("(not found)")
        );
        if let Some(url) = &self.unconfirmed_ews_url {
            let _ = writeln!(text, "Unconfirmed:     {url} (found by Autodiscover through a detour; confirm it and run again with it as the EWS URL)");
        }
        let sent_to = if self.credentials_sent_to.is_empty() {
            "(none)".to_owned()
        } else {
            self.credentials_sent_to.join(", ")
        };
        let _ = writeln!(text, "Credentials to:  {sent_to}");
        if let Some(version) = &self.server_version {
            let _ = writeln!(text, "Server version:  {version}");
        }
        if let Some(deployment) = self.deployment {
            let name = match deployment {
                Deployment::ExchangeOnline => "Exchange Online",
                Deployment::OnPremises => "Exchange Server (on premises)",
            };
            let _ = writeln!(text, "Deployment:      {name}");
        }
        let _ = writeln!(text, "Started:         {}", self.started_at);
        let _ = writeln!(text);
        for step in &self.steps {
            write_step(&mut text, step);
        }
        if self.mailboxes.len() > 1 {
            let _ = writeln!(text);
            text.push_str(&self.mailbox_table());
            for entry in self
                .mailboxes
                .iter()
                .filter(|entry| !entry.steps.is_empty())
            {
                let _ = writeln!(text);
                let _ = writeln!(text, "Mailbox {}: {}", entry.mailbox, entry.verdict.summary);
                for step in &entry.steps {
                    write_step(&mut text, step);
                }
            }
        }
        let verdict = &self.verdict;
        let _ = writeln!(text);
        let _ = writeln!(
            text,
            "Verdict: {} - {}",
            verdict.level.label(),
            verdict.summary
        );
        for can in &verdict.vendor_can {
            let _ = writeln!(text, "  A vendor can: {can}");
        }
        for cannot in &verdict.vendor_cannot {
            let _ = writeln!(text, "  A vendor cannot: {cannot}");
        }
        if !verdict.fixes.is_empty() {
            let _ = writeln!(text, "  {}:", verdict.fixes_heading());
        }
        for (index, fix) in verdict.fixes.iter().enumerate() {
            match verdict.fix_label(index) {
                Some(label) => {
                    let _ = writeln!(text, "  Fix ({label}): {}", fix.problem);
                }
                None => {
                    let _ = writeln!(text, "  Fix: {}", fix.problem);
                }
            }
            if !fix.changes.is_empty() {
                let _ = writeln!(text, "       It {}", fix.changes);
            }
            if let Some(command) = &fix.command {
                let _ = writeln!(text, "       {command}");
            }
            let _ = writeln!(text, "       See: {}", fix.doc_url);
        }
        for note in &verdict.notes {
            let _ = writeln!(text, "  Note: {note}");
        }
        text
    }
}

fn write_step(text: &mut String, step: &Step) {
    let mark = match step.status {
        StepStatus::Passed => "PASS",
        StepStatus::Failed => "FAIL",
        StepStatus::Warning => "WARN",
        StepStatus::Skipped => "SKIP",
        StepStatus::Unconfirmed => "CONFIRM",
    };
    let _ = writeln!(text, "[{mark}] {} ({} ms)", step.title, step.duration_ms);
    let _ = writeln!(text, "       {}", step.detail);
    if let Some(code) = &step.response_code {
        let _ = writeln!(text, "       Response code: {code}");
    }
    if let Some(doc) = &step.doc_url {
        let _ = writeln!(text, "       See: {doc}");
    }
    for request in &step.requests {
        let status = request
            .status
            .map_or_else(|| "-".to_owned(), |status| status.to_string());
        let code = request.response_code.as_deref().unwrap_or("");
        let _ = writeln!(
            text,
            "       {} {} {} -> {status} {code} ({} ms)",
            request.operation, request.method, request.url, request.duration_ms
        );
    }
}
