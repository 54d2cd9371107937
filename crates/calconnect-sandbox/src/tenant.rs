//! The emulated directory: users, their calendars, app registrations and Exchange mailboxes.
//!
//! A [`Tenant`] is plain data, loadable from TOML or JSON ([`Tenant::from_file`]) or built in ([`Tenant::demo`]).
//! Every protocol surface (identity, Graph, EWS) reads the same tenant, so a user's events look the same
//! whichever way a client asks for them.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::demo;
use crate::error::{Error, Result};

/// A directory tenant with its users, app registrations and Exchange organisation.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Tenant {
    /// Directory (tenant) id, the `tid` claim.
    pub id: Uuid,
    /// Organisation name shown on sign-in pages.
    pub display_name: String,
    /// Verified domains; each one is also a valid `{tenant}` segment of the authority.
    pub domains: Vec<String>,
    #[serde(default)]
    pub users: Vec<User>,
    #[serde(default)]
    pub apps: Vec<AppRegistration>,
    #[serde(default)]
    pub exchange: Exchange,
}

/// A work account in the tenant.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct User {
    /// Object id (`oid` claim and Graph `user.id`).
    pub id: Uuid,
    pub display_name: String,
    #[serde(default)]
    pub given_name: Option<String>,
    #[serde(default)]
    pub surname: Option<String>,
    pub user_principal_name: String,
    /// Primary SMTP address; `None` for unlicensed accounts (Graph then returns `"mail": null`).
    #[serde(default)]
    pub mail: Option<String>,
    #[serde(default)]
    pub job_title: Option<String>,
    #[serde(default)]
    pub office_location: Option<String>,
    /// A conditional access policy blocks every sign-in of this user (AADSTS53003).
    #[serde(default)]
    pub conditional_access_blocked: bool,
    /// Client ids this user may not consent to: an administrator must (AADSTS90094 / AADSTS65001).
    #[serde(default)]
    pub admin_consent_required_for: Vec<String>,
    /// The user has a Teams license, so `POST /me/onlineMeetings` works.
    #[serde(default)]
    pub teams_enabled: bool,
    #[serde(default)]
    pub calendars: Vec<Calendar>,
}

/// A calendar folder of a user.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Calendar {
    pub id: String,
    pub name: String,
    /// Graph `calendarColor` value (`auto`, `lightBlue`, ...).
    #[serde(default = "default_color")]
    pub color: String,
    /// `#RRGGBB`, empty when never set (as Graph documents).
    #[serde(default)]
    pub hex_color: String,
    #[serde(default)]
    pub is_default: bool,
    #[serde(default = "default_true")]
    pub can_edit: bool,
    /// Graph `canShare`: the owner can share the calendars they own (the default); `false` models a
    /// calendar whose sharing an admin policy withholds.
    #[serde(default = "default_true")]
    pub can_share: bool,
    #[serde(default)]
    pub events: Vec<Event>,
}

/// An event (or the master of a recurring series).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Event {
    pub id: String,
    pub subject: String,
    #[serde(default)]
    pub location: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    #[serde(default)]
    pub is_all_day: bool,
    #[serde(default)]
    pub show_as: ShowAs,
    #[serde(default)]
    pub sensitivity: Sensitivity,
    #[serde(default)]
    pub recurrence: Option<Recurrence>,
    /// Organizer SMTP address; `None` means the calendar owner.
    #[serde(default)]
    pub organizer: Option<String>,
}

/// Free/busy status of an event (Graph `freeBusyStatus`, lowercase as in the schema).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ShowAs {
    Free,
    Tentative,
    #[default]
    Busy,
    Oof,
    WorkingElsewhere,
    Unknown,
}

