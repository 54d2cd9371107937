//! The exact commands an admin pastes, filled in with their names, one builder per kind of fix. A
//! builder takes every mailbox that needs the same fix, so a bulk run yields one command, not hundreds.
//!
//! Every value is quoted for PowerShell ([`quote`]); addresses are validated before a run
//! ([`crate::diagnostics::mailbox_list`]), so no name can break out of its string.

use super::{AccessLevel, Fix};

const ROLE_ASSIGNMENT_DOC: &str =
    "https://learn.microsoft.com/en-us/powershell/module/exchange/new-managementroleassignment";
const ADD_FOLDER_PERMISSION_DOC: &str =
    "https://learn.microsoft.com/en-us/powershell/module/exchange/add-mailboxfolderpermission";
const GET_RECIPIENT_DOC: &str =
    "https://learn.microsoft.com/en-us/powershell/module/exchange/get-recipient";
/// "Role Based Access Control for Applications in Exchange Online".
pub(super) const APPLICATION_RBAC_DOC: &str =
    "https://learn.microsoft.com/en-us/exchange/permissions-exo/application-rbac";
/// Set-OrganizationConfig (`-EwsAllowedAppIDs`, `-EwsEnabled`).
pub(super) const ORGANIZATION_CONFIG_DOC: &str =
    "https://learn.microsoft.com/en-us/powershell/module/exchange/set-organizationconfig";

/// The management scope every scoped fix creates.
const SCOPE_NAME: &str = "calconnect-mailboxes";
/// Above this many mailboxes a scope names a group rather than listing addresses in its filter.
const MAX_ADDRESSES_IN_FILTER: usize = 20;

/// A double-quoted PowerShell string: the backtick escapes `` ` ``, `"` and `$` inside it.
pub(super) fn quote(text: &str) -> String {
    let mut quoted = String::with_capacity(text.len() + 2);
    quoted.push('"');
    for character in text.chars() {
        if matches!(character, '`' | '"' | '$') {
            quoted.push('`');
        }
        quoted.push(character);
    }
    quoted.push('"');
    quoted
}

