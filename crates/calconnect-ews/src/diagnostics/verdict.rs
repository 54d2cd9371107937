//! The verdict: which access level the service account really has on the test mailbox, derived from which
//! operations succeeded and with which response codes; what a vendor can and cannot do with it; and the
//! exact commands that add what is missing, filled in with the admin's names.
//!
//! Levels follow the Enterprise Connect setup for Exchange: Full (ApplicationImpersonation), Restricted
//! (impersonation limited to the Calendar folder), Free-busy (`AvailabilityOnly`), or none.

use chrono::NaiveDate;
use serde::Serialize;

use crate::response_code::{ResponseCode, RESPONSE_CODE_DOC};
use crate::tls::TlsProblem;

const IMPERSONATION_DOC: &str =
    "https://learn.microsoft.com/en-us/exchange/client-developer/exchange-web-services/how-to-configure-impersonation";
const FOLDER_PERMISSION_DOC: &str =
    "https://learn.microsoft.com/en-us/powershell/module/exchange/add-mailboxfolderpermission";
const EXO_OAUTH_DOC: &str = "https://learn.microsoft.com/en-us/exchange/client-developer/exchange-web-services/how-to-authenticate-an-ews-application-by-using-oauth";
const BASIC_AUTH_DOC: &str =
    "https://learn.microsoft.com/en-us/exchange/clients-and-mobile-in-exchange-online/deprecation-of-basic-authentication-exchange-online";
const APPLICATION_ACCESS_POLICY_DOC: &str =
    "https://learn.microsoft.com/en-us/powershell/module/exchange/new-applicationaccesspolicy";
const AUTHENTICATION_DOC: &str =
    "https://learn.microsoft.com/en-us/exchange/client-developer/exchange-web-services/authentication-and-ews-in-exchange";

/// The Exchange Team's announcement of the EWS retirement in Exchange Online.
const EWS_RETIREMENT_DOC: &str =
    "https://techcommunity.microsoft.com/blog/exchange/retirement-of-exchange-web-services-in-exchange-online/3924440";
/// Exchange Online blocks EWS unless the tenant allow-lists the app (Exchange Team blog, "Exchange Online EWS,
/// Your Time is Almost Up").
pub const EXO_EWS_ALLOW_LIST_FROM: (i32, u32, u32) = (2026, 10, 1);
/// Exchange Online turns EWS off for good.
pub const EXO_EWS_SHUTDOWN_ON: (i32, u32, u32) = (2027, 4, 1);

/// Access granted to the service account on the test mailbox, from least to most.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum AccessLevel {
    /// Nothing usable.
    None,
    /// Free/busy times only (`AvailabilityOnly`).
    FreeBusy,
    /// Impersonation limited to the calendar.
    Restricted,
    /// ApplicationImpersonation on the whole mailbox.
    Full,
}

impl AccessLevel {
    /// Parses the CLI spelling: `full`, `restricted`, `free-busy`, `none`.
    pub fn parse(text: &str) -> Option<Self> {
        match text.to_ascii_lowercase().as_str() {
            "full" => Some(Self::Full),
            "restricted" => Some(Self::Restricted),
            "free-busy" | "freebusy" | "free_busy" => Some(Self::FreeBusy),
            "none" => Some(Self::None),
            _ => None,
        }
    }

    /// Human label.
    pub fn label(self) -> &'static str {
        match self {
            Self::Full => "Full",
            Self::Restricted => "Restricted",
            Self::FreeBusy => "Free-busy only",
            Self::None => "None",
        }
    }
}

/// A command or action that adds missing access.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Fix {
    /// What is missing or wrong.
    pub problem: String,
    /// The level this fix leads to, when it is about access.
    pub reaches: Option<AccessLevel>,
    /// The exact command, filled in with the admin's names.
    pub command: Option<String>,
    /// Where Microsoft documents it.
    pub doc_url: String,
}

