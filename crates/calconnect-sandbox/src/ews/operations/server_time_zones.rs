//! `GetServerTimeZones`: the Windows time zone definitions the server knows
//! (https://learn.microsoft.com/exchange/client-developer/web-service-reference/getservertimezones-operation).
//!
//! Shape, as the operation page's examples and real servers give it: one
//! `GetServerTimeZonesResponseMessage` whose `TimeZoneDefinitions` lists `TimeZoneDefinition Id Name`,
//! and with `ReturnFullTimeZoneData="true"` also `Periods` (`Bias` is UTC minus local time as an
//! `xs:duration`, `Name` Standard/Daylight, `Id` `trule:Microsoft/Registry/{zone}/{year}-{Name}`),
//! `TransitionsGroups` (`RecurringDayTransition` to a period: `TimeOffset` local time, `Month`,
//! `DayOfWeek`, `Occurrence`, -1 = last) and `Transitions` (a `Transition` to group 0, then an
//! `AbsoluteDateTransition` per later rule set). Period ids keep the registry key's spaces, as in a real
//! Exchange response quoted by exchangelib (old `services.py` `_get_periods`: "trule:Microsoft/Registry/
//! W. Europe Standard Time/2006-Daylight") and in Exchange's `StartTimeZone` elements; the operation
//! page's example writes them without spaces. Zones without daylight saving have one period and a
//! group with a plain `Transition` to it.
//!
//! The US zones carry both rule sets (before 2007: April-October; since 2007: March-November) as in the
//! page's Eastern example; the European ones use the EU rule (last Sunday of March at 01:00 UTC to last
//! Sunday of October); names are those of current Windows ("(UTC+01:00) Amsterdam, Berlin, ...").
//!
//! Without `Ids` every zone is listed, westernmost first as Windows orders them.
//!
//! ASSUMPTION: an unknown id fails the request with `ErrorTimeZone` (the response code for "a time
//! zone error", responsecode page) and the message the EWS Managed API documents for it ("The time zone
//! isn't valid.", `ServiceError.ErrorTimeZone`), with an empty `TimeZoneDefinitions` (required by
//! messages.xsd). Microsoft does not document this case.
//!
//! ASSUMPTION: without `ReturnFullTimeZoneData` the full definitions are returned (the attribute is
//! optional in messages.xsd; clients — exchangelib, the EWS Managed API — always send it).

use quick_xml::escape::escape;

use super::Outcome;
use crate::ews::access::Acting;
use crate::ews::request::{Malformed, Node};
use crate::ews::response::{namespaces, Status};
use crate::state::AppState;

/// A parsed `GetServerTimeZones` request.
#[derive(Debug, Clone)]
pub struct Request {
    /// `None`: every zone.
    pub ids: Option<Vec<String>>,
    pub full: bool,
}

/// Reads `GetServerTimeZones` (`ReturnFullTimeZoneData`, `Ids/Id`).
pub fn parse(operation: &Node) -> Result<Request, Malformed> {
    let full = super::boolean(operation, "ReturnFullTimeZoneData")?.unwrap_or(true);
    let ids = match operation.child("Ids") {
        None => None,
        Some(ids) => {
            let ids: Vec<String> = ids
                .children
                .iter()
                .filter(|child| child.name == "Id")
                .map(|child| child.text.trim().to_owned())
                .collect();
            if ids.is_empty() {
                return Err(Malformed::Schema(
                    "The element 'Ids' has incomplete content. List of possible elements expected: 'Id'."
                        .into(),
                ));
            }
            Some(ids)
        }
    };
    Ok(Request { ids, full })
}

/// A switch to daylight or standard time: local time of day, month, `Occurrence` of Sunday.
struct Switch {
    offset: &'static str,
    month: u8,
    occurrence: i8,
}

/// One rule set: the year it starts and the two switches.
struct RuleSet {
    year: u16,
    daylight_bias: &'static str,
    to_daylight: Switch,
    to_standard: Switch,
}

struct Zone {
    id: &'static str,
    name: &'static str,
    bias: &'static str,
    /// Empty for zones without daylight saving time.
    rules: &'static [RuleSet],
}

