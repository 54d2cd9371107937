//! The HTML pages a person sees: sign-in, consent, admin approval, device code entry, errors.
//!
//! Form field names are part of the sandbox's public contract (the scripted [`crate::person::Person`] and the
//! desktop end-to-end tests fill them):
//! - every form carries hidden inputs that must be posted back unchanged (`flow`, `otc`);
//! - `login`: the account's email address (sign-in forms);
//! - `otc`: the user code typed on `/devicelogin`;
//! - `decision`: `accept` or `cancel` on consent pages, `return` on the admin-approval page.
//!
//! Pages contain no script, except the one line that auto-submits a `form_post` response (which works
//! without it too: its button posts the same form); the style sheet is inline so the pages render
//! without further requests.

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use crate::scope::Scope;
use crate::tenant::{AppRegistration, Tenant};

const STYLE: &str = "body{font-family:'Segoe UI',system-ui,sans-serif;background:#f2f2f2;margin:0}\
main{max-width:440px;margin:48px auto;background:#fff;padding:36px 44px;box-shadow:0 2px 6px rgba(0,0,0,.2)}\
h1{font-size:24px;font-weight:600;margin:0 0 16px}p.org{color:#666;margin:0 0 8px}\
label.account{display:block;padding:8px;border:1px solid #ddd;margin:6px 0;cursor:pointer}\
input[type=email],input[type=text]{width:100%;box-sizing:border-box;padding:8px;font-size:15px;margin:8px 0}\
button{background:#0067b8;color:#fff;border:0;padding:8px 24px;font-size:15px;margin:12px 8px 0 0;cursor:pointer}\
button.secondary{background:#ccc;color:#000}ul.scopes li{margin:6px 0}.error{color:#a80000}\
small{color:#666}";

/// Escapes text for HTML element content and attribute values.
pub fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            other => escaped.push(other),
        }
    }
    escaped
}

fn document(title: &str, tenant: &Tenant, body: &str) -> String {
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title>\
         <meta name=\"viewport\" content=\"width=device-width\"><style>{STYLE}</style></head>\
         <body><main><p class=\"org\">{org} &middot; calconnect sandbox</p>{body}</main></body></html>",
        title = escape(title),
        org = escape(&tenant.display_name),
    )
}

fn hidden(name: &str, value: &str) -> String {
    format!(
        "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
        escape(name),
        escape(value)
    )
}

/// Hidden fields carried by every form of one interaction.
pub struct Carry<'a>(pub &'a [(&'a str, &'a str)]);

impl Carry<'_> {
    fn render(&self) -> String {
        self.0
            .iter()
            .map(|(name, value)| hidden(name, value))
            .collect()
    }
}

/// "Pick an account": a radio list of the tenant's users plus a free text field.
pub fn sign_in(
    tenant: &Tenant,
    app: &AppRegistration,
    action: &str,
    carry: &Carry<'_>,
    login_hint: Option<&str>,
    error: Option<&str>,
) -> Response {
    let accounts: String = tenant
        .users
        .iter()
        .map(|user| {
            format!(
                "<label class=\"account\"><input type=\"radio\" name=\"login\" value=\"{email}\"{checked}> {name} <small>{email}</small></label>",
                email = escape(&user.user_principal_name),
                name = escape(&user.display_name),
                checked = if login_hint.is_some_and(|hint| hint.eq_ignore_ascii_case(&user.user_principal_name)) { " checked" } else { "" },
            )
        })
        .collect();
    let error = error.map_or_else(String::new, |error| {
        format!("<p class=\"error\" id=\"error\">{}</p>", escape(error))
    });
    let body = format!(
        "<h1>Sign in</h1><p>to continue to <strong>{app}</strong></p>{error}\
         <form method=\"post\" action=\"{action}\" id=\"signin\">{carry}\
         {accounts}<p><small>No password is asked: this is the offline demo tenant.</small></p>\
         <button type=\"submit\">Next</button></form>",
        app = escape(&app.name),
        action = escape(action),
        carry = carry.render(),
    );
    Html(document("Sign in to your account", tenant, &body)).into_response()
}

/// "Permissions requested" with Accept / Cancel.
pub fn consent(
    tenant: &Tenant,
    app: &AppRegistration,
    user_email: &str,
    scopes: &[Scope],
    action: &str,
    carry: &Carry<'_>,
) -> Response {
    let items: String = scopes
        .iter()
        .map(|scope| {
            format!(
                "<li><strong>{}</strong><br><small>{}</small></li>",
                escape(scope.description()),
                escape(&scope.response_name())
            )
        })
        .collect();
    let body = format!(
        "<h1>Permissions requested</h1><p><strong>{app}</strong> would like to:</p>\
         <ul class=\"scopes\">{items}</ul><p><small>Signed in as {user}</small></p>\
         <form method=\"post\" action=\"{action}\" id=\"consent\">{carry}\
         <button type=\"submit\" name=\"decision\" value=\"accept\">Accept</button>\
         <button type=\"submit\" name=\"decision\" value=\"cancel\" class=\"secondary\">Cancel</button></form>",
        app = escape(&app.name),
        user = escape(user_email),
        action = escape(action),
        carry = carry.render(),
    );
    Html(document("Permissions requested", tenant, &body)).into_response()
}

