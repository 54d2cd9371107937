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

/// Above this many mailboxes a scope names a group rather than listing addresses in its filter.
const MAX_ADDRESSES_IN_FILTER: usize = 20;

/// A double-quoted PowerShell string: the backtick escapes `` ` ``, `$` and every double quote inside
/// it — the typographic ones too, which PowerShell also ends a string at ("about_Quoting_Rules").
pub(super) fn quote(text: &str) -> String {
    let mut quoted = String::with_capacity(text.len() + 2);
    quoted.push('"');
    for character in text.chars() {
        if matches!(
            character,
            '`' | '"' | '$' | '\u{201C}' | '\u{201D}' | '\u{201E}'
        ) {
            quoted.push('`');
        }
        quoted.push(character);
    }
    quoted.push('"');
    quoted
}

/// A single-quoted value inside a filter: every single quote doubles, the typographic ones too.
fn filter_value(text: &str) -> String {
    let mut quoted = String::with_capacity(text.len() + 2);
    quoted.push('\'');
    for character in text.chars() {
        if matches!(
            character,
            '\'' | '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}'
        ) {
            quoted.push(character);
        }
        quoted.push(character);
    }
    quoted.push('\'');
    quoted
}

/// `"a@x","b@x"` for a pipeline.
fn address_list(mailboxes: &[&str]) -> String {
    mailboxes
        .iter()
        .map(|mailbox| quote(mailbox))
        .collect::<Vec<_>>()
        .join(",")
}

/// A management scope holding exactly `mailboxes`: its name, what to run before creating it, and its
/// `-RecipientRestrictionFilter` as a PowerShell expression.
struct Scope {
    name: String,
    preamble: String,
    filter: String,
}

impl Scope {
    /// The name is derived from the addresses (`calconnect-` and 8 hex digits of their SHA-256), so a
    /// later run for other mailboxes never collides with, or silently rebinds, an earlier scope. Up to
    /// [`MAX_ADDRESSES_IN_FILTER`] addresses are listed in the filter; more go into a security group the
    /// command creates, and the filter names it (`MemberOfGroup` takes a distinguished name).
    fn for_mailboxes(mailboxes: &[&str]) -> Self {
        use sha2::{Digest, Sha256};
        let mut sorted: Vec<String> = mailboxes.iter().map(|m| m.to_ascii_lowercase()).collect();
        sorted.sort();
        let digest = Sha256::digest(sorted.join("\n").as_bytes());
        let name = format!(
            "calconnect-{}",
            digest[..4]
                .iter()
                .map(|byte| format!("{byte:02x}"))
                .collect::<String>()
        );
        if mailboxes.len() > MAX_ADDRESSES_IN_FILTER {
            let preamble = format!(
                "New-DistributionGroup -Name {group} -Type Security -Members {members}; $dn = (Get-DistributionGroup -Identity {group}).DistinguishedName; ",
                group = quote(&name),
                members = address_list(mailboxes),
            );
            // The DN is expanded by PowerShell; its single quotes are doubled for the filter.
            let filter = "\"MemberOfGroup -eq '$($dn -replace \"'\", \"''\")'\"".to_owned();
            return Self {
                name,
                preamble,
                filter,
            };
        }
        let filter = mailboxes
            .iter()
            .map(|mailbox| format!("PrimarySmtpAddress -eq {}", filter_value(mailbox)))
            .collect::<Vec<_>>()
            .join(" -or ");
        Self {
            name,
            preamble: String::new(),
            filter: quote(&filter),
        }
    }

    /// `New-ManagementScope` for it, after its preamble.
    fn create(&self) -> String {
        format!(
            "{}New-ManagementScope -Name {} -RecipientRestrictionFilter {}",
            self.preamble,
            quote(&self.name),
            self.filter
        )
    }

    /// What creating it does, in words.
    fn describe(&self, mailboxes: &[&str]) -> String {
        if self.preamble.is_empty() {
            format!(
                "creates the management scope {} holding only {}",
                self.name,
                names(mailboxes)
            )
        } else {
            format!(
                "creates the security group {name} with {} as members and the management scope {name} holding that group's members",
                names(mailboxes),
                name = self.name
            )
        }
    }
}

fn names(mailboxes: &[&str]) -> String {
    match mailboxes {
        [one] => (*one).to_owned(),
        [first, second] => format!("{first} and {second}"),
        [first, rest @ ..] => format!("{first} and {} more mailboxes", rest.len()),
        [] => "no mailbox".into(),
    }
}