/// The outcome of the run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Verdict {
    /// The level actually granted.
    pub level: AccessLevel,
    /// One sentence.
    pub summary: String,
    /// What a vendor will be able to do.
    pub vendor_can: Vec<String>,
    /// What a vendor will not be able to do.
    pub vendor_cannot: Vec<String>,
    /// How to add what is missing.
    pub fixes: Vec<Fix>,
    /// Further context (Exchange Online retirement dates, over-broad grants).
    pub notes: Vec<String>,
}

/// What happened to one operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    /// `NoError`.
    Granted,
    /// A response code refused it.
    Denied(ResponseCode),
    /// It never got a response message (transport, fault, HTTP status).
    Failed(String),
}

impl Access {
    fn is_granted(&self) -> bool {
        *self == Self::Granted
    }

    fn code(&self) -> Option<&ResponseCode> {
        match self {
            Self::Denied(code) => Some(code),
            _ => None,
        }
    }
}

/// Why the run stopped before the mailbox operations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Blocker {
    /// No EWS URL.
    Autodiscover(String),
    /// The certificate was refused.
    Tls(TlsProblem),
    /// The host did not answer.
    Unreachable(String),
    /// The app's token request failed.
    Token(String),
    /// The server does not offer a scheme this tool speaks with these credentials.
    SchemeNotOffered {
        /// What the credentials need.
        needed: String,
        /// What the server offers.
        offered: Vec<String>,
    },
    /// HTTP 401 with credentials that the server's schemes accept.
    Unauthorized,
    /// Still throttled after backing off.
    Throttled(String),
    /// HTTP 403 to authenticated EWS requests (in Exchange Online since 2026-10-01: the app is not allow-listed).
    Forbidden(String),
}

/// Everything the verdict is computed from.
#[derive(Debug, Clone)]
pub struct Observations {
    /// The service account or client id.
    pub service_account: String,
    /// The test mailbox.
    pub mailbox: String,
    /// Whether the target is Exchange Online.
    pub exchange_online: bool,
    /// Whether the credentials are an app (client credentials) rather than a password.
    pub app_credentials: bool,
    /// Today, from the injected clock.
    pub today: NaiveDate,
    /// What stopped the run early.
    pub blocker: Option<Blocker>,
    /// The scheme that authenticated the service account (`NTLM`, `Basic`, `Bearer`), once it did.
    pub authenticated_with: Option<String>,
    /// `GetFolder` calendar, impersonating.
    pub calendar_folder: Option<Access>,
    /// `FindItem` calendar view, impersonating.
    pub calendar_view: Option<Access>,
    /// `GetFolder` inbox, impersonating.
    pub other_folder: Option<Access>,
    /// `GetUserAvailability`.
    pub availability: Option<Access>,
}

fn date((year, month, day): (i32, u32, u32)) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day).unwrap_or_default()
}

/// Computes the verdict.
pub fn verdict(observations: &Observations) -> Verdict {
    let granted = |access: &Option<Access>| access.as_ref().is_some_and(Access::is_granted);
    let level = if observations.blocker.is_some() {
        AccessLevel::None
    } else if granted(&observations.calendar_folder) && granted(&observations.calendar_view) {
        if granted(&observations.other_folder) {
            AccessLevel::Full
        } else {
            AccessLevel::Restricted
        }
    } else if granted(&observations.availability) {
        AccessLevel::FreeBusy
    } else {
        AccessLevel::None
    };

    let mut verdict = Verdict {
        level,
        summary: String::new(),
        vendor_can: Vec::new(),
        vendor_cannot: Vec::new(),
        fixes: Vec::new(),
        notes: Vec::new(),
    };
    describe_level(&mut verdict, observations);
    authentication_note(&mut verdict, observations);
    exchange_online_notes(&mut verdict, observations);
    if let Some(blocker) = &observations.blocker {
        blocker_fix(&mut verdict, blocker, observations);
    } else if unknown_mailbox(observations) {
        verdict.summary = format!(
            "Exchange has no mailbox {}: check the address (use its primary SMTP address)",
            observations.mailbox
        );
        verdict.fixes.push(Fix {
            problem: format!("{} does not resolve to a mailbox", observations.mailbox),
            reaches: None,
            command: Some(format!(
                "Get-Recipient -Identity \"{}\" | Format-List PrimarySmtpAddress,RecipientType",
                observations.mailbox
            )),
            doc_url: RESPONSE_CODE_DOC.into(),
        });
    } else {
        access_fixes(&mut verdict, observations);
    }
    verdict
}

