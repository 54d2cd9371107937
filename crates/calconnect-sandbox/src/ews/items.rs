//! `FindItem` (a `CalendarView` that expands recurrences, or the folder's items a page at a time) and
//! `GetItem`, answered from the acting identity's `ReadItems` right on the folder.
//!
//! Private items: the owner (or a caller impersonating the owner) and delegates with
//! `CanViewPrivateItems` see them whole; anyone else sees the times without subject and location.
//! ASSUMPTION: Exchange's exact masking of private items for a reviewer is not documented (facts Q3:
//! "subject hidden / IsPrivate true, exact masking unverified").

use chrono::{DateTime, Duration, Utc};
use quick_xml::escape::escape;

use super::access::Acting;
use super::folders::{self, ResolvedFolder};
use super::ids::{self, IdKind};
use super::request::{FolderRef, ItemView, Shape};
use super::response::{namespaces, Status};
use crate::tenant::{Event, FolderRights, Sensitivity, ShowAs, Tenant};

/// One calendar item as FindItem and GetItem render it.
struct CalendarItem<'a> {
    id: String,
    event: &'a Event,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    /// `Single`, `Occurrence` or `RecurringMaster`.
    kind: &'static str,
}

/// Exchange's `LegacyFreeBusyType` for a Graph `showAs`.
pub(crate) fn legacy_free_busy(show_as: ShowAs) -> &'static str {
    match show_as {
        ShowAs::Free => "Free",
        ShowAs::Tentative => "Tentative",
        ShowAs::Busy => "Busy",
        ShowAs::Oof => "OOF",
        ShowAs::WorkingElsewhere => "WorkingElsewhere",
        ShowAs::Unknown => "NoData",
    }
}

fn opened(
    tenant: &Tenant,
    acting: &Acting,
    parent: &FolderRef,
) -> Result<(ResolvedFolder, FolderRights), Status> {
    let folder = folders::resolve(tenant, acting, parent)?;
    let rights = acting.folder_rights(tenant, &folder.mailbox, folder.name);
    match folders::open_status(&folder, &rights) {
        Status::Success if rights.read_items => Ok((folder, rights)),
        // FolderVisible without ReadItems (Contributor): the folder binds, its contents do not.
        Status::Success => Err(Status::error(
            "ErrorAccessDenied",
            "Access is denied. Check credentials and try again.",
        )),
        denied => Err(denied),
    }
}

/// The `FindItem` response body.
pub(crate) fn find_item(
    tenant: &Tenant,
    acting: &Acting,
    parent: &FolderRef,
    view: &ItemView,
    shape: &Shape,
) -> String {
    let (status, body) = match opened(tenant, acting, parent) {
        Ok((folder, rights)) => match find(tenant, &folder, view) {
            Ok((items, total, last)) => {
                let mut body = format!(
                    r#"<m:RootFolder TotalItemsInView="{total}" IncludesLastItemInRange="{last}"><t:Items>"#
                );
                for item in &items {
                    body.push_str(&render(&folder.mailbox, item, &rights, shape));
                }
                body.push_str("</t:Items></m:RootFolder>");
                (Status::Success, body)
            }
            Err(status) => (status, String::new()),
        },
        Err(status) => (status, String::new()),
    };
    let mut message = status.open("FindItemResponseMessage");
    message.push_str(&body);
    message.push_str("</m:FindItemResponseMessage>");
    format!(
        r#"<m:FindItemResponse {}><m:ResponseMessages>{message}</m:ResponseMessages></m:FindItemResponse>"#,
        namespaces()
    )
}