/// Tenant-wide admin consent: the application permissions requested, "Accept" consenting on behalf of
/// the whole organization, or "Cancel".
pub fn admin_consent(
    tenant: &Tenant,
    app: &AppRegistration,
    admin_email: &str,
    app_roles: &[String],
    action: &str,
    carry: &Carry<'_>,
) -> Response {
    let items: String = app_roles
        .iter()
        .map(|role| {
            format!(
                "<li><strong>{}</strong><br><small>Application permission (no signed-in user)</small></li>",
                escape(role)
            )
        })
        .collect();
    let body = format!(
        "<h1>Permissions requested</h1><p><strong>{app}</strong> would like to, as itself and \
         without a signed-in user:</p><ul class=\"scopes\">{items}</ul>\
         <p>Accepting grants these permissions on behalf of your entire organization ({org}).</p>\
         <p><small>Signed in as {user}</small></p>\
         <form method=\"post\" action=\"{action}\" id=\"admin-consent\">{carry}\
         <button type=\"submit\" name=\"decision\" value=\"accept\">Accept</button>\
         <button type=\"submit\" name=\"decision\" value=\"cancel\" class=\"secondary\">Cancel</button></form>",
        app = escape(&app.name),
        org = escape(&tenant.display_name),
        user = escape(admin_email),
        action = escape(action),
        carry = carry.render(),
    );
    Html(document("Permissions requested", tenant, &body)).into_response()
}

/// The last page of an interaction that has no redirect URI to go back to (`id="done"` on its heading).
pub fn done(tenant: &Tenant, heading: &str, message: &str) -> Response {
    device_code_done(tenant, heading, message)
}

/// "Need admin approval" (AADSTS90094) with the only way out: back to the app without consent.
pub fn admin_approval(
    tenant: &Tenant,
    app: &AppRegistration,
    message: &str,
    action: Option<&str>,
    carry: &Carry<'_>,
) -> Response {
    let form = action.map_or_else(String::new, |action| {
        format!(
            "<form method=\"post\" action=\"{action}\" id=\"admin-approval\">{carry}\
             <button type=\"submit\" name=\"decision\" value=\"return\">Return to the application without granting consent</button></form>",
            action = escape(action),
            carry = carry.render(),
        )
    });
    let body = format!(
        "<h1>Need admin approval</h1><p><strong>{app}</strong> needs permission to access resources in your \
         organization that only an admin can grant. Please ask an admin to grant permission to this app before you can use it.</p>\
         <p class=\"error\" id=\"error\">{message}</p>{form}",
        app = escape(&app.name),
        message = escape(message),
    );
    Html(document("Need admin approval", tenant, &body)).into_response()
}

/// An error page (errors Entra shows instead of redirecting, e.g. a bad `redirect_uri`).
pub fn error(tenant: &Tenant, status: StatusCode, heading: &str, message: &str) -> Response {
    let body = format!(
        "<h1>{}</h1><p class=\"error\" id=\"error\">{}</p>",
        escape(heading),
        escape(message)
    );
    (status, Html(document(heading, tenant, &body))).into_response()
}

/// `/devicelogin`: "Enter code".
pub fn device_code_entry(tenant: &Tenant, action: &str, error: Option<&str>) -> Response {
    let error = error.map_or_else(String::new, |error| {
        format!("<p class=\"error\" id=\"error\">{}</p>", escape(error))
    });
    let body = format!(
        "<h1>Enter code</h1><p>Enter the code displayed on your app or device.</p>{error}\
         <form method=\"post\" action=\"{action}\" id=\"device-code\">\
         <input type=\"text\" name=\"otc\" placeholder=\"Code\" autocomplete=\"off\" autofocus>\
         <button type=\"submit\">Next</button></form>",
        action = escape(action),
    );
    Html(document("Enter code", tenant, &body)).into_response()
}

/// Final page of the device code flow.
pub fn device_code_done(tenant: &Tenant, heading: &str, message: &str) -> Response {
    let body = format!(
        "<h1 id=\"done\">{}</h1><p>{}</p>",
        escape(heading),
        escape(message)
    );
    Html(document(heading, tenant, &body)).into_response()
}

/// The `response_mode=form_post` answer: a page whose form POSTs `fields` to the redirect URI.
///
/// Entra answers with an HTML document whose `<form method="POST" action="{redirect_uri}">` carries
/// `code` and `state` (or `error`, `error_description`, `state`) as hidden inputs and submits itself on
/// load (OAuth 2.0 Form Post Response Mode, §2; "Microsoft identity platform and OAuth 2.0 authorization
/// code flow": "form_post executes a POST containing the code to your redirect URI"). The submit button
/// makes it work without JavaScript.
pub fn form_post(redirect_uri: &str, fields: &[(&str, &str)]) -> Response {
    let inputs: String = fields
        .iter()
        .map(|(name, value)| hidden(name, value))
        .collect();
    let html = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Working...</title></head>\
         <body><form method=\"POST\" name=\"hiddenform\" id=\"form-post\" action=\"{action}\">{inputs}\
         <noscript><p>Script is disabled. Click Submit to continue.</p></noscript>\
         <button type=\"submit\">Submit</button></form>\
         <script>document.getElementById(\"form-post\").submit();</script></body></html>",
        action = escape(redirect_uri),
    );
    let mut response = Html(html).into_response();
    // The page carries a code: never cache it.
    response.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store, no-cache"),
    );
    response
}
