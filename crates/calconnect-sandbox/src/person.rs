//! "The test plays the person": a tiny scripted browser that walks the sandbox's real HTML pages and forms.
//!
//! It reads each page's form (action, hidden inputs, the `login` field, the `decision` buttons, see
//! [`crate::identity::page`] for the field contract) and submits it the way a person would, without
//! following the final redirect to the app: that is for the test (or [`Person::follow`]).

use reqwest::header::LOCATION;
use reqwest::redirect::Policy;
use url::Url;

use crate::error::{Error, Result};
use crate::server::SandboxHandle;

/// What the person clicks on a consent page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Consent {
    /// "Accept" (or, on the admin-approval page, the only way out: back to the app).
    Approve,
    /// "Cancel".
    Decline,
}

/// A scripted person with a browser that trusts the sandbox CA.
#[derive(Debug, Clone)]
pub struct Person {
    client: reqwest::Client,
    base_url: Url,
}

/// How a finished sign-in reaches the app.
#[derive(Debug, Clone)]
pub enum Delivery {
    /// A 302 to the redirect URI (`response_mode` `query` or `fragment`).
    Redirect(Url),
    /// A page that POSTs these fields to `action`, the redirect URI (`response_mode=form_post`).
    FormPost {
        action: Url,
        fields: Vec<(String, String)>,
    },
}

impl Delivery {
    /// A parameter of the answer (`code`, `state`, `error`, ...) from the query, fragment or form.
    pub fn parameter(&self, name: &str) -> Option<String> {
        match self {
            Self::Redirect(location) => location
                .query_pairs()
                .chain(url::form_urlencoded::parse(
                    location.fragment().unwrap_or_default().as_bytes(),
                ))
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.into_owned()),
            Self::FormPost { fields, .. } => fields
                .iter()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.clone()),
        }
    }
}

/// How a finished admin consent (`/adminconsent`) ends.
#[derive(Debug, Clone)]
pub enum AdminConsentOutcome {
    /// A 302 to the `redirect_uri` with `admin_consent`, `tenant`, `state` (or `error`, `error_description`).
    Redirect(Url),
    /// The final page shown when the request had no `redirect_uri`: its heading ("Consent granted",
    /// "Consent not granted") and message.
    Page { heading: String, message: String },
}

impl AdminConsentOutcome {
    /// A parameter of the redirect (`admin_consent`, `tenant`, `error`, ...); `None` for a page.
    pub fn parameter(&self, name: &str) -> Option<String> {
        match self {
            Self::Redirect(location) => Delivery::Redirect(location.clone()).parameter(name),
            Self::Page { .. } => None,
        }
    }
}

/// A form found on a page.
#[derive(Debug, Default)]
struct Form {
    action: String,
    hidden: Vec<(String, String)>,
    has_login: bool,
    has_code: bool,
    decisions: Vec<String>,
}

/// The most pages one sign-in can take (account picker, consent, and slack for error pages).
const MAX_PAGES: usize = 6;

impl Person {
    /// A person whose browser trusts `sandbox`'s CA.
    pub fn new(sandbox: &SandboxHandle) -> Result<Self> {
        // A browser on this machine: it reaches the sandbox directly, also under a public host name
        // (which only a proxy or this override resolves), whatever proxy the environment names.
        let mut builder = reqwest::Client::builder()
            .redirect(Policy::none())
            .no_proxy();
        if let Some(host) = sandbox.base_url().host_str() {
            builder = builder.resolve(host, sandbox.local_address());
        }
        if let Some(pem) = sandbox.ca_pem() {
            let certificate =
                reqwest::Certificate::from_pem(pem.as_bytes()).map_err(|source| Error::Http {
                    url: sandbox.base_url().to_string(),
                    source,
                })?;
            builder = builder.add_root_certificate(certificate);
        }
        let client = builder.build().map_err(|source| Error::Http {
            url: sandbox.base_url().to_string(),
            source,
        })?;
        Ok(Self {
            client,
            base_url: sandbox.base_url(),
        })
    }

    /// Opens `authorize_url`, signs in as `user_email`, answers the consent page, and returns the
    /// `Location` the sandbox redirects to (the app's redirect URI with `code` or `error`). Not followed.
    /// For `response_mode=form_post` use [`Person::authorize`].
    pub async fn sign_in(
        &self,
        authorize_url: &Url,
        user_email: &str,
        consent: Consent,
    ) -> Result<Url> {
        match self.authorize(authorize_url, user_email, consent).await? {
            Delivery::Redirect(location) => Ok(location),
            Delivery::FormPost { action, .. } => Err(Error::UnexpectedPage {
                url: redact_url(&action),
                reason: "the answer is a form_post page, not a redirect".to_owned(),
            }),
        }
    }

