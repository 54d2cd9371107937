//! What the client returns, and the Graph JSON it is read from. Every Graph field is optional on the wire
//! (the docs' own examples omit some, e.g. `isDefaultCalendar`), so wire structs default everything.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};

use calconnect_identity::text::strip_control_characters;

/// The signed-in user (`GET /me`, learn.microsoft.com/graph/api/user-get).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    /// Graph user id (the `oid` claim).
    pub id: String,
    /// Display name, when Graph has one.
    pub display_name: Option<String>,
    /// Primary SMTP address; `userPrincipalName` when `mail` is null (unlicensed or personal accounts).
    pub mail: String,
    /// Sign-in name.
    pub user_principal_name: String,
}

/// A calendar of the user (`GET /me/calendars`, learn.microsoft.com/graph/api/user-list-calendars).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Calendar {
    /// Graph calendar id.
    pub id: String,
    /// Display name (empty when Graph omits it).
    pub name: String,
    /// The theme colour; `None` when omitted.
    pub color: Option<CalendarColor>,
    /// `hexColor` like `#FF8C00`; `None` when empty or omitted ("empty if never set").
    pub hex_color: Option<String>,
    /// `isDefaultCalendar`; `false` when omitted.
    pub is_default: bool,
    /// `canEdit`; `false` when omitted (assume read-only).
    pub can_edit: bool,
    /// The calendar's owner (another person for shared calendars).
    pub owner: Option<EmailAddress>,
}

/// `calendarColor` of Graph v1.0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum CalendarColor {
    /// Automatic.
    Auto,
    /// Light blue.
    LightBlue,
    /// Light green.
    LightGreen,
    /// Light orange.
    LightOrange,
    /// Light gray.
    LightGray,
    /// Light yellow.
    LightYellow,
    /// Light teal.
    LightTeal,
    /// Light pink.
    LightPink,
    /// Light brown.
    LightBrown,
    /// Light red.
    LightRed,
    /// Graph's sentinel value.
    MaxColor,
    /// A value newer than this client.
    #[serde(other)]
    Unknown,
}

/// Graph `emailAddress`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EmailAddress {
    /// Display name, when present.
    pub name: Option<String>,
    /// SMTP address, when present.
    pub address: Option<String>,
}

/// A period in which the schedule owner is not free. Built from a getSchedule `scheduleItem` (or a
/// calendarView event's `showAs`) keeping only status, start and end: subject, location and privacy never
/// enter this type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct BusyBlock {
    /// Start (UTC).
    pub start: DateTime<Utc>,
    /// End (UTC).
    pub end: DateTime<Utc>,
    /// How busy.
    pub status: BusyStatus,
}

/// A scheduleItem `status` other than `free` (`freeBusyStatus`: free, tentative, busy, oof, workingElsewhere,
/// unknown). Compared case-insensitively because Graph's samples use both `busy` and `Busy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum BusyStatus {
    /// Tentatively accepted.
    Tentative,
    /// Busy.
    Busy,
    /// Out of office.
    Oof,
    /// Working elsewhere: not free for a meeting here.
    WorkingElsewhere,
    /// `unknown`, or a value newer than this client: treated as busy, which is the safe reading.
    Unknown,
}

impl BusyStatus {
    /// `None` for `free` (free periods are not busy blocks).
    pub(crate) fn from_graph(status: &str) -> Option<Self> {
        let status = status.to_ascii_lowercase();
        Some(match status.as_str() {
            "free" => return None,
            "tentative" => BusyStatus::Tentative,
            "busy" => BusyStatus::Busy,
            "oof" => BusyStatus::Oof,
            "workingelsewhere" => BusyStatus::WorkingElsewhere,
            _ => BusyStatus::Unknown,
        })
    }
}

/// Where the signed-in user's own busy blocks were read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum FreeBusySource {
    /// `POST /me/calendar/getSchedule`.
    GetSchedule,
    /// `GET /me/calendarView`, because getSchedule was refused (403).
    CalendarView,
}

/// The signed-in user's busy blocks (status, start and end only) and the API they came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OwnFreeBusy {
    /// Sorted by start.
    pub blocks: Vec<BusyBlock>,
    /// getSchedule, or calendarView when getSchedule was refused.
    pub source: FreeBusySource,
}

/// A Teams meeting created by `POST /me/onlineMeetings`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OnlineMeeting {
    /// Graph id of the meeting.
    pub id: String,
    /// The join link.
    pub join_web_url: String,
}

// ---- Wire types ----

