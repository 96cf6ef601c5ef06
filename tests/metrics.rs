//! `GET /metrics` (issue 17): a scrape after real traffic parses as the Prometheus text
//! format and counts what happened (requests by route and status, changes by outcome, the
//! push lock wait, the PostgreSQL pool); `--metrics off` hides it. Both stores.

mod support;

use std::collections::HashMap;

use reqwest::StatusCode;
use support::body::{household, uid};
use support::http::{client, pull_raw, push};
use support::{add_officer, both_stores, StoreKind, TestServer};

/// Parses the text format strictly enough to catch a malformed line: every sample is
/// `name{labels} value` or `name value` with a float value, every series has a `# TYPE`.
fn parse(text: &str) -> HashMap<String, f64> {
    let mut samples = HashMap::new();
    let mut typed = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let mut parts = rest.split(' ');
            typed.push(parts.next().expect("a name").to_string());
            let kind = parts.next().expect("a type");
            assert!(["counter", "gauge", "histogram"].contains(&kind), "{line}");
            continue;
        }
        if line.starts_with("# HELP ") {
            continue;
        }
        let (series, value) = line
            .rsplit_once(' ')
            .unwrap_or_else(|| panic!("no value: {line}"));
        let value: f64 = value
            .parse()
            .unwrap_or_else(|_| panic!("bad value: {line}"));
        let name = series.split('{').next().expect("a name");
        assert!(
            name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
            "bad name: {line}"
        );
        if let Some(labels) = series.strip_prefix(name) {
            if !labels.is_empty() {
                assert!(labels.starts_with('{') && labels.ends_with('}'), "{line}");
            }
        }
        let family = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|s| name.strip_suffix(s))
            .filter(|f| typed.iter().any(|t| t == f))
            .unwrap_or(name);
        assert!(typed.iter().any(|t| t == family), "no # TYPE for {line}");
        samples.insert(series.to_string(), value);
    }
    samples
}

fn scrape(server: &TestServer) -> (StatusCode, String) {
    let r = client().get(server.at("/metrics")).send().expect("scrape");
    let status = r.status();
    (status, r.text().expect("body"))
}

fn a_scrape_counts_the_traffic(kind: StoreKind) {
    let server = TestServer::new(kind);
    let token = server.add_officer("amina", "north");
    let h = uid();
    push(&server.url, &token, uid(), vec![household(h, "Mwangi")]);
    let again = support::body::update("household", h, 0, serde_json::json!({"name": "M"}));
    push(&server.url, &token, uid(), vec![again]);
    assert_eq!(pull_raw(&server.url, &token, "").0, StatusCode::OK);
    assert_eq!(
        pull_raw(&server.url, "wrong", "").0,
        StatusCode::UNAUTHORIZED
    );

    let (status, text) = scrape(&server);
    assert_eq!(status, StatusCode::OK, "{text}");
    let m = parse(&text);
    let get = |k: &str| {
        m.get(k)
            .copied()
            .unwrap_or_else(|| panic!("no {k} in\n{text}"))
    };
    assert_eq!(
        get(r#"fieldsync_requests_total{route="/v1/push",status="200"}"#),
        2.0
    );
    assert_eq!(
        get(r#"fieldsync_requests_total{route="/v1/pull",status="200"}"#),
        1.0
    );
    assert_eq!(
        get(r#"fieldsync_requests_total{route="/v1/pull",status="401"}"#),
        1.0
    );
    assert_eq!(
        get(r#"fieldsync_request_duration_seconds_count{route="/v1/push"}"#),
        2.0
    );
    assert_eq!(get(r#"fieldsync_changes_total{outcome="accepted"}"#), 1.0);
    assert_eq!(
        get(r#"fieldsync_changes_total{outcome="conflict"}"#)
            + get(r#"fieldsync_changes_total{outcome="rejected"}"#)
            + get(r#"fieldsync_changes_total{outcome="merged"}"#),
        1.0
    );
    assert_eq!(get("fieldsync_push_lock_wait_seconds_count{}"), 2.0);
    // The lock wait's parts: PostgreSQL's pool queue and team row lock, once per push; SQLite
    // has neither (its whole wait is the single writer's queue).
    let parts = match kind {
        StoreKind::Postgres => 2.0,
        StoreKind::Sqlite => 0.0,
    };
    assert_eq!(get("fieldsync_push_pool_wait_seconds_count{}"), parts);
    assert_eq!(get("fieldsync_push_team_lock_seconds_count{}"), parts);
    match kind {
        StoreKind::Postgres => {
            assert_eq!(get("fieldsync_pool_max_connections"), 16.0);
            assert!(get("fieldsync_pool_open_connections") >= 1.0);
        }
        StoreKind::Sqlite => assert!(!text.contains("fieldsync_pool_"), "{text}"),
    }
}

fn metrics_off_is_not_found(kind: StoreKind) {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = match kind {
        StoreKind::Sqlite => dir.path().join("s.sqlite3").display().to_string(),
        StoreKind::Postgres => support::pg::fresh_database(),
    };
    let server = TestServer::start_with_args(&db, &["--metrics", "off"]);
    let token = add_officer(&db, "amina", "north");
    assert_eq!(pull_raw(&server.url, &token, "").0, StatusCode::OK);
    assert_eq!(scrape(&server).0, StatusCode::NOT_FOUND);
}

both_stores!(a_scrape_counts_the_traffic, metrics_off_is_not_found);
