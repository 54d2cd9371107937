//! The Microsoft cloud an Exchange Online app-only token comes from: its identity platform host and the
//! Exchange resource whose `.default` scope the client-credentials grant asks for ("Authenticate an EWS
//! application by using OAuth"; "National clouds" lists the hosts per cloud).

use url::Url;

const GLOBAL_LOGIN: &str = "https://login.microsoftonline.com/";
const GLOBAL_EXCHANGE: &str = "https://outlook.office365.com/";
const US_GOVERNMENT_LOGIN: &str = "https://login.microsoftonline.us/";
const US_GOVERNMENT_EXCHANGE: &str = "https://outlook.office365.us/";
const CHINA_LOGIN: &str = "https://login.chinacloudapi.cn/";
const CHINA_EXCHANGE: &str = "https://partner.outlook.cn/";

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

    /// Microsoft 365 US Government (GCC High): `login.microsoftonline.us`, `outlook.office365.us`.
    pub fn us_government() -> Self {
        Self::fixed(US_GOVERNMENT_LOGIN, US_GOVERNMENT_EXCHANGE)
    }

    /// Microsoft 365 operated by 21Vianet: `login.chinacloudapi.cn`, `partner.outlook.cn`.
    pub fn china() -> Self {
        Self::fixed(CHINA_LOGIN, CHINA_EXCHANGE)
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_cloud_asks_its_own_exchange_for_a_default_scope_token() {
        assert_eq!(
            ExchangeCloud::global().scope(),
            "https://outlook.office365.com/.default"
        );
        assert_eq!(
            ExchangeCloud::us_government().scope(),
            "https://outlook.office365.us/.default"
        );
        assert_eq!(
            ExchangeCloud::china().authority_host().as_str(),
            "https://login.chinacloudapi.cn/"
        );
        assert_eq!(
            ExchangeCloud::china().scope(),
            "https://partner.outlook.cn/.default"
        );
    }

    #[test]
    fn an_emulator_issues_worldwide_exchange_tokens() {
        let cloud = ExchangeCloud::emulator(Url::parse("https://127.0.0.1:4431/").unwrap());
        assert_eq!(cloud.authority_host().as_str(), "https://127.0.0.1:4431/");
        assert_eq!(cloud.scope(), "https://outlook.office365.com/.default");
    }
}