impl ShowAs {
    /// Graph wire value (`busy`, `workingElsewhere`, ...).
    pub fn as_graph(self) -> &'static str {
        match self {
            ShowAs::Free => "free",
            ShowAs::Tentative => "tentative",
            ShowAs::Busy => "busy",
            ShowAs::Oof => "oof",
            ShowAs::WorkingElsewhere => "workingElsewhere",
            ShowAs::Unknown => "unknown",
        }
    }

    /// Digit of Graph's `availabilityView` (0 free, 1 tentative, 2 busy, 3 oof, 4 working elsewhere).
    pub fn availability_digit(self) -> char {
        match self {
            ShowAs::Free | ShowAs::Unknown => '0',
            ShowAs::Tentative => '1',
            ShowAs::Busy => '2',
            ShowAs::Oof => '3',
            ShowAs::WorkingElsewhere => '4',
        }
    }
}

/// Event sensitivity (Graph `sensitivity`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Sensitivity {
    #[default]
    Normal,
    Personal,
    Private,
    Confidential,
}

impl Sensitivity {
    /// Graph wire value.
    pub fn as_graph(self) -> &'static str {
        match self {
            Sensitivity::Normal => "normal",
            Sensitivity::Personal => "personal",
            Sensitivity::Private => "private",
            Sensitivity::Confidential => "confidential",
        }
    }

    /// Private and confidential items never reveal subject or location to other people.
    pub fn hides_details(self) -> bool {
        matches!(self, Sensitivity::Private | Sensitivity::Confidential)
    }
}

/// A recurrence rule, a small subset of Graph's `patternedRecurrence`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Recurrence {
    pub frequency: Frequency,
    /// Every `interval` days or weeks.
    #[serde(default = "default_interval")]
    pub interval: u32,
    /// For weekly rules; empty means the weekday of `start`.
    #[serde(default)]
    pub days_of_week: Vec<Weekday>,
    /// Last date (inclusive, UTC) an occurrence may start on.
    #[serde(default)]
    pub until: Option<NaiveDate>,
    /// Maximum number of occurrences.
    #[serde(default)]
    pub count: Option<u32>,
}

/// Recurrence frequency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Frequency {
    Daily,
    Weekly,
}

/// One instance of an event inside a window, as calendarView and free/busy report it.
#[derive(Debug, Clone)]
pub struct Occurrence<'a> {
    /// Id of this instance: the event id for single events, `{series id}_{yyyymmdd}` for occurrences.
    pub id: String,
    pub event: &'a Event,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// `singleInstance` or `occurrence` (Graph `eventType`).
    pub is_occurrence: bool,
}

/// An app registration.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AppRegistration {
    pub client_id: String,
    pub name: String,
    /// Delegated permissions configured on the registration, bare Graph names or full resource URIs
    /// (`User.Read`, `https://outlook.office365.com/EWS.AccessAsUser.All`). Users may consent to these;
    /// anything else needs an administrator (the demo tenant's user-consent policy).
    #[serde(default)]
    pub scopes: Vec<String>,
    /// Application permissions (app roles) granted by an administrator, e.g. `full_access_as_app`.
    #[serde(default)]
    pub app_roles: Vec<String>,
    /// Redirect URIs of type "Public client (mobile & desktop)" when true, "Web" otherwise.
    #[serde(default = "default_true")]
    pub public_client: bool,
    /// "Allow public client flows" (device code flow without a secret).
    #[serde(default = "default_true")]
    pub allow_public_client_flows: bool,
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    /// Client secret of a confidential client.
    #[serde(default)]
    pub client_secret: Option<TenantSecret>,
}

/// Exchange Online side of the tenant.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Exchange {
    #[serde(default)]
    pub mailboxes: Vec<Mailbox>,
    #[serde(default)]
    pub service_accounts: Vec<ServiceAccount>,
    /// Set to emulate Exchange Online's EWS retirement (absent: EWS answers every app, as on premises).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exchange_online: Option<ExchangeOnlineEws>,
    /// On-premises Exchange with Basic authentication turned off on the EWS and Autodiscover virtual
    /// directories (`Set-WebServicesVirtualDirectory -BasicAuthentication $false`): only NTLM and Bearer
    /// are offered then.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub basic_auth_disabled: bool,
}