const fn switch(offset: &'static str, month: u8, occurrence: i8) -> Switch {
    Switch {
        offset,
        month,
        occurrence,
    }
}

/// US rules before 2007 (first Sunday of April to last Sunday of October) and since (second Sunday of
/// March to first Sunday of November), at 02:00 local time.
const fn us(daylight_bias: &'static str) -> [RuleSet; 2] {
    [
        RuleSet {
            year: 2006,
            daylight_bias,
            to_daylight: switch("PT2H", 4, 1),
            to_standard: switch("PT2H", 10, -1),
        },
        RuleSet {
            year: 2007,
            daylight_bias,
            to_daylight: switch("PT2H", 3, 2),
            to_standard: switch("PT2H", 11, 1),
        },
    ]
}

const EASTERN: [RuleSet; 2] = us("PT4H");
const CENTRAL: [RuleSet; 2] = us("PT5H");
const MOUNTAIN: [RuleSet; 2] = us("PT6H");
const PACIFIC: [RuleSet; 2] = us("PT7H");
/// EU rule in Central European local time: 02:00 → 03:00 on the last Sunday of March, back at 03:00 on
/// the last Sunday of October.
const CENTRAL_EUROPE: [RuleSet; 1] = [RuleSet {
    year: 1,
    daylight_bias: "-PT2H",
    to_daylight: switch("PT2H", 3, -1),
    to_standard: switch("PT3H", 10, -1),
}];
/// EU rule in UK local time: 01:00 → 02:00, back at 02:00.
const BRITAIN: [RuleSet; 1] = [RuleSet {
    year: 1,
    daylight_bias: "-PT1H",
    to_daylight: switch("PT1H", 3, -1),
    to_standard: switch("PT2H", 10, -1),
}];

/// The zones the sandbox knows, westernmost first.
const ZONES: [Zone; 10] = [
    Zone {
        id: "Pacific Standard Time",
        name: "(UTC-08:00) Pacific Time (US & Canada)",
        bias: "PT8H",
        rules: &PACIFIC,
    },
    Zone {
        id: "Mountain Standard Time",
        name: "(UTC-07:00) Mountain Time (US & Canada)",
        bias: "PT7H",
        rules: &MOUNTAIN,
    },
    Zone {
        id: "Central Standard Time",
        name: "(UTC-06:00) Central Time (US & Canada)",
        bias: "PT6H",
        rules: &CENTRAL,
    },
    Zone {
        id: "Eastern Standard Time",
        name: "(UTC-05:00) Eastern Time (US & Canada)",
        bias: "PT5H",
        rules: &EASTERN,
    },
    Zone {
        id: "UTC",
        name: "(UTC) Coordinated Universal Time",
        bias: "PT0S",
        rules: &[],
    },
    Zone {
        id: "GMT Standard Time",
        name: "(UTC+00:00) Dublin, Edinburgh, Lisbon, London",
        bias: "PT0S",
        rules: &BRITAIN,
    },
    Zone {
        id: "W. Europe Standard Time",
        name: "(UTC+01:00) Amsterdam, Berlin, Bern, Rome, Stockholm, Vienna",
        bias: "-PT1H",
        rules: &CENTRAL_EUROPE,
    },
    Zone {
        id: "Romance Standard Time",
        name: "(UTC+01:00) Brussels, Copenhagen, Madrid, Paris",
        bias: "-PT1H",
        rules: &CENTRAL_EUROPE,
    },
    Zone {
        id: "India Standard Time",
        name: "(UTC+05:30) Chennai, Kolkata, Mumbai, New Delhi",
        bias: "-PT5H30M",
        rules: &[],
    },
    Zone {
        id: "Tokyo Standard Time",
        name: "(UTC+09:00) Osaka, Sapporo, Tokyo",
        bias: "-PT9H",
        rules: &[],
    },
];

fn period_id(zone: &Zone, year: u16, name: &str) -> String {
    format!("trule:Microsoft/Registry/{}/{year}-{name}", zone.id)
}

