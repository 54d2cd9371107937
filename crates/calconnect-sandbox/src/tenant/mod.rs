//! The emulated directory: users, their calendars, app registrations and the Exchange organisation.
//!
//! A [`Tenant`] is plain data, loadable from TOML or JSON ([`Tenant::from_file`]) or built in
//! ([`Tenant::demo`], [`Tenant::demo_exchange_online`]). Every protocol surface (identity, Graph, EWS) reads
//! the same tenant, so a user's events look the same whichever way a client asks for them.
//!
//! - [`directory`]: users, calendars, events;
//! - [`apps`]: app registrations and their credentials (secrets, [`certificate`]s);
//! - [`teams`]: Teams' own primitives (application access policies and their grants);
//! - [`exchange`]: Exchange's own primitives (deployment, RBAC, folder permissions, organisation config);
//! - [`recipient_filter`]: the OPATH filters of management scopes;
//! - [`demo_data`]: the Contoso demo tenant in its on-premises and Exchange Online flavours.

pub mod apps;
pub mod certificate;
pub mod demo_data;
pub mod directory;
pub mod exchange;
/// The `sandbox_tenant` fuzz target's property (`fuzz/`), replayed over the committed corpus by a test.
#[doc(hidden)]
pub mod fuzzing;
pub mod recipient_filter;
pub mod teams;

use std::path::Path;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{Error, Result};

pub use apps::{AppRegistration, KeyCredential, TenantSecret};
pub use certificate::X509Certificate;
pub use directory::{
    week_start, Calendar, Event, Frequency, Occurrence, Recurrence, Sensitivity, ShowAs, User,
};
pub use exchange::{
    AccessRights, AuthMethod, Deployment, Exchange, ExtendedProtection, FolderPermission,
    FolderRights, Mailbox, ManagementScope, OrganizationConfig, RoleAssignment, RoomList,
    RoomMailbox, ServiceAccount,
};
pub use recipient_filter::{Recipient, RecipientFilter};
pub use teams::{ApplicationAccessPolicy, ApplicationAccessPolicyGrant, Teams};

/// A directory tenant with its users, app registrations and Exchange organisation.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Tenant {
    /// Directory (tenant) id, the `tid` claim.
    pub id: Uuid,
    /// Organisation name shown on sign-in pages.
    pub display_name: String,
    /// Verified domains; each one is also a valid `{tenant}` segment of the authority. The first is the
    /// default domain; the `*.onmicrosoft.com` one is the initial domain Entra gives every tenant (Graph
    /// `verifiedDomain.isDefault` / `isInitial`).
    pub domains: Vec<String>,
    /// Graph behaviours that differ between tenants or documentation pages.
    #[serde(default)]
    pub graph: GraphSettings,
    #[serde(default)]
    pub users: Vec<User>,
    #[serde(default)]
    pub apps: Vec<AppRegistration>,
    #[serde(default)]
    pub exchange: Exchange,
    /// Microsoft Teams: application access policies for app-only online meetings.
    #[serde(default)]
    pub teams: Teams,
}

/// Serde default for the flags that are on unless a tenant file says otherwise.
fn default_true() -> bool {
    true
}

/// `[graph]` settings.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct GraphSettings {
    /// The least delegated permission `getSchedule` accepts. Microsoft's permission table lists
    /// `Calendars.ReadBasic`, its free/busy concept page says `Calendars.Read` (facts §0): set
    /// `"Calendars.Read"` to answer a Calendars.ReadBasic token with 403 ErrorAccessDenied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub get_schedule_requires: Option<String>,
    /// The page size of `GET /users` without `$top`: Graph's is 100; a smaller one (the demo's 2) makes
    /// clients follow `@odata.nextLink`, which Graph's paging page requires of them anyway.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub users_page_size: Option<usize>,
}

