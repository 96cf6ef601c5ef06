//! An in-process, libFuzzer-free fuzzer of the server's request handling, run for a fixed
//! time (cargo-fuzz needs a nightly toolchain and sanitizer builds; this runs on stable).
//!
//! ```text
//! FIELDSYNC_FUZZ_SECONDS=60 cargo test --release --test fuzz_inprocess -- --ignored --nocapture
//! ```
//!
//! Every execution takes a seed push body (or cursor, or query string), mutates it (byte
//! flips, dictionary splices, truncation, duplication, or JSON-level rewrites of a parsed
//! value) and feeds it to:
//!
//! 1. **The push path in-process**: `serde_json` into [`PushRequest`] exactly as
//!    `server/http/body.rs` parses a body, then [`plan`] over a seeded [`Snapshot`] (records of two teams, a
//!    tombstone, a stored op_id). Invariants: one result per change, in order, with its
//!    op_id; accepted results carry a version no later than the batch's; the response
//!    serialises and parses back; and **replaying the batch changes nothing**: the same
//!    results, no record written, no version taken.
//! 2. **Cursors**: [`decode_cursor`] on mutated cursors never accepts anything but a cursor
//!    the server issued to that officer.
//! 3. **The real router over HTTP** (every 8th input): an in-process `axum` server over a
//!    SQLite store gets the mutated body on `POST /v1/push` (sometimes gzip-compressed, or
//!    with a random Content-Encoding) and a mutated query on `GET /v1/pull`; no answer may
//!    be a 5xx, and every error body must be the JSON error shape.
//!
//! A panic anywhere (in the pure path, or inside a server task) is a crash: the input is
//! written to `target/fuzz-crashes/` and the run fails at the end. The summary line reports
//! executions, duration and crashes. `FIELDSYNC_FUZZ_SEED` replays a run.

mod support;

use support::body::change_with_op as change;

