//! Certificate credentials: a confidential client authenticates at the token endpoint with
//! `client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer` and `client_assertion`, a
//! JWT it signed with the private key of a certificate registered on its app.
//!
//! What Entra expects [learn.microsoft.com/entra/identity-platform/certificate-credentials]: header `alg`
//! PS256 (RS256 is accepted too, and is what MSAL sends), `typ` JWT, `x5t#S256` = base64url SHA-256 of the
//! certificate's DER (older clients send the SHA-1 `x5t`); claims `aud` = the tenant's token endpoint
//! (`…/{tenantId}/oauth2/v2.0/token`; the page's own example uses the tenant's domain), `iss` = `sub` = the
//! client id, `exp`, `nbf`, `jti`, `iat`.
//!
//! Refusals are `invalid_client` with HTTP 401, as Entra answers them. Codes and wording, checked in order:
//! - no usable JWT: AADSTS50027 "JWT token is invalid or malformed." (panva/openid-client#348); no
//!   thumbprint in the header: AADSTS50027 "Invalid JWT token. No certificate thumbprint specified in token
//!   header." (AzureAD/microsoft-authentication-library-for-dotnet#124);
//! - thumbprint not registered on the app: AADSTS700027 "The certificate with identifier used to sign the
//!   client assertion is not registered on application. [Reason - The key was not found., …]"
//!   (AzureAD/microsoft-authentication-library-for-js#8339; reference-error-codes lists 700027 as "Client
//!   assertion failed signature validation.");
//! - signature not made by that certificate's key: AADSTS700027 "Client assertion contains an invalid
//!   signature. [Reason - Key was found, but use of the key to verify the signature failed., …]"
//!   (Azure/azure-sdk-for-net#29007; microsoftgraph/msgraph-sdk-php#1585);
//! - more than one `aud`: AADSTS5002741 (zitadel/oidc#887); another `aud`: AADSTS50012 "Client assertion
//!   audience claim does not match Realm issuer." (AzureAD/azure-activedirectory-library-for-python#79;
//!   50012 is AuthenticationFailed in reference-error-codes);
//! - `sub` ≠ `iss`: AADSTS50048 SubjectMismatchesIssuer, `iss` ≠ client id: AADSTS50027 (its documented
//!   reasons include "unexpected issuer") [learn.microsoft.com/entra/identity-platform/reference-error-codes];
//! - outside `nbf`..`exp` (5 minutes of clock skew allowed): AADSTS700024 "Client assertion is not within its
//!   valid time range. Current time: …, assertion valid from …, expiry time of assertion …."
//!   (AzureAD/microsoft-authentication-library-for-java#984).
//!
//! `jti` is not checked for reuse: Microsoft documents no replay refusal. The assertion itself is never
//! logged (the journal keeps no bodies, and redacts `client_assertion` in query strings).

use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use chrono::{DateTime, Utc};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, Validation};
use serde_json::Value;

use crate::graph::calendars::seven_digit_fraction;
use crate::identity::error::AadError;
use crate::identity::form::FormBody;
use crate::identity::issuance::missing_parameter;
use crate::state::AppState;
use crate::tenant::certificate::hex_upper;
use crate::tenant::AppRegistration;

/// `client_assertion_type` of a JWT client assertion (RFC 7523 §2.2).
pub const JWT_BEARER_ASSERTION_TYPE: &str =
    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// Clock skew tolerated on `nbf` and `exp`.
pub const CLOCK_SKEW_SECS: i64 = 300;

const DOCUMENTATION: &str =
    "https://learn.microsoft.com/entra/identity-platform/certificate-credentials";

