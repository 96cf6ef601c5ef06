//! The OpenAPI document of `/v1` (issue 12, item 6) against the real thing: the server serves
//! exactly `docs/openapi.json`; every example body in it parses into the real protocol type
//! its schema names and says nothing that type would drop; the documented paths and methods
//! are the router's, and the statuses the server really answers are documented. Schemathesis
//! (`.ci/schemathesis`) then fuzzes a live server on each store from the same document.

mod support;

use std::collections::BTreeSet;

use fieldsync::protocol::{
    ErrorBody, ErrorCode, HealthResponse, PullResponse, PushRequest, PushResponse, PATH_HEALTH,
    PATH_PULL, PATH_PUSH,
};
use fieldsync::server::http::openapi::{OPENAPI_JSON, PATH_OPENAPI};
use fieldsync::server::http::PATH_READY;
use reqwest::blocking::Client;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};
use support::{both_stores, StoreKind, TestServer};

fn doc() -> Value {
    serde_json::from_str(OPENAPI_JSON).expect("docs/openapi.json is JSON")
}

/// Equal, except that an absent key, `null` and an empty object or list (a type's default)
/// are the same.
fn same(a: &Value, b: &Value) -> bool {
    let empty = |v: &Value| {
        v.is_null()
            || v.as_object().is_some_and(|o| o.is_empty())
            || v.as_array().is_some_and(|l| l.is_empty())
    };
    if empty(a) && empty(b) {
        return true;
    }
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => x.keys().chain(y.keys()).all(|k| {
            same(
                x.get(k).unwrap_or(&Value::Null),
                y.get(k).unwrap_or(&Value::Null),
            )
        }),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(p, q))
        }
        _ => a == b,
    }
}

/// Parses `example` into `T` and checks nothing was dropped or changed on the way back.
fn round_trip<T: DeserializeOwned + Serialize>(example: &Value, at: &str) {
    let parsed: T = serde_json::from_value(example.clone())
        .unwrap_or_else(|e| panic!("{at}: the example does not parse: {e}"));
    let back = serde_json::to_value(&parsed).unwrap();
    assert!(
        same(example, &back),
        "{at}: the type drops or changes part of the example:\n{example}\n{back}"
    );
}

/// Checks one example against the schema it is documented with.
fn check_example(schema: &Value, example: &Value, at: &str) {
    let name = schema["$ref"]
        .as_str()
        .and_then(|r| r.rsplit('/').next())
        .unwrap_or("");
    match name {
        "PushRequest" => round_trip::<PushRequest>(example, at),
        "PushResponse" => round_trip::<PushResponse>(example, at),
        "PullResponse" => round_trip::<PullResponse>(example, at),
        "HealthResponse" => round_trip::<HealthResponse>(example, at),
        "ErrorBody" => round_trip::<ErrorBody>(example, at),
        "ReadyResponse" => {
            let keys: BTreeSet<&str> = example
                .as_object()
                .unwrap()
                .keys()
                .map(|k| k.as_str())
                .collect();
            assert!(
                keys.is_subset(&BTreeSet::from(["status", "store", "reason"])),
                "{at}"
            );
            assert!(
                ["ready", "unavailable"].contains(&example["status"].as_str().unwrap()),
                "{at}"
            );
        }
        other => panic!("{at}: an example of {other:?}, which this test does not know"),
    }
}

#[test]
fn every_example_parses_into_the_real_types() {
    let doc = doc();
    let mut checked = 0;
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            let mut bodies = Vec::new();
            if let Some(b) = op.get("requestBody") {
                bodies.push(("request".to_string(), &b["content"]["application/json"]));
            }
            for (code, r) in op["responses"].as_object().unwrap() {
                if let Some(c) = r.get("content") {
                    bodies.push((code.clone(), &c["application/json"]));
                }
            }
            for (what, media) in bodies {
                if let Some(ex) = media.get("example") {
                    check_example(&media["schema"], ex, &format!("{method} {path} {what}"));
                    checked += 1;
                }
            }
        }
    }
    assert!(checked >= 15, "only {checked} examples checked");
}

