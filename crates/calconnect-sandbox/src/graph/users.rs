//! `GET /users` (Graph "List users"): `$select`, `$top`, server-driven paging with `@odata.nextLink`, and
//! the `$filter`s a client needs to find a mailbox: `proxyAddresses/any(x:x eq 'smtp:…')`, `eq` on
//! `userPrincipalName`, `mail` and `displayName`, `startsWith`, and (advanced queries only) `endsWith`.
//!
//! Permissions (learn.microsoft.com/graph/api/user-list, "Permissions"): application `User.Read.All`
//! (higher `User.ReadWrite.All`, `Directory.Read.All`, `Directory.ReadWrite.All`); delegated
//! `User.ReadBasic.All` and higher. A token with none gets the directory's 403
//! `Authorization_RequestDenied`.
//!
//! Advanced queries (learn.microsoft.com/graph/aad-advanced-queries; microsoft-graph-docs-contrib
//! concepts/aad-advanced-queries.md): `eq` on `proxyAddresses` with `any` works by default; `endsWith`
//! needs `ConsistencyLevel: eventual` *and* `$count=true`, else 400 `Request_UnsupportedQuery`
//! "Operator 'endsWith' is not supported because the required parameters might be missing. …";
//! `$count=true` without the header is silently ignored (no `@odata.count`).

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;

use crate::graph::caller::Bearer;
use crate::graph::error::GraphError;
use crate::graph::query::{parameter, selected_properties};
use crate::state::AppState;
use crate::tenant::User;

/// Application or delegated permissions that read every user's full profile.
const FULL_PROFILE_PERMISSIONS: &[&str] = &[
    "User.Read.All",
    "User.ReadWrite.All",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
];

/// Graph's default page size for users ("List users": "…returns up to 100 objects by default";
/// learn.microsoft.com/graph/paging: a client must follow `@odata.nextLink` and never assume a size).
pub const DEFAULT_USERS_PAGE_SIZE: usize = 100;

/// The properties "List users" returns without `$select`.
const DEFAULT_PROPERTIES: &[&str] = &[
    "businessPhones",
    "displayName",
    "givenName",
    "jobTitle",
    "mail",
    "mobilePhone",
    "officeLocation",
    "preferredLanguage",
    "surname",
    "userPrincipalName",
    "id",
];

/// The basic profile a `User.ReadBasic.All`-only token may read.
const BASIC_PROPERTIES: &[&str] = &[
    "displayName",
    "givenName",
    "mail",
    "surname",
    "userPrincipalName",
    "id",
];

/// Every property this sandbox can render, in Graph's spelling.
const KNOWN_PROPERTIES: &[&str] = &[
    "id",
    "displayName",
    "givenName",
    "surname",
    "userPrincipalName",
    "mail",
    "jobTitle",
    "officeLocation",
    "department",
    "preferredLanguage",
    "businessPhones",
    "mobilePhone",
    "userType",
    "accountEnabled",
    "proxyAddresses",
];

/// One user's value of `property` (Graph spelling).
fn property(user: &User, property: &str) -> serde_json::Value {
    use serde_json::json;
    match property {
        "id" => json!(user.id),
        "displayName" => json!(user.display_name),
        "givenName" => json!(user.given_name),
        "surname" => json!(user.surname),
        "userPrincipalName" => json!(user.user_principal_name),
        "mail" => json!(user.mail),
        "jobTitle" => json!(user.job_title),
        "officeLocation" => json!(user.office_location),
        "department" => json!(user.department),
        // The sandbox's users all work in English (as `GET /me` reports).
        "preferredLanguage" => json!("en-US"),
        "businessPhones" => json!([]),
        "mobilePhone" => serde_json::Value::Null,
        // Every demo account is a member, enabled (guests would be `Guest`).
        "userType" => json!("Member"),
        "accountEnabled" => json!(true),
        "proxyAddresses" => json!(user.proxy_addresses()),
        _ => serde_json::Value::Null,
    }
}

/// `$select`, resolved to Graph's spelling; unknown names are refused as the directory refuses them.
fn selected(query: &HashMap<String, String>) -> Result<Option<Vec<&'static str>>, GraphError> {
    selected_properties(query, KNOWN_PROPERTIES, |name| {
        // UNVERIFIED wording (commonly observed from the directory, not in a Microsoft page).
        GraphError::bad_request(
            "Request_BadRequest",
            format!("Parsing OData Select and Expand failed: Could not find a property named '{name}' on type 'microsoft.graph.user'."),
        )
    })
}

/// A parsed `$filter`.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Filter {
    /// `proxyAddresses/any(x:x eq 'v')`, `…/any(x:startsWith(x,'v'))`, `…/any(x:endsWith(x,'v'))`.
    ProxyAddresses(Operator, String),
    /// `property eq 'v'`, `startsWith(property,'v')`, `endsWith(property,'v')`.
    Property(&'static str, Operator, String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Operator {
    Eq,
    StartsWith,
    EndsWith,
}

/// Properties this sandbox filters on (all support `eq` and `startsWith` by default; `endsWith` on
/// `mail` and `userPrincipalName` needs advanced queries).
const FILTERABLE: &[&str] = &["userPrincipalName", "mail", "displayName", "id"];

