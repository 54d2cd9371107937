//! The routes by which a service account reaches another mailbox, as data: one probe routine
//! ([`super::probe`]) serves them all.
//!
//! Exchange has exactly these (facts §0): *impersonation* (`ExchangeImpersonation` header; all or
//! nothing — the account acts as the owner), *delegate access* (no impersonation; the folder names its
//! owner in `<t:Mailbox>` and the owner's folder permissions decide), and for an app-only token in
//! Exchange Online *app-only* access, which must always impersonate the mailbox it works on
//! (`ErrorInvalidExchangeImpersonationHeaderData` otherwise).

use serde::Serialize;

use super::report::StepId;
use crate::operations::DistinguishedFolder;

/// How a request reaches the test mailbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Route {
    /// `ExchangeImpersonation` with a password account (ApplicationImpersonation on premises).
    Impersonation,
    /// `<t:Mailbox>` in the folder id, no impersonation: the owner's folder permissions decide.
    Delegate,
    /// An app-only token, impersonating the mailbox (and anchoring on it with `X-AnchorMailbox`).
    AppOnly,
}

impl Route {
    /// The mailbox to impersonate, when this route impersonates.
    pub fn impersonate(self, mailbox: &str) -> Option<&str> {
        match self {
            Self::Impersonation | Self::AppOnly => Some(mailbox),
            Self::Delegate => None,
        }
    }

    /// The owner to name in `<t:Mailbox>`, when this route is delegate access.
    pub fn folder_owner(self, mailbox: &str) -> Option<String> {
        match self {
            Self::Delegate => Some(mailbox.to_owned()),
            Self::Impersonation | Self::AppOnly => None,
        }
    }

    /// The step that opens `folder` on this route.
    pub fn folder_step(self, folder: DistinguishedFolder) -> StepId {
        match (self, folder) {
            (Self::Delegate, DistinguishedFolder::Calendar) => StepId::DelegateCalendarFolder,
            (Self::Delegate, DistinguishedFolder::Inbox) => StepId::DelegateOtherFolder,
            (_, DistinguishedFolder::Calendar) => StepId::CalendarFolder,
            (_, DistinguishedFolder::Inbox) => StepId::OtherFolder,
        }
    }

    /// The title of `step` on this route: the step list says which route each probe took.
    pub fn step_title(self, step: StepId) -> String {
        let prefix = match self {
            Self::Impersonation => "Impersonate the mailbox",
            Self::Delegate => "Delegate access (no impersonation)",
            Self::AppOnly => "App-only, impersonating the mailbox",
        };
        match step {
            StepId::CalendarFolder | StepId::DelegateCalendarFolder => {
                format!("{prefix}: GetFolder calendar")
            }
            StepId::OtherFolder | StepId::DelegateOtherFolder => {
                format!("{prefix}: GetFolder inbox (beyond the calendar)")
            }
            StepId::CalendarView => format!("{prefix}: FindItem calendar view (next 7 days)"),
            other => other.title().to_owned(),
        }
    }

    /// Words for reports.
    pub fn label(self) -> &'static str {
        match self {
            Self::Impersonation => "impersonation",
            Self::Delegate => "delegate access",
            Self::AppOnly => "app-only",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_delegate_access_names_the_owner_and_only_it_skips_impersonation() {
        for route in [Route::Impersonation, Route::AppOnly] {
            assert_eq!(
                route.impersonate("megan@contoso.com"),
                Some("megan@contoso.com")
            );
            assert_eq!(route.folder_owner("megan@contoso.com"), None);
        }
        assert_eq!(Route::Delegate.impersonate("megan@contoso.com"), None);
        assert_eq!(
            Route::Delegate.folder_owner("megan@contoso.com").as_deref(),
            Some("megan@contoso.com")
        );
        assert!(Route::Delegate
            .step_title(StepId::DelegateCalendarFolder)
            .contains("Delegate access"));
    }
}