    /// Like [`Person::sign_in`], for every response mode: the redirect (`query`, `fragment`) or the
    /// form the `form_post` page would submit. Not delivered: see [`Person::deliver`].
    pub async fn authorize(
        &self,
        authorize_url: &Url,
        user_email: &str,
        consent: Consent,
    ) -> Result<Delivery> {
        let mut response = self.get(authorize_url).await?;
        for _ in 0..MAX_PAGES {
            let page_url = response.url().clone();
            if response.status().is_redirection() {
                return redirect_location(&response).map(Delivery::Redirect);
            }
            let html = self.text(response).await?;
            let form = parse_form(&html).ok_or_else(|| unexpected(&page_url, &html))?;
            if html.contains("id=\"form-post\"") {
                let action = self.url(&form.action)?;
                return Ok(Delivery::FormPost {
                    action,
                    fields: form.hidden,
                });
            }
            if form.has_login && html.contains("id=\"error\"") {
                return Err(unexpected(&page_url, &html));
            }
            response = self.submit(&form, user_email, None, consent).await?;
        }
        Err(Error::UnexpectedPage {
            url: authorize_url.to_string(),
            reason: "too many pages".to_owned(),
        })
    }

    /// Opens an admin consent URL (`/{tenant}/adminconsent?client_id=…` or its v2.0 form), signs in as
    /// `admin_email`, and answers the consent page (`Approve` accepts on behalf of the organization).
    /// A non-administrator gets the "Need admin approval" page, whose only way out is taken. Returns the
    /// redirect to the app (not followed) or, without a `redirect_uri`, the final page.
    pub async fn admin_consent(
        &self,
        admin_consent_url: &Url,
        admin_email: &str,
        consent: Consent,
    ) -> Result<AdminConsentOutcome> {
        let mut response = self.get(admin_consent_url).await?;
        for _ in 0..MAX_PAGES {
            let page_url = response.url().clone();
            if response.status().is_redirection() {
                return redirect_location(&response).map(AdminConsentOutcome::Redirect);
            }
            let html = self.text(response).await?;
            if let Some(heading) = between(&html, "id=\"done\">", "</h1>") {
                let message = between(&html, "</h1><p>", "</p>").unwrap_or_default();
                return Ok(AdminConsentOutcome::Page {
                    heading: unescape(heading),
                    message: unescape(message),
                });
            }
            let form = parse_form(&html).ok_or_else(|| unexpected(&page_url, &html))?;
            if form.has_login && html.contains("id=\"error\"") {
                return Err(unexpected(&page_url, &html));
            }
            response = self.submit(&form, admin_email, None, consent).await?;
        }
        Err(Error::UnexpectedPage {
            url: redact_url(admin_consent_url),
            reason: "too many pages".to_owned(),
        })
    }

    /// Delivers a sign-in's answer to the app as a browser does: GETs the redirect, or POSTs the form.
    pub async fn deliver(&self, delivery: &Delivery) -> Result<reqwest::Response> {
        match delivery {
            Delivery::Redirect(location) => self.get(location).await,
            Delivery::FormPost { action, fields } => self
                .client
                .post(action.clone())
                .form(fields)
                .send()
                .await
                .map_err(|source| Error::Http {
                    url: redact_url(action),
                    source,
                }),
        }
    }

    /// Opens `/devicelogin`, types `user_code`, signs in as `user_email` and answers the consent page.
    /// Succeeds when the flow reaches its final page, whatever it says (the app learns the outcome by polling).
    pub async fn enter_device_code(
        &self,
        user_code: &str,
        user_email: &str,
        consent: Consent,
    ) -> Result<()> {
        let entry_url = self.url("devicelogin")?;
        let mut response = self.get(&entry_url).await?;
        for _ in 0..MAX_PAGES {
            let page_url = response.url().clone();
            let html = self.text(response).await?;
            if html.contains("id=\"done\"") {
                return Ok(());
            }
            let form = parse_form(&html).ok_or_else(|| unexpected(&page_url, &html))?;
            if html.contains("id=\"error\"") && (form.has_code || form.has_login) {
                return Err(unexpected(&page_url, &html));
            }
            response = self
                .submit(&form, user_email, Some(user_code), consent)
                .await?;
        }
        Err(Error::UnexpectedPage {
            url: entry_url.to_string(),
            reason: "too many pages".to_owned(),
        })
    }