fn to(kind: &str, target: &str) -> String {
    format!(r#"<t:To Kind="{kind}">{}</t:To>"#, escape(target))
}

fn recurring(target: &str, switch: &Switch) -> String {
    format!(
        "<t:RecurringDayTransition>{}<t:TimeOffset>{}</t:TimeOffset><t:Month>{}</t:Month><t:DayOfWeek>Sunday</t:DayOfWeek><t:Occurrence>{}</t:Occurrence></t:RecurringDayTransition>",
        to("Period", target),
        switch.offset,
        switch.month,
        switch.occurrence
    )
}

/// `Periods`, `TransitionsGroups` and `Transitions` of a zone.
fn full_definition(zone: &Zone) -> String {
    let mut periods = String::new();
    let mut groups = String::new();
    let mut transitions = String::new();
    if zone.rules.is_empty() {
        let standard = period_id(zone, 1, "Standard");
        periods.push_str(&format!(
            r#"<t:Period Bias="{}" Name="Standard" Id="{}"/>"#,
            zone.bias,
            escape(standard.as_str())
        ));
        groups.push_str(&format!(
            r#"<t:TransitionsGroup Id="0"><t:Transition>{}</t:Transition></t:TransitionsGroup>"#,
            to("Period", &standard)
        ));
        transitions.push_str(&format!(
            "<t:Transition>{}</t:Transition>",
            to("Group", "0")
        ));
    }
    for (group, rules) in zone.rules.iter().enumerate() {
        let standard = period_id(zone, rules.year, "Standard");
        let daylight = period_id(zone, rules.year, "Daylight");
        periods.push_str(&format!(
            r#"<t:Period Bias="{}" Name="Standard" Id="{}"/><t:Period Bias="{}" Name="Daylight" Id="{}"/>"#,
            zone.bias,
            escape(standard.as_str()),
            rules.daylight_bias,
            escape(daylight.as_str())
        ));
        groups.push_str(&format!(
            r#"<t:TransitionsGroup Id="{group}">{}{}</t:TransitionsGroup>"#,
            recurring(&daylight, &rules.to_daylight),
            recurring(&standard, &rules.to_standard)
        ));
        let target = to("Group", &group.to_string());
        if group == 0 {
            transitions.push_str(&format!("<t:Transition>{target}</t:Transition>"));
        } else {
            transitions.push_str(&format!(
                "<t:AbsoluteDateTransition>{target}<t:DateTime>{}-01-01T00:00:00</t:DateTime></t:AbsoluteDateTransition>",
                rules.year
            ));
        }
    }
    format!(
        "<t:Periods>{periods}</t:Periods><t:TransitionsGroups>{groups}</t:TransitionsGroups><t:Transitions>{transitions}</t:Transitions>"
    )
}

fn definition(zone: &Zone, full: bool) -> String {
    let open = format!(
        r#"<t:TimeZoneDefinition Id="{}" Name="{}""#,
        escape(zone.id),
        escape(zone.name)
    );
    if full {
        format!("{open}>{}</t:TimeZoneDefinition>", full_definition(zone))
    } else {
        format!("{open}/>")
    }
}

fn zone(id: &str) -> Option<&'static Zone> {
    ZONES.iter().find(|zone| zone.id == id)
}

/// Renders `GetServerTimeZonesResponse`.
pub fn answer(_state: &AppState, _acting: &Acting, request: &Request) -> String {
    let zones: Result<Vec<&Zone>, &str> = match &request.ids {
        None => Ok(ZONES.iter().collect()),
        Some(ids) => ids.iter().map(|id| zone(id).ok_or(id.as_str())).collect(),
    };
    let (outcome, definitions) = match zones {
        Ok(zones) => (
            Outcome::Status(Status::Success),
            zones
                .iter()
                .map(|zone| definition(zone, request.full))
                .collect::<String>(),
        ),
        Err(_) => (
            Outcome::error("ErrorTimeZone", "The time zone isn't valid."),
            String::new(),
        ),
    };
    format!(
        r#"<m:GetServerTimeZonesResponse {}><m:ResponseMessages>{}<m:TimeZoneDefinitions>{definitions}</m:TimeZoneDefinitions></m:GetServerTimeZonesResponseMessage></m:ResponseMessages></m:GetServerTimeZonesResponse>"#,
        namespaces(),
        outcome.open("GetServerTimeZonesResponseMessage")
    )
}
