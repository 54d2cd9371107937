//! `GetFolder`: every distinguished folder of a mailbox, by name (with or without `<t:Mailbox>`) or by a
//! `FolderId` from an earlier answer, answered from the acting identity's rights on that folder.
//!
//! Denials, as delegates meet them ("Handling delegation-related errors in EWS in Exchange"): the root
//! folders and the calendar answer `ErrorAccessDenied` without FolderVisible (exchangelib#1282, #1222:
//! "permission to the calendar folder of the mailbox, but not to the root folder"), any other folder
//! `ErrorFolderNotFound` "The specified object was not found in the store." (exchangelib#548).
//! ASSUMPTION: which of the two a free/busy-only calendar gets is not documented; Graph answers the same
//! store ACL with `ErrorAccessDenied`, so that is what the sandbox sends.

use quick_xml::escape::escape;

use super::access::Acting;
use super::ids::{self, IdKind};
use super::request::{FolderRef, Shape};
use super::response::{namespaces, Status};
use crate::tenant::{FolderRights, Tenant};

/// The folders every mailbox has: (distinguished id, display name, folder class, element).
const FOLDERS: &[(&str, &str, &str, &str)] = &[
    ("root", "Root", "", "Folder"),
    ("msgfolderroot", "Top of Information Store", "", "Folder"),
    ("calendar", "Calendar", "IPF.Appointment", "CalendarFolder"),
    ("contacts", "Contacts", "IPF.Contact", "ContactsFolder"),
    ("deleteditems", "Deleted Items", "IPF.Note", "Folder"),
    ("drafts", "Drafts", "IPF.Note", "Folder"),
    ("inbox", "Inbox", "IPF.Note", "Folder"),
    ("journal", "Journal", "IPF.Journal", "Folder"),
    ("junkemail", "Junk Email", "IPF.Note", "Folder"),
    ("notes", "Notes", "IPF.StickyNote", "Folder"),
    ("outbox", "Outbox", "IPF.Note", "Folder"),
    ("sentitems", "Sent Items", "IPF.Note", "Folder"),
    ("tasks", "Tasks", "IPF.Task", "TasksFolder"),
];

/// Whether `name` is one of the distinguished folders every mailbox has (exact, lowercase).
pub(crate) fn is_distinguished(name: &str) -> bool {
    FOLDERS.iter().any(|(id, ..)| *id == name)
}

/// A folder that a request resolved to.
#[derive(Debug, Clone)]
pub(crate) struct ResolvedFolder {
    /// SMTP address of the mailbox.
    pub mailbox: String,
    /// Distinguished name (`calendar`, `inbox`, ...).
    pub name: &'static str,
}

/// Resolves a folder reference against the mailboxes of the tenant.
pub(crate) fn resolve(
    tenant: &Tenant,
    acting: &Acting,
    folder: &FolderRef,
) -> Result<ResolvedFolder, Status> {
    let (mailbox, name) = match folder {
        FolderRef::Id(id) => {
            let id = ids::decode(id, IdKind::Folder)
                .ok_or_else(|| Status::error("ErrorInvalidIdMalformed", "Id is malformed."))?;
            (id.mailbox, id.name)
        }
        FolderRef::Distinguished { id, mailbox } => {
            let mailbox = match mailbox {
                Some(mailbox) => mailbox.clone(),
                None => acting.home_mailbox(tenant).ok_or_else(|| {
                    Status::error(
                        "ErrorMissingEmailAddress",
                        "When making a request as an account that does not have a mailbox, you must specify the mailbox primary SMTP address for any distinguished folder Ids.",
                    )
                })?,
            };
            (mailbox, id.clone())
        }
    };
    let Some(mailbox) = tenant.mailbox(&mailbox) else {
        return Err(Status::error(
            "ErrorNonExistentMailbox",
            format!("The SMTP address has no mailbox associated with it: {mailbox}"),
        ));
    };
    let Some((name, ..)) = FOLDERS
        .iter()
        .find(|(id, ..)| id.eq_ignore_ascii_case(&name))
    else {
        return Err(Status::error(
            "ErrorFolderNotFound",
            "The specified folder could not be found in the store.",
        ));
    };
    Ok(ResolvedFolder {
        mailbox: mailbox.smtp.clone(),
        name,
    })
}

