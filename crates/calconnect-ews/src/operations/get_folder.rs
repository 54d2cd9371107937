//! `GetFolder` on a distinguished folder (EWS reference "GetFolder operation").

use serde::Serialize;

use super::Operation;
use crate::parse::XmlElement;
use crate::soap::namespace_declarations;

/// The distinguished folders the test touches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum DistinguishedFolder {
    /// The default calendar.
    Calendar,
    /// The inbox: a Restricted (calendar-only) grant must be refused here.
    Inbox,
}

impl DistinguishedFolder {
    /// `DistinguishedFolderId@Id` spelling.
    pub fn id(self) -> &'static str {
        match self {
            Self::Calendar => "calendar",
            Self::Inbox => "inbox",
        }
    }
}

/// `GetFolder` with `BaseShape` `IdOnly` plus `folder:EffectiveRights`: proves access without reading
/// content, and says what the caller may do in the folder (a delegate's Editor can create items, a
/// Reviewer cannot).
#[derive(Debug, Clone)]
pub struct GetFolder {
    /// Which folder.
    pub folder: DistinguishedFolder,
    /// Owner for delegate access (`DistinguishedFolderId/Mailbox`); leave `None` when impersonating.
    pub mailbox: Option<String>,
}

/// The folder returned on success.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Folder {
    /// `FolderId@Id`.
    pub id: String,
    /// `EffectiveRights`, when the server sent them.
    pub rights: Option<EffectiveRights>,
}

/// The caller's own rights on the folder (EWS reference "EffectiveRights").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EffectiveRights {
    /// `CreateContents`: may create items (events) in the folder.
    pub create_contents: bool,
    /// `Read`: may read its items.
    pub read: bool,
}

impl EffectiveRights {
    /// Readable and writable: what a calendar vendor needs.
    pub fn read_write(self) -> bool {
        self.create_contents && self.read
    }
}

impl Operation for GetFolder {
    type Output = Folder;

    fn name(&self) -> &'static str {
        "GetFolder"
    }

    fn body(&self) -> String {
        let mailbox = super::mailbox_element(self.mailbox.as_deref());
        format!(
            r#"<m:GetFolder {ns}><m:FolderShape><t:BaseShape>IdOnly</t:BaseShape><t:AdditionalProperties><t:FieldURI FieldURI="folder:EffectiveRights"/></t:AdditionalProperties></m:FolderShape><m:FolderIds><t:DistinguishedFolderId Id="{id}">{mailbox}</t:DistinguishedFolderId></m:FolderIds></m:GetFolder>"#,
            ns = namespace_declarations(),
            id = self.folder.id(),
        )
    }

    fn read(&self, body: &XmlElement) -> Folder {
        let id = body
            .descendant("FolderId")
            .and_then(|id| id.attribute("Id"))
            .unwrap_or_default()
            .to_owned();
        let flag = |rights: &XmlElement, name: &str| {
            rights
                .child_text(name)
                .is_some_and(|text| text.trim().eq_ignore_ascii_case("true"))
        };
        let rights = body
            .descendant("EffectiveRights")
            .map(|rights| EffectiveRights {
                create_contents: flag(rights, "CreateContents"),
                read: flag(rights, "Read"),
            });
        Folder { id, rights }
    }
}