/// Exchange Online's EWS switch: from 2026-10-01 (sandbox clock) EWS answers only allow-listed apps when
/// enabled, nobody otherwise (Exchange Team blog "Exchange Online EWS, Your Time is Almost Up", as reported
/// by secondary sources; `EWSEnabled` and the `EWSAllowedAppIDs` allow list).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ExchangeOnlineEws {
    /// The organisation's `EwsEnabled`.
    #[serde(default)]
    pub ews_enabled: bool,
    /// Client ids allowed to use EWS (case-insensitive).
    #[serde(default)]
    pub allowed_app_ids: Vec<String>,
}

impl ExchangeOnlineEws {
    /// The day the allow list starts to be enforced.
    pub fn enforced_from() -> DateTime<Utc> {
        DateTime::<Utc>::from_naive_utc_and_offset(
            chrono::NaiveDate::from_ymd_opt(2026, 10, 1)
                .and_then(|day| day.and_hms_opt(0, 0, 0))
                .unwrap_or_default(),
            Utc,
        )
    }

    /// Whether a request from `app_id` (`None`: no app, e.g. Basic authentication) is answered at `now`.
    pub fn allows(&self, app_id: Option<&str>, now: DateTime<Utc>) -> bool {
        if now < Self::enforced_from() {
            return true;
        }
        self.ews_enabled
            && app_id.is_some_and(|app_id| {
                self.allowed_app_ids
                    .iter()
                    .any(|allowed| allowed.eq_ignore_ascii_case(app_id))
            })
    }
}

/// A mailbox and the user owning it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Mailbox {
    /// Primary SMTP address.
    pub smtp: String,
    /// UPN of the owning [`User`].
    pub owner: String,
}

/// An Exchange service account (Enterprise Connect) with its rights per mailbox.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ServiceAccount {
    pub upn: String,
    pub password: TenantSecret,
    /// Rights per mailbox SMTP address; mailboxes not listed are [`AccessLevel::None`].
    #[serde(default)]
    pub rights: BTreeMap<String, AccessLevel>,
}

impl ServiceAccount {
    /// Rights of this account on `mailbox` (case-insensitive SMTP).
    pub fn access_to(&self, mailbox: &str) -> AccessLevel {
        self.rights
            .iter()
            .find(|(smtp, _)| smtp.eq_ignore_ascii_case(mailbox))
            .map_or(AccessLevel::None, |(_, level)| *level)
    }
}

/// What a service account may do with a mailbox (Cronofy's three EWS access levels).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccessLevel {
    /// No right at all.
    #[default]
    None,
    /// `AvailabilityOnly` folder permission: GetUserAvailability only, at free/busy detail.
    AvailabilityOnly,
    /// ApplicationImpersonation limited to the Calendar folder (Editor + CanViewPrivateItems).
    Restricted,
    /// ApplicationImpersonation on the whole mailbox.
    Full,
}

/// A credential stored in the tenant definition (service account password, client secret).
///
/// Debug and Display print `[redacted]`. It serialises in clear text on purpose: a tenant file is the
/// emulator's own source of truth, like a directory's password store, and the demo values are public.
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct TenantSecret(String);

impl TenantSecret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The stored value, for protocols that derive keys from it (the NT hash of NTLM) instead of
    /// comparing it.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }

    /// Constant-time comparison with a presented credential.
    pub fn matches(&self, presented: &str) -> bool {
        let (stored, presented) = (self.0.as_bytes(), presented.as_bytes());
        stored.len() == presented.len()
            && stored
                .iter()
                .zip(presented)
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
    }
}

impl fmt::Debug for TenantSecret {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("[redacted]")
    }
}

fn default_color() -> String {
    "auto".to_owned()
}
fn default_true() -> bool {
    true
}
fn default_interval() -> u32 {
    1
}

