//! The single error shape every command rejects with: `{ code, message, nextStep }`.

use serde::Serialize;

/// Codes the UI branches on; anything else is `Internal`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ErrorCode {
    Internal,
}

/// A failed command as the webview sees it: a plain sentence and what to do next, never a secret.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IpcError {
    pub code: ErrorCode,
    pub message: String,
    pub next_step: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_shape_is_code_message_next_step() {
        let error = IpcError {
            code: ErrorCode::Internal,
            message: "something failed".into(),
            next_step: Some("try again".into()),
        };
        assert_eq!(
            serde_json::to_string(&error).unwrap(),
            r#"{"code":"Internal","message":"something failed","nextStep":"try again"}"#
        );
    }
}
