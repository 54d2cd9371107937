//! Exchange as Exchange models it: the deployment, the EWS virtual directory, the organisation's EWS
//! settings, RBAC (management scopes and role assignments, for users on premises and for applications in
//! Exchange Online) and mailbox folder permissions.
//!
//! Nothing here names a verdict ("full", "restricted"): a client's access is *derived* from these
//! primitives by `ews::access`, the way Exchange derives it, so a misunderstanding shared by our client
//! and the sandbox shows up as a failing test instead of a matching pair of labels.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::apps::TenantSecret;
use super::recipient_filter::RecipientFilter;

/// The Exchange organisation of a tenant.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Exchange {
    /// On-premises (with a version) or Exchange Online.
    #[serde(default)]
    pub deployment: Deployment,
    /// `ServerVersionInfo` as `major.minor.build.revision`; absent: the deployment's default
    /// (Exchange 2019 CU14 on premises, a current build online).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_version: Option<String>,
    /// The EWS virtual directory's Extended Protection (`-ExtendedProtectionTokenChecking`).
    #[serde(default)]
    pub extended_protection: ExtendedProtection,
    /// IIS `windowsAuthentication/@authPersistSingleRequest` on the EWS and Autodiscover virtual
    /// directories: `false` (IIS's default, which Exchange keeps) lets a connection an NTLM handshake
    /// authenticated carry later requests without one; `true` makes every request authenticate again
    /// (learn.microsoft.com/iis/configuration/system.webServer/security/authentication/windowsAuthentication/).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub auth_persist_single_request: bool,
    /// Authentication methods the EWS and Autodiscover virtual directories offer; absent: the deployment's
    /// default (Windows authentication on premises, OAuth only in Exchange Online).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authentication: Option<Vec<AuthMethod>>,
    /// `Get-OrganizationConfig`'s EWS settings.
    #[serde(default)]
    pub organization: OrganizationConfig,
    #[serde(default)]
    pub mailboxes: Vec<Mailbox>,
    /// Accounts that sign in with a password (NTLM, Negotiate, Basic): Active Directory users on
    /// premises. They need no mailbox of their own.
    #[serde(default)]
    pub service_accounts: Vec<ServiceAccount>,
    /// `New-ManagementScope`.
    #[serde(default)]
    pub management_scopes: Vec<ManagementScope>,
    /// `New-ManagementRoleAssignment`, to a user (on premises) or an app's service principal (RBAC for
    /// Applications, Exchange Online).
    #[serde(default)]
    pub role_assignments: Vec<RoleAssignment>,
    /// `Add-MailboxFolderPermission` entries, including changes to `Default` and `Anonymous`.
    #[serde(default)]
    pub folder_permissions: Vec<FolderPermission>,
    /// Room mailboxes (`New-Mailbox -Room`, with `Set-Place` metadata), which Graph's places API lists.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rooms: Vec<RoomMailbox>,
    /// Room lists (`New-DistributionGroup -RoomList`, members added with `Add-DistributionGroupMember`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub room_lists: Vec<RoomList>,
}

/// A room mailbox with its place metadata (`Set-Place`: capacity, building, floor, accessibility).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RoomMailbox {
    /// The directory object id, Graph's `place.id`.
    pub id: uuid::Uuid,
    /// Primary SMTP address (Graph `emailAddress`).
    pub smtp: String,
    pub display_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub building: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub floor_number: Option<i32>,
    #[serde(default)]
    pub is_wheel_chair_accessible: bool,
}

/// A room list: a distribution group of room mailboxes.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RoomList {
    /// The directory object id, Graph's `place.id`.
    pub id: uuid::Uuid,
    /// Primary SMTP address (Graph `emailAddress`).
    pub smtp: String,
    pub display_name: String,
    /// SMTP addresses of the member rooms.
    #[serde(default)]
    pub members: Vec<String>,
}

/// Where Exchange runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Deployment {
    #[default]
    OnPremises,
    ExchangeOnline,
}

/// Exchange 2019 CU14 (build 15.2.1544.4), the first CU with Extended Protection on by default
/// ("Exchange Server build numbers and release dates", learn.microsoft.com/exchange/new-features/build-numbers-and-release-dates).
pub const EXCHANGE_2019_CU14: &str = "15.2.1544.4";
/// An Exchange Online build as `ServerVersionInfo` reports it: MajorVersion 15, MinorVersion 20 and
/// `Version="V2018_01_08"` are what Exchange Online sends; the build and revision are illustrative.
pub const EXCHANGE_ONLINE_BUILD: &str = "15.20.8857.21";