/// Verifies the client assertion of a token request for `app`, received on the `{tenant}` segment
/// `segment`.
pub fn verify(
    state: &AppState,
    segment: &str,
    app: &AppRegistration,
    form: &FormBody,
) -> Result<(), AadError> {
    let assertion_type = form
        .get("client_assertion_type")
        .ok_or_else(|| missing_parameter("client_assertion_type"))?;
    if assertion_type != JWT_BEARER_ASSERTION_TYPE {
        // AADSTS90100 InvalidRequestParameter (reference-error-codes); the wording is the sandbox's.
        return Err(AadError::new(
            "invalid_request",
            90100,
            format!("The provided value for the input parameter 'client_assertion_type' is not valid. Expected '{JWT_BEARER_ASSERTION_TYPE}'."),
        ));
    }
    let assertion = form
        .get("client_assertion")
        .ok_or_else(|| missing_parameter("client_assertion"))?;
    let malformed = || AadError::invalid_client(50027, "JWT token is invalid or malformed.");
    let header = jsonwebtoken::decode_header(assertion).map_err(|_| malformed())?;
    if !matches!(header.alg, Algorithm::RS256 | Algorithm::PS256) {
        return Err(malformed());
    }
    let (presented, sha256) = match (header.x5t_s256.as_deref(), header.x5t.as_deref()) {
        (Some(value), _) => (value, true),
        (None, Some(value)) => (value, false),
        (None, None) => {
            return Err(AadError::invalid_client(
                50027,
                "Invalid JWT token. No certificate thumbprint specified in token header.",
            ))
        }
    };
    let certificates = app.certificates();
    let Some((_, certificate)) = certificates
        .iter()
        .find(|(_, certificate)| certificate.has_thumbprint(presented, sha256))
    else {
        return Err(AadError::invalid_client(
            700027,
            format!(
                "The certificate with identifier used to sign the client assertion is not registered on application. [Reason - The key was not found., Thumbprint of key used by client: '{}', Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '{app_id}'. Review the documentation at https://docs.microsoft.com/en-us/graph/deployments to determine the corresponding service endpoint and https://docs.microsoft.com/en-us/graph/api/application-get?view=graph-rest-1.0&tabs=http to build a query request URL, such as 'https://graph.microsoft.com/beta/applications/{app_id}']",
                thumbprint_hex(presented),
                app_id = app.client_id,
            ),
        ));
    };
    let mut validation = Validation::new(header.alg);
    // Time, audience and issuer are checked below, with Entra's own refusals.
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    let claims = match jsonwebtoken::decode::<Value>(
        assertion,
        &certificate.decoding_key(),
        &validation,
    ) {
        Ok(data) => data.claims,
        Err(error) if matches!(error.kind(), ErrorKind::InvalidSignature) => {
            let found = |at: DateTime<Utc>| at.format("%m/%d/%Y %H:%M:%S").to_string();
            return Err(AadError::invalid_client(
                700027,
                format!(
                    "Client assertion contains an invalid signature. [Reason - Key was found, but use of the key to verify the signature failed., Thumbprint of key used by client: '{}', Found key 'Start={}, End={}']",
                    certificate.thumbprint(),
                    found(certificate.not_before()),
                    found(certificate.not_after()),
                ),
            ));
        }
        Err(_) => return Err(malformed()),
    };
    check_audience(state, segment, &claims)?;
    let (issuer, subject) = (claims["iss"].as_str(), claims["sub"].as_str());
    if subject != issuer {
        return Err(AadError::invalid_client(
            50048,
            "Subject mismatches Issuer claim in the client assertion.",
        ));
    }
    if !issuer.is_some_and(|issuer| issuer.eq_ignore_ascii_case(&app.client_id)) {
        return Err(AadError::invalid_client(
            50027,
            format!("Invalid JWT token. Unexpected issuer: the client assertion's 'iss' and 'sub' must be the client id '{}'.", app.client_id),
        ));
    }
    check_time(state, &claims)
}

/// `aud` must be one token endpoint of this tenant on this sandbox: by tenant id, by a verified domain,
/// or by the `{tenant}` segment the request was sent to.
fn check_audience(state: &AppState, segment: &str, claims: &Value) -> Result<(), AadError> {
    let audiences: Vec<&str> = match &claims["aud"] {
        Value::String(audience) => vec![audience.as_str()],
        Value::Array(values) => values.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    if audiences.len() > 1 {
        return Err(AadError::invalid_client(
            5002741,
            format!(
                "Number of audience values in the provided client credential exceed maximum allowed. {} audience values provided, maximum allowed is 1.",
                audiences.len()
            ),
        ));
    }
    let tenant = state.tenant();
    let normalise = |url: &str| url.trim().trim_end_matches('/').to_ascii_lowercase();
    let tenant_id = tenant.id.to_string();
    let accepted: Vec<String> = std::iter::once(tenant_id.as_str())
        .chain(tenant.domains.iter().map(String::as_str))
        .chain(std::iter::once(segment))
        .map(|segment| normalise(state.url(&format!("{segment}/oauth2/v2.0/token")).as_str()))
        .collect();
    let matches = audiences
        .first()
        .is_some_and(|audience| accepted.contains(&normalise(audience)));
    if matches {
        Ok(())
    } else {
        Err(AadError::invalid_client(
            50012,
            "Client assertion audience claim does not match Realm issuer.",
        ))
    }
}

/// `nbf` ≤ now < `exp`, give or take [`CLOCK_SKEW_SECS`], against the sandbox clock.
fn check_time(state: &AppState, claims: &Value) -> Result<(), AadError> {
    let Some(expiry) = claims["exp"].as_i64() else {
        return Err(AadError::invalid_client(
            50027,
            "JWT token is invalid or malformed.",
        ));
    };
    let not_before = claims["nbf"].as_i64();
    let now = state.now();
    let current = now.timestamp();
    let expired = current >= expiry.saturating_add(CLOCK_SKEW_SECS);
    let early = not_before.is_some_and(|nbf| nbf > current.saturating_add(CLOCK_SKEW_SECS));
    if !expired && !early {
        return Ok(());
    }
    let seven = |seconds: i64| {
        DateTime::from_timestamp(seconds, 0)
            .map_or_else(String::new, |at| format!("{}Z", seven_digit_fraction(at)))
    };
    Err(AadError::invalid_client(
        700024,
        format!(
            "Client assertion is not within its valid time range. Current time: {}Z, assertion valid from {}, expiry time of assertion {}. Review the documentation at {DOCUMENTATION} .",
            seven_digit_fraction(now),
            seven(not_before.unwrap_or(0)),
            seven(expiry),
        ),
    ))
}

/// The presented thumbprint in upper-case hex, as Entra prints it (the raw value if it is no base64).
fn thumbprint_hex(presented: &str) -> String {
    let trimmed = presented.trim_end_matches('=');
    URL_SAFE_NO_PAD
        .decode(trimmed)
        .or_else(|_| STANDARD_NO_PAD.decode(trimmed))
        .map_or_else(|_| presented.to_owned(), |bytes| hex_upper(&bytes))
}
