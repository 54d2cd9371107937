//! `ResolveNames`: resolves an ambiguous name against the directory
//! (https://learn.microsoft.com/exchange/client-developer/web-service-reference/resolvenames-operation).
//!
//! What the operation page documents and the sandbox does:
//! - one `UnresolvedEntry` per request (messages.xsd);
//! - without a routing-type prefix the name is matched as Active Directory's ambiguous name
//!   resolution does: a prefix of the display name, of any word of it, of the given name, surname,
//!   alias (mail nickname) or primary SMTP address; with `smtp:` the rest is matched as a prefix of the
//!   mailbox's addresses (primary SMTP and UPN here);
//! - no match: `ResponseClass="Error"`, `ErrorNameResolutionNoResults`, "No results were found.";
//! - one match: `Success` with a `ResolutionSet` of one `Resolution`;
//! - several: `ResponseClass="Warning"`, `ErrorNameResolutionMultipleResults`, "Multiple results were
//!   found.", and every candidate in the `ResolutionSet` (at most 100; exchangelib's
//!   `test_resolvenames_parsing` quotes such a response, and reads `IncludesLastItemInRange` on every
//!   set);
//! - `Mailbox` is `Name`, `EmailAddress`, `RoutingType` SMTP, `MailboxType` Mailbox; with
//!   `ReturnFullContactData="true"` a `Contact` follows (`DisplayName`, `GivenName`, `EmailAddresses`
//!   with `EmailAddress1` "SMTP:…", `ContactSource` ActiveDirectory, `JobTitle`, `OfficeLocation`,
//!   `Surname`, in ContactItemType's order);
//! - `SearchScope`: the sandbox has directory entries only and no personal contacts, so `Contacts`
//!   finds nothing and the other scopes search the directory;
//! - a name such as a single space, a comma or a dash is `ErrorInvalidNameForNameResolution` ("The
//!   specified value is not a valid name for name resolution.", EWS Managed API `ServiceError`;
//!   responsecode page: "a zero length string, a single space, a comma, and a dash are all invalid
//!   names").

use quick_xml::escape::escape;

use super::Outcome;
use crate::ews::access::Acting;
use crate::ews::request::{Malformed, Node};
use crate::ews::response::{namespaces, Status};
use crate::state::AppState;
use crate::tenant::{Mailbox, User};

/// `ResolveNamesSearchScopeType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchScope {
    ActiveDirectory,
    ActiveDirectoryContacts,
    Contacts,
    ContactsActiveDirectory,
}

/// A parsed `ResolveNames` request.
#[derive(Debug, Clone)]
pub struct Request {
    pub entry: String,
    pub full_contact_data: bool,
    pub scope: SearchScope,
}

/// Reads `ResolveNames` (`ReturnFullContactData`, `SearchScope`, `UnresolvedEntry`).
pub fn parse(operation: &Node) -> Result<Request, Malformed> {
    let full_contact_data =
        super::boolean(operation, "ReturnFullContactData")?.ok_or_else(|| {
            Malformed::Schema("The required attribute 'ReturnFullContactData' is missing.".into())
        })?;
    let scope = match operation.attribute("SearchScope").map(str::trim) {
        None | Some("ActiveDirectoryContacts") => SearchScope::ActiveDirectoryContacts,
        Some("ActiveDirectory") => SearchScope::ActiveDirectory,
        Some("Contacts") => SearchScope::Contacts,
        Some("ContactsActiveDirectory") => SearchScope::ContactsActiveDirectory,
        Some(other) => {
            return Err(Malformed::Schema(format!(
                "The 'SearchScope' attribute is invalid - The value '{other}' is invalid according to its datatype 'http://schemas.microsoft.com/exchange/services/2006/types:ResolveNamesSearchScopeType' - The Enumeration constraint failed."
            )))
        }
    };
    let mut entries = operation
        .children
        .iter()
        .filter(|child| child.name == "UnresolvedEntry");
    let entry = entries.next().ok_or_else(|| {
        Malformed::Schema(
            "The element 'ResolveNames' has incomplete content. List of possible elements expected: 'UnresolvedEntry'."
                .into(),
        )
    })?;
    if entries.next().is_some() {
        return Err(Malformed::Schema(
            "The element 'ResolveNames' has invalid child element 'UnresolvedEntry'.".into(),
        ));
    }
    // Node text is trimmed: a name of spaces arrives empty and is answered as an invalid name.
    Ok(Request {
        entry: entry.text.clone(),
        full_contact_data,
        scope,
    })
}

