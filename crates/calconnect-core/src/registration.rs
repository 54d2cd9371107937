//! "Register the apps in my tenant": what an organisation needs to create calconnect's three public clients
//! (Full, Free/Busy, Teams conferencing) in its own Microsoft Entra ID, ready to copy.
//!
//! This module holds calconnect's only table of Microsoft Graph permission IDs ([`GRAPH_DELEGATED_PERMISSIONS`])
//! and generates from it, for every app of [`AppKind::ALL`] with the scopes [`AppKind::scopes`] names:
//! - an Azure CLI script for bash or zsh (`az ad app create`),
//! - a Microsoft Graph PowerShell script (`New-MgApplication`),
//! - the apps as Microsoft Graph `application` objects: the JSON of the Entra admin center's manifest editor
//!   and the body of `POST /applications`.
//!
//! Every app is single-tenant (`AzureADMyOrg`), has "Allow public client flows" on (`isFallbackPublicClient`),
//! the redirect URI `http://localhost` of type Public client/native (`publicClient.redirectUris`; a Web
//! redirect makes Entra demand a client secret, AADSTS7000218) and requests its delegated scopes statically
//! (`requiredResourceAccess`, type `Scope`). Both scripts print the tenant ID and the three client IDs, which
//! Settings (or `config.toml`) then takes: a single-tenant app must be signed in to through its tenant, not
//! `organizations` (AADSTS50194).
//!
//! Sources: application resource, <https://learn.microsoft.com/graph/api/resources/application>; app manifest
//! in Microsoft Graph format, <https://learn.microsoft.com/entra/identity-platform/reference-microsoft-graph-app-manifest>;
//! `az ad app create`, <https://learn.microsoft.com/cli/azure/ad/app#az-ad-app-create>; `New-MgApplication`,
//! <https://learn.microsoft.com/powershell/module/microsoft.graph.applications/new-mgapplication>.

use calconnect_identity::{AppKind, Cloud};
use serde::Serialize;

/// The appId of Microsoft Graph's service principal, the same in every tenant and cloud.
pub const GRAPH_RESOURCE_APP_ID: &str = "00000003-0000-0000-c000-000000000000";

/// The redirect URI every app registers: Entra ignores the port of a loopback redirect, so calconnect's
/// listener on a random port matches it (RFC 8252; learn.microsoft.com/entra/identity-platform/reply-url).
pub const REDIRECT_URI: &str = "http://localhost";

/// Single tenant: only accounts of the organisation that registers the apps.
pub const SIGN_IN_AUDIENCE: &str = "AzureADMyOrg";

/// Microsoft Graph's delegated permissions ("Scope" entries) calconnect's apps request, by name, with the IDs
/// Microsoft publishes in "All permissions and IDs" (learn.microsoft.com/graph/permissions-reference, read
/// from microsoftgraph/microsoft-graph-docs-contrib `concepts/includes/permissions-ids.md` at commit
/// 43b498394ec440e548985309e1d8689c9e16adcf). The core tests check every row against the vendored excerpt
/// `tests/fixtures/graph-permissions-reference.md`, and that every scope of every app has a row.
pub const GRAPH_DELEGATED_PERMISSIONS: [(&str, &str); 5] = [
    ("User.Read", "e1fe6dd8-ba31-4d61-89e7-88639da4683d"),
    (
        "Calendars.ReadWrite",
        "1ec239c2-d7c9-4623-a91a-a9775856bb36",
    ),
    (
        "Calendars.ReadBasic",
        "662d75ba-a364-42ad-adee-f5f880ea4878",
    ),
    (
        "OnlineMeetings.ReadWrite",
        "a65f2972-a4f8-4f5e-afd7-69ccb046d5dc",
    ),
    ("offline_access", "7427e0e9-2fba-42fe-b0c0-848c9e6a8182"),
];

/// The published ID of the delegated Graph permission `scope`, if calconnect requests it.
pub fn delegated_permission_id(scope: &str) -> Option<&'static str> {
    GRAPH_DELEGATED_PERMISSIONS
        .iter()
        .find(|(name, _)| *name == scope)
        .map(|(_, id)| *id)
}