/// Gives `account` `rights` on each mailbox's default calendar: `Set-` when it already has an entry there
/// (`Add-` would fail with "an existing permission entry was found"), else `Add-`. The folder is found by
/// its type, not by the name "Calendar", which is localised ("Kalender", "Calendrier").
fn folder_permission(account: &str, mailboxes: &[&str], rights: &str) -> String {
    let user = quote(account);
    let body = format!(
        "$calendar = $mailbox + ':\\' + (Get-MailboxFolderStatistics -Identity $mailbox -FolderScope Calendar | Where-Object FolderType -eq 'Calendar' | Select-Object -First 1).Name; if (Get-MailboxFolderPermission -Identity $calendar -User {user} -ErrorAction SilentlyContinue) {{ Set-MailboxFolderPermission -Identity $calendar -User {user} -AccessRights {rights} }} else {{ Add-MailboxFolderPermission -Identity $calendar -User {user} -AccessRights {rights} }}"
    );
    match mailboxes {
        [one] => format!("$mailbox = {}; {body}", quote(one)),
        many => format!(
            "{} | ForEach-Object {{ $mailbox = $_; {body} }}",
            address_list(many)
        ),
    }
}

/// Folder permissions name a mail-enabled principal (Add-MailboxFolderPermission `-User`).
fn mail_enabled_note(account: &str) -> String {
    format!(
        "; {account} must be mail-enabled (a mailbox or a mail user) to hold a folder permission"
    )
}

/// Free-busy: `AvailabilityOnly` on the Calendar folder.
pub(super) fn availability_only(account: &str, mailboxes: &[&str]) -> Fix {
    Fix {
        problem: format!(
            "{account} cannot even see when {} is busy (ErrorNoFreeBusyAccess): no permission on the calendar, its own or Default's, lets it",
            names(mailboxes)
        ),
        reaches: Some(AccessLevel::FreeBusy),
        changes: format!(
            "gives {account} AvailabilityOnly on the default calendar of {}: free/busy times only, no subjects, no other folder{}",
            names(mailboxes),
            mail_enabled_note(account)
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
            "gives {account} Editor on the default calendar of {} (read, create, change and delete events there, nothing in any other folder); the vendor then connects by delegate access, without impersonation{}",
            names(mailboxes),
            mail_enabled_note(account)
        ),
        command: Some(folder_permission(account, mailboxes, "Editor")),
        doc_url: ADD_FOLDER_PERMISSION_DOC.into(),
    }
}

/// Full on premises: ApplicationImpersonation, scoped to these mailboxes (least privilege first).
pub(super) fn scoped_impersonation(account: &str, mailboxes: &[&str]) -> Fix {
    let user = quote(account);
    let scope = Scope::for_mailboxes(mailboxes);
    Fix {
        problem: format!("{account} may not impersonate {}", names(mailboxes)),
        reaches: Some(AccessLevel::Full),
        changes: format!(
            "{} and lets {account} impersonate the mailboxes in it: full access, mail included. If {account} already has a scoped ApplicationImpersonation assignment (Get-ManagementRoleAssignment -RoleAssignee {user} -Role ApplicationImpersonation | Format-List Name,CustomRecipientWriteScope), widen that scope's filter with Set-ManagementScope instead",
            scope.describe(mailboxes)
        ),
        // "Configure impersonation": New-ManagementScope -RecipientRestrictionFilter, then
        // New-ManagementRoleAssignment -Role ApplicationImpersonation -User -CustomRecipientWriteScope.
        command: Some(format!(
            "{}; New-ManagementRoleAssignment -Name {assignment} -Role ApplicationImpersonation -User {user} -CustomRecipientWriteScope {name}",
            scope.create(),
            assignment = quote(&format!("{}-impersonation", scope.name)),
            name = quote(&scope.name),
        )),
        doc_url: ROLE_ASSIGNMENT_DOC.into(),
    }
}

