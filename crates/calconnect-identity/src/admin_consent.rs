//! The admin-consent request an admin can act on when a tenant requires it (AADSTS65001, 90094, 900941).
//!
//! URL shape: Microsoft identity platform docs, "Admin consent on the Microsoft identity platform"
//! (`{authority}/{tenant}/v2.0/adminconsent?client_id=…&scope=…&redirect_uri=…`).

use serde::Serialize;
use url::Url;

use crate::app::AppRegistration;
use crate::authority::Authority;

/// One permission and why calconnect needs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PermissionReason {
    pub scope: String,
    pub why: String,
}

/// A ready-to-send admin-consent link with the permissions it grants.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AdminConsent {
    pub url: Url,
    pub tenant: String,
    pub permissions: Vec<PermissionReason>,
}

/// Why each delegated scope is needed, after Cronofy's "Which Graph scopes does Cronofy utilize?".
pub fn why_needed(scope: &str) -> &'static str {
    match scope.to_ascii_lowercase().as_str() {
        "user.read" => "to read your profile (name and email address), which identifies the connected account",
        "calendars.readwrite" => "to create, read, update and delete events in your calendars",
        "calendars.readbasic" => "to read your free/busy schedule (busy times only, without event details)",
        // Seed 002 ("What Microsoft Teams scopes does Cronofy require?").
        "onlinemeetings.readwrite" => "to create, read, update and delete Teams meetings on your behalf, which is what makes a Teams meeting link",
        "offline_access" => "to keep the connection working by refreshing access without signing in again; without it access would stop after about an hour",
        _ => "requested by the app registration",
    }
}

impl AdminConsent {
    /// Builds the request for `app` in `authority`'s tenant. `tenant_hint` (the user's tenant id or domain)
    /// replaces a multi-tenant alias; without one the link uses `organizations` so any admin can follow it.
    /// Scopes are qualified with `graph_base` (the resource) except OpenID scopes such as `offline_access`.
    pub fn new(
        authority: &Authority,
        tenant_hint: Option<&str>,
        app: &AppRegistration,
        graph_base: &Url,
        redirect_uri: &str,
    ) -> Self {
        let tenant = match tenant_hint {
            Some(hint) if !hint.is_empty() => hint.to_owned(),
            _ if authority.is_multi_tenant() => "organizations".to_owned(),
            _ => authority.tenant().to_owned(),
        };
        let qualified: Vec<String> = app
            .kind
            .scopes()
            .iter()
            .map(|scope| {
                if scope.eq_ignore_ascii_case("offline_access") {
                    (*scope).to_owned()
                } else {
                    format!("{}{}", graph_base.as_str(), scope)
                }
            })
            .collect();
        let mut url = authority
            .base()
            .join(&format!(
                "{}/v2.0/adminconsent",
                url::form_urlencoded::byte_serialize(tenant.as_bytes()).collect::<String>()
            ))
            .expect("tenant is URL-encoded");
        url.query_pairs_mut()
            .append_pair("client_id", &app.client_id)
            .append_pair("scope", &qualified.join(" "))
            .append_pair("redirect_uri", redirect_uri);
        let permissions = app
            .kind
            .scopes()
            .iter()
            .map(|scope| PermissionReason {
                scope: (*scope).to_owned(),
                why: why_needed(scope).to_owned(),
            })
            .collect();
        Self {
            url,
            tenant,
            permissions,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AppKind, Cloud};

    #[test]
    fn the_link_targets_the_tenant_with_qualified_scopes_and_explains_each_permission() {
        let authority = Authority::for_cloud(Cloud::Global, "common").unwrap();
        let app = AppRegistration::new(AppKind::Full, "abc");
        let consent = AdminConsent::new(
            &authority,
            Some("contoso.com"),
            &app,
            &Cloud::Global.graph_base(),
            "http://localhost",
        );
        assert!(consent.url.as_str().starts_with(
            "https://login.microsoftonline.com/contoso.com/v2.0/adminconsent?client_id=abc&"
        ));
        let scope = consent
            .url
            .query_pairs()
            .find(|(key, _)| key == "scope")
            .unwrap()
            .1
            .into_owned();
        assert_eq!(scope, "https://graph.microsoft.com/User.Read https://graph.microsoft.com/Calendars.ReadWrite offline_access");
        assert_eq!(consent.permissions.len(), 3);
        assert!(consent
            .permissions
            .iter()
            .all(|permission| !permission.why.starts_with("requested")));
    }

    #[test]
    fn a_multi_tenant_authority_without_hint_uses_organizations() {
        let authority = Authority::for_cloud(Cloud::Global, "common").unwrap();
        let app = AppRegistration::new(AppKind::FreeBusy, "abc");
        let consent = AdminConsent::new(
            &authority,
            None,
            &app,
            &Cloud::Global.graph_base(),
            "http://localhost",
        );
        assert_eq!(consent.tenant, "organizations");
    }
}
