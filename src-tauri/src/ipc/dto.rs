//! View types sent to the webview (camelCase JSON), converted from the app's own types.

use serde::Serialize;

/// What the welcome step shows about this build and its target cloud.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AppInfo {
    pub version: String,
    pub cloud: crate::Cloud,
    pub cloud_label: String,
}