/// The display name each app registration gets.
pub fn display_name(app: AppKind) -> &'static str {
    match app {
        AppKind::Full => "calconnect Full",
        AppKind::FreeBusy => "calconnect Free/Busy",
        AppKind::Teams => "calconnect Teams conferencing",
    }
}

/// One delegated Graph permission: its name and its ID.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct GraphPermission {
    pub name: &'static str,
    pub id: &'static str,
}

/// One app to register: which app, its display name, its permissions and its manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppPlan {
    pub app: AppKind,
    pub label: &'static str,
    pub display_name: &'static str,
    pub permissions: Vec<GraphPermission>,
    /// The app as a Microsoft Graph `application` object, pretty-printed JSON.
    pub manifest: String,
}

/// The three apps and the three ways to create them, for one cloud and tenant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RegistrationGuide {
    /// The cloud the scripts sign in to (`global`, `usgov`, `usgov-dod`, `china`).
    pub cloud: &'static str,
    /// The tenant the scripts sign in to, when Settings names one (a tenant ID or a domain).
    pub tenant: Option<String>,
    pub apps: Vec<AppPlan>,
    /// Azure CLI commands for bash or zsh; they print the tenant ID and the three client IDs.
    pub azure_cli: String,
    /// Microsoft Graph PowerShell commands; they print the tenant ID and the three client IDs.
    pub powershell: String,
    /// The three apps' `application` objects as one JSON array.
    pub manifest: String,
    /// What to know before running them.
    pub notes: Vec<String>,
}

impl RegistrationGuide {
    /// The guide for `cloud`; `tenant` is Settings' tenant, passed to the sign-in of both scripts when it
    /// names one tenant (not `organizations`, `common` or `consumers`).
    pub fn new(cloud: Cloud, tenant: &str) -> Self {
        let tenant = specific_tenant(tenant).map(str::to_owned);
        let apps: Vec<AppPlan> = AppKind::ALL.iter().map(|app| plan(*app)).collect();
        let manifest =
            serde_json::to_string_pretty(&apps.iter().map(application).collect::<Vec<_>>())
                .expect("application objects serialise");
        Self {
            cloud: cloud.as_str(),
            azure_cli: azure_cli(cloud, tenant.as_deref(), &apps),
            powershell: powershell(cloud, tenant.as_deref(), &apps),
            manifest,
            notes: notes(cloud),
            tenant,
            apps,
        }
    }
}

fn plan(app: AppKind) -> AppPlan {
    let permissions = app
        .scopes()
        .iter()
        .map(|scope| GraphPermission {
            name: scope,
            id: delegated_permission_id(scope)
                .unwrap_or_else(|| panic!("no Graph permission ID for {scope}")),
        })
        .collect();
    let mut plan = AppPlan {
        app,
        label: app.label(),
        display_name: display_name(app),
        permissions,
        manifest: String::new(),
    };
    plan.manifest = serde_json::to_string_pretty(&application(&plan))
        .expect("an application object serialises");
    plan
}

/// `organizations`, `common` and `consumers` are not one tenant; anything else but a tenant ID or a domain
/// (letters, digits, dots and hyphens) is left out rather than put on a command line.
fn specific_tenant(tenant: &str) -> Option<&str> {
    let tenant = tenant.trim();
    let shared = ["organizations", "common", "consumers"]
        .iter()
        .any(|name| tenant.eq_ignore_ascii_case(name));
    let plain = tenant
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
    (!tenant.is_empty() && !shared && plain).then_some(tenant)
}

