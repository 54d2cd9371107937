//! Where to sign in: an authority base URL plus a tenant, with presets for Microsoft's national clouds.

use serde::{Deserialize, Serialize};
use url::Url;

use crate::error::{Error, Result};
use crate::http::ensure_secure_url;

/// A Microsoft cloud with its sign-in host and Graph root, from "Microsoft Graph national cloud deployments"
/// (<https://learn.microsoft.com/graph/deployments>): GCC (moderate) tenants "continue using the worldwide
/// endpoints"; GCC High uses `login.microsoftonline.us` + `graph.microsoft.us`; DoD uses
/// `login.microsoftonline.us` + `dod-graph.microsoft.us`. Tokens of one cloud are not accepted by another.
///
/// Config files spell them `global`, `usgov` (GCC High), `usgov-dod` and `china`; [`Cloud::parse`] also takes
/// `gcc-high`, `dod`, `us-gov-dod` and the like, and `gcc`, which is the worldwide cloud.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cloud {
    /// Microsoft 365 worldwide (commercial), which also serves GCC (moderate) tenants.
    Global,
    /// Microsoft 365 US Government GCC High.
    UsGovernment,
    /// Microsoft 365 US Government DoD.
    UsGovernmentDod,
    /// Microsoft 365 operated by 21Vianet in China.
    China,
}

/// The spellings an unknown cloud name is told about.
const EXPECTED_CLOUDS: &str = "expected global, gcc-high, dod or china; gcc is global";

/// What [`Cloud::parse`] says about `gcc`.
pub const GCC_NOTE: &str = "GCC (moderate) tenants use the worldwide Microsoft 365 endpoints, so `gcc` means `global`; GCC High and DoD are `gcc-high` and `dod`";

impl Cloud {
    /// Every cloud, worldwide first.
    pub const ALL: [Cloud; 4] = [
        Cloud::Global,
        Cloud::UsGovernment,
        Cloud::UsGovernmentDod,
        Cloud::China,
    ];

    pub fn login_base(self) -> Url {
        let base = match self {
            Self::Global => "https://login.microsoftonline.com/",
            Self::UsGovernment | Self::UsGovernmentDod => "https://login.microsoftonline.us/",
            Self::China => "https://login.chinacloudapi.cn/",
        };
        Url::parse(base).expect("cloud login URLs are valid")
    }

    pub fn graph_base(self) -> Url {
        let base = match self {
            Self::Global => "https://graph.microsoft.com/",
            Self::UsGovernment => "https://graph.microsoft.us/",
            Self::UsGovernmentDod => "https://dod-graph.microsoft.us/",
            Self::China => "https://microsoftgraph.chinacloudapi.cn/",
        };
        Url::parse(base).expect("cloud Graph URLs are valid")
    }

    /// The spelling config files and `--cloud` use: `global`, `usgov`, `usgov-dod` or `china`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Global => "global",
            Self::UsGovernment => "usgov",
            Self::UsGovernmentDod => "usgov-dod",
            Self::China => "china",
        }
    }

    /// The name a person sees, saying which US Government cloud is which and where GCC belongs.
    pub fn label(self) -> &'static str {
        match self {
            Self::Global => "Microsoft 365 worldwide (includes GCC)",
            Self::UsGovernment => "Microsoft 365 US Government GCC High",
            Self::UsGovernmentDod => "Microsoft 365 US Government DoD",
            Self::China => "Microsoft 365 China (operated by 21Vianet)",
        }
    }

    /// Reads a cloud name, case-insensitively and ignoring `-`, `_` and spaces: `global` (`worldwide`,
    /// `commercial`), `usgov` (`us-gov`, `gcc-high`, `usgov-high`), `usgov-dod` (`dod`, `us-gov-dod`),
    /// `china` (`21vianet`). `gcc` is the worldwide cloud and comes with [`GCC_NOTE`].
    pub fn parse(text: &str) -> std::result::Result<(Self, Option<&'static str>), String> {
        let key: String = text
            .chars()
            .filter(|c| !matches!(c, '-' | '_' | ' '))
            .flat_map(char::to_lowercase)
            .collect();
        let cloud = match key.as_str() {
            "gcc" | "gccmoderate" => return Ok((Self::Global, Some(GCC_NOTE))),
            "global" | "worldwide" | "commercial" => Self::Global,
            "usgov" | "usgovernment" | "gcchigh" | "usgovhigh" | "usgovgcchigh" => {
                Self::UsGovernment
            }
            "dod" | "usgovdod" | "usgovernmentdod" | "gccdod" => Self::UsGovernmentDod,
            "china" | "21vianet" | "china21vianet" => Self::China,
            _ => return Err(format!("unknown cloud `{text}` ({EXPECTED_CLOUDS})")),
        };
        Ok((cloud, None))
    }
}