/// `ServerVersionInfo`'s attributes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerVersion {
    pub major: u32,
    pub minor: u32,
    pub build: u32,
    pub revision: u32,
}

impl ServerVersion {
    /// Parses `15.2.1544.4`.
    pub fn parse(text: &str) -> Option<Self> {
        let mut parts = text.trim().split('.').map(|part| part.parse::<u32>().ok());
        let version = Self {
            major: parts.next()??,
            minor: parts.next()??,
            build: parts.next()??,
            revision: parts.next()??,
        };
        parts.next().is_none().then_some(version)
    }

    /// The schema version name in `ServerVersionInfo Version=…`: Exchange Online reports `V2018_01_08`.
    /// ASSUMPTION: no primary capture shows the attribute of an on-premises 2019 server; `V2017_07_11`
    /// (the newest on-premises schema name in `types.xsd`'s era) is what the sandbox sends.
    pub fn schema_name(&self) -> &'static str {
        if self.minor >= 20 {
            "V2018_01_08"
        } else if self.minor >= 1 {
            "V2017_07_11"
        } else {
            "Exchange2013_SP1"
        }
    }
}

/// `-ExtendedProtectionTokenChecking` of the EWS virtual directory.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExtendedProtection {
    /// `None`: channel bindings are ignored.
    Off,
    /// `Allow`: a channel binding, when sent, must match; clients that send none still authenticate
    /// (the Exchange 2019 CU14 front end's default).
    #[default]
    Accept,
    /// `Require`: NTLM without a matching channel binding gets 401.
    Require,
}

/// An authentication method of the EWS virtual directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthMethod {
    Ntlm,
    Negotiate,
    Basic,
    /// Entra ID access tokens (`Authorization: Bearer`): Exchange Online, or hybrid modern auth.
    Oauth,
}

impl Exchange {
    /// The version `ServerVersionInfo` reports.
    pub fn version(&self) -> ServerVersion {
        let fallback = match self.deployment {
            Deployment::OnPremises => EXCHANGE_2019_CU14,
            Deployment::ExchangeOnline => EXCHANGE_ONLINE_BUILD,
        };
        self.server_version
            .as_deref()
            .and_then(ServerVersion::parse)
            .or_else(|| ServerVersion::parse(fallback))
            .unwrap_or(ServerVersion {
                major: 15,
                minor: 2,
                build: 1544,
                revision: 4,
            })
    }

    /// What the virtual directories offer. Exchange Online turned Basic off for EWS in 2022 and takes
    /// OAuth only (facts §3.2). ASSUMPTION: on premises, Windows authentication (NTLM and Negotiate)
    /// without Basic as the EWS virtual directory's default; the demo tenant names its methods explicitly.
    pub fn auth_methods(&self) -> Vec<AuthMethod> {
        match (&self.authentication, self.deployment) {
            (Some(methods), _) => methods.clone(),
            (None, Deployment::OnPremises) => vec![AuthMethod::Ntlm, AuthMethod::Negotiate],
            (None, Deployment::ExchangeOnline) => vec![AuthMethod::Oauth],
        }
    }

    /// Whether the virtual directory offers `method`.
    pub fn offers(&self, method: AuthMethod) -> bool {
        self.auth_methods().contains(&method)
    }

    /// Finds a mailbox by SMTP address (case-insensitive).
    pub fn mailbox(&self, smtp: &str) -> Option<&Mailbox> {
        self.mailboxes
            .iter()
            .find(|mailbox| mailbox.smtp.eq_ignore_ascii_case(smtp.trim()))
    }

    /// Finds a password account by UPN.
    pub fn service_account(&self, upn: &str) -> Option<&ServiceAccount> {
        self.service_accounts
            .iter()
            .find(|account| account.upn.eq_ignore_ascii_case(upn.trim()))
    }

    /// Finds a room mailbox by SMTP address (case-insensitive).
    pub fn room(&self, smtp: &str) -> Option<&RoomMailbox> {
        self.rooms
            .iter()
            .find(|room| room.smtp.eq_ignore_ascii_case(smtp.trim()))
    }

