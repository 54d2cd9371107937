//! The Contoso demo tenant: a realistic week of events placed in the current week, apps for every flow,
//! and Exchange in two flavours built from Exchange's own primitives:
//! - [`Tenant::demo`]: Exchange 2019 CU14 on premises for the service account (NTLM, Negotiate, Basic);
//! - [`Tenant::demo_exchange_online`]: the same directory in Exchange Online, for app-only EWS.
//!
//! [`Tenant::to_annotated_toml`] prints either with a one-line comment on each scenario
//! (`calconnect-sandbox --print-demo`).

use chrono::{DateTime, Duration, Utc, Weekday};
use uuid::Uuid;

use super::apps::{AppRegistration, KeyCredential, TenantSecret};
use super::directory::{Calendar, Event, Frequency, Recurrence, Sensitivity, ShowAs, User};
use super::exchange::{
    AccessRights, AuthMethod, Deployment, Exchange, ExtendedProtection, FolderPermission, Mailbox,
    ManagementScope, OrganizationConfig, RoleAssignment, RoomList, RoomMailbox, ServiceAccount,
    SharingPermissionFlag, APPLICATION_CALENDARS_READ_WRITE, APPLICATION_EWS_ACCESS_AS_APP,
    APPLICATION_IMPERSONATION, DEFAULT_USER, EXCHANGE_2019_CU14,
};
use super::teams::{ApplicationAccessPolicy, ApplicationAccessPolicyGrant, Teams};
use super::{week_start, GraphSettings, Tenant};
use crate::demo;
use crate::error::Result;

impl Tenant {
    /// The Contoso demo tenant with Exchange on premises, its week of events placed in the current week
    /// (Monday, UTC).
    pub fn demo() -> Self {
        Self::demo_at(Utc::now())
    }

    /// The on-premises demo tenant with its week starting on the Monday of `now`'s week.
    pub fn demo_at(now: DateTime<Utc>) -> Self {
        DemoWeek::new(week_start(now)).tenant(Deployment::OnPremises)
    }

    /// The same directory with Exchange Online: app-only EWS scoped by RBAC for Applications, and an
    /// app that is not on `EwsAllowedAppIDs`.
    pub fn demo_exchange_online() -> Self {
        DemoWeek::new(week_start(Utc::now())).tenant(Deployment::ExchangeOnline)
    }

    /// Adds `count` mailboxes `bulk001@contoso.com`, … shaped in turn like adele (Retail: inside the
    /// impersonation and RBAC scopes), megan (Editor on the Calendar for the service account), lee
    /// (only `Default` AvailabilityOnly) and alex (`Default` None): a tenant for bulk runs and their
    /// benchmark, built from the same primitives as the demo (users, mailboxes, folder permissions).
    pub fn with_bulk_mailboxes(mut self, count: usize) -> Self {
        let patterns = [demo::ADELE, demo::MEGAN, demo::LEE, demo::ALEX];
        for index in 0..count {
            let pattern = patterns[index % patterns.len()];
            let Some(template) = self.user_by_email(pattern).cloned() else {
                continue;
            };
            let address = format!("bulk{:03}@{}", index + 1, demo::DOMAIN);
            let mut user = template;
            user.id = Uuid::new_v4();
            user.display_name = format!("Bulk mailbox {} (like {pattern})", index + 1);
            user.user_principal_name = address.clone();
            user.mail = Some(address.clone());
            user.secondary_addresses = Vec::new();
            let permissions: Vec<FolderPermission> = self
                .exchange
                .folder_permissions
                .iter()
                .filter(|permission| permission.mailbox.eq_ignore_ascii_case(pattern))
                .map(|permission| FolderPermission {
                    mailbox: address.clone(),
                    ..permission.clone()
                })
                .collect();
            self.exchange.folder_permissions.extend(permissions);
            self.exchange.mailboxes.push(Mailbox {
                smtp: address.clone(),
                owner: address,
            });
            self.users.push(user);
        }
        self
    }

    /// TOML with a one-line comment above each demo scenario (`--print-demo`).
    pub fn to_annotated_toml(&self) -> Result<String> {
        Ok(annotate(&self.to_toml()?, SCENARIOS))
    }
}