impl Tenant {
    /// Loads a tenant from a `.toml` or `.json` file (by extension; anything else is tried as TOML).
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| Error::TenantFile {
            path: path.to_path_buf(),
            source,
        })?;
        let is_json = path
            .extension()
            .is_some_and(|extension| extension.eq_ignore_ascii_case("json"));
        if is_json {
            Self::from_json(&text)
        } else {
            Self::from_toml(&text)
        }
    }

    /// Parses a tenant from TOML.
    pub fn from_toml(text: &str) -> Result<Self> {
        toml::from_str(text).map_err(|error| Error::TenantParse(error.to_string()))
    }

    /// Parses a tenant from JSON.
    pub fn from_json(text: &str) -> Result<Self> {
        serde_json::from_str(text).map_err(|error| Error::TenantParse(error.to_string()))
    }

    /// Renders the tenant as TOML (`calconnect-sandbox --print-demo`).
    pub fn to_toml(&self) -> Result<String> {
        toml::to_string_pretty(self).map_err(|error| Error::TenantParse(error.to_string()))
    }

    /// Whether `segment` names this tenant in an authority URL: `common`, `organizations`, the id or a domain.
    pub fn accepts_authority_segment(&self, segment: &str) -> bool {
        segment.eq_ignore_ascii_case("common")
            || segment.eq_ignore_ascii_case("organizations")
            || segment.eq_ignore_ascii_case(&self.id.to_string())
            || self
                .domains
                .iter()
                .any(|domain| domain.eq_ignore_ascii_case(segment))
    }

    /// Finds a user by UPN or mail, case-insensitively.
    pub fn user_by_email(&self, email: &str) -> Option<&User> {
        let email = email.trim();
        self.users.iter().find(|user| {
            user.user_principal_name.eq_ignore_ascii_case(email)
                || user
                    .mail
                    .as_deref()
                    .is_some_and(|mail| mail.eq_ignore_ascii_case(email))
        })
    }

    /// Finds a user by object id.
    pub fn user_by_id(&self, id: Uuid) -> Option<&User> {
        self.users.iter().find(|user| user.id == id)
    }

    /// Finds an app registration by client id (case-insensitive GUID).
    pub fn app(&self, client_id: &str) -> Option<&AppRegistration> {
        self.apps
            .iter()
            .find(|app| app.client_id.eq_ignore_ascii_case(client_id.trim()))
    }

    /// Finds a mailbox by SMTP address.
    pub fn mailbox(&self, smtp: &str) -> Option<&Mailbox> {
        self.exchange
            .mailboxes
            .iter()
            .find(|mailbox| mailbox.smtp.eq_ignore_ascii_case(smtp.trim()))
    }

    /// The user owning a mailbox.
    pub fn mailbox_owner(&self, smtp: &str) -> Option<&User> {
        self.mailbox(smtp)
            .and_then(|mailbox| self.user_by_email(&mailbox.owner))
    }

    /// Finds a service account by UPN.
    pub fn service_account(&self, upn: &str) -> Option<&ServiceAccount> {
        self.exchange
            .service_accounts
            .iter()
            .find(|account| account.upn.eq_ignore_ascii_case(upn.trim()))
    }
}

impl User {
    /// The address Graph reports in `mail`, falling back to the UPN.
    pub fn email(&self) -> &str {
        self.mail.as_deref().unwrap_or(&self.user_principal_name)
    }

    /// The default calendar (`/me/calendar`), or the first one.
    pub fn default_calendar(&self) -> Option<&Calendar> {
        self.calendars
            .iter()
            .find(|calendar| calendar.is_default)
            .or_else(|| self.calendars.first())
    }

    /// Whether this user must get an administrator's consent for `client_id`.
    pub fn needs_admin_consent_for(&self, client_id: &str) -> bool {
        self.admin_consent_required_for
            .iter()
            .any(|id| id.eq_ignore_ascii_case(client_id))
    }
}

impl Calendar {
    /// Every instance overlapping `[window_start, window_end)`, recurrences expanded, sorted by start.
    pub fn view(
        &self,
        window_start: DateTime<Utc>,
        window_end: DateTime<Utc>,
    ) -> Vec<Occurrence<'_>> {
        let mut occurrences: Vec<Occurrence<'_>> = self
            .events
            .iter()
            .flat_map(|event| event.occurrences(window_start, window_end))
            .collect();
        occurrences.sort_by(|a, b| a.start.cmp(&b.start).then_with(|| a.id.cmp(&b.id)));
        occurrences
    }
}