#[test]
fn the_documented_error_codes_are_the_servers() {
    let doc = doc();
    for code in doc["components"]["schemas"]["ApiError"]["properties"]["code"]["enum"]
        .as_array()
        .unwrap()
    {
        let parsed: ErrorCode = serde_json::from_value(code.clone()).unwrap();
        assert_ne!(
            parsed,
            ErrorCode::Unknown,
            "{code} is not a code the server knows"
        );
        assert_eq!(json!(parsed), *code);
    }
}

/// The statuses documented for `method path`.
fn documented(doc: &Value, path: &str, method: &str) -> BTreeSet<u16> {
    doc["paths"][path][method]["responses"]
        .as_object()
        .unwrap_or_else(|| panic!("{method} {path} is not documented"))
        .keys()
        .map(|k| k.parse().unwrap())
        .collect()
}

fn documented_paths_and_statuses_match_the_router(kind: StoreKind) {
    let s = TestServer::new(kind);
    let token = s.add_officer("amina", "north");
    let doc = doc();
    let client = Client::new();
    // The router's paths are the documented ones, and only those.
    let routed = BTreeSet::from([PATH_PUSH, PATH_PULL, PATH_HEALTH, PATH_READY, PATH_OPENAPI]);
    let paths: BTreeSet<&str> = doc["paths"]
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    assert_eq!(paths, routed);
    // Each documented method is routed; every other method is 405.
    for path in &paths {
        for method in ["get", "post", "put", "delete", "patch"] {
            let req = client.request(method.to_uppercase().parse().unwrap(), s.at(path));
            let status = req.body("{}").send().unwrap().status().as_u16();
            if doc["paths"][path].get(method).is_some() {
                assert!(
                    documented(&doc, path, method).contains(&status),
                    "{method} {path} answered {status}, which is not documented"
                );
            } else {
                assert_eq!(
                    status, 405,
                    "{method} {path} is not documented but answered {status}"
                );
            }
        }
    }
    // What the server really answers to good and bad requests is documented.
    let push = |body: String, headers: &[(&str, &str)], auth: bool| {
        let mut r = client.post(s.at(PATH_PUSH)).body(body);
        for (k, v) in headers {
            r = r.header(*k, *v);
        }
        if auth {
            r = r.bearer_auth(&token);
        }
        r.send().unwrap().status().as_u16()
    };
    let too_many: Vec<Value> = (0..501)
        .map(|_| support::body::household(support::body::uid(), "a"))
        .collect();
    let push_statuses = [
        push(
            support::body::push_request(support::body::uid(), vec![]).to_string(),
            &[],
            true,
        ),
        push("{not json".into(), &[], true),
        push("{}".into(), &[], false),
        push(
            support::body::push_request(support::body::uid(), too_many).to_string(),
            &[],
            true,
        ),
        push("{}".into(), &[("content-encoding", "br")], true),
        push("{}".into(), &[("content-type", "text/plain")], true),
    ];
    assert_eq!(push_statuses, [200, 400, 401, 413, 415, 415]);
    let pushes = documented(&doc, PATH_PUSH, "post");
    for st in push_statuses {
        assert!(
            pushes.contains(&st),
            "push answers {st}, which is not documented"
        );
    }
    let pull = |query: &str, auth: bool| {
        let mut r = client.get(format!("{}?{query}", s.at(PATH_PULL)));
        if auth {
            r = r.bearer_auth(&token);
        }
        r.send().unwrap().status().as_u16()
    };
    let pull_statuses = [
        pull("limit=10", true),
        pull("limit=0", true),
        pull("cursor=forged", true),
        pull("colour=red", true),
        pull("", false),
    ];
    assert_eq!(pull_statuses, [200, 400, 400, 400, 401]);
    let pulls = documented(&doc, PATH_PULL, "get");
    for st in pull_statuses {
        assert!(
            pulls.contains(&st),
            "pull answers {st}, which is not documented"
        );
    }
    // The document is served as kept in docs/.
    let served: Value = serde_json::from_str(
        &client
            .get(s.at(PATH_OPENAPI))
            .send()
            .unwrap()
            .text()
            .unwrap(),
    )
    .unwrap();
    let kept: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/openapi.json"))
            .unwrap(),
    )
    .unwrap();
    assert_eq!(served, kept);
}

both_stores!(documented_paths_and_statuses_match_the_router);
