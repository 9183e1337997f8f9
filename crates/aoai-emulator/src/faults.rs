//! Scripted faults: a queue of replies that replace the emulator's real answer, per path.
//!
//! JSON contract (`POST /_emulator/faults` takes one object or an array; `DELETE` clears):
//!
//! ```json
//! {"path": "/openai/deployments/gpt-4o/chat/completions",
//!  "method": "POST",
//!  "kind": "reply",
//!  "status": 503,
//!  "headers": {"retry-after-ms": "10"},
//!  "body": {"error": {"code": "ServiceUnavailable", "message": "..."}},
//!  "delay_ms": 0,
//!  "times": 1}
//! ```
//!
//! * `path`: exact request path without the query, or `"*"` for any path.
//! * `method`: optional; any method when absent.
//! * `kind` (default `reply`):
//!   * `reply` — answer `status` (default 500), `headers` and `body` (a JSON value is sent as JSON,
//!     a string as-is) after `delay_ms`, instead of the real answer;
//!   * `reset` — close the connection without any response;
//!   * `reset_mid_body` — send the real status, headers and about half of the real body, then drop
//!     the connection;
//!   * `cut_stream` — send the real answer but end the body cleanly before `data: [DONE]`;
//!   * `stall` — never answer (the connection stays open until the client gives up).
//! * `delay_ms`: wait this long before acting (all kinds). Default 0.
//! * `times`: how many matching requests the fault applies to. Default 1.
//!
//! A request takes the first queued fault whose `path` and `method` match, decrementing `times`.

use std::{
    collections::BTreeMap,
    sync::{
        Mutex,
        atomic::{AtomicUsize, Ordering},
    },
};

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What a fault does to the request it catches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// Send the scripted status/headers/body instead of the real answer.
    #[default]
    Reply,
    /// Close the connection without a response.
    Reset,
    /// Send the real headers and part of the real body, then drop the connection.
    ResetMidBody,
    /// Send the real (streamed) body but end it cleanly before `data: [DONE]`.
    CutStream,
    /// Never answer.
    Stall,
}

/// One scripted fault. Build with [`Fault::reply`], [`Fault::reset`], ... and the fluent setters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fault {
    /// Exact request path (no query), or `*` for any.
    pub path: String,
    /// Method to match; any when `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// What to do.
    #[serde(default)]
    pub kind: FaultKind,
    /// Status of a `reply`. Default 500.
    #[serde(default = "default_status")]
    pub status: u16,
    /// Headers of a `reply`.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Body of a `reply`: JSON, or a string sent verbatim.
    #[serde(default)]
    pub body: Value,
    /// Delay before acting, in milliseconds.
    #[serde(default)]
    pub delay_ms: u64,
    /// Number of requests this fault applies to.
    #[serde(default = "default_times")]
    pub times: u32,
}

fn default_status() -> u16 {
    500
}
fn default_times() -> u32 {
    1
}

impl Fault {
    fn new(path: impl Into<String>, kind: FaultKind) -> Self {
        Self {
            path: path.into(),
            method: None,
            kind,
            status: 500,
            headers: BTreeMap::new(),
            body: Value::Null,
            delay_ms: 0,
            times: 1,
        }
    }

    /// Reply `status` (with an empty body until [`Fault::body`] is set) on `path`.
    pub fn reply(path: impl Into<String>, status: u16) -> Self {
        Self {
            status,
            ..Self::new(path, FaultKind::Reply)
        }
    }

    /// Close the connection without an answer.
    pub fn reset(path: impl Into<String>) -> Self {
        Self::new(path, FaultKind::Reset)
    }

    /// Send headers and part of the real body, then drop the connection.
    pub fn reset_mid_body(path: impl Into<String>) -> Self {
        Self::new(path, FaultKind::ResetMidBody)
    }

    /// End a real stream cleanly before `data: [DONE]`.
    pub fn cut_stream(path: impl Into<String>) -> Self {
        Self::new(path, FaultKind::CutStream)
    }

    /// Never answer.
    pub fn stall(path: impl Into<String>) -> Self {
        Self::new(path, FaultKind::Stall)
    }