/// A Microsoft Graph `application` object, in the property order of the manifest editor's sections.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Application {
    display_name: &'static str,
    sign_in_audience: &'static str,
    is_fallback_public_client: bool,
    public_client: PublicClient,
    required_resource_access: [RequiredResourceAccess; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PublicClient {
    redirect_uris: [&'static str; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RequiredResourceAccess {
    resource_app_id: &'static str,
    resource_access: Vec<ResourceAccess>,
}

#[derive(Serialize)]
struct ResourceAccess {
    id: &'static str,
    /// `Scope`: a delegated permission (an app role would be `Role`).
    #[serde(rename = "type")]
    kind: &'static str,
}

fn application(plan: &AppPlan) -> Application {
    Application {
        display_name: plan.display_name,
        sign_in_audience: SIGN_IN_AUDIENCE,
        is_fallback_public_client: true,
        public_client: PublicClient {
            redirect_uris: [REDIRECT_URI],
        },
        required_resource_access: [required_resource_access(plan)],
    }
}

fn required_resource_access(plan: &AppPlan) -> RequiredResourceAccess {
    RequiredResourceAccess {
        resource_app_id: GRAPH_RESOURCE_APP_ID,
        resource_access: plan
            .permissions
            .iter()
            .map(|permission| ResourceAccess {
                id: permission.id,
                kind: "Scope",
            })
            .collect(),
    }
}

/// The shell variable (bash) or PowerShell variable each app's client ID is kept in.
fn variable(app: AppKind) -> &'static str {
    match app {
        AppKind::Full => "calconnect_full",
        AppKind::FreeBusy => "calconnect_freebusy",
        AppKind::Teams => "calconnect_teams",
    }
}

/// The line each script prints a client ID on; the label names the Settings field it goes into.
fn printed_label(app: AppKind) -> &'static str {
    match app {
        AppKind::Full => "Client ID of the Full app:",
        AppKind::FreeBusy => "Client ID of the Free/Busy app:",
        AppKind::Teams => "Client ID of the Teams conferencing app:",
    }
}

const TENANT_LABEL: &str = "Tenant ID:";

/// `az cloud set` names (`az cloud list`). The Azure CLI's US Government cloud is GCC High's; DoD tenants
/// are pointed at the PowerShell script, whose `-Environment USGovDoD` reaches dod-graph.microsoft.us.
fn az_cloud(cloud: Cloud) -> &'static str {
    match cloud {
        Cloud::Global => "AzureCloud",
        Cloud::UsGovernment | Cloud::UsGovernmentDod => "AzureUSGovernment",
        Cloud::China => "AzureChinaCloud",
    }
}

/// `Connect-MgGraph -Environment` names (Get-MgEnvironment,
/// <https://learn.microsoft.com/powershell/module/microsoft.graph.authentication/get-mgenvironment>).
fn mg_environment(cloud: Cloud) -> &'static str {
    match cloud {
        Cloud::Global => "Global",
        Cloud::UsGovernment => "USGov",
        Cloud::UsGovernmentDod => "USGovDoD",
        Cloud::China => "China",
    }
}

/// The delegated permission Microsoft Graph PowerShell asks for to create the apps. `AppRegistration.Create`
/// is the least privileged one for `POST /applications` (microsoft-graph-docs-contrib
/// `api-reference/v1.0/includes/permissions/application-post-applications-permissions.md`,
/// <https://learn.microsoft.com/graph/api/application-post-applications#permissions>); it is recent, and
/// not confirmed in the national clouds, so those ask for `Application.ReadWrite.All`, which every cloud has.
fn mg_scope(cloud: Cloud) -> &'static str {
    match cloud {
        Cloud::Global => "AppRegistration.Create",
        _ => "Application.ReadWrite.All",
    }
}

/// Quotes for bash and zsh: single quotes keep everything literal; a single quote is closed, escaped and
/// reopened.
fn sh_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// Quotes for PowerShell: a single-quoted string is literal, and a quote inside it is doubled. PowerShell
/// also takes the typographic single quotes as quotes, so they are doubled too (about_Quoting_Rules).
fn ps_quote(text: &str) -> String {
    let mut quoted = String::from("'");
    for c in text.chars() {
        if matches!(c, '\'' | '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}') {
            quoted.push(c);
        }
        quoted.push(c);
    }
    quoted.push('\'');
    quoted
}

