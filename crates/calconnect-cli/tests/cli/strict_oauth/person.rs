//! A person in oidc-provider's pages, played with reqwest: follows redirects one at a time (keeping the
//! cookies oidc-provider's interactions depend on), fills the forms it recognises by id, and delivers the
//! final redirect to calconnect's loopback listener as a browser would.
//!
//! The pages are small and ours (tests/oidc/server.mjs) or oidc-provider's device forms, so a few string
//! searches read them; an HTML parser would add a dependency for four forms.

use url::Url;

use super::provider::OidcProvider;

/// Who signs in, and with what.
pub const EMAIL: &str = "adele@contoso.example";
const PASSWORD: &str = "oidc-test-password";

/// How a walk through the pages ended.
#[derive(Debug)]
pub enum Ending {
    /// A page saying the sign-in is done (the device flow's success page).
    Done,
    /// A redirect to calconnect's listener, delivered: where it went and what the listener answered.
    Delivered { location: Url, status: u16 },
}

pub struct Person {
    http: reqwest::Client,
    /// The listener's redirect goes out with a client of its own, as a browser carries no OP cookies there.
    listener_http: reqwest::Client,
    origin: String,
}

impl Person {
    pub fn new(provider: &OidcProvider) -> Self {
        Self {
            http: provider.http(true),
            listener_http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .no_proxy()
                .build()
                .unwrap(),
            origin: format!("https://127.0.0.1:{}", provider.port),
        }
    }

    /// Opens `start` and walks the pages: the user code (if given), sign-in, consent; returns how it ended
    /// or the page that refused, with its message.
    pub async fn walk(&self, start: &Url, user_code: Option<&str>) -> Result<Ending, String> {
        let mut request = self.http.get(start.clone());
        let mut url = start.clone();
        for _ in 0..20 {
            // Messages name pages without their query: an authorize URL carries state and the challenge.
            let shown = redact(&url);
            let response = request
                .send()
                .await
                .map_err(|error| format!("{shown}: {error}"))?;
            let status = response.status();
            if status.is_redirection() {
                let location = response
                    .headers()
                    .get(reqwest::header::LOCATION)
                    .and_then(|value| value.to_str().ok())
                    .ok_or_else(|| format!("{shown}: {status} without Location"))?;
                let next = url
                    .join(location)
                    .map_err(|error| format!("{shown}: Location {location}: {error}"))?;
                if next.origin().ascii_serialization() != self.origin {
                    return self.deliver(next).await;
                }
                request = self.http.get(next.clone());
                url = next;
                continue;
            }
            let html = response
                .text()
                .await
                .map_err(|error| format!("{shown}: {error}"))?;
            if let Some(message) = between(&html, "id=\"error\">", "</p>") {
                return Err(format!("{shown} ({status}): {}", unescape(message)));
            }
            if html.contains("id=\"done\"") {
                return Ok(Ending::Done);
            }
            let (form, mut fields) = if let Some(form) = Form::find(&html, "op.deviceInputForm") {
                let code =
                    user_code.ok_or_else(|| format!("{shown}: a user code page, and no code"))?;
                let mut fields = form.fields.clone();
                fields.retain(|(name, _)| name != "user_code");
                fields.push(("user_code".into(), code.into()));
                (form, fields)
            } else if let Some(form) = Form::find(&html, "op.deviceConfirmForm") {
                let fields = form.fields.clone();
                (form, fields)
            } else if let Some(form) = Form::find(&html, "login") {
                let fields = vec![
                    ("login".into(), EMAIL.into()),
                    ("password".into(), PASSWORD.into()),
                ];
                (form, fields)
            } else if let Some(form) = Form::find(&html, "consent") {
                (form, Vec::new())
            } else {
                return Err(format!("{shown} ({status}): an unexpected page:\n{html}"));
            };
            fields.retain(|(name, _)| !name.is_empty());
            let action = url
                .join(&form.action)
                .map_err(|error| format!("{shown}: form action: {error}"))?;
            request = self.http.post(action.clone()).form(&fields);
            url = action;
        }
        Err(format!("{}: more than 20 pages", redact(&url)))
    }

    async fn deliver(&self, location: Url) -> Result<Ending, String> {
        let response = self
            .listener_http
            .get(location.clone())
            .send()
            .await
            .map_err(|error| {
                format!("delivering the redirect to {}: {error}", redact(&location))
            })?;
        Ok(Ending::Delivered {
            location,
            status: response.status().as_u16(),
        })
    }
}

/// `location` without its query, which carries the authorization code.
pub fn redact(location: &Url) -> String {
    let mut shown = location.clone();
    shown.set_query(None);
    shown.to_string()
}

struct Form {
    action: String,
    fields: Vec<(String, String)>,
}

impl Form {
    /// The form with `id="{id}"`: its action and its inputs' names and values.
    fn find(html: &str, id: &str) -> Option<Self> {
        let start = html.find(&format!("id=\"{id}\""))?;
        let tag_start = html[..start].rfind("<form")?;
        let tag_end = start + html[start..].find('>')?;
        let end = start + html[start..].find("</form>")?;
        let action = unescape(&attribute(&html[tag_start..tag_end], "action")?);
        let fields = html[tag_end..end]
            .split("<input")
            .skip(1)
            .filter_map(|input| {
                let tag = &input[..input.find('>')?];
                let name = attribute(tag, "name")?;
                Some((
                    name,
                    attribute(tag, "value")
                        .map(|v| unescape(&v))
                        .unwrap_or_default(),
                ))
            })
            .collect();
        Some(Self { action, fields })
    }
}

fn attribute(tag: &str, name: &str) -> Option<String> {
    let key = format!("{name}=\"");
    let start = tag
        .match_indices(&key)
        .find(|(index, _)| *index == 0 || tag.as_bytes()[index - 1].is_ascii_whitespace())?
        .0
        + key.len();
    let end = start + tag[start..].find('"')?;
    Some(tag[start..end].to_owned())
}

fn between<'a>(text: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let from = text.find(start)? + start.len();
    let to = from + text[from..].find(end)?;
    Some(&text[from..to])
}

/// The entities the pages use: named ones and `&#NN;` (server.mjs escapes with decimal references).
fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(index) = rest.find('&') {
        out.push_str(&rest[..index]);
        rest = &rest[index..];
        let Some(end) = rest.find(';') else { break };
        let entity = &rest[1..end];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => entity
                .strip_prefix('#')
                .and_then(|number| number.parse::<u32>().ok())
                .and_then(char::from_u32),
        };
        match decoded {
            Some(character) => {
                out.push(character);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}
