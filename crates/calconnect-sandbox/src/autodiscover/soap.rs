//! SOAP Autodiscover (`POST /autodiscover/autodiscover.svc`): `GetUserSettings` and `GetDomainSettings`
//! in the namespace `http://schemas.microsoft.com/exchange/2010/Autodiscover`, authenticated like the
//! POX endpoint.
//!
//! Sources (the learn.microsoft.com pages print the namespaces with `https://`, a doc-conversion bug;
//! real servers and clients use `http://`, facts §3.1):
//! - request/response examples: https://learn.microsoft.com/exchange/client-developer/web-service-reference/getusersettings-operation-soap
//!   and .../getdomainsettings-operation-soap; error codes: .../errorcode-soap;
//! - what clients send: both exchangelib (`services/get_user_settings.py`) and the EWS Managed API
//!   (`Autodiscover/Requests/AutodiscoverRequest.cs`) post SOAP 1.1 (`text/xml; charset=utf-8`) with
//!   `a:RequestedServerVersion`, `wsa:Action` `http://schemas.microsoft.com/exchange/2010/Autodiscover/Autodiscover/GetUserSettings`
//!   and `wsa:To`; exchangelib first posts unauthenticated to learn the scheme from the 401;
//! - what they read: the EWS Managed API requires a SOAP `Header` and reads `ServerVersionInfo` from it
//!   (in the Autodiscover namespace, child elements `MajorVersion` …), then `UserSetting` elements whose
//!   `xsi:type` is the literal `StringSetting`; exchangelib maps every `SettingName` it gets back;
//! - a real Exchange Online response (header `a:Action s:mustUnderstand="1"` …`GetUserSettingsResponse`,
//!   `ServerVersionInfo`, `UserSettingErrors` before `UserSettings`, `SettingIsNotAvailable` with
//!   "User setting 'PublicFolderServer' is not available. "): gautamsi/ews-javascript-api
//!   `src/js/Core/Requests/SimpleServiceRequestBase.ts`;
//! - an unknown user is `InvalidUser` with "Invalid user '{address}'" (exchangelib
//!   `tests/test_autodiscover.py` `test_get_user_settings`, run against a live server).
//!
//! SOAP 1.2 requests (`http://www.w3.org/2003/05/soap-envelope`, which WCF's Autodiscover endpoint also
//! binds) are answered in SOAP 1.2 with `application/soap+xml`; neither client above sends them.
//!
//! Dispatch is by `wsa:Action`, as WCF does: a missing Action or one naming no operation here is the
//! WCF fault (HTTP 500) — "No Action header was found with namespace
//! 'http://www.w3.org/2005/08/addressing' for the given message." (the German text of it in
//! OfficeDev/ews-java-api#697, an EWS request posted to autodiscover.svc) and `a:ActionNotSupported`
//! "The message with Action '…' cannot be processed at the receiver, due to a ContractFilter mismatch
//! at the EndpointDispatcher. …" (WCF's text, moszeed/easysoap#21, CoreWCF/CoreWCF#525).
//!
//! ASSUMPTIONS (not documented by Microsoft): Exchange 2019's Autodiscover `ServerVersionInfo` says
//! `Exchange2015` as Exchange Online's does for build 15.20 (exchangelib's test fixture);
//! `EwsSupportedSchemas` stops at `Exchange2016` (exchangelib picks the newest entry and knows no
//! `V2017_…` names); an `InvalidSetting` error reads "User setting '{name}' is invalid. " by analogy with
//! `SettingIsNotAvailable`; an unknown domain reads "The domain '{domain}' is invalid.".

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use quick_xml::escape::escape;

use crate::ews::request::Node;
use crate::state::AppState;

const SOAP11_NS: &str = "http://schemas.xmlsoap.org/soap/envelope/";
const SOAP12_NS: &str = "http://www.w3.org/2003/05/soap-envelope";
const AUTODISCOVER_NS: &str = "http://schemas.microsoft.com/exchange/2010/Autodiscover";
const ADDRESSING_NS: &str = "http://www.w3.org/2005/08/addressing";
const XSI_NS: &str = "http://www.w3.org/2001/XMLSchema-instance";
const ACTION_PREFIX: &str = "http://schemas.microsoft.com/exchange/2010/Autodiscover/Autodiscover/";

/// Exchange 2019 CU12, the build EWS reports in its `ServerVersionInfo`.
const CAS_VERSION: &str = "15.02.1118.007";
const EWS_SUPPORTED_SCHEMAS: &str = "Exchange2007, Exchange2007_SP1, Exchange2010, Exchange2010_SP1, Exchange2010_SP2, Exchange2013, Exchange2013_SP1, Exchange2016";

