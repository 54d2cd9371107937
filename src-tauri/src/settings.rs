//! The person's settings (cloud, tenant, client IDs), saved as TOML, and the core configuration they make.

use std::path::Path;

use calconnect_core::private_file::PrivateFileError;
use calconnect_core::shared_file::SharedFile;
use calconnect_core::{Config, DEFAULT_TENANT};
use calconnect_sandbox::demo;
use serde::{Deserialize, Serialize};
use url::Url;

use crate::config::Cloud;
use crate::error::{Error, Result};

/// What the Settings step edits. Holds no secret: public-client IDs are not secrets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Settings {
    pub cloud: Cloud,
    /// `organizations`, `common`, a tenant id or a verified domain.
    pub tenant: String,
    pub full_client_id: String,
    pub freebusy_client_id: String,
    /// The Teams conferencing app (`User.Read OnlineMeetings.ReadWrite offline_access`).
    pub teams_client_id: String,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            cloud: Cloud::Global,
            tenant: DEFAULT_TENANT.to_owned(),
            full_client_id: String::new(),
            freebusy_client_id: String::new(),
            teams_client_id: String::new(),
        }
    }
}

impl Settings {
    /// The saved settings; a missing file means the defaults.
    pub fn load(path: &Path) -> Result<Self> {
        let bytes = SharedFile::new(path.to_owned())
            .read()
            .map_err(|error| match error {
                PrivateFileError::Io { path, source } => Error::SettingsIo { path, source },
                other => Error::Core(other.into()),
            })?;
        Self::parse(path, bytes.as_deref())
    }

    /// Changes the settings as they are in the file now, under the lock the app and the CLI share
    /// (`calconnect_core::shared_file`), and returns what was saved. Blocks while another calconnect
    /// saves: call it off the async runtime.
    pub fn update(path: &Path, change: impl FnOnce(&mut Self)) -> Result<Self> {
        SharedFile::new(path.to_owned()).update(|current| {
            let mut settings = Self::parse(path, current)?;
            change(&mut settings);
            let text =
                toml::to_string_pretty(&settings).map_err(|error| Error::SettingsInvalid {
                    path: path.to_owned(),
                    reason: error.to_string(),
                })?;
            Ok((text.into_bytes(), settings))
        })
    }

    fn parse(path: &Path, bytes: Option<&[u8]>) -> Result<Self> {
        let Some(bytes) = bytes else {
            return Ok(Settings::default());
        };
        std::str::from_utf8(bytes)
            .map_err(|error| error.to_string())
            .and_then(|text| toml::from_str(text).map_err(|error| error.to_string()))
            .map_err(|reason| Error::SettingsInvalid {
                path: path.to_owned(),
                reason,
            })
    }

    /// Trims what a person typed; an empty tenant means the default.
    pub fn normalised(mut self) -> Self {
        self.tenant = self.tenant.trim().to_owned();
        if self.tenant.is_empty() {
            self.tenant = DEFAULT_TENANT.to_owned();
        }
        self.full_client_id = self.full_client_id.trim().to_owned();
        self.freebusy_client_id = self.freebusy_client_id.trim().to_owned();
        self.teams_client_id = self.teams_client_id.trim().to_owned();
        self
    }

