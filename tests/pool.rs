//! The PostgreSQL pool under pressure (issue 17): a push whose client gave up while the
//! write lock was held releases what it held and never stalls pulls; a pool whose every
//! connection stays busy answers a clear 503 with `Retry-After` (logged as "pool
//! exhausted") instead of hanging or failing obscurely; `--pool-size` bounds connections.
//!
//! The write lock is held from outside, as a long push would hold it: a `psql` session
//! locks team north's version counter row for a few seconds.

mod support;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use support::body::{household, push_request, uid};
use support::http::{client, pull_raw, JsonReq};
use support::{add_officer, pg, TestServer};

/// A `psql` session holding team north's push lock (`team_versions ... FOR UPDATE`, the row
/// created first if the team never wrote) for `secs`.
fn hold_write_lock(db: &str, secs: u32) -> Child {
    let child = Command::new(pg::tool("psql"))
        .args([
            db,
            "-qAt",
            "-c",
            &format!(
                "INSERT INTO team_versions (team, version) VALUES ('north', 0) ON CONFLICT DO NOTHING; BEGIN; SELECT version FROM team_versions WHERE team = 'north' FOR UPDATE; SELECT pg_sleep({secs}); COMMIT;"
            ),
        ])
        .stdout(Stdio::null())
        .spawn()
        .expect("spawn psql");
    // Give the session time to take the lock.
    std::thread::sleep(Duration::from_millis(500));
    child
}

/// Sends one push of a new household with a client timeout; the status, or `None` when the
/// client gave up.
fn push_with_timeout(url: &str, token: &str, timeout: Duration) -> Option<StatusCode> {
    let body = push_request(uid(), vec![household(uid(), "x")]);
    reqwest::blocking::Client::builder()
        .timeout(timeout)
        .build()
        .expect("client")
        .post(format!("{url}/v1/push"))
        .bearer_auth(token)
        .json_body(&body)
        .send()
        .ok()
        .map(|r| r.status())
}

#[test]
fn an_abandoned_push_does_not_stall_pulls() {
    let db = pg::fresh_database();
    let server = TestServer::start_with_args(&db, &["--pool-size", "4"]);
    let token = add_officer(&db, "amina", "north");
    let mut lock = hold_write_lock(&db, 4);
    // The client gives up while the push waits for the lock.
    assert_eq!(
        push_with_timeout(&server.url, &token, Duration::from_millis(700)),
        None
    );
    // Pulls read without the lock: each answers at once, well before the lock is released.
    for _ in 0..5 {
        let started = Instant::now();
        let (status, body) = pull_raw(&server.url, &token, "");
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "a pull took {:?}",
            started.elapsed()
        );
    }
    lock.wait().expect("psql ends");
    // Once the lock is free, the abandoned push has either committed or rolled back, and
    // the pool still serves pushes and pulls.
    assert_eq!(
        push_with_timeout(&server.url, &token, Duration::from_secs(10)),
        Some(StatusCode::OK)
    );
    assert_eq!(pull_raw(&server.url, &token, "").0, StatusCode::OK);
}

#[test]
fn an_exhausted_pool_answers_503_with_retry_after() {
    let db = pg::fresh_database();
    let server = TestServer::start_with_args(&db, &["--pool-size", "2"]);
    let token = add_officer(&db, "amina", "north");
    let mut lock = hold_write_lock(&db, 9);
    // Two pushes wait for the lock, each holding one of the two pooled connections.
    let pushers: Vec<_> = (0..2)
        .map(|_| {
            let (url, token) = (server.url.clone(), token.clone());
            std::thread::spawn(move || push_with_timeout(&url, &token, Duration::from_secs(30)))
        })
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    let started = Instant::now();
    let r = client()
        .get(format!("{}/v1/pull", server.url))
        .bearer_auth(&token)
        .send()
        .expect("pull answers");
    let waited = started.elapsed();
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(r.headers().contains_key("retry-after"), "{:?}", r.headers());
    let body: serde_json::Value =
        serde_json::from_slice(&r.bytes().expect("body")).expect("JSON error body");
    assert_eq!(body["error"]["code"], "unavailable", "{body}");
    assert!(
        waited >= Duration::from_secs(4) && waited < Duration::from_secs(8),
        "{waited:?}"
    );
    lock.wait().expect("psql ends");
    for p in pushers {
        assert_eq!(p.join().expect("pusher"), Some(StatusCode::OK));
    }
    // The pool recovers by itself.
    assert_eq!(pull_raw(&server.url, &token, "").0, StatusCode::OK);
}
