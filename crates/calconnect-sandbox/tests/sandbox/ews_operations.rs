//! `ConvertId`, `GetServerTimeZones`, `ResolveNames`, the answer to an operation the sandbox does not
//! serve, and SOAP Autodiscover (`GetUserSettings`, `GetDomainSettings`), over loopback HTTPS as
//! exchangelib and the EWS Managed API send them. Every EWS body validates against `messages.xsd`;
//! values are read back from the parsed responses.

use base64::Engine;
use calconnect_sandbox::demo;
use quick_xml::events::{BytesStart, Event};

use super::support::{assert_valid, assert_well_formed, basic, world, World};

const M_NS: &str = "http://schemas.microsoft.com/exchange/services/2006/messages";
const T_NS: &str = "http://schemas.microsoft.com/exchange/services/2006/types";
const SOAP11: &str = "http://schemas.xmlsoap.org/soap/envelope/";

// ---------------------------------------------------------------------------------------------
// A small element tree for reading answers (local names, resolved namespaces, raw attribute keys).

#[derive(Debug, Clone, Default)]
struct El {
    ns: String,
    name: String,
    attrs: Vec<(String, String)>,
    text: String,
    children: Vec<El>,
}

impl El {
    fn attr(&self, key: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(name, _)| name == key)
            .map(|(_, value)| value.as_str())
    }

    fn all<'a>(&'a self, name: &str) -> Vec<&'a El> {
        let mut found = Vec::new();
        self.collect(name, &mut found);
        found
    }

    fn collect<'a>(&'a self, name: &str, found: &mut Vec<&'a El>) {
        for child in &self.children {
            if child.name == name {
                found.push(child);
            }
            child.collect(name, found);
        }
    }

    fn first(&self, name: &str) -> &El {
        self.all(name)
            .into_iter()
            .next()
            .unwrap_or_else(|| panic!("no <{name}> in {self:#?}"))
    }

    fn text_of(&self, name: &str) -> String {
        self.first(name).text.clone()
    }

    fn child(&self, name: &str) -> Option<&El> {
        self.children.iter().find(|child| child.name == name)
    }
}

fn element(start: &BytesStart<'_>, ns: String) -> El {
    El {
        ns,
        name: String::from_utf8_lossy(start.local_name().as_ref()).into_owned(),
        attrs: start
            .attributes()
            .map(|attribute| {
                let attribute = attribute.unwrap();
                (
                    String::from_utf8_lossy(attribute.key.as_ref()).into_owned(),
                    attribute.unescape_value().unwrap().into_owned(),
                )
            })
            .collect(),
        ..El::default()
    }
}

