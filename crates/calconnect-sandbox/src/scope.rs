//! Scope strings of the v2.0 endpoint: OIDC scopes, Graph permissions and Exchange permissions.
//!
//! Microsoft identity platform "Scopes and permissions": a scope is `{resource}/{permission}`; a bare name means
//! Microsoft Graph; `openid`, `profile`, `email` and `offline_access` are OIDC scopes of no resource.

use std::fmt;

use crate::demo;

/// The resource a permission belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Resource {
    Graph,
    Exchange,
}

impl Resource {
    /// Resource URI.
    pub fn uri(self) -> &'static str {
        match self {
            Resource::Graph => demo::GRAPH_RESOURCE,
            Resource::Exchange => demo::EXCHANGE_RESOURCE,
        }
    }

    /// `aud` of access tokens for this resource (Graph tokens carry Graph's app id).
    pub fn audience(self) -> &'static str {
        match self {
            Resource::Graph => demo::GRAPH_RESOURCE_APP_ID,
            Resource::Exchange => demo::EXCHANGE_RESOURCE,
        }
    }
}

/// One requested scope.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    /// `openid`, `profile`, `email` or `offline_access` (stored lowercase).
    Oidc(String),
    /// A permission of a resource, with its canonical spelling (`Calendars.ReadBasic`, `.default`).
    Permission { resource: Resource, name: String },
}

/// Graph delegated permissions the sandbox knows, with the consent text Entra shows.
pub const GRAPH_PERMISSIONS: &[(&str, &str)] = &[
    ("User.Read", "Sign you in and read your profile"),
    ("User.ReadBasic.All", "Read all users' basic profiles"),
    (
        "Calendars.ReadBasic",
        "Read basic details of your calendars",
    ),
    ("Calendars.Read", "Read your calendars"),
    ("Calendars.Read.Shared", "Read calendars you can access"),
    ("Calendars.ReadWrite", "Have full access to your calendars"),
    (
        "Calendars.ReadWrite.Shared",
        "Read and write calendars you can access",
    ),
    ("OnlineMeetings.Read", "Read your online meetings"),
    (
        "OnlineMeetings.ReadWrite",
        "Read and create your online meetings",
    ),
    ("Mail.Read", "Read your mail"),
];

/// Exchange Online delegated permissions the sandbox knows.
pub const EXCHANGE_PERMISSIONS: &[(&str, &str)] = &[(
    "EWS.AccessAsUser.All",
    "Access mailboxes as you via Exchange Web Services",
)];

const OIDC_SCOPES: &[(&str, &str)] = &[
    ("openid", "Sign you in"),
    ("profile", "View your basic profile"),
    ("email", "View your email address"),
    (
        "offline_access",
        "Maintain access to data you have given it access to",
    ),
];