    /// Only for this method.
    pub fn method(mut self, method: impl Into<String>) -> Self {
        self.method = Some(method.into());
        self
    }

    /// Adds a reply header.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.insert(name.into(), value.into());
        self
    }

    /// Sets the reply body (a JSON value; a `Value::String` is sent verbatim).
    pub fn body(mut self, body: impl Into<Value>) -> Self {
        self.body = body.into();
        self
    }

    /// Waits this long before acting.
    pub fn delay_ms(mut self, ms: u64) -> Self {
        self.delay_ms = ms;
        self
    }

    /// Applies to this many requests.
    pub fn times(mut self, n: u32) -> Self {
        self.times = n;
        self
    }

    fn matches(&self, method: &str, path: &str) -> bool {
        (self.path == "*" || self.path == path)
            && self
                .method
                .as_deref()
                .is_none_or(|m| m.eq_ignore_ascii_case(method))
    }
}

/// One fault or a list of them, as `POST /_emulator/faults` accepts.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    /// A single fault object.
    One(Box<Fault>),
    /// An array of faults.
    Many(Vec<Fault>),
}

impl OneOrMany {
    /// The faults, in order.
    pub fn into_vec(self) -> Vec<Fault> {
        match self {
            Self::One(f) => vec![*f],
            Self::Many(v) => v,
        }
    }
}

/// The queue. Requests check an atomic counter first, so an empty queue costs no lock.
#[derive(Debug, Default)]
pub struct FaultQueue {
    len: AtomicUsize,
    queue: Mutex<Vec<Fault>>,
}

impl FaultQueue {
    /// Appends a fault (ignored when `times == 0`).
    pub fn push(&self, fault: Fault) {
        if fault.times == 0 {
            return;
        }
        let mut q = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        q.push(fault);
        self.len.store(q.len(), Ordering::Release);
    }

    /// Removes every fault.
    pub fn clear(&self) {
        let mut q = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        q.clear();
        self.len.store(0, Ordering::Release);
    }

    /// The faults still queued.
    pub fn pending(&self) -> Vec<Fault> {
        self.queue.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Takes one use of the first fault matching the request, if any.
    pub fn take(&self, method: &str, path: &str) -> Option<Fault> {
        if self.len.load(Ordering::Acquire) == 0 {
            return None;
        }
        let mut q = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        let i = q.iter().position(|f| f.matches(method, path))?;
        let fault = if q[i].times <= 1 {
            q.remove(i)
        } else {
            q[i].times -= 1;
            q[i].clone()
        };
        self.len.store(q.len(), Ordering::Release);
        Some(fault)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_json_contract_with_defaults() {
        let f: Fault = serde_json::from_str(r#"{"path":"/a","status":503}"#).unwrap();
        assert_eq!(f.kind, FaultKind::Reply);
        assert_eq!(f.times, 1);
        let many: OneOrMany = serde_json::from_str(
            r#"[{"path":"*","kind":"reset_mid_body"},{"path":"/b","kind":"stall","times":2}]"#,
        )
        .unwrap();
        let v = many.into_vec();
        assert_eq!(v[0].kind, FaultKind::ResetMidBody);
        assert_eq!(v[1].times, 2);
        assert!(serde_json::from_str::<Fault>(r#"{"path":"/a","kind":"explode"}"#).is_err());
    }

    #[test]
    fn takes_first_match_and_counts_down() {
        let q = FaultQueue::default();
        assert!(q.take("GET", "/x").is_none());
        q.push(Fault::reply("/a", 500).method("POST").times(2));
        q.push(Fault::reset("*"));
        assert!(q.take("GET", "/a").unwrap().kind == FaultKind::Reset);
        assert_eq!(q.take("post", "/a").unwrap().status, 500);
        assert_eq!(q.take("POST", "/a").unwrap().status, 500);
        assert!(q.take("POST", "/a").is_none());
        q.push(Fault::stall("/s"));
        q.clear();
        assert!(q.take("GET", "/s").is_none());
    }
}
