//! Who may do what in a mailbox, derived from Exchange's primitives the way Exchange derives it:
//!
//! - **Impersonation** (`ExchangeImpersonation` header) makes the caller act as the mailbox's owner, with
//!   every right, whatever folder permissions say ("An impersonating account performs actions as if it
//!   were the primary account", facts §0). It needs an `ApplicationImpersonation` role assignment whose
//!   scope holds the mailbox (on premises), or for an app-only token the tenant-wide `full_access_as_app`
//!   grant or an `Application EWS.AccessAsApp` assignment whose resource scope holds it (RBAC for
//!   Applications; "These permission grants are independent of the unscoped grants in Microsoft Entra
//!   ID", learn.microsoft.com/graph/auth-limit-mailbox-access).
//! - **Delegate access** (a `<t:Mailbox>` in a folder id, no impersonation) follows that folder's
//!   permissions: the caller's own entry, else `Default`'s ("explicit entry replaces Default",
//!   learn.microsoft.com/archive/blogs/ivfranji/client-experience-free-busy-not-working); a calendar
//!   without a `Default` entry gives `AvailabilityOnly`, any other folder nothing (facts §0).
//! - An app-only token must always impersonate (`ErrorInvalidExchangeImpersonationHeaderData`, facts §0).

use crate::tenant::exchange::{
    FolderRights, SharingPermissionFlag, APPLICATION_EWS_ACCESS_AS_APP, APPLICATION_IMPERSONATION,
    DEFAULT_USER,
};
use crate::tenant::{AccessRights, Deployment, RecipientFilter, Tenant};

/// Who is calling, after authentication.
#[derive(Debug, Clone)]
pub(crate) enum Caller {
    /// An account that signed in with a password (NTLM, Negotiate or Basic).
    ServiceAccount { upn: String },
    /// An app-only token; `roles` are its application permissions (`full_access_as_app`).
    App { app_id: String, roles: Vec<String> },
    /// A delegated token (`EWS.AccessAsUser.All`) of a user.
    User { app_id: String, upn: String },
}

impl Caller {
    /// Client id of the app calling, for token callers.
    pub(crate) fn app_id(&self) -> Option<&str> {
        match self {
            Self::ServiceAccount { .. } => None,
            Self::App { app_id, .. } | Self::User { app_id, .. } => Some(app_id),
        }
    }

    /// Whether the caller presented an Entra token.
    pub(crate) fn is_token(&self) -> bool {
        !matches!(self, Self::ServiceAccount { .. })
    }

    /// The user the caller is, when it is one.
    fn upn(&self) -> Option<&str> {
        match self {
            Self::ServiceAccount { upn } | Self::User { upn, .. } => Some(upn),
            Self::App { .. } => None,
        }
    }
}

/// Whom a request acts as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Acting {
    /// Impersonating the owner of this mailbox (SMTP): every right in it.
    Owner { mailbox: String },
    /// The calling user itself (who may or may not have a mailbox).
    Principal { upn: String },
}

/// Why an impersonation header was refused: each is an HTTP 500 SOAP fault in Exchange
/// (OfficeDev/ews-managed-api#212, #223), or HTTP 403 for an app outside its RBAC scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ImpersonationRefusal {
    /// The impersonated address has no mailbox (`ErrorNonExistentMailbox`).
    NoMailbox(String),
    /// No ApplicationImpersonation right covers the mailbox (`ErrorImpersonateUserDenied`).
    Denied,
    /// An app-only token whose grants do not cover the mailbox: Exchange Online answers 403, not a SOAP
    /// error ("403 is policy block, likely an app policy is applied preventing access",
    /// David-Barrett-MS/PowerShell-EWS-Scripts#62).
    AppOutOfScope,
}

