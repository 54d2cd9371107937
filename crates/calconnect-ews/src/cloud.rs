//! The Microsoft cloud an Exchange Online app-only token comes from: its identity platform host and the
//! Exchange resource whose `.default` scope the client-credentials grant asks for ("Authenticate an EWS
//! application by using OAuth"), which is also the host of its EWS endpoint (`{resource}EWS/Exchange.asmx`).
//!
//! Sources for the hosts:
//! - Worldwide, which GCC (moderate) tenants use too: `Connect-ExchangeOnline` says "Microsoft 365 or
//!   Microsoft 365 GCC: ... `https://outlook.office365.com/powershell-liveid/`, ... `O365Default`"
//!   (<https://learn.microsoft.com/powershell/module/exchange/connect-exchangeonline>).
//! - GCC High: `outlook.office365.us` is the Exchange Online endpoint of "Office 365 U.S. Government GCC
//!   High endpoints" (<https://learn.microsoft.com/microsoft-365/enterprise/microsoft-365-u-s-government-gcc-high-endpoints>)
//!   and `Connect-ExchangeOnline`'s GCC High value; sign-in at `login.microsoftonline.us` for GCC High and
//!   DoD alike (same page, `AzureADAuthorizationEndpointUri`).
//! - DoD: "Office 365 U.S. Government DoD endpoints" lists Exchange Online at `outlook-dod.office365.us` and
//!   `webmail.apps.mil` (<https://learn.microsoft.com/microsoft-365/enterprise/microsoft-365-u-s-government-dod-endpoints>);
//!   Microsoft's CSS-Exchange scripts use `https://outlook-dod.office365.us` as the DoD ("USGovernmentL5")
//!   Exchange Online endpoint, with EWS at `{it}/EWS/Exchange.asmx` and the token scope `{it}/.default`
//!   (github.com/microsoft/CSS-Exchange, `Shared/AzureFunctions/Get-CloudServiceEndpoint.ps1`, used by
//!   `Security/src/CVE-2023-23397/CVE-2023-23397.ps1`). `webmail.apps.mil` is DoD's own name for the same
//!   service (`Connect-ExchangeOnline`'s DoD value `https://webmail.apps.mil/powershell-liveid`), so it
//!   counts as an Exchange Online host; tokens are asked for `outlook-dod.office365.us` as CSS-Exchange
//!   does (whether Entra also issues them for a `webmail.apps.mil` resource is not documented).
//! - China: `partner.outlook.cn` and `login.chinacloudapi.cn` ("Microsoft Graph national cloud deployments",
//!   <https://learn.microsoft.com/graph/deployments>, for the sign-in host; `Connect-ExchangeOnline` for
//!   Exchange).

use calconnect_identity::Cloud;
use url::Url;

const GLOBAL_LOGIN: &str = "https://login.microsoftonline.com/";
const GLOBAL_EXCHANGE: &str = "https://outlook.office365.com/";
const US_GOVERNMENT_LOGIN: &str = "https://login.microsoftonline.us/";
const US_GOVERNMENT_EXCHANGE: &str = "https://outlook.office365.us/";
const US_GOVERNMENT_DOD_EXCHANGE: &str = "https://outlook-dod.office365.us/";
const CHINA_LOGIN: &str = "https://login.chinacloudapi.cn/";
const CHINA_EXCHANGE: &str = "https://partner.outlook.cn/";

/// Host names Exchange Online's EWS answers on, in every cloud (see the module docs for the sources):
/// worldwide (`outlook.office.com` is an older name of the same service), GCC High, DoD (both its names),
/// 21Vianet, and Office 365 Germany's retired `outlook.office.de`.
pub const EXCHANGE_ONLINE_HOSTS: [&str; 7] = [
    "outlook.office365.com",
    "outlook.office.com",
    "outlook.office365.us",
    "outlook-dod.office365.us",
    "webmail.apps.mil",
    "partner.outlook.cn",
    "outlook.office.de",
];

/// Whether `host` is Exchange Online's (any cloud's) rather than an on-premises server: one of
/// [`EXCHANGE_ONLINE_HOSTS`] or a worldwide `*.office365.com` name, case-insensitively.
pub fn is_exchange_online_host(host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    EXCHANGE_ONLINE_HOSTS.contains(&host.as_str()) || host.ends_with(".office365.com")
}

/// Identity platform host and Exchange Online resource of one cloud.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExchangeCloud {
    authority_host: Url,
    resource: Url,
}

impl ExchangeCloud {
    /// Microsoft 365 worldwide: `login.microsoftonline.com`, `outlook.office365.com`.
    pub fn global() -> Self {
        Self::fixed(GLOBAL_LOGIN, GLOBAL_EXCHANGE)
    }

    /// Microsoft 365 US Government GCC High: `login.microsoftonline.us`, `outlook.office365.us`.
    pub fn us_government() -> Self {
        Self::fixed(US_GOVERNMENT_LOGIN, US_GOVERNMENT_EXCHANGE)
    }