impl std::fmt::Display for Cloud {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Written as [`Cloud::as_str`]; read with [`Cloud::parse`], so a config file takes every spelling `--cloud`
/// does (old files' `usgov` included).
impl Serialize for Cloud {
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Cloud {
    fn deserialize<D: serde::Deserializer<'de>>(
        deserializer: D,
    ) -> std::result::Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl std::str::FromStr for Cloud {
    type Err = String;

    /// [`Cloud::parse`] without its note.
    fn from_str(value: &str) -> std::result::Result<Self, Self::Err> {
        Self::parse(value).map(|(cloud, _)| cloud)
    }
}

/// An authority: `{base}{tenant}/v2.0` (Microsoft identity platform docs: "v2 protocols").
///
/// `tenant` is `common`, `organizations`, `consumers`, a tenant id or a verified domain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Authority {
    base: Url,
    tenant: String,
}

impl Authority {
    /// An authority at `base` (https, or http on loopback) for `tenant`.
    pub fn new(base: Url, tenant: impl Into<String>) -> Result<Self> {
        ensure_secure_url(&base)?;
        let mut base = base;
        if base.query().is_some() || base.fragment().is_some() || base.cannot_be_a_base() {
            return Err(Error::InvalidAuthority {
                url: base.to_string(),
                reason: "an authority base URL has no query or fragment".into(),
            });
        }
        // Joining relative paths needs the trailing slash, and users often leave it off.
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        let tenant = tenant.into();
        let tenant_is_valid = !tenant.is_empty()
            && tenant.len() <= 253
            && tenant
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
            && !tenant.starts_with('.');
        if !tenant_is_valid {
            return Err(Error::InvalidAuthority {
                url: base.to_string(),
                reason: format!("`{tenant}` is not a tenant (use common, organizations, consumers, a tenant id or a domain)"),
            });
        }
        Ok(Self { base, tenant })
    }

    pub fn for_cloud(cloud: Cloud, tenant: impl Into<String>) -> Result<Self> {
        Self::new(cloud.login_base(), tenant)
    }

    pub fn base(&self) -> &Url {
        &self.base
    }

    pub fn tenant(&self) -> &str {
        &self.tenant
    }

    /// Whether the tenant is one of the multi-tenant aliases rather than a specific directory.
    pub fn is_multi_tenant(&self) -> bool {
        matches!(
            self.tenant.to_ascii_lowercase().as_str(),
            "common" | "organizations" | "consumers"
        )
    }

    /// `{base}{tenant}/v2.0`, the issuer prefix.
    pub fn url(&self) -> Url {
        self.join(&format!("{}/v2.0", self.tenant))
    }

    /// `{base}{tenant}/v2.0/.well-known/openid-configuration` (OpenID Connect Discovery 1.0 §4).
    pub fn discovery_url(&self) -> Url {
        self.join(&format!(
            "{}/v2.0/.well-known/openid-configuration",
            self.tenant
        ))
    }