#[derive(Debug, Deserialize)]
pub(crate) struct Page<T> {
    #[serde(default = "Vec::new")]
    pub(crate) value: Vec<T>,
    #[serde(rename = "@odata.nextLink", default)]
    pub(crate) next_link: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WireUser {
    pub(crate) id: String,
    #[serde(default)]
    pub(crate) display_name: Option<String>,
    #[serde(default)]
    pub(crate) mail: Option<String>,
    #[serde(default)]
    pub(crate) user_principal_name: Option<String>,
}

impl From<WireUser> for User {
    fn from(wire: WireUser) -> Self {
        // Names and addresses are printed (CLI, reports): no control character may reach a terminal.
        let user_principal_name =
            strip_control_characters(&wire.user_principal_name.unwrap_or_default());
        let mail = wire.mail.filter(|mail| !mail.is_empty()).map_or_else(
            || user_principal_name.clone(),
            |mail| strip_control_characters(&mail),
        );
        User {
            id: wire.id,
            display_name: wire
                .display_name
                .filter(|name| !name.is_empty())
                .map(|name| strip_control_characters(&name)),
            mail,
            user_principal_name,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WireCalendar {
    pub(crate) id: String,
    #[serde(default)]
    pub(crate) name: Option<String>,
    #[serde(default)]
    pub(crate) color: Option<CalendarColor>,
    #[serde(default)]
    pub(crate) hex_color: Option<String>,
    #[serde(default)]
    pub(crate) is_default_calendar: Option<bool>,
    #[serde(default)]
    pub(crate) can_edit: Option<bool>,
    #[serde(default)]
    pub(crate) owner: Option<WireEmailAddress>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct WireEmailAddress {
    #[serde(default)]
    pub(crate) name: Option<String>,
    #[serde(default)]
    pub(crate) address: Option<String>,
}

impl From<WireCalendar> for Calendar {
    fn from(wire: WireCalendar) -> Self {
        Calendar {
            id: wire.id,
            name: strip_control_characters(&wire.name.unwrap_or_default()),
            color: wire.color,
            // Printed next to the name (`calconnect calendars`): found by the graph_json fuzz target.
            hex_color: wire
                .hex_color
                .map(|hex| strip_control_characters(&hex))
                .filter(|hex| !hex.is_empty()),
            is_default: wire.is_default_calendar.unwrap_or(false),
            can_edit: wire.can_edit.unwrap_or(false),
            owner: wire.owner.map(|owner| EmailAddress {
                name: owner.name.as_deref().map(strip_control_characters),
                address: owner.address.as_deref().map(strip_control_characters),
            }),
        }
    }
}

/// `scheduleInformation`, reduced to what we keep.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WireScheduleInformation {
    #[serde(default)]
    pub(crate) schedule_id: Option<String>,
    #[serde(default)]
    pub(crate) schedule_items: Vec<WireScheduleItem>,
    #[serde(default)]
    pub(crate) error: Option<WireFreeBusyError>,
}

/// `scheduleItem` without `subject`, `location` and `isPrivate`: serde skips them while parsing, so they are
/// never held in memory past the raw response body.
#[derive(Debug, Deserialize)]
pub(crate) struct WireScheduleItem {
    #[serde(default)]
    pub(crate) status: Option<String>,
    pub(crate) start: DateTimeTimeZone,
    pub(crate) end: DateTimeTimeZone,
}

/// A calendarView `event` as `$select=showAs,start,end` returns it: nothing else is even deserialised.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WireBusyEvent {
    #[serde(default)]
    pub(crate) show_as: Option<String>,
    pub(crate) start: DateTimeTimeZone,
    pub(crate) end: DateTimeTimeZone,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WireFreeBusyError {
    #[serde(default)]
    pub(crate) message: Option<String>,
    #[serde(default)]
    pub(crate) response_code: Option<String>,
}

/// Graph `dateTimeTimeZone`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DateTimeTimeZone {
    pub(crate) date_time: String,
    #[serde(default)]
    pub(crate) time_zone: Option<String>,
}

impl DateTimeTimeZone {
    pub(crate) fn utc(instant: DateTime<Utc>) -> Self {
        DateTimeTimeZone {
            date_time: instant.format("%Y-%m-%dT%H:%M:%S").to_string(),
            time_zone: Some("UTC".into()),
        }
    }

    /// The instant, for values in UTC (we ask for UTC with `Prefer: outlook.timezone="UTC"`, also Graph's
    /// default). `None` for another zone or an unreadable value.
    pub(crate) fn to_utc(&self) -> Option<DateTime<Utc>> {
        if let Ok(instant) = DateTime::parse_from_rfc3339(&self.date_time) {
            return Some(instant.with_timezone(&Utc));
        }
        let zone = self.time_zone.as_deref().unwrap_or("UTC");
        if !matches!(
            zone.to_ascii_lowercase().as_str(),
            "utc" | "etc/utc" | "coordinated universal time"
        ) {
            return None;
        }
        NaiveDateTime::parse_from_str(&self.date_time, "%Y-%m-%dT%H:%M:%S%.f")
            .ok()
            .map(|naive| naive.and_utc())
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WireOnlineMeeting {
    pub(crate) id: String,
    #[serde(default)]
    pub(crate) join_web_url: Option<String>,
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn the_list_calendars_doc_example_parses_with_missing_fields_defaulted() {
        // learn.microsoft.com/graph/api/user-list-calendars, "Response" (which omits isDefaultCalendar).
        let body = r##"{
          "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#me/calendars",
          "value": [{
            "@odata.id": "https://graph.microsoft.com/v1.0/users('ddfcd489-628b-40d7-b48b-57002df800e5@1717622f-1d94-4d0c-9d74-709fad664b77')/calendars('AAMkAGI2TGuLAAA=')",
            "id": "AAMkAGI2TGuLAAA=",
            "name": "Calendar",
            "color": "auto",
            "changeKey": "nfZyf7VcrEKLNoU37KWlkQAAA0x0+w==",
            "canShare": true,
            "canViewPrivateItems": true,
            "hexColor": "",
            "canEdit": true,
            "allowedOnlineMeetingProviders": ["teamsForBusiness"],
            "defaultOnlineMeetingProvider": "teamsForBusiness",
            "isTallyingResponses": true,
            "isRemovable": false,
            "owner": {"name": "Samantha Booth", "address": "samanthab@adatum.onmicrosoft.com"}
          }]
        }"##;
        let page: Page<WireCalendar> = serde_json::from_str(body).unwrap();
        assert!(page.next_link.is_none());
        let calendar = Calendar::from(page.value.into_iter().next().unwrap());
        assert_eq!(
            calendar,
            Calendar {
                id: "AAMkAGI2TGuLAAA=".into(),
                name: "Calendar".into(),
                color: Some(CalendarColor::Auto),
                hex_color: None,
                is_default: false,
                can_edit: true,
                owner: Some(EmailAddress {
                    name: Some("Samantha Booth".into()),
                    address: Some("samanthab@adatum.onmicrosoft.com".into()),
                }),
            }
        );
    }

    #[test]
    fn a_calendar_with_only_an_id_and_an_unknown_colour_still_parses() {
        let wire: WireCalendar =
            serde_json::from_str(r#"{"id":"c1","color":"neonPurple","owner":{}}"#).unwrap();
        let calendar = Calendar::from(wire);
        assert_eq!(calendar.color, Some(CalendarColor::Unknown));
        assert_eq!(calendar.name, "");
        assert_eq!(
            calendar.owner,
            Some(EmailAddress {
                name: None,
                address: None
            })
        );
    }

    #[test]
    fn a_user_without_mail_falls_back_to_the_user_principal_name() {
        // learn.microsoft.com/graph/api/user-get example, with mail null as for unlicensed accounts.
        let wire: WireUser = serde_json::from_str(
            r#"{"businessPhones":["+1 425 555 0109"],"displayName":"Adele Vance","givenName":"Adele",
                "jobTitle":"Retail Manager","mail":null,"mobilePhone":null,"officeLocation":"18/2111",
                "preferredLanguage":"en-US","surname":"Vance","userPrincipalName":"AdeleV@contoso.com",
                "id":"87d349ed-44d7-43e1-9a83-5f2406dee5bd"}"#,
        )
        .unwrap();
        let user = User::from(wire);
        assert_eq!(user.mail, "AdeleV@contoso.com");
        assert_eq!(user.display_name.as_deref(), Some("Adele Vance"));
        assert_eq!(user.id, "87d349ed-44d7-43e1-9a83-5f2406dee5bd");
    }

    #[test]
    fn statuses_are_compared_case_insensitively_and_free_is_not_busy() {
        assert_eq!(BusyStatus::from_graph("free"), None);
        assert_eq!(BusyStatus::from_graph("Free"), None);
        assert_eq!(BusyStatus::from_graph("Busy"), Some(BusyStatus::Busy));
        assert_eq!(
            BusyStatus::from_graph("tentative"),
            Some(BusyStatus::Tentative)
        );
        assert_eq!(BusyStatus::from_graph("OOF"), Some(BusyStatus::Oof));
        assert_eq!(
            BusyStatus::from_graph("workingElsewhere"),
            Some(BusyStatus::WorkingElsewhere)
        );
        assert_eq!(BusyStatus::from_graph("unknown"), Some(BusyStatus::Unknown));
        assert_eq!(
            BusyStatus::from_graph("somethingNew"),
            Some(BusyStatus::Unknown)
        );
    }

    #[test]
    fn date_time_time_zone_reads_graph_precision_and_rejects_other_zones() {
        let graph = DateTimeTimeZone {
            date_time: "2019-03-15T09:00:00.0000000".into(),
            time_zone: Some("UTC".into()),
        };
        assert_eq!(
            graph.to_utc(),
            Some(Utc.with_ymd_and_hms(2019, 3, 15, 9, 0, 0).unwrap())
        );
        let pacific = DateTimeTimeZone {
            date_time: "2019-03-15T09:00:00.0000000".into(),
            time_zone: Some("Pacific Standard Time".into()),
        };
        assert_eq!(pacific.to_utc(), None);
        let instant = Utc.with_ymd_and_hms(2024, 2, 29, 23, 30, 0).unwrap();
        assert_eq!(DateTimeTimeZone::utc(instant).to_utc(), Some(instant));
    }
}