/// (text on a line of the entry, comment above the entry's table header).
const SCENARIOS: &[(&str, &str)] = &[
    ("user_principal_name = \"adele@contoso.com\"", "adele: several calendars and a realistic week; Retail, so inside the service account's scopes; a Global Administrator, so she may grant admin consent (/adminconsent)"),
    ("user_principal_name = \"megan@contoso.com\"", "megan: 25 calendars, so /me/calendars pages"),
    ("user_principal_name = \"lee@contoso.com\"", "lee: his tenant requires admin consent for the Full app, so only Free/Busy works; Teams-licensed, but no Teams application access policy covers him"),
    ("user_principal_name = \"alex@contoso.com\"", "alex: blocked by a conditional access policy (AADSTS53003)"),
    ("name = \"calconnect Teams\"", "the Teams app: delegated User.Read OnlineMeetings.ReadWrite, no calendar permission, so its tokens get 403 on calendars"),
    ("name = \"calconnect Teams Enterprise\"", "the enterprise Teams app: application permissions User.ReadBasic.All OnlineMeetings.ReadWrite.All Organization.Read.All; a client secret and a certificate (demo::TEAMS_ENTERPRISE_CERTIFICATE_PEM holds its private key)"),
    ("identity = \"calconnect Teams pilot\"", "New-CsApplicationAccessPolicy -Identity \"calconnect Teams pilot\" -AppIds <the enterprise Teams app>"),
    ("identity = \"adele@contoso.com\"", "Grant-CsApplicationAccessPolicy -PolicyName \"calconnect Teams pilot\" -Identity adele: the enterprise Teams app may create her meetings; lee has no grant and there is no -Global one, so it may not create his"),
    ("name = \"calconnect Enterprise Connect (EWS)\"", "the EWS app: no tenant-wide full_access_as_app; in Exchange Online it is scoped by RBAC for Applications"),
    ("name = \"calconnect Enterprise Connect (EWS, not allow-listed)\"", "full_access_as_app, but not on EwsAllowedAppIDs: Exchange Online answers it with HTTP 403 from 2026-10-01"),
    ("name = \"calconnect Enterprise Connect (Graph)\"", "the Graph Enterprise Connect app: application permissions User.Read.All Organization.Read.All Place.Read.All, and Calendars.ReadWrite tenant-wide on premises or, in Exchange Online, only through RBAC for Applications (adele and megan); a client secret and the Teams Enterprise app's certificate"),
    ("name = \"calconnect Enterprise Connect Free/Busy (Graph)\"", "the Graph Free/Busy app: delegated Calendars.ReadBasic User.Read offline_access"),
    ("name = \"calconnect Enterprise Connect (Graph, no Place.Read.All)\"", "a Graph app with tenant-wide Calendars.ReadWrite (every mailbox, lee too) but no Place.Read.All, so rooms are refused"),
    ("name = \"calconnect Enterprise Connect (Graph, awaiting consent)\"", "a Graph app requesting User.Read.All Organization.Read.All Place.Read.All Calendars.ReadWrite with none granted: its tokens carry no roles until an administrator (adele) approves /adminconsent?client_id=<this app>"),
    ("name = \"calconnect Graph pilot mailboxes\"", "adele and megan: the scope of the Graph app's Application Calendars.ReadWrite; lee is outside it"),
    ("role = \"Application Calendars.ReadWrite\"", "RBAC for Applications: New-ManagementRoleAssignment -App <the Graph app> -Role \"Application Calendars.ReadWrite\" -CustomResourceScope \"calconnect Graph pilot mailboxes\""),
    ("smtp = \"rainier@contoso.com\"", "rooms (New-Mailbox -Room, Set-Place) that Graph lists under /places/microsoft.graph.room"),
    ("smtp = \"building1@contoso.com\"", "the room list Building 1 (New-DistributionGroup -RoomList): Rainier and Baker"),
    ("recipient_restriction_filter = \"Department -eq 'Retail'\"", "adele is the only Retail mailbox: the scope of the grants below"),
    ("role = \"ApplicationImpersonation\"", "adele: the service account may impersonate her (scoped ApplicationImpersonation) -> full access"),
    ("role = \"Application EWS.AccessAsApp\"", "RBAC for Applications: the EWS app reaches adele (in scope), not megan (out of scope)"),
    ("access_rights = \"Editor\"", "megan: Editor on her Calendar folder only, no impersonation -> calendar-only delegate access"),
    ("access_rights = \"None\"", "alex: Default set to None on his calendar -> nothing, not even free/busy; lee keeps Default AvailabilityOnly"),
    ("ews_allowed_app_ids = [", "EwsEnabled with an allow list: only the EWS app reaches Exchange Online's EWS"),
    ("extended_protection = ", "the EWS virtual directory's Extended Protection: off, accept (CU14 front end default) or require"),
];