/// Full in Exchange Online for an app: RBAC for Applications, `Application EWS.AccessAsApp` scoped to
/// these mailboxes (never ApplicationImpersonation, removed in 2025; never New-ApplicationAccessPolicy,
/// superseded: facts §0).
pub(super) fn rbac_for_applications(app: &str, mailboxes: &[&str]) -> Fix {
    let app_id = quote(app);
    let scope = Scope::for_mailboxes(mailboxes);
    Fix {
        problem: format!(
            "app {app} may not reach {}: no RBAC for Applications assignment covers them",
            names(mailboxes)
        ),
        reaches: Some(AccessLevel::Full),
        changes: format!(
            "registers the app in Exchange Online (replace the <object id …> placeholder with the Object ID of the app's enterprise application from Microsoft Entra; skip New-ServicePrincipal if Get-ServicePrincipal -Identity {app_id} already finds it), {} and grants the app EWS access to the mailboxes in it. Check with Test-ServicePrincipalAuthorization -Identity {app_id} -Resource {} (InScope True); since 2026-10-01 the app must also be on the organisation's EwsAllowedAppIDs. Permissions add up: if the app also holds full_access_as_app consented in Microsoft Entra, it reaches every mailbox, so remove that consent",
            scope.describe(mailboxes),
            quote(mailboxes.first().copied().unwrap_or_default()),
        ),
        // application-rbac: New-ServicePrincipal -AppId -ObjectId, New-ManagementScope,
        // New-ManagementRoleAssignment -App -Role "Application EWS.AccessAsApp" -CustomResourceScope.
        command: Some(format!(
            "New-ServicePrincipal -AppId {app_id} -ObjectId \"<object id of the app's enterprise application in Microsoft Entra>\" -DisplayName \"calconnect EWS\"; {}; New-ManagementRoleAssignment -App {app_id} -Role \"Application EWS.AccessAsApp\" -CustomResourceScope {}",
            scope.create(),
            quote(&scope.name),
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

/// Exchange Online's EWS allow list: add the app id to `EwsAllowedAppIDs`, keeping the ids on it.
///
/// Set-OrganizationConfig `-EwsAllowedAppIDs`: "When EwsEnabled is $true, only applications specified by
/// this parameter can access EWS"; an empty list restricts no app. So the command branches on what is
/// there: an explicit `EwsEnabled False` is left alone (turning EWS on is an organisation's decision);
/// an empty list only needs EWS on (adding one id would make it the only app allowed); otherwise the id is
/// appended to the existing ones (the parameter replaces the whole list; ids compared case-insensitively).
pub(super) fn allow_list(app: &str, detail: &str) -> Fix {
    let app_id = filter_value(&app.to_ascii_lowercase());
    Fix {
        problem: format!("Exchange Online refused EWS to app {app} (HTTP 403: {detail})"),
        reaches: None,
        changes: format!(
            "shows EwsEnabled and EwsAllowedAppIDs first, then: if EwsEnabled is False it changes nothing and warns (EWS is off for the whole organisation on purpose); if the list is empty it only turns EWS on (an empty list lets every app in — adding {app} to it would make {app} the only one); otherwise it adds {app} to the ids already on the list. It can take up to 24 hours to apply. Never EwsAllowList: it matches user agents, not app ids"
        ),
        // -RetrieveEwsOperationAccessPolicy makes Get-OrganizationConfig return the EWS fields
        // (Set-OrganizationConfig, example 7; facts §0). Single quotes in the warning: no expansion.
        command: Some(format!(
            "$config = Get-OrganizationConfig -RetrieveEwsOperationAccessPolicy; $config | Format-List EwsEnabled,EwsAllowedAppIDs; $ids = @((@($config.EwsAllowedAppIDs) -join ',') -split ',' | ForEach-Object {{ $_.Trim().ToLowerInvariant() }} | Where-Object {{ $_ }}); if ($config.EwsEnabled -eq $false) {{ Write-Warning 'EwsEnabled is False: EWS is off for the whole organisation. Turning it on is an organisation-wide decision (Set-OrganizationConfig -EwsEnabled $true).' }} elseif ($ids.Count -eq 0) {{ Set-OrganizationConfig -EwsEnabled $true }} else {{ Set-OrganizationConfig -EwsEnabled $true -EwsAllowedAppIDs ((@($ids) + {app_id} | Select-Object -Unique) -join ',') }}"
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
        // PowerShell ends strings at typographic quotes as well (about_Quoting_Rules).
        assert_eq!(quote("a\u{201d}b\u{201c}c"), "\"a`\u{201d}b`\u{201c}c\"");
        assert_eq!(filter_value("o\u{2019}b"), "'o\u{2019}\u{2019}b'");
    }

    #[test]
    fn the_default_calendar_is_found_by_its_type_not_its_english_name() {
        let command = folder_permission("svc@contoso.com", &["lee@contoso.com"], "Editor");
        assert!(command.starts_with("$mailbox = \"lee@contoso.com\"; $calendar = $mailbox + ':\\' + (Get-MailboxFolderStatistics -Identity $mailbox -FolderScope Calendar | Where-Object FolderType -eq 'Calendar' | Select-Object -First 1).Name;"), "{command}");
        assert!(!command.contains(":\\Calendar"), "{command}");
    }

    #[test]
    fn scopes_are_named_after_their_mailboxes_and_many_mailboxes_go_into_a_group() {
        let few = Scope::for_mailboxes(&["b@contoso.com", "a@contoso.com"]);
        assert_eq!(
            few.name,
            Scope::for_mailboxes(&["A@contoso.com", "b@contoso.com"]).name
        );
        assert_ne!(few.name, Scope::for_mailboxes(&["a@contoso.com"]).name);
        assert!(few.name.starts_with("calconnect-") && few.name.len() == "calconnect-".len() + 8);
        assert_eq!(few.create(), format!("New-ManagementScope -Name \"{}\" -RecipientRestrictionFilter \"PrimarySmtpAddress -eq 'b@contoso.com' -or PrimarySmtpAddress -eq 'a@contoso.com'\"", few.name));
        let many: Vec<String> = (0..30).map(|n| format!("user{n}@contoso.com")).collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        let scope = Scope::for_mailboxes(&many);
        let command = scope.create();
        assert!(
            command.starts_with(&format!(
                "New-DistributionGroup -Name \"{}\" -Type Security -Members \"user0@contoso.com\",",
                scope.name
            )),
            "{command}"
        );
        assert!(command.contains(&format!(
            "$dn = (Get-DistributionGroup -Identity \"{}\").DistinguishedName; ",
            scope.name
        )));
        assert!(
            command.ends_with(
                "-RecipientRestrictionFilter \"MemberOfGroup -eq '$($dn -replace \"'\", \"''\")'\""
            ),
            "{command}"
        );
        assert!(!command.contains('<'), "no placeholder: {command}");
    }

    #[test]
    fn one_mailbox_gets_its_calendar_and_many_get_one_pipeline() {
        let one = folder_permission("svc@contoso.com", &["lee@contoso.com"], "Editor");
        assert!(
            one.contains(
                "if (Get-MailboxFolderPermission -Identity $calendar -User \"svc@contoso.com\""
            ),
            "{one}"
        );
        assert!(one.contains("Set-MailboxFolderPermission -Identity $calendar -User \"svc@contoso.com\" -AccessRights Editor"));
        assert!(one.contains("Add-MailboxFolderPermission -Identity $calendar -User \"svc@contoso.com\" -AccessRights Editor"));
        let many = folder_permission(
            "svc@contoso.com",
            &["a@contoso.com", "b@contoso.com"],
            "Editor",
        );
        assert!(many.starts_with("\"a@contoso.com\",\"b@contoso.com\" | ForEach-Object { $mailbox = $_; $calendar = "), "{many}");
    }

    #[test]
    fn the_allow_list_fix_keeps_existing_ids_and_never_names_the_user_agent_list() {
        let fix = allow_list("2D3E4F50-6172-4839-A4B5-C6D7E8F90A1B", "forbidden");
        let command = fix.command.unwrap();
        assert!(command.contains(
            "-EwsAllowedAppIDs ((@($ids) + '2d3e4f50-6172-4839-a4b5-c6d7e8f90a1b' | Select-Object -Unique) -join ',')"
        ));
        assert!(!command.contains("EwsAllowList") && !command.contains("EnforceAllowList"));
    }

    #[test]
    fn the_allow_list_fix_never_makes_an_empty_list_exclusive_nor_overturns_ews_off() {
        let command = allow_list("2d3e4f50-6172-4839-a4b5-c6d7e8f90a1b", "forbidden")
            .command
            .unwrap();
        // An empty list restricts no app: only EWS is turned on, no id is added.
        assert!(command
            .contains("elseif ($ids.Count -eq 0) { Set-OrganizationConfig -EwsEnabled $true }"));
        // An explicit False is the organisation's choice: a warning, no change.
        assert!(command.contains("if ($config.EwsEnabled -eq $false) { Write-Warning '"));
        let warning_branch = command.split("Write-Warning").nth(1).unwrap();
        assert!(
            warning_branch
                .split('}')
                .next()
                .unwrap()
                .chars()
                .filter(|c| *c == '\'')
                .count()
                == 2
        );
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
        let scope = Scope::for_mailboxes(&["megan@contoso.com"]).name;
        assert!(command.contains(&format!(
            "New-ManagementScope -Name \"{scope}\" -RecipientRestrictionFilter \"PrimarySmtpAddress -eq 'megan@contoso.com'\""
        )));
        assert!(command.contains(&format!("New-ManagementRoleAssignment -App \"2d3e4f50-6172-4839-a4b5-c6d7e8f90a1b\" -Role \"Application EWS.AccessAsApp\" -CustomResourceScope \"{scope}\"")));
        assert!(
            !command.contains("ApplicationImpersonation")
                && !command.contains("ApplicationAccessPolicy")
        );
    }
}