fn tree(document: &str) -> El {
    let mut reader = quick_xml::NsReader::from_str(document);
    let mut stack: Vec<El> = Vec::new();
    loop {
        let (resolved, event) = reader.read_resolved_event().expect("well-formed XML");
        let ns = match resolved {
            quick_xml::name::ResolveResult::Bound(ns) => {
                String::from_utf8_lossy(ns.as_ref()).into_owned()
            }
            _ => String::new(),
        };
        match event {
            Event::Start(start) => stack.push(element(&start, ns)),
            Event::Empty(start) => {
                let node = element(&start, ns);
                match stack.last_mut() {
                    Some(parent) => parent.children.push(node),
                    None => return node,
                }
            }
            Event::End(_) => {
                let node = stack.pop().unwrap();
                match stack.last_mut() {
                    Some(parent) => parent.children.push(node),
                    None => return node,
                }
            }
            Event::Text(text) => {
                if let Some(current) = stack.last_mut() {
                    current.text.push_str(&text.unescape().unwrap());
                }
            }
            Event::Eof => panic!("document ended early: {document}"),
            _ => {}
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Requests.

/// An EWS envelope as exchangelib writes it (`services/common.py` `wrap`).
fn envelope(impersonate: Option<&str>, body: &str) -> String {
    let header = impersonate.map_or(String::new(), |mailbox| {
        format!("<t:ExchangeImpersonation><t:ConnectingSID><t:PrimarySmtpAddress>{mailbox}</t:PrimarySmtpAddress></t:ConnectingSID></t:ExchangeImpersonation>")
    });
    format!(
        r#"<?xml version='1.0' encoding='utf-8'?><s:Envelope xmlns:m="{M_NS}" xmlns:s="{SOAP11}" xmlns:t="{T_NS}"><s:Header><t:RequestServerVersion Version="Exchange2016"/>{header}</s:Header><s:Body>{body}</s:Body></s:Envelope>"#
    )
}

struct Answer {
    status: u16,
    content_type: String,
    text: String,
}

impl Answer {
    fn document(&self) -> El {
        tree(&self.text)
    }

    /// The child of `s:Body`, as text, for xmllint.
    fn body(&self) -> String {
        let start = self.text.find("<s:Body>").expect("a soap body") + "<s:Body>".len();
        let end = self.text.rfind("</s:Body>").expect("a closed soap body");
        self.text[start..end].to_owned()
    }
}

async fn send(
    world: &World,
    url: url::Url,
    auth: bool,
    content_type: &str,
    body: String,
) -> Answer {
    let mut request = world
        .http
        .post(url)
        .header("Content-Type", content_type)
        .body(body);
    if auth {
        request = request.header("Authorization", basic());
    }
    let response = request.send().await.expect("the sandbox answers");
    Answer {
        status: response.status().as_u16(),
        content_type: response
            .headers()
            .get("content-type")
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_owned(),
        text: response.text().await.unwrap(),
    }
}

async fn ews(world: &World, impersonate: Option<&str>, body: &str) -> Answer {
    send(
        world,
        world.sandbox.ews_url(),
        true,
        "text/xml; charset=utf-8",
        envelope(impersonate, body),
    )
    .await
}

/// Posts, expects 200, validates the body against messages.xsd and returns the parsed document.
async fn valid_ews(world: &World, name: &str, impersonate: Option<&str>, body: &str) -> El {
    let answer = ews(world, impersonate, body).await;
    assert_eq!(answer.status, 200, "{name}: {}", answer.text);
    assert_valid(name, &answer.body());
    answer.document()
}

fn response_codes(document: &El, message: &str) -> Vec<(String, String)> {
    document
        .all(message)
        .into_iter()
        .map(|message| {
            (
                message.attr("ResponseClass").unwrap_or_default().to_owned(),
                message.text_of("ResponseCode"),
            )
        })
        .collect()
}

fn convert_id(destination: &str, ids: &[(&str, &str, &str)]) -> String {
    let ids: String = ids
        .iter()
        .map(|(format, id, mailbox)| {
            format!(r#"<t:AlternateId Format="{format}" Id="{id}" Mailbox="{mailbox}"/>"#)
        })
        .collect();
    format!(
        r#"<m:ConvertId DestinationFormat="{destination}"><m:SourceIds>{ids}</m:SourceIds></m:ConvertId>"#
    )
}

// ---------------------------------------------------------------------------------------------
// ConvertId.

#[tokio::test]
async fn convert_id_answers_exchangelibs_version_probe_with_server_version_and_a_per_id_error() {
    let world = world().await;
    // exchangelib `protocol.py` `dummy_xml`: the request it sends to guess the version.
    let probe = convert_id("EntryId", &[("EwsId", "DUMMY", "DUMMY")]);
    let answer = ews(&world, None, &probe).await;
    assert!(
        answer.content_type.starts_with("text/xml"),
        "{}",
        answer.content_type
    );
    let document = valid_ews(&world, "convert_id_probe", None, &probe).await;
    let version = document.first("ServerVersionInfo");
    assert_eq!(version.ns, T_NS);
    assert_eq!(version.attr("MajorVersion"), Some("15"));
    assert!(version.attr("Version").is_some(), "{version:?}");
    assert_eq!(
        response_codes(&document, "ConvertIdResponseMessage"),
        vec![("Error".to_owned(), "ErrorInvalidSmtpAddress".to_owned())]
    );
    assert_eq!(
        document.text_of("MessageText"),
        "The SMTP address format is invalid."
    );
    assert!(document.all("AlternateId").is_empty());
}

#[tokio::test]
async fn convert_id_round_trips_a_find_item_id_through_every_format() {
    let world = world().await;
    let now = chrono::Utc::now();
    let find_item = format!(
        r#"<m:FindItem Traversal="Shallow"><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape></m:ItemShape><m:CalendarView MaxEntriesReturned="5" StartDate="{}" EndDate="{}"/><m:ParentFolderIds><t:DistinguishedFolderId Id="calendar"/></m:ParentFolderIds></m:FindItem>"#,
        (now - chrono::Duration::days(7)).format("%Y-%m-%dT%H:%M:%SZ"),
        (now + chrono::Duration::days(7)).format("%Y-%m-%dT%H:%M:%SZ")
    );
    let items = valid_ews(&world, "find_item", Some(demo::ADELE), &find_item).await;
    let original = items
        .first("ItemId")
        .attr("Id")
        .expect("an item id")
        .to_owned();

    let mut current = ("EwsId".to_owned(), original.clone());
    let mut seen = vec![original.clone()];
    for destination in [
        "EntryId",
        "HexEntryId",
        "StoreId",
        "OwaId",
        "EwsLegacyId",
        "EwsId",
    ] {
        let document = valid_ews(
            &world,
            &format!("convert_to_{destination}"),
            None,
            &convert_id(destination, &[(&current.0, &current.1, demo::ADELE)]),
        )
        .await;
        assert_eq!(
            response_codes(&document, "ConvertIdResponseMessage"),
            vec![("Success".to_owned(), "NoError".to_owned())],
            "{current:?} to {destination}"
        );
        let converted = document.first("AlternateId");
        assert_eq!(converted.ns, M_NS);
        assert_eq!(converted.attr("xsi:type"), Some("t:AlternateIdType"));
        assert_eq!(converted.attr("Format"), Some(destination));
        assert_eq!(converted.attr("Mailbox"), Some(demo::ADELE));
        current = (
            destination.to_owned(),
            converted.attr("Id").unwrap().to_owned(),
        );
        seen.push(current.1.clone());
    }
    assert_eq!(current.1, original, "back to the EwsId it started from");
    let distinct: std::collections::BTreeSet<&String> = seen[..seen.len() - 1].iter().collect();
    assert_eq!(
        distinct.len(),
        6,
        "each format spells the id differently: {seen:?}"
    );
    assert_eq!(
        seen[2],
        base64::engine::general_purpose::STANDARD
            .decode(&seen[1])
            .unwrap()
            .iter()
            .map(|byte| format!("{byte:02X}"))
            .collect::<String>(),
        "HexEntryId is the EntryId's bytes in hex"
    );
}

#[tokio::test]
async fn convert_id_answers_each_foreign_or_malformed_id_with_its_own_error() {
    let world = world().await;
    use calconnect_sandbox::ews::ids::{encode, IdKind};
    let review = encode(IdKind::Item, demo::ADELE, "AAMkAGAdeleReview");
    let foreign_calendar = encode(IdKind::Folder, "nobody@fabrikam.com", "calendar");
    let document = valid_ews(
        &world,
        "convert_id_mixed",
        None,
        &convert_id(
            "EntryId",
            &[
                ("EwsId", review.as_str(), demo::ADELE),
                ("EwsId", "AAMkAGNotInThisTenant", demo::ADELE),
                ("EntryId", "not base64 at all!", demo::ADELE),
                ("HexEntryId", "00000000ABCDEF", demo::ADELE),
                ("EwsId", foreign_calendar.as_str(), "nobody@fabrikam.com"),
                ("EwsId", "AAMkAGAdeleReview", "not an address"),
            ],
        ),
    )
    .await;
    let codes: Vec<String> = response_codes(&document, "ConvertIdResponseMessage")
        .into_iter()
        .map(|(class, code)| format!("{class}:{code}"))
        .collect();
    assert_eq!(
        codes,
        vec![
            "Success:NoError",
            "Error:ErrorInvalidIdMalformed",
            "Error:ErrorInvalidIdMalformed",
            "Error:ErrorInvalidIdMalformed",
            // The mailbox's syntax is checked, not its existence.
            "Success:NoError",
            "Error:ErrorInvalidSmtpAddress",
        ]
    );
    assert_eq!(document.all("AlternateId").len(), 2);
    assert!(document
        .all("MessageText")
        .iter()
        .any(|text| text.text == "Id is malformed."));
}

// ---------------------------------------------------------------------------------------------
// GetServerTimeZones.

fn server_time_zones(full: bool, ids: &[&str]) -> String {
    let ids = if ids.is_empty() {
        String::new()
    } else {
        let ids: String = ids.iter().map(|id| format!("<t:Id>{id}</t:Id>")).collect();
        format!("<m:Ids>{ids}</m:Ids>")
    };
    format!(r#"<m:GetServerTimeZones ReturnFullTimeZoneData="{full}">{ids}</m:GetServerTimeZones>"#)
}

#[tokio::test]
async fn server_time_zones_with_ids_and_names_only() {
    let world = world().await;
    let document = valid_ews(
        &world,
        "time_zones_names",
        None,
        &server_time_zones(false, &["Eastern Standard Time", "Pacific Standard Time"]),
    )
    .await;
    assert_eq!(
        response_codes(&document, "GetServerTimeZonesResponseMessage"),
        vec![("Success".to_owned(), "NoError".to_owned())]
    );
    let zones: Vec<(Option<&str>, Option<&str>, usize)> = document
        .all("TimeZoneDefinition")
        .into_iter()
        .map(|zone| (zone.attr("Id"), zone.attr("Name"), zone.children.len()))
        .collect();
    assert_eq!(
        zones,
        vec![
            (
                Some("Eastern Standard Time"),
                Some("(UTC-05:00) Eastern Time (US & Canada)"),
                0
            ),
            (
                Some("Pacific Standard Time"),
                Some("(UTC-08:00) Pacific Time (US & Canada)"),
                0
            ),
        ]
    );
}

#[tokio::test]
async fn server_time_zones_full_definitions_have_periods_groups_and_transitions() {
    let world = world().await;
    let document = valid_ews(
        &world,
        "time_zones_all",
        None,
        &server_time_zones(true, &[]),
    )
    .await;
    let zones = document.all("TimeZoneDefinition");
    let ids: Vec<&str> = zones.iter().filter_map(|zone| zone.attr("Id")).collect();
    for required in [
        "UTC",
        "W. Europe Standard Time",
        "Pacific Standard Time",
        "Eastern Standard Time",
        "GMT Standard Time",
    ] {
        assert!(ids.contains(&required), "{required} in {ids:?}");
    }
    let zone = |id: &str| {
        *zones
            .iter()
            .find(|zone| zone.attr("Id") == Some(id))
            .unwrap()
    };

    let europe = zone("W. Europe Standard Time");
    let periods: Vec<(Option<&str>, Option<&str>)> = europe
        .all("Period")
        .into_iter()
        .map(|period| (period.attr("Name"), period.attr("Bias")))
        .collect();
    assert_eq!(
        periods,
        vec![
            (Some("Standard"), Some("-PT1H")),
            (Some("Daylight"), Some("-PT2H"))
        ]
    );
    let switches: Vec<(String, String, String, String)> = europe
        .all("RecurringDayTransition")
        .into_iter()
        .map(|switch| {
            (
                switch.text_of("To"),
                switch.text_of("TimeOffset"),
                switch.text_of("Month"),
                switch.text_of("Occurrence"),
            )
        })
        .collect();
    let daylight = europe.all("Period")[1].attr("Id").unwrap().to_owned();
    let standard = europe.all("Period")[0].attr("Id").unwrap().to_owned();
    assert_eq!(
        switches,
        vec![
            (daylight, "PT2H".into(), "3".into(), "-1".into()),
            (standard, "PT3H".into(), "10".into(), "-1".into()),
        ]
    );
    let transitions = europe.child("Transitions").unwrap();
    assert_eq!(transitions.children.len(), 1);
    assert_eq!(transitions.children[0].text_of("To"), "0");

    let eastern = zone("Eastern Standard Time");
    assert_eq!(
        eastern.child("TransitionsGroups").unwrap().children.len(),
        2
    );
    let change = eastern.first("AbsoluteDateTransition");
    assert_eq!(change.text_of("DateTime"), "2007-01-01T00:00:00");
    assert_eq!(change.first("To").attr("Kind"), Some("Group"));
    let since_2007: Vec<String> = eastern.child("TransitionsGroups").unwrap().children[1]
        .all("Month")
        .into_iter()
        .map(|month| month.text.clone())
        .collect();
    assert_eq!(since_2007, vec!["3", "11"]);

    let utc = zone("UTC");
    assert_eq!(utc.all("Period").len(), 1);
    assert_eq!(utc.first("Period").attr("Bias"), Some("PT0S"));
    assert!(utc.all("RecurringDayTransition").is_empty());
}

#[tokio::test]
async fn server_time_zones_unknown_id_is_a_time_zone_error() {
    let world = world().await;
    let document = valid_ews(
        &world,
        "time_zones_unknown",
        None,
        &server_time_zones(true, &["UTC", "Mars Standard Time"]),
    )
    .await;
    assert_eq!(
        response_codes(&document, "GetServerTimeZonesResponseMessage"),
        vec![("Error".to_owned(), "ErrorTimeZone".to_owned())]
    );
    assert!(document.all("TimeZoneDefinition").is_empty());
}

// ---------------------------------------------------------------------------------------------
// ResolveNames.

fn resolve_names(entry: &str, full: bool, scope: Option<&str>) -> String {
    let scope = scope.map_or(String::new(), |scope| format!(r#" SearchScope="{scope}""#));
    format!(
        r#"<m:ResolveNames ReturnFullContactData="{full}"{scope}><m:UnresolvedEntry>{entry}</m:UnresolvedEntry></m:ResolveNames>"#
    )
}

fn resolved(document: &El) -> Vec<(String, String)> {
    document
        .all("Resolution")
        .into_iter()
        .map(|resolution| {
            let mailbox = resolution.first("Mailbox");
            (mailbox.text_of("Name"), mailbox.text_of("EmailAddress"))
        })
        .collect()
}

#[tokio::test]
async fn resolve_names_resolves_one_mailbox_by_name_alias_or_smtp_prefix() {
    let world = world().await;
    for (name, entry) in [
        ("display_name", "Adele V"),
        ("surname", "vance"),
        ("alias", "adele"),
        ("smtp_prefix", "smtp:ADELE@contoso"),
        ("address", demo::ADELE),
    ] {
        let document = valid_ews(
            &world,
            &format!("resolve_{name}"),
            None,
            &resolve_names(entry, false, None),
        )
        .await;
        assert_eq!(
            response_codes(&document, "ResolveNamesResponseMessage"),
            vec![("Success".to_owned(), "NoError".to_owned())],
            "{entry}"
        );
        assert_eq!(
            resolved(&document),
            vec![("Adele Vance".to_owned(), demo::ADELE.to_owned())],
            "{entry}"
        );
        let set = document.first("ResolutionSet");
        assert_eq!(set.attr("TotalItemsInView"), Some("1"));
        assert_eq!(set.attr("IncludesLastItemInRange"), Some("true"));
        let mailbox = document.first("Mailbox");
        assert_eq!(mailbox.text_of("RoutingType"), "SMTP");
        assert_eq!(mailbox.text_of("MailboxType"), "Mailbox");
        assert!(
            document.all("Contact").is_empty(),
            "no contact data asked for"
        );
    }
}

#[tokio::test]
async fn resolve_names_with_full_contact_data_returns_the_directory_contact() {
    let world = world().await;
    let document = valid_ews(
        &world,
        "resolve_full",
        None,
        &resolve_names("megan", true, Some("ActiveDirectory")),
    )
    .await;
    let contact = document.first("Contact");
    assert_eq!(contact.text_of("DisplayName"), "Megan Bowen");
    assert_eq!(contact.text_of("GivenName"), "Megan");
    assert_eq!(contact.text_of("Surname"), "Bowen");
    assert_eq!(contact.text_of("JobTitle"), "Marketing Manager");
    assert_eq!(contact.text_of("ContactSource"), "ActiveDirectory");
    let entry = contact.first("Entry");
    assert_eq!(entry.attr("Key"), Some("EmailAddress1"));
    assert_eq!(entry.text, format!("SMTP:{}", demo::MEGAN));
}

#[tokio::test]
async fn resolve_names_with_several_candidates_is_a_warning_listing_them_all() {
    let world = world().await;
    let document = valid_ews(
        &world,
        "resolve_many",
        None,
        &resolve_names("a", false, None),
    )
    .await;
    assert_eq!(
        response_codes(&document, "ResolveNamesResponseMessage"),
        vec![(
            "Warning".to_owned(),
            "ErrorNameResolutionMultipleResults".to_owned()
        )]
    );
    assert_eq!(
        document.text_of("MessageText"),
        "Multiple results were found."
    );
    let found = resolved(&document);
    let addresses: Vec<&str> = found.iter().map(|(_, address)| address.as_str()).collect();
    assert!(
        addresses.contains(&demo::ADELE) && addresses.contains(&demo::ALEX),
        "{addresses:?}"
    );
    assert!(!addresses.contains(&demo::MEGAN), "{addresses:?}");
    assert_eq!(
        document.first("ResolutionSet").attr("TotalItemsInView"),
        Some(found.len().to_string().as_str())
    );
}

#[tokio::test]
async fn resolve_names_errors_for_no_match_contacts_only_and_invalid_names() {
    let world = world().await;
    for (name, request, code) in [
        (
            "resolve_none",
            resolve_names("foo\\bar", false, None),
            "ErrorNameResolutionNoResults",
        ),
        (
            "resolve_contacts_scope",
            resolve_names("adele", false, Some("Contacts")),
            "ErrorNameResolutionNoResults",
        ),
        (
            "resolve_comma",
            resolve_names(",", false, None),
            "ErrorInvalidNameForNameResolution",
        ),
    ] {
        let document = valid_ews(&world, name, None, &request).await;
        assert_eq!(
            response_codes(&document, "ResolveNamesResponseMessage"),
            vec![("Error".to_owned(), code.to_owned())],
            "{name}"
        );
        assert!(document.all("ResolutionSet").is_empty(), "{name}");
    }
}

// ---------------------------------------------------------------------------------------------
// An operation the sandbox does not serve.

#[tokio::test]
async fn an_operation_the_sandbox_does_not_serve_is_exchanges_invalid_request_fault() {
    let world = world().await;
    for (name, body) in [
        (
            "create_item",
            r#"<m:CreateItem SendMeetingInvitations="SendToNone"><m:Items/></m:CreateItem>"#,
        ),
        ("made_up", "<m:NoSuchOperation/>"),
    ] {
        let answer = ews(&world, None, body).await;
        assert_eq!(answer.status, 500, "{name}: {}", answer.text);
        assert_well_formed(name, &answer.text);
        let document = answer.document();
        assert_eq!(document.text_of("faultcode"), "a:ErrorInvalidRequest");
        assert_eq!(document.text_of("faultstring"), "The request is invalid.");
        let code = document.first("ResponseCode");
        assert_eq!(
            code.ns,
            "http://schemas.microsoft.com/exchange/services/2006/errors"
        );
        assert_eq!(code.text, "ErrorInvalidRequest");
        assert_eq!(document.text_of("Message"), "The request is invalid.");
        assert!(!answer.text.contains("sandbox"), "{}", answer.text);
    }
    assert!(
        world
            .sandbox
            .journal()
            .iter()
            .any(|entry| entry.note.as_deref()
                == Some("ErrorInvalidRequest: no operation CreateItem"))
    );
}

// ---------------------------------------------------------------------------------------------
// SOAP Autodiscover.

const SOAP12: &str = "http://www.w3.org/2003/05/soap-envelope";
const AUTODISCOVER_NS: &str = "http://schemas.microsoft.com/exchange/2010/Autodiscover";
const ADDRESSING_NS: &str = "http://www.w3.org/2005/08/addressing";

fn autodiscover_url(world: &World, path: &str) -> url::Url {
    world.sandbox.base_url().join(path).unwrap()
}

/// `GetUserSettings` as exchangelib writes it (`services/get_user_settings.py`).
fn get_user_settings(soap: &str, to: &url::Url, users: &[&str], settings: &[&str]) -> String {
    let users: String = users
        .iter()
        .map(|user| format!("<a:User><a:Mailbox>{user}</a:Mailbox></a:User>"))
        .collect();
    let settings: String = settings
        .iter()
        .map(|setting| format!("<a:Setting>{setting}</a:Setting>"))
        .collect();
    format!(
        r#"<?xml version='1.0' encoding='utf-8'?><s:Envelope xmlns:s="{soap}" xmlns:a="{AUTODISCOVER_NS}" xmlns:wsa="{ADDRESSING_NS}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><s:Header><a:RequestedServerVersion>Exchange2016</a:RequestedServerVersion><wsa:Action>http://schemas.microsoft.com/exchange/2010/Autodiscover/Autodiscover/GetUserSettings</wsa:Action><wsa:To>{to}</wsa:To></s:Header><s:Body><a:GetUserSettingsRequestMessage><a:Request><a:Users>{users}</a:Users><a:RequestedSettings>{settings}</a:RequestedSettings></a:Request></a:GetUserSettingsRequestMessage></s:Body></s:Envelope>"#
    )
}

fn settings_of(response: &El) -> Vec<(String, String, Option<String>)> {
    response
        .first("UserSettings")
        .children
        .iter()
        .map(|setting| {
            (
                setting.text_of("Name"),
                setting.text_of("Value"),
                setting.attr("i:type").map(str::to_owned),
            )
        })
        .collect()
}

const REQUESTED: [&str; 10] = [
    "UserDisplayName",
    "UserDN",
    "UserDeploymentId",
    "InternalEwsUrl",
    "ExternalEwsUrl",
    "EwsSupportedSchemas",
    "CasVersion",
    "AutoDiscoverSMTPAddress",
    "PublicFolderServer",
    "NoSuchSetting",
];

#[tokio::test]
async fn soap_autodiscover_get_user_settings_answers_the_requested_settings() {
    let world = world().await;
    for path in [
        "autodiscover/autodiscover.svc",
        "Autodiscover/Autodiscover.svc",
    ] {
        let url = autodiscover_url(&world, path);
        let answer = send(
            &world,
            url.clone(),
            true,
            "text/xml; charset=utf-8",
            get_user_settings(SOAP11, &url, &[demo::ADELE], &REQUESTED),
        )
        .await;
        assert_eq!(answer.status, 200, "{path}: {}", answer.text);
        assert!(
            answer.content_type.starts_with("text/xml"),
            "{}",
            answer.content_type
        );
        assert_well_formed("get_user_settings", &answer.text);
        let document = answer.document();
        assert_eq!(
            (document.ns.as_str(), document.name.as_str()),
            (SOAP11, "Envelope")
        );
        let action = document.first("Action");
        assert_eq!(action.ns, ADDRESSING_NS);
        assert_eq!(
            action.text,
            "http://schemas.microsoft.com/exchange/2010/Autodiscover/Autodiscover/GetUserSettingsResponse"
        );
        let version = document.first("ServerVersionInfo");
        assert_eq!(version.ns, AUTODISCOVER_NS);
        assert_eq!(version.text_of("MajorVersion"), "15");

        let message = document.first("GetUserSettingsResponseMessage");
        assert_eq!(message.ns, AUTODISCOVER_NS);
        let response = message.child("Response").unwrap();
        assert_eq!(response.child("ErrorCode").unwrap().text, "NoError");
        let users = response.first("UserResponses").children.clone();
        assert_eq!(users.len(), 1);
        let user = &users[0];
        assert_eq!(user.ns, AUTODISCOVER_NS);
        assert_eq!(user.child("ErrorCode").unwrap().text, "NoError");
        assert_eq!(
            user.child("RedirectTarget").unwrap().attr("i:nil"),
            Some("true")
        );

        let settings = settings_of(user);
        let value = |name: &str| {
            settings
                .iter()
                .find(|(setting, _, _)| setting == name)
                .map(|(_, value, _)| value.clone())
                .unwrap_or_else(|| panic!("{name} in {settings:?}"))
        };
        let ews_url = world.sandbox.ews_url().to_string();
        assert_eq!(value("ExternalEwsUrl"), ews_url);
        assert_eq!(value("InternalEwsUrl"), ews_url);
        assert_eq!(value("UserDisplayName"), "Adele Vance");
        assert_eq!(value("AutoDiscoverSMTPAddress"), demo::ADELE);
        assert_eq!(value("UserDeploymentId"), demo::TENANT_ID);
        assert!(value("UserDN").starts_with("/o=ExchangeLabs/"));
        assert!(value("CasVersion").starts_with("15."));
        let newest = value("EwsSupportedSchemas")
            .split(", ")
            .max()
            .unwrap()
            .to_owned();
        assert_eq!(newest, "Exchange2016", "a schema name exchangelib knows");
        assert_eq!(settings.len(), 8, "{settings:?}");
        assert!(settings
            .iter()
            .all(|(_, _, kind)| kind.as_deref() == Some("StringSetting")));

        let errors: Vec<(String, String, String)> = user
            .first("UserSettingErrors")
            .children
            .iter()
            .map(|error| {
                (
                    error.text_of("SettingName"),
                    error.text_of("ErrorCode"),
                    error.text_of("ErrorMessage"),
                )
            })
            .collect();
        assert_eq!(
            errors,
            vec![
                (
                    "PublicFolderServer".to_owned(),
                    "SettingIsNotAvailable".to_owned(),
                    "User setting 'PublicFolderServer' is not available. ".to_owned()
                ),
                (
                    "NoSuchSetting".to_owned(),
                    "InvalidSetting".to_owned(),
                    "User setting 'NoSuchSetting' is invalid. ".to_owned()
                ),
            ]
        );
    }
}

#[tokio::test]
async fn soap_autodiscover_unknown_user_is_invalid_user() {
    let world = world().await;
    let url = autodiscover_url(&world, "autodiscover/autodiscover.svc");
    let answer = send(
        &world,
        url.clone(),
        true,
        "text/xml; charset=utf-8",
        get_user_settings(
            SOAP11,
            &url,
            &["nobody@contoso.com", demo::LEE],
            &["ExternalEwsUrl"],
        ),
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    let document = answer.document();
    let users = document.first("UserResponses").children.clone();
    assert_eq!(users.len(), 2);
    assert_eq!(users[0].child("ErrorCode").unwrap().text, "InvalidUser");
    assert!(users[0]
        .child("ErrorMessage")
        .unwrap()
        .text
        .contains("Invalid user 'nobody@contoso.com'"));
    assert!(users[0].first("UserSettings").children.is_empty());
    assert_eq!(users[1].child("ErrorCode").unwrap().text, "NoError");
    assert_eq!(
        settings_of(&users[1]),
        vec![(
            "ExternalEwsUrl".to_owned(),
            world.sandbox.ews_url().to_string(),
            Some("StringSetting".to_owned())
        )]
    );
}

#[tokio::test]
async fn soap_autodiscover_authenticates_like_the_pox_endpoint() {
    let world = world().await;
    let url = autodiscover_url(&world, "autodiscover/autodiscover.svc");
    // exchangelib's first, unauthenticated post (`transport.py` `get_autodiscover_authtype`).
    let answer = send(
        &world,
        url.clone(),
        false,
        "text/xml; charset=utf-8",
        get_user_settings(
            SOAP11,
            &url,
            &["DUMMY@example.com"],
            &["AutoDiscoverSMTPAddress"],
        ),
    )
    .await;
    assert_eq!(answer.status, 401);
    let response = world
        .http
        .post(url.clone())
        .header("Authorization", "Basic c3ZjOndyb25n")
        .body(get_user_settings(
            SOAP11,
            &url,
            &[demo::ADELE],
            &["ExternalEwsUrl"],
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status().as_u16(),
        401,
        "a wrong password is refused"
    );
    let schemes: Vec<String> = response
        .headers()
        .get_all("www-authenticate")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .filter_map(|value| value.split_whitespace().next().map(str::to_owned))
        .collect();
    assert_eq!(schemes, vec!["NTLM", "Negotiate", "Basic"]);
}

#[tokio::test]
async fn soap_autodiscover_answers_soap_12_in_soap_12() {
    let world = world().await;
    let url = autodiscover_url(&world, "autodiscover/autodiscover.svc");
    let answer = send(
        &world,
        url.clone(),
        true,
        "application/soap+xml; charset=utf-8",
        get_user_settings(SOAP12, &url, &[demo::MEGAN], &["UserDisplayName"]),
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert!(
        answer.content_type.starts_with("application/soap+xml"),
        "{}",
        answer.content_type
    );
    let document = answer.document();
    assert_eq!(document.ns, SOAP12);
    assert_eq!(document.first("Body").ns, SOAP12);
    assert_eq!(
        settings_of(document.first("UserResponse")),
        vec![(
            "UserDisplayName".to_owned(),
            "Megan Bowen".to_owned(),
            Some("StringSetting".to_owned())
        )]
    );
}

#[tokio::test]
async fn soap_autodiscover_get_domain_settings_and_unknown_actions() {
    let world = world().await;
    let url = autodiscover_url(&world, "autodiscover/autodiscover.svc");
    let domain_settings = |domains: &[&str], action: &str| {
        let domains: String = domains
            .iter()
            .map(|domain| format!("<a:Domain>{domain}</a:Domain>"))
            .collect();
        format!(
            r#"<s:Envelope xmlns:s="{SOAP11}" xmlns:a="{AUTODISCOVER_NS}" xmlns:wsa="{ADDRESSING_NS}"><s:Header><a:RequestedServerVersion>Exchange2013</a:RequestedServerVersion><wsa:Action>http://schemas.microsoft.com/exchange/2010/Autodiscover/Autodiscover/{action}</wsa:Action><wsa:To>{url}</wsa:To></s:Header><s:Body><a:GetDomainSettingsRequestMessage><a:Request><a:Domains>{domains}</a:Domains><a:RequestedSettings><a:Setting>ExternalEwsUrl</a:Setting></a:RequestedSettings></a:Request></a:GetDomainSettingsRequestMessage></s:Body></s:Envelope>"#
        )
    };
    let answer = send(
        &world,
        url.clone(),
        true,
        "text/xml; charset=utf-8",
        domain_settings(&[demo::DOMAIN, "fabrikam.com"], "GetDomainSettings"),
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_well_formed("get_domain_settings", &answer.text);
    let document = answer.document();
    assert_eq!(
        document.first("GetDomainSettingsResponseMessage").ns,
        AUTODISCOVER_NS
    );
    let responses = document.first("DomainResponses").children.clone();
    assert_eq!(responses[0].child("ErrorCode").unwrap().text, "NoError");
    let setting = responses[0].first("DomainSetting");
    assert_eq!(setting.attr("i:type"), Some("DomainStringSetting"));
    assert_eq!(
        setting.text_of("Value"),
        world.sandbox.ews_url().to_string()
    );
    assert_eq!(
        responses[1].child("ErrorCode").unwrap().text,
        "InvalidDomain"
    );

    // WCF dispatches on wsa:Action: one naming no operation is ActionNotSupported.
    let answer = send(
        &world,
        url.clone(),
        true,
        "text/xml; charset=utf-8",
        domain_settings(&[demo::DOMAIN], "GetFederationInformation"),
    )
    .await;
    assert_eq!(answer.status, 500, "{}", answer.text);
    assert_well_formed("action_not_supported", &answer.text);
    let document = answer.document();
    assert_eq!(document.text_of("faultcode"), "a:ActionNotSupported");
    assert!(document
        .text_of("faultstring")
        .contains("ContractFilter mismatch at the EndpointDispatcher"));
}