/// The Azure CLI script. It has no comment lines, because zsh (macOS's shell) runs a pasted `# …` line as a
/// command unless `interactive_comments` is set; what it does is in [`RegistrationGuide::notes`].
/// `az ad app create` updates an app that already has the same display name instead of adding another
/// (azure-cli `src/azure-cli/azure/cli/command_modules/role/custom.py`, `create_application`), so running
/// the script again is safe. The flags are those azure-cli declares in `role/_params.py`:
/// `--is-fallback-public-client` a three-state flag (`true`), `--public-client-redirect-uris` space-separated
/// values, `--sign-in-audience` one of `AzureADMyOrg`, `AzureADMultipleOrgs`, …, and
/// `--required-resource-accesses` the manifest's `requiredResourceAccess` JSON (the format of
/// `az ad app create --help`'s public-client example, `role/_help.py`), taken inline (`validate_file_or_dict`)
/// so nothing is written to disk. <https://learn.microsoft.com/cli/azure/ad/app#az-ad-app-create>
fn azure_cli(cloud: Cloud, tenant: Option<&str>, apps: &[AppPlan]) -> String {
    let mut script = format!("az cloud set --name {}\n", az_cloud(cloud));
    script.push_str("az login --allow-no-subscriptions");
    if let Some(tenant) = tenant {
        script.push_str(&format!(" --tenant {}", sh_quote(tenant)));
    }
    script.push('\n');
    for plan in apps {
        // The manifest's requiredResourceAccess laid out one permission a line, so every ID can be read; the
        // single quotes span the lines (an ID holds no quote), and the core tests parse what `az` receives.
        let permissions = plan
            .permissions
            .iter()
            .map(|permission| {
                format!(
                    "      {{\"id\": \"{}\", \"type\": \"Scope\"}}",
                    permission.id
                )
            })
            .collect::<Vec<_>>()
            .join(",\n");
        let access = format!(
            "'[{{\"resourceAppId\": \"{GRAPH_RESOURCE_APP_ID}\",\n    \"resourceAccess\": [\n{permissions}]}}]'"
        );
        script.push_str(&format!(
            "{variable}=$(az ad app create \\\n  --display-name {name} \\\n  --sign-in-audience {audience} \\\n  \
             --is-fallback-public-client true \\\n  --public-client-redirect-uris {redirect} \\\n  \
             --required-resource-accesses {access} \\\n  --query appId --output tsv)\n",
            variable = variable(plan.app),
            name = sh_quote(plan.display_name),
            audience = SIGN_IN_AUDIENCE,
            redirect = sh_quote(REDIRECT_URI),
        ));
    }
    let width = label_width(apps);
    script.push_str(&format!(
        "printf '%-{width}s %s\\n' {} \"$(az account show --query tenantId --output tsv)\"\n",
        sh_quote(TENANT_LABEL)
    ));
    for plan in apps {
        script.push_str(&format!(
            "printf '%-{width}s %s\\n' {} \"${}\"\n",
            sh_quote(printed_label(plan.app)),
            variable(plan.app)
        ));
    }
    script
}

fn label_width(apps: &[AppPlan]) -> usize {
    apps.iter()
        .map(|plan| printed_label(plan.app).len())
        .chain([TENANT_LABEL.len()])
        .max()
        .unwrap_or_default()
}