/// (items, total in view, whether the last one is included).
fn find<'a>(
    tenant: &'a Tenant,
    folder: &ResolvedFolder,
    view: &ItemView,
) -> Result<(Vec<CalendarItem<'a>>, usize, bool), Status> {
    let calendar = tenant
        .mailbox_owner(&folder.mailbox)
        .and_then(|owner| owner.default_calendar())
        .filter(|_| folder.name == "calendar");
    match view {
        ItemView::Calendar {
            start,
            end,
            max_entries,
        } => {
            if folder.name != "calendar" {
                return Err(Status::error(
                    "ErrorInvalidRequest",
                    "CalendarView can only be used with calendar folders.",
                ));
            }
            if *end - *start > Duration::days(730) {
                return Err(Status::error(
                    "ErrorCalendarViewRangeTooBig",
                    "The time range for the calendar view is greater than two years.",
                ));
            }
            let occurrences = calendar
                .map(|calendar| calendar.view(*start, *end))
                .unwrap_or_default();
            // More occurrences than MaxEntriesReturned: the first ones, IncludesLastItemInRange false
            // (learn.microsoft.com/exchange/client-developer/web-service-reference/calendarview).
            let total = occurrences.len();
            let max = max_entries.unwrap_or(usize::MAX);
            let items: Vec<CalendarItem<'_>> = occurrences
                .into_iter()
                .take(max)
                .map(|occurrence| CalendarItem {
                    id: occurrence.id.clone(),
                    event: occurrence.event,
                    start: occurrence.start,
                    end: occurrence.end,
                    kind: if occurrence.is_occurrence {
                        "Occurrence"
                    } else {
                        "Single"
                    },
                })
                .collect();
            let last = items.len() == total;
            Ok((items, total, last))
        }
        ItemView::Indexed {
            max_entries,
            offset,
        } => {
            let events: Vec<&Event> = calendar
                .map(|calendar| calendar.events.iter().collect())
                .unwrap_or_default();
            let total = events.len();
            let items: Vec<CalendarItem<'_>> = events
                .into_iter()
                .skip(*offset)
                .take(max_entries.unwrap_or(usize::MAX))
                .map(master)
                .collect();
            let last = offset + items.len() >= total;
            Ok((items, total, last))
        }
    }
}

fn master(event: &Event) -> CalendarItem<'_> {
    CalendarItem {
        id: event.id.clone(),
        event,
        start: event.start,
        end: event.end,
        kind: if event.recurrence.is_some() {
            "RecurringMaster"
        } else {
            "Single"
        },
    }
}

/// The `GetItem` response body: one message per id.
pub(crate) fn get_item(tenant: &Tenant, acting: &Acting, ids: &[String], shape: &Shape) -> String {
    let mut messages = String::new();
    for id in ids {
        match item(tenant, acting, id) {
            Ok((mailbox, found, rights)) => {
                messages.push_str(&Status::Success.open("GetItemResponseMessage"));
                messages.push_str("<m:Items>");
                messages.push_str(&render(&mailbox, &found, &rights, shape));
                messages.push_str("</m:Items>");
            }
            // ItemInfoResponseMessageType requires `Items`, empty on errors (messages.xsd).
            Err(status) => {
                messages.push_str(&status.open("GetItemResponseMessage"));
                messages.push_str("<m:Items/>");
            }
        }
        messages.push_str("</m:GetItemResponseMessage>");
    }
    format!(
        r#"<m:GetItemResponse {}><m:ResponseMessages>{messages}</m:ResponseMessages></m:GetItemResponse>"#,
        namespaces()
    )
}