    /// Finds a management scope by name.
    pub fn management_scope(&self, name: &str) -> Option<&ManagementScope> {
        self.management_scopes
            .iter()
            .find(|scope| scope.name.eq_ignore_ascii_case(name.trim()))
    }

    /// Checks what Exchange itself refuses to store, so a tenant file cannot describe an impossible
    /// organisation: `ApplicationImpersonation` assignments in Exchange Online (the role was removed in
    /// February 2025, MC718754, facts §0), application assignments on premises (RBAC for Applications
    /// exists only in Exchange Online), unknown scopes and unparsable filters.
    pub fn validate(&self) -> Result<(), String> {
        for scope in &self.management_scopes {
            RecipientFilter::parse(&scope.recipient_restriction_filter).map_err(|error| {
                format!(
                    "management scope '{}': invalid RecipientRestrictionFilter: {error}",
                    scope.name
                )
            })?;
        }
        for list in &self.room_lists {
            if let Some(member) = list
                .members
                .iter()
                .find(|member| self.room(member).is_none())
            {
                return Err(format!(
                    "room list '{}': member '{member}' is not a room mailbox",
                    list.smtp
                ));
            }
        }
        for assignment in &self.role_assignments {
            let name = &assignment.name;
            match (&assignment.user, &assignment.app) {
                (Some(_), None) | (None, Some(_)) => {}
                _ => {
                    return Err(format!(
                        "role assignment '{name}' must name exactly one of `user` or `app`"
                    ))
                }
            }
            if assignment
                .role
                .eq_ignore_ascii_case(APPLICATION_IMPERSONATION)
                && self.deployment == Deployment::ExchangeOnline
            {
                return Err(format!(
                    "role assignment '{name}': the ApplicationImpersonation role does not exist in Exchange Online (removed February 2025, MC718754); use RBAC for Applications"
                ));
            }
            if assignment.app.is_some() && self.deployment == Deployment::OnPremises {
                return Err(format!(
                    "role assignment '{name}': RBAC for Applications (-App) exists only in Exchange Online"
                ));
            }
            if assignment.app.is_some() && !assignment.role.starts_with("Application ") {
                return Err(format!(
                    "role assignment '{name}': an app can hold only the 'Application …' roles of RBAC for Applications"
                ));
            }
            for scope in [
                &assignment.custom_recipient_write_scope,
                &assignment.custom_resource_scope,
            ]
            .into_iter()
            .flatten()
            {
                if self.management_scope(scope).is_none() {
                    return Err(format!(
                        "role assignment '{name}' names the unknown management scope '{scope}'"
                    ));
                }
            }
        }
        Ok(())
    }
}

/// The role that lets a user act as any mailbox in its scope (on premises).
pub const APPLICATION_IMPERSONATION: &str = "ApplicationImpersonation";
/// The RBAC for Applications role for app-only EWS (Exchange Online,
/// learn.microsoft.com/exchange/permissions-exo/application-rbac).
pub const APPLICATION_EWS_ACCESS_AS_APP: &str = "Application EWS.AccessAsApp";
/// The RBAC for Applications role that reads calendars through Graph (the `Calendars.Read` permission,
/// learn.microsoft.com/exchange/permissions-exo/application-rbac, "Supported Application Roles").
pub const APPLICATION_CALENDARS_READ: &str = "Application Calendars.Read";
/// The RBAC for Applications role that reads and writes calendars through Graph (`Calendars.ReadWrite`).
pub const APPLICATION_CALENDARS_READ_WRITE: &str = "Application Calendars.ReadWrite";

/// `Get-OrganizationConfig | fl Ews*`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct OrganizationConfig {
    /// `EwsEnabled`: `None` while never set explicitly (`$null`), which Exchange Online treats as blocked
    /// from 2026-10-01 (facts §0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ews_enabled: Option<bool>,
    /// `EwsApplicationAccessPolicy`: `EnforceAllowList` or `EnforceBlockList` over user agents.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ews_application_access_policy: Option<EwsApplicationAccessPolicy>,
    /// `EwsAllowList`: user-agent patterns (`OWA/*`), used with `EnforceAllowList`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ews_allow_list: Vec<String>,
    /// `EwsBlockList`: user-agent patterns, used with `EnforceBlockList`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ews_block_list: Vec<String>,
    /// `EwsAllowedAppIDs` (Exchange Online): with `EwsEnabled` true and at least one id, only these apps
    /// reach EWS; enforced from 2026-10-01 (facts §0).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ews_allowed_app_ids: Vec<String>,
}

