//! The probes of one mailbox. One routine opens the calendar and the inbox on any [`Route`]; the
//! mailbox's run is: the impersonation (or app-only) route, delegate access when impersonation did not
//! reach the whole mailbox, a calendar view through whichever route opened the calendar, and
//! `GetUserAvailability`.

use chrono::{DateTime, Utc};

use super::observations::{Access, MailboxObservations, RouteAccess};
use super::report::{StepId, StepStatus};
use super::route::Route;
use super::steps::{StartedStep, Steps};
use crate::client::{EwsClient, OperationResult};
use crate::error::Error;
use crate::operations::{
    DistinguishedFolder, FindCalendarView, GetFolder, GetUserAvailability, RequestedView,
};
use crate::response_code::ResponseCode;

const AUTHENTICATION_DOC: &str =
    "https://learn.microsoft.com/en-us/exchange/client-developer/exchange-web-services/authentication-and-ews-in-exchange";

/// One mailbox to probe, with the client and the calendar window.
pub(super) struct MailboxProbe<'c> {
    pub client: &'c EwsClient,
    pub mailbox: &'c str,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// App-only tokens always impersonate; password accounts also try delegate access.
    pub app_only: bool,
}

/// Runs every probe of the mailbox into `steps`.
pub(super) async fn probe_mailbox(
    probe: &MailboxProbe<'_>,
    steps: &mut Steps<'_>,
) -> MailboxObservations {
    let mailbox = probe.mailbox;
    let first_route = if probe.app_only {
        Route::AppOnly
    } else {
        Route::Impersonation
    };
    let mut observed = MailboxObservations::new(mailbox, first_route);
    observed.impersonation = probe_route(probe, first_route, steps).await;

    let reaches_everything =
        observed.impersonation.calendar_granted() && observed.impersonation.inbox_granted();
    if probe.app_only {
        // App-only tokens have no delegate route: Exchange refuses them without impersonation.
    } else if reaches_everything {
        for folder in [DistinguishedFolder::Calendar, DistinguishedFolder::Inbox] {
            let id = Route::Delegate.folder_step(folder);
            steps.skip_titled(
                id,
                Route::Delegate.step_title(id),
                "not needed: impersonation reaches the whole mailbox",
            );
        }
    } else {
        observed.delegate = Some(probe_route(probe, Route::Delegate, steps).await);
    }

    let forbidden = matches!(observed.impersonation.calendar, Some(Access::Forbidden(_)));
    let view_route = std::iter::once(&observed.impersonation)
        .chain(observed.delegate.as_ref())
        .find(|route| route.calendar_granted())
        .map(|route| route.route);
    match view_route {
        Some(route) => {
            let started =
                steps.begin_titled(StepId::CalendarView, route.step_title(StepId::CalendarView));
            let view = FindCalendarView {
                mailbox: route.folder_owner(mailbox),
                start: probe.start,
                end: probe.end,
                max_entries: 100,
            };
            let result = probe.client.call(&view, route.impersonate(mailbox)).await;
            let (access, _) = finish_probe(
                steps,
                started,
                result,
                |slots: &Vec<_>| {
                    format!(
                        "read {} occurrence(s) in the next 7 days by {} (times and free/busy status only)",
                        slots.len(),
                        route.label()
                    )
                },
                StepStatus::Failed,
            );
            observed.calendar_view = Some((route, access));
        }
        None => steps.skip(
            StepId::CalendarView,
            "not run: no route opened the calendar",
        ),
    }

    if forbidden {
        steps.skip(
            StepId::Availability,
            "not run: Exchange refused this mailbox to the app (HTTP 403)",
        );
        return observed;
    }
    let started = steps.begin(StepId::Availability);
    let availability = GetUserAvailability {
        mailbox: mailbox.to_owned(),
        start: probe.start,
        end: probe.end,
        requested_view: RequestedView::DetailedMerged,
    };
    // App-only tokens must impersonate in Exchange Online; a password account asks as itself, which is
    // what the calendar's Default and explicit folder permissions decide.
    let impersonate = probe.app_only.then_some(mailbox);
    let result = probe.client.call(&availability, impersonate).await;
    let (access, output) = finish_probe(
        steps,
        started,
        result,
        |availability| {
            let detail_text = if availability.has_details {
                "with subjects and locations"
            } else {
                "times only"
            };
            format!(
                "free/busy of {mailbox}: asked for DetailedMerged, Exchange returned {} ({detail_text}), {} busy period(s) in the next 7 days",
                availability.view_type, availability.event_count
            )
        },
        StepStatus::Failed,
    );
    observed.availability = Some(access);
    observed.availability_view = output.map(|availability| availability.view_type);
    observed
}

