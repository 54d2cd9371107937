//! Reading one Autodiscover answer body: POX (`autodiscover.xml`, the Outlook response schema 2006a) and
//! Autodiscover v2 JSON. Pure functions over the text the server sent, kept apart from the request loop in
//! `autodiscover.rs` so the fuzz target `autodiscover_answer` can feed them hostile bodies directly.
//!
//! What an answer may say ("POX Autodiscover response": `Action` is `settings`, `redirectAddr` or
//! `redirectUrl`; "Autodiscover v2": `{"Protocol":"EWS","Url":…}`). Every URL handed back has passed
//! [`ensure_secure`] (https, or http to a loopback host for the sandbox), and every text is free of control
//! characters (the XML reader strips them; the JSON `Url` is stripped here).

use calconnect_identity::text::strip_control_characters;
use url::Url;

use crate::endpoints::ensure_secure;
use crate::parse::XmlElement;

/// What a POX answer (the body of a 200) asks the client to do next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PoxAnswer {
    /// `redirectAddr`: ask again for this address.
    RedirectAddr(String),
    /// `redirectUrl`: ask again at this Autodiscover URL.
    RedirectUrl(Url),
    /// `settings`: the EWS URL of the first protocol, in Outlook's order (EXPR, EXCH, WEB), that names one.
    Settings(Url),
}

/// Reads the body of a POX 200 answer.
pub fn read_pox_answer(body: &str) -> Result<PoxAnswer, String> {
    let root =
        XmlElement::parse(body).map_err(|error| format!("unreadable POX answer: {error}"))?;
    let response = root
        .child("Response")
        .ok_or("the POX answer has no Response")?;
    if let Some(error) = response.child("Error") {
        return Err(format!(
            "Autodiscover error {}: {}",
            error.child_text("ErrorCode").unwrap_or("?"),
            error.child_text("Message").unwrap_or_default()
        ));
    }
    let account = response
        .child("Account")
        .ok_or("the POX answer has no Account")?;
    match account.child_text("Action").unwrap_or("settings") {
        "redirectAddr" => Ok(PoxAnswer::RedirectAddr(
            account
                .child_text("RedirectAddr")
                .ok_or("redirectAddr without RedirectAddr")?
                .trim()
                .to_owned(),
        )),
        "redirectUrl" => {
            let next = account
                .child_text("RedirectUrl")
                .ok_or("redirectUrl without RedirectUrl")?
                .trim();
            let url =
                Url::parse(next).map_err(|error| format!("bad RedirectUrl {next}: {error}"))?;
            require_https(&url)?;
            Ok(PoxAnswer::RedirectUrl(url))
        }
        _ => {
            let protocols: Vec<&XmlElement> = account
                .children
                .iter()
                .filter(|child| child.name == "Protocol")
                .collect();
            let ews = ["EXPR", "EXCH", "WEB"].iter().find_map(|wanted| {
                protocols
                    .iter()
                    .filter(|protocol| protocol.child_text("Type") == Some(wanted))
                    .find_map(|protocol| protocol.child_text("EwsUrl"))
            });
            let ews = ews.ok_or("the POX settings contain no EwsUrl")?.trim();
            let ews_url = Url::parse(ews).map_err(|error| format!("bad EwsUrl {ews}: {error}"))?;
            require_https(&ews_url)?;
            Ok(PoxAnswer::Settings(ews_url))
        }
    }
}

/// Reads the body of an Autodiscover v2 (JSON) 200 answer: the EWS URL it names.
pub fn read_json_answer(body: &str) -> Result<Url, String> {
    if calconnect_identity::http::json_too_deep(body.as_bytes()) {
        return Err("the JSON answer nests too deep to read".into());
    }
    let answer: serde_json::Value =
        serde_json::from_str(body).map_err(|error| format!("unreadable JSON answer: {error}"))?;
    let ews_url = answer
        .get("Url")
        .and_then(|value| value.as_str())
        .map(strip_control_characters)
        .ok_or("the JSON answer has no Url")?;
    let ews_url =
        Url::parse(&ews_url).map_err(|error| format!("bad EWS url {ews_url}: {error}"))?;
    require_https(&ews_url)?;
    Ok(ews_url)
}

/// The crate's one rule for secure URLs, worded for a redirect Autodiscover was about to follow.
pub(super) fn require_https(url: &Url) -> Result<(), String> {
    ensure_secure(url).map_err(|_| format!("refusing to follow a non-https redirect to {url}"))
}