/// Inserts `# comment` above the table holding each anchor's first occurrence (or above the anchor
/// line itself when it is not inside a table).
fn annotate(toml: &str, scenarios: &[(&str, &str)]) -> String {
    let mut lines: Vec<String> = toml.lines().map(str::to_owned).collect();
    for (anchor, comment) in scenarios {
        let Some(found) = lines.iter().position(|line| line.contains(anchor)) else {
            continue;
        };
        let header = (0..=found)
            .rev()
            .find(|index| lines[*index].starts_with('['))
            .filter(|index| !lines[*index..found].iter().any(String::is_empty))
            .unwrap_or(found);
        lines.insert(header, format!("# {comment}"));
    }
    let mut text = lines.join("\n");
    text.push('\n');
    text
}

/// Builds the demo tenant relative to a Monday.
struct DemoWeek {
    monday: DateTime<Utc>,
}

impl DemoWeek {
    fn new(monday: DateTime<Utc>) -> Self {
        Self { monday }
    }

    /// `day` 0 = Monday; `hour`/`minute` UTC.
    fn at(&self, day: i64, hour: i64, minute: i64) -> DateTime<Utc> {
        self.monday + Duration::days(day) + Duration::hours(hour) + Duration::minutes(minute)
    }

    fn event(
        &self,
        id: &str,
        subject: &str,
        location: &str,
        start: DateTime<Utc>,
        minutes: i64,
    ) -> Event {
        Event {
            id: id.to_owned(),
            subject: subject.to_owned(),
            location: location.to_owned(),
            start,
            end: start + Duration::minutes(minutes),
            is_all_day: false,
            show_as: ShowAs::Busy,
            sensitivity: Sensitivity::Normal,
            recurrence: None,
            organizer: None,
        }
    }

    fn all_day(&self, id: &str, subject: &str, day: i64, days: i64) -> Event {
        let start = self.at(day, 0, 0);
        Event {
            is_all_day: true,
            end: start + Duration::days(days),
            show_as: ShowAs::Free,
            ..self.event(id, subject, "", start, 0)
        }
    }

