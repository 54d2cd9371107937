//! Fixed identifiers of the built-in demo tenant ([`crate::tenant::Tenant::demo`]).
//!
//! Clients, tests and the desktop app's demo mode refer to these constants instead of repeating literals.

/// Directory (tenant) id of Contoso, the demo tenant.
pub const TENANT_ID: &str = "5e6a1b7c-3f0d-4c2a-9b8e-6d1f2a3c4b5d";
/// Verified domain of the demo tenant (its default domain); also accepted as `{tenant}` in authority URLs.
pub const DOMAIN: &str = "contoso.com";
/// The demo tenant's initial domain, the `*.onmicrosoft.com` one Entra gives every tenant; also accepted
/// as `{tenant}` in authority URLs.
pub const INITIAL_DOMAIN: &str = "contoso.onmicrosoft.com";
/// Display name of the demo tenant.
pub const TENANT_NAME: &str = "Contoso";

/// Adele Vance: several calendars, a realistic week of events, Teams-enabled and covered by the Teams
/// application access policy [`TEAMS_APPLICATION_ACCESS_POLICY`]; a Global Administrator, so she may grant
/// tenant-wide admin consent.
pub const ADELE: &str = "adele@contoso.com";
/// Megan Bowen: many calendars, so `/me/calendars` pages.
pub const MEGAN: &str = "megan@contoso.com";
/// Lee Gu: the tenant requires admin consent for the Full app for him (AADSTS90094 / AADSTS65001); Teams-enabled
/// but outside every Teams application access policy.
pub const LEE: &str = "lee@contoso.com";
/// Alex Wilber: blocked by a conditional access policy (AADSTS53003).
pub const ALEX: &str = "alex@contoso.com";

/// Public client asking for `User.Read Calendars.ReadWrite offline_access` ("calconnect").
pub const FULL_APP_CLIENT_ID: &str = "0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9";
/// Public client asking for `Calendars.ReadBasic User.Read offline_access` ("calconnect Free/Busy").
pub const FREEBUSY_APP_CLIENT_ID: &str = "1c2d3e4f-5061-4728-93a4-b5c6d7e8f90a";
/// Confidential client for app-only EWS (client credentials); in the Exchange Online demo it reaches the
/// mailboxes of [`SERVICE_SCOPE`] through RBAC for Applications.
pub const EWS_APP_CLIENT_ID: &str = "2d3e4f50-6172-4839-a4b5-c6d7e8f90a1b";
/// Client secret of [`EWS_APP_CLIENT_ID`]. Demo-only value; it is public on purpose.
pub const EWS_APP_CLIENT_SECRET: &str = "demo-ews-app-secret~not-a-real-secret";
/// Confidential client holding `full_access_as_app` but missing from `EwsAllowedAppIDs` (Exchange Online demo).
pub const EWS_UNLISTED_APP_CLIENT_ID: &str = "3e4f5061-7283-494a-b5c6-d7e8f90a1b2c";
/// Client secret of [`EWS_UNLISTED_APP_CLIENT_ID`]. Demo-only value; it is public on purpose.
pub const EWS_UNLISTED_APP_CLIENT_SECRET: &str = "demo-unlisted-ews-secret~not-a-real-secret";
/// Public client "calconnect Teams" asking for `User.Read OnlineMeetings.ReadWrite offline_access`: Teams
/// conferencing only, no calendar access.
pub const TEAMS_APP_CLIENT_ID: &str = "4f506172-8394-4a5b-86d7-e8f90a1b2c3d";
/// Confidential client "calconnect Teams Enterprise" with the application permissions `User.ReadBasic.All
/// OnlineMeetings.ReadWrite.All Organization.Read.All`; it authenticates with
/// [`TEAMS_ENTERPRISE_APP_CLIENT_SECRET`] or with the certificate of [`TEAMS_ENTERPRISE_CERTIFICATE_PEM`].
pub const TEAMS_ENTERPRISE_APP_CLIENT_ID: &str = "50617283-94a5-4b6c-97e8-f90a1b2c3d4e";
/// Client secret of [`TEAMS_ENTERPRISE_APP_CLIENT_ID`]. Demo-only value; it is public on purpose.
pub const TEAMS_ENTERPRISE_APP_CLIENT_SECRET: &str =
    "demo-teams-enterprise-secret~not-a-real-secret";
/// Private key (PKCS#8, `-----BEGIN PRIVATE KEY-----`) followed by the certificate (`-----BEGIN
/// CERTIFICATE-----`, RSA 2048, self-signed, valid 2026-12-01 to 2076-11-30) registered on
/// [`TEAMS_ENTERPRISE_APP_CLIENT_ID`], for signing client assertions. A public demo credential, committed on
/// purpose; it authenticates nothing outside the sandbox.
pub const TEAMS_ENTERPRISE_CERTIFICATE_PEM: &str = include_str!("tenant/demo-teams-enterprise.pem");
/// SHA-1 thumbprint of that certificate, as the portal and AADSTS700027 show it.
pub const TEAMS_ENTERPRISE_CERTIFICATE_THUMBPRINT: &str =
    "848D26F55BF36ABC75857B4BFC50CF56D5FDD797";
/// The Teams application access policy (`New-CsApplicationAccessPolicy -Identity`) listing
/// [`TEAMS_ENTERPRISE_APP_CLIENT_ID`], granted to [`ADELE`] only.
pub const TEAMS_APPLICATION_ACCESS_POLICY: &str = "calconnect Teams pilot";