fn unknown_mailbox(observations: &Observations) -> bool {
    [&observations.calendar_folder, &observations.availability]
        .into_iter()
        .flatten()
        .any(|access| access.code().is_some_and(ResponseCode::is_unknown_mailbox))
}

fn describe_level(verdict: &mut Verdict, observations: &Observations) {
    let mailbox = &observations.mailbox;
    let (summary, can, cannot): (String, &[&str], &[&str]) = match verdict.level {
        AccessLevel::Full => (
            format!("Full access: the service account impersonates {mailbox} across the whole mailbox"),
            &["read and write events in the calendar", "read free/busy", "open folders beyond the calendar (mail included)"],
            &[],
        ),
        AccessLevel::Restricted => (
            format!("Restricted access: the service account impersonates {mailbox}, limited to the calendar"),
            &["read and write events in the calendar", "read free/busy"],
            &["open mail or any folder other than the calendar"],
        ),
        AccessLevel::FreeBusy => (
            format!("Free-busy only: the service account sees when {mailbox} is busy, nothing more"),
            &["read free/busy times (no subjects or locations)"],
            &["read event details", "create, update or delete events", "open any folder of the mailbox"],
        ),
        AccessLevel::None => (
            format!("No usable access to {mailbox}"),
            &[],
            &["read free/busy", "read or write events", "open any folder of the mailbox"],
        ),
    };
    verdict.summary = summary;
    verdict.vendor_can = can.iter().map(|text| (*text).to_owned()).collect();
    verdict.vendor_cannot = cannot.iter().map(|text| (*text).to_owned()).collect();
    if verdict.level == AccessLevel::Full {
        verdict.notes.push(
            "Full impersonation reaches mail too; a calendar vendor needs only Restricted (calendar-only) access".into(),
        );
    }
}

fn authentication_note(verdict: &mut Verdict, observations: &Observations) {
    match observations.authenticated_with.as_deref() {
        Some("Basic") if !observations.exchange_online => verdict.notes.push(
            "The service account authenticated with Basic: the server does not offer NTLM, so the password travels (base64) in every request; Microsoft recommends NTLM on premises".into(),
        ),
        Some(scheme) => verdict
            .notes
            .push(format!("The service account authenticated with {scheme}")),
        None => {}
    }
}

fn exchange_online_notes(verdict: &mut Verdict, observations: &Observations) {
    if !observations.exchange_online {
        return;
    }
    if observations.today >= date(EXO_EWS_SHUTDOWN_ON) {
        verdict.notes.push("Microsoft turned EWS off in Exchange Online on 2027-04-01: this setup cannot work there any more; a vendor must use Microsoft Graph".into());
    } else if observations.today >= date(EXO_EWS_ALLOW_LIST_FROM) {
        verdict.notes.push("Since 2026-10-01 Exchange Online blocks EWS unless the tenant enables it and allow-lists the app; Microsoft turns EWS off there on 2027-04-01, so plan a move to Microsoft Graph".into());
    } else {
        verdict.notes.push("Microsoft blocks EWS in Exchange Online from 2026-10-01 unless the tenant allow-lists the app, and turns it off on 2027-04-01".into());
    }
    if !observations.app_credentials {
        verdict.notes.push("Exchange Online no longer accepts Basic authentication for EWS (turned off from 2022-10-01); use an app registration with client credentials".into());
    }
}

