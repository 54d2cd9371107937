//! Device authorization grant: `POST /{tenant}/oauth2/v2.0/devicecode` and the `/devicelogin` pages
//! ("Microsoft identity platform and the OAuth 2.0 device authorization grant flow", RFC 8628).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use rand::Rng as _;

use crate::identity::consent::{self, ConsentStep};
use crate::identity::error::AadError;
use crate::identity::form::FormBody;
use crate::identity::issuance::{missing_parameter, opaque, unknown_client, unknown_tenant};
use crate::identity::page::{self, Carry};
use crate::journal::JournalNote;
use crate::scope::Scope;
use crate::state::AppState;
use crate::store::{DeviceCodeRecord, DeviceDecision, Grant};

/// User codes avoid characters people confuse (0/O, 1/I).
const USER_CODE_ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

/// `POST /{tenant}/oauth2/v2.0/devicecode`.
pub async fn start(
    State(state): State<AppState>,
    Path(segment): Path<String>,
    form: FormBody,
) -> Response {
    match issue(&state, &segment, &form) {
        Ok(response) => response,
        Err(error) => error.into_response(),
    }
}

fn issue(state: &AppState, segment: &str, form: &FormBody) -> Result<Response, AadError> {
    let tenant = state.tenant();
    if !tenant.accepts_authority_segment(segment) {
        return Err(unknown_tenant(segment));
    }
    let client_id = form
        .get("client_id")
        .ok_or_else(|| missing_parameter("client_id"))?;
    let app = tenant
        .app(client_id)
        .ok_or_else(|| unknown_client(client_id, &tenant.display_name))?;
    // "Allow public client flows" off does not stop `/devicecode`: Entra answers it and refuses the
    // token *poll* with AADSTS7000218 (facts §0: Azure/azure-cli#22251, ADAL-python#175), see `token.rs`.
    let scope = form
        .get("scope")
        .ok_or_else(|| missing_parameter("scope"))?;
    let scopes = Scope::parse_list(scope).map_err(|invalid| {
        AadError::new(
            "invalid_scope",
            70011,
            format!("The provided value for the input parameter 'scope' is not valid. The scope '{invalid}' does not exist."),
        )
    })?;
    let lifetimes = state.lifetimes();
    let user_code: String = {
        let mut random = rand::thread_rng();
        (0..9)
            .map(|_| char::from(USER_CODE_ALPHABET[random.gen_range(0..USER_CODE_ALPHABET.len())]))
            .collect()
    };
    let device_code = format!("DAQABAAEAAA{}", opaque(96));
    let interval_secs = lifetimes.device_code_interval.as_secs().max(1);
    let expires_in = lifetimes.device_code.as_secs();
    state.store().device_codes.insert(
        device_code.clone(),
        DeviceCodeRecord {
            client_id: app.client_id.clone(),
            scopes,
            user_code: user_code.clone(),
            expires_at: state.now()
                + chrono::Duration::seconds(i64::try_from(expires_in).unwrap_or(900)),
            interval_secs,
            last_poll: None,
            decision: DeviceDecision::Pending,
            redeemed: false,
        },
    );
    let verification_uri = state.url("devicelogin");
    let mut response = axum::Json(serde_json::json!({
        "user_code": user_code,
        "device_code": device_code,
        "verification_uri": verification_uri.as_str(),
        "expires_in": expires_in,
        "interval": interval_secs,
        "message": format!(
            "To sign in, use a web browser to open the page {verification_uri} and enter the code {user_code} to authenticate."
        ),
    }))
    .into_response();
    response
        .extensions_mut()
        .insert(JournalNote("device code issued".to_owned()));
    Ok(response)
}

/// `GET /devicelogin`.
pub async fn entry(State(state): State<AppState>) -> Response {
    page::device_code_entry(state.tenant(), "/devicelogin", None)
}

/// Looks up the code the person typed; `Err` is the message to show on the code entry page.
fn lookup(state: &AppState, user_code: &str) -> Result<(String, DeviceCodeRecord), &'static str> {
    let now = state.now();
    let found = state
        .store()
        .device_code_by_user_code(user_code)
        .map(|(device_code, record)| (device_code.clone(), record.clone()));
    match found {
        Some((_, record)) if record.expires_at <= now => {
            Err("That code has expired. Start again on your app or device to get a new code.")
        }
        Some((_, record)) if record.decision != DeviceDecision::Pending => {
            Err("That code was already used. Start again on your app or device to get a new code.")
        }
        Some(found) => Ok(found),
        None => Err("That code didn't work. Check the code and try again."),
    }
}

fn entry_with_error(state: &AppState, message: &str) -> Response {
    page::device_code_entry(state.tenant(), "/devicelogin", Some(message))
}

