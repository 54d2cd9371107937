//! The organisation's EWS access controls, checked after authentication and before any operation:
//! `EwsEnabled`, the user-agent policy (`EwsApplicationAccessPolicy` with `EwsAllowList` /
//! `EwsBlockList`) and, in Exchange Online, `EwsAllowedAppIDs` and the retirement dates (facts §0, §3.2;
//! learn.microsoft.com/exchange/client-developer/exchange-web-services/how-to-control-access-to-ews-in-exchange).

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};

use super::access::Caller;
use crate::journal::JournalNote;
use crate::tenant::exchange::{ews_allow_list_enforced_from, exchange_online_ews_shutdown};
use crate::tenant::{Deployment, Tenant};

/// `Ok` when the organisation lets this caller use EWS; `Err` says why not (for the journal and the body).
pub(crate) fn admits(
    tenant: &Tenant,
    caller: &Caller,
    user_agent: &str,
    now: DateTime<Utc>,
) -> Result<(), String> {
    let organization = &tenant.exchange.organization;
    if organization.ews_enabled == Some(false) {
        return Err("EWS is disabled for this organization (EwsEnabled is False)".to_owned());
    }
    if tenant.exchange.deployment == Deployment::ExchangeOnline {
        if now >= exchange_online_ews_shutdown() {
            return Err("Exchange Web Services are retired in Exchange Online".to_owned());
        }
        if now >= ews_allow_list_enforced_from() && organization.ews_enabled.is_none() {
            return Err(
                "EWS is blocked for this organization: EwsEnabled was never set to True".to_owned(),
            );
        }
        if !organization.admits_app(caller.app_id(), now) {
            let app = caller
                .app_id()
                .unwrap_or("(no application: password sign-in)");
            return Err(format!(
                "application {app} is not in the organization's EwsAllowedAppIDs"
            ));
        }
    }
    if !organization.admits_user_agent(user_agent) {
        return Err(format!(
            "the client's user agent '{user_agent}' is not allowed by the organization's EwsApplicationAccessPolicy"
        ));
    }
    Ok(())
}

/// HTTP 403 without a SOAP body or `WWW-Authenticate`: "403 is policy block"
/// (David-Barrett-MS/PowerShell-EWS-Scripts#62).
///
/// ASSUMPTION: the body's wording is not documented; clients may only rely on the status.
pub(crate) fn forbidden(reason: &str) -> Response {
    let mut response = (
        StatusCode::FORBIDDEN,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!("The request failed with HTTP status 403: Forbidden. {reason}."),
    )
        .into_response();
    response
        .extensions_mut()
        .insert(JournalNote(format!("403: {reason}")));
    response
}
