//! Blocking HTTP calls to a server's `/v1` for the integration tests: push, pull, error
//! codes, gzip. They send well-formed requests; hostile bytes go through `tests/hostile/raw.rs`.

use std::io::Write;
use std::time::Duration;

use fieldsync::protocol::{ChangeResult, ErrorBody, ErrorCode, PullResponse, PushResponse, Record};
use reqwest::blocking::Client;
use reqwest::StatusCode;
use serde_json::Value;
use uuid::Uuid;

use super::body::push_request;

/// Parses a response body as JSON (with a readable error).
pub trait JsonResp {
    fn json<T: serde::de::DeserializeOwned>(self) -> Result<T, String>;
}
impl JsonResp for reqwest::blocking::Response {
    fn json<T: serde::de::DeserializeOwned>(self) -> Result<T, String> {
        let b = self.bytes().map_err(|e| e.to_string())?;
        serde_json::from_slice(&b)
            .map_err(|e| format!("{e}: {:?}", String::from_utf8_lossy(&b[..b.len().min(300)])))
    }
}

/// A JSON request body (reqwest's `json` feature is not enabled in this crate).
pub trait JsonReq {
    fn json_body(self, v: &Value) -> Self;
}
impl JsonReq for reqwest::blocking::RequestBuilder {
    fn json_body(self, v: &Value) -> Self {
        self.header("Content-Type", "application/json")
            .body(serde_json::to_vec(v).expect("JSON values serialise"))
    }
}

pub fn client() -> Client {
    Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap()
}

pub fn pull_raw(url: &str, token: &str, query: &str) -> (StatusCode, Value) {
    let r = client()
        .get(format!("{url}/v1/pull{query}"))
        .bearer_auth(token)
        .send()
        .unwrap();
    let st = r.status();
    (st, r.json().unwrap())
}

pub fn pull_page(url: &str, token: &str, cursor: Option<&str>) -> PullResponse {
    let q = match cursor {
        Some(c) => format!("?cursor={c}&limit=1000"),
        None => "?limit=1000".to_string(),
    };
    let (st, body) = pull_raw(url, token, &q);
    assert_eq!(st, StatusCode::OK, "pull failed: {body}");
    serde_json::from_value(body).unwrap()
}

/// Pulls everything after `cursor`; returns the records and the last cursor.
pub fn pull_all(url: &str, token: &str, cursor: Option<&str>) -> (Vec<Record>, String) {
    let mut cur = cursor.map(str::to_string);
    let mut out = Vec::new();
    loop {
        let page = pull_page(url, token, cur.as_deref());
        out.extend(page.records);
        cur = Some(page.next_cursor);
        if !page.has_more {
            return (out, cur.unwrap());
        }
    }
}

pub fn error_code(body: &Value) -> ErrorCode {
    serde_json::from_value::<ErrorBody>(body.clone())
        .unwrap_or_else(|e| panic!("not an error body ({e}): {body}"))
        .error
        .code
}

pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// Sends a push; returns the status and the JSON body.
pub fn push_raw(url: &str, token: &str, body: &Value) -> (StatusCode, Value) {
    let r = client()
        .post(format!("{url}/v1/push"))
        .bearer_auth(token)
        .json_body(body)
        .send()
        .unwrap();
    let st = r.status();
    (st, r.json().unwrap())
}

/// Pushes changes from a device; asserts 200; returns the results.
pub fn push(url: &str, token: &str, device: Uuid, changes: Vec<Value>) -> Vec<ChangeResult> {
    let (st, body) = push_raw(url, token, &push_request(device, changes));
    assert_eq!(st, StatusCode::OK, "push failed: {body}");
    serde_json::from_value::<PushResponse>(body)
        .unwrap()
        .results
}