/// Every `UserSettingName` a client may ask for (EWS Managed API `Enumerations/UserSettingName.cs`, kept
/// in sync with the server's `UserConfigurationSettingName`); names outside it are `InvalidSetting`.
const USER_SETTING_NAMES: [&str; 99] = [
    "UserDisplayName",
    "UserDN",
    "UserDeploymentId",
    "InternalMailboxServer",
    "InternalRpcClientServer",
    "InternalMailboxServerDN",
    "InternalEcpUrl",
    "InternalEcpVoicemailUrl",
    "InternalEcpEmailSubscriptionsUrl",
    "InternalEcpTextMessagingUrl",
    "InternalEcpDeliveryReportUrl",
    "InternalEcpRetentionPolicyTagsUrl",
    "InternalEcpPublishingUrl",
    "InternalEcpPhotoUrl",
    "InternalEcpConnectUrl",
    "InternalEcpTeamMailboxUrl",
    "InternalEcpTeamMailboxCreatingUrl",
    "InternalEcpTeamMailboxEditingUrl",
    "InternalEcpTeamMailboxHidingUrl",
    "InternalEcpExtensionInstallationUrl",
    "InternalEwsUrl",
    "InternalEmwsUrl",
    "InternalOABUrl",
    "InternalPhotosUrl",
    "InternalUMUrl",
    "InternalWebClientUrls",
    "MailboxDN",
    "PublicFolderServer",
    "ActiveDirectoryServer",
    "ExternalMailboxServer",
    "ExternalMailboxServerRequiresSSL",
    "ExternalMailboxServerAuthenticationMethods",
    "EcpVoicemailUrlFragment",
    "EcpEmailSubscriptionsUrlFragment",
    "EcpTextMessagingUrlFragment",
    "EcpDeliveryReportUrlFragment",
    "EcpRetentionPolicyTagsUrlFragment",
    "EcpPublishingUrlFragment",
    "EcpPhotoUrlFragment",
    "EcpConnectUrlFragment",
    "EcpTeamMailboxUrlFragment",
    "EcpTeamMailboxCreatingUrlFragment",
    "EcpTeamMailboxEditingUrlFragment",
    "EcpExtensionInstallationUrlFragment",
    "ExternalEcpUrl",
    "ExternalEcpVoicemailUrl",
    "ExternalEcpEmailSubscriptionsUrl",
    "ExternalEcpTextMessagingUrl",
    "ExternalEcpDeliveryReportUrl",
    "ExternalEcpRetentionPolicyTagsUrl",
    "ExternalEcpPublishingUrl",
    "ExternalEcpPhotoUrl",
    "ExternalEcpConnectUrl",
    "ExternalEcpTeamMailboxUrl",
    "ExternalEcpTeamMailboxCreatingUrl",
    "ExternalEcpTeamMailboxEditingUrl",
    "ExternalEcpTeamMailboxHidingUrl",
    "ExternalEcpExtensionInstallationUrl",
    "ExternalEwsUrl",
    "ExternalEmwsUrl",
    "ExternalOABUrl",
    "ExternalPhotosUrl",
    "ExternalUMUrl",
    "ExternalWebClientUrls",
    "CrossOrganizationSharingEnabled",
    "AlternateMailboxes",
    "CasVersion",
    "EwsSupportedSchemas",
    "InternalPop3Connections",
    "ExternalPop3Connections",
    "InternalImap4Connections",
    "ExternalImap4Connections",
    "InternalSmtpConnections",
    "ExternalSmtpConnections",
    "InternalServerExclusiveConnect",
    "ExternalEwsVersion",
    "MobileMailboxPolicy",
    "DocumentSharingLocations",
    "UserMSOnline",
    "InternalMailboxServerAuthenticationMethods",
    "MailboxVersion",
    "SPMySiteHostURL",
    "SiteMailboxCreationURL",
    "InternalRpcHttpServer",
    "InternalRpcHttpConnectivityRequiresSsl",
    "InternalRpcHttpAuthenticationMethod",
    "ExternalServerExclusiveConnect",
    "ExchangeRpcUrl",
    "ShowGalAsDefaultView",
    "AutoDiscoverSMTPAddress",
    "InteropExternalEwsUrl",
    "InteropExternalEwsVersion",
    "PublicFolderInformation",
    "RedirectUrl",
    "EwsPartnerUrl",
    "CertPrincipalName",
    "GroupingInformation",
    "InternalOutlookServiceUrl",
    "ExternalOutlookServiceUrl",
];

