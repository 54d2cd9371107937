//! View types sent to the webview (camelCase JSON), converted from the core's own types.

use calconnect_core::{
    Account, AccountStatus, BusyBlock, CalendarInfo, FreeBusy, FreeBusySource, RegistrationGuide,
};
use calconnect_identity::{AccessLevel, AppKind};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::config::Cloud;
use crate::settings::Settings;

/// What the welcome step shows about this build and its target cloud.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AppInfo {
    pub version: String,
    pub cloud: Cloud,
    pub cloud_label: String,
}

/// Full, Free/Busy or Teams conferencing, as the UI names it (both the app chosen and the access granted).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Access {
    Full,
    FreeBusy,
    Teams,
}

impl From<Access> for AppKind {
    fn from(access: Access) -> Self {
        match access {
            Access::Full => AppKind::Full,
            Access::FreeBusy => AppKind::FreeBusy,
            Access::Teams => AppKind::Teams,
        }
    }
}

impl From<AppKind> for Access {
    fn from(kind: AppKind) -> Self {
        match kind {
            AppKind::Full => Access::Full,
            AppKind::FreeBusy => Access::FreeBusy,
            AppKind::Teams => Access::Teams,
        }
    }
}

impl From<AccessLevel> for Access {
    fn from(level: AccessLevel) -> Self {
        level.app_kind().into()
    }
}

/// A connected account, as the account card and the accounts list show it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountView {
    pub id: String,
    pub name: String,
    pub email: String,
    /// What the grant allows (a Full request granted only Free/Busy scopes is `freeBusy`).
    pub access: Access,
    /// The app signed in with, which "Sign in again" reuses.
    pub app: Access,
    pub granted_scopes: Vec<String>,
    pub needs_sign_in_again: bool,
    pub connected_at: DateTime<Utc>,
}

impl From<Account> for AccountView {
    fn from(account: Account) -> Self {
        AccountView {
            granted_scopes: account.granted_scopes.iter().map(str::to_owned).collect(),
            needs_sign_in_again: account.status == AccountStatus::NeedsSignInAgain,
            id: account.id,
            name: account.user.name,
            email: account.user.email,
            access: account.access.into(),
            app: account.app.into(),
            connected_at: account.connected_at,
        }
    }
}

/// One calendar row: swatch, name, default, read-only or editable, owner.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CalendarView {
    pub id: String,
    pub name: String,
    /// A CSS colour for the swatch: the owner's hex colour, else Outlook's named colour; `None` for automatic.
    pub color: Option<String>,
    pub is_default: bool,
    pub can_edit: bool,
    pub owner: Option<String>,
    pub free_busy_only: bool,
}

impl From<CalendarInfo> for CalendarView {
    fn from(calendar: CalendarInfo) -> Self {
        let color = calendar
            .hex_color
            .filter(|hex| is_hex_colour(hex))
            .or_else(|| {
                calendar
                    .color
                    .as_deref()
                    .and_then(named_colour)
                    .map(str::to_owned)
            });
        CalendarView {
            id: calendar.id,
            name: calendar.name,
            color,
            is_default: calendar.is_default,
            can_edit: calendar.can_edit,
            owner: calendar.owner_name.or(calendar.owner_email),
            free_busy_only: calendar.free_busy_only,
        }
    }
}

/// The swatch must be a plain colour: it lands in a style property, so nothing else may pass.
fn is_hex_colour(value: &str) -> bool {
    value.len() == 7 && value.starts_with('#') && value[1..].chars().all(|c| c.is_ascii_hexdigit())
}

/// Graph's `calendarColor` names (Graph docs, "calendarColor values") in Outlook's palette.
fn named_colour(name: &str) -> Option<&'static str> {
    Some(match name {
        "lightBlue" => "#5b9bd5",
        "lightGreen" => "#70ad47",
        "lightOrange" => "#ed7d31",
        "lightGray" => "#a5a5a5",
        "lightYellow" => "#e6c229",
        "lightTeal" => "#3bb4b4",
        "lightPink" => "#e27aa8",
        "lightBrown" => "#a9744f",
        "lightRed" => "#d9534f",
        _ => return None,
    })
}

/// A busy block: only status, start and end exist at this access level.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BusyBlockView {
    pub status: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

impl From<BusyBlock> for BusyBlockView {
    fn from(block: BusyBlock) -> Self {
        BusyBlockView {
            status: block.status,
            start: block.start,
            end: block.end,
        }
    }
}

/// The "Free Busy" calendar over one range.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FreeBusyView {
    pub calendar: CalendarView,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub blocks: Vec<BusyBlockView>,
    /// `getSchedule`, or `calendarView` when Microsoft refused getSchedule for this sign-in.
    pub source: FreeBusySource,
}

impl From<FreeBusy> for FreeBusyView {
    fn from(free_busy: FreeBusy) -> Self {
        FreeBusyView {
            calendar: free_busy.calendar.into(),
            start: free_busy.start,
            end: free_busy.end,
            blocks: free_busy.blocks.into_iter().map(Into::into).collect(),
            source: free_busy.source,
        }
    }
}