    pub(crate) fn join(&self, path: &str) -> Url {
        self.base
            .join(path)
            .expect("tenant was validated as URL-safe")
    }
}

impl std::fmt::Display for Authority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.url())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discovery_url_is_under_the_tenant_and_v2() {
        let authority = Authority::for_cloud(Cloud::Global, "contoso.com").unwrap();
        assert_eq!(
            authority.discovery_url().as_str(),
            "https://login.microsoftonline.com/contoso.com/v2.0/.well-known/openid-configuration"
        );
    }

    #[test]
    fn a_base_url_without_trailing_slash_keeps_its_path() {
        let authority = Authority::new(
            Url::parse("http://127.0.0.1:9000/sandbox").unwrap(),
            "common",
        )
        .unwrap();
        assert_eq!(
            authority.url().as_str(),
            "http://127.0.0.1:9000/sandbox/common/v2.0"
        );
    }

    #[test]
    fn tenants_that_would_change_the_path_are_rejected() {
        for tenant in ["", "../x", "a/b", "a?b", ".hidden"] {
            assert!(
                Authority::for_cloud(Cloud::Global, tenant).is_err(),
                "{tenant:?} should be rejected"
            );
        }
    }

    #[test]
    fn plain_http_is_rejected_for_a_remote_authority() {
        let error =
            Authority::new(Url::parse("http://login.example.com/").unwrap(), "common").unwrap_err();
        assert!(matches!(error, Error::InsecureUrl { .. }));
    }

    #[test]
    fn each_preset_pairs_its_sign_in_host_with_its_graph_root() {
        let hosts = |cloud: Cloud| {
            (
                cloud.login_base().to_string(),
                cloud.graph_base().to_string(),
            )
        };
        let expected = [
            (
                Cloud::Global,
                "https://login.microsoftonline.com/",
                "https://graph.microsoft.com/",
            ),
            (
                Cloud::UsGovernment,
                "https://login.microsoftonline.us/",
                "https://graph.microsoft.us/",
            ),
            (
                Cloud::UsGovernmentDod,
                "https://login.microsoftonline.us/",
                "https://dod-graph.microsoft.us/",
            ),
            (
                Cloud::China,
                "https://login.chinacloudapi.cn/",
                "https://microsoftgraph.chinacloudapi.cn/",
            ),
        ];
        for (cloud, login, graph) in expected {
            assert_eq!(
                hosts(cloud),
                (login.to_owned(), graph.to_owned()),
                "{cloud}"
            );
        }
        assert_eq!(Cloud::ALL, expected.map(|(cloud, ..)| cloud));
    }

    #[test]
    fn old_and_new_spellings_parse_and_gcc_is_worldwide_with_a_note() {
        for (text, cloud) in [
            ("global", Cloud::Global),
            ("Worldwide", Cloud::Global),
            ("usgov", Cloud::UsGovernment),
            ("us-gov", Cloud::UsGovernment),
            ("usgovernment", Cloud::UsGovernment),
            ("gcc-high", Cloud::UsGovernment),
            ("GCCHigh", Cloud::UsGovernment),
            ("gcc_high", Cloud::UsGovernment),
            ("dod", Cloud::UsGovernmentDod),
            ("DoD", Cloud::UsGovernmentDod),
            ("us-gov-dod", Cloud::UsGovernmentDod),
            ("usgov-dod", Cloud::UsGovernmentDod),
            ("china", Cloud::China),
            ("21Vianet", Cloud::China),
        ] {
            assert_eq!(Cloud::parse(text), Ok((cloud, None)), "{text}");
            assert_eq!(text.parse::<Cloud>(), Ok(cloud), "{text}");
        }
        assert_eq!(Cloud::parse("gcc"), Ok((Cloud::Global, Some(GCC_NOTE))));
        assert_eq!("GCC".parse::<Cloud>(), Ok(Cloud::Global));
        let error = Cloud::parse("germany").unwrap_err();
        assert!(
            error.contains("germany") && error.contains("gcc-high"),
            "{error}"
        );
    }

    #[test]
    fn every_cloud_reads_back_its_own_spelling_from_toml_and_old_files_still_load() {
        #[derive(Debug, PartialEq, Serialize, Deserialize)]
        struct File {
            cloud: Cloud,
        }
        for cloud in Cloud::ALL {
            let text = toml::to_string(&File { cloud }).unwrap();
            assert_eq!(text.trim(), format!("cloud = \"{}\"", cloud.as_str()));
            assert_eq!(toml::from_str::<File>(&text).unwrap().cloud, cloud);
            assert_eq!(cloud.as_str().parse::<Cloud>(), Ok(cloud));
        }
        for (text, cloud) in [
            ("gcc-high", Cloud::UsGovernment),
            ("dod", Cloud::UsGovernmentDod),
            ("us-gov-dod", Cloud::UsGovernmentDod),
            ("gcc", Cloud::Global),
        ] {
            let file: File = toml::from_str(&format!("cloud = \"{text}\"")).unwrap();
            assert_eq!(file.cloud, cloud, "{text}");
        }
        let error = toml::from_str::<File>("cloud = \"germany\"").unwrap_err();
        assert!(
            error.to_string().contains("unknown cloud `germany`"),
            "{error}"
        );
    }

    #[test]
    fn labels_say_which_us_government_cloud_is_which() {
        assert!(Cloud::Global.label().contains("GCC"));
        assert!(Cloud::UsGovernment.label().contains("GCC High"));
        assert!(Cloud::UsGovernmentDod.label().contains("DoD"));
        assert!(Cloud::China.label().contains("21Vianet"));
    }
}
