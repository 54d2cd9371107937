//! What each kind of access asks for and lets calconnect see, for the "Choose access" step.
//!
//! The reasons per scope come from the identity crate (after Cronofy's "Which Graph scopes does Cronofy
//! utilize?"), so the consent page, the admin-consent request and this step say the same thing.

use calconnect_identity::admin_consent::why_needed;
use calconnect_identity::AppKind;
use serde::Serialize;

use crate::ipc::dto::Access;

/// One delegated scope and why it is needed.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScopeReason {
    pub scope: String,
    pub why: String,
}

/// One choice of the "Choose access" step.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessOption {
    pub access: Access,
    pub title: &'static str,
    pub summary: &'static str,
    pub scopes: Vec<ScopeReason>,
    pub can_see: &'static [&'static str],
    pub cannot_see: &'static [&'static str],
}

/// Every option: the two calendar apps, Full first, then Teams conferencing.
pub fn options() -> Vec<AccessOption> {
    vec![
        AccessOption {
            access: Access::Full,
            title: "Full access",
            summary: "Your calendars and their events, which calconnect may also change.",
            scopes: reasons(AppKind::Full),
            can_see: &[
                "Your name and email address",
                "The list of your calendars, including ones shared with you",
                "Every event in them: subject, time, place, attendees and notes",
            ],
            cannot_see: &[
                "Your mail, files or contacts",
                "Other people's calendars they have not shared with you",
            ],
        },
        AccessOption {
            access: Access::FreeBusy,
            title: "Free/Busy only",
            summary: "Only when you are busy: no subjects, places, attendees or notes.",
            scopes: reasons(AppKind::FreeBusy),
            can_see: &[
                "Your name and email address",
                "When you are free, busy, tentative or away (start and end times only)",
            ],
            cannot_see: &[
                "What your events are about: subject, place, attendees, notes",
                "Your calendars' names, and any way to change them",
                "Your mail, files or contacts",
            ],
        },
        AccessOption {
            access: Access::Teams,
            title: "Teams conferencing",
            summary: "Teams meeting links for your events: a connection of its own, with no access to your calendar.",
            scopes: reasons(AppKind::Teams),
            can_see: &[
                "Your name and email address",
                "Teams meetings it creates for you (and can delete again)",
            ],
            cannot_see: &[
                "Your calendars or events: Teams conferencing gives no calendar access",
                "Your mail, files, chats or contacts",
            ],
        },
    ]
}

fn reasons(app: AppKind) -> Vec<ScopeReason> {
    app.scopes()
        .iter()
        .map(|scope| ScopeReason {
            scope: (*scope).to_owned(),
            why: sentence(why_needed(scope)),
        })
        .collect()
}

/// "to read your profile…" → "To read your profile…."
fn sentence(phrase: &str) -> String {
    let mut characters = phrase.chars();
    let mut text: String = characters
        .next()
        .map(|first| first.to_uppercase().chain(characters).collect())
        .unwrap_or_default();
    if !text.ends_with('.') {
        text.push('.');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_option_explains_every_scope_its_app_requests_in_a_sentence() {
        for option in options() {
            let requested = AppKind::from(option.access).scopes();
            let explained: Vec<&str> = option
                .scopes
                .iter()
                .map(|reason| reason.scope.as_str())
                .collect();
            assert_eq!(explained, requested);
            for reason in &option.scopes {
                assert!(reason.why.starts_with("To "), "{}", reason.why);
                assert!(reason.why.ends_with('.'), "{}", reason.why);
            }
            assert!(!option.can_see.is_empty() && !option.cannot_see.is_empty());
        }
    }
}
