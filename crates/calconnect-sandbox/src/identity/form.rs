//! `application/x-www-form-urlencoded` bodies as the token endpoint reads them.

use std::collections::HashMap;

use axum::extract::{FromRequest, Request};
use axum::http::header::CONTENT_TYPE;

/// Parameters of a form body. A body of another content type reads as empty, which is how Entra
/// behaves: a JSON token request fails with "must contain the following parameter: 'grant_type'".
#[derive(Default)]
pub struct FormBody {
    parameters: HashMap<String, String>,
}

/// Names only: values include codes, verifiers, refresh tokens, secrets and passwords.
impl std::fmt::Debug for FormBody {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut names: Vec<&str> = self.parameters.keys().map(String::as_str).collect();
        names.sort_unstable();
        formatter
            .debug_struct("FormBody")
            .field("parameters", &names)
            .finish_non_exhaustive()
    }
}

impl FormBody {
    /// A parameter, `None` when absent or empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.parameters
            .get(name)
            .map(String::as_str)
            .filter(|value| !value.is_empty())
    }

    /// Whether the parameter was sent at all.
    pub fn contains(&self, name: &str) -> bool {
        self.parameters.contains_key(name)
    }
}

impl<S: Send + Sync> FromRequest<S> for FormBody {
    type Rejection = std::convert::Infallible;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_form = request
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|value| {
                value
                    .to_ascii_lowercase()
                    .starts_with("application/x-www-form-urlencoded")
            });
        if !is_form {
            return Ok(Self::default());
        }
        let bytes = match axum::body::Bytes::from_request(request, state).await {
            Ok(bytes) => bytes,
            Err(_) => return Ok(Self::default()),
        };
        let parameters = url::form_urlencoded::parse(&bytes).into_owned().collect();
        Ok(Self { parameters })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_lists_parameter_names_without_values() {
        let form = FormBody {
            parameters: [
                ("grant_type", "refresh_token"),
                ("refresh_token", "0.Asecret-refresh-token"),
                ("client_secret", "secret-value"),
            ]
            .into_iter()
            .map(|(name, value)| (name.to_owned(), value.to_owned()))
            .collect(),
        };
        let debug = format!("{form:?}");
        assert!(debug.contains("refresh_token") && debug.contains("client_secret"));
        assert!(!debug.contains("0.Asecret-refresh-token"), "{debug}");
        assert!(!debug.contains("secret-value"), "{debug}");
    }
}
