//! The request journal: every request the emulator received (data plane, Entra, IMDS, ...), oldest
//! first, with secrets masked. `/_emulator/*` requests are not recorded.
//!
//! JSON shape of one entry (`GET /_emulator/requests` returns an array of these):
//!
//! ```json
//! {"method": "POST",
//!  "path": "/openai/deployments/gpt-4o/chat/completions",
//!  "query": {"api-version": "2024-10-21"},
//!  "headers": {"api-key": "***", "content-type": "application/json", "authorization": "Bearer ***"},
//!  "body": {"messages": [...]}}
//! ```
//!
//! * `query`: the decoded pairs as an object of strings (a repeated name keeps the last value).
//! * `headers`: lower-case names; a repeated header's values are joined with `, `. The values of
//!   `api-key`, `authorization`, `x-identity-header`, `secret`, `cookie`, `set-cookie`,
//!   `ocp-apim-subscription-key` and `metadata-secret` are masked as `***`, keeping the scheme of an
//!   `authorization` value (`Bearer ***`).
//! * `body`: the JSON value for a JSON body; an object of strings for
//!   `application/x-www-form-urlencoded` (with `client_secret`, `client_assertion`, `password`,
//!   `refresh_token` and `assertion` masked); otherwise the body as a (lossy UTF-8) string; `null`
//!   when the body is empty.

use std::{collections::VecDeque, sync::Mutex};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Text that replaces a secret.
pub const MASK: &str = "***";

/// Header names whose values are secrets.
const SECRET_HEADERS: &[&str] = &[
    "api-key",
    "authorization",
    "x-identity-header",
    "secret",
    "cookie",
    "set-cookie",
    "ocp-apim-subscription-key",
    "metadata-secret",
];

/// Form fields whose values are secrets.
const SECRET_FORM_FIELDS: &[&str] = &[
    "client_secret",
    "client_assertion",
    "password",
    "refresh_token",
    "assertion",
];

/// One recorded request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JournalEntry {
    /// HTTP method, upper case.
    pub method: String,
    /// Path without the query.
    pub path: String,
    /// Decoded query pairs.
    pub query: Map<String, Value>,
    /// Headers by lower-case name, secrets masked.
    pub headers: Map<String, Value>,
    /// Body: JSON value, form object, string, or `null` when empty.
    pub body: Value,
}

impl JournalEntry {
    /// Builds an entry from the parts of a request, masking secrets.
    pub fn from_parts(parts: &http::request::Parts, body: &[u8]) -> Self {
        let query = parts
            .uri
            .query()
            .map(|q| {
                url::form_urlencoded::parse(q.as_bytes())
                    .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
                    .collect()
            })
            .unwrap_or_default();
        let mut headers = Map::new();
        for (name, value) in &parts.headers {
            let text = String::from_utf8_lossy(value.as_bytes()).into_owned();
            let text = if SECRET_HEADERS.contains(&name.as_str()) {
                mask_header_value(&text)
            } else {
                text
            };
            match headers.get_mut(name.as_str()) {
                Some(Value::String(prev)) => {
                    prev.push_str(", ");
                    prev.push_str(&text);
                }
                _ => {
                    headers.insert(name.as_str().to_owned(), Value::String(text));
                }
            }
        }
        let content_type = parts
            .headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        Self {
            method: parts.method.as_str().to_owned(),
            path: parts.uri.path().to_owned(),
            query,
            headers,
            body: body_value(content_type, body),
        }
    }
}

/// `Bearer abc` -> `Bearer ***`; `abc` -> `***`.
fn mask_header_value(value: &str) -> String {
    match value.split_once(' ') {
        Some((scheme, _)) if !scheme.is_empty() => format!("{scheme} {MASK}"),
        _ => MASK.to_owned(),
    }
}