fn unsupported_clause(property: &str) -> GraphError {
    // aad-advanced-queries.md, "Error handling": an operator the property does not support.
    GraphError::bad_request(
        "Request_UnsupportedQuery",
        format!("Unsupported or invalid query filter clause specified for property '{property}' of resource 'User'."),
    )
}

fn invalid_filter() -> GraphError {
    GraphError::bad_request("Request_BadRequest", "Invalid filter clause")
}

/// `'value'` with OData's doubled quotes.
fn string_literal(text: &str) -> Option<String> {
    let inner = text.trim().strip_prefix('\'')?.strip_suffix('\'')?;
    Some(inner.replace("''", "'"))
}

/// `name(arg,'value')` → (name, arg, value).
fn function_call(text: &str) -> Option<(Operator, String, String)> {
    let text = text.trim();
    let open = text.find('(')?;
    let name = &text[..open];
    let operator = if name.eq_ignore_ascii_case("startsWith") {
        Operator::StartsWith
    } else if name.eq_ignore_ascii_case("endsWith") {
        Operator::EndsWith
    } else {
        return None;
    };
    let arguments = text[open + 1..].strip_suffix(')')?;
    let (argument, value) = arguments.split_once(',')?;
    Some((operator, argument.trim().to_owned(), string_literal(value)?))
}

fn parse_filter(text: &str) -> Result<Filter, GraphError> {
    let text = text.trim();
    if let Some(rest) = text
        .get(..text.find('/').unwrap_or(0))
        .filter(|head| head.eq_ignore_ascii_case("proxyAddresses"))
        .map(|head| &text[head.len() + 1..])
    {
        let rest = rest.trim_start();
        let lambda = rest
            .get(..3)
            .filter(|any| any.eq_ignore_ascii_case("any"))
            .map(|_| rest[3..].trim())
            .ok_or_else(|| unsupported_clause("proxyAddresses"))?;
        let body = lambda
            .strip_prefix('(')
            .and_then(|body| body.strip_suffix(')'))
            .ok_or_else(invalid_filter)?;
        let (variable, predicate) = body.split_once(':').ok_or_else(invalid_filter)?;
        let variable = variable.trim();
        if let Some((operator, argument, value)) = function_call(predicate) {
            if argument != variable {
                return Err(invalid_filter());
            }
            return Ok(Filter::ProxyAddresses(operator, value));
        }
        let mut parts = predicate.trim().splitn(3, ' ');
        let (Some(left), Some(operator), Some(value)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(invalid_filter());
        };
        if left != variable || !operator.eq_ignore_ascii_case("eq") {
            return Err(unsupported_clause("proxyAddresses"));
        }
        let value = string_literal(value).ok_or_else(invalid_filter)?;
        return Ok(Filter::ProxyAddresses(Operator::Eq, value));
    }
    let known = |name: &str| {
        FILTERABLE
            .iter()
            .find(|known| known.eq_ignore_ascii_case(name.trim()))
            .copied()
    };
    if let Some((operator, argument, value)) = function_call(text) {
        let property = known(&argument).ok_or_else(|| unsupported_clause(&argument))?;
        return Ok(Filter::Property(property, operator, value));
    }
    let mut parts = text.splitn(3, ' ');
    let (Some(left), Some(operator), Some(value)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(invalid_filter());
    };
    let property = known(left).ok_or_else(|| unsupported_clause(left))?;
    if !operator.eq_ignore_ascii_case("eq") {
        return Err(unsupported_clause(property));
    }
    let value = string_literal(value).ok_or_else(invalid_filter)?;
    Ok(Filter::Property(property, Operator::Eq, value))
}

/// Directory string comparisons ignore case (ASSUMPTION: observed behaviour of `eq` on
/// `userPrincipalName`, `mail` and `proxyAddresses`; the docs do not say).
fn compare(operator: Operator, candidate: &str, value: &str) -> bool {
    let (candidate, value) = (candidate.to_lowercase(), value.to_lowercase());
    match operator {
        Operator::Eq => candidate == value,
        Operator::StartsWith => candidate.starts_with(&value),
        Operator::EndsWith => candidate.ends_with(&value),
    }
}

impl Filter {
    fn operator(&self) -> Operator {
        match self {
            Self::ProxyAddresses(operator, _) | Self::Property(_, operator, _) => *operator,
        }
    }

    fn matches(&self, user: &User) -> bool {
        match self {
            Self::ProxyAddresses(operator, value) => user
                .proxy_addresses()
                .iter()
                .any(|address| compare(*operator, address, value)),
            Self::Property(name, operator, value) => property(user, name)
                .as_str()
                .is_some_and(|candidate| compare(*operator, candidate, value)),
        }
    }
}

/// The opaque `$skiptoken` of the page starting at `offset`.
fn skip_token(offset: usize) -> String {
    URL_SAFE_NO_PAD.encode(format!("users-offset:{offset}"))
}

fn offset_of(token: &str) -> Option<usize> {
    let decoded = URL_SAFE_NO_PAD.decode(token).ok()?;
    String::from_utf8(decoded)
        .ok()?
        .strip_prefix("users-offset:")?
        .parse()
        .ok()
}