/// `-EwsApplicationAccessPolicy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum EwsApplicationAccessPolicy {
    EnforceAllowList,
    EnforceBlockList,
}

/// The day Exchange Online starts to enforce `EwsAllowedAppIDs` and blocks tenants that never set
/// `EwsEnabled` (facts §0, §3.2).
pub fn ews_allow_list_enforced_from() -> DateTime<Utc> {
    utc_midnight(2026, 10, 1)
}

/// The day Exchange Online turns EWS off for everyone (facts §3.2: "permanently disabled 2027-04-01").
pub fn exchange_online_ews_shutdown() -> DateTime<Utc> {
    utc_midnight(2027, 4, 1)
}

fn utc_midnight(year: i32, month: u32, day: u32) -> DateTime<Utc> {
    NaiveDate::from_ymd_opt(year, month, day)
        .and_then(|date| date.and_hms_opt(0, 0, 0))
        .map(|naive| naive.and_utc())
        .unwrap_or_default()
}

impl OrganizationConfig {
    /// Whether the user-agent policy lets `user_agent` in (`EnforceAllowList`: must match the allow list;
    /// `EnforceBlockList`: must not match the block list; no policy: everyone).
    pub fn admits_user_agent(&self, user_agent: &str) -> bool {
        let matches_any = |patterns: &[String]| {
            patterns
                .iter()
                .any(|pattern| wildcard_match(pattern, user_agent))
        };
        match self.ews_application_access_policy {
            None => true,
            Some(EwsApplicationAccessPolicy::EnforceAllowList) => matches_any(&self.ews_allow_list),
            Some(EwsApplicationAccessPolicy::EnforceBlockList) => {
                !matches_any(&self.ews_block_list)
            }
        }
    }

    /// Whether `EwsAllowedAppIDs` lets `app_id` in at `now` (Exchange Online; `None`: no app, e.g. a
    /// password sign-in).
    pub fn admits_app(&self, app_id: Option<&str>, now: DateTime<Utc>) -> bool {
        if now < ews_allow_list_enforced_from() || self.ews_allowed_app_ids.is_empty() {
            return true;
        }
        app_id.is_some_and(|app_id| {
            self.ews_allowed_app_ids
                .iter()
                .any(|allowed| allowed.trim().eq_ignore_ascii_case(app_id))
        })
    }
}

/// `EwsAllowList` patterns: `*` matches any run of characters, case-insensitively.
pub fn wildcard_match(pattern: &str, text: &str) -> bool {
    let pattern: Vec<char> = pattern.to_lowercase().chars().collect();
    let text: Vec<char> = text.to_lowercase().chars().collect();
    // Iterative matcher with one backtrack point: linear in practice, no recursion on hostile input.
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && pattern[p] == '*' {
            star = Some((p, t));
            p += 1;
        } else if p < pattern.len() && pattern[p] == text[t] {
            p += 1;
            t += 1;
        } else if let Some((star_p, star_t)) = star {
            p = star_p + 1;
            t = star_t + 1;
            star = Some((star_p, star_t + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|character| *character == '*')
}

/// A mailbox and the user owning it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Mailbox {
    /// Primary SMTP address.
    pub smtp: String,
    /// UPN of the owning user.
    pub owner: String,
}

/// An account that signs in with a password.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ServiceAccount {
    pub upn: String,
    pub password: TenantSecret,
}

/// `New-ManagementScope -Name … -RecipientRestrictionFilter …`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ManagementScope {
    pub name: String,
    /// An OPATH filter over recipients, e.g. `Department -eq 'Retail'` (see `recipient_filter`).
    pub recipient_restriction_filter: String,
}

/// `New-ManagementRoleAssignment`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RoleAssignment {
    pub name: String,
    /// `ApplicationImpersonation`, `Application EWS.AccessAsApp`, ...
    pub role: String,
    /// `-User`: the account holding the role (on premises).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// `-App`: the client id of the app's service principal (RBAC for Applications).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app: Option<String>,
    /// `-CustomRecipientWriteScope` (user assignments): absent = the whole organisation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_recipient_write_scope: Option<String>,
    /// `-CustomResourceScope` (app assignments): absent = the whole organisation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_resource_scope: Option<String>,
}