use std::io::Write;
use std::panic::{self, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use fieldsync::merge::{Stamp, Stamps};
use fieldsync::model::{EntityType, FieldMap};
use fieldsync::protocol::{
    ChangeStatus, ErrorBody, ErrorCode, PushRequest, PushResponse, MAX_PUSH_CHANGES,
};
use fieldsync::server::cursor::{decode_cursor, encode_cursor};
use fieldsync::server::http::{router, AppState};
use fieldsync::server::push::{change_hash, plan};
use fieldsync::server::store::{Officer, Snapshot, StoredOp, StoredRecord};
use fieldsync::server::tokens::token_hash;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use uuid::Uuid;

const DEVICE_A: Uuid = Uuid::from_u128(0xd1);
const DEVICE_B: Uuid = Uuid::from_u128(0xd2);
const H_NORTH: Uuid = Uuid::from_u128(0x100);
const H_SOUTH: Uuid = Uuid::from_u128(0x200);
const V_NORTH: Uuid = Uuid::from_u128(0x300);
const H_GONE: Uuid = Uuid::from_u128(0x400);
const OP_SEEN: Uuid = Uuid::from_u128(0x500);

static PANICS: AtomicUsize = AtomicUsize::new(0);

fn officer() -> Officer {
    Officer {
        id: "amina".into(),
        team: "north".into(),
        created_at: String::new(),
        revoked: false,
    }
}

fn fields(v: Value) -> FieldMap {
    serde_json::from_value(v).expect("seed fields")
}

fn stamps(f: &FieldMap, version: i64, device: Uuid) -> Stamps {
    f.keys()
        .map(|k| (k.clone(), Stamp { version, device }))
        .collect()
}

fn rec(
    id: Uuid,
    et: EntityType,
    team: &str,
    version: i64,
    deleted: bool,
    f: Value,
) -> StoredRecord {
    let f = fields(f);
    StoredRecord {
        server_id: id.as_u128() as i64,
        entity_type: et,
        id,
        team: team.into(),
        version,
        deleted,
        deleted_by: deleted.then_some(DEVICE_B),
        stamps: stamps(&f, version, DEVICE_B),
        fields: f,
        audit: Default::default(),
        echo_device: None,
    }
}

/// What the store would load for a batch, from a fixed server state.
fn snapshot() -> Snapshot {
    let mut s = Snapshot {
        version: 9,
        server_id: 0x400,
        ..Snapshot::default()
    };
    for r in [
        rec(
            H_NORTH,
            EntityType::Household,
            "north",
            5,
            false,
            json!({"name": "Wanjiru", "village": "Kibera", "notes": "n"}),
        ),
        rec(
            H_SOUTH,
            EntityType::Household,
            "south",
            6,
            false,
            json!({"name": "Otieno"}),
        ),
        rec(
            V_NORTH,
            EntityType::Visit,
            "north",
            7,
            false,
            json!({"household_id": H_NORTH.to_string(), "officer_id": "brian", "visited_at": "2026-11-25T09:30:00Z", "answers.crop": "maize"}),
        ),
        rec(
            H_GONE,
            EntityType::Household,
            "north",
            9,
            true,
            json!({"name": "Gone"}),
        ),
    ] {
        s.records.insert(r.id, r);
    }
    let seen = change(
        OP_SEEN,
        "household",
        H_NORTH,
        "update",
        json!(3),
        json!({"notes": "x"}),
    );
    let c: fieldsync::protocol::Change = serde_json::from_value(seen).expect("seed change");
    s.ops.insert(
        OP_SEEN,
        StoredOp {
            hash: change_hash(&c),
            result: fieldsync::protocol::ChangeResult::accepted(
                OP_SEEN,
                4,
                H_NORTH.as_u128() as i64,
                false,
            ),
        },
    );
    s
}

/// Valid push bodies covering every path of the planner.
fn seeds() -> Vec<Vec<u8>> {
    let n = |i: u128| Uuid::from_u128(0x9000 + i);
    let visit = |op, id, h: Uuid, who: &str| {
        change(
            op,
            "visit",
            id,
            "insert",
            Value::Null,
            json!({"household_id": h.to_string(), "officer_id": who, "visited_at": "2026-11-25T09:30:00Z", "answers.crop": "maize", "gps": [-1.29, 36.82]}),
        )
    };
    let batches = vec![
        vec![change(
            n(1),
            "household",
            n(2),
            "insert",
            Value::Null,
            json!({"name": "A", "village": "V", "gps": [1.0, 2.0], "notes": "'; DROP TABLE records; --"}),
        )],
        vec![
            change(
                n(1),
                "household",
                n(2),
                "insert",
                Value::Null,
                json!({"name": "A"}),
            ),
            visit(n(3), n(4), n(2), "amina"),
            change(
                n(5),
                "visit",
                n(4),
                "update",
                json!(1),
                json!({"answers.crop": null, "notes": "%_\\"}),
            ),
            change(n(6), "household", n(2), "delete", json!(1), json!({})),
        ],
        vec![
            visit(n(1), n(2), H_NORTH, "amina"),
            visit(n(3), n(4), H_SOUTH, "amina"),
            visit(n(5), n(6), H_NORTH, "brian"),
        ],
        vec![
            change(
                n(1),
                "household",
                H_NORTH,
                "update",
                json!(3),
                json!({"notes": "mine", "village": "K2"}),
            ),
            change(
                n(2),
                "household",
                H_NORTH,
                "update",
                json!(5),
                json!({"name": "W"}),
            ),
            change(
                n(3),
                "household",
                H_SOUTH,
                "update",
                json!(6),
                json!({"name": "stolen"}),
            ),
            change(
                n(4),
                "household",
                H_GONE,
                "update",
                json!(2),
                json!({"name": "back"}),
            ),
            change(n(5), "household", H_GONE, "delete", json!(9), json!({})),
        ],
        vec![
            change(
                OP_SEEN,
                "household",
                H_NORTH,
                "update",
                json!(3),
                json!({"notes": "x"}),
            ),
            change(
                OP_SEEN,
                "household",
                H_NORTH,
                "update",
                json!(3),
                json!({"notes": "y"}),
            ),
            change(n(1), "visit", V_NORTH, "delete", json!(-1), json!({})),
            change(n(1), "visit", V_NORTH, "delete", json!(i64::MAX), json!({})),
        ],
        vec![change(
            n(1),
            "visit",
            V_NORTH,
            "update",
            json!(7),
            json!({"officer_id": "amina", "answers.x-y_z.1": "v", "visited_at": "2026-02-30T00:00:00Z"}),
        )],
    ];
    batches
        .into_iter()
        .map(|changes| {
            serde_json::to_vec(&json!({"device_id": DEVICE_A, "changes": changes})).unwrap()
        })
        .collect()
}

const DICT: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    "\"",
    "null",
    "true",
    "false",
    "0",
    "-1",
    "1e400",
    "-0",
    "1.5",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775808",
    "\"insert\"",
    "\"update\"",
    "\"delete\"",
    "\"household\"",
    "\"visit\"",
    "\"op_id\"",
    "\"entity_id\"",
    "\"base_version\"",
    "\"fields\"",
    "\"changes\"",
    "\"device_id\"",
    "\"answers.",
    "\"gps\"",
    "\"name\"",
    "\"household_id\"",
    "\"officer_id\"",
    "\"visited_at\"",
    "\\u0000",
    "\\ud800",
    "\\\"",
    "\\\\",
    "'; DROP TABLE records; --",
    "%",
    "_",
    "\u{0}",
    "\u{feff}",
    "00000000-0000-0000-0000-000000000100",
    "00000000-0000-0000-0000-000000000200",
    "00000000-0000-0000-0000-000000000500",
    "\"amina\"",
    "\"brian\"",
];