/// `DomainSettingName` (EWS Managed API `Enumerations/DomainSettingName.cs`).
const DOMAIN_SETTING_NAMES: [&str; 2] = ["ExternalEwsUrl", "ExternalEwsVersion"];

/// SOAP Autodiscover routes (both spellings clients use).
pub fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/autodiscover/autodiscover.svc", post(soap))
        .route("/Autodiscover/Autodiscover.svc", post(soap))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Soap {
    V11,
    V12,
}

impl Soap {
    fn namespace(self) -> &'static str {
        match self {
            Self::V11 => SOAP11_NS,
            Self::V12 => SOAP12_NS,
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            Self::V11 => "text/xml; charset=utf-8",
            Self::V12 => "application/soap+xml; charset=utf-8",
        }
    }
}

async fn soap(
    State(state): State<AppState>,
    connection: crate::ews::Connection,
    headers: HeaderMap,
    body: String,
) -> Response {
    if let Err(refusal) = crate::ews::authenticate(&state, &connection, &headers) {
        return crate::ews::unauthorized(&state, &refusal);
    }
    let Ok(envelope) = crate::ews::request::parse(&body) else {
        return fault(Soap::V11, "a:ActionNotSupported", &action_not_supported(""));
    };
    let version = match envelope.namespace.as_str() {
        SOAP12_NS if envelope.name == "Envelope" => Soap::V12,
        SOAP11_NS if envelope.name == "Envelope" => Soap::V11,
        _ => return fault(Soap::V11, "a:ActionNotSupported", &action_not_supported("")),
    };
    let action = envelope
        .child("Header")
        .and_then(|header| {
            header
                .children
                .iter()
                .find(|child| child.name == "Action" && child.namespace == ADDRESSING_NS)
        })
        .map(|action| action.text.trim().to_owned());
    let Some(action) = action else {
        return fault(
            version,
            "a:MessageAddressingHeaderRequired",
            &format!("No Action header was found with namespace '{ADDRESSING_NS}' for the given message."),
        );
    };
    let operation = envelope
        .child("Body")
        .and_then(|body| body.children.first())
        .filter(|operation| operation.namespace == AUTODISCOVER_NS);
    let document = match (action.strip_prefix(ACTION_PREFIX), operation) {
        (Some("GetUserSettings"), Some(operation))
            if operation.name == "GetUserSettingsRequestMessage" =>
        {
            get_user_settings(&state, operation)
        }
        (Some("GetDomainSettings"), Some(operation))
            if operation.name == "GetDomainSettingsRequestMessage" =>
        {
            get_domain_settings(&state, operation)
        }
        _ => {
            return fault(
                version,
                "a:ActionNotSupported",
                &action_not_supported(&action),
            )
        }
    };
    let (name, body) = document;
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, version.content_type())],
        envelope_around(version, name, &body),
    )
        .into_response()
}

fn action_not_supported(action: &str) -> String {
    format!(
        "The message with Action '{action}' cannot be processed at the receiver, due to a ContractFilter mismatch at the EndpointDispatcher. This may be because of either a contract mismatch (mismatched Actions between sender and receiver) or a binding/security mismatch between the sender and the receiver.  Check that sender and receiver have the same contract and the same binding (including security requirements, e.g. Message, Transport, None)."
    )
}

/// A WCF SOAP fault (HTTP 500), `code` a QName in the WS-Addressing namespace.
fn fault(version: Soap, code: &str, message: &str) -> Response {
    let soap = version.namespace();
    let message = escape(message);
    let fault = match version {
        Soap::V11 => format!(
            r#"<s:Fault><faultcode xmlns:a="{ADDRESSING_NS}">{code}</faultcode><faultstring xml:lang="en-US">{message}</faultstring></s:Fault>"#
        ),
        Soap::V12 => format!(
            r#"<s:Fault><s:Code><s:Value>s:Sender</s:Value><s:Subcode><s:Value xmlns:a="{ADDRESSING_NS}">{code}</s:Value></s:Subcode></s:Code><s:Reason><s:Text xml:lang="en-US">{message}</s:Text></s:Reason></s:Fault>"#
        ),
    };
    let document = format!(
        r#"<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="{soap}" xmlns:a="{ADDRESSING_NS}"><s:Header><a:Action s:mustUnderstand="1">http://www.w3.org/2005/08/addressing/fault</a:Action></s:Header><s:Body>{fault}</s:Body></s:Envelope>"#
    );
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        [(header::CONTENT_TYPE, version.content_type())],
        document,
    )
        .into_response()
}