impl Tenant {
    /// Loads a tenant from a `.toml` or `.json` file (by extension; anything else is tried as TOML).
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| Error::TenantFile {
            path: path.to_path_buf(),
            source,
        })?;
        let is_json = path
            .extension()
            .is_some_and(|extension| extension.eq_ignore_ascii_case("json"));
        if is_json {
            Self::from_json(&text)
        } else {
            Self::from_toml(&text)
        }
    }

    /// Parses a tenant from TOML.
    pub fn from_toml(text: &str) -> Result<Self> {
        let tenant: Self =
            toml::from_str(text).map_err(|error| Error::TenantParse(error.to_string()))?;
        tenant.validated()
    }

    /// Parses a tenant from JSON.
    pub fn from_json(text: &str) -> Result<Self> {
        let tenant: Self =
            serde_json::from_str(text).map_err(|error| Error::TenantParse(error.to_string()))?;
        tenant.validated()
    }

    /// The tenant, if Exchange and Teams would accept what it describes ([`Exchange::validate`],
    /// [`Teams::validate`]) and every registered certificate parses as an RSA X.509 certificate.
    pub fn validated(self) -> Result<Self> {
        self.exchange.validate().map_err(Error::TenantParse)?;
        self.teams
            .validate(&self.users)
            .map_err(Error::TenantParse)?;
        for app in &self.apps {
            for credential in &app.key_credentials {
                credential.parse().map_err(|error| {
                    Error::TenantParse(format!(
                        "app {}: key credential {}: {error}",
                        app.client_id, credential.key_id
                    ))
                })?;
            }
        }
        Ok(self)
    }

    /// Renders the tenant as TOML (`calconnect-sandbox --print-demo`).
    pub fn to_toml(&self) -> Result<String> {
        toml::to_string_pretty(self).map_err(|error| Error::TenantParse(error.to_string()))
    }

    /// Whether `segment` names this tenant in an authority URL: `common`, `organizations`, the id or a domain.
    pub fn accepts_authority_segment(&self, segment: &str) -> bool {
        segment.eq_ignore_ascii_case("common")
            || segment.eq_ignore_ascii_case("organizations")
            || segment.eq_ignore_ascii_case(&self.id.to_string())
            || self
                .domains
                .iter()
                .any(|domain| domain.eq_ignore_ascii_case(segment))
    }

    /// Finds a user by UPN or mail, case-insensitively.
    pub fn user_by_email(&self, email: &str) -> Option<&User> {
        let email = email.trim();
        self.users.iter().find(|user| {
            user.user_principal_name.eq_ignore_ascii_case(email)
                || user
                    .mail
                    .as_deref()
                    .is_some_and(|mail| mail.eq_ignore_ascii_case(email))
        })
    }

    /// Finds a user by object id.
    pub fn user_by_id(&self, id: Uuid) -> Option<&User> {
        self.users.iter().find(|user| user.id == id)
    }

    /// Finds a user as Graph's `/users/{id | userPrincipalName}` does: by object id, else by UPN.
    pub fn user_by_id_or_upn(&self, key: &str) -> Option<&User> {
        let key = key.trim();
        match key.parse::<Uuid>() {
            Ok(id) => self.user_by_id(id),
            Err(_) => self
                .users
                .iter()
                .find(|user| user.user_principal_name.eq_ignore_ascii_case(key)),
        }
    }

    /// The default domain (the first verified domain).
    pub fn default_domain(&self) -> Option<&str> {
        self.domains.first().map(String::as_str)
    }

    /// The initial `*.onmicrosoft.com` domain, or the default one for a tenant file that lists none.
    pub fn initial_domain(&self) -> Option<&str> {
        self.domains
            .iter()
            .map(String::as_str)
            .find(|domain| domain.to_ascii_lowercase().ends_with(".onmicrosoft.com"))
            .or_else(|| self.default_domain())
    }

    /// Finds an app registration by client id (case-insensitive GUID).
    pub fn app(&self, client_id: &str) -> Option<&AppRegistration> {
        self.apps
            .iter()
            .find(|app| app.client_id.eq_ignore_ascii_case(client_id.trim()))
    }

    /// Finds a mailbox by SMTP address.
    pub fn mailbox(&self, smtp: &str) -> Option<&Mailbox> {
        self.exchange.mailbox(smtp)
    }

    /// The user owning a mailbox.
    pub fn mailbox_owner(&self, smtp: &str) -> Option<&User> {
        self.mailbox(smtp)
            .and_then(|mailbox| self.user_by_email(&mailbox.owner))
    }

    /// Finds a password account by UPN.
    pub fn service_account(&self, upn: &str) -> Option<&ServiceAccount> {
        self.exchange.service_account(upn)
    }

    /// Whether an RBAC for Applications assignment (`New-ManagementRoleAssignment -App`) gives `app_id` one
    /// of `roles` over the mailbox `smtp`: an assignment without `-CustomResourceScope` covers the whole
    /// organisation, a scoped one the mailboxes its filter matches
    /// (learn.microsoft.com/exchange/permissions-exo/application-rbac).
    pub fn app_role_assignment_covers(&self, app_id: &str, roles: &[&str], smtp: &str) -> bool {
        let Some(mailbox) = self.mailbox(smtp) else {
            return false;
        };
        self.exchange.role_assignments.iter().any(|assignment| {
            roles
                .iter()
                .any(|role| assignment.role.eq_ignore_ascii_case(role))
                && assignment
                    .app
                    .as_deref()
                    .is_some_and(|app| app.eq_ignore_ascii_case(app_id))
                && assignment
                    .custom_resource_scope
                    .as_deref()
                    .is_none_or(|name| {
                        self.exchange
                            .management_scope(name)
                            .and_then(|scope| {
                                RecipientFilter::parse(&scope.recipient_restriction_filter).ok()
                            })
                            .is_some_and(|filter| filter.matches(&self.recipient(mailbox)))
                    })
        })
    }

    /// The recipient properties a management scope's filter tests, for `mailbox`.
    pub fn recipient<'a>(&'a self, mailbox: &'a Mailbox) -> Recipient<'a> {
        let owner = self.user_by_email(&mailbox.owner);
        Recipient {
            primary_smtp_address: &mailbox.smtp,
            display_name: owner.map_or(mailbox.smtp.as_str(), |user| user.display_name.as_str()),
            department: owner.and_then(|user| user.department.as_deref()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo;

    #[test]
    fn both_demo_flavours_round_trip_through_toml_with_their_exchange_model() {
        for tenant in [Tenant::demo(), Tenant::demo_exchange_online()] {
            let text = tenant.to_annotated_toml().expect("demo tenant serialises");
            let parsed = Tenant::from_toml(&text).expect("printed demo tenant parses back");
            assert_eq!(parsed.users.len(), tenant.users.len());
            assert_eq!(parsed.id, tenant.id);
            assert_eq!(parsed.exchange.deployment, tenant.exchange.deployment);
            assert_eq!(
                parsed.exchange.role_assignments.len(),
                tenant.exchange.role_assignments.len()
            );
            assert_eq!(
                parsed.teams.application_access_policy_grants,
                tenant.teams.application_access_policy_grants
            );
            let teams_app = parsed
                .app(demo::TEAMS_ENTERPRISE_APP_CLIENT_ID)
                .expect("the enterprise Teams app exists");
            assert_eq!(
                teams_app.certificates()[0].1.thumbprint(),
                demo::TEAMS_ENTERPRISE_CERTIFICATE_THUMBPRINT,
                "the certificate survives TOML"
            );
            let adele = parsed.user_by_email(demo::ADELE).expect("adele exists");
            assert_eq!(
                adele.calendars[0].events.len(),
                tenant.users[0].calendars[0].events.len()
            );
        }
    }

    #[test]
    fn the_printed_demo_explains_each_scenario_in_a_comment() {
        let text = Tenant::demo().to_annotated_toml().unwrap();
        for expected in [
            "# adele: the service account may impersonate her",
            "# megan: Editor on her Calendar folder only",
            "# alex: Default set to None",
            "# adele is the only Retail mailbox",
            "# the Teams app: delegated User.Read OnlineMeetings.ReadWrite",
            "# the enterprise Teams app: application permissions",
            "# New-CsApplicationAccessPolicy -Identity \"calconnect Teams pilot\"",
            "# Grant-CsApplicationAccessPolicy -PolicyName \"calconnect Teams pilot\" -Identity adele",
            "no Teams application access policy covers him",
        ] {
            assert!(text.contains(expected), "missing {expected:?} in\n{text}");
        }
        let online = Tenant::demo_exchange_online().to_annotated_toml().unwrap();
        assert!(online.contains("# RBAC for Applications"), "{online}");
        assert!(
            online.contains("# EwsEnabled with an allow list"),
            "{online}"
        );
    }

    #[test]
    fn exchange_online_refuses_an_application_impersonation_assignment() {
        let mut tenant = Tenant::demo_exchange_online();
        tenant.exchange.role_assignments.push(RoleAssignment {
            name: "old habits".to_owned(),
            role: "ApplicationImpersonation".to_owned(),
            user: Some(demo::SERVICE_ACCOUNT_UPN.to_owned()),
            app: None,
            custom_recipient_write_scope: None,
            custom_resource_scope: None,
        });
        let text = tenant.to_toml().unwrap();
        let error =
            Tenant::from_toml(&text).expect_err("Exchange Online has no ApplicationImpersonation");
        assert!(
            error.to_string().contains("ApplicationImpersonation"),
            "{error}"
        );
    }

    #[test]
    fn a_tenant_file_with_a_broken_certificate_or_grant_is_refused() {
        let mut tenant = Tenant::demo();
        let app = tenant
            .apps
            .iter_mut()
            .find(|app| app.client_id == demo::TEAMS_ENTERPRISE_APP_CLIENT_ID)
            .expect("the enterprise Teams app exists");
        app.key_credentials[0].certificate =
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n".to_owned();
        let error = tenant
            .validated()
            .expect_err("a certificate that does not parse");
        assert!(error.to_string().contains("key credential"), "{error}");
        let mut tenant = Tenant::demo();
        tenant.teams.application_access_policy_grants[0].policy_name = Some("nope".to_owned());
        assert!(tenant.validated().is_err());
    }

    #[test]
    fn an_assignment_naming_an_unknown_scope_is_refused() {
        let mut tenant = Tenant::demo();
        tenant.exchange.role_assignments[0].custom_recipient_write_scope = Some("nope".to_owned());
        assert!(tenant.validated().is_err());
    }

    #[test]
    fn weekly_recurrence_expands_on_weekdays_only() {
        let tenant = Tenant::demo();
        let adele = tenant.user_by_email(demo::ADELE).expect("adele exists");
        let monday = week_start(chrono::Utc::now());
        let standups: Vec<_> = adele.calendars[0]
            .view(monday, monday + chrono::Duration::days(7))
            .into_iter()
            .filter(|occurrence| occurrence.event.id == "AAMkAGAdeleStandup")
            .collect();
        assert_eq!(standups.len(), 5, "stand-up happens Monday to Friday");
        assert!(standups.iter().all(|occurrence| occurrence.is_occurrence));
    }

    #[test]
    fn service_account_passwords_are_redacted_in_debug() {
        let tenant = Tenant::demo();
        let account = tenant
            .service_account(demo::SERVICE_ACCOUNT_UPN)
            .expect("service account exists");
        assert!(account.password.matches(demo::SERVICE_ACCOUNT_PASSWORD));
        assert_eq!(format!("{:?}", account.password), "[redacted]");
    }
}
