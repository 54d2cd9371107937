//! Records steps as they run: timing, the requests made meanwhile, and live reporting.

use std::time::Instant;

use super::report::{Reporter, SilentReporter, Step, StepId, StepStatus};
use crate::client::elapsed_ms;
use crate::request_log::RequestLog;

/// A step that began and has not finished.
pub(super) struct StartedStep {
    id: StepId,
    title: String,
    at: Instant,
    log_cursor: usize,
}

/// The steps of one part of a run (the shared steps, or one mailbox's probes), with the log their
/// requests go to.
pub(super) struct Steps<'a> {
    reporter: &'a dyn Reporter,
    log: RequestLog,
    pub(super) finished: Vec<Step>,
}

impl<'a> Steps<'a> {
    /// Steps reported live to `reporter`.
    pub(super) fn new(reporter: &'a dyn Reporter, log: RequestLog) -> Self {
        Self {
            reporter,
            log,
            finished: Vec::new(),
        }
    }

    /// Steps recorded without live reporting (a mailbox of a bulk run: its progress is reported per
    /// mailbox instead).
    pub(super) fn silent(log: RequestLog) -> Steps<'static> {
        Steps {
            reporter: &SilentReporter,
            log,
            finished: Vec::new(),
        }
    }

    pub(super) fn begin(&self, id: StepId) -> StartedStep {
        self.begin_titled(id, id.title().to_owned())
    }

    pub(super) fn begin_titled(&self, id: StepId, title: String) -> StartedStep {
        self.reporter.step_started(id, &title);
        StartedStep {
            id,
            title,
            at: Instant::now(),
            log_cursor: self.log.len(),
        }
    }

    pub(super) fn finish(
        &mut self,
        started: StartedStep,
        status: StepStatus,
        detail: String,
        response_code: Option<String>,
        doc_url: Option<String>,
    ) {
        let doc_url = if matches!(
            status,
            StepStatus::Failed | StepStatus::Warning | StepStatus::Unconfirmed
        ) {
            doc_url
        } else {
            None
        };
        let step = Step {
            id: started.id,
            title: started.title,
            status,
            duration_ms: elapsed_ms(started.at),
            detail,
            response_code,
            doc_url,
            requests: self.log.since(started.log_cursor),
        };
        self.reporter.step_finished(&step);
        self.finished.push(step);
    }

    pub(super) fn skip(&mut self, id: StepId, detail: &str) {
        self.skip_titled(id, id.title().to_owned(), detail);
    }

    pub(super) fn skip_titled(&mut self, id: StepId, title: String, detail: &str) {
        let started = self.begin_titled(id, title);
        self.finish(started, StepStatus::Skipped, detail.to_owned(), None, None);
    }

    pub(super) fn has(&self, id: StepId) -> bool {
        self.finished.iter().any(|step| step.id == id)
    }
}