fn mutate_bytes(rng: &mut StdRng, data: &mut Vec<u8>) {
    for _ in 0..rng.gen_range(1..=8) {
        let len = data.len();
        match rng.gen_range(0..9) {
            0 if len > 0 => {
                let i = rng.gen_range(0..len);
                data[i] ^= 1 << rng.gen_range(0..8);
            }
            1 if len > 0 => {
                let i = rng.gen_range(0..len);
                data[i] = rng.gen();
            }
            2 => {
                let t = DICT[rng.gen_range(0..DICT.len())].as_bytes();
                let i = rng.gen_range(0..=len);
                data.splice(i..i, t.iter().copied());
            }
            3 if len > 0 => {
                let a = rng.gen_range(0..len);
                let b = (a + rng.gen_range(1..=64)).min(len);
                data.drain(a..b);
            }
            4 if len > 0 => {
                let a = rng.gen_range(0..len);
                let b = (a + rng.gen_range(1..=256)).min(len);
                let chunk: Vec<u8> = data[a..b].to_vec();
                let i = rng.gen_range(0..=data.len());
                data.splice(i..i, chunk);
            }
            5 if len > 0 => data.truncate(rng.gen_range(0..len)),
            6 => {
                // Replace a run of digits with an extreme number.
                if let Some(i) = (0..len).find(|_| rng.gen_bool(0.01)) {
                    if data[i].is_ascii_digit() {
                        let t = DICT[rng.gen_range(10..20)].as_bytes();
                        data.splice(i..i + 1, t.iter().copied());
                    }
                }
            }
            7 => {
                let depth = rng.gen_range(1..200);
                let i = rng.gen_range(0..=len);
                data.splice(i..i, std::iter::repeat_n(b'[', depth));
            }
            _ => {}
        }
    }
}

