//! Microsoft Teams' own primitives for app-only access to online meetings: application access policies
//! and their grants, as the Teams PowerShell cmdlets create them.
//!
//! - `New-CsApplicationAccessPolicy -Identity <name> -AppIds "<app id>", …` creates a policy listing apps;
//! - `Grant-CsApplicationAccessPolicy -PolicyName <name> -Identity <user>` assigns it to one user, and
//!   `-Global` to every user without a policy of their own (`-PolicyName $Null` unassigns). A user has at most
//!   one policy: a later grant replaces an earlier one, and a user's own grant wins over the global one.
//!
//! An app holding `OnlineMeetings.ReadWrite.All` may create, read and delete meetings on behalf of a user
//! only if the policy in effect for that user lists the app's id; Graph refuses otherwise.
//! [learn.microsoft.com/graph/cloud-communication-online-meeting-application-access-policy;
//! learn.microsoft.com/powershell/module/microsoftteams/grant-csapplicationaccesspolicy]

use serde::{Deserialize, Serialize};

use super::directory::User;

/// `[teams]`: the tenant's Teams configuration.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Teams {
    /// `New-CsApplicationAccessPolicy`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub application_access_policies: Vec<ApplicationAccessPolicy>,
    /// `Grant-CsApplicationAccessPolicy`, in the order they were run.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub application_access_policy_grants: Vec<ApplicationAccessPolicyGrant>,
}

/// `New-CsApplicationAccessPolicy -Identity <identity> -AppIds <app_ids> [-Description <description>]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplicationAccessPolicy {
    /// `-Identity`: the policy's name.
    pub identity: String,
    /// `-AppIds`: application (client) ids.
    #[serde(default)]
    pub app_ids: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// `Grant-CsApplicationAccessPolicy -PolicyName <policy_name> (-Identity <identity> | -Global)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplicationAccessPolicyGrant {
    /// `-PolicyName`; absent means `$Null`, which unassigns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_name: Option<String>,
    /// `-Identity`: the user, by object id or user principal name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
    /// `-Global`: every user without a policy of their own.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub global: bool,
}

impl ApplicationAccessPolicyGrant {
    /// Whether this grant's `-Identity` names `user`.
    fn names(&self, user: &User) -> bool {
        self.identity.as_deref().is_some_and(|identity| {
            let identity = identity.trim();
            identity.eq_ignore_ascii_case(&user.user_principal_name)
                || identity.eq_ignore_ascii_case(&user.id.to_string())
        })
    }
}

impl Teams {
    /// What the cmdlets would have refused: duplicate policy names, grants naming no policy, grants with
    /// both or neither of `-Identity` and `-Global`, grants to users who do not exist.
    pub fn validate(&self, users: &[User]) -> Result<(), String> {
        for (index, policy) in self.application_access_policies.iter().enumerate() {
            let duplicate = self.application_access_policies[..index]
                .iter()
                .any(|earlier| earlier.identity.eq_ignore_ascii_case(&policy.identity));
            if duplicate {
                return Err(format!(
                    "teams: an application access policy named {:?} already exists",
                    policy.identity
                ));
            }
        }
        for grant in &self.application_access_policy_grants {
            if let Some(name) = &grant.policy_name {
                if self.policy(name).is_none() {
                    return Err(format!(
                        "teams: Grant-CsApplicationAccessPolicy names no policy {name:?}"
                    ));
                }
            }
            match (&grant.identity, grant.global) {
                (Some(_), true) | (None, false) => {
                    return Err("teams: a grant takes either -Identity <user> or -Global".to_owned())
                }
                (Some(identity), false) => {
                    if !users.iter().any(|user| grant.names(user)) {
                        return Err(format!(
                            "teams: Grant-CsApplicationAccessPolicy -Identity {identity:?} names no user"
                        ));
                    }
                }
                (None, true) => {}
            }
        }
        Ok(())
    }

    /// The policy named `name` (policy names are case-insensitive).
    pub fn policy(&self, name: &str) -> Option<&ApplicationAccessPolicy> {
        self.application_access_policies
            .iter()
            .find(|policy| policy.identity.eq_ignore_ascii_case(name))
    }