/// A browser sign-in in progress; the outcome arrives on the command's channel.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BrowserSignInView {
    /// Shown with a copy button in case the browser did not open (holds no secret: PKCE sends only the challenge).
    pub authorize_url: String,
    pub browser_opened: bool,
    pub timeout_seconds: u64,
}

/// A device-code sign-in in progress: what to show the person.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceCodeView {
    pub user_code: String,
    pub verification_uri: String,
    /// `data:image/svg+xml;base64,…` QR code of the verification URI.
    pub qr_code: Option<String>,
    pub expires_at: DateTime<Utc>,
    pub remaining_seconds: u64,
    pub message: Option<String>,
}

/// One option of the Settings step's cloud list.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CloudOption {
    pub value: Cloud,
    pub label: String,
}

/// The Settings step: what is saved, and what this run actually uses.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SettingsView {
    pub saved: Settings,
    /// The cloud this run talks to (the command line's `--sandbox` wins over the saved cloud).
    pub active_cloud: Cloud,
    pub active_cloud_label: String,
    /// Set when the command line chose the cloud, so saving changes only later runs.
    pub locked_by_command_line: bool,
    pub clouds: Vec<CloudOption>,
    /// The sandbox's fixed tenant and app IDs, shown when Sandbox is chosen.
    pub sandbox: Settings,
}

/// "Register the apps in my tenant": the commands and manifest that create the three apps, and what they need.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RegistrationGuideView {
    /// The tenant both scripts sign in to, when the form names one.
    pub tenant: Option<String>,
    pub apps: Vec<RegistrationAppView>,
    pub azure_cli: String,
    pub powershell: String,
    /// The three apps' Microsoft Graph `application` objects, one JSON array.
    pub manifest: String,
    pub notes: Vec<String>,
}

/// One app to register: its name in Entra ID, its delegated permissions (name and Graph ID) and its manifest.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RegistrationAppView {
    pub access: Access,
    pub label: String,
    pub display_name: String,
    pub permissions: Vec<PermissionIdView>,
    pub manifest: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PermissionIdView {
    pub name: String,
    pub id: String,
}

impl From<RegistrationGuide> for RegistrationGuideView {
    fn from(guide: RegistrationGuide) -> Self {
        RegistrationGuideView {
            tenant: guide.tenant,
            apps: guide
                .apps
                .into_iter()
                .map(|plan| RegistrationAppView {
                    access: plan.app.into(),
                    label: plan.label.to_owned(),
                    display_name: plan.display_name.to_owned(),
                    permissions: plan
                        .permissions
                        .iter()
                        .map(|permission| PermissionIdView {
                            name: permission.name.to_owned(),
                            id: permission.id.to_owned(),
                        })
                        .collect(),
                    manifest: plan.manifest,
                })
                .collect(),
            azure_cli: guide.azure_cli,
            powershell: guide.powershell,
            manifest: guide.manifest,
            notes: guide.notes,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn calendar(color: Option<&str>, hex: Option<&str>) -> CalendarInfo {
        CalendarInfo {
            id: "c".into(),
            name: "Calendar".into(),
            color: color.map(str::to_owned),
            hex_color: hex.map(str::to_owned),
            is_default: true,
            can_edit: true,
            owner_name: None,
            owner_email: Some("adele@contoso.com".into()),
            free_busy_only: false,
        }
    }

    #[test]
    fn the_swatch_prefers_the_owner_hex_colour_then_the_named_colour() {
        assert_eq!(
            CalendarView::from(calendar(Some("lightBlue"), Some("#112233")))
                .color
                .as_deref(),
            Some("#112233")
        );
        assert_eq!(
            CalendarView::from(calendar(Some("lightBlue"), None))
                .color
                .as_deref(),
            Some("#5b9bd5")
        );
        assert_eq!(CalendarView::from(calendar(Some("auto"), None)).color, None);
    }

    #[test]
    fn a_hex_colour_that_is_not_a_plain_colour_never_reaches_the_style() {
        let view = CalendarView::from(calendar(None, Some("red;background:url(x)")));
        assert_eq!(view.color, None);
    }

    #[test]
    fn the_owner_falls_back_to_the_email_address() {
        let view = CalendarView::from(calendar(None, None));
        assert_eq!(view.owner.as_deref(), Some("adele@contoso.com"));
        assert_eq!(serde_json::to_value(&view).unwrap()["isDefault"], true);
    }

    #[test]
    fn access_is_camel_case_on_the_wire() {
        assert_eq!(
            serde_json::to_string(&Access::FreeBusy).unwrap(),
            r#""freeBusy""#
        );
        let parsed: Access = serde_json::from_str(r#""full""#).unwrap();
        assert_eq!(AppKind::from(parsed), AppKind::Full);
    }
}

/// Where an account's tokens live and how fresh its sign-in is (the refresh token ends after 90 days unused).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountDetailsView {
    pub keychain: String,
    pub refresh_token_last_used: DateTime<Utc>,
    pub refresh_token_expires_at: DateTime<Utc>,
}

impl From<calconnect_core::AccountDetails> for AccountDetailsView {
    fn from(details: calconnect_core::AccountDetails) -> Self {
        AccountDetailsView {
            keychain: details.keychain,
            refresh_token_last_used: details.refresh_token_last_used,
            refresh_token_expires_at: details.refresh_token_expires_at,
        }
    }
}