/// One `Add-MailboxFolderPermission` entry.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FolderPermission {
    /// The mailbox's SMTP address.
    pub mailbox: String,
    /// The folder, by its EWS distinguished name (`calendar`, `inbox`, `msgfolderroot`, ...).
    pub folder: String,
    /// A UPN, or the special users `Default` and `Anonymous`.
    pub user: String,
    pub access_rights: AccessRights,
    /// `-SharingPermissionFlags` (Exchange Online, Editor on a calendar only): `Delegate`,
    /// `CanViewPrivateItems`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sharing_permission_flags: Vec<SharingPermissionFlag>,
}

/// `-SharingPermissionFlags` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SharingPermissionFlag {
    Delegate,
    CanViewPrivateItems,
}

/// The special user for everyone in the organisation without an entry of their own.
pub const DEFAULT_USER: &str = "Default";
/// The special user for unauthenticated and external callers.
pub const ANONYMOUS_USER: &str = "Anonymous";

/// A folder permission role (`-AccessRights`), as `Add-MailboxFolderPermission` documents them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AccessRights {
    Owner,
    PublishingEditor,
    Editor,
    PublishingAuthor,
    Author,
    NonEditingAuthor,
    Reviewer,
    Contributor,
    /// Calendar folders only: availability (free/busy times).
    AvailabilityOnly,
    /// Calendar folders only: availability with subject and location.
    LimitedDetails,
    None,
}

/// The individual rights a role grants (learn.microsoft.com/powershell/module/exchangepowershell/add-mailboxfolderpermission,
/// `-AccessRights`; `None` grants nothing since the 2022 correction of that page), plus the free/busy
/// rights of the calendar-only roles (MS-OXCPERM PidTagMemberRights: FreeBusySimple, FreeBusyDetailed).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FolderRights {
    pub read_items: bool,
    pub create_items: bool,
    pub edit_owned_items: bool,
    pub edit_all_items: bool,
    pub delete_owned_items: bool,
    pub delete_all_items: bool,
    pub create_subfolders: bool,
    pub folder_owner: bool,
    pub folder_visible: bool,
    /// Free/busy times (AvailabilityOnly and every role that reads items).
    pub free_busy_simple: bool,
    /// Free/busy with subject and location (LimitedDetails and every role that reads items).
    pub free_busy_detailed: bool,
    /// `CanViewPrivateItems` (delegates only).
    pub view_private_items: bool,
}

impl AccessRights {
    /// The rights this role grants.
    pub fn rights(self) -> FolderRights {
        let reader = FolderRights {
            read_items: true,
            folder_visible: true,
            free_busy_simple: true,
            free_busy_detailed: true,
            ..FolderRights::default()
        };
        match self {
            Self::Owner => FolderRights {
                create_items: true,
                edit_owned_items: true,
                edit_all_items: true,
                delete_owned_items: true,
                delete_all_items: true,
                create_subfolders: true,
                folder_owner: true,
                ..reader
            },
            Self::PublishingEditor => FolderRights {
                create_items: true,
                edit_owned_items: true,
                edit_all_items: true,
                delete_owned_items: true,
                delete_all_items: true,
                create_subfolders: true,
                ..reader
            },
            Self::Editor => FolderRights {
                create_items: true,
                edit_owned_items: true,
                edit_all_items: true,
                delete_owned_items: true,
                delete_all_items: true,
                ..reader
            },
            Self::PublishingAuthor => FolderRights {
                create_items: true,
                edit_owned_items: true,
                delete_owned_items: true,
                create_subfolders: true,
                ..reader
            },
            Self::Author => FolderRights {
                create_items: true,
                edit_owned_items: true,
                delete_owned_items: true,
                ..reader
            },
            Self::NonEditingAuthor => FolderRights {
                create_items: true,
                delete_owned_items: true,
                ..reader
            },
            Self::Reviewer => reader,
            Self::Contributor => FolderRights {
                create_items: true,
                folder_visible: true,
                ..FolderRights::default()
            },
            Self::AvailabilityOnly => FolderRights {
                free_busy_simple: true,
                ..FolderRights::default()
            },
            Self::LimitedDetails => FolderRights {
                free_busy_simple: true,
                free_busy_detailed: true,
                ..FolderRights::default()
            },
            Self::None => FolderRights::default(),
        }
    }
}

impl FolderRights {
    /// Everything: the mailbox owner, or a caller impersonating the owner.
    pub fn owner() -> Self {
        Self {
            view_private_items: true,
            ..AccessRights::Owner.rights()
        }
    }
}