fn body_value(content_type: &str, body: &[u8]) -> Value {
    if body.is_empty() {
        return Value::Null;
    }
    let ct = content_type.to_ascii_lowercase();
    if ct.starts_with("application/x-www-form-urlencoded") {
        let map: Map<String, Value> = url::form_urlencoded::parse(body)
            .map(|(k, v)| {
                let v = if SECRET_FORM_FIELDS.contains(&k.as_ref()) {
                    MASK.to_owned()
                } else {
                    v.into_owned()
                };
                (k.into_owned(), Value::String(v))
            })
            .collect();
        return Value::Object(map);
    }
    if (ct.is_empty() || ct.contains("json"))
        && let Ok(v) = serde_json::from_slice::<Value>(body)
    {
        return v;
    }
    Value::String(String::from_utf8_lossy(body).into_owned())
}

/// The journal: a bounded, append-only list behind a short lock.
#[derive(Debug)]
pub struct Journal {
    enabled: bool,
    limit: usize,
    entries: Mutex<VecDeque<JournalEntry>>,
}

impl Journal {
    /// A journal keeping at most `limit` entries; `enabled = false` records nothing.
    pub fn new(enabled: bool, limit: usize) -> Self {
        Self {
            enabled,
            limit: limit.max(1),
            entries: Mutex::new(VecDeque::new()),
        }
    }

    /// Whether requests are recorded.
    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// Appends an entry, dropping the oldest beyond the limit.
    pub fn push(&self, entry: JournalEntry) {
        if !self.enabled {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= self.limit {
            entries.pop_front();
        }
        entries.push_back(entry);
    }

    /// All entries, oldest first.
    pub fn entries(&self) -> Vec<JournalEntry> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.iter().cloned().collect()
    }

    /// Forgets every entry.
    pub fn clear(&self) {
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(req: http::Request<()>) -> http::request::Parts {
        req.into_parts().0
    }

    #[test]
    fn masks_secret_headers_keeping_the_scheme() {
        let p = parts(
            http::Request::post("/openai/v1/chat/completions?api-version=2024-10-21&x=a%20b")
                .header("API-Key", "k1")
                .header("Authorization", "Bearer eyJ.abc.def")
                .header("X-IDENTITY-HEADER", "h")
                .header("content-type", "application/json")
                .body(())
                .unwrap(),
        );
        let e = JournalEntry::from_parts(&p, br#"{"a":1}"#);
        assert_eq!(e.headers["api-key"], "***");
        assert_eq!(e.headers["authorization"], "Bearer ***");
        assert_eq!(e.headers["x-identity-header"], "***");
        assert_eq!(e.query["api-version"], "2024-10-21");
        assert_eq!(e.query["x"], "a b");
        assert_eq!(e.body["a"], 1);
    }

    #[test]
    fn masks_form_secrets_and_keeps_other_bodies() {
        let p = parts(
            http::Request::post("/t/oauth2/v2.0/token")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(())
                .unwrap(),
        );
        let e = JournalEntry::from_parts(&p, b"grant_type=client_credentials&client_secret=s3cr3t");
        assert_eq!(e.body["grant_type"], "client_credentials");
        assert_eq!(e.body["client_secret"], "***");
        let p = parts(http::Request::post("/x").body(()).unwrap());
        assert_eq!(JournalEntry::from_parts(&p, b"").body, Value::Null);
        assert_eq!(JournalEntry::from_parts(&p, b"not json").body, "not json");
    }

    #[test]
    fn is_bounded_and_can_be_disabled() {
        let j = Journal::new(true, 2);
        let p = parts(http::Request::get("/a").body(()).unwrap());
        for _ in 0..3 {
            j.push(JournalEntry::from_parts(&p, b""));
        }
        assert_eq!(j.entries().len(), 2);
        j.clear();
        assert!(j.entries().is_empty());
        let off = Journal::new(false, 10);
        off.push(JournalEntry::from_parts(&p, b""));
        assert!(off.entries().is_empty());
    }
}
