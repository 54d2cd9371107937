//! The structured request log: operation, URL, status, response code and timing of every request.
//! It never holds bodies, credentials or tokens, so it is safe to export.

use std::sync::{Arc, Mutex};

use serde::Serialize;

/// One request as it appears in the validation log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestRecord {
    /// What was attempted (`GetFolder`, `Autodiscover POX`, `token`, ...).
    pub operation: String,
    /// HTTP method.
    pub method: String,
    /// The logical URL (before any test routing); never carries credentials.
    pub url: String,
    /// HTTP status, when a response arrived.
    pub status: Option<u16>,
    /// EWS `ResponseCode` (or fault code), when there was one.
    pub response_code: Option<String>,
    /// Wall time of the request in milliseconds.
    pub duration_ms: u64,
    /// Transport failure or other short note.
    pub note: Option<String>,
}

/// A shared, append-only list of [`RequestRecord`]s.
#[derive(Debug, Clone, Default)]
pub struct RequestLog {
    records: Arc<Mutex<Vec<RequestRecord>>>,
}

impl RequestLog {
    /// Appends a record.
    pub fn push(&self, record: RequestRecord) {
        tracing::debug!(operation = %record.operation, url = %record.url, status = ?record.status,
            response_code = ?record.response_code, duration_ms = record.duration_ms, "ews request");
        if let Ok(mut records) = self.records.lock() {
            records.push(record);
        }
    }

    /// Number of records so far (a cursor for [`RequestLog::since`]).
    pub fn len(&self) -> usize {
        self.records
            .lock()
            .map(|records| records.len())
            .unwrap_or(0)
    }

    /// `true` when nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Records appended since `cursor`.
    pub fn since(&self, cursor: usize) -> Vec<RequestRecord> {
        self.records
            .lock()
            .map(|records| records.get(cursor..).unwrap_or_default().to_vec())
            .unwrap_or_default()
    }
}
