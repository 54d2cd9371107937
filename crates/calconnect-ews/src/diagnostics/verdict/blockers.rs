//! What the shared steps found: the blocker that stopped a run (with its fix), Extended Protection,
//! and the notes on the deployment (Exchange Online's EWS dates, Basic authentication).

use chrono::NaiveDate;

use super::fixes::{self, quote, APPLICATION_RBAC_DOC};
use super::{AccessLevel, Fix, Verdict};
use crate::diagnostics::observations::{Blocker, Observations};
use crate::response_code::ResponseCode;

const EXO_OAUTH_DOC: &str = "https://learn.microsoft.com/en-us/exchange/client-developer/exchange-web-services/how-to-authenticate-an-ews-application-by-using-oauth";
const BASIC_AUTH_DOC: &str =
    "https://learn.microsoft.com/en-us/exchange/clients-and-mobile-in-exchange-online/deprecation-of-basic-authentication-exchange-online";
const AUTHENTICATION_DOC: &str =
    "https://learn.microsoft.com/en-us/exchange/client-developer/exchange-web-services/authentication-and-ews-in-exchange";
const WEB_SERVICES_DIRECTORY_DOC: &str =
    "https://learn.microsoft.com/en-us/powershell/module/exchange/set-webservicesvirtualdirectory";
/// "Configure Windows Extended Protection in Exchange Server".
pub const EXTENDED_PROTECTION_DOC: &str = "https://learn.microsoft.com/en-us/exchange/plan-and-deploy/post-installation-tasks/security-best-practices/exchange-extended-protection";
/// The Exchange Team's announcement of the EWS retirement in Exchange Online.
const EWS_RETIREMENT_DOC: &str =
    "https://techcommunity.microsoft.com/blog/exchange/retirement-of-exchange-web-services-in-exchange-online/3924440";

/// Exchange Online blocks EWS unless the tenant allow-lists the app (Exchange Team blog, "Exchange Online EWS,
/// Your Time is Almost Up").
pub const EXO_EWS_ALLOW_LIST_FROM: (i32, u32, u32) = (2026, 10, 1);
/// Exchange Online turns EWS off for good.
pub const EXO_EWS_SHUTDOWN_ON: (i32, u32, u32) = (2027, 4, 1);

fn date((year, month, day): (i32, u32, u32)) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day).unwrap_or_default()
}

/// How an admin reads the Extended Protection setting of every virtual directory, from an elevated
/// Exchange Management Shell (microsoft.github.io/CSS-Exchange/Security/ExchangeExtendedProtectionManagement/).
const EXTENDED_PROTECTION_CHECK: &str =
    ".\\ExchangeExtendedProtectionManagement.ps1 -ShowExtendedProtection";
/// The IIS setting itself on one server, as that script reads it (CSS-Exchange
/// `Invoke-ValidateMitigation.ps1`; values None, Allow, Require: IIS `extendedProtection` reference).
const EXTENDED_PROTECTION_IIS: &str = "Import-Module WebAdministration; Get-WebConfigurationProperty -PSPath 'IIS:\\' -Filter 'system.webServer/security/authentication/windowsAuthentication/extendedProtection' -Location 'Default Web Site/EWS' -Name tokenChecking";
/// The client-facing EWS virtual directory (the front end; the back end is `Exchange Back End/EWS`).
const EWS_FRONT_END: &str = "Default Web Site/EWS";

/// Adds the shared findings to the run's verdict: a blocker replaces everything mailbox-specific.
pub(super) fn shared_findings(verdict: &mut Verdict, shared: &Observations) {
    if let Some(blocker) = &shared.blocker {
        let (summary, fix) = blocker_fix(blocker, shared);
        verdict.level = AccessLevel::None;
        verdict.summary = summary;
        verdict.vendor_can.clear();
        verdict.vendor_cannot = vec![
            "read free/busy".into(),
            "read or write events".into(),
            "open any folder of the mailbox".into(),
        ];
        verdict.fixes = vec![fix];
        verdict.notes.clear();
    }
    if shared.ntlm_refused_basic_accepted {
        verdict
            .fixes
            .insert(0, extended_protection_mismatch(shared));
    }
    authentication_note(verdict, shared);
    exchange_online_notes(verdict, shared);
}