    /// The first client ID that is filled in but is not an application (client) ID, as the label of its
    /// field. Entra gives every app a GUID; anything else (a display name, the object ID's label, a line
    /// of the registration commands' output pasted whole) would only fail later at sign-in, as AADSTS700016.
    pub fn misfilled_client_id(&self) -> Option<&'static str> {
        [
            (&self.full_client_id, "Client ID of the Full app"),
            (&self.freebusy_client_id, "Client ID of the Free/Busy app"),
            (
                &self.teams_client_id,
                "Client ID of the Teams conferencing app",
            ),
        ]
        .into_iter()
        .find(|(id, _)| {
            let id = id.trim();
            !id.is_empty() && !calconnect_core::admin_report::is_client_id(id)
        })
        .map(|(_, label)| label)
    }

    /// The fixed settings of the sandbox's demo tenant (its apps and domain are constants).
    pub fn sandbox() -> Self {
        Settings {
            cloud: Cloud::Sandbox,
            tenant: demo::DOMAIN.to_owned(),
            full_client_id: demo::FULL_APP_CLIENT_ID.to_owned(),
            freebusy_client_id: demo::FREEBUSY_APP_CLIENT_ID.to_owned(),
            teams_client_id: demo::TEAMS_APP_CLIENT_ID.to_owned(),
        }
    }

    /// The core configuration: a national cloud's hosts, or the sandbox at `sandbox_base`.
    pub fn core_config(&self, sandbox_base: Option<&Url>) -> Config {
        let optional = |id: &str| (!id.is_empty()).then(|| id.to_owned());
        let mut config = Config {
            tenant: self.tenant.clone(),
            full_client_id: optional(&self.full_client_id),
            freebusy_client_id: optional(&self.freebusy_client_id),
            teams_client_id: optional(&self.teams_client_id),
            ..Config::default()
        };
        match (self.cloud.national(), sandbox_base) {
            (Some(cloud), _) => config.cloud = cloud,
            (None, Some(base)) => {
                config.authority = Some(base.clone());
                config.graph = Some(base.clone());
            }
            (None, None) => {}
        }
        config
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saved_settings_load_back_and_a_missing_file_is_the_default() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/settings.toml");
        assert_eq!(Settings::load(&path).unwrap(), Settings::default());
        let settings = Settings {
            cloud: Cloud::UsGovernment,
            tenant: "contoso.com".into(),
            full_client_id: "f".into(),
            freebusy_client_id: String::new(),
            teams_client_id: "t".into(),
        };
        let saved = Settings::update(&path, |saved| *saved = settings.clone()).unwrap();
        assert_eq!(saved, settings);
        assert_eq!(Settings::load(&path).unwrap(), settings);
        // A later change starts from the file, keeping what it does not touch.
        Settings::update(&path, |saved| saved.freebusy_client_id = "b".into()).unwrap();
        assert_eq!(
            Settings::load(&path).unwrap(),
            Settings {
                freebusy_client_id: "b".into(),
                ..settings
            }
        );
    }

    #[test]
    fn a_national_cloud_uses_its_own_hosts() {
        let settings = Settings {
            cloud: Cloud::China,
            ..Settings::default()
        };
        let endpoints = settings.core_config(None).endpoints().unwrap();
        assert_eq!(
            endpoints.graph.as_str(),
            "https://microsoftgraph.chinacloudapi.cn/v1.0/"
        );
        assert_eq!(
            endpoints.graph_resource.as_str(),
            "https://microsoftgraph.chinacloudapi.cn/"
        );
    }

    #[test]
    fn dod_and_gcc_high_are_separate_presets() {
        let endpoints = |cloud| {
            Settings {
                cloud,
                ..Settings::default()
            }
            .core_config(None)
            .endpoints()
            .unwrap()
        };
        let dod = endpoints(Cloud::UsGovernmentDod);
        assert_eq!(
            dod.authority.url().as_str(),
            "https://login.microsoftonline.us/organizations/v2.0"
        );
        assert_eq!(dod.graph.as_str(), "https://dod-graph.microsoft.us/v1.0/");
        let gcc_high = endpoints(Cloud::UsGovernment);
        assert_eq!(gcc_high.graph.as_str(), "https://graph.microsoft.us/v1.0/");
    }

    #[test]
    fn the_sandbox_uses_its_base_url_for_sign_in_and_graph() {
        let base = Url::parse("https://127.0.0.1:4443/").unwrap();
        let config = Settings::sandbox().core_config(Some(&base));
        let endpoints = config.endpoints().unwrap();
        assert_eq!(
            endpoints.authority.url().as_str(),
            "https://127.0.0.1:4443/contoso.com/v2.0"
        );
        assert_eq!(endpoints.graph.as_str(), "https://127.0.0.1:4443/v1.0/");
        assert_eq!(
            config.full_client_id.as_deref(),
            Some(demo::FULL_APP_CLIENT_ID)
        );
    }

    #[test]
    fn a_client_id_must_be_empty_or_a_guid() {
        let settings = |full: &str, teams: &str| Settings {
            full_client_id: full.into(),
            teams_client_id: teams.into(),
            ..Settings::default()
        };
        assert_eq!(settings("", "").misfilled_client_id(), None);
        assert_eq!(
            settings(" 11111111-2222-3333-4444-555555555555 ", "").misfilled_client_id(),
            None
        );
        assert_eq!(Settings::sandbox().misfilled_client_id(), None);
        assert_eq!(
            settings(
                "Client ID of the Full app: 11111111-2222-3333-4444-555555555555",
                ""
            )
            .misfilled_client_id(),
            Some("Client ID of the Full app")
        );
        assert_eq!(
            settings(
                "11111111-2222-3333-4444-555555555555",
                "calconnect Teams conferencing"
            )
            .misfilled_client_id(),
            Some("Client ID of the Teams conferencing app")
        );
    }

    #[test]
    fn blank_input_becomes_the_default_tenant_and_no_client_id() {
        let settings = Settings {
            tenant: "  ".into(),
            full_client_id: "  ".into(),
            ..Settings::default()
        }
        .normalised();
        assert_eq!(settings.tenant, DEFAULT_TENANT);
        assert_eq!(settings.core_config(None).full_client_id, None);
    }
}