    fn tenant(&self, deployment: Deployment) -> Tenant {
        let adele_events = vec![
            Event {
                recurrence: Some(Recurrence {
                    frequency: Frequency::Weekly,
                    interval: 1,
                    days_of_week: vec![
                        Weekday::Mon,
                        Weekday::Tue,
                        Weekday::Wed,
                        Weekday::Thu,
                        Weekday::Fri,
                    ],
                    until: None,
                    count: Some(40),
                }),
                organizer: Some("megan@contoso.com".to_owned()),
                ..self.event(
                    "AAMkAGAdeleStandup",
                    "Daily stand-up",
                    "Microsoft Teams Meeting",
                    self.at(0, 8, 30),
                    15,
                )
            },
            self.event(
                "AAMkAGAdeleReview",
                "Product review: Mark 8",
                "Conf Room Rainier",
                self.at(0, 13, 0),
                60,
            ),
            self.all_day("AAMkAGAdeleOffsite", "Marketing offsite", 1, 1),
            Event {
                sensitivity: Sensitivity::Private,
                ..self.event(
                    "AAMkAGAdeleDoctor",
                    "Doctor appointment",
                    "Bellevue Clinic",
                    self.at(2, 11, 0),
                    60,
                )
            },
            Event {
                show_as: ShowAs::Tentative,
                organizer: Some("lee@contoso.com".to_owned()),
                ..self.event(
                    "AAMkAGAdelePartner",
                    "Fabrikam partner sync",
                    "Microsoft Teams Meeting",
                    self.at(2, 15, 0),
                    30,
                )
            },
            Event {
                show_as: ShowAs::WorkingElsewhere,
                ..self.event(
                    "AAMkAGAdeleSeattle",
                    "Working from the Seattle office",
                    "Seattle",
                    self.at(3, 8, 0),
                    540,
                )
            },
            Event {
                show_as: ShowAs::Oof,
                ..self.event(
                    "AAMkAGAdeleHalfDay",
                    "Out of office",
                    "",
                    self.at(4, 13, 0),
                    240,
                )
            },
            self.event(
                "AAMkAGAdeleLunch",
                "Lunch with Alex",
                "Cafe 34",
                self.at(4, 11, 30),
                60,
            ),
        ];
        let adele_team = vec![
            self.event(
                "AAMkAGTeamAllHands",
                "Contoso all-hands",
                "Building 92",
                self.at(1, 16, 0),
                60,
            ),
            Event {
                show_as: ShowAs::Free,
                ..self.event(
                    "AAMkAGTeamLaunch",
                    "Launch window (FYI)",
                    "",
                    self.at(3, 17, 0),
                    120,
                )
            },
        ];
        let adele = User {
            id: Uuid::from_u128(0x8d6a_4c3e_1b2f_4a5d_9e8f_7a6b_5c4d_3e01),
            display_name: "Adele Vance".to_owned(),
            given_name: Some("Adele".to_owned()),
            surname: Some("Vance".to_owned()),
            user_principal_name: demo::ADELE.to_owned(),
            mail: Some(demo::ADELE.to_owned()),
            job_title: Some("Retail Manager".to_owned()),
            department: Some("Retail".to_owned()),
            office_location: Some("18/2111".to_owned()),
            conditional_access_blocked: false,
            admin_consent_required_for: Vec::new(),
            // The demo tenant's administrator, who grants admin consent (`/adminconsent`).
            directory_roles: vec!["Global Administrator".to_owned()],
            teams_enabled: true,
            secondary_addresses: vec![
                "smtp:adele.vance@contoso.com".to_owned(),
                format!("smtp:adele@{}", demo::INITIAL_DOMAIN),
            ],
            calendars: vec![
                calendar(
                    "AAMkAGAdeleCalendar",
                    "Calendar",
                    "auto",
                    true,
                    adele_events,
                ),
                calendar(
                    "AAMkAGAdeleTeam",
                    "Team Events",
                    "lightGreen",
                    false,
                    adele_team,
                ),
                calendar(
                    "AAMkAGAdeleBirthdays",
                    "Birthdays",
                    "lightPink",
                    false,
                    vec![self.all_day("AAMkAGAdeleBirthdayLee", "Lee Gu's birthday", 3, 1)],
                ),
            ],
        };
        let megan = User {
            id: Uuid::from_u128(0x8d6a_4c3e_1b2f_4a5d_9e8f_7a6b_5c4d_3e02),
            display_name: "Megan Bowen".to_owned(),
            given_name: Some("Megan".to_owned()),
            surname: Some("Bowen".to_owned()),
            user_principal_name: demo::MEGAN.to_owned(),
            mail: Some(demo::MEGAN.to_owned()),
            job_title: Some("Marketing Manager".to_owned()),
            department: Some("Marketing".to_owned()),
            office_location: Some("12/1110".to_owned()),
            conditional_access_blocked: false,
            admin_consent_required_for: Vec::new(),
            directory_roles: Vec::new(),
            teams_enabled: true,
            secondary_addresses: vec![format!("smtp:megan@{}", demo::INITIAL_DOMAIN)],
            calendars: std::iter::once(calendar(
                "AAMkAGMeganCalendar",
                "Calendar",
                "auto",
                true,
                vec![self.event(
                    "AAMkAGMeganPlanning",
                    "Campaign planning",
                    "Conf Room Baker",
                    self.at(1, 9, 0),
                    90,
                )],
            ))
            .chain((1..=24).map(|index| {
                let colors = [
                    "lightBlue",
                    "lightGreen",
                    "lightOrange",
                    "lightGray",
                    "lightYellow",
                    "lightTeal",
                ];
                calendar(
                    &format!("AAMkAGMeganProject{index:02}"),
                    &format!("Project {index:02}"),
                    colors[index % colors.len()],
                    false,
                    Vec::new(),
                )
            }))
            .collect(),
        };
        let lee = User {
            id: Uuid::from_u128(0x8d6a_4c3e_1b2f_4a5d_9e8f_7a6b_5c4d_3e03),
            display_name: "Lee Gu".to_owned(),
            given_name: Some("Lee".to_owned()),
            surname: Some("Gu".to_owned()),
            user_principal_name: demo::LEE.to_owned(),
            mail: Some(demo::LEE.to_owned()),
            job_title: Some("Director".to_owned()),
            department: Some("Executive".to_owned()),
            office_location: Some("23/3101".to_owned()),
            conditional_access_blocked: false,
            admin_consent_required_for: vec![demo::FULL_APP_CLIENT_ID.to_owned()],
            directory_roles: Vec::new(),
            teams_enabled: true,
            secondary_addresses: vec![format!("smtp:lee@{}", demo::INITIAL_DOMAIN)],
            calendars: vec![calendar(
                "AAMkAGLeeCalendar",
                "Calendar",
                "auto",
                true,
                vec![
                    self.event(
                        "AAMkAGLeeBoard",
                        "Board preparation",
                        "Conf Room Adams",
                        self.at(0, 10, 0),
                        120,
                    ),
                    Event {
                        sensitivity: Sensitivity::Private,
                        ..self.event(
                            "AAMkAGLeeDentist",
                            "Dentist",
                            "Redmond",
                            self.at(3, 14, 0),
                            60,
                        )
                    },
                ],
            )],
        };
        let alex = User {
            id: Uuid::from_u128(0x8d6a_4c3e_1b2f_4a5d_9e8f_7a6b_5c4d_3e04),
            display_name: "Alex Wilber".to_owned(),
            given_name: Some("Alex".to_owned()),
            surname: Some("Wilber".to_owned()),
            user_principal_name: demo::ALEX.to_owned(),
            mail: Some(demo::ALEX.to_owned()),
            job_title: Some("Marketing Assistant".to_owned()),
            department: Some("Marketing".to_owned()),
            office_location: Some("131/1104".to_owned()),
            conditional_access_blocked: true,
            admin_consent_required_for: Vec::new(),
            directory_roles: Vec::new(),
            teams_enabled: true,
            secondary_addresses: vec![format!("smtp:alex@{}", demo::INITIAL_DOMAIN)],
            calendars: vec![calendar(
                "AAMkAGAlexCalendar",
                "Calendar",
                "auto",
                true,
                vec![self.event(
                    "AAMkAGAlexLunch",
                    "Lunch with Adele",
                    "Cafe 34",
                    self.at(4, 11, 30),
                    60,
                )],
            )],
        };
        let service = User {
            id: Uuid::from_u128(0x8d6a_4c3e_1b2f_4a5d_9e8f_7a6b_5c4d_3e05),
            display_name: "calconnect service account".to_owned(),
            given_name: None,
            surname: None,
            user_principal_name: demo::SERVICE_ACCOUNT_UPN.to_owned(),
            mail: Some(demo::SERVICE_ACCOUNT_UPN.to_owned()),
            job_title: None,
            office_location: None,
            department: None,
            conditional_access_blocked: false,
            admin_consent_required_for: Vec::new(),
            directory_roles: Vec::new(),
            teams_enabled: false,
            secondary_addresses: vec![format!("smtp:svc-calconnect@{}", demo::INITIAL_DOMAIN)],
            calendars: vec![calendar(
                "AAMkAGSvcCalendar",
                "Calendar",
                "auto",
                true,
                Vec::new(),
            )],
        };
        let users = vec![adele, megan, lee, alex, service];
        let mailboxes = users
            .iter()
            .map(|user| Mailbox {
                smtp: user.email().to_owned(),
                owner: user.user_principal_name.clone(),
            })
            .collect();
        let online = deployment == Deployment::ExchangeOnline;
        let mut apps = vec![
            AppRegistration {
                client_id: demo::FULL_APP_CLIENT_ID.to_owned(),
                name: "calconnect".to_owned(),
                scopes: vec![
                    "User.Read".into(),
                    "Calendars.ReadWrite".into(),
                    "OnlineMeetings.ReadWrite".into(),
                ],
                app_roles: Vec::new(),
                requested_app_roles: Vec::new(),
                public_client: true,
                allow_public_client_flows: true,
                redirect_uris: vec![demo::REDIRECT_URI.to_owned()],
                client_secret: None,
                key_credentials: Vec::new(),
            },
            AppRegistration {
                client_id: demo::FREEBUSY_APP_CLIENT_ID.to_owned(),
                name: "calconnect Free/Busy".to_owned(),
                scopes: vec!["Calendars.ReadBasic".into(), "User.Read".into()],
                app_roles: Vec::new(),
                requested_app_roles: Vec::new(),
                public_client: true,
                allow_public_client_flows: true,
                redirect_uris: vec![demo::REDIRECT_URI.to_owned()],
                client_secret: None,
                key_credentials: Vec::new(),
            },
            AppRegistration {
                client_id: demo::TEAMS_APP_CLIENT_ID.to_owned(),
                name: "calconnect Teams".to_owned(),
                scopes: vec!["User.Read".into(), "OnlineMeetings.ReadWrite".into()],
                app_roles: Vec::new(),
                requested_app_roles: Vec::new(),
                public_client: true,
                allow_public_client_flows: true,
                redirect_uris: vec![demo::REDIRECT_URI.to_owned()],
                client_secret: None,
                key_credentials: Vec::new(),
            },
            AppRegistration {
                key_credentials: vec![KeyCredential {
                    key_id: Uuid::from_u128(0x6172_8394_a5b6_4c7d_88f9_0a1b_2c3d_4e5f),
                    display_name: Some("CN=calconnect Teams Enterprise (sandbox demo)".to_owned()),
                    certificate: certificate_block(demo::TEAMS_ENTERPRISE_CERTIFICATE_PEM),
                }],
                ..confidential_app(
                    demo::TEAMS_ENTERPRISE_APP_CLIENT_ID,
                    "calconnect Teams Enterprise",
                    demo::TEAMS_ENTERPRISE_APP_CLIENT_SECRET,
                    vec![
                        "User.ReadBasic.All".to_owned(),
                        "OnlineMeetings.ReadWrite.All".to_owned(),
                        "Organization.Read.All".to_owned(),
                    ],
                )
            },
            confidential_app(
                demo::EWS_APP_CLIENT_ID,
                "calconnect Enterprise Connect (EWS)",
                demo::EWS_APP_CLIENT_SECRET,
                Vec::new(),
            ),
            AppRegistration {
                // The Teams Enterprise app's certificate, uploaded to this registration too, so one
                // PEM authenticates both (a certificate may be registered on several apps).
                key_credentials: vec![KeyCredential {
                    key_id: Uuid::from_u128(0x7283_940a_5b6c_4d7e_89fa_0b1c_2d3e_4f61),
                    display_name: Some("CN=calconnect Teams Enterprise (sandbox demo)".to_owned()),
                    certificate: certificate_block(demo::TEAMS_ENTERPRISE_CERTIFICATE_PEM),
                }],
                // Delegated `openid email` for the administrator who authorizes it (the seed).
                scopes: vec!["openid".into(), "email".into()],
                ..confidential_app(
                    demo::GRAPH_ENTERPRISE_APP_CLIENT_ID,
                    "calconnect Enterprise Connect (Graph)",
                    demo::GRAPH_ENTERPRISE_APP_CLIENT_SECRET,
                    // Exchange Online: Calendars.ReadWrite comes from RBAC for Applications over the
                    // pilot scope, not from Entra, because an Entra grant would cover every mailbox
                    // (the two add up). On premises there is no RBAC for Applications: the grant is
                    // tenant-wide.
                    ["User.Read.All", "Organization.Read.All", "Place.Read.All"]
                        .into_iter()
                        .chain((!online).then_some("Calendars.ReadWrite"))
                        .map(str::to_owned)
                        .collect(),
                )
            },
            AppRegistration {
                client_id: demo::GRAPH_FREEBUSY_APP_CLIENT_ID.to_owned(),
                name: "calconnect Enterprise Connect Free/Busy (Graph)".to_owned(),
                scopes: vec!["Calendars.ReadBasic".into(), "User.Read".into()],
                app_roles: Vec::new(),
                requested_app_roles: Vec::new(),
                public_client: true,
                allow_public_client_flows: true,
                redirect_uris: vec![demo::REDIRECT_URI.to_owned()],
                client_secret: None,
                key_credentials: Vec::new(),
            },
            confidential_app(
                demo::GRAPH_ENTERPRISE_NO_PLACES_APP_CLIENT_ID,
                "calconnect Enterprise Connect (Graph, no Place.Read.All)",
                demo::GRAPH_ENTERPRISE_NO_PLACES_APP_CLIENT_SECRET,
                vec![
                    "User.Read.All".to_owned(),
                    "Organization.Read.All".to_owned(),
                    "Calendars.ReadWrite".to_owned(),
                ],
            ),
            AppRegistration {
                // Configured like the Graph app, but no administrator has consented yet: its tokens
                // carry no roles until `/adminconsent` grants the requested ones.
                requested_app_roles: [
                    "User.Read.All",
                    "Organization.Read.All",
                    "Place.Read.All",
                    "Calendars.ReadWrite",
                ]
                .into_iter()
                .map(str::to_owned)
                .collect(),
                scopes: vec!["openid".into(), "email".into()],
                ..confidential_app(
                    demo::GRAPH_UNCONSENTED_APP_CLIENT_ID,
                    "calconnect Enterprise Connect (Graph, awaiting consent)",
                    demo::GRAPH_UNCONSENTED_APP_CLIENT_SECRET,
                    Vec::new(),
                )
            },
        ];
        if online {
            apps.push(confidential_app(
                demo::EWS_UNLISTED_APP_CLIENT_ID,
                "calconnect Enterprise Connect (EWS, not allow-listed)",
                demo::EWS_UNLISTED_APP_CLIENT_SECRET,
                vec!["full_access_as_app".to_owned()],
            ));
        }
        let retail = ManagementScope {
            name: demo::SERVICE_SCOPE.to_owned(),
            recipient_restriction_filter: "Department -eq 'Retail'".to_owned(),
        };
        let graph_pilot = ManagementScope {
            name: demo::GRAPH_SCOPE.to_owned(),
            recipient_restriction_filter: format!(
                "PrimarySmtpAddress -eq '{}' -or PrimarySmtpAddress -eq '{}'",
                demo::ADELE,
                demo::MEGAN
            ),
        };
        let graph_assignment = RoleAssignment {
            name: "calconnect Graph app (pilot mailboxes)".to_owned(),
            role: APPLICATION_CALENDARS_READ_WRITE.to_owned(),
            user: None,
            app: Some(demo::GRAPH_ENTERPRISE_APP_CLIENT_ID.to_owned()),
            custom_recipient_write_scope: None,
            custom_resource_scope: Some(graph_pilot.name.clone()),
        };
        let role_assignment = if online {
            RoleAssignment {
                name: "calconnect EWS app (pilot mailboxes)".to_owned(),
                role: APPLICATION_EWS_ACCESS_AS_APP.to_owned(),
                user: None,
                app: Some(demo::EWS_APP_CLIENT_ID.to_owned()),
                custom_recipient_write_scope: None,
                custom_resource_scope: Some(retail.name.clone()),
            }
        } else {
            RoleAssignment {
                name: "calconnect impersonation (pilot mailboxes)".to_owned(),
                role: APPLICATION_IMPERSONATION.to_owned(),
                user: Some(demo::SERVICE_ACCOUNT_UPN.to_owned()),
                app: None,
                custom_recipient_write_scope: Some(retail.name.clone()),
                custom_resource_scope: None,
            }
        };
        let folder_permissions = vec![
            FolderPermission {
                mailbox: demo::MEGAN.to_owned(),
                folder: "calendar".to_owned(),
                user: demo::SERVICE_ACCOUNT_UPN.to_owned(),
                access_rights: AccessRights::Editor,
                // -SharingPermissionFlags exists only in Exchange Online.
                sharing_permission_flags: if online {
                    vec![SharingPermissionFlag::Delegate]
                } else {
                    Vec::new()
                },
            },
            FolderPermission {
                mailbox: demo::ALEX.to_owned(),
                folder: "calendar".to_owned(),
                user: DEFAULT_USER.to_owned(),
                access_rights: AccessRights::None,
                sharing_permission_flags: Vec::new(),
            },
        ];
        Tenant {
            id: demo::TENANT_ID.parse().unwrap_or_default(),
            display_name: demo::TENANT_NAME.to_owned(),
            domains: vec![demo::DOMAIN.to_owned(), demo::INITIAL_DOMAIN.to_owned()],
            graph: GraphSettings {
                users_page_size: Some(2),
                ..GraphSettings::default()
            },
            users,
            apps,
            exchange: Exchange {
                deployment,
                server_version: (!online).then(|| EXCHANGE_2019_CU14.to_owned()),
                extended_protection: if online {
                    ExtendedProtection::Off
                } else {
                    ExtendedProtection::Accept
                },
                auth_persist_single_request: false,
                authentication: Some(if online {
                    vec![AuthMethod::Oauth]
                } else {
                    vec![AuthMethod::Ntlm, AuthMethod::Negotiate, AuthMethod::Basic]
                }),
                organization: if online {
                    OrganizationConfig {
                        ews_enabled: Some(true),
                        ews_allowed_app_ids: vec![demo::EWS_APP_CLIENT_ID.to_owned()],
                        ..OrganizationConfig::default()
                    }
                } else {
                    OrganizationConfig::default()
                },
                mailboxes,
                service_accounts: vec![ServiceAccount {
                    upn: demo::SERVICE_ACCOUNT_UPN.to_owned(),
                    password: TenantSecret::new(demo::SERVICE_ACCOUNT_PASSWORD),
                }],
                management_scopes: if online {
                    vec![retail, graph_pilot]
                } else {
                    vec![retail]
                },
                role_assignments: if online {
                    vec![role_assignment, graph_assignment]
                } else {
                    vec![role_assignment]
                },
                folder_permissions,
                rooms: demo_rooms(),
                room_lists: vec![RoomList {
                    id: Uuid::from_u128(0x9b1c_2d3e_4f50_4617_8293_a4b5_c6d7_e801),
                    smtp: demo::BUILDING_1.to_owned(),
                    display_name: "Building 1".to_owned(),
                    members: vec![demo::ROOM_RAINIER.to_owned(), demo::ROOM_BAKER.to_owned()],
                }],
            },
            teams: Teams {
                application_access_policies: vec![ApplicationAccessPolicy {
                    identity: demo::TEAMS_APPLICATION_ACCESS_POLICY.to_owned(),
                    app_ids: vec![demo::TEAMS_ENTERPRISE_APP_CLIENT_ID.to_owned()],
                    description: Some(
                        "calconnect Teams Enterprise may create meetings for the pilot users"
                            .to_owned(),
                    ),
                }],
                application_access_policy_grants: vec![ApplicationAccessPolicyGrant {
                    policy_name: Some(demo::TEAMS_APPLICATION_ACCESS_POLICY.to_owned()),
                    identity: Some(demo::ADELE.to_owned()),
                    global: false,
                }],
            },
        }
    }
}