fn random_value(rng: &mut StdRng, depth: u32) -> Value {
    match rng.gen_range(0..if depth > 3 { 6 } else { 8 }) {
        0 => Value::Null,
        1 => Value::Bool(rng.gen()),
        2 => json!(rng.gen::<i64>()),
        3 => json!(rng.gen::<f64>() * 1e6 - 5e5),
        4 => Value::String(DICT[rng.gen_range(0..DICT.len())].to_string()),
        5 => Value::String(
            (0..rng.gen_range(0..40))
                .map(|_| rng.gen::<char>())
                .collect(),
        ),
        6 => Value::Array(
            (0..rng.gen_range(0..4))
                .map(|_| random_value(rng, depth + 1))
                .collect(),
        ),
        _ => Value::Object(
            (0..rng.gen_range(0..4))
                .map(|_| {
                    (
                        DICT[rng.gen_range(0..DICT.len())]
                            .trim_matches('"')
                            .to_string(),
                        random_value(rng, depth + 1),
                    )
                })
                .collect(),
        ),
    }
}

/// Rewrites a random node of a JSON value.
fn mutate_value(rng: &mut StdRng, v: &mut Value, depth: u32) {
    let descend = rng.gen_bool(0.75) && depth < 8;
    match v {
        Value::Object(m) if descend && !m.is_empty() => {
            let k = m.keys().nth(rng.gen_range(0..m.len())).unwrap().clone();
            match rng.gen_range(0..6) {
                0 => {
                    m.remove(&k);
                }
                1 => {
                    let nk = format!(
                        "{k}{}",
                        DICT[rng.gen_range(0..DICT.len())].trim_matches('"')
                    );
                    m.insert(nk, random_value(rng, depth));
                }
                _ => mutate_value(rng, m.get_mut(&k).unwrap(), depth + 1),
            }
        }
        Value::Array(a) if descend && !a.is_empty() => {
            let i = rng.gen_range(0..a.len());
            match rng.gen_range(0..6) {
                0 => {
                    a.remove(i);
                }
                1 => {
                    let c = a[i].clone();
                    a.insert(i, c);
                }
                _ => mutate_value(rng, &mut a[i], depth + 1),
            }
        }
        _ => *v = random_value(rng, depth),
    }
}

/// Keeps the request's shape and rewrites values with valid types, so most inputs reach the
/// planner: ids from the known set, enums, extreme base versions, field values and keys.
fn mutate_schema(rng: &mut StdRng, v: &mut Value) {
    let ids = [
        H_NORTH,
        H_SOUTH,
        V_NORTH,
        H_GONE,
        OP_SEEN,
        Uuid::from_u128(0x9002),
        Uuid::from_u128(0x9004),
        Uuid::from_u128(rng.gen()),
    ];
    let Some(changes) = v["changes"].as_array_mut() else {
        return;
    };
    if changes.is_empty() {
        return;
    }
    for _ in 0..rng.gen_range(1..=4) {
        let n = changes.len();
        let c = &mut changes[rng.gen_range(0..n)];
        match rng.gen_range(0..9) {
            0 => c["op_id"] = json!(ids[rng.gen_range(0..ids.len())]),
            1 => c["entity_id"] = json!(ids[rng.gen_range(0..ids.len())]),
            2 => c["entity_type"] = json!(["household", "visit"][rng.gen_range(0..2)]),
            3 => c["operation"] = json!(["insert", "update", "delete"][rng.gen_range(0..3)]),
            4 => {
                let b = [
                    Value::Null,
                    json!(0),
                    json!(-1),
                    json!(1),
                    json!(5),
                    json!(9),
                    json!(10),
                    json!(i64::MAX),
                    json!(i64::MIN),
                    json!(rng.gen::<i64>()),
                ];
                c["base_version"] = b[rng.gen_range(0..b.len())].clone();
            }
            5 => {
                let keys = [
                    "name",
                    "village",
                    "notes",
                    "gps",
                    "household_id",
                    "officer_id",
                    "visited_at",
                    "answers.crop",
                    "answers.x-y_z.1",
                    "answers.",
                    "answers.%",
                    "deleted",
                ];
                let k = keys[rng.gen_range(0..keys.len())];
                let val = match rng.gen_range(0..4) {
                    0 => json!(ids[rng.gen_range(0..ids.len())]),
                    1 => json!(
                        [
                            "amina",
                            "brian",
                            "2026-11-25T09:30:00Z",
                            "",
                            "'; DROP TABLE ops; --"
                        ][rng.gen_range(0..5)]
                    ),
                    _ => random_value(rng, 2),
                };
                if !c["fields"].is_object() {
                    c["fields"] = json!({});
                }
                c["fields"][k] = val;
            }
            6 => {
                if let Some(f) = c["fields"].as_object_mut() {
                    if let Some(k) = f.keys().nth(rng.gen_range(0..f.len().max(1))).cloned() {
                        f.remove(&k);
                    }
                }
            }
            7 => {
                let dup = c.clone();
                changes.insert(rng.gen_range(0..=n), dup);
            }
            _ => {
                let i = rng.gen_range(0..n);
                let j = rng.gen_range(0..n);
                changes.swap(i, j);
            }
        }
    }
}