/// `POST /devicelogin` with `otc`: shows the account picker.
pub async fn enter_code(State(state): State<AppState>, form: FormBody) -> Response {
    let user_code = form.get("otc").unwrap_or_default().to_owned();
    let (_, record) = match lookup(&state, &user_code) {
        Ok(found) => found,
        Err(message) => return entry_with_error(&state, message),
    };
    let tenant = state.tenant();
    let Some(app) = tenant.app(&record.client_id) else {
        return page::error(
            tenant,
            StatusCode::BAD_REQUEST,
            "Unknown application",
            "The application is not registered.",
        );
    };
    page::sign_in(
        tenant,
        app,
        "/devicelogin/signin",
        &Carry(&[("otc", &record.user_code)]),
        None,
        None,
    )
}

/// `POST /devicelogin/signin` with `otc`, `login`.
pub async fn sign_in(State(state): State<AppState>, form: FormBody) -> Response {
    let user_code = form.get("otc").unwrap_or_default().to_owned();
    let (device_code, record) = match lookup(&state, &user_code) {
        Ok(found) => found,
        Err(message) => return entry_with_error(&state, message),
    };
    let tenant = state.tenant();
    let Some(app) = tenant.app(&record.client_id) else {
        return page::error(
            tenant,
            StatusCode::BAD_REQUEST,
            "Unknown application",
            "The application is not registered.",
        );
    };
    let login = form.get("login").unwrap_or_default();
    let carry_code = record.user_code.clone();
    let Some(user) = tenant.user_by_email(login) else {
        let message =
            format!("AADSTS50034: The user account {login} does not exist in the directory.");
        return page::sign_in(
            tenant,
            app,
            "/devicelogin/signin",
            &Carry(&[("otc", &carry_code)]),
            None,
            Some(&message),
        );
    };
    let carry = [
        ("otc", carry_code.as_str()),
        ("login", user.user_principal_name.as_str()),
    ];
    match consent::next_step(&state, user, app, &record.scopes, false) {
        ConsentStep::Blocked(error) => {
            decide_device(
                &state,
                &device_code,
                DeviceDecision::Failed { code: error.code },
            );
            page::device_code_done(tenant, "You cannot access this right now", &error.summary())
        }
        ConsentStep::AdminApproval(error) => page::admin_approval(
            tenant,
            app,
            &error.summary(),
            Some("/devicelogin/consent"),
            &Carry(&carry),
        ),
        ConsentStep::Ask(scopes) => page::consent(
            tenant,
            app,
            &user.user_principal_name,
            &scopes,
            "/devicelogin/consent",
            &Carry(&carry),
        ),
        ConsentStep::Granted => approve(&state, &device_code, &record, user.id, &app.name),
    }
}

/// `POST /devicelogin/consent` with `otc`, `login`, `decision`.
pub async fn decide(State(state): State<AppState>, form: FormBody) -> Response {
    let user_code = form.get("otc").unwrap_or_default().to_owned();
    let (device_code, record) = match lookup(&state, &user_code) {
        Ok(found) => found,
        Err(message) => return entry_with_error(&state, message),
    };
    let tenant = state.tenant();
    let (Some(app), Some(user)) = (
        tenant.app(&record.client_id),
        tenant.user_by_email(form.get("login").unwrap_or_default()),
    ) else {
        return page::error(
            tenant,
            StatusCode::BAD_REQUEST,
            "Sign-in incomplete",
            "Pick an account first.",
        );
    };
    match form.get("decision") {
        Some("accept") if !state.faults().take_declined_consent() => {
            match consent::next_step(&state, user, app, &record.scopes, false) {
                ConsentStep::Blocked(error) | ConsentStep::AdminApproval(error) => {
                    decide_device(
                        &state,
                        &device_code,
                        DeviceDecision::Failed { code: error.code },
                    );
                    page::device_code_done(tenant, "Sign-in failed", &error.summary())
                }
                ConsentStep::Ask(_) | ConsentStep::Granted => {
                    consent::record(&state, user, app, &record.scopes);
                    approve(&state, &device_code, &record, user.id, &app.name)
                }
            }
        }
        Some("return") => {
            // The app learns that a delegation is missing: AADSTS65001 on its next poll.
            decide_device(&state, &device_code, DeviceDecision::Failed { code: 65001 });
            page::device_code_done(
                tenant,
                "Need admin approval",
                &consent::admin_consent_error(app).summary(),
            )
        }
        _ => {
            decide_device(&state, &device_code, DeviceDecision::Declined);
            page::device_code_done(
                tenant,
                "Sign-in cancelled",
                "You declined to sign in to the application. You can close this window.",
            )
        }
    }
}

fn approve(
    state: &AppState,
    device_code: &str,
    record: &DeviceCodeRecord,
    user_id: uuid::Uuid,
    app_name: &str,
) -> Response {
    let grant = Grant {
        user_id,
        client_id: record.client_id.clone(),
        scopes: record.scopes.clone(),
        nonce: None,
    };
    decide_device(state, device_code, DeviceDecision::Approved(grant));
    page::device_code_done(
        state.tenant(),
        "You're signed in",
        &format!("You have signed in to the {app_name} application on your device. You may now close this window."),
    )
}

fn decide_device(state: &AppState, device_code: &str, decision: DeviceDecision) {
    if let Some(record) = state.store().device_codes.get_mut(device_code) {
        record.decision = decision;
    }
}