    /// The policy in effect for `user`: the last grant naming them if any (even one that unassigned),
    /// else the last `-Global` grant.
    pub fn application_access_policy_for(&self, user: &User) -> Option<&ApplicationAccessPolicy> {
        let grants = &self.application_access_policy_grants;
        let grant = grants
            .iter()
            .rev()
            .find(|grant| grant.names(user))
            .or_else(|| grants.iter().rev().find(|grant| grant.global))?;
        self.policy(grant.policy_name.as_deref()?)
    }

    /// Whether the app `app_id` may access online meetings on behalf of `user` with application
    /// permissions: the policy in effect for the user lists it.
    pub fn allows_app_for(&self, app_id: &str, user: &User) -> bool {
        self.application_access_policy_for(user)
            .is_some_and(|policy| {
                policy
                    .app_ids
                    .iter()
                    .any(|listed| listed.trim().eq_ignore_ascii_case(app_id.trim()))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo;
    use crate::tenant::Tenant;

    fn policy(identity: &str, app_ids: &[&str]) -> ApplicationAccessPolicy {
        ApplicationAccessPolicy {
            identity: identity.to_owned(),
            app_ids: app_ids.iter().map(|id| (*id).to_owned()).collect(),
            description: None,
        }
    }

    fn grant(policy_name: Option<&str>, identity: Option<&str>) -> ApplicationAccessPolicyGrant {
        ApplicationAccessPolicyGrant {
            policy_name: policy_name.map(str::to_owned),
            identity: identity.map(str::to_owned),
            global: identity.is_none(),
        }
    }

    #[test]
    fn the_demo_policy_covers_adele_and_not_lee() {
        let tenant = Tenant::demo();
        let adele = tenant.user_by_email(demo::ADELE).unwrap();
        let lee = tenant.user_by_email(demo::LEE).unwrap();
        let app = demo::TEAMS_ENTERPRISE_APP_CLIENT_ID;
        assert!(tenant.teams.allows_app_for(app, adele));
        assert!(!tenant.teams.allows_app_for(app, lee));
        assert!(!tenant.teams.allows_app_for(demo::EWS_APP_CLIENT_ID, adele));
    }

    #[test]
    fn a_users_own_grant_wins_over_the_global_one_and_the_last_grant_wins() {
        let tenant = Tenant::demo();
        let adele = tenant.user_by_email(demo::ADELE).unwrap().clone();
        let lee = tenant.user_by_email(demo::LEE).unwrap().clone();
        let users = vec![adele.clone(), lee.clone()];
        let teams = Teams {
            application_access_policies: vec![policy("A", &["app-a"]), policy("B", &["app-b"])],
            application_access_policy_grants: vec![
                grant(Some("A"), Some(&adele.id.to_string())),
                grant(Some("B"), None),
            ],
        };
        teams.validate(&users).expect("valid");
        assert!(teams.allows_app_for("app-a", &adele));
        assert!(
            !teams.allows_app_for("app-b", &adele),
            "her own policy A wins"
        );
        assert!(teams.allows_app_for("app-b", &lee), "-Global covers lee");
        let unassigned = Teams {
            application_access_policy_grants: vec![
                grant(Some("A"), Some(demo::ADELE)),
                grant(None, Some(demo::ADELE)),
            ],
            ..teams.clone()
        };
        assert!(unassigned.application_access_policy_for(&adele).is_none());
    }

    #[test]
    fn grants_the_cmdlets_would_refuse_are_refused() {
        let tenant = Tenant::demo();
        let users = &tenant.users;
        let base = Teams {
            application_access_policies: vec![policy("A", &["app-a"])],
            application_access_policy_grants: Vec::new(),
        };
        for bad in [
            grant(Some("missing"), Some(demo::ADELE)),
            grant(Some("A"), Some("nobody@contoso.com")),
            ApplicationAccessPolicyGrant {
                global: true,
                ..grant(Some("A"), Some(demo::ADELE))
            },
        ] {
            let teams = Teams {
                application_access_policy_grants: vec![bad.clone()],
                ..base.clone()
            };
            assert!(teams.validate(users).is_err(), "{bad:?}");
        }
        let twice = Teams {
            application_access_policies: vec![policy("A", &[]), policy("a", &[])],
            ..base
        };
        assert!(twice.validate(users).is_err());
    }
}