fn next_input(rng: &mut StdRng, seeds: &[Vec<u8>]) -> Vec<u8> {
    let seed = &seeds[rng.gen_range(0..seeds.len())];
    if rng.gen_bool(0.4) {
        let mut v: Value = serde_json::from_slice(seed).unwrap();
        mutate_schema(rng, &mut v);
        serde_json::to_vec(&v).unwrap()
    } else if rng.gen_bool(0.5) {
        let mut v: Value = serde_json::from_slice(seed).unwrap();
        for _ in 0..rng.gen_range(1..=4) {
            mutate_value(rng, &mut v, 0);
        }
        serde_json::to_vec(&v).unwrap()
    } else {
        let mut b = seed.clone();
        mutate_bytes(rng, &mut b);
        b
    }
}

/// One execution of the pure push path; panics on a broken invariant.
fn exec_push(body: &[u8], base: &Snapshot) -> bool {
    let Ok(req) = serde_json::from_slice::<PushRequest>(body) else {
        return false;
    };
    if req.changes.len() > MAX_PUSH_CHANGES || req.changes.is_empty() {
        return true;
    }
    let me = officer();
    let mut snap = base.clone();
    let (results, write) = plan(&me, req.device_id, &req.changes, &mut snap);
    assert_eq!(results.len(), req.changes.len(), "one result per change");
    for (r, c) in results.iter().zip(&req.changes) {
        assert_eq!(r.op_id, c.op_id, "results in order");
        match r.status {
            ChangeStatus::Accepted => {
                let v = r.version.expect("accepted has a version");
                assert!(
                    v <= write.version,
                    "version {v} after the batch's {}",
                    write.version
                );
            }
            ChangeStatus::Rejected => assert!(r.error.is_some(), "rejected has an error"),
            ChangeStatus::Conflict => assert!(r.server_record.is_some(), "conflict has a record"),
        }
    }
    assert!(write.version >= base.version && write.server_id >= base.server_id);
    for w in &write.records {
        assert!(
            w.version > base.version,
            "a written record takes a new version"
        );
        assert_eq!(w.team, me.team, "wrote another team's record: {w:?}");
    }
    let resp = serde_json::to_vec(&PushResponse {
        results: results.clone(),
        seq_floor: None,
    })
    .unwrap();
    let back: PushResponse = serde_json::from_slice(&resp).unwrap();
    assert_eq!(back.results, results, "the response round-trips");
    // A replay of the whole batch changes nothing and answers the same.
    let before = (snap.version, snap.server_id);
    let (again, write2) = plan(&me, req.device_id, &req.changes, &mut snap);
    assert_eq!(again, results, "a replay answers the first results");
    assert!(
        write2.records.is_empty() && write2.ops.is_empty(),
        "a replay writes nothing"
    );
    assert_eq!(
        (snap.version, snap.server_id),
        before,
        "a replay takes no version"
    );
    true
}

