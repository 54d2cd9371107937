//! The EWS operations the service-account test sends, one file each.
//!
//! Every body is a self-contained element (it declares `m:` and `t:` itself) so that it can be validated
//! against `messages.xsd` on its own, exactly as sent.

mod find_item;
mod get_folder;
mod get_user_availability;

pub use find_item::{CalendarSlot, FindCalendarView};
pub use get_folder::{DistinguishedFolder, EffectiveRights, Folder, GetFolder};
pub use get_user_availability::{Availability, GetUserAvailability, RequestedView};

use crate::parse::XmlElement;

/// An EWS operation: its name, its request body and how to read a successful response.
pub trait Operation {
    /// What a successful response yields.
    type Output;

    /// The operation name as in the EWS reference (`GetFolder`, `FindItem`, `GetUserAvailability`).
    fn name(&self) -> &'static str;

    /// The child of `soap:Body`.
    fn body(&self) -> String;

    /// Reads the output from the child of `soap:Body` of a response whose first message succeeded.
    fn read(&self, body: &XmlElement) -> Self::Output;
}

/// xs:dateTime in UTC without fractional seconds, as EWS examples write it.
pub(crate) fn xml_date_time(instant: chrono::DateTime<chrono::Utc>) -> String {
    instant.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// `<t:Mailbox>` naming a folder's owner for delegate access, or nothing (impersonation, own mailbox).
pub(crate) fn mailbox_element(owner: Option<&str>) -> String {
    owner
        .map(|address| {
            format!(
                "<t:Mailbox><t:EmailAddress>{}</t:EmailAddress></t:Mailbox>",
                quick_xml::escape::escape(address)
            )
        })
        .unwrap_or_default()
}
