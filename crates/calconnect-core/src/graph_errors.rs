//! Bridges to the Graph client: its errors in core terms, and core's injected sleeper as Graph's.

use std::sync::Arc;
use std::time::Duration;

use calconnect_graph::Error as GraphError;
use futures::future::BoxFuture;

use crate::error::{Error, ErrorKind};
use crate::view::{BusyBlock, CalendarInfo};

/// A Graph error; a token failure inside it is unwrapped back to the core error that caused it.
pub(crate) fn from_graph(error: GraphError) -> Error {
    match error {
        GraphError::Token(token_error) => match token_error.0.downcast::<Error>() {
            Ok(core_error) => *core_error,
            Err(other) => Error::Graph(GraphError::Token(calconnect_graph::TokenError(other))),
        },
        other => Error::Graph(other),
    }
}

/// A Graph error of a Teams meeting call: a refusal becomes [`Error::MeetingRefused`].
pub(crate) fn from_meeting(error: GraphError) -> Error {
    match from_graph(error) {
        Error::Graph(graph @ GraphError::AccessDenied { .. }) => Error::MeetingRefused(graph),
        other => other,
    }
}

pub(crate) fn kind(error: &GraphError) -> ErrorKind {
    match error {
        GraphError::Unauthorized { .. } => ErrorKind::NeedsSignInAgain,
        GraphError::AccessDenied { .. } => ErrorKind::AccessDenied,
        GraphError::Throttled { .. } => ErrorKind::Throttled,
        GraphError::Network(_) => ErrorKind::Network,
        GraphError::Token(_) => ErrorKind::SignInFailed,
        GraphError::UnsafeUrl { .. } => ErrorKind::Configuration,
        GraphError::Api { .. }
        | GraphError::Schedule { .. }
        | GraphError::Decode { .. }
        | GraphError::ResponseTooLarge { .. }
        | GraphError::EndlessCollection { .. } => ErrorKind::ServiceError,
    }
}

pub(crate) fn user_message(error: &GraphError) -> String {
    match error {
        GraphError::Unauthorized { .. } => {
            "Microsoft Graph no longer accepts this account's sign-in.".to_owned()
        }
        GraphError::AccessDenied { code, .. } => format!("Microsoft Graph denied access ({code})."),
        GraphError::Throttled { retry_after } => match retry_after {
            Some(after) => format!(
                "Microsoft Graph is busy and asked to wait {} seconds.",
                after.as_secs()
            ),
            None => "Microsoft Graph is busy.".to_owned(),
        },
        GraphError::Network(source) => match proxy_problem(source) {
            Some(problem) => problem.message(),
            None => "Microsoft Graph could not be reached.".to_owned(),
        },
        GraphError::Schedule {
            schedule,
            response_code,
            ..
        } => format!("The schedule of {schedule} could not be read ({response_code})."),
        other => format!("Microsoft Graph request failed: {other}."),
    }
}

pub(crate) fn next_step(error: &GraphError) -> String {
    if let GraphError::Network(source) = error {
        if let Some(problem) = proxy_problem(source) {
            return problem.next_step();
        }
    }
    match error {
        GraphError::Unauthorized { .. } => "Sign in again.",
        GraphError::AccessDenied { .. } => "Sign in again and accept every permission, or ask your administrator whether a policy blocks the app.",
        GraphError::Throttled { .. } | GraphError::Network(_) => "Wait a moment and try again.",
        _ => "Try again; if it keeps failing, report it with the request ID.",
    }
    .to_owned()
}

/// The proxy that refused a Graph request, if one did.
fn proxy_problem(error: &reqwest::Error) -> Option<calconnect_identity::ProxyProblem> {
    calconnect_identity::ProxyProblem::find(error, error.url()?)
}

/// Graph's retry sleeper, backed by the core's injected one.
pub(crate) fn graph_sleeper(
    sleeper: Arc<dyn calconnect_identity::Sleeper>,
) -> Arc<dyn calconnect_graph::Sleeper> {
    Arc::new(SharedSleeper(sleeper))
}

struct SharedSleeper(Arc<dyn calconnect_identity::Sleeper>);

impl calconnect_graph::Sleeper for SharedSleeper {
    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()> {
        self.0.sleep(duration)
    }
}

impl From<calconnect_graph::Calendar> for CalendarInfo {
    fn from(calendar: calconnect_graph::Calendar) -> Self {
        let color = calendar
            .color
            .and_then(|color| serde_json::to_value(color).ok())
            .and_then(|value| value.as_str().map(str::to_owned));
        let (owner_name, owner_email) = calendar
            .owner
            .map(|owner| (owner.name, owner.address))
            .unwrap_or_default();
        Self {
            id: calendar.id,
            name: calendar.name,
            color,
            hex_color: calendar.hex_color,
            is_default: calendar.is_default,
            can_edit: calendar.can_edit,
            owner_name,
            owner_email,
            free_busy_only: false,
        }
    }
}

impl From<calconnect_graph::BusyBlock> for BusyBlock {
    fn from(block: calconnect_graph::BusyBlock) -> Self {
        let status = serde_json::to_value(block.status)
            .ok()
            .and_then(|value| value.as_str().map(str::to_owned))
            .unwrap_or_else(|| "unknown".to_owned());
        Self {
            status,
            start: block.start,
            end: block.end,
        }
    }
}