    /// GETs a redirect `Location` (typically the app's loopback listener) and returns the response.
    pub async fn follow(&self, location: &Url) -> Result<reqwest::Response> {
        self.get(location).await
    }

    async fn submit(
        &self,
        form: &Form,
        user_email: &str,
        user_code: Option<&str>,
        consent: Consent,
    ) -> Result<reqwest::Response> {
        let mut fields = form.hidden.clone();
        if form.has_login {
            fields.push(("login".to_owned(), user_email.to_owned()));
        }
        if form.has_code {
            fields.push(("otc".to_owned(), user_code.unwrap_or_default().to_owned()));
        }
        let wanted = match consent {
            Consent::Approve => "accept",
            Consent::Decline => "cancel",
        };
        if let Some(decision) = form
            .decisions
            .iter()
            .find(|decision| decision.as_str() == wanted)
            .or_else(|| form.decisions.first())
        {
            fields.push(("decision".to_owned(), decision.clone()));
        }
        let action = self.url(&form.action)?;
        self.client
            .post(action.clone())
            .form(&fields)
            .send()
            .await
            .map_err(|source| Error::Http {
                url: action.to_string(),
                source,
            })
    }

    fn url(&self, path: &str) -> Result<Url> {
        self.base_url
            .join(path)
            .map_err(|error| Error::UnexpectedPage {
                url: path.to_owned(),
                reason: error.to_string(),
            })
    }

    async fn get(&self, url: &Url) -> Result<reqwest::Response> {
        self.client
            .get(url.clone())
            .send()
            .await
            .map_err(|source| Error::Http {
                url: redact_url(url),
                source,
            })
    }

    async fn text(&self, response: reqwest::Response) -> Result<String> {
        let url = response.url().to_string();
        response
            .text()
            .await
            .map_err(|source| Error::Http { url, source })
    }
}

/// URLs carrying codes must not end up in error messages.
fn redact_url(url: &Url) -> String {
    let mut redacted = url.clone();
    redacted.set_query(None);
    redacted.set_fragment(None);
    redacted.to_string()
}

fn redirect_location(response: &reqwest::Response) -> Result<Url> {
    let location = response
        .headers()
        .get(LOCATION)
        .and_then(|value| value.to_str().ok())
        .ok_or_else(|| Error::UnexpectedPage {
            url: response.url().to_string(),
            reason: "redirect without a location".to_owned(),
        })?;
    response
        .url()
        .join(location)
        .map_err(|error| Error::UnexpectedPage {
            url: response.url().to_string(),
            reason: error.to_string(),
        })
}

fn unexpected(url: &Url, html: &str) -> Error {
    let reason = between(html, "id=\"error\">", "</p>")
        .or_else(|| between(html, "<h1>", "</h1>"))
        .map_or_else(|| "page without a form".to_owned(), unescape);
    Error::UnexpectedPage {
        url: redact_url(url),
        reason,
    }
}

fn between<'a>(text: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let from = text.find(start)? + start.len();
    let to = text[from..].find(end)? + from;
    Some(&text[from..to])
}

/// The attribute `name` of one tag.
fn attribute(tag: &str, name: &str) -> Option<String> {
    between(tag, &format!(" {name}=\""), "\"").map(unescape)
}

fn unescape(text: &str) -> String {
    text.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// Reads the first form of a page generated by [`crate::identity::page`].
fn parse_form(html: &str) -> Option<Form> {
    let start = html.find("<form")?;
    let end = html[start..].find("</form>")? + start;
    let body = &html[start..end];
    let open_tag = &body[..body.find('>')?];
    let mut form = Form {
        action: attribute(open_tag, "action")?,
        ..Form::default()
    };
    for tag in body.split('<').skip(1) {
        let tag = tag.split('>').next().unwrap_or_default();
        let name = attribute(tag, "name");
        if tag.starts_with("input") {
            match (attribute(tag, "type").as_deref(), name.as_deref()) {
                (Some("hidden"), Some(name)) => form
                    .hidden
                    .push((name.to_owned(), attribute(tag, "value").unwrap_or_default())),
                (_, Some("login")) => form.has_login = true,
                (_, Some("otc")) => form.has_code = true,
                _ => {}
            }
        } else if tag.starts_with("button") && name.as_deref() == Some("decision") {
            if let Some(value) = attribute(tag, "value") {
                form.decisions.push(value);
            }
        }
    }
    Some(form)
}