    /// Microsoft 365 US Government DoD: `login.microsoftonline.us`, `outlook-dod.office365.us`.
    pub fn us_government_dod() -> Self {
        Self::fixed(US_GOVERNMENT_LOGIN, US_GOVERNMENT_DOD_EXCHANGE)
    }

    /// Microsoft 365 operated by 21Vianet: `login.chinacloudapi.cn`, `partner.outlook.cn`.
    pub fn china() -> Self {
        Self::fixed(CHINA_LOGIN, CHINA_EXCHANGE)
    }

    /// The Exchange Online of an identity platform cloud preset (GCC moderate is [`Cloud::Global`]).
    pub fn for_cloud(cloud: Cloud) -> Self {
        match cloud {
            Cloud::Global => Self::global(),
            Cloud::UsGovernment => Self::us_government(),
            Cloud::UsGovernmentDod => Self::us_government_dod(),
            Cloud::China => Self::china(),
        }
    }

    /// An emulator's identity platform (e.g. the sandbox's base URL) issuing worldwide Exchange tokens.
    pub fn emulator(authority_host: Url) -> Self {
        Self {
            authority_host,
            resource: Self::global().resource,
        }
    }

    fn fixed(login: &str, exchange: &str) -> Self {
        Self {
            authority_host: Url::parse(login).expect("cloud login URLs are valid"),
            resource: Url::parse(exchange).expect("cloud Exchange URLs are valid"),
        }
    }

    /// The identity platform host, e.g. `https://login.microsoftonline.com/`.
    pub fn authority_host(&self) -> &Url {
        &self.authority_host
    }

    /// The Exchange Online resource, e.g. `https://outlook.office365.com/`.
    pub fn resource(&self) -> &Url {
        &self.resource
    }

    /// The scope of app-only EWS tokens: `{resource}/.default`.
    pub fn scope(&self) -> String {
        format!("{}.default", self.resource)
    }

    /// This cloud's EWS endpoint, `{resource}EWS/Exchange.asmx` (Autodiscover finds the same for its mailboxes).
    pub fn ews_url(&self) -> Url {
        self.resource
            .join("EWS/Exchange.asmx")
            .expect("an https resource URL joins a relative path")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_preset_signs_in_at_its_cloud_and_asks_its_own_exchange_for_a_token() {
        let expected = [
            (
                Cloud::Global,
                "https://login.microsoftonline.com/",
                "https://outlook.office365.com/.default",
                "https://outlook.office365.com/EWS/Exchange.asmx",
            ),
            (
                Cloud::UsGovernment,
                "https://login.microsoftonline.us/",
                "https://outlook.office365.us/.default",
                "https://outlook.office365.us/EWS/Exchange.asmx",
            ),
            (
                Cloud::UsGovernmentDod,
                "https://login.microsoftonline.us/",
                "https://outlook-dod.office365.us/.default",
                "https://outlook-dod.office365.us/EWS/Exchange.asmx",
            ),
            (
                Cloud::China,
                "https://login.chinacloudapi.cn/",
                "https://partner.outlook.cn/.default",
                "https://partner.outlook.cn/EWS/Exchange.asmx",
            ),
        ];
        for (cloud, login, scope, ews) in expected {
            let exchange = ExchangeCloud::for_cloud(cloud);
            assert_eq!(exchange.authority_host().as_str(), login, "{cloud}");
            assert_eq!(exchange.scope(), scope, "{cloud}");
            assert_eq!(exchange.ews_url().as_str(), ews, "{cloud}");
            assert!(
                is_exchange_online_host(exchange.resource().host_str().unwrap()),
                "{cloud}"
            );
        }
        assert_eq!(
            ExchangeCloud::us_government_dod(),
            ExchangeCloud::for_cloud(Cloud::UsGovernmentDod)
        );
        // GCC (moderate) is the worldwide cloud.
        assert_eq!(
            ExchangeCloud::for_cloud("gcc".parse().unwrap()),
            ExchangeCloud::global()
        );
    }

    #[test]
    fn exchange_online_hosts_of_every_cloud_are_recognised_and_on_premises_ones_are_not() {
        for host in [
            "outlook.office365.com",
            "OUTLOOK.OFFICE365.US",
            "outlook-dod.office365.us",
            "webmail.apps.mil",
            "partner.outlook.cn",
            "outlook.office365.com.",
            "eur.outlook.office365.com",
        ] {
            assert!(is_exchange_online_host(host), "{host}");
        }
        for host in [
            "mail.contoso.com",
            "localhost",
            "office365.us.contoso.com",
            "apps.mil",
        ] {
            assert!(!is_exchange_online_host(host), "{host}");
        }
    }

    #[test]
    fn an_emulator_issues_worldwide_exchange_tokens() {
        let cloud = ExchangeCloud::emulator(Url::parse("https://127.0.0.1:4431/").unwrap());
        assert_eq!(cloud.authority_host().as_str(), "https://127.0.0.1:4431/");
        assert_eq!(cloud.scope(), "https://outlook.office365.com/.default");
    }
}
