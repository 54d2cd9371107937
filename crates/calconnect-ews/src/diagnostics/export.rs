//! Exports of a [`Report`]: JSON (the structured validation log) and a readable text report.

use std::fmt::Write;

use super::report::{Report, StepStatus};

impl Report {
    /// Pretty JSON of the whole report, request log included.
    pub fn to_json(&self) -> String {
        // Serialising plain strings, numbers and enums cannot fail.
        serde_json::to_string_pretty(self)
            .unwrap_or_else(|error| format!("{{\"error\":\"{error}\"}}"))
    }

    /// A plain-text report for e-mail or a ticket.
    pub fn to_text(&self) -> String {
        let mut text = String::new();
        let _ = writeln!(text, "EWS service account test");
        let _ = writeln!(text, "Service account: {}", self.service_account);
        let _ = writeln!(text, "Mailbox:         {}", self.mailbox);
        let _ = writeln!(
            text,
            "EWS URL:         {}",
            self.ews_url.as_deref().unwrap_or("(not found)")
        );
        if let Some(version) = &self.server_version {
            let _ = writeln!(text, "Server version:  {version}");
        }
        let _ = writeln!(text, "Started:         {}", self.started_at);
        let _ = writeln!(text);
        for step in &self.steps {
            let mark = match step.status {
                StepStatus::Passed => "PASS",
                StepStatus::Failed => "FAIL",
                StepStatus::Warning => "WARN",
                StepStatus::Skipped => "SKIP",
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
        for fix in &verdict.fixes {
            let _ = writeln!(text, "  Fix: {}", fix.problem);
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