fn item<'a>(
    tenant: &'a Tenant,
    acting: &Acting,
    id: &str,
) -> Result<(String, CalendarItem<'a>, FolderRights), Status> {
    let id = ids::decode(id, IdKind::Item)
        .ok_or_else(|| Status::error("ErrorInvalidIdMalformed", "Id is malformed."))?;
    let not_found = || {
        Status::error(
            "ErrorItemNotFound",
            "The specified object was not found in the store.",
        )
    };
    let parent = FolderRef::Distinguished {
        id: "calendar".to_owned(),
        mailbox: Some(id.mailbox.clone()),
    };
    // "ErrorItemNotFound: … or you do not have permission to access the item" (responsecode).
    let (folder, rights) = opened(tenant, acting, &parent).map_err(|_| not_found())?;
    let calendar = tenant
        .mailbox_owner(&folder.mailbox)
        .and_then(|owner| owner.default_calendar())
        .ok_or_else(not_found)?;
    // An occurrence id is `{series}_{yyyymmdd}`; a master or single item is the event id.
    if let Some(event) = calendar.events.iter().find(|event| event.id == id.name) {
        return Ok((folder.mailbox, master(event), rights));
    }
    let (series, day) = id.name.rsplit_once('_').ok_or_else(not_found)?;
    let event = calendar
        .events
        .iter()
        .find(|event| event.id == series && event.recurrence.is_some())
        .ok_or_else(not_found)?;
    let date = chrono::NaiveDate::parse_from_str(day, "%Y%m%d").map_err(|_| not_found())?;
    let day_start = date.and_hms_opt(0, 0, 0).ok_or_else(not_found)?.and_utc();
    let occurrence = event
        .occurrences(day_start, day_start + Duration::days(1))
        .into_iter()
        .find(|occurrence| occurrence.id == id.name)
        .ok_or_else(not_found)?;
    Ok((
        folder.mailbox,
        CalendarItem {
            id: occurrence.id.clone(),
            event,
            start: occurrence.start,
            end: occurrence.end,
            kind: "Occurrence",
        },
        rights,
    ))
}

/// A `t:CalendarItem`, children in `types.xsd` order (ItemType's, then CalendarItemType's).
fn render(mailbox: &str, item: &CalendarItem<'_>, rights: &FolderRights, shape: &Shape) -> String {
    let id = ids::encode(IdKind::Item, mailbox, &item.id);
    let mut xml = format!(
        r#"<t:CalendarItem><t:ItemId Id="{}" ChangeKey="DwAAABYAAAA"/>"#,
        escape(id.as_str())
    );
    if shape.id_only() {
        xml.push_str("</t:CalendarItem>");
        return xml;
    }
    let event = item.event;
    let masked = event.sensitivity.hides_details() && !rights.view_private_items;
    xml.push_str("<t:ItemClass>IPM.Appointment</t:ItemClass>");
    if !masked {
        xml.push_str(&format!(
            "<t:Subject>{}</t:Subject>",
            escape(event.subject.as_str())
        ));
    }
    xml.push_str(&format!(
        "<t:Sensitivity>{}</t:Sensitivity>",
        sensitivity(event.sensitivity)
    ));
    xml.push_str(&format!(
        "<t:UID>{}</t:UID><t:Start>{}</t:Start><t:End>{}</t:End><t:IsAllDayEvent>{}</t:IsAllDayEvent><t:LegacyFreeBusyStatus>{}</t:LegacyFreeBusyStatus>",
        escape(event.id.as_str()),
        utc(item.start),
        utc(item.end),
        event.is_all_day,
        legacy_free_busy(event.show_as)
    ));
    if !masked {
        xml.push_str(&format!(
            "<t:Location>{}</t:Location>",
            escape(event.location.as_str())
        ));
    }
    xml.push_str(&format!(
        "<t:IsMeeting>{}</t:IsMeeting><t:IsRecurring>{}</t:IsRecurring><t:CalendarItemType>{}</t:CalendarItemType></t:CalendarItem>",
        event.organizer.is_some(),
        item.kind == "Occurrence",
        item.kind
    ));
    xml
}

fn sensitivity(sensitivity: Sensitivity) -> &'static str {
    match sensitivity {
        Sensitivity::Normal => "Normal",
        Sensitivity::Personal => "Personal",
        Sensitivity::Private => "Private",
        Sensitivity::Confidential => "Confidential",
    }
}

fn utc(instant: DateTime<Utc>) -> String {
    instant.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}