/// A single-quoted OPATH value inside a filter: `'` doubles.
fn filter_value(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// `"a@x","b@x"` for a pipeline.
fn address_list(mailboxes: &[&str]) -> String {
    mailboxes
        .iter()
        .map(|mailbox| quote(mailbox))
        .collect::<Vec<_>>()
        .join(",")
}

/// An OPATH `RecipientRestrictionFilter` holding exactly `mailboxes` (or, for many, the members of a
/// group the admin names).
fn recipient_filter(mailboxes: &[&str]) -> String {
    if mailboxes.len() > MAX_ADDRESSES_IN_FILTER {
        return "MemberOfGroup -eq '<distinguished name of a group holding these mailboxes>'"
            .into();
    }
    mailboxes
        .iter()
        .map(|mailbox| format!("PrimarySmtpAddress -eq {}", filter_value(mailbox)))
        .collect::<Vec<_>>()
        .join(" -or ")
}

fn names(mailboxes: &[&str]) -> String {
    match mailboxes {
        [one] => (*one).to_owned(),
        [first, second] => format!("{first} and {second}"),
        [first, rest @ ..] => format!("{first} and {} more mailboxes", rest.len()),
        [] => "no mailbox".into(),
    }
}

/// Gives `account` `rights` on each mailbox's Calendar folder: `Set-` when it already has an entry there
/// (`Add-` would fail with "an existing permission entry was found"), else `Add-`.
fn folder_permission(account: &str, mailboxes: &[&str], rights: &str) -> String {
    let user = quote(account);
    let body = format!(
        "if (Get-MailboxFolderPermission -Identity $calendar -User {user} -ErrorAction SilentlyContinue) {{ Set-MailboxFolderPermission -Identity $calendar -User {user} -AccessRights {rights} }} else {{ Add-MailboxFolderPermission -Identity $calendar -User {user} -AccessRights {rights} }}"
    );
    match mailboxes {
        [one] => format!(
            "$calendar = {}; {body}",
            quote(&format!("{one}:\\Calendar"))
        ),
        many => format!(
            "{} | ForEach-Object {{ $calendar = \"$($_):\\Calendar\"; {body} }}",
            address_list(many)
        ),
    }
}

/// Free-busy: `AvailabilityOnly` on the Calendar folder.
pub(super) fn availability_only(account: &str, mailboxes: &[&str]) -> Fix {
    Fix {
        problem: format!(
            "{account} cannot even see when {} is busy: the calendar's Default permission is None there and {account} has no entry of its own",
            names(mailboxes)
        ),
        reaches: Some(AccessLevel::FreeBusy),
        changes: format!(
            "gives {account} AvailabilityOnly on the Calendar folder of {}: free/busy times only, no subjects, no other folder",
            names(mailboxes)
        ),
        command: Some(folder_permission(account, mailboxes, "AvailabilityOnly")),
        doc_url: ADD_FOLDER_PERMISSION_DOC.into(),
    }
}

/// Restricted: Editor on the Calendar folder, used by delegate access (no impersonation).
pub(super) fn delegate_editor(account: &str, mailboxes: &[&str], read_only: bool) -> Fix {
    let problem = if read_only {
        format!(
            "{account} can read the calendar of {} by delegate access but not create events (its folder permission is read-only)",
            names(mailboxes)
        )
    } else {
        format!(
            "{account} has no delegate access to the calendar of {}: calendar-only (Restricted) access is a folder permission, not impersonation",
            names(mailboxes)
        )
    };
    Fix {
        problem,
        reaches: Some(AccessLevel::Restricted),
        changes: format!(
            "gives {account} Editor on the Calendar folder of {} (read, create, change and delete events there, nothing in any other folder); the vendor then connects by delegate access, without impersonation",
            names(mailboxes)
        ),
        command: Some(folder_permission(account, mailboxes, "Editor")),
        doc_url: ADD_FOLDER_PERMISSION_DOC.into(),
    }
}

/// Full on premises: ApplicationImpersonation, scoped to these mailboxes (least privilege first).
pub(super) fn scoped_impersonation(account: &str, mailboxes: &[&str]) -> Fix {
    let user = quote(account);
    Fix {
        problem: format!("{account} may not impersonate {}", names(mailboxes)),
        reaches: Some(AccessLevel::Full),
        changes: format!(
            "creates the management scope {SCOPE_NAME} holding only {} and lets {account} impersonate the mailboxes in it: full access, mail included. If {account} already has a scoped ApplicationImpersonation assignment (Get-ManagementRoleAssignment -RoleAssignee {user} -Role ApplicationImpersonation | Format-List Name,CustomRecipientWriteScope), widen that scope's filter with Set-ManagementScope instead",
            names(mailboxes)
        ),
        // "Configure impersonation": New-ManagementScope -RecipientRestrictionFilter, then
        // New-ManagementRoleAssignment -Role ApplicationImpersonation -User -CustomRecipientWriteScope.
        command: Some(format!(
            "New-ManagementScope -Name {scope} -RecipientRestrictionFilter {filter}; New-ManagementRoleAssignment -Name \"calconnect-impersonation\" -Role ApplicationImpersonation -User {user} -CustomRecipientWriteScope {scope}",
            scope = quote(SCOPE_NAME),
            filter = quote(&recipient_filter(mailboxes)),
        )),
        doc_url: ROLE_ASSIGNMENT_DOC.into(),
    }
}

/// Full in Exchange Online for an app: RBAC for Applications, `Application EWS.AccessAsApp` scoped to
/// these mailboxes (never ApplicationImpersonation, removed in 2025; never New-ApplicationAccessPolicy,
/// superseded: facts §0).
pub(super) fn rbac_for_applications(app: &str, mailboxes: &[&str]) -> Fix {
    let app_id = quote(app);
    Fix {
        problem: format!(
            "app {app} may not reach {}: no RBAC for Applications assignment covers them",
            names(mailboxes)
        ),
        reaches: Some(AccessLevel::Full),
        changes: format!(
            "registers the app in Exchange Online (skip New-ServicePrincipal if Get-ServicePrincipal -Identity {app_id} already finds it), creates the management scope {SCOPE_NAME} holding only {} and grants the app EWS access to the mailboxes in it. Check with Test-ServicePrincipalAuthorization -Identity {app_id} -Resource {} (InScope True). Permissions add up: if the app also holds full_access_as_app consented in Microsoft Entra, it reaches every mailbox, so remove that consent",
            names(mailboxes),
            quote(mailboxes.first().copied().unwrap_or_default()),
        ),
        // application-rbac: New-ServicePrincipal -AppId -ObjectId, New-ManagementScope,
        // New-ManagementRoleAssignment -App -Role "Application EWS.AccessAsApp" -CustomResourceScope.
        command: Some(format!(
            "New-ServicePrincipal -AppId {app_id} -ObjectId \"<object id of the app's enterprise application in Microsoft Entra>\" -DisplayName \"calconnect EWS\"; New-ManagementScope -Name {scope} -RecipientRestrictionFilter {filter}; New-ManagementRoleAssignment -App {app_id} -Role \"Application EWS.AccessAsApp\" -CustomResourceScope {scope}",
            scope = quote(SCOPE_NAME),
            filter = quote(&recipient_filter(mailboxes)),
        )),
        doc_url: APPLICATION_RBAC_DOC.into(),
    }
}

/// The address does not resolve to a mailbox.
pub(super) fn check_recipient(mailboxes: &[&str]) -> Fix {
    Fix {
        problem: format!(
            "{} does not resolve to a mailbox: check the address (use its primary SMTP address)",
            names(mailboxes)
        ),
        reaches: None,
        changes: "changes nothing: shows each address's primary SMTP address and recipient type".into(),
        command: Some(format!(
            "{} | ForEach-Object {{ Get-Recipient -Identity $_ | Format-List PrimarySmtpAddress,RecipientType }}",
            address_list(mailboxes)
        )),
        doc_url: GET_RECIPIENT_DOC.into(),
    }
}

/// Exchange Online's EWS allow list: append the app id to `EwsAllowedAppIDs`, keeping the ids on it.
pub(super) fn allow_list(app: &str, detail: &str) -> Fix {
    Fix {
        problem: format!("Exchange Online refused EWS to app {app} (HTTP 403: {detail})"),
        reaches: None,
        changes: format!(
            "turns EWS on for the organization and adds {app} to EwsAllowedAppIDs, keeping the ids already on it (the parameter replaces the whole list); it can take up to 24 hours to apply. Never EwsAllowList: it matches user agents, not app ids"
        ),
        // -EwsAllowedAppIDs takes one comma-separated string and replaces the list; read it with
        // -RetrieveEwsOperationAccessPolicy first (Set-OrganizationConfig, example 7; facts §0).
        command: Some(format!(
            "$ids = @(((@((Get-OrganizationConfig -RetrieveEwsOperationAccessPolicy).EwsAllowedAppIDs) -join ',') -split ',') | Where-Object {{ $_ }}) + {} | Select-Object -Unique; Set-OrganizationConfig -EwsEnabled $true -EwsAllowedAppIDs ($ids -join ',')",
            filter_value(app)
        )),
        doc_url: ORGANIZATION_CONFIG_DOC.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_escapes_what_would_end_or_expand_a_powershell_string() {
        assert_eq!(quote("svc@contoso.com"), "\"svc@contoso.com\"");
        assert_eq!(quote("a\"b$c`d"), "\"a`\"b`$c``d\"");
        assert_eq!(
            filter_value("o'brien@contoso.com"),
            "'o''brien@contoso.com'"
        );
    }

    #[test]
    fn one_mailbox_gets_its_calendar_and_many_get_one_pipeline() {
        let one = folder_permission("svc@contoso.com", &["lee@contoso.com"], "Editor");
        assert!(one.starts_with("$calendar = \"lee@contoso.com:\\Calendar\"; if (Get-MailboxFolderPermission -Identity $calendar -User \"svc@contoso.com\""), "{one}");
        assert!(one.contains("Set-MailboxFolderPermission -Identity $calendar -User \"svc@contoso.com\" -AccessRights Editor"));
        assert!(one.contains("Add-MailboxFolderPermission -Identity $calendar -User \"svc@contoso.com\" -AccessRights Editor"));
        let many = folder_permission(
            "svc@contoso.com",
            &["a@contoso.com", "b@contoso.com"],
            "Editor",
        );
        assert!(many.starts_with("\"a@contoso.com\",\"b@contoso.com\" | ForEach-Object { $calendar = \"$($_):\\Calendar\";"), "{many}");
    }

    #[test]
    fn scopes_list_a_few_addresses_and_name_a_group_for_many() {
        assert_eq!(
            recipient_filter(&["a@contoso.com", "b@contoso.com"]),
            "PrimarySmtpAddress -eq 'a@contoso.com' -or PrimarySmtpAddress -eq 'b@contoso.com'"
        );
        let many: Vec<String> = (0..30).map(|n| format!("user{n}@contoso.com")).collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        assert!(recipient_filter(&many).starts_with("MemberOfGroup -eq"));
    }

    #[test]
    fn the_allow_list_fix_keeps_existing_ids_and_never_names_the_user_agent_list() {
        let fix = allow_list("2d3e4f50-6172-4839-a4b5-c6d7e8f90a1b", "forbidden");
        let command = fix.command.unwrap();
        assert!(command.contains("-EwsAllowedAppIDs ($ids -join ',')"));
        assert!(command.contains("+ '2d3e4f50-6172-4839-a4b5-c6d7e8f90a1b'"));
        assert!(!command.contains("EwsAllowList") && !command.contains("EnforceAllowList"));
    }

    #[test]
    fn the_exchange_online_app_fix_is_rbac_for_applications_only() {
        let fix = rbac_for_applications(
            "2d3e4f50-6172-4839-a4b5-c6d7e8f90a1b",
            &["megan@contoso.com"],
        );
        let command = fix.command.unwrap();
        assert!(command
            .contains("New-ServicePrincipal -AppId \"2d3e4f50-6172-4839-a4b5-c6d7e8f90a1b\""));
        assert!(command.contains(
            "-RecipientRestrictionFilter \"PrimarySmtpAddress -eq 'megan@contoso.com'\""
        ));
        assert!(command.contains("New-ManagementRoleAssignment -App \"2d3e4f50-6172-4839-a4b5-c6d7e8f90a1b\" -Role \"Application EWS.AccessAsApp\" -CustomResourceScope \"calconnect-mailboxes\""));
        assert!(
            !command.contains("ApplicationImpersonation")
                && !command.contains("ApplicationAccessPolicy")
        );
    }
}
