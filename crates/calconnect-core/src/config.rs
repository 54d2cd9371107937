//! Configuration: which cloud (or custom authority), which tenant, which app registrations.
//!
//! Stored as TOML under the platform's config directory (`directories`), e.g.
//! `~/.config/calconnect/config.toml` on Linux. No secrets live here.

use std::path::{Path, PathBuf};

use calconnect_identity::{AppKind, AppRegistration, Authority, Cloud, RegisteredRedirect};
use serde::{Deserialize, Serialize};
use url::Url;

use crate::error::{Error, Result};
use crate::shared_file::SharedFile;

/// The default tenant: work or school accounts of any organisation. Personal Microsoft accounts cannot
/// use getSchedule (Graph permissions reference), so `common` is opt-in.
pub const DEFAULT_TENANT: &str = "organizations";

/// Where calconnect signs in and which apps it uses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// `global` (default; GCC tenants too), `usgov` (GCC High; `gcc-high` also reads), `usgov-dod` (DoD;
    /// `dod` also reads) or `china`; ignored when `authority` is set.
    pub cloud: Cloud,
    /// A custom authority base URL (for example the sandbox); its Graph root is `graph`, or the same base.
    pub authority: Option<Url>,
    /// The Graph root without a version (`https://graph.microsoft.com/`); calconnect adds `v1.0/`.
    pub graph: Option<Url>,
    /// `organizations` (default), `common`, `consumers`, a tenant id or a domain.
    pub tenant: String,
    /// Client id of your Full app registration (`User.Read Calendars.ReadWrite offline_access`).
    pub full_client_id: Option<String>,
    /// Client id of your Free/Busy app registration (`Calendars.ReadBasic User.Read offline_access`).
    pub freebusy_client_id: Option<String>,
    /// Client id of your Teams conferencing app registration (`User.Read OnlineMeetings.ReadWrite
    /// offline_access`): meeting links, no calendar access.
    pub teams_client_id: Option<String>,
    /// The loopback redirect URI your app registrations list as "Mobile and desktop applications"
    /// (default `http://localhost`); calconnect sends it with the port it listens on added.
    pub redirect_uri: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            cloud: Cloud::Global,
            authority: None,
            graph: None,
            tenant: DEFAULT_TENANT.to_owned(),
            full_client_id: None,
            freebusy_client_id: None,
            teams_client_id: None,
            redirect_uri: None,
        }
    }
}

/// The Graph API version every request uses.
pub const GRAPH_VERSION: &str = "v1.0/";

/// The base URLs every network call is made against (Architecture Invariant: no literal URL in a function body).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    pub authority: Authority,
    /// Where Graph requests go: the Graph root plus [`GRAPH_VERSION`], e.g. `https://graph.microsoft.com/v1.0/`.
    pub graph: Url,
    /// The resource that qualifies Graph scopes in an admin-consent link (`https://graph.microsoft.com/User.Read`).
    /// A custom authority (the sandbox) emulates the cloud's Graph, so it keeps the cloud's resource.
    pub graph_resource: Url,
}

impl Config {
    /// `config.toml` in the platform's config directory.
    pub fn default_path() -> Result<PathBuf> {
        Ok(project_dirs()?.config_dir().join("config.toml"))
    }

    /// Reads the file at `path`; a missing file is the default configuration.
    pub fn load(path: &Path) -> Result<Self> {
        let bytes = SharedFile::new(path.to_owned()).read()?;
        Self::parse(path, bytes.as_deref())
    }

    /// Changes the configuration at `path` as it is in the file now, under the lock the app and the CLI
    /// share ([`crate::shared_file`]), and returns what was saved. Blocks while another calconnect saves.
    pub fn update(path: &Path, change: impl FnOnce(&mut Self)) -> Result<Self> {
        SharedFile::new(path.to_owned()).update(|current| {
            let mut config = Self::parse(path, current)?;
            change(&mut config);
            let text = toml::to_string_pretty(&config).map_err(|error| Error::ConfigInvalid {
                path: path.to_owned(),
                reason: error.to_string(),
            })?;
            Ok((text.into_bytes(), config))
        })
    }

    fn parse(path: &Path, bytes: Option<&[u8]>) -> Result<Self> {
        let Some(bytes) = bytes else {
            return Ok(Self::default());
        };
        let text = std::str::from_utf8(bytes).map_err(|error| Error::ConfigInvalid {
            path: path.to_owned(),
            reason: error.to_string(),
        })?;
        toml::from_str(text).map_err(|error| Error::ConfigInvalid {
            path: path.to_owned(),
            reason: error.to_string(),
        })
    }

    pub fn endpoints(&self) -> Result<Endpoints> {
        let (base, default_graph) = match &self.authority {
            Some(base) => (base.clone(), base.clone()),
            None => (self.cloud.login_base(), self.cloud.graph_base()),
        };
        let authority = Authority::new(base, self.tenant.clone())?;
        let mut root = self.graph.clone().unwrap_or(default_graph);
        calconnect_identity::ensure_secure_url(&root)?;
        if !root.path().ends_with('/') {
            root.set_path(&format!("{}/", root.path()));
        }
        // ensure_secure_url admitted only http(s) URLs, which always accept a relative path.
        let graph = root
            .join(GRAPH_VERSION)
            .expect("an http(s) URL joins a relative path");
        Ok(Endpoints {
            authority,
            graph,
            graph_resource: self.cloud.graph_base(),
        })
    }