/// NTLM was refused and the same password worked with Basic: the password is right, and what failed is
/// the channel binding Extended Protection checks (facts §0).
fn extended_protection_mismatch(shared: &Observations) -> Fix {
    Fix {
        problem: format!(
            "Exchange refused NTLM for {} although the password is right (Basic accepted it): most likely Extended Protection is on and the channel binding does not match — typically a load balancer, reverse proxy or TLS inspection between this machine and Exchange that presents its own certificate. A policy that restricts NTLM for this account, or a server that accepts only NTLMv1, looks the same",
            shared.service_account
        ),
        reaches: None,
        changes: format!("changes nothing: lists the Extended Protection setting of each virtual directory (Microsoft's CSS-Exchange script, in an elevated Exchange Management Shell; on one server the front end's IIS value is {EXTENDED_PROTECTION_IIS}). Extended Protection does not work with SSL offloading: let the device pass TLS through to Exchange, or give it the same certificate as Exchange"),
        command: Some(EXTENDED_PROTECTION_CHECK.into()),
        doc_url: EXTENDED_PROTECTION_DOC.into(),
    }
}

fn authentication_note(verdict: &mut Verdict, shared: &Observations) {
    match shared.authenticated_with.as_deref() {
        Some("Basic") if shared.ntlm_refused_basic_accepted => verdict.notes.push(
            "The probes ran with Basic, because NTLM was refused: the password travels (base64, inside TLS) in every request".into(),
        ),
        Some("Basic") if !shared.exchange_online => verdict.notes.push(
            "The service account authenticated with Basic: the server does not offer NTLM, so the password travels (base64) in every request; Microsoft recommends NTLM on premises".into(),
        ),
        Some(scheme) => verdict
            .notes
            .push(format!("The service account authenticated with {scheme}")),
        None => {}
    }
}

fn exchange_online_notes(verdict: &mut Verdict, shared: &Observations) {
    if !shared.exchange_online {
        return;
    }
    if shared.today >= date(EXO_EWS_SHUTDOWN_ON) {
        verdict.notes.push("Microsoft turned EWS off in Exchange Online on 2027-04-01: this setup cannot work there any more; a vendor must use Microsoft Graph".into());
    } else if shared.today >= date(EXO_EWS_ALLOW_LIST_FROM) {
        verdict.notes.push("Since 2026-10-01 Exchange Online blocks EWS unless the tenant enables it and allow-lists the app; Microsoft turns EWS off there on 2027-04-01, so plan a move to Microsoft Graph".into());
    } else {
        verdict.notes.push("Microsoft blocks EWS in Exchange Online from 2026-10-01 unless the tenant allow-lists the app, and turns it off on 2027-04-01".into());
    }
    if !shared.app_credentials {
        verdict.notes.push("Exchange Online no longer accepts Basic authentication for EWS (turned off from 2022-10-01): a password service account cannot sign in; use an app registration with client credentials (app-only), granted with RBAC for Applications".into());
    }
}

fn plain(problem: String, doc_url: &str) -> Fix {
    Fix {
        problem,
        reaches: None,
        changes: String::new(),
        command: None,
        doc_url: doc_url.into(),
    }
}

