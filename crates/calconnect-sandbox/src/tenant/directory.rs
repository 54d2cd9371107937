//! The directory's people and their calendars: users, calendar folders, events and recurrence.
//!
//! Graph and EWS both read these, so a user's events look the same whichever way a client asks.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

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
    /// Graph `department`; also what `Department` in a management scope's recipient filter tests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    /// A conditional access policy blocks every sign-in of this user (AADSTS53003).
    #[serde(default)]
    pub conditional_access_blocked: bool,
    /// Client ids this user may not consent to: an administrator must (AADSTS90094 / AADSTS65001).
    #[serde(default)]
    pub admin_consent_required_for: Vec<String>,
    /// Microsoft Entra directory roles held (`Global Administrator`, `Privileged Role Administrator`, ...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub directory_roles: Vec<String>,
    /// The user has a Teams license, so `POST /me/onlineMeetings` works.
    #[serde(default)]
    pub teams_enabled: bool,
    /// Secondary addresses beside the primary `SMTP:` one, as Exchange stores them in `proxyAddresses`
    /// (lower-case prefix for secondaries: `smtp:adele.vance@contoso.onmicrosoft.com`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub secondary_addresses: Vec<String>,
    #[serde(default)]
    pub calendars: Vec<Calendar>,
}

/// Directory roles that may grant tenant-wide admin consent to application permissions (app roles) of
/// any API, Microsoft Graph included: "Global Administrator" or "Privileged Role Administrator". A Cloud
/// Application Administrator or Application Administrator may not grant Microsoft Graph app roles
/// ([learn.microsoft.com/entra/identity/enterprise-apps/grant-admin-consent], Prerequisites).
pub const APP_ROLE_CONSENT_ROLES: &[&str] =
    &["Global Administrator", "Privileged Role Administrator"];

impl User {
    /// Whether the user may grant tenant-wide admin consent to application permissions.
    pub fn can_grant_app_roles(&self) -> bool {
        self.directory_roles.iter().any(|role| {
            APP_ROLE_CONSENT_ROLES
                .iter()
                .any(|allowed| allowed.eq_ignore_ascii_case(role))
        })
    }
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
    #[serde(default = "super::default_true")]
    pub can_edit: bool,
    /// Graph `canShare`: the owner can share the calendars they own (the default); `false` models a
    /// calendar whose sharing an admin policy withholds.
    #[serde(default = "super::default_true")]
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

fn default_color() -> String {
    "auto".to_owned()
}
fn default_interval() -> u32 {
    1
}

impl User {
    /// The address Graph reports in `mail`, falling back to the UPN.
    pub fn email(&self) -> &str {
        self.mail.as_deref().unwrap_or(&self.user_principal_name)
    }

    /// Graph's `proxyAddresses`: `SMTP:` and the primary address (upper-case prefix marks the primary),
    /// then the secondary ones (learn.microsoft.com/graph/api/resources/user, **proxyAddresses**: "For
    /// example: `["SMTP: bob@contoso.com", "smtp: bob@sales.contoso.com"]`").
    pub fn proxy_addresses(&self) -> Vec<String> {
        self.mail
            .iter()
            .map(|mail| format!("SMTP:{mail}"))
            .chain(self.secondary_addresses.iter().cloned())
            .collect()
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