fn starts_with(text: &str, prefix: &str) -> bool {
    text.len() >= prefix.len()
        && text
            .get(..prefix.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
}

/// Whether `entry` resolves to `mailbox` / `user`.
fn matches(entry: &str, mailbox: &Mailbox, user: &User) -> bool {
    if let Some(address) = entry
        .get(..5)
        .filter(|scheme| scheme.eq_ignore_ascii_case("smtp:"))
        .and(entry.get(5..))
    {
        let address = address.trim();
        return !address.is_empty()
            && (starts_with(&mailbox.smtp, address)
                || starts_with(&user.user_principal_name, address));
    }
    let alias = mailbox.smtp.split('@').next().unwrap_or_default();
    starts_with(&user.display_name, entry)
        || user
            .display_name
            .split_whitespace()
            .any(|word| starts_with(word, entry))
        || user
            .given_name
            .as_deref()
            .is_some_and(|name| starts_with(name, entry))
        || user
            .surname
            .as_deref()
            .is_some_and(|name| starts_with(name, entry))
        || starts_with(alias, entry)
        || starts_with(&mailbox.smtp, entry)
}

fn resolution(mailbox: &Mailbox, user: &User, full: bool) -> String {
    let mut xml = format!(
        "<t:Resolution><t:Mailbox><t:Name>{}</t:Name><t:EmailAddress>{}</t:EmailAddress><t:RoutingType>SMTP</t:RoutingType><t:MailboxType>Mailbox</t:MailboxType></t:Mailbox>",
        escape(user.display_name.as_str()),
        escape(mailbox.smtp.as_str())
    );
    if full {
        let optional = |element: &str, value: Option<&str>| {
            value.map_or(String::new(), |value| {
                format!("<t:{element}>{}</t:{element}>", escape(value))
            })
        };
        xml.push_str(&format!(
            r#"<t:Contact><t:DisplayName>{}</t:DisplayName>{}<t:EmailAddresses><t:Entry Key="EmailAddress1">SMTP:{}</t:Entry></t:EmailAddresses><t:ContactSource>ActiveDirectory</t:ContactSource>{}{}{}</t:Contact>"#,
            escape(user.display_name.as_str()),
            optional("GivenName", user.given_name.as_deref()),
            escape(mailbox.smtp.as_str()),
            optional("JobTitle", user.job_title.as_deref()),
            optional("OfficeLocation", user.office_location.as_deref()),
            optional("Surname", user.surname.as_deref()),
        ));
    }
    xml.push_str("</t:Resolution>");
    xml
}

/// Renders `ResolveNamesResponse`.
pub fn answer(state: &AppState, _acting: &Acting, request: &Request) -> String {
    let entry = request.entry.trim();
    let invalid = entry.is_empty() || entry == "," || entry == "-";
    let mut found: Vec<(&Mailbox, &User)> = if invalid || request.scope == SearchScope::Contacts {
        Vec::new()
    } else {
        super::directory(state.tenant())
            .filter(|(mailbox, user)| matches(entry, mailbox, user))
            .collect()
    };
    found.sort_by(|a, b| {
        a.1.display_name
            .to_lowercase()
            .cmp(&b.1.display_name.to_lowercase())
    });
    found.truncate(100);
    let outcome = match found.len() {
        _ if invalid => Outcome::error(
            "ErrorInvalidNameForNameResolution",
            "The specified value is not a valid name for name resolution.",
        ),
        0 => Outcome::error("ErrorNameResolutionNoResults", "No results were found."),
        1 => Outcome::Status(Status::Success),
        _ => Outcome::Warning {
            code: "ErrorNameResolutionMultipleResults",
            text: "Multiple results were found.".into(),
        },
    };
    let mut message = outcome.open("ResolveNamesResponseMessage");
    if !found.is_empty() {
        message.push_str(&format!(
            r#"<m:ResolutionSet TotalItemsInView="{}" IncludesLastItemInRange="true">"#,
            found.len()
        ));
        for (mailbox, user) in &found {
            message.push_str(&resolution(mailbox, user, request.full_contact_data));
        }
        message.push_str("</m:ResolutionSet>");
    }
    message.push_str("</m:ResolveNamesResponseMessage>");
    format!(
        r#"<m:ResolveNamesResponse {}><m:ResponseMessages>{message}</m:ResponseMessages></m:ResolveNamesResponse>"#,
        namespaces()
    )
}