    /// The registered loopback redirect URI ([`Config::redirect_uri`], or `http://localhost`).
    pub fn redirect(&self) -> Result<RegisteredRedirect> {
        let uri = self
            .redirect_uri
            .as_deref()
            .filter(|uri| !uri.trim().is_empty())
            .unwrap_or(calconnect_identity::DEFAULT_REDIRECT_URI);
        Ok(RegisteredRedirect::parse(uri)?)
    }

    pub fn client_id(&self, app: AppKind) -> Option<&str> {
        match app {
            AppKind::Full => self.full_client_id.as_deref(),
            AppKind::FreeBusy => self.freebusy_client_id.as_deref(),
            AppKind::Teams => self.teams_client_id.as_deref(),
        }
        .filter(|id| !id.trim().is_empty())
    }

    pub fn app(&self, app: AppKind) -> Result<AppRegistration> {
        self.client_id(app)
            .map(|id| AppRegistration::new(app, id))
            .ok_or(Error::ClientIdMissing { app })
    }
}

pub(crate) fn project_dirs() -> Result<directories::ProjectDirs> {
    directories::ProjectDirs::from("", "", "calconnect").ok_or(Error::NoHomeDirectory)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_file_is_the_documented_default() {
        let directory = tempfile::tempdir().unwrap();
        let config = Config::load(&directory.path().join("absent.toml")).unwrap();
        assert_eq!(config.tenant, "organizations");
        let endpoints = config.endpoints().unwrap();
        assert_eq!(
            endpoints.graph.as_str(),
            "https://graph.microsoft.com/v1.0/"
        );
        assert_eq!(
            endpoints.graph_resource.as_str(),
            "https://graph.microsoft.com/"
        );
    }

    #[test]
    fn a_custom_graph_root_gets_the_version_and_keeps_the_clouds_resource() {
        let config = Config {
            authority: Some(Url::parse("https://127.0.0.1:4443/").unwrap()),
            graph: Some(Url::parse("https://127.0.0.1:4443/graph").unwrap()),
            ..Config::default()
        };
        let endpoints = config.endpoints().unwrap();
        assert_eq!(
            endpoints.graph.as_str(),
            "https://127.0.0.1:4443/graph/v1.0/"
        );
        assert_eq!(
            endpoints.graph_resource.as_str(),
            "https://graph.microsoft.com/"
        );
    }

    #[test]
    fn each_change_to_the_config_keeps_the_ones_saved_before() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("config.toml");
        Config::update(&path, |config| {
            config.cloud = Cloud::UsGovernment;
            config.tenant = "contoso.com".into();
        })
        .unwrap();
        let saved =
            Config::update(&path, |config| config.full_client_id = Some("f".into())).unwrap();
        let config = Config {
            cloud: Cloud::UsGovernment,
            tenant: "contoso.com".into(),
            full_client_id: Some("f".into()),
            ..Config::default()
        };
        assert_eq!(saved, config);
        assert_eq!(Config::load(&path).unwrap(), config);
        assert_eq!(
            config.endpoints().unwrap().authority.url().as_str(),
            "https://login.microsoftonline.us/contoso.com/v2.0"
        );
    }

    #[test]
    fn dod_signs_in_at_the_us_government_authority_and_reads_dod_graph() {
        let config: Config = toml::from_str("cloud = \"dod\"\ntenant = \"army.mil\"").unwrap();
        assert_eq!(config.cloud, Cloud::UsGovernmentDod);
        let endpoints = config.endpoints().unwrap();
        assert_eq!(
            endpoints.authority.url().as_str(),
            "https://login.microsoftonline.us/army.mil/v2.0"
        );
        assert_eq!(
            endpoints.graph.as_str(),
            "https://dod-graph.microsoft.us/v1.0/"
        );
        assert_eq!(
            endpoints.graph_resource.as_str(),
            "https://dod-graph.microsoft.us/"
        );
        // GCC High keeps its old spelling, and reads graph.microsoft.us.
        let gcc_high: Config = toml::from_str("cloud = \"usgov\"").unwrap();
        assert_eq!(
            gcc_high.endpoints().unwrap().graph.as_str(),
            "https://graph.microsoft.us/v1.0/"
        );
    }

    #[test]
    fn the_redirect_uri_defaults_to_localhost_and_a_bad_one_is_a_configuration_error() {
        assert_eq!(
            Config::default().redirect().unwrap().with_port(5),
            "http://localhost:5"
        );
        let config: Config =
            toml::from_str("redirect_uri = \"http://localhost/calconnect\"").unwrap();
        assert_eq!(
            config.redirect().unwrap().with_port(5),
            "http://localhost:5/calconnect"
        );
        let wrong = Config {
            redirect_uri: Some(
                "https://login.microsoftonline.com/common/oauth2/nativeclient".into(),
            ),
            ..Config::default()
        };
        let error = wrong.redirect().unwrap_err();
        assert_eq!(error.kind(), crate::ErrorKind::Configuration, "{error:?}");
    }

    #[test]
    fn a_missing_client_id_is_a_configuration_error_naming_the_app() {
        let error = Config::default().app(AppKind::FreeBusy).unwrap_err();
        assert!(error.to_string().contains("freebusy"), "{error}");
    }
}