/// The status of opening `folder` with `rights`: success with FolderVisible, else a denial.
pub(crate) fn open_status(folder: &ResolvedFolder, rights: &FolderRights) -> Status {
    if rights.folder_visible {
        return Status::Success;
    }
    if matches!(folder.name, "root" | "msgfolderroot" | "calendar") {
        Status::error(
            "ErrorAccessDenied",
            "Access is denied. Check credentials and try again.",
        )
    } else {
        Status::error(
            "ErrorFolderNotFound",
            "The specified object was not found in the store.",
        )
    }
}

/// The `GetFolder` response body.
pub(crate) fn get_folder(
    tenant: &Tenant,
    acting: &Acting,
    folders: &[FolderRef],
    shape: &Shape,
) -> String {
    let mut messages = String::new();
    for folder in folders {
        let outcome = resolve(tenant, acting, folder).and_then(|resolved| {
            let rights = acting.folder_rights(tenant, &resolved.mailbox, resolved.name);
            match open_status(&resolved, &rights) {
                Status::Success => Ok((resolved, rights)),
                denied => Err(denied),
            }
        });
        match outcome {
            Ok((resolved, rights)) => {
                messages.push_str(&Status::Success.open("GetFolderResponseMessage"));
                messages.push_str("<m:Folders>");
                messages.push_str(&render_folder(tenant, &resolved, &rights, shape));
                messages.push_str("</m:Folders>");
            }
            Err(status) => messages.push_str(&status.open("GetFolderResponseMessage")),
        }
        messages.push_str("</m:GetFolderResponseMessage>");
    }
    format!(
        r#"<m:GetFolderResponse {}><m:ResponseMessages>{messages}</m:ResponseMessages></m:GetFolderResponse>"#,
        namespaces()
    )
}

fn render_folder(
    tenant: &Tenant,
    folder: &ResolvedFolder,
    rights: &FolderRights,
    shape: &Shape,
) -> String {
    let Some((_, display_name, class, element)) =
        FOLDERS.iter().find(|(id, ..)| *id == folder.name)
    else {
        return String::new();
    };
    let id = ids::encode(IdKind::Folder, &folder.mailbox, folder.name);
    let mut xml = format!(
        r#"<t:{element}><t:FolderId Id="{}" ChangeKey="AQAAABYAAAA"/>"#,
        escape(id.as_str())
    );
    if !shape.id_only() {
        if !class.is_empty() {
            xml.push_str(&format!("<t:FolderClass>{class}</t:FolderClass>"));
        }
        let total = if folder.name == "calendar" {
            tenant
                .mailbox_owner(&folder.mailbox)
                .and_then(|owner| owner.default_calendar())
                .map_or(0, |calendar| calendar.events.len())
        } else {
            0
        };
        xml.push_str(&format!(
            "<t:DisplayName>{display_name}</t:DisplayName><t:TotalCount>{total}</t:TotalCount><t:ChildFolderCount>0</t:ChildFolderCount>"
        ));
        if shape.includes("folder:EffectiveRights") {
            xml.push_str(&effective_rights(rights));
        }
    }
    xml.push_str(&format!("</t:{element}>"));
    xml
}

/// `EffectiveRights`: the caller's own rights on the folder, children in schema order
/// (learn.microsoft.com/exchange/client-developer/web-service-reference/effectiverights).
fn effective_rights(rights: &FolderRights) -> String {
    format!(
        "<t:EffectiveRights><t:CreateAssociated>{}</t:CreateAssociated><t:CreateContents>{}</t:CreateContents><t:CreateHierarchy>{}</t:CreateHierarchy><t:Delete>{}</t:Delete><t:Modify>{}</t:Modify><t:Read>{}</t:Read><t:ViewPrivateItems>{}</t:ViewPrivateItems></t:EffectiveRights>",
        rights.folder_owner,
        rights.create_items,
        rights.create_subfolders,
        rights.folder_owner,
        rights.folder_owner,
        rights.read_items,
        rights.view_private_items
    )
}