impl Event {
    /// Instances of this event overlapping `[window_start, window_end)`.
    pub fn occurrences(
        &self,
        window_start: DateTime<Utc>,
        window_end: DateTime<Utc>,
    ) -> Vec<Occurrence<'_>> {
        let overlaps =
            |start: DateTime<Utc>, end: DateTime<Utc>| start < window_end && end > window_start;
        let Some(rule) = &self.recurrence else {
            return if overlaps(self.start, self.end) {
                vec![Occurrence {
                    id: self.id.clone(),
                    event: self,
                    start: self.start,
                    end: self.end,
                    is_occurrence: false,
                }]
            } else {
                Vec::new()
            };
        };
        let duration = self.end - self.start;
        let interval = i64::from(rule.interval.max(1));
        let series_start = self.start.date_naive();
        let series_week =
            series_start - Duration::days(i64::from(series_start.weekday().num_days_from_monday()));
        let days: Vec<Weekday> = if rule.days_of_week.is_empty() {
            vec![series_start.weekday()]
        } else {
            rule.days_of_week.clone()
        };
        let time_of_day = self.start.time();
        let mut found = Vec::new();
        let mut produced: u32 = 0;
        let mut day = series_start;
        // Walk day by day: calendars here span weeks, not decades, so clarity beats cleverness.
        while day <= window_end.date_naive() {
            if rule.until.is_some_and(|until| day > until)
                || rule.count.is_some_and(|count| produced >= count)
            {
                break;
            }
            let matches = match rule.frequency {
                Frequency::Daily => (day - series_start).num_days() % interval == 0,
                Frequency::Weekly => {
                    let week = (day - series_week).num_days() / 7;
                    week % interval == 0 && days.contains(&day.weekday())
                }
            };
            if matches {
                produced += 1;
                let start = Utc.from_utc_datetime(&day.and_time(time_of_day));
                let end = start + duration;
                if overlaps(start, end) {
                    found.push(Occurrence {
                        id: format!("{}_{}", self.id, day.format("%Y%m%d")),
                        event: self,
                        start,
                        end,
                        is_occurrence: true,
                    });
                }
            }
            day += Duration::days(1);
        }
        found
    }
}

/// Monday 00:00 UTC of the week containing `now`.
pub fn week_start(now: DateTime<Utc>) -> DateTime<Utc> {
    let date = now.date_naive();
    let monday = date - Duration::days(i64::from(date.weekday().num_days_from_monday()));
    Utc.from_utc_datetime(&monday.and_time(NaiveTime::MIN))
}

impl Tenant {
    /// The Contoso demo tenant, with its week of events placed in the current week (Monday, UTC).
    pub fn demo() -> Self {
        Self::demo_at(Utc::now())
    }

    /// The demo tenant with its week starting on the Monday of `now`'s week.
    pub fn demo_at(now: DateTime<Utc>) -> Self {
        DemoWeek::new(week_start(now)).tenant()
    }
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