/// Resolves the `ExchangeImpersonation` header naming `target` (an SMTP address).
pub(crate) fn impersonate(
    tenant: &Tenant,
    caller: &Caller,
    target: &str,
) -> Result<Acting, ImpersonationRefusal> {
    let Some(mailbox) = tenant.mailbox(target) else {
        return Err(ImpersonationRefusal::NoMailbox(target.to_owned()));
    };
    let in_scope = |scope: Option<&String>| {
        let Some(name) = scope else {
            return true;
        };
        tenant
            .exchange
            .management_scope(name)
            .and_then(|scope| RecipientFilter::parse(&scope.recipient_restriction_filter).ok())
            .is_some_and(|filter| filter.matches(&tenant.recipient(mailbox)))
    };
    let allowed = match caller {
        Caller::App { app_id, roles } => {
            roles
                .iter()
                .any(|role| role.eq_ignore_ascii_case("full_access_as_app"))
                || tenant.exchange.role_assignments.iter().any(|assignment| {
                    assignment
                        .role
                        .eq_ignore_ascii_case(APPLICATION_EWS_ACCESS_AS_APP)
                        && assignment
                            .app
                            .as_deref()
                            .is_some_and(|app| app.eq_ignore_ascii_case(app_id))
                        && in_scope(assignment.custom_resource_scope.as_ref())
                })
        }
        Caller::ServiceAccount { upn } | Caller::User { upn, .. } => {
            // The role does not exist in Exchange Online any more (facts §0).
            tenant.exchange.deployment == Deployment::OnPremises
                && tenant.exchange.role_assignments.iter().any(|assignment| {
                    assignment
                        .role
                        .eq_ignore_ascii_case(APPLICATION_IMPERSONATION)
                        && assignment
                            .user
                            .as_deref()
                            .is_some_and(|user| user.eq_ignore_ascii_case(upn))
                        && in_scope(assignment.custom_recipient_write_scope.as_ref())
                })
        }
    };
    match (allowed, caller) {
        (true, _) => Ok(Acting::Owner {
            mailbox: mailbox.smtp.clone(),
        }),
        (false, Caller::App { .. }) => Err(ImpersonationRefusal::AppOutOfScope),
        (false, _) => Err(ImpersonationRefusal::Denied),
    }
}

/// Whom a request without an impersonation header acts as; `None` for app-only tokens, which Exchange
/// refuses with `ErrorInvalidExchangeImpersonationHeaderData`.
pub(crate) fn without_impersonation(caller: &Caller) -> Option<Acting> {
    caller.upn().map(|upn| Acting::Principal {
        upn: upn.to_owned(),
    })
}

impl Acting {
    /// The mailbox a request acts in when a folder id names none: the impersonated one, or the
    /// caller's own (`None`: the caller has no mailbox).
    pub(crate) fn home_mailbox(&self, tenant: &Tenant) -> Option<String> {
        match self {
            Self::Owner { mailbox } => Some(mailbox.clone()),
            Self::Principal { upn } => tenant
                .mailbox(upn)
                .map(|mailbox| mailbox.smtp.clone())
                .or_else(|| {
                    tenant
                        .user_by_email(upn)
                        .and_then(|user| tenant.mailbox(user.email()))
                        .map(|mailbox| mailbox.smtp.clone())
                }),
        }
    }