/// `GET /v1.0/users`.
pub async fn list(
    State(state): State<AppState>,
    bearer: Bearer,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, GraphError> {
    let full = bearer.has_any(FULL_PROFILE_PERMISSIONS);
    if !full && !bearer.has_any(&["User.ReadBasic.All"]) {
        return Err(GraphError::insufficient_privileges());
    }
    let advanced = headers
        .get("consistencylevel")
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.trim().eq_ignore_ascii_case("eventual"))
        && parameter(&query, "$count").is_some_and(|count| count.eq_ignore_ascii_case("true"));
    let filter = parameter(&query, "$filter").map(parse_filter).transpose()?;
    if filter
        .as_ref()
        .is_some_and(|filter| filter.operator() == Operator::EndsWith)
        && !advanced
    {
        return Err(GraphError::bad_request(
            "Request_UnsupportedQuery",
            "Operator 'endsWith' is not supported because the required parameters might be missing. Try adding $count=true query parameter and ConsistencyLevel:eventual header. Refer to https://aka.ms/graph-docs/advanced-queries for more information",
        ));
    }
    let select = selected(&query)?;
    let page_size = match parameter(&query, "$top") {
        Some(top) => match top.parse::<usize>() {
            Ok(top @ 1..=999) => top,
            // Observed directory answer (turbot/steampipe-plugin-azuread, azuread_user.go).
            _ => {
                return Err(GraphError::bad_request(
                    "Request_UnsupportedQuery",
                    format!(
                    "Invalid page size specified: '{top}'. Must be between 1 and 999 inclusive."
                ),
                ))
            }
        },
        None => state
            .tenant()
            .graph
            .users_page_size
            .unwrap_or(DEFAULT_USERS_PAGE_SIZE)
            .max(1),
    };
    let offset = match parameter(&query, "$skiptoken") {
        Some(token) => offset_of(token).ok_or_else(|| {
            GraphError::bad_request("Request_BadRequest", "The specified page token value has expired and can no longer be included in your request.")
        })?,
        None => 0,
    };
    let matching: Vec<&User> = state
        .tenant()
        .users
        .iter()
        .filter(|user| filter.as_ref().is_none_or(|filter| filter.matches(user)))
        .collect();
    let properties: Vec<&str> = select
        .clone()
        .unwrap_or_else(|| DEFAULT_PROPERTIES.to_vec());
    let page: Vec<serde_json::Value> = matching
        .iter()
        .skip(offset)
        .take(page_size)
        .map(|user| {
            let mut object = serde_json::Map::new();
            for name in &properties {
                let value = if full || BASIC_PROPERTIES.contains(name) {
                    property(user, name)
                } else {
                    serde_json::Value::Null
                };
                object.insert((*name).to_owned(), value);
            }
            serde_json::Value::Object(object)
        })
        .collect();
    let context = match &select {
        Some(properties) => format!(
            "{}v1.0/$metadata#users({})",
            state.base_url(),
            properties.join(",")
        ),
        None => format!("{}v1.0/$metadata#users", state.base_url()),
    };
    let mut body = serde_json::json!({ "@odata.context": context });
    if advanced {
        body["@odata.count"] = matching.len().into();
    }
    if offset + page_size < matching.len() {
        let mut url = state.url("v1.0/users");
        {
            let mut pairs = url.query_pairs_mut();
            let mut kept: Vec<(&String, &String)> = query
                .iter()
                .filter(|(key, _)| !key.eq_ignore_ascii_case("$skiptoken"))
                .collect();
            kept.sort();
            for (key, value) in kept {
                pairs.append_pair(key, value);
            }
            pairs.append_pair("$skiptoken", &skip_token(offset + page_size));
        }
        body["@odata.nextLink"] = url.to_string().into();
    }
    body["value"] = page.into();
    Ok(Json(body).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_parse_as_graph_writes_them() {
        assert_eq!(
            parse_filter("proxyAddresses/any(x:x eq 'smtp:adele@contoso.com')").unwrap(),
            Filter::ProxyAddresses(Operator::Eq, "smtp:adele@contoso.com".to_owned())
        );
        assert_eq!(
            parse_filter("proxyAddresses/any (p:endsWith(p, 'OnMicrosoft.com'))").unwrap(),
            Filter::ProxyAddresses(Operator::EndsWith, "OnMicrosoft.com".to_owned())
        );
        assert_eq!(
            parse_filter("userPrincipalName eq 'o''brien@contoso.com'").unwrap(),
            Filter::Property(
                "userPrincipalName",
                Operator::Eq,
                "o'brien@contoso.com".to_owned()
            )
        );
        assert!(parse_filter("jobTitle eq 'x'").is_err());
        assert!(parse_filter("proxyAddresses/any(x:x ne 'a')").is_err());
        assert!(parse_filter("nonsense").is_err());
    }

    #[test]
    fn skip_tokens_round_trip() {
        assert_eq!(offset_of(&skip_token(42)), Some(42));
        assert_eq!(offset_of("garbage"), None);
    }
}