/// Confidential client "calconnect Enterprise Connect (Graph)" with the application permissions `User.Read.All
/// Organization.Read.All Place.Read.All`, plus `Calendars.ReadWrite`: granted tenant-wide in Entra in the
/// on-premises demo, and in the Exchange Online demo only through RBAC for Applications (`Application
/// Calendars.ReadWrite` over [`GRAPH_SCOPE`]: adele and megan, not lee), so there its tokens carry three
/// roles. It authenticates with [`GRAPH_ENTERPRISE_APP_CLIENT_SECRET`] or with the same certificate as the
/// Teams Enterprise app ([`TEAMS_ENTERPRISE_CERTIFICATE_PEM`]).
pub const GRAPH_ENTERPRISE_APP_CLIENT_ID: &str = "7283940a-5b6c-4d7e-89fa-0b1c2d3e4f60";
/// Client secret of [`GRAPH_ENTERPRISE_APP_CLIENT_ID`]. Demo-only value; it is public on purpose.
pub const GRAPH_ENTERPRISE_APP_CLIENT_SECRET: &str =
    "demo-graph-enterprise-secret~not-a-real-secret";
/// Public client "calconnect Enterprise Connect Free/Busy (Graph)" asking for the delegated
/// `Calendars.ReadBasic User.Read offline_access`.
pub const GRAPH_FREEBUSY_APP_CLIENT_ID: &str = "83940a5b-6c7d-4e8f-9a0b-1c2d3e4f5061";
/// Confidential client holding `User.Read.All Organization.Read.All Calendars.ReadWrite` (tenant-wide, so
/// every mailbox) but not `Place.Read.All`: rooms are refused.
pub const GRAPH_ENTERPRISE_NO_PLACES_APP_CLIENT_ID: &str = "940a5b6c-7d8e-4f9a-8b1c-2d3e4f506172";
/// Client secret of [`GRAPH_ENTERPRISE_NO_PLACES_APP_CLIENT_ID`]. Demo-only value; it is public on purpose.
pub const GRAPH_ENTERPRISE_NO_PLACES_APP_CLIENT_SECRET: &str =
    "demo-graph-no-places-secret~not-a-real-secret";
/// Confidential client "calconnect Enterprise Connect (Graph, awaiting consent)": requests the application
/// permissions `User.Read.All Organization.Read.All Place.Read.All Calendars.ReadWrite` but none is granted,
/// so its tokens carry no `roles` until an administrator ([`ADELE`]) approves
/// `/{tenant}/adminconsent?client_id=…`. A fresh sandbox starts unconsented again.
pub const GRAPH_UNCONSENTED_APP_CLIENT_ID: &str = "0a5b6c7d-8e9f-4a0b-9c2d-3e4f50617283";
/// Client secret of [`GRAPH_UNCONSENTED_APP_CLIENT_ID`]. Demo-only value; it is public on purpose.
pub const GRAPH_UNCONSENTED_APP_CLIENT_SECRET: &str =
    "demo-graph-unconsented-secret~not-a-real-secret";
/// The management scope (`PrimarySmtpAddress` adele or megan) of the Exchange Online demo's `Application
/// Calendars.ReadWrite` assignment to [`GRAPH_ENTERPRISE_APP_CLIENT_ID`].
pub const GRAPH_SCOPE: &str = "calconnect Graph pilot mailboxes";

/// Room mailbox "Conf Room Rainier" (in [`BUILDING_1`]).
pub const ROOM_RAINIER: &str = "rainier@contoso.com";
/// Room mailbox "Conf Room Baker" (in [`BUILDING_1`]).
pub const ROOM_BAKER: &str = "baker@contoso.com";
/// Room mailbox "Conf Room Adams", in no room list.
pub const ROOM_ADAMS: &str = "adams@contoso.com";
/// Room list "Building 1" (a distribution group created with `-RoomList`).
pub const BUILDING_1: &str = "building1@contoso.com";

/// The management scope (`Department -eq 'Retail'`: adele) of the demo's impersonation and RBAC for
/// Applications assignments.
pub const SERVICE_SCOPE: &str = "calconnect pilot mailboxes";

/// The loopback redirect URI registered for the public clients (port ignored, RFC 8252 §7.3).
pub const REDIRECT_URI: &str = "http://localhost";

/// Exchange service account used for Enterprise Connect.
pub const SERVICE_ACCOUNT_UPN: &str = "svc-calconnect@contoso.com";
/// Password of [`SERVICE_ACCOUNT_UPN`]. Demo-only value; it is public on purpose.
pub const SERVICE_ACCOUNT_PASSWORD: &str = "Demo-Passw0rd!calconnect";

/// Graph resource application id, one of the two accepted `aud` values of Graph access tokens.
pub const GRAPH_RESOURCE_APP_ID: &str = "00000003-0000-0000-c000-000000000000";
/// Graph resource URI.
pub const GRAPH_RESOURCE: &str = "https://graph.microsoft.com";
/// Exchange Online resource URI, the `aud` of EWS access tokens.
pub const EXCHANGE_RESOURCE: &str = "https://outlook.office365.com";
/// Exchange Online resource application id.
pub const EXCHANGE_RESOURCE_APP_ID: &str = "00000002-0000-0ff1-ce00-000000000000";