    /// The rights this identity has on `folder` (a distinguished name) of `mailbox` (SMTP).
    pub(crate) fn folder_rights(
        &self,
        tenant: &Tenant,
        mailbox: &str,
        folder: &str,
    ) -> FolderRights {
        if self
            .home_mailbox(tenant)
            .is_some_and(|home| home.eq_ignore_ascii_case(mailbox))
        {
            return FolderRights::owner();
        }
        let upn = match self {
            Self::Principal { upn } => upn,
            // Impersonating someone else's mailbox: what that owner holds on this one.
            Self::Owner { mailbox: owner } => {
                let owner_upn = tenant
                    .mailbox_owner(owner)
                    .map_or(owner.clone(), |user| user.user_principal_name.clone());
                return Self::Principal { upn: owner_upn }.folder_rights(tenant, mailbox, folder);
            }
        };
        let entries = || {
            tenant
                .exchange
                .folder_permissions
                .iter()
                .filter(move |entry| {
                    entry.mailbox.eq_ignore_ascii_case(mailbox)
                        && entry.folder.eq_ignore_ascii_case(folder)
                })
        };
        let is_user = |name: &str| {
            name.eq_ignore_ascii_case(upn)
                || tenant
                    .user_by_email(upn)
                    .is_some_and(|user| user.email().eq_ignore_ascii_case(name))
        };
        if let Some(entry) = entries().find(|entry| is_user(&entry.user)) {
            let mut rights = entry.access_rights.rights();
            rights.view_private_items = entry
                .sharing_permission_flags
                .contains(&SharingPermissionFlag::CanViewPrivateItems);
            return rights;
        }
        if let Some(entry) = entries().find(|entry| entry.user.eq_ignore_ascii_case(DEFAULT_USER)) {
            return entry.access_rights.rights();
        }
        if folder.eq_ignore_ascii_case("calendar") {
            AccessRights::AvailabilityOnly.rights()
        } else {
            AccessRights::None.rights()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo;

    fn service() -> Caller {
        Caller::ServiceAccount {
            upn: demo::SERVICE_ACCOUNT_UPN.to_owned(),
        }
    }

    #[test]
    fn on_premises_impersonation_follows_the_scoped_role_assignment() {
        let tenant = Tenant::demo();
        assert_eq!(
            impersonate(&tenant, &service(), demo::ADELE),
            Ok(Acting::Owner {
                mailbox: demo::ADELE.to_owned()
            })
        );
        for outside in [demo::MEGAN, demo::LEE, demo::ALEX] {
            assert_eq!(
                impersonate(&tenant, &service(), outside),
                Err(ImpersonationRefusal::Denied),
                "{outside} is outside the Retail scope"
            );
        }
        assert!(matches!(
            impersonate(&tenant, &service(), "nobody@contoso.com"),
            Err(ImpersonationRefusal::NoMailbox(_))
        ));
    }

    #[test]
    fn delegate_rights_come_from_the_entry_else_default_else_the_calendar_default() {
        let tenant = Tenant::demo();
        let acting = without_impersonation(&service()).unwrap();
        let megan_calendar = acting.folder_rights(&tenant, demo::MEGAN, "calendar");
        assert!(megan_calendar.read_items && megan_calendar.create_items);
        assert!(
            !acting
                .folder_rights(&tenant, demo::MEGAN, "inbox")
                .folder_visible
        );
        let lee = acting.folder_rights(&tenant, demo::LEE, "calendar");
        assert!(lee.free_busy_simple && !lee.free_busy_detailed && !lee.read_items);
        assert_eq!(
            acting.folder_rights(&tenant, demo::ALEX, "calendar"),
            FolderRights::default()
        );
    }

    #[test]
    fn impersonation_is_full_access_whatever_the_folder_permissions() {
        let tenant = Tenant::demo();
        let acting = impersonate(&tenant, &service(), demo::ADELE).unwrap();
        assert_eq!(
            acting.folder_rights(&tenant, demo::ADELE, "inbox"),
            FolderRights::owner()
        );
    }

    #[test]
    fn app_only_access_is_the_union_of_full_access_as_app_and_rbac_for_applications() {
        let tenant = Tenant::demo_exchange_online();
        let scoped = Caller::App {
            app_id: demo::EWS_APP_CLIENT_ID.to_owned(),
            roles: Vec::new(),
        };
        assert!(impersonate(&tenant, &scoped, demo::ADELE).is_ok());
        assert_eq!(
            impersonate(&tenant, &scoped, demo::MEGAN),
            Err(ImpersonationRefusal::AppOutOfScope)
        );
        let tenant_wide = Caller::App {
            app_id: demo::EWS_UNLISTED_APP_CLIENT_ID.to_owned(),
            roles: vec!["full_access_as_app".to_owned()],
        };
        assert!(impersonate(&tenant, &tenant_wide, demo::MEGAN).is_ok());
        assert!(without_impersonation(&scoped).is_none());
    }
}