fn blocker_fix(verdict: &mut Verdict, blocker: &Blocker, observations: &Observations) {
    let (summary, fix) = match blocker {
        Blocker::Autodiscover(detail) => (
            format!("Autodiscover found no EWS URL: {detail}"),
            Fix {
                problem: "Autodiscover gave no EWS URL this test may use".into(),
                reaches: None,
                command: None,
                doc_url: crate::autodiscover::AUTODISCOVER_DOC.into(),
            },
        ),
        Blocker::Tls(problem) => (
            format!("The EWS host's certificate is not acceptable: {problem}"),
            Fix {
                problem: problem.to_string(),
                reaches: None,
                command: None,
                doc_url: crate::tls::TLS_DOC.into(),
            },
        ),
        Blocker::Unreachable(detail) => (
            format!("The EWS host did not answer: {detail}"),
            Fix {
                problem: detail.clone(),
                reaches: None,
                command: None,
                doc_url: AUTHENTICATION_DOC.into(),
            },
        ),
        Blocker::Token(detail) => (
            format!("Microsoft Entra refused the app's token request: {detail}"),
            Fix {
                problem: "the client credentials token request failed".into(),
                reaches: None,
                command: None,
                doc_url: EXO_OAUTH_DOC.into(),
            },
        ),
        Blocker::SchemeNotOffered { needed, offered } => {
            let offered_text = if offered.is_empty() {
                "nothing".to_owned()
            } else {
                offered.join(", ")
            };
            let basic_disabled = needed == "Basic";
            let only_negotiate =
                !offered.is_empty() && offered.iter().all(|scheme| scheme == "Negotiate");
            let summary = if basic_disabled && only_negotiate {
                format!("Basic authentication is disabled on this server and NTLM is not offered; it offers {offered_text} (Kerberos), which this tool recognises but does not support")
            } else if basic_disabled {
                format!(
                    "Basic authentication is disabled on this server and NTLM is not offered either (it offers {offered_text})"
                )
            } else {
                format!("The server does not accept {needed} tokens (it offers {offered_text})")
            };
            // Windows authentication (NTLM) rather than Basic: the password then never crosses the wire.
            let command = basic_disabled.then(|| {
                "Set-WebServicesVirtualDirectory -Identity \"<server>\\EWS (Default Web Site)\" -WindowsAuthentication $true".to_owned()
            });
            let doc_url = if observations.exchange_online {
                BASIC_AUTH_DOC
            } else {
                AUTHENTICATION_DOC
            };
            (
                summary.clone(),
                Fix {
                    problem: summary,
                    reaches: None,
                    command,
                    doc_url: doc_url.into(),
                },
            )
        }
        Blocker::Unauthorized => {
            let problem = if observations.app_credentials {
                "Exchange refused the app's token (HTTP 401)".to_owned()
            } else {
                format!("Exchange refused the password of {} (HTTP 401): check the user name format (UPN or DOMAIN\\user), the password and that the account is not locked", observations.service_account)
            };
            (
                problem.clone(),
                Fix {
                    problem,
                    reaches: None,
                    command: None,
                    doc_url: AUTHENTICATION_DOC.into(),
                },
            )
        }
        Blocker::Forbidden(detail) => forbidden(detail, observations),
        Blocker::Throttled(detail) => (
            format!("Exchange kept throttling the service account: {detail}"),
            Fix {
                problem: "ErrorServerBusy after backing off".into(),
                reaches: None,
                command: None,
                doc_url: ResponseCode::ErrorServerBusy.doc_url().into(),
            },
        ),
    };
    verdict.summary = summary;
    verdict.fixes.push(fix);
}