/// Contoso's meeting rooms (the locations of the demo week's events).
fn demo_rooms() -> Vec<RoomMailbox> {
    let room = |id: u128, smtp: &str, name: &str, capacity: u32, floor: i32| RoomMailbox {
        id: Uuid::from_u128(id),
        smtp: smtp.to_owned(),
        display_name: name.to_owned(),
        capacity: Some(capacity),
        building: Some("1".to_owned()),
        floor_number: Some(floor),
        is_wheel_chair_accessible: true,
    };
    vec![
        room(
            0x9b1c_2d3e_4f50_4617_8293_a4b5_c6d7_e811,
            demo::ROOM_RAINIER,
            "Conf Room Rainier",
            12,
            1,
        ),
        room(
            0x9b1c_2d3e_4f50_4617_8293_a4b5_c6d7_e812,
            demo::ROOM_BAKER,
            "Conf Room Baker",
            8,
            2,
        ),
        RoomMailbox {
            building: None,
            floor_number: None,
            is_wheel_chair_accessible: false,
            ..room(
                0x9b1c_2d3e_4f50_4617_8293_a4b5_c6d7_e813,
                demo::ROOM_ADAMS,
                "Conf Room Adams",
                6,
                0,
            )
        },
    ]
}

/// The `-----BEGIN CERTIFICATE-----` block of a PEM that also holds a private key: what an administrator
/// uploads to the app registration (the key stays with the client).
fn certificate_block(pem: &str) -> String {
    let start = pem.find("-----BEGIN CERTIFICATE-----").unwrap_or(0);
    let end = pem[start..]
        .find("-----END CERTIFICATE-----")
        .map_or(pem.len(), |offset| {
            start + offset + "-----END CERTIFICATE-----".len()
        });
    format!("{}\n", &pem[start..end])
}

fn confidential_app(
    client_id: &str,
    name: &str,
    secret: &str,
    app_roles: Vec<String>,
) -> AppRegistration {
    AppRegistration {
        client_id: client_id.to_owned(),
        name: name.to_owned(),
        scopes: Vec::new(),
        app_roles,
        requested_app_roles: Vec::new(),
        public_client: false,
        allow_public_client_flows: false,
        redirect_uris: vec!["https://calconnect.example/oauth/callback".to_owned()],
        client_secret: Some(TenantSecret::new(secret)),
        key_credentials: Vec::new(),
    }
}

fn calendar(id: &str, name: &str, color: &str, is_default: bool, events: Vec<Event>) -> Calendar {
    Calendar {
        id: id.to_owned(),
        name: name.to_owned(),
        color: color.to_owned(),
        hex_color: String::new(),
        is_default,
        can_edit: true,
        can_share: true,
        events,
    }
}