/// Opens the calendar, then (when it opened) the inbox, on `route`.
async fn probe_route(probe: &MailboxProbe<'_>, route: Route, steps: &mut Steps<'_>) -> RouteAccess {
    let mailbox = probe.mailbox;
    let mut reached = RouteAccess::new(route);
    let calendar_step = route.folder_step(DistinguishedFolder::Calendar);
    let started = steps.begin_titled(calendar_step, route.step_title(calendar_step));
    let calendar = GetFolder {
        folder: DistinguishedFolder::Calendar,
        mailbox: route.folder_owner(mailbox),
    };
    let result = probe
        .client
        .call(&calendar, route.impersonate(mailbox))
        .await;
    let (access, folder) = finish_probe(
        steps,
        started,
        result,
        |folder| {
            let rights = match folder.rights {
                Some(rights) if rights.read_write() => "; it may read and create items",
                Some(_) => "; it may not create items (read-only)",
                None => "",
            };
            format!(
                "opened the calendar of {mailbox} by {}{rights}",
                route.label()
            )
        },
        StepStatus::Failed,
    );
    reached.calendar = Some(access);
    reached.calendar_writable =
        folder.and_then(|folder| folder.rights.map(|rights| rights.read_write()));

    let inbox_step = route.folder_step(DistinguishedFolder::Inbox);
    if !reached.calendar_granted() {
        steps.skip_titled(
            inbox_step,
            route.step_title(inbox_step),
            &format!("not run: the calendar did not open by {}", route.label()),
        );
        return reached;
    }
    let started = steps.begin_titled(inbox_step, route.step_title(inbox_step));
    let inbox = GetFolder {
        folder: DistinguishedFolder::Inbox,
        mailbox: route.folder_owner(mailbox),
    };
    let result = probe.client.call(&inbox, route.impersonate(mailbox)).await;
    // A denial here is what a calendar-only grant should produce, so it is a warning, not a failure.
    let (access, _) = finish_probe(
        steps,
        started,
        result,
        |_| {
            format!(
                "{} reaches beyond the calendar: the inbox of {mailbox} opened",
                route.label()
            )
        },
        StepStatus::Warning,
    );
    reached.inbox = Some(access);
    reached
}

/// Finishes a mailbox probe and turns its result into an [`Access`] and, on success, the output.
pub(super) fn finish_probe<T>(
    steps: &mut Steps<'_>,
    started: StartedStep,
    result: crate::Result<OperationResult<T>>,
    describe: impl FnOnce(&T) -> String,
    denial_status: StepStatus,
) -> (Access, Option<T>) {
    match result {
        Ok(OperationResult {
            response_code,
            output: Some(output),
            ..
        }) => {
            steps.finish(
                started,
                StepStatus::Passed,
                describe(&output),
                Some(response_code.to_string()),
                None,
            );
            (Access::Granted, Some(output))
        }
        Ok(OperationResult {
            response_code,
            message_text,
            ..
        }) => {
            let mut detail = response_code.plain_message().to_owned();
            if let Some(text) = message_text {
                detail.push_str(&format!(" (Exchange: {text})"));
            }
            let doc = response_code.doc_url().to_owned();
            steps.finish(
                started,
                denial_status,
                detail,
                Some(response_code.to_string()),
                Some(doc),
            );
            (Access::Denied(response_code), None)
        }
        Err(Error::SoapFault { code, message, .. }) => {
            let doc = code.doc_url().to_owned();
            steps.finish(
                started,
                denial_status,
                format!("{}: {message}", code.plain_message()),
                Some(code.to_string()),
                Some(doc),
            );
            (Access::Denied(code), None)
        }
        Err(Error::Forbidden { detail, .. }) => {
            steps.finish(
                started,
                StepStatus::Failed,
                format!("http 403: Exchange refused the request: {detail}"),
                None,
                Some(AUTHENTICATION_DOC.into()),
            );
            (Access::Forbidden(detail), None)
        }
        Err(error) => {
            let code =
                matches!(error, Error::Throttled { .. }).then_some(ResponseCode::ErrorServerBusy);
            let doc = code
                .as_ref()
                .map_or(AUTHENTICATION_DOC, ResponseCode::doc_url)
                .to_owned();
            steps.finish(
                started,
                StepStatus::Failed,
                error.to_string(),
                code.map(|code| code.to_string()),
                Some(doc),
            );
            (Access::Failed(error.to_string()), None)
        }
    }
}