/// HTTP 403 on authenticated EWS requests. In Exchange Online after 2026-10-01 that is the EWS allow list
/// (the exact response is undocumented: any 403 there is read as the block); elsewhere an IIS or proxy rule.
fn forbidden(detail: &str, observations: &Observations) -> (String, Fix) {
    let app = &observations.service_account;
    if observations.exchange_online && observations.today >= date(EXO_EWS_SHUTDOWN_ON) {
        let summary = "EWS is turned off in Exchange Online since April 2027 (HTTP 403): no allow list helps any more; the vendor must use Microsoft Graph".to_owned();
        return (
            summary.clone(),
            Fix {
                problem: summary,
                reaches: None,
                command: None,
                doc_url: EWS_RETIREMENT_DOC.into(),
            },
        );
    }
    if observations.exchange_online && observations.today >= date(EXO_EWS_ALLOW_LIST_FROM) {
        let summary = format!(
            "EWS is blocked for this app in Exchange Online since October 2026: add its app id {app} to the organization's EwsAllowedAppIDs (the list is replaced whole, so the command keeps the ids already on it; changes can take up to 24 hours), and plan for April 2027, when Microsoft turns EWS off for good"
        );
        return (
            summary,
            Fix {
                problem: format!("Exchange Online refused EWS to app {app} (HTTP 403: {detail})"),
                reaches: None,
                // -EwsAllowedAppIDs takes one comma-separated string and replaces the list; read it with
                // -RetrieveEwsOperationAccessPolicy first (Set-OrganizationConfig, example 7; facts §0).
                // Never -EwsAllowList: it matches user agents, not app ids.
                command: Some(format!(
                    "$ids = @(((@((Get-OrganizationConfig -RetrieveEwsOperationAccessPolicy).EwsAllowedAppIDs) -join ',') -split ',') | Where-Object {{ $_ }}) + '{app}' | Select-Object -Unique; Set-OrganizationConfig -EwsEnabled $true -EwsAllowedAppIDs ($ids -join ',')"
                )),
                doc_url: EWS_RETIREMENT_DOC.into(),
            },
        );
    }
    let summary = format!("Exchange refused EWS to {app} (HTTP 403): {detail}");
    (
        summary.clone(),
        Fix {
            problem: summary,
            reaches: None,
            command: None,
            doc_url: AUTHENTICATION_DOC.into(),
        },
    )
}

fn access_fixes(verdict: &mut Verdict, observations: &Observations) {
    let account = &observations.service_account;
    let mailbox = &observations.mailbox;
    if observations.exchange_online && observations.app_credentials {
        if verdict.level < AccessLevel::Full {
            verdict.fixes.push(Fix {
                problem: "the app may not impersonate this mailbox. ApplicationImpersonation was removed from Exchange Online in February 2025: grant the app the Office 365 Exchange Online application permission full_access_as_app with admin consent, and scope it to the right mailboxes with an application access policy".into(),
                reaches: Some(AccessLevel::Full),
                command: Some(format!(
                    "New-ApplicationAccessPolicy -AppId {account} -PolicyScopeGroupId <mail-enabled security group containing {mailbox}> -AccessRight RestrictAccess -Description \"calconnect EWS\""
                )),
                doc_url: APPLICATION_ACCESS_POLICY_DOC.into(),
            });
        }
        return;
    }
    if verdict.level < AccessLevel::Full {
        let problem = match verdict.level {
            AccessLevel::Restricted => format!("{account} is limited to the calendar of {mailbox}; Full access needs an unrestricted ApplicationImpersonation assignment"),
            _ => format!("{account} may not impersonate {mailbox} ({})", denial_codes(observations)),
        };
        verdict.fixes.push(Fix {
            problem,
            reaches: Some(AccessLevel::Full),
            command: Some(format!(
                "New-ManagementRoleAssignment -Name \"calconnect-impersonation\" -Role ApplicationImpersonation -User \"{account}\""
            )),
            doc_url: IMPERSONATION_DOC.into(),
        });
    }
    if verdict.level < AccessLevel::Restricted {
        verdict.fixes.push(Fix {
            problem: format!("for calendar-only (Restricted) access, give {account} impersonation scoped to the calendar user and editor rights on {mailbox}'s Calendar folder"),
            reaches: Some(AccessLevel::Restricted),
            command: Some(format!(
                "Add-MailboxFolderPermission -Identity \"{mailbox}:\\Calendar\" -User \"{account}\" -AccessRights Editor -SharingPermissionFlags Delegate,CanViewPrivateItems"
            )),
            doc_url: FOLDER_PERMISSION_DOC.into(),
        });
    }
    if verdict.level < AccessLevel::FreeBusy {
        verdict.fixes.push(Fix {
            problem: format!("{account} cannot even see when {mailbox} is busy ({})", denial_codes(observations)),
            reaches: Some(AccessLevel::FreeBusy),
            command: Some(format!(
                "Add-MailboxFolderPermission -Identity \"{mailbox}:\\Calendar\" -User \"{account}\" -AccessRights AvailabilityOnly"
            )),
            doc_url: FOLDER_PERMISSION_DOC.into(),
        });
    }
}