/// The response envelope: `a:Action` of the response and `ServerVersionInfo` in the header.
fn envelope_around(version: Soap, operation: &str, body: &str) -> String {
    let soap = version.namespace();
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="{soap}" xmlns:a="{ADDRESSING_NS}"><s:Header><a:Action s:mustUnderstand="1">{ACTION_PREFIX}{operation}Response</a:Action><h:ServerVersionInfo xmlns:h="{AUTODISCOVER_NS}" xmlns:i="{XSI_NS}"><h:MajorVersion>15</h:MajorVersion><h:MinorVersion>2</h:MinorVersion><h:MajorBuildNumber>1118</h:MajorBuildNumber><h:MinorBuildNumber>7</h:MinorBuildNumber><h:Version>Exchange2015</h:Version></h:ServerVersionInfo></s:Header><s:Body>{body}</s:Body></s:Envelope>"#
    )
}

/// Texts of `Request/{list}/{item}` and `Request/RequestedSettings/Setting`.
fn request_lists(operation: &Node, list: &str, item: &str) -> (Vec<String>, Vec<String>) {
    let request = operation.child("Request");
    let texts = |list: &str, item: &str, inner: Option<&str>| -> Vec<String> {
        request
            .and_then(|request| request.child(list))
            .map(|list| {
                list.children
                    .iter()
                    .filter(|child| child.name == item)
                    .filter_map(|child| match inner {
                        Some(inner) => child.child(inner),
                        None => Some(child),
                    })
                    .map(|node| node.text.trim().to_owned())
                    .collect()
            })
            .unwrap_or_default()
    };
    let subjects = if list == "Users" {
        texts(list, item, Some("Mailbox"))
    } else {
        texts(list, item, None)
    };
    (subjects, texts("RequestedSettings", "Setting", None))
}

fn string_setting(element: &str, kind: &str, name: &str, value: &str) -> String {
    format!(
        r#"<{element} i:type="{kind}"><Name>{name}</Name><Value>{}</Value></{element}>"#,
        escape(value)
    )
}

/// `GetUserSettingsResponseMessage` (https://learn.microsoft.com/exchange/client-developer/web-service-reference/getusersettings-operation-soap).
fn get_user_settings(state: &AppState, operation: &Node) -> (&'static str, String) {
    let (users, requested) = request_lists(operation, "Users", "User");
    let ews_url = state.url("EWS/Exchange.asmx").to_string();
    let host = state
        .url("EWS/Exchange.asmx")
        .host_str()
        .unwrap_or("localhost")
        .to_owned();
    let tenant = state.tenant();
    let mut responses = String::new();
    for address in &users {
        let found = crate::ews::operations::directory(tenant).find(|(mailbox, user)| {
            mailbox.smtp.eq_ignore_ascii_case(address)
                || user.user_principal_name.eq_ignore_ascii_case(address)
        });
        let Some((mailbox, user)) = found else {
            responses.push_str(&format!(
                r#"<UserResponse><ErrorCode>InvalidUser</ErrorCode><ErrorMessage>Invalid user '{}'</ErrorMessage><RedirectTarget i:nil="true"/><UserSettingErrors/><UserSettings/></UserResponse>"#,
                escape(address.as_str())
            ));
            continue;
        };
        // Same LegacyDN and deployment id as the POX answer (autodiscover/mod.rs).
        let served: [(&str, String); 12] = [
            ("UserDisplayName", user.display_name.clone()),
            (
                "UserDN",
                format!(
                    "/o=ExchangeLabs/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn={}",
                    user.id
                ),
            ),
            ("UserDeploymentId", tenant.id.to_string()),
            ("InternalMailboxServer", host.clone()),
            ("InternalEwsUrl", ews_url.clone()),
            ("ExternalMailboxServer", host.clone()),
            ("ExternalEwsUrl", ews_url.clone()),
            ("CasVersion", CAS_VERSION.to_owned()),
            ("EwsSupportedSchemas", EWS_SUPPORTED_SCHEMAS.to_owned()),
            ("ExternalEwsVersion", CAS_VERSION.to_owned()),
            ("UserMSOnline", "False".to_owned()),
            ("AutoDiscoverSMTPAddress", mailbox.smtp.clone()),
        ];
        let mut errors = String::new();
        for name in &requested {
            if served.iter().any(|(served, _)| served == name) {
                continue;
            }
            let (code, message) = if USER_SETTING_NAMES.contains(&name.as_str()) {
                (
                    "SettingIsNotAvailable",
                    format!("User setting '{name}' is not available. "),
                )
            } else {
                (
                    "InvalidSetting",
                    format!("User setting '{name}' is invalid. "),
                )
            };
            errors.push_str(&format!(
                "<UserSettingError><ErrorCode>{code}</ErrorCode><ErrorMessage>{}</ErrorMessage><SettingName>{}</SettingName></UserSettingError>",
                escape(message.as_str()),
                escape(name.as_str())
            ));
        }
        // Settings in the server's order, not the request's, as real responses list them.
        let settings: String = served
            .iter()
            .filter(|(name, _)| requested.iter().any(|requested| requested == name))
            .map(|(name, value)| string_setting("UserSetting", "StringSetting", name, value))
            .collect();
        responses.push_str(&format!(
            r#"<UserResponse><ErrorCode>NoError</ErrorCode><ErrorMessage>No error.</ErrorMessage><RedirectTarget i:nil="true"/><UserSettingErrors>{errors}</UserSettingErrors><UserSettings>{settings}</UserSettings></UserResponse>"#
        ));
    }
    (
        "GetUserSettings",
        format!(
            r#"<GetUserSettingsResponseMessage xmlns="{AUTODISCOVER_NS}"><Response xmlns:i="{XSI_NS}"><ErrorCode>NoError</ErrorCode><ErrorMessage/><UserResponses>{responses}</UserResponses></Response></GetUserSettingsResponseMessage>"#
        ),
    )
}