/// The Microsoft Graph PowerShell script: one splatted hashtable per app, so no line ends in a backtick
/// (a continuation that a trailing space, easily picked up when copying, silently breaks). A switch such
/// as `-IsFallbackPublicClient` takes `$true` in a splat (about_Splatting). `-PublicClient` is a
/// publicClientApplication (`RedirectUris`) and `-RequiredResourceAccess` an array of `ResourceAppId` and
/// `ResourceAccess` (`Id`, `Type` = `Scope` for a delegated permission), as the cmdlet's NOTES give them:
/// <https://learn.microsoft.com/powershell/module/microsoft.graph.applications/new-mgapplication>
/// (MicrosoftDocs/microsoftgraph-docs-powershell `Microsoft.Graph.Applications/New-MgApplication.md`).
fn powershell(cloud: Cloud, tenant: Option<&str>, apps: &[AppPlan]) -> String {
    let mut script = String::from(
        "# calconnect's three public-client apps, created with Microsoft Graph PowerShell\n\
         # (Install-Module Microsoft.Graph.Applications -Scope CurrentUser). Run it once: each run adds three\n\
         # new app registrations.\n",
    );
    script.push_str(&format!(
        "Connect-MgGraph -Environment {}",
        ps_quote(mg_environment(cloud))
    ));
    if let Some(tenant) = tenant {
        script.push_str(&format!(" -TenantId {}", ps_quote(tenant)));
    }
    script.push_str(&format!(
        " -Scopes {} -NoWelcome\n",
        ps_quote(mg_scope(cloud))
    ));
    for plan in apps {
        let names = plan
            .permissions
            .iter()
            .map(|permission| permission.name)
            .collect::<Vec<_>>()
            .join(" ");
        script.push_str(&format!("\n# {}: {names}\n", plan.label));
        script.push_str(&format!(
            "$params = @{{\n    DisplayName            = {}\n    SignInAudience         = {}\n    \
             IsFallbackPublicClient = $true\n    PublicClient           = @{{ RedirectUris = @({}) }}\n    \
             RequiredResourceAccess = @(\n        @{{\n            ResourceAppId  = {}\n            \
             ResourceAccess = @(\n",
            ps_quote(plan.display_name),
            ps_quote(SIGN_IN_AUDIENCE),
            ps_quote(REDIRECT_URI),
            ps_quote(GRAPH_RESOURCE_APP_ID),
        ));
        for permission in &plan.permissions {
            script.push_str(&format!(
                "                @{{ Id = {}; Type = 'Scope' }} # {}\n",
                ps_quote(permission.id),
                permission.name
            ));
        }
        script.push_str(&format!(
            "            )\n        }}\n    )\n}}\n${} = New-MgApplication @params\n",
            variable(plan.app)
        ));
    }
    let width = label_width(apps);
    script.push('\n');
    script.push_str(&format!(
        "{} -f {}, (Get-MgContext).TenantId\n",
        ps_quote(&format!("{{0,-{width}}} {{1}}")),
        ps_quote(TENANT_LABEL)
    ));
    for plan in apps {
        script.push_str(&format!(
            "{} -f {}, ${}.AppId\n",
            ps_quote(&format!("{{0,-{width}}} {{1}}")),
            ps_quote(printed_label(plan.app)),
            variable(plan.app)
        ));
    }
    script
}

fn notes(cloud: Cloud) -> Vec<String> {
    let mut notes = vec![
        "Run the commands as someone who may register applications (the Application Developer role, or any \
         member while \"Users can register applications\" is on)."
            .to_owned(),
        "The apps are single-tenant: enter the tenant ID the commands print as the tenant, with the three \
         client IDs. No client secret or certificate is created; calconnect is a public client and proves \
         itself with PKCE."
            .to_owned(),
        "The Azure CLI commands run in bash or zsh; running them again updates the apps of the same names. \
         The PowerShell commands add three new registrations each time they run."
            .to_owned(),
        "Users consent when they first connect, unless an administrator grants consent for the organisation \
         (Entra admin center → App registrations → the app → API permissions → Grant admin consent); when \
         the tenant requires it, calconnect shows the admin-consent link."
            .to_owned(),
    ];
    if cloud == Cloud::UsGovernmentDod {
        notes.push(
            "DoD: the Azure CLI's US Government cloud talks to GCC High's Graph (graph.microsoft.us); the \
             PowerShell commands reach DoD's (dod-graph.microsoft.us) with -Environment USGovDoD, so prefer them."
                .to_owned(),
        );
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_keeps_every_character_literal() {
        assert_eq!(sh_quote("it's"), r"'it'\''s'");
        assert_eq!(ps_quote("it's"), "'it''s'");
        assert_eq!(ps_quote("it\u{2019}s"), "'it\u{2019}\u{2019}s'");
    }

    #[test]
    fn only_one_named_tenant_reaches_the_sign_in() {
        assert_eq!(specific_tenant(" contoso.com "), Some("contoso.com"));
        assert_eq!(
            specific_tenant("72f988bf-86f1-41af-91ab-2d7cd011db47"),
            Some("72f988bf-86f1-41af-91ab-2d7cd011db47")
        );
        assert_eq!(specific_tenant("organizations"), None);
        assert_eq!(specific_tenant("Common"), None);
        assert_eq!(specific_tenant(""), None);
        assert_eq!(specific_tenant("contoso.com'; rm -rf ~"), None);
    }
}