fn denial_codes(observations: &Observations) -> String {
    let mut codes: Vec<String> = Vec::new();
    for access in [
        &observations.calendar_folder,
        &observations.calendar_view,
        &observations.availability,
    ]
    .into_iter()
    .flatten()
    {
        let text = match access {
            Access::Granted => continue,
            Access::Denied(code) => code.to_string(),
            Access::Failed(detail) => detail.clone(),
        };
        if !codes.contains(&text) {
            codes.push(text);
        }
    }
    if codes.is_empty() {
        "not tested".into()
    } else {
        codes.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn observations() -> Observations {
        Observations {
            service_account: "svc-calconnect@contoso.com".into(),
            mailbox: "lee@contoso.com".into(),
            exchange_online: false,
            app_credentials: false,
            today: NaiveDate::from_ymd_opt(2026, 11, 23).unwrap(),
            blocker: None,
            authenticated_with: Some("NTLM".into()),
            calendar_folder: Some(Access::Denied(ResponseCode::ErrorImpersonateUserDenied)),
            calendar_view: Some(Access::Denied(ResponseCode::ErrorImpersonateUserDenied)),
            other_folder: None,
            availability: Some(Access::Granted),
        }
    }

    #[test]
    fn availability_without_impersonation_is_free_busy_with_the_role_assignment_as_fix() {
        let verdict = verdict(&observations());
        assert_eq!(verdict.level, AccessLevel::FreeBusy);
        let commands: Vec<&str> = verdict
            .fixes
            .iter()
            .filter_map(|fix| fix.command.as_deref())
            .collect();
        assert!(
            commands.iter().any(|command| command
                .contains("-Role ApplicationImpersonation -User \"svc-calconnect@contoso.com\"")),
            "{commands:?}"
        );
        assert!(verdict
            .vendor_cannot
            .iter()
            .any(|text| text.contains("create")));
    }

    #[test]
    fn nothing_granted_offers_the_availability_only_permission_with_the_mailbox_name() {
        let mut observed = observations();
        observed.availability = Some(Access::Denied(ResponseCode::ErrorNoFreeBusyAccess));
        let verdict = verdict(&observed);
        assert_eq!(verdict.level, AccessLevel::None);
        assert!(verdict.fixes.iter().any(|fix| fix.command.as_deref()
            == Some("Add-MailboxFolderPermission -Identity \"lee@contoso.com:\\Calendar\" -User \"svc-calconnect@contoso.com\" -AccessRights AvailabilityOnly")));
    }

    #[test]
    fn exchange_online_after_october_2026_mentions_the_allow_list_and_no_impersonation_role() {
        let mut observed = observations();
        observed.exchange_online = true;
        observed.app_credentials = true;
        observed.service_account = "2d3e4f50-6172-4839-a4b5-c6d7e8f90a1b".into();
        let verdict = verdict(&observed);
        assert!(
            verdict
                .notes
                .iter()
                .any(|note| note.contains("allow-lists")),
            "{:?}",
            verdict.notes
        );
        assert!(verdict.fixes.iter().all(|fix| !fix
            .command
            .as_deref()
            .unwrap_or_default()
            .contains("New-ManagementRoleAssignment")));
        assert!(verdict
            .fixes
            .iter()
            .any(|fix| fix.problem.contains("full_access_as_app")));
    }

    #[test]
    fn levels_order_from_none_to_full_and_parse_the_cli_spelling() {
        assert!(
            AccessLevel::Full > AccessLevel::Restricted
                && AccessLevel::Restricted > AccessLevel::FreeBusy
        );
        assert_eq!(AccessLevel::parse("free-busy"), Some(AccessLevel::FreeBusy));
        assert_eq!(AccessLevel::parse("sideways"), None);
    }
}