fn blocker_fix(blocker: &Blocker, shared: &Observations) -> (String, Fix) {
    match blocker {
        Blocker::Autodiscover(detail) => (
            format!("Autodiscover found no EWS URL: {detail}"),
            plain(
                "Autodiscover gave no EWS URL this test may use".into(),
                crate::autodiscover::AUTODISCOVER_DOC,
            ),
        ),
        Blocker::Unconfirmed { ews_url, via } => {
            let summary = format!(
                "Autodiscover named the EWS URL {ews_url} only through {via}, so calconnect sent it no credentials: they go only to an EWS URL that the mailbox's own domain or its autodiscover host names directly over verified TLS (or Exchange Online names for itself). If it is your Exchange server's, run the test again with it as the EWS URL"
            );
            (
                summary.clone(),
                Fix {
                    problem: summary,
                    reaches: None,
                    changes: format!(
                        "runs the test against {ews_url} once you confirm it (--ews-url in the command line, \"Use this URL\" in the app)"
                    ),
                    command: None,
                    doc_url: crate::autodiscover::AUTODISCOVER_DOC.into(),
                },
            )
        }
        Blocker::NoChallenge { url, status } => {
            let summary = format!(
                "{url} answered HTTP {status} without asking for credentials (no WWW-Authenticate challenge), so calconnect sent it none. Exchange answers an anonymous EWS request with 401 and the authentication schemes of its EWS virtual directory: check that this is your Exchange server's EWS URL (…/EWS/Exchange.asmx) and that no proxy in between answers in its place"
            );
            (summary.clone(), plain(summary, AUTHENTICATION_DOC))
        }
        Blocker::Tls(problem) => (
            format!("The EWS host's certificate is not acceptable: {problem}"),
            plain(problem.to_string(), crate::tls::TLS_DOC),
        ),
        Blocker::Unreachable(detail) => (
            format!("The EWS host did not answer: {detail}"),
            plain(detail.clone(), AUTHENTICATION_DOC),
        ),
        Blocker::Proxy(problem) => (
            format!(
                "The test could not reach Exchange through the proxy: {}",
                problem.message()
            ),
            plain(problem.next_step(), crate::tls::PROXY_DOC),
        ),
        Blocker::Token(detail) => (
            format!("Microsoft Entra refused the app's token request: {detail}"),
            plain(
                "the client credentials token request failed".into(),
                EXO_OAUTH_DOC,
            ),
        ),
        Blocker::SchemeNotOffered { needed, offered } => {
            scheme_not_offered(needed, offered, shared)
        }
        Blocker::Unauthorized {
            scheme,
            basic_refused_too,
        } => unauthorized(scheme, *basic_refused_too, shared),
        Blocker::Forbidden(detail) => forbidden(detail, shared),
        Blocker::AllowListUndetermined(detail) => {
            let app = quote(&shared.service_account);
            let summary = format!(
                "Exchange Online refused the app (HTTP 403) and did not answer a request naming no mailbox ({detail}): check both the EWS allow list and the app's RBAC scope"
            );
            (
                summary.clone(),
                Fix {
                    problem: summary,
                    reaches: None,
                    changes: "changes nothing: shows whether EWS is on and which app ids it allows, then what RBAC for Applications grants the app".into(),
                    command: Some(format!(
                        "Get-OrganizationConfig -RetrieveEwsOperationAccessPolicy | Format-List EwsEnabled,EwsAllowedAppIDs; Test-ServicePrincipalAuthorization -Identity {app}"
                    )),
                    doc_url: APPLICATION_RBAC_DOC.into(),
                },
            )
        }
        Blocker::Throttled(detail) => (
            format!("Exchange kept throttling the service account: {detail}"),
            plain(
                "ErrorServerBusy after backing off".into(),
                ResponseCode::ErrorServerBusy.doc_url(),
            ),
        ),
    }
}

fn basic_off_in_exchange_online(shared: &Observations) -> (String, Fix) {
    let summary = format!(
        "Exchange Online turned Basic authentication for EWS off: the password of {} cannot sign in there, and nothing on the tenant turns it back on. Use an app registration with client credentials (app-only), granted EWS access with RBAC for Applications",
        shared.service_account
    );
    (
        summary.clone(),
        Fix {
            problem: summary,
            reaches: None,
            changes: "run this test again with --client-id, --tenant-id and the app's secret"
                .into(),
            command: None,
            doc_url: BASIC_AUTH_DOC.into(),
        },
    )
}

fn scheme_not_offered(needed: &str, offered: &[String], shared: &Observations) -> (String, Fix) {
    let password = needed == "Basic";
    if password && shared.exchange_online {
        return basic_off_in_exchange_online(shared);
    }
    let offered_text = if offered.is_empty() {
        "nothing".to_owned()
    } else {
        offered.join(", ")
    };
    let only_negotiate = !offered.is_empty() && offered.iter().all(|scheme| scheme == "Negotiate");
    let summary = if password && only_negotiate {
        format!("Basic authentication is disabled on this server and NTLM is not offered; it offers {offered_text} (Kerberos), which this tool recognises but does not support")
    } else if password {
        format!(
            "Basic authentication is disabled on this server and NTLM is not offered either (it offers {offered_text})"
        )
    } else {
        format!("The server does not accept {needed} tokens (it offers {offered_text})")
    };
    // Windows authentication (NTLM) rather than Basic: the password then never crosses the wire. When the
    // server already offers Negotiate, Windows authentication is on and only its NTLM provider is missing,
    // so turning it on would change nothing: the command lists the providers instead.
    let (command, changes) = if password && only_negotiate {
        (
            Some(format!("Import-Module WebAdministration; Get-WebConfigurationProperty -PSPath 'IIS:\\' -Filter 'system.webServer/security/authentication/windowsAuthentication/providers' -Location '{EWS_FRONT_END}' -Name Collection")),
            "changes nothing: lists the Windows authentication providers of the EWS virtual directory on that server; NTLM is missing from them (or a proxy rewrites WWW-Authenticate)".to_owned(),
        )
    } else if password {
        (
            Some("Set-WebServicesVirtualDirectory -Identity \"<server>\\EWS (Default Web Site)\" -WindowsAuthentication $true".to_owned()),
            "turns Windows authentication (NTLM, Negotiate) on for the EWS virtual directory of that server (replace <server> with its name)".to_owned(),
        )
    } else {
        (None, String::new())
    };
    (
        summary.clone(),
        Fix {
            problem: summary,
            reaches: None,
            changes,
            command,
            doc_url: if password {
                WEB_SERVICES_DIRECTORY_DOC.into()
            } else {
                AUTHENTICATION_DOC.into()
            },
        },
    )
}