    fn tenant(&self) -> Tenant {
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
            office_location: Some("18/2111".to_owned()),
            conditional_access_blocked: false,
            admin_consent_required_for: Vec::new(),
            teams_enabled: true,
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
            office_location: Some("12/1110".to_owned()),
            conditional_access_blocked: false,
            admin_consent_required_for: Vec::new(),
            teams_enabled: true,
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
            office_location: Some("23/3101".to_owned()),
            conditional_access_blocked: false,
            admin_consent_required_for: vec![demo::FULL_APP_CLIENT_ID.to_owned()],
            teams_enabled: false,
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
            office_location: Some("131/1104".to_owned()),
            conditional_access_blocked: true,
            admin_consent_required_for: Vec::new(),
            teams_enabled: true,
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
            conditional_access_blocked: false,
            admin_consent_required_for: Vec::new(),
            teams_enabled: false,
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
        let rights = BTreeMap::from([
            (demo::ADELE.to_owned(), AccessLevel::Full),
            (demo::MEGAN.to_owned(), AccessLevel::Restricted),
            (demo::LEE.to_owned(), AccessLevel::AvailabilityOnly),
            (demo::ALEX.to_owned(), AccessLevel::None),
        ]);
        Tenant {
            id: demo::TENANT_ID.parse().unwrap_or_default(),
            display_name: demo::TENANT_NAME.to_owned(),
            domains: vec![demo::DOMAIN.to_owned()],
            users,
            apps: vec![
                AppRegistration {
                    client_id: demo::FULL_APP_CLIENT_ID.to_owned(),
                    name: "calconnect".to_owned(),
                    scopes: vec![
                        "User.Read".into(),
                        "Calendars.ReadWrite".into(),
                        "OnlineMeetings.ReadWrite".into(),
                    ],
                    app_roles: Vec::new(),
                    public_client: true,
                    allow_public_client_flows: true,
                    redirect_uris: vec![demo::REDIRECT_URI.to_owned()],
                    client_secret: None,
                },
                AppRegistration {
                    client_id: demo::FREEBUSY_APP_CLIENT_ID.to_owned(),
                    name: "calconnect Free/Busy".to_owned(),
                    scopes: vec!["Calendars.ReadBasic".into(), "User.Read".into()],
                    app_roles: Vec::new(),
                    public_client: true,
                    allow_public_client_flows: true,
                    redirect_uris: vec![demo::REDIRECT_URI.to_owned()],
                    client_secret: None,
                },
                AppRegistration {
                    client_id: demo::EWS_APP_CLIENT_ID.to_owned(),
                    name: "calconnect Enterprise Connect (EWS)".to_owned(),
                    scopes: Vec::new(),
                    app_roles: vec!["full_access_as_app".to_owned()],
                    public_client: false,
                    allow_public_client_flows: false,
                    redirect_uris: vec!["https://calconnect.example/oauth/callback".to_owned()],
                    client_secret: Some(TenantSecret::new(demo::EWS_APP_CLIENT_SECRET)),
                },
            ],
            exchange: Exchange {
                mailboxes,
                service_accounts: vec![ServiceAccount {
                    upn: demo::SERVICE_ACCOUNT_UPN.to_owned(),
                    password: TenantSecret::new(demo::SERVICE_ACCOUNT_PASSWORD),
                    rights,
                }],
                exchange_online: None,
                basic_auth_disabled: false,
            },
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_tenant_round_trips_through_toml() {
        let tenant = Tenant::demo();
        let text = tenant.to_toml().expect("demo tenant serialises");
        let parsed = Tenant::from_toml(&text).expect("printed demo tenant parses back");
        assert_eq!(parsed.users.len(), tenant.users.len());
        assert_eq!(parsed.id, tenant.id);
        let adele = parsed.user_by_email(demo::ADELE).expect("adele exists");
        assert_eq!(
            adele.calendars[0].events.len(),
            tenant.users[0].calendars[0].events.len()
        );
    }

    #[test]
    fn weekly_recurrence_expands_on_weekdays_only() {
        let tenant = Tenant::demo();
        let adele = tenant.user_by_email(demo::ADELE).expect("adele exists");
        let monday = week_start(Utc::now());
        let standups: Vec<_> = adele.calendars[0]
            .view(monday, monday + Duration::days(7))
            .into_iter()
            .filter(|occurrence| occurrence.event.id == "AAMkAGAdeleStandup")
            .collect();
        assert_eq!(standups.len(), 5, "stand-up happens Monday to Friday");
        assert!(standups.iter().all(|occurrence| occurrence.is_occurrence));
    }

    #[test]
    fn service_account_rights_default_to_none() {
        let tenant = Tenant::demo();
        let account = tenant
            .service_account(demo::SERVICE_ACCOUNT_UPN)
            .expect("service account exists");
        assert_eq!(account.access_to("ADELE@contoso.com"), AccessLevel::Full);
        assert_eq!(account.access_to("nobody@contoso.com"), AccessLevel::None);
        assert!(account.password.matches(demo::SERVICE_ACCOUNT_PASSWORD));
        assert_eq!(format!("{:?}", account.password), "[redacted]");
    }
}