/// One execution on cursors; panics if a forged cursor is accepted.
fn exec_cursor(rng: &mut StdRng) {
    let secret = b"the server's secret";
    let versions = [0i64, 1, 42, i64::MAX];
    let v = versions[rng.gen_range(0..versions.len())];
    let good = encode_cursor(secret, "amina", "north", v);
    let mut b = good.clone().into_bytes();
    if rng.gen_bool(0.3) {
        // Re-encode a forged payload with the real tag.
        let (_, tag) = good.split_once('.').unwrap();
        let payload = format!(
            "{}.{}",
            rng.gen::<i64>(),
            ["north", "south", "", "north\0"][rng.gen_range(0..4)]
        );
        b = format!("{}.{tag}", URL_SAFE_NO_PAD.encode(payload)).into_bytes();
    } else {
        mutate_bytes(rng, &mut b);
    }
    let s = String::from_utf8_lossy(&b);
    let out = decode_cursor(secret, "amina", &s);
    if s != good {
        if let Some(c) = out {
            // Base64 padding bits can make two strings decode to the same bytes: only a
            // cursor naming what was issued may pass.
            assert_eq!(
                (c.version, c.team.as_str()),
                (v, "north"),
                "forged cursor {s:?} accepted"
            );
        }
    } else {
        assert!(out.is_some());
    }
    assert_eq!(decode_cursor(secret, "brian", &good), None);
}

struct Http {
    url: String,
    token: String,
    client: reqwest::blocking::Client,
    _rt: tokio::runtime::Runtime,
    _dir: tempfile::TempDir,
}

fn start_http() -> Http {
    let dir = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let token = "fuzz-token-amina".to_string();
    let path = dir.path().join("fuzz.sqlite3");
    let url = rt.block_on(async {
        let store = fieldsync::server::store::open(path.to_str().unwrap())
            .await
            .unwrap();
        store
            .add_officer("amina", "north", &token_hash(&token))
            .await
            .unwrap();
        store
            .add_officer("chen", "south", &token_hash("fuzz-token-chen"))
            .await
            .unwrap();
        let service = fieldsync::server::Service::new(store).await.unwrap();
        let state = AppState::new(service, 64, 512 * 1024 * 1024);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, router(state)).await });
        format!("http://{addr}")
    });
    // Households the seeds name, so visits and updates reach the planner's deeper paths.
    let client = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let body = json!({"device_id": DEVICE_B, "changes": [
        change(Uuid::from_u128(1), "household", H_NORTH, "insert", Value::Null, json!({"name": "Wanjiru"})),
    ]});
    let r = client
        .post(format!("{url}/v1/push"))
        .bearer_auth(&token)
        .body(body.to_string())
        .send()
        .unwrap();
    assert!(r.status().is_success());
    let body = json!({"device_id": DEVICE_B, "changes": [
        change(Uuid::from_u128(2), "household", H_SOUTH, "insert", Value::Null, json!({"name": "Otieno"})),
    ]});
    let r = client
        .post(format!("{url}/v1/push"))
        .bearer_auth("fuzz-token-chen")
        .body(body.to_string())
        .send()
        .unwrap();
    assert!(r.status().is_success());
    Http {
        url,
        token,
        client,
        _rt: rt,
        _dir: dir,
    }
}

fn check_answer(what: &str, r: reqwest::blocking::Response) {
    let st = r.status();
    let body = r.bytes().expect("read the answer");
    assert!(
        !st.is_server_error(),
        "{what}: {st} {:?}",
        String::from_utf8_lossy(&body)
    );
    if !st.is_success() {
        let e: ErrorBody = serde_json::from_slice(&body)
            .unwrap_or_else(|e| panic!("{what}: {st} not an error body ({e}): {body:?}"));
        assert_ne!(e.error.code, ErrorCode::Internal);
    }
}