fn unauthorized(scheme: &str, basic_refused_too: bool, shared: &Observations) -> (String, Fix) {
    let account = &shared.service_account;
    if shared.app_credentials {
        let problem = "Exchange refused the app's token (HTTP 401): the app may hold no EWS permission (full_access_as_app with admin consent, or an RBAC for Applications assignment of Application EWS.AccessAsApp)".to_owned();
        return (
            problem.clone(),
            Fix {
                problem,
                reaches: None,
                changes: "changes nothing: lists the RBAC for Applications roles the app holds and their scopes".into(),
                command: Some(format!(
                    "Test-ServicePrincipalAuthorization -Identity {}",
                    quote(&shared.service_account)
                )),
                doc_url: APPLICATION_RBAC_DOC.into(),
            },
        );
    }
    if shared.exchange_online {
        return basic_off_in_exchange_online(shared);
    }
    if scheme == "NTLM" && !basic_refused_too {
        // Basic was not offered, so nothing tells a wrong password from a channel-binding mismatch.
        let problem = format!(
            "Exchange refused {account} with NTLM (HTTP 401): a wrong user name or password, a locked or disabled account — or, when Extended Protection is on for EWS, a device between this machine and Exchange that terminates TLS so the channel binding does not match"
        );
        return (
            problem.clone(),
            Fix {
                problem,
                reaches: None,
                changes: "changes nothing: check the user name format (UPN or DOMAIN\\user) and the password, then list the Extended Protection setting of each virtual directory (Exchange Management Shell, Microsoft's CSS-Exchange script)".into(),
                command: Some(EXTENDED_PROTECTION_CHECK.into()),
                doc_url: EXTENDED_PROTECTION_DOC.into(),
            },
        );
    }
    let refused = if basic_refused_too {
        "with NTLM and with Basic"
    } else {
        "with Basic"
    };
    let problem = format!(
        "Exchange refused the password of {account} {refused} (HTTP 401): check the user name format (UPN or DOMAIN\\user), the password and that the account is not locked or disabled"
    );
    (problem.clone(), plain(problem, AUTHENTICATION_DOC))
}

/// HTTP 403 on authenticated EWS requests, also without naming a mailbox. In Exchange Online after
/// 2026-10-01 that is the EWS allow list (the exact response is undocumented: facts §0); elsewhere an IIS
/// or proxy rule.
fn forbidden(detail: &str, shared: &Observations) -> (String, Fix) {
    let app = &shared.service_account;
    if shared.exchange_online && shared.today >= date(EXO_EWS_SHUTDOWN_ON) {
        let summary = "EWS is turned off in Exchange Online since April 2027 (HTTP 403): no allow list helps any more; the vendor must use Microsoft Graph".to_owned();
        return (summary.clone(), plain(summary, EWS_RETIREMENT_DOC));
    }
    if shared.exchange_online && shared.app_credentials {
        let since = if shared.today >= date(EXO_EWS_ALLOW_LIST_FROM) {
            "since October 2026"
        } else {
            "by the organisation's EWS settings"
        };
        let summary = format!(
            "EWS is blocked for app {app} in Exchange Online {since}: the organisation's EwsAllowedAppIDs must let it in (the command reads the list first and keeps the ids already on it; changes can take up to 24 hours), and plan for April 2027, when Microsoft turns EWS off for good"
        );
        let mut fix = fixes::allow_list(app, detail);
        fix.changes.push_str(&format!(
            ". If it still fails a day later, check the app's RBAC scope: Test-ServicePrincipalAuthorization -Identity {} ({APPLICATION_RBAC_DOC})",
            quote(app)
        ));
        return (summary, fix);
    }
    let summary = format!("Exchange refused EWS to {app} (HTTP 403): {detail}");
    (summary.clone(), plain(summary, AUTHENTICATION_DOC))
}