impl Scope {
    /// Parses one scope token; `None` when it names no known permission (AADSTS70011).
    pub fn parse(token: &str) -> Option<Scope> {
        if let Some((name, _)) = OIDC_SCOPES
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(token))
        {
            return Some(Scope::Oidc((*name).to_owned()));
        }
        let (resource, name) = if let Some(rest) =
            strip_prefix_ignore_case(token, demo::GRAPH_RESOURCE)
        {
            (Resource::Graph, rest.strip_prefix('/')?)
        } else if let Some(rest) = strip_prefix_ignore_case(token, demo::EXCHANGE_RESOURCE) {
            (Resource::Exchange, rest.strip_prefix('/')?)
        } else if let Some(rest) = strip_prefix_ignore_case(token, demo::GRAPH_RESOURCE_APP_ID) {
            (Resource::Graph, rest.strip_prefix('/')?)
        } else {
            (Resource::Graph, token)
        };
        if name == ".default" {
            return Some(Scope::Permission {
                resource,
                name: ".default".to_owned(),
            });
        }
        let catalog = match resource {
            Resource::Graph => GRAPH_PERMISSIONS,
            Resource::Exchange => EXCHANGE_PERMISSIONS,
        };
        catalog
            .iter()
            .find(|(known, _)| known.eq_ignore_ascii_case(name))
            .map(|(known, _)| Scope::Permission {
                resource,
                name: (*known).to_owned(),
            })
    }

    /// Parses a space-separated scope parameter; `Err` carries the first unknown token.
    pub fn parse_list(scope: &str) -> Result<Vec<Scope>, String> {
        let mut scopes: Vec<Scope> = Vec::new();
        for token in scope.split_whitespace() {
            let parsed = Scope::parse(token).ok_or_else(|| token.to_owned())?;
            if !scopes.contains(&parsed) {
                scopes.push(parsed);
            }
        }
        Ok(scopes)
    }

    /// Resource of a permission scope.
    pub fn resource(&self) -> Option<Resource> {
        match self {
            Scope::Oidc(_) => None,
            Scope::Permission { resource, .. } => Some(*resource),
        }
    }

    /// Whether this is the named OIDC scope.
    pub fn is_oidc(&self, name: &str) -> bool {
        matches!(self, Scope::Oidc(oidc) if oidc == name)
    }

    /// Text of the consent page.
    pub fn description(&self) -> &'static str {
        match self {
            Scope::Oidc(name) => OIDC_SCOPES
                .iter()
                .find(|(known, _)| known == name)
                .map_or("", |(_, text)| text),
            Scope::Permission { resource, name } => {
                let catalog = match resource {
                    Resource::Graph => GRAPH_PERMISSIONS,
                    Resource::Exchange => EXCHANGE_PERMISSIONS,
                };
                catalog.iter().find(|(known, _)| known == name).map_or(
                    "Access the permissions the app is configured with",
                    |(_, text)| text,
                )
            }
        }
    }

    /// Bare name as in the `scp` claim (`User.Read`).
    pub fn bare_name(&self) -> &str {
        match self {
            Scope::Oidc(name) => name,
            Scope::Permission { name, .. } => name,
        }
    }

    /// Spelling in token responses: bare names for Graph and OIDC (as the device-flow doc example shows),
    /// full URIs for other resources.
    pub fn response_name(&self) -> String {
        match self {
            Scope::Permission {
                resource: Resource::Exchange,
                name,
            } => format!("{}/{}", demo::EXCHANGE_RESOURCE, name),
            other => other.bare_name().to_owned(),
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.response_name())
    }
}

/// Serialised as its response spelling (`User.Read`, `https://outlook.office365.com/EWS.AccessAsUser.All`),
/// which [`Scope::parse`] reads back to the same scope.
impl serde::Serialize for Scope {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.response_name())
    }
}

impl<'de> serde::Deserialize<'de> for Scope {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Scope::parse(&text).ok_or_else(|| serde::de::Error::custom(format!("unknown scope {text}")))
    }
}

fn strip_prefix_ignore_case<'a>(value: &'a str, prefix: &str) -> Option<&'a str> {
    let head = value.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &value[prefix.len()..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_and_qualified_graph_scopes_are_the_same_permission() {
        assert_eq!(
            Scope::parse("https://graph.microsoft.com/user.read"),
            Scope::parse("User.Read")
        );
        assert_eq!(Scope::parse("Calendars.Fly"), None);
        assert_eq!(
            Scope::parse("OFFLINE_ACCESS"),
            Some(Scope::Oidc("offline_access".into()))
        );
        assert_eq!(
            Scope::parse("https://outlook.office365.com/.default")
                .and_then(|scope| scope.resource()),
            Some(Resource::Exchange)
        );
    }

    #[test]
    fn every_scope_reads_back_from_its_serialised_form() {
        let scopes = Scope::parse_list(
            "openid offline_access User.Read .default https://outlook.office365.com/EWS.AccessAsUser.All https://outlook.office365.com/.default",
        )
        .expect("known scopes");
        let json = serde_json::to_string(&scopes).expect("serialises");
        let back: Vec<Scope> = serde_json::from_str(&json).expect("deserialises");
        assert_eq!(back, scopes);
    }
}