fn exec_http(h: &Http, rng: &mut StdRng, body: &[u8]) {
    let mut req = h
        .client
        .post(format!("{}/v1/push", h.url))
        .bearer_auth(&h.token);
    let mut payload = body.to_vec();
    match rng.gen_range(0..10) {
        0 | 1 => {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            e.write_all(body).unwrap();
            payload = e.finish().unwrap();
            if rng.gen_bool(0.5) {
                mutate_bytes(rng, &mut payload);
            }
            req = req.header("Content-Encoding", "gzip");
        }
        2 => {
            let enc: String = DICT[rng.gen_range(0..DICT.len())]
                .chars()
                .filter(|c| c.is_ascii_graphic())
                .collect();
            req = req.header("Content-Encoding", enc);
        }
        3 => req = req.header("Content-Type", "text/plain"),
        _ => req = req.header("Content-Type", "application/json"),
    }
    check_answer("push", req.body(payload).send().expect("push answered"));
    let mut q = format!(
        "cursor={}&limit={}",
        encode_cursor(b"x", "amina", "north", 3),
        rng.gen_range(-5..1100)
    )
    .into_bytes();
    mutate_bytes(rng, &mut q);
    let q: String = q
        .iter()
        .map(|&b| {
            if b.is_ascii_graphic() && b != b'#' {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    check_answer(
        "pull",
        h.client
            .get(format!("{}/v1/pull?{q}", h.url))
            .bearer_auth(&h.token)
            .send()
            .expect("pull answered"),
    );
}

fn save_crash(kind: &str, data: &[u8]) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("fuzz-crashes");
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(format!("{kind}-{}", Uuid::new_v4().simple()));
    std::fs::write(&p, data).unwrap();
    p
}

#[test]
#[ignore = "runs for FIELDSYNC_FUZZ_SECONDS; see the module docs"]
fn fuzz_push_pull_and_cursors() {
    let secs: u64 = std::env::var("FIELDSYNC_FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let seed: u64 = std::env::var("FIELDSYNC_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random);
    println!("fuzz: seed {seed} (FIELDSYNC_FUZZ_SEED), {secs} s");
    let default_hook = panic::take_hook();
    let messages: Arc<Mutex<Vec<String>>> = Arc::default();
    let m2 = messages.clone();
    panic::set_hook(Box::new(move |info| {
        PANICS.fetch_add(1, Ordering::SeqCst);
        m2.lock().unwrap().push(info.to_string());
    }));
    let mut rng = StdRng::seed_from_u64(seed);
    let seeds = seeds();
    let base = snapshot();
    let http = start_http();
    let start = Instant::now();
    let (mut execs, mut parsed, mut http_execs, mut crashes) = (0u64, 0u64, 0u64, 0u64);
    while start.elapsed() < Duration::from_secs(secs) {
        for _ in 0..64 {
            let input = next_input(&mut rng, &seeds);
            let before = PANICS.load(Ordering::SeqCst);
            let out = panic::catch_unwind(AssertUnwindSafe(|| exec_push(&input, &base)));
            let mut cur_rng = StdRng::seed_from_u64(rng.gen());
            let cur = panic::catch_unwind(AssertUnwindSafe(|| exec_cursor(&mut cur_rng)));
            execs += 2;
            if matches!(out, Ok(true)) {
                parsed += 1;
            }
            if execs % 16 == 0 {
                http_execs += 2;
                let r =
                    panic::catch_unwind(AssertUnwindSafe(|| exec_http(&http, &mut rng, &input)));
                if r.is_err() || PANICS.load(Ordering::SeqCst) != before {
                    crashes += 1;
                    eprintln!(
                        "crash (http) saved to {}",
                        save_crash("http", &input).display()
                    );
                }
            }
            if out.is_err() || cur.is_err() {
                crashes += 1;
                eprintln!("crash saved to {}", save_crash("push", &input).display());
            }
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    // The server must still answer after everything.
    let health = http
        .client
        .get(format!("{}/v1/health", http.url))
        .send()
        .expect("health");
    assert!(health.status().is_success());
    panic::set_hook(default_hook);
    println!(
        "fuzz summary: {execs} executions ({parsed} push bodies parsed into requests and planned twice, \
         {http_execs} HTTP requests to the real router) in {elapsed:.0} s, {crashes} crashes, seed {seed}"
    );
    let msgs = messages.lock().unwrap();
    assert_eq!(
        crashes,
        0,
        "{} panics, first: {:?}",
        msgs.len(),
        msgs.first()
    );
}
