//! `GetFolder` on a distinguished folder (EWS reference "GetFolder operation").

use quick_xml::escape::escape;
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

/// `GetFolder` with `BaseShape` `IdOnly`: proves access without reading content.
#[derive(Debug, Clone)]
pub struct GetFolder {
    /// Which folder.
    pub folder: DistinguishedFolder,
    /// Owner for delegate access (`DistinguishedFolderId/Mailbox`); leave `None` when impersonating.
    pub mailbox: Option<String>,
}

/// The folder id returned on success.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Folder {
    /// `FolderId@Id`.
    pub id: String,
}

impl Operation for GetFolder {
    type Output = Folder;

    fn name(&self) -> &'static str {
        "GetFolder"
    }

    fn body(&self) -> String {
        let mailbox = self
            .mailbox
            .as_ref()
            .map(|address| {
                format!(
                    "<t:Mailbox><t:EmailAddress>{}</t:EmailAddress></t:Mailbox>",
                    escape(address.as_str())
                )
            })
            .unwrap_or_default();
        format!(
            r#"<m:GetFolder {ns}><m:FolderShape><t:BaseShape>IdOnly</t:BaseShape></m:FolderShape><m:FolderIds><t:DistinguishedFolderId Id="{id}">{mailbox}</t:DistinguishedFolderId></m:FolderIds></m:GetFolder>"#,
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
        Folder { id }
    }
}