/// `GetDomainSettingsResponseMessage` (https://learn.microsoft.com/exchange/client-developer/web-service-reference/getdomainsettings-operation-soap):
/// the domains are those of the tenant's mailboxes.
fn get_domain_settings(state: &AppState, operation: &Node) -> (&'static str, String) {
    let (domains, requested) = request_lists(operation, "Domains", "Domain");
    let ews_url = state.url("EWS/Exchange.asmx").to_string();
    let mut responses = String::new();
    for domain in &domains {
        let hosted = state.tenant().exchange.mailboxes.iter().any(|mailbox| {
            mailbox
                .smtp
                .rsplit_once('@')
                .is_some_and(|(_, hosted)| hosted.eq_ignore_ascii_case(domain))
        });
        if !hosted {
            responses.push_str(&format!(
                r#"<DomainResponse><ErrorCode>InvalidDomain</ErrorCode><ErrorMessage>The domain '{}' is invalid.</ErrorMessage><DomainSettingErrors/><DomainSettings/><RedirectTarget i:nil="true"/></DomainResponse>"#,
                escape(domain.as_str())
            ));
            continue;
        }
        let served = [
            ("ExternalEwsUrl", ews_url.clone()),
            ("ExternalEwsVersion", CAS_VERSION.to_owned()),
        ];
        let errors: String = requested
            .iter()
            .filter(|name| !DOMAIN_SETTING_NAMES.contains(&name.as_str()))
            .map(|name| {
                format!(
                    "<DomainSettingError><ErrorCode>InvalidSetting</ErrorCode><ErrorMessage>{}</ErrorMessage><SettingName>{}</SettingName></DomainSettingError>",
                    escape(format!("Domain setting '{name}' is invalid. ").as_str()),
                    escape(name.as_str())
                )
            })
            .collect();
        let settings: String = served
            .iter()
            .filter(|(name, _)| requested.iter().any(|requested| requested == name))
            .map(|(name, value)| {
                string_setting("DomainSetting", "DomainStringSetting", name, value)
            })
            .collect();
        responses.push_str(&format!(
            r#"<DomainResponse><ErrorCode>NoError</ErrorCode><ErrorMessage>No error.</ErrorMessage><DomainSettingErrors>{errors}</DomainSettingErrors><DomainSettings>{settings}</DomainSettings><RedirectTarget i:nil="true"/></DomainResponse>"#
        ));
    }
    (
        "GetDomainSettings",
        format!(
            r#"<GetDomainSettingsResponseMessage xmlns="{AUTODISCOVER_NS}"><Response xmlns:i="{XSI_NS}"><ErrorCode>NoError</ErrorCode><ErrorMessage/><DomainResponses>{responses}</DomainResponses></Response></GetDomainSettingsResponseMessage>"#
        ),
    )
}
