//! Hostile input at the server: a table of hostile requests, each sent to a real
//! `fieldsync serve` over SQLite and over PostgreSQL, with its exact status and error code,
//! the server still healthy afterwards, and **nothing stored**: a fingerprint of the whole
//! server state (every team's full pull from cursor zero, `admin officer list --json`, and a
//! dump of every table) is identical before and after, except for what the case says it
//! stores (a per-change rejection's result under its op_id, or SQL metacharacters accepted
//! as data, which must then round-trip byte-exactly).
//!
//! Then proptest throws arbitrary bytes, arbitrary JSON and near-valid push requests at
//! `POST /v1/push`, and random query strings at `GET /v1/pull`: never a 5xx, always the JSON
//! error shape, and the server stays healthy. By default each of the four generators runs
//! for 5 s (about 20 s in all); `FIELDSYNC_FUZZ_CASES=N` runs N inputs per generator with no
//! time limit, and `FIELDSYNC_FUZZ_SEED` replays a run.
//!
//! Requests go over a raw TCP client so that anything can be sent: bytes that are not
//! UTF-8 in headers, chunked bodies of any size, a Content-Length the body does not match.
//! `docs/hostile.md` lists the table.

mod support;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use fieldsync::protocol::{ErrorBody, PullResponse, PushResponse};
use fieldsync::server::cursor::encode_cursor;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use serde_json::{json, Value};
use support::{admin, StoreKind, TestServer};
use uuid::Uuid;

// ---------------------------------------------------------------------------------------
// A raw HTTP/1.1 client.

/// How the body is framed on the wire.
#[derive(Clone, Copy, Debug)]
enum Framing {
    /// `Content-Length` of the body.
    Length,
    /// `Transfer-Encoding: chunked` (no length known up front).
    Chunked,
    /// `Content-Length: N` declared, but only the given bytes are sent.
    Declared(u64),
}

#[derive(Clone)]
struct Req {
    method: &'static str,
    path: String,
    headers: Vec<(String, Vec<u8>)>,
    body: Vec<u8>,
    framing: Framing,
}

struct Resp {
    status: u16,
    body: Vec<u8>,
}

impl Resp {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "{} body is not JSON ({e}): {:?}",
                self.status,
                String::from_utf8_lossy(&self.body[..self.body.len().min(300)])
            )
        })
    }

    fn error_code(&self) -> String {
        serde_json::from_slice::<ErrorBody>(&self.body)
            .map(|e| e.error.code.as_str().to_string())
            .unwrap_or_else(|e| {
                panic!(
                    "{} is not an error body ({e}): {:?}",
                    self.status,
                    String::from_utf8_lossy(&self.body[..self.body.len().min(300)])
                )
            })
    }
}

/// Sends one request on a fresh connection. The body is written by another thread while
/// this one reads, so a server that answers early (413) and closes is seen answering.
fn send(addr: &str, req: &Req) -> Resp {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    s.set_write_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut head = format!(
        "{} {} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n",
        req.method, req.path
    )
    .into_bytes();
    for (k, v) in &req.headers {
        head.extend_from_slice(k.as_bytes());
        head.extend_from_slice(b": ");
        head.extend_from_slice(v);
        head.extend_from_slice(b"\r\n");
    }
    match req.framing {
        Framing::Length => {
            head.extend_from_slice(format!("Content-Length: {}\r\n", req.body.len()).as_bytes())
        }
        Framing::Chunked => head.extend_from_slice(b"Transfer-Encoding: chunked\r\n"),
        Framing::Declared(n) => {
            head.extend_from_slice(format!("Content-Length: {n}\r\n").as_bytes())
        }
    }
    head.extend_from_slice(b"\r\n");
    let mut w = s.try_clone().unwrap();
    let (body, framing) = (req.body.clone(), req.framing);
    let writer = std::thread::spawn(move || -> std::io::Result<()> {
        w.write_all(&head)?;
        match framing {
            Framing::Chunked => {
                for chunk in body.chunks(64 * 1024) {
                    w.write_all(format!("{:x}\r\n", chunk.len()).as_bytes())?;
                    w.write_all(chunk)?;
                    w.write_all(b"\r\n")?;
                }
                w.write_all(b"0\r\n\r\n")
            }
            _ => w.write_all(&body),
        }
    });
    let mut buf = Vec::new();
    let mut tmp = [0u8; 16 * 1024];
    let resp = loop {
        match s.read(&mut tmp) {
            Ok(0) => break parse_response(&buf, true),
            Ok(n) => {
                buf.extend_from_slice(&tmp[..n]);
                if let Some(r) = parse_response(&buf, false) {
                    break Some(r);
                }
            }
            Err(e) => {
                let r = parse_response(&buf, true);
                assert!(r.is_some(), "connection failed before an answer: {e}");
                break r;
            }
        }
    };
    let _ = s.shutdown(Shutdown::Both);
    let _ = writer.join();
    resp.unwrap_or_else(|| panic!("no complete answer: {:?}", String::from_utf8_lossy(&buf)))
}

/// A complete response in `buf` (with a Content-Length), or at EOF whatever arrived.
fn parse_response(buf: &[u8], eof: bool) -> Option<Resp> {
    let end = buf.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
    let status: u16 = head.split_whitespace().nth(1)?.parse().ok()?;
    assert!(
        !head.contains("transfer-encoding: chunked"),
        "chunked answer: {head}"
    );
    let body = &buf[end + 4..];
    let len = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok());
    match len {
        Some(n) if body.len() >= n => Some(Resp {
            status,
            body: body[..n].to_vec(),
        }),
        None if eof => Some(Resp {
            status,
            body: body.to_vec(),
        }),
        _ => None,
    }
}

fn bearer(token: &str) -> (String, Vec<u8>) {
    (
        "Authorization".into(),
        format!("Bearer {token}").into_bytes(),
    )
}

fn json_ct() -> (String, Vec<u8>) {
    ("Content-Type".into(), b"application/json".to_vec())
}

fn post(token: &str, body: Vec<u8>) -> Req {
    Req {
        method: "POST",
        path: "/v1/push".into(),
        headers: vec![bearer(token), json_ct()],
        body,
        framing: Framing::Length,
    }
}

fn get(token: &str, query: &str) -> Req {
    Req {
        method: "GET",
        path: format!("/v1/pull{query}"),
        headers: vec![bearer(token)],
        body: Vec::new(),
        framing: Framing::Length,
    }
}

fn with_header(mut r: Req, k: &str, v: &[u8]) -> Req {
    r.headers.retain(|(h, _)| !h.eq_ignore_ascii_case(k));
    r.headers.push((k.into(), v.to_vec()));
    r
}

fn without_header(mut r: Req, k: &str) -> Req {
    r.headers.retain(|(h, _)| !h.eq_ignore_ascii_case(k));
    r
}

// ---------------------------------------------------------------------------------------
// The server under attack, and its fingerprint.

struct World {
    s: TestServer,
    addr: String,
    amina: String,
    brian: String,
    chen: String,
    dora_revoked: String,
    device: Uuid,
    h_north: Uuid,
    h_south: Uuid,
    v_north: Uuid,
    /// amina's insert of `h_north` and its (first) result.
    first_change: Value,
    first_result: Value,
    cursor_amina: String,
    cursor_brian: String,
    cursor_chen: String,
}

fn uid() -> Uuid {
    Uuid::new_v4()
}

fn body(device: Uuid, changes: Vec<Value>) -> Vec<u8> {
    serde_json::to_vec(&json!({"device_id": device, "changes": changes})).unwrap()
}

fn hh(id: Uuid, fields: Value) -> Value {
    json!({"op_id": uid(), "entity_type": "household", "entity_id": id, "operation": "insert", "base_version": null, "fields": fields})
}

fn visit(id: Uuid, household: Uuid, officer: &str, extra: Value) -> Value {
    let mut f = json!({"household_id": household, "officer_id": officer, "visited_at": "2026-11-25T09:30:00Z"});
    for (k, v) in extra.as_object().unwrap() {
        f[k] = v.clone();
    }
    json!({"op_id": uid(), "entity_type": "visit", "entity_id": id, "operation": "insert", "fields": f})
}

fn change(et: &str, id: Uuid, op: &str, base: Value, fields: Value) -> Value {
    json!({"op_id": uid(), "entity_type": et, "entity_id": id, "operation": op, "base_version": base, "fields": fields})
}

fn push_ok(w_addr: &str, token: &str, device: Uuid, changes: Vec<Value>) -> Vec<Value> {
    let r = send(w_addr, &post(token, body(device, changes)));
    assert_eq!(r.status, 200, "{:?}", r.json());
    let v = r.json();
    serde_json::from_value::<PushResponse>(v.clone()).expect("a push response");
    v["results"].as_array().unwrap().clone()
}

fn pull_all_raw(addr: &str, token: &str) -> (Vec<Value>, String) {
    let mut out = Vec::new();
    let mut q = "?limit=1000".to_string();
    loop {
        let r = send(addr, &get(token, &q));
        assert_eq!(r.status, 200, "{:?}", r.json());
        let page: PullResponse = serde_json::from_slice(&r.body).unwrap();
        out.extend(
            page.records
                .iter()
                .map(|r| serde_json::to_value(r).unwrap()),
        );
        if !page.has_more {
            return (out, page.next_cursor);
        }
        q = format!("?limit=1000&cursor={}", page.next_cursor);
    }
}

impl World {
    fn new(kind: StoreKind) -> World {
        let s = TestServer::new(kind);
        let addr = s.url.strip_prefix("http://").unwrap().to_string();
        let amina = s.add_officer("amina", "north");
        let brian = s.add_officer("brian", "north");
        let chen = s.add_officer("chen", "south");
        let dora_revoked = s.add_officer("dora", "north");
        let (code, _, err) = admin(&s.db, &["officer", "revoke", "dora"]);
        assert_eq!(code, 0, "{err}");
        let device = uid();
        let (h_north, h_south, v_north) = (uid(), uid(), uid());
        let first_change = hh(
            h_north,
            json!({"name": "Wanjiru", "village": "Kibera", "notes": "n"}),
        );
        let r = push_ok(
            &addr,
            &amina,
            device,
            vec![
                first_change.clone(),
                visit(v_north, h_north, "amina", json!({"answers.crop": "maize"})),
            ],
        );
        assert!(r.iter().all(|x| x["status"] == "accepted"), "{r:?}");
        let first_result = r[0].clone();
        let r = push_ok(
            &addr,
            &chen,
            uid(),
            vec![hh(h_south, json!({"name": "Otieno"}))],
        );
        assert_eq!(r[0]["status"], "accepted");
        let cursor_amina = pull_all_raw(&addr, &amina).1;
        let cursor_brian = pull_all_raw(&addr, &brian).1;
        let cursor_chen = pull_all_raw(&addr, &chen).1;
        World {
            s,
            addr,
            amina,
            brian,
            chen,
            dora_revoked,
            device,
            h_north,
            h_south,
            v_north,
            first_change,
            first_result,
            cursor_amina,
            cursor_brian,
            cursor_chen,
        }
    }
}

/// Each team's full pull: (team, records).
type Pulls = Vec<(String, Vec<Value>)>;

/// Everything the server holds.
#[derive(Debug, Clone, PartialEq)]
struct Fingerprint {
    /// A full pull from cursor zero by an officer of each team: (team, records).
    pulls: Pulls,
    /// `admin officer list --json`.
    officers: String,
    /// Every table, row by row (ops keyed by op_id).
    counters: Vec<String>,
    records: BTreeMap<String, String>,
    ops: BTreeMap<String, String>,
    officer_rows: Vec<String>,
    meta: Vec<String>,
}

const SQL_COUNTERS: &str =
    "SELECT CAST(version AS TEXT) || '|' || CAST(server_id AS TEXT) FROM version_counter";
const SQL_RECORDS: &str = "SELECT id || '|' || CAST(server_id AS TEXT) || '|' || entity_type || '|' || team || '|' || CAST(version AS TEXT) || '|' || CAST(deleted AS TEXT) || '|' || COALESCE(deleted_by, '-') || '|' || fields || '|' || stamps FROM records ORDER BY id";
const SQL_OPS: &str = "SELECT op_id || '|' || hash || '|' || result FROM ops ORDER BY op_id";
const SQL_OFFICERS: &str = "SELECT id || '|' || team || '|' || token_hash || '|' || created_at || '|' || COALESCE(revoked_at, '-') FROM officers ORDER BY id";
const SQL_META: &str = "SELECT key || '|' || value FROM meta ORDER BY key";

/// Rows of one text column, read straight from the store's database.
fn rows(db: &str, sql: &str) -> Vec<String> {
    rows_of(db, &[sql]).remove(0)
}

/// The rows of several one-column queries (one psql process for PostgreSQL).
fn rows_of(db: &str, queries: &[&str]) -> Vec<Vec<String>> {
    if db.starts_with("postgres") {
        // Each query's rows end with a marker row; rows are separated by U+001E.
        let mut args: Vec<String> = ["-v", "ON_ERROR_STOP=1", "-qAt", "-R", "\u{1e}"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        for q in queries {
            args.extend(["-c".to_string(), q.to_string()]);
            args.extend(["-c".to_string(), "SELECT '@@end@@'".to_string()]);
        }
        let out = std::process::Command::new("/usr/lib/postgresql/15/bin/psql")
            .arg(db)
            .args(&args)
            .output()
            .expect("psql");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let s = String::from_utf8(out.stdout).unwrap();
        let mut all = vec![Vec::new()];
        for r in s.split(['\u{1e}', '\n']).filter(|r| !r.is_empty()) {
            if r == "@@end@@" {
                all.push(Vec::new());
            } else {
                all.last_mut().unwrap().push(r.to_string());
            }
        }
        all.pop();
        assert_eq!(all.len(), queries.len());
        all
    } else {
        let c =
            rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
                .expect("open the server's database");
        c.busy_timeout(Duration::from_secs(10)).unwrap();
        queries
            .iter()
            .map(|q| {
                let mut st = c.prepare(q).unwrap();
                let r = st.query_map([], |r| r.get::<_, String>(0)).unwrap();
                r.map(Result::unwrap).collect()
            })
            .collect()
    }
}

fn keyed(rows: Vec<String>) -> BTreeMap<String, String> {
    rows.into_iter()
        .map(|r| {
            let (k, v) = r.split_once('|').unwrap();
            (k.to_string(), v.to_string())
        })
        .collect()
}

fn fingerprint(w: &World) -> Fingerprint {
    let mut db = rows_of(
        &w.s.db,
        &[SQL_COUNTERS, SQL_RECORDS, SQL_OPS, SQL_OFFICERS, SQL_META],
    );
    let (code, officers, err) = admin(&w.s.db, &["officer", "list", "--json"]);
    assert_eq!(code, 0, "{err}");
    Fingerprint {
        pulls: vec![
            ("north".into(), pull_all_raw(&w.addr, &w.amina).0),
            ("south".into(), pull_all_raw(&w.addr, &w.chen).0),
        ],
        officers,
        counters: db.remove(0),
        records: keyed(db.remove(0)),
        ops: keyed(db.remove(0)),
        officer_rows: db.remove(0),
        meta: db.remove(0),
    }
}

fn counters(fp: &Fingerprint) -> (i64, i64) {
    let (v, s) = fp.counters[0].split_once('|').unwrap();
    (v.parse().unwrap(), s.parse().unwrap())
}

// ---------------------------------------------------------------------------------------
// The table.

/// One change's expected result in a 200 push.
#[derive(Debug, Clone)]
enum R {
    Rejected(&'static str),
    /// Exactly this result (a replay returns the first result).
    Same(Value),
}

#[derive(Debug, Clone)]
enum Want {
    /// The whole request fails with this status and error code.
    Error(u16, &'static str),
    /// 200 with these per-change results; `ops` new op_id results stored, nothing else.
    Results(Vec<R>, usize),
    /// 200, every change accepted, and only these records (id → the fields sent) are new
    /// and pulled back byte-exactly.
    Stored(Vec<(Uuid, Value)>),
    /// 200 for a pull (the query is fine).
    PullOk,
    /// hyper refuses the request itself, before any handler: this status with an empty body
    /// (not the JSON error shape; see docs/hostile.md).
    Bare(u16),
}

struct Case {
    name: String,
    req: Req,
    want: Want,
}

fn case(name: impl Into<String>, req: Req, want: Want) -> Case {
    Case {
        name: name.into(),
        req,
        want,
    }
}

fn err(status: u16, code: &'static str) -> Want {
    Want::Error(status, code)
}

/// SQL (and LIKE, and printf, and escape) metacharacters: valid strings, so they are data.
const SQL_META_STRINGS: &[&str] = &[
    "'; DROP TABLE records; --",
    "' OR '1'='1",
    "\" OR \"\"=\"",
    "'||(SELECT token_hash FROM officers LIMIT 1)||'",
    "%",
    "_",
    "%_%",
    "\\",
    "\\'",
    "\\\\%",
    "$1",
    "?",
    "/* */ --",
    "%s%n%x",
    "\u{2028}\u{feff}\u{1F600}",
];

fn gzip_bytes(data: &[u8]) -> Vec<u8> {
    support::http::gzip(data)
}

/// 1 GiB of spaces, gzip-compressed to about 1 MiB (built once).
fn gzip_bomb() -> &'static Vec<u8> {
    static BOMB: OnceLock<Vec<u8>> = OnceLock::new();
    BOMB.get_or_init(|| {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        let block = vec![b' '; 1 << 20];
        for _ in 0..1024 {
            e.write_all(&block).unwrap();
        }
        let b = e.finish().unwrap();
        assert!(b.len() < 2 << 20, "{}", b.len());
        b
    })
}

fn table(w: &World) -> Vec<Case> {
    let a = w.amina.as_str();
    let dev = w.device;
    // A push that WOULD be accepted: so an auth or framing failure that let it through
    // would show up in the fingerprint.
    let good = || body(uid(), vec![hh(uid(), json!({"name": "would be stored"}))]);
    let mut t = vec![
        // --- Authentication.
        case("push without Authorization", without_header(post(a, good()), "Authorization"), err(401, "unauthorized")),
        case("pull without Authorization", without_header(get(a, ""), "Authorization"), err(401, "unauthorized")),
        case("Authorization: Bearer (no token)", with_header(post(a, good()), "Authorization", b"Bearer"), err(401, "unauthorized")),
        case("Authorization: Bearer and spaces", with_header(post(a, good()), "Authorization", b"Bearer    "), err(401, "unauthorized")),
        case("Authorization: Basic x", with_header(post(a, good()), "Authorization", b"Basic x"), err(401, "unauthorized")),
        case("Authorization: Basic with a valid token", with_header(post(a, good()), "Authorization", format!("Basic {a}").as_bytes()), err(401, "unauthorized")),
        case("Authorization: token with no scheme", with_header(post(a, good()), "Authorization", a.as_bytes()), err(401, "unauthorized")),
        case("a 64 KiB token", with_header(post(a, good()), "Authorization", format!("Bearer {}", "A".repeat(64 << 10)).as_bytes()), err(401, "unauthorized")),
        case("a 1 MiB Authorization header (hyper refuses it)", with_header(post(a, good()), "Authorization", format!("Bearer {}", "A".repeat(1 << 20)).as_bytes()), Want::Bare(431)),
        case("200 headers (hyper refuses them)", { let mut r = post(a, good()); r.headers.extend((0..200).map(|i| (format!("X-H{i}"), b"1".to_vec()))); r }, Want::Bare(431)),
        case("a request target with '\"<>' (hyper refuses it)", get(a, "?limit=\"<>"), Want::Bare(400)),
        case("Authorization: lowercase bearer (the scheme is case-insensitive)", with_header(post(&w.brian, b"{\"device_id\": \"00000000-0000-0000-0000-0000000000b1\", \"changes\": []}".to_vec()), "Authorization", format!("bearer {}", w.brian).as_bytes()), Want::Results(vec![], 0)),
        case("two Authorization headers, Basic first", { let mut r = with_header(post(a, good()), "Authorization", b"Basic x"); r.headers.push(bearer(a)); r }, err(401, "unauthorized")),
        case("a 4 KiB token", with_header(post(a, good()), "Authorization", format!("Bearer {}", "A".repeat(4096)).as_bytes()), err(401, "unauthorized")),
        case("a 257-byte token", with_header(post(a, good()), "Authorization", format!("Bearer {}", "A".repeat(257)).as_bytes()), err(401, "unauthorized")),
        case("a valid token with 300 trailing bytes", with_header(post(a, good()), "Authorization", format!("Bearer {a}{}", "x".repeat(300)).as_bytes()), err(401, "unauthorized")),
        case("an unknown token", with_header(post(a, good()), "Authorization", b"Bearer AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"), err(401, "unauthorized")),
        case("a token of SQL", with_header(post(a, good()), "Authorization", b"Bearer ' OR '1'='1"), err(401, "unauthorized")),
        case("a token that is not UTF-8", with_header(post(a, good()), "Authorization", b"Bearer \xff\xfe\xc3\x28"), err(401, "unauthorized")),
        case("a revoked token pushing", post(&w.dora_revoked, good()), err(401, "unauthorized")),
        case("a revoked token pulling", get(&w.dora_revoked, ""), err(401, "unauthorized")),
        // --- Bodies: size, compression, framing.
        case(
            "oversize raw body: 17 MiB chunked (no Content-Length)",
            Req { framing: Framing::Chunked, ..post(a, vec![b' '; 17 << 20]) },
            err(413, "payload_too_large"),
        ),
        case("oversize raw body: 17 MiB with its Content-Length", post(a, vec![b' '; 17 << 20]), err(413, "payload_too_large")),
        case(
            "oversize declared: Content-Length 17 MiB, 1 byte sent",
            Req { framing: Framing::Declared(17 << 20), ..post(a, b"{".to_vec()) },
            err(413, "payload_too_large"),
        ),
        case("gzip bomb: 1 GiB of spaces in 1 MiB", with_header(post(a, gzip_bomb().clone()), "Content-Encoding", b"gzip"), err(413, "payload_too_large")),
        case("Content-Encoding: gzip, body not gzip", with_header(post(a, good()), "Content-Encoding", b"gzip"), err(400, "invalid_json")),
        case(
            "Content-Encoding: gzip, a valid push truncated mid-stream",
            with_header(post(a, { let g = gzip_bytes(&good()); g[..g.len() / 2].to_vec() }), "Content-Encoding", b"gzip"),
            err(400, "invalid_json"),
        ),
        case("Content-Encoding: br", with_header(post(a, good()), "Content-Encoding", b"br"), err(415, "unsupported_media_type")),
        case("Content-Encoding: deflate", with_header(post(a, good()), "Content-Encoding", b"deflate"), err(415, "unsupported_media_type")),
        case("Content-Encoding: gzip, gzip", with_header(post(a, gzip_bytes(&gzip_bytes(&good()))), "Content-Encoding", b"gzip, gzip"), err(415, "unsupported_media_type")),
        case("Content-Encoding not UTF-8", with_header(post(a, good()), "Content-Encoding", b"gz\xffip"), err(415, "unsupported_media_type")),
        case("Content-Type: text/plain", with_header(post(a, good()), "Content-Type", b"text/plain"), err(415, "unsupported_media_type")),
        // --- Malformed JSON.
        case("empty body", post(a, Vec::new()), err(400, "invalid_json")),
        case("JSON null", post(a, b"null".to_vec()), err(400, "invalid_json")),
        case("truncated JSON", post(a, { let g = good(); g[..g.len() - 7].to_vec() }), err(400, "invalid_json")),
        case("trailing garbage after the JSON", post(a, [good(), b"}{".to_vec()].concat()), err(400, "invalid_json")),
        case("100k nested [", post(a, vec![b'['; 100_000]), err(400, "invalid_json")),
        case("100k nested {\"a\":", post(a, "{\"a\":".repeat(100_000).into_bytes()), err(400, "invalid_json")),
        case(
            "100k nested arrays inside a field",
            post(a, format!("{{\"device_id\":\"{dev}\",\"changes\":[{{\"op_id\":\"{}\",\"entity_type\":\"household\",\"entity_id\":\"{}\",\"operation\":\"insert\",\"fields\":{{\"name\":\"x\",\"notes\":{}1{}}}}}]}}", uid(), uid(), "[".repeat(100_000), "]".repeat(100_000)).into_bytes()),
            err(400, "invalid_json"),
        ),
        case("invalid UTF-8 body", post(a, vec![0xff, 0xfe, 0xfd, 0x00, 0x80]), err(400, "invalid_json")),
        case(
            "invalid UTF-8 inside the name string",
            post(a, String::from_utf8_lossy(&good()).replace("would be stored", "\u{1}MARK").into_bytes().into_iter().flat_map(|b| if b == 1 { vec![0xc3, 0x28] } else { vec![b] }).collect()),
            err(400, "invalid_json"),
        ),
        case("overlong UTF-8 '/' in a string", post(a, b"{\"device_id\":\"\xc0\xaf\"}".to_vec()), err(400, "invalid_json")),
        case("a lone surrogate escape in the name", post(a, String::from_utf8(good()).unwrap().replace("would be stored", "\\ud800").into_bytes()), err(400, "invalid_json")),
        case("UTF-16 body", post(a, String::from_utf8(good()).unwrap().encode_utf16().flat_map(|u| u.to_le_bytes()).collect()), err(400, "invalid_json")),
        case("a JSON array instead of an object", post(a, b"[]".to_vec()), err(400, "invalid_json")),
        case("missing device_id", post(a, json!({"changes": []}).to_string().into_bytes()), err(400, "invalid_json")),
        case("missing changes", post(a, json!({"device_id": dev}).to_string().into_bytes()), err(400, "invalid_json")),
        case("an unknown top-level field", post(a, json!({"device_id": dev, "changes": [], "admin": true}).to_string().into_bytes()), err(400, "invalid_json")),
        case("a duplicate top-level field", post(a, format!("{{\"device_id\":\"{dev}\",\"device_id\":\"{dev}\",\"changes\":[]}}").into_bytes()), err(400, "invalid_json")),
        case("501 changes", post(a, body(dev, (0..501).map(|_| hh(uid(), json!({"name": "h"}))).collect())), err(413, "batch_too_large")),
        // --- Methods and paths.
        case("PUT /v1/push", Req { method: "PUT", ..post(a, good()) }, err(405, "bad_request")),
        case("GET /v1/push", Req { method: "GET", ..get(a, "") }.with_path("/v1/push"), err(405, "bad_request")),
        case("POST /v1/pull", Req { path: "/v1/pull".into(), ..post(a, good()) }, err(405, "bad_request")),
        case("POST /v1/Push", Req { path: "/v1/Push".into(), ..post(a, good()) }, err(404, "not_found")),
        case("POST /v1/push/..", Req { path: "/v1/push/..".into(), ..post(a, good()) }, err(404, "not_found")),
        // --- Per-change: permissions, replays, versions.
        case("a visit by brian claiming amina", post(&w.brian, body(uid(), vec![visit(uid(), w.h_north, "amina", json!({}))])), Want::Results(vec![R::Rejected("forbidden")], 1)),
        case("a visit claiming another officer_id", post(a, body(dev, vec![visit(uid(), w.h_north, "brian", json!({}))])), Want::Results(vec![R::Rejected("forbidden")], 1)),
        case("a visit for another team's household", post(a, body(dev, vec![visit(uid(), w.h_south, "amina", json!({}))])), Want::Results(vec![R::Rejected("forbidden")], 1)),
        case("a visit for a household that does not exist", post(a, body(dev, vec![visit(uid(), uid(), "amina", json!({}))])), Want::Results(vec![R::Rejected("unknown_record")], 1)),
        case("a visit whose household_id is a visit", post(a, body(dev, vec![visit(uid(), w.v_north, "amina", json!({}))])), Want::Results(vec![R::Rejected("unknown_record")], 1)),
        case("another team's token updating a household", post(&w.chen, body(uid(), vec![change("household", w.h_north, "update", json!(1), json!({"name": "stolen"}))])), Want::Results(vec![R::Rejected("forbidden")], 1)),
        case("another team's token deleting a visit", post(&w.chen, body(uid(), vec![change("visit", w.v_north, "delete", json!(2), json!({}))])), Want::Results(vec![R::Rejected("forbidden")], 1)),
        case("another team's token re-inserting a household id", post(&w.chen, body(uid(), vec![hh(w.h_north, json!({"name": "mine now"}))])), Want::Results(vec![R::Rejected("already_exists")], 1)),
        case("a household updated as a visit", post(a, body(dev, vec![change("visit", w.h_north, "update", json!(1), json!({"notes": "x"}))])), Want::Results(vec![R::Rejected("unknown_record")], 1)),
        case("an update of a record that does not exist", post(a, body(dev, vec![change("household", uid(), "update", json!(1), json!({"notes": "x"}))])), Want::Results(vec![R::Rejected("unknown_record")], 1)),
        case("a replayed op_id with altered content", post(a, body(dev, vec![{ let mut c = w.first_change.clone(); c["fields"]["name"] = json!("altered"); c }])), Want::Results(vec![R::Rejected("op_id_reused")], 0)),
        case("a replayed op_id as a delete", post(a, body(dev, vec![{ let mut c = w.first_change.clone(); c["operation"] = json!("delete"); c["fields"] = json!({}); c }])), Want::Results(vec![R::Rejected("op_id_reused")], 0)),
        case("an exact replay answers the first result", post(a, body(dev, vec![w.first_change.clone()])), Want::Results(vec![R::Same(w.first_result.clone())], 0)),
        {
            let op = uid();
            let c1 = json!({"op_id": op, "entity_type": "household", "entity_id": w.h_south, "operation": "update", "base_version": 3, "fields": {"name": "x"}});
            let mut c2 = c1.clone();
            c2["fields"]["name"] = json!("y");
            case("duplicate op_ids in one batch, altered", post(a, body(dev, vec![c1, c2])), Want::Results(vec![R::Rejected("forbidden"), R::Rejected("op_id_reused")], 1))
        },
        {
            let c = change("household", w.h_south, "delete", json!(3), json!({}));
            let same = |v: &Value| {
                let mut r = json!({"op_id": v["op_id"], "status": "rejected"});
                r["error"] = json!({"code": "forbidden", "message": format!("household {} belongs to another team", w.h_south)});
                R::Same(r)
            };
            case("duplicate op_ids in one batch, identical", post(a, body(dev, vec![c.clone(), c.clone()])), Want::Results(vec![same(&c), same(&c)], 1))
        },
        case("a negative base_version on a delete (another device)", post(a, body(uid(), vec![change("household", w.h_north, "delete", json!(-1), json!({}))])), Want::Results(vec![R::Rejected("invalid_field")], 1)),
        case("i64::MIN base_version on a delete (another device)", post(a, body(uid(), vec![change("household", w.h_north, "delete", json!(i64::MIN), json!({}))])), Want::Results(vec![R::Rejected("invalid_field")], 1)),
        case("i64::MAX base_version on another team's record", post(a, body(dev, vec![change("household", w.h_south, "delete", json!(i64::MAX), json!({}))])), Want::Results(vec![R::Rejected("forbidden")], 1)),
        case("an empty batch", post(a, body(dev, vec![])), Want::Results(vec![], 0)),
        // --- Field values of the wrong type or shape (per change).
        case("name: a number", post(a, body(dev, vec![hh(uid(), json!({"name": 1}))])), Want::Results(vec![R::Rejected("invalid_field")], 1)),
        case("gps: a string", post(a, body(dev, vec![hh(uid(), json!({"name": "x", "gps": "1,2"}))])), Want::Results(vec![R::Rejected("invalid_field")], 1)),
        case("gps: out of range", post(a, body(dev, vec![hh(uid(), json!({"name": "x", "gps": [91, 1e300]}))])), Want::Results(vec![R::Rejected("invalid_field")], 1)),
        case("notes: an array", post(a, body(dev, vec![hh(uid(), json!({"name": "x", "notes": ["a"]}))])), Want::Results(vec![R::Rejected("invalid_field")], 1)),
        case("notes: 4001 characters", post(a, body(dev, vec![hh(uid(), json!({"name": "x", "notes": "é".repeat(4001)}))])), Want::Results(vec![R::Rejected("invalid_field")], 1)),
        case("an unknown field key", post(a, body(dev, vec![hh(uid(), json!({"name": "x", "owner": "amina"}))])), Want::Results(vec![R::Rejected("invalid_field")], 1)),
        case("household_id: a number", post(a, body(dev, vec![visit(uid(), w.h_north, "amina", json!({"household_id": 5}))])), Want::Results(vec![R::Rejected("invalid_field")], 1)),
        case("visited_at: not a time", post(a, body(dev, vec![visit(uid(), w.h_north, "amina", json!({"visited_at": "yesterday"}))])), Want::Results(vec![R::Rejected("invalid_field")], 1)),
        case("201 answers", post(a, body(dev, vec![visit(uid(), w.h_north, "amina", Value::Object((0..201).map(|i| (format!("answers.q{i}"), json!("a"))).collect()))])), Want::Results(vec![R::Rejected("invalid_field")], 1)),
        case("a delete carrying fields", post(a, body(dev, vec![change("household", w.h_north, "delete", json!(1), json!({"name": "x"}))])), Want::Results(vec![R::Rejected("invalid_field")], 1)),
        case("an update changing a visit's officer_id", post(a, body(dev, vec![change("visit", w.v_north, "update", json!(2), json!({"officer_id": "brian"}))])), Want::Results(vec![R::Rejected("invalid_field")], 1)),
        // --- Pull: limits.
        case("pull limit=0", get(a, "?limit=0"), err(400, "bad_request")),
        case("pull limit=-1", get(a, "?limit=-1"), err(400, "bad_request")),
        case("pull limit=1001", get(a, "?limit=1001"), err(400, "bad_request")),
        case("pull limit=2^32+1", get(a, "?limit=4294967297"), err(400, "bad_request")),
        case("pull limit=i64::MIN", get(a, "?limit=-9223372036854775808"), err(400, "bad_request")),
        case("pull limit=10^30", get(a, "?limit=1000000000000000000000000000000"), err(400, "bad_request")),
        case("pull limit=abc", get(a, "?limit=abc"), err(400, "bad_request")),
        case("pull limit=1.5", get(a, "?limit=1.5"), err(400, "bad_request")),
        case("pull limit=1e3", get(a, "?limit=1e3"), err(400, "bad_request")),
        case("pull limit=NaN", get(a, "?limit=NaN"), err(400, "bad_request")),
        case("pull limit= (empty)", get(a, "?limit="), err(400, "bad_request")),
        case("pull limit=%00", get(a, "?limit=%00"), err(400, "bad_request")),
        case("pull limit=1 (fine)", get(a, "?limit=1"), Want::PullOk),
        case("pull: an unknown parameter", get(a, "?team=south"), err(400, "bad_request")),
        case("pull: an unknown parameter of SQL", get(a, "?limit=1&'%3B%20DROP%20TABLE%20records%3B--=1"), err(400, "bad_request")),
    ];
    // --- Pull: forged cursors.
    let real = w.cursor_amina.clone();
    let (payload, tag) = real.split_once('.').unwrap();
    let flip = |s: &str, i: usize| {
        let mut b = URL_SAFE_NO_PAD.decode(s).unwrap();
        let n = b.len();
        b[i % n] ^= 0x01;
        URL_SAFE_NO_PAD.encode(b)
    };
    let other_secret: [u8; 32] = rand::random();
    let cursors: Vec<(&str, String)> = vec![
        (
            "random base64",
            URL_SAFE_NO_PAD.encode((0..48).map(|_| rand::random::<u8>()).collect::<Vec<u8>>()),
        ),
        (
            "random base64 with a dot",
            format!(
                "{}.{}",
                URL_SAFE_NO_PAD.encode(rand::random::<[u8; 12]>()),
                URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>())
            ),
        ),
        ("truncated", real[..real.len() - 3].to_string()),
        ("its tag dropped", format!("{payload}.")),
        ("bit-flipped tag", format!("{payload}.{}", flip(tag, 5))),
        ("bit-flipped payload", format!("{}.{tag}", flip(payload, 0))),
        (
            "version 0 with the real tag",
            format!("{}.{tag}", URL_SAFE_NO_PAD.encode("0.north")),
        ),
        (
            "another team with the real tag",
            format!("{}.{tag}", URL_SAFE_NO_PAD.encode(format!("{}.south", 3))),
        ),
        (
            "a negative version with the real tag",
            format!("{}.{tag}", URL_SAFE_NO_PAD.encode("-1.north")),
        ),
        (
            "another officer's cursor, same team",
            w.cursor_brian.clone(),
        ),
        (
            "another officer's cursor, another team",
            w.cursor_chen.clone(),
        ),
        (
            "from another server's database",
            encode_cursor(&other_secret, "amina", "north", 3),
        ),
        (
            "from another server, version 0",
            encode_cursor(&other_secret, "amina", "north", 0),
        ),
        (
            "600 characters",
            format!("{real}{}", "A".repeat(600 - real.len())),
        ),
        ("a NUL byte", format!("{payload}%00.{tag}")),
        ("bytes that are not UTF-8", format!("{payload}.{tag}%FF%FE")),
        ("SQL", "'%20OR%20'1'%3D'1".to_string()),
        ("a lone %", "%".to_string()),
        ("three dots", "...".to_string()),
    ];
    for (name, c) in cursors {
        t.push(case(
            format!("pull cursor: {name}"),
            get(a, &format!("?cursor={c}")),
            err(400, "invalid_cursor"),
        ));
    }
    t.push(case(
        "pull cursor: the real one (fine)",
        get(a, &format!("?cursor={real}")),
        Want::PullOk,
    ));
    // --- Wrong types for every field of a request and of a change: 400 for the request.
    let base = hh(uid(), json!({"name": "x"}));
    let wrong: Vec<(&str, Vec<Value>)> = vec![
        (
            "op_id",
            vec![
                json!(1),
                json!("not-a-uuid"),
                json!(null),
                json!(true),
                json!([]),
                json!({}),
                json!("00000000-0000-0000-0000-00000000000g"),
            ],
        ),
        (
            "entity_type",
            vec![
                json!(1),
                json!("cow"),
                json!("Household"),
                json!(" household"),
                json!(null),
                json!([]),
                json!("household\u{0}"),
            ],
        ),
        (
            "entity_id",
            vec![json!(1), json!("x"), json!(null), json!({}), json!(1.5)],
        ),
        (
            "operation",
            vec![
                json!(1),
                json!("upsert"),
                json!("INSERT"),
                json!(null),
                json!(["insert"]),
                json!(""),
            ],
        ),
        (
            "base_version",
            vec![
                json!("7"),
                json!(1.5),
                json!(true),
                json!([]),
                json!({}),
                json!(1e300),
                Value::from(u64::MAX),
            ],
        ),
        (
            "fields",
            vec![json!([]), json!("x"), json!(1), json!(true), json!(null)],
        ),
    ];
    for (field, values) in wrong {
        for v in values {
            let mut c = base.clone();
            c[field] = v.clone();
            t.push(case(
                format!("change.{field} = {v}"),
                post(a, body(dev, vec![c])),
                err(400, "invalid_json"),
            ));
        }
        let mut c = base.clone();
        c.as_object_mut().unwrap().remove(field);
        // A missing base_version is an insert's null (fine); missing fields is {} (so the
        // insert lacks its required name).
        match field {
            "base_version" => {}
            "fields" => t.push(case(
                "change without fields",
                post(a, body(dev, vec![c])),
                Want::Results(vec![R::Rejected("invalid_field")], 1),
            )),
            _ => t.push(case(
                format!("change without {field}"),
                post(a, body(dev, vec![c])),
                err(400, "invalid_json"),
            )),
        }
    }
    for big in [
        "9223372036854775808",
        "-9223372036854775809",
        "1e400",
        "-0.0",
        "1E2",
    ] {
        let s =
            serde_json::to_string(&json!({"device_id": dev, "changes": [base.clone()]})).unwrap();
        let s = s.replace("\"base_version\":null", &format!("\"base_version\":{big}"));
        t.push(case(
            format!("change.base_version = {big}"),
            post(a, s.into_bytes()),
            err(400, "invalid_json"),
        ));
    }
    for v in [json!(1), json!("x"), json!(null), json!([])] {
        t.push(case(
            format!("device_id = {v}"),
            post(
                a,
                json!({"device_id": v, "changes": []})
                    .to_string()
                    .into_bytes(),
            ),
            err(400, "invalid_json"),
        ));
    }
    for v in [json!({}), json!("x"), json!(null), json!(1)] {
        t.push(case(
            format!("changes = {v}"),
            post(
                a,
                json!({"device_id": dev, "changes": v})
                    .to_string()
                    .into_bytes(),
            ),
            err(400, "invalid_json"),
        ));
    }
    let mut extra = base.clone();
    extra["team"] = json!("south");
    t.push(case(
        "an unknown field in a change",
        post(a, body(dev, vec![extra])),
        err(400, "invalid_json"),
    ));
    // --- SQL metacharacters in every string field of a change.
    for (i, m) in SQL_META_STRINGS.iter().enumerate() {
        // Where a string is free text it is data: stored and pulled back byte-exactly.
        let (h, v) = (uid(), uid());
        let hf = json!({"name": m, "village": m, "notes": m});
        let vis = visit(
            v,
            w.h_north,
            "amina",
            json!({"notes": m, "answers.a_b": m, "answers._": m}),
        );
        let vfields = vis["fields"].clone();
        t.push(case(
            format!("SQL metacharacters as data #{i}: {m:?}"),
            post(a, body(dev, vec![hh(h, hf.clone()), vis])),
            Want::Stored(vec![(h, hf), (v, vfields)]),
        ));
        // Where a string has a grammar it is refused: for the request (UUIDs, enums) ...
        for field in ["op_id", "entity_type", "entity_id", "operation"] {
            let mut c = base.clone();
            c[field] = json!(m);
            t.push(case(
                format!("SQL metacharacters in change.{field} #{i}"),
                post(a, body(dev, vec![c])),
                err(400, "invalid_json"),
            ));
        }
        t.push(case(
            format!("SQL metacharacters in device_id #{i}"),
            post(
                a,
                json!({"device_id": m, "changes": []})
                    .to_string()
                    .into_bytes(),
            ),
            err(400, "invalid_json"),
        ));
        // ... or for the change (field keys, ids, times).
        let per_change: Vec<(&str, Value)> = vec![
            (
                "a field key",
                hh(uid(), json!({"name": "x", m.to_string(): "v"})),
            ),
            (
                "an answer key",
                visit(
                    uid(),
                    w.h_north,
                    "amina",
                    json!({format!("answers.{m}"): "v"}),
                ),
            ),
            (
                "household_id",
                visit(uid(), w.h_north, "amina", json!({"household_id": m})),
            ),
            (
                "officer_id",
                visit(uid(), w.h_north, "amina", json!({"officer_id": m})),
            ),
            (
                "visited_at",
                visit(uid(), w.h_north, "amina", json!({"visited_at": m})),
            ),
        ];
        for (what, c) in per_change {
            // '_' alone and "%_%"... are not valid answer keys or officer ids except "_".
            let ok_anyway = what == "an answer key" && *m == "_";
            if ok_anyway {
                continue;
            }
            let code = if what == "officer_id" && model_valid_officer(m) {
                "forbidden"
            } else {
                "invalid_field"
            };
            t.push(case(
                format!("SQL metacharacters in {what} #{i}"),
                post(a, body(dev, vec![c])),
                Want::Results(vec![R::Rejected(code)], 1),
            ));
        }
    }
    // NUL in every free-text field: refused per change (PostgreSQL text cannot hold it).
    for (what, c) in [
        ("name", hh(uid(), json!({"name": "a\u{0}b"}))),
        (
            "village",
            hh(uid(), json!({"name": "a", "village": "\u{0}"})),
        ),
        (
            "notes",
            hh(
                uid(),
                json!({"name": "a", "notes": "x\u{0}'; DROP TABLE records; --"}),
            ),
        ),
        (
            "an answer",
            visit(uid(), w.h_north, "amina", json!({"answers.q": "\u{0}"})),
        ),
        (
            "an answer key",
            visit(uid(), w.h_north, "amina", json!({"answers.q\u{0}": "v"})),
        ),
        (
            "officer_id",
            visit(
                uid(),
                w.h_north,
                "amina",
                json!({"officer_id": "amina\u{0}"}),
            ),
        ),
        (
            "household_id",
            visit(
                uid(),
                w.h_north,
                "amina",
                json!({"household_id": format!("{}\u{0}", w.h_north)}),
            ),
        ),
        (
            "visited_at",
            visit(
                uid(),
                w.h_north,
                "amina",
                json!({"visited_at": "2026-11-25T09:30:00Z\u{0}"}),
            ),
        ),
    ] {
        t.push(case(
            format!("NUL in {what}"),
            post(a, body(dev, vec![c])),
            Want::Results(vec![R::Rejected("invalid_field")], 1),
        ));
    }
    // NUL in every string of a change that has a grammar: refused for the request.
    for field in ["op_id", "entity_type", "entity_id", "operation"] {
        let mut c = base.clone();
        c[field] = json!(format!("{}\u{0}", c[field].as_str().unwrap_or("")));
        t.push(case(
            format!("NUL in change.{field}"),
            post(a, body(dev, vec![c])),
            err(400, "invalid_json"),
        ));
    }
    t.push(case(
        "NUL in device_id",
        post(
            a,
            json!({"device_id": format!("{dev}\u{0}"), "changes": []})
                .to_string()
                .into_bytes(),
        ),
        err(400, "invalid_json"),
    ));
    // A base_version the server never issued is refused (it would switch conflicts off).
    let h = uid();
    t.push(case(
        "insert for the i64::MAX base_version case",
        post(a, body(dev, vec![hh(h, json!({"name": "base"}))])),
        Want::Stored(vec![(h, json!({"name": "base"}))]),
    ));
    t.push(case(
        "i64::MAX base_version on own record is rejected",
        post(
            a,
            body(
                uid(),
                vec![change(
                    "household",
                    h,
                    "update",
                    json!(i64::MAX),
                    json!({"notes": "n"}),
                )],
            ),
        ),
        Want::Results(vec![R::Rejected("invalid_field")], 1),
    ));
    t
}

fn model_valid_officer(s: &str) -> bool {
    fieldsync::model::validate_officer_id(s).is_ok()
}

trait WithPath {
    fn with_path(self, p: &str) -> Self;
}
impl WithPath for Req {
    fn with_path(mut self, p: &str) -> Req {
        self.path = p.into();
        self
    }
}

fn run_case(w: &World, c: &Case, before: &Fingerprint) -> Fingerprint {
    let r = send(&w.addr, &c.req);
    let name = &c.name;
    assert!(
        r.status < 500,
        "{name}: {} {:?}",
        r.status,
        String::from_utf8_lossy(&r.body)
    );
    let mut new_ops = 0;
    let mut stored: Vec<(Uuid, Value)> = Vec::new();
    match &c.want {
        Want::Error(status, code) => {
            assert_eq!(
                r.status,
                *status,
                "{name}: {:?}",
                String::from_utf8_lossy(&r.body)
            );
            assert_eq!(r.error_code(), *code, "{name}");
        }
        Want::Bare(status) => {
            assert_eq!(
                r.status,
                *status,
                "{name}: {:?}",
                String::from_utf8_lossy(&r.body)
            );
            assert!(
                r.body.is_empty(),
                "{name}: {:?}",
                String::from_utf8_lossy(&r.body)
            );
        }
        Want::PullOk => {
            assert_eq!(
                r.status,
                200,
                "{name}: {:?}",
                String::from_utf8_lossy(&r.body)
            );
            serde_json::from_slice::<PullResponse>(&r.body).expect("a pull page");
        }
        Want::Results(want, ops) => {
            assert_eq!(
                r.status,
                200,
                "{name}: {:?}",
                String::from_utf8_lossy(&r.body)
            );
            let v = r.json();
            serde_json::from_value::<PushResponse>(v.clone()).expect("a push response");
            let got = v["results"].as_array().unwrap();
            assert_eq!(got.len(), want.len(), "{name}: {got:?}");
            for (g, w) in got.iter().zip(want) {
                match w {
                    R::Rejected(code) => {
                        assert_eq!(g["status"], "rejected", "{name}: {g}");
                        assert_eq!(g["error"]["code"], *code, "{name}: {g}");
                    }
                    R::Same(x) => assert_eq!(g, x, "{name}"),
                }
            }
            new_ops = *ops;
        }
        Want::Stored(recs) => {
            assert_eq!(
                r.status,
                200,
                "{name}: {:?}",
                String::from_utf8_lossy(&r.body)
            );
            let v = r.json();
            let got = v["results"].as_array().unwrap();
            assert!(
                got.iter().all(|g| g["status"] == "accepted"),
                "{name}: {got:?}"
            );
            new_ops = got.len();
            stored.clone_from(recs);
        }
    }
    // The server is still there.
    let h = send(
        &w.addr,
        &Req {
            method: "GET",
            path: "/v1/health".into(),
            headers: vec![],
            body: vec![],
            framing: Framing::Length,
        },
    );
    assert_eq!(h.status, 200, "{name}: health after the case");
    let after = fingerprint(w);
    // Nothing stored but what the case says.
    assert_eq!(after.officers, before.officers, "{name}: officers");
    assert_eq!(
        after.officer_rows, before.officer_rows,
        "{name}: officer rows"
    );
    assert_eq!(after.meta, before.meta, "{name}: meta");
    for (k, v) in &before.ops {
        assert_eq!(after.ops.get(k), Some(v), "{name}: a stored result changed");
    }
    assert_eq!(
        after.ops.len(),
        before.ops.len() + new_ops,
        "{name}: results stored under op_ids"
    );
    let ids: Vec<String> = stored.iter().map(|(id, _)| id.to_string()).collect();
    let strip = |fp: &Fingerprint| -> (Pulls, BTreeMap<String, String>) {
        let pulls = fp
            .pulls
            .iter()
            .map(|(t, rs)| {
                (
                    t.clone(),
                    rs.iter()
                        .filter(|r| !ids.iter().any(|i| r["id"] == *i))
                        .cloned()
                        .collect(),
                )
            })
            .collect();
        let recs = fp
            .records
            .iter()
            .filter(|(k, _)| !ids.contains(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        (pulls, recs)
    };
    assert_eq!(strip(&after), strip(before), "{name}: records changed");
    if stored.is_empty() {
        assert_eq!(
            after.counters, before.counters,
            "{name}: version counters moved"
        );
    } else {
        let (v0, _) = counters(before);
        let (v1, _) = counters(&after);
        assert_eq!(v1, v0 + new_ops as i64, "{name}: versions taken");
        let north = &after.pulls[0].1;
        for (id, fields) in &stored {
            let rec = north
                .iter()
                .find(|r| r["id"] == id.to_string())
                .unwrap_or_else(|| panic!("{name}: {id} not pulled"));
            assert_eq!(&rec["fields"], fields, "{name}: fields do not round-trip");
            // Byte-exact: the JSON text of each string is the same.
            for (k, v) in fields.as_object().unwrap() {
                assert_eq!(
                    rec["fields"][k].as_str().map(str::as_bytes),
                    v.as_str().map(str::as_bytes),
                    "{name}: {k}"
                );
            }
            assert!(
                !after.pulls[1].1.iter().any(|r| r["id"] == id.to_string()),
                "{name}: another team sees {id}"
            );
        }
    }
    after
}

fn hostile_requests_table(kind: StoreKind) {
    let w = World::new(kind);
    let mut fp = fingerprint(&w);
    // Each team pulls only its own records.
    let north: Vec<&Value> = fp.pulls[0].1.iter().collect();
    let south: Vec<&Value> = fp.pulls[1].1.iter().collect();
    assert_eq!(north.len(), 2);
    assert_eq!(south.len(), 1);
    assert!(south.iter().all(|r| r["id"] == w.h_south.to_string()));
    let cases = table(&w);
    if let Ok(path) = std::env::var("FIELDSYNC_HOSTILE_TABLE") {
        write_table(&path, &cases);
    }
    let start = Instant::now();
    for c in &cases {
        fp = run_case(&w, c, &fp);
    }
    println!(
        "{kind:?}: {} hostile requests in {:.1} s",
        cases.len(),
        start.elapsed().as_secs_f64()
    );
    // The first result is intact after every replay attempt.
    let r = push_ok(&w.addr, &w.amina, w.device, vec![w.first_change.clone()]);
    assert_eq!(r[0], w.first_result);
    assert!(cases.len() >= 150, "{}", cases.len());
}

/// Writes the table as Markdown (for docs/hostile.md): the variants of one case (`#N`, one
/// per SQL metacharacter string) on one row.
fn write_table(path: &str, cases: &[Case]) {
    let mut rows: Vec<(String, String, usize)> = Vec::new();
    for c in cases {
        let name = match c.name.find(" #") {
            Some(i) => c.name[..i].to_string(),
            None => c.name.clone(),
        };
        let want = match &c.want {
            Want::Error(st, code) => format!("{st} `{code}`"),
            Want::Results(rs, ops) => {
                let rs: Vec<String> = rs
                    .iter()
                    .map(|r| match r {
                        R::Rejected(code) => format!("rejected `{code}`"),
                        R::Same(_) => "the first result again".into(),
                    })
                    .collect();
                format!(
                    "200: [{}]; {ops} op result(s) stored, nothing else",
                    rs.join(", ")
                )
            }
            Want::Stored(_) => "200, accepted as data, round-trips byte-exactly".into(),
            Want::PullOk => "200".into(),
            Want::Bare(st) => format!("{st} from hyper, empty body"),
        };
        match rows.iter_mut().find(|(n, w, _)| *n == name && *w == want) {
            Some((_, _, k)) => *k += 1,
            None => rows.push((name, want, 1)),
        }
    }
    let mut out = String::from("| # | hostile request | expected |\n|---|---|---|\n");
    for (i, (n, w, k)) in rows.iter().enumerate() {
        let n = n.replace('|', "\\|");
        let n = if *k > 1 { format!("{n} (×{k})") } else { n };
        out.push_str(&format!(
            "| {} | {n} | {} |\n",
            i + 1,
            w.replace('|', "\\|")
        ));
    }
    std::fs::write(path, out).unwrap();
}

#[test]
fn sqlite_hostile_requests_table() {
    hostile_requests_table(StoreKind::Sqlite);
}

#[test]
fn postgres_hostile_requests_table() {
    hostile_requests_table(StoreKind::Postgres);
}

// ---------------------------------------------------------------------------------------
// Fuzzing a live server with proptest.

fn arb_json() -> BoxedStrategy<Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        ".{0,24}".prop_map(Value::String),
        prop_oneof![
            Just("household"),
            Just("visit"),
            Just("insert"),
            Just("update"),
            Just("delete"),
            Just("'; DROP TABLE ops; --"),
            Just("%_\\")
        ]
        .prop_map(|s| Value::String(s.into())),
        any::<u128>().prop_map(|u| Value::String(Uuid::from_u128(u).to_string())),
    ];
    leaf.prop_recursive(6, 64, 8, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::btree_map("[a-z_.]{0,12}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
    .boxed()
}

const KEYS: &[&str] = &[
    "op_id",
    "entity_type",
    "entity_id",
    "operation",
    "base_version",
    "fields",
];

/// A change whose every field is either valid or arbitrary, with random extra or missing keys.
fn arb_change(households: Vec<Uuid>) -> impl Strategy<Value = Value> {
    let hs = households.clone();
    let id = prop_oneof![
        3 => any::<u128>().prop_map(|u| json!(Uuid::from_u128(u))),
        2 => proptest::sample::select(hs).prop_map(|u| json!(u)),
        1 => arb_json(),
    ]
    .boxed();
    let fields = prop_oneof![
        2 => (".{0,30}", proptest::option::of(".{0,30}"), proptest::option::of((-100.0f64..100.0, -200.0f64..200.0))).prop_map(|(n, v, g)| {
            let mut f = json!({"name": n});
            if let Some(v) = v { f["notes"] = json!(v); }
            if let Some((a, b)) = g { f["gps"] = json!([a, b]); }
            f
        }),
        2 => (proptest::sample::select(households), proptest::sample::select(vec!["amina", "brian", "x"]), "[a-z_.%-]{1,8}", ".{0,20}").prop_map(|(h, o, k, v)| json!({"household_id": h, "officer_id": o, "visited_at": "2026-11-25T09:30:00Z", format!("answers.{k}"): v})),
        1 => proptest::collection::btree_map("[a-z_.]{0,12}", arb_json(), 0..5).prop_map(|m| Value::Object(m.into_iter().collect())),
        1 => arb_json(),
    ];
    (
        id.clone(),
        prop_oneof![4 => proptest::sample::select(vec!["household", "visit"]).prop_map(|s| json!(s)), 1 => arb_json()],
        id,
        prop_oneof![4 => proptest::sample::select(vec!["insert", "update", "delete"]).prop_map(|s| json!(s)), 1 => arb_json()],
        prop_oneof![2 => Just(Value::Null), 2 => (-3i64..20).prop_map(Value::from), 1 => any::<i64>().prop_map(Value::from), 1 => arb_json()],
        fields,
        proptest::collection::vec(proptest::sample::select(KEYS.to_vec()), 0..2),
        proptest::option::of(("[a-z_]{1,8}", arb_json())),
    )
        .prop_map(|(op, et, eid, oper, base, fields, drop, extra)| {
            let mut c = json!({"op_id": op, "entity_type": et, "entity_id": eid, "operation": oper, "base_version": base, "fields": fields});
            for k in drop {
                c.as_object_mut().unwrap().remove(k);
            }
            if let Some((k, v)) = extra {
                c[k] = v;
            }
            c
        })
}

fn fuzz_cases() -> u32 {
    std::env::var("FIELDSYNC_FUZZ_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_000)
}

fn check_live(addr: &str, req: &Req) -> Result<(), String> {
    let r = send(addr, req);
    if r.status >= 500 {
        return Err(format!(
            "{} {:?}",
            r.status,
            String::from_utf8_lossy(&r.body)
        ));
    }
    if r.status != 200 && serde_json::from_slice::<ErrorBody>(&r.body).is_err() {
        return Err(format!(
            "{} not an error body: {:?}",
            r.status,
            String::from_utf8_lossy(&r.body)
        ));
    }
    Ok(())
}

/// Draws inputs from `strat` and sends each, for `cases` inputs or until `budget` is spent.
/// A failure panics with the input, the generator and the seed.
fn fuzz_with<S: Strategy>(
    name: &str,
    seed: u64,
    strat: S,
    budget: Duration,
    mut send_one: impl FnMut(&S::Value) -> Result<(), String>,
) -> u64
where
    S::Value: std::fmt::Debug,
{
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    let config = Config {
        cases: fuzz_cases(),
        failure_persistence: None,
        ..Config::default()
    };
    let mut runner =
        TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &bytes));
    let start = Instant::now();
    let mut n = 0u64;
    while n < u64::from(fuzz_cases()) && start.elapsed() < budget {
        let value = strat.new_tree(&mut runner).expect("generate").current();
        if let Err(e) = send_one(&value) {
            panic!("{name} (FIELDSYNC_FUZZ_SEED={seed}): {e}\ninput: {value:?}");
        }
        n += 1;
    }
    println!(
        "{name}: {n} requests in {:.1} s",
        start.elapsed().as_secs_f64()
    );
    n
}

#[test]
fn fuzz_push_and_pull_never_5xx() {
    let w = World::new(StoreKind::Sqlite);
    let (addr, token) = (w.addr.clone(), w.amina.clone());
    // By default each of the four generators runs for at most 5 s (about 20 s in all); with
    // FIELDSYNC_FUZZ_CASES set, every case runs whatever it takes.
    let budget = Duration::from_secs(if std::env::var("FIELDSYNC_FUZZ_CASES").is_ok() {
        86_400
    } else {
        5
    });
    let seed: u64 = std::env::var("FIELDSYNC_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random);
    let start = Instant::now();
    let mut total = 0;
    total += fuzz_with(
        "arbitrary bytes",
        seed,
        (
            proptest::collection::vec(any::<u8>(), 0..4096),
            any::<bool>(),
        ),
        budget,
        |(b, gz)| {
            let mut req = post(&token, if *gz { gzip_bytes(b) } else { b.clone() });
            if *gz {
                req = with_header(req, "Content-Encoding", b"gzip");
            }
            check_live(&addr, &req)
        },
    );
    total += fuzz_with("arbitrary JSON", seed, arb_json(), budget, |v| {
        check_live(&addr, &post(&token, serde_json::to_vec(v).unwrap()))
    });
    let households = vec![w.h_north, w.h_south, w.v_north, uid()];
    let near_valid = (
        prop_oneof![4 => any::<u128>().prop_map(|u| json!(Uuid::from_u128(u))), 1 => arb_json()],
        proptest::collection::vec(arb_change(households), 0..12),
        proptest::option::of(("[a-z_]{1,8}", arb_json())),
    );
    total += fuzz_with(
        "near-valid push requests",
        seed,
        near_valid,
        budget,
        |(dev, changes, extra)| {
            let mut b = json!({"device_id": dev, "changes": changes});
            if let Some((k, v)) = extra {
                b[k] = v.clone();
            }
            check_live(&addr, &post(&token, serde_json::to_vec(&b).unwrap()))
        },
    );
    let cursor = w.cursor_amina.clone();
    let queries = prop_oneof![
        "[ -~]{0,80}",
        (
            "-?[0-9]{0,25}(\\.[0-9])?",
            proptest::option::of("[A-Za-z0-9_.%=-]{0,90}")
        )
            .prop_map(|(l, c)| match c {
                Some(c) => format!("limit={l}&cursor={c}"),
                None => format!("limit={l}"),
            }),
        (0usize..200, any::<u8>()).prop_map(move |(i, b)| {
            let mut c = cursor.clone().into_bytes();
            let n = c.len();
            c[i % n] = b;
            format!(
                "cursor={}",
                c.iter().map(|b| format!("%{b:02X}")).collect::<String>()
            )
        }),
    ];
    total += fuzz_with("random pull query strings", seed, queries, budget, |q| {
        // Raw where a request-target allows it (so '%' stays raw), escaped elsewhere.
        let q: String = q
            .bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b"-._~=&%+!$'()*,;:@/?".contains(&b) {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect();
        check_live(&addr, &get(&token, &format!("?{q}")))
    });
    let h = send(
        &addr,
        &Req {
            method: "GET",
            path: "/v1/health".into(),
            headers: vec![],
            body: vec![],
            framing: Framing::Length,
        },
    );
    assert_eq!(h.status, 200);
    println!(
        "fuzz: {total} requests in {:.1} s, none 5xx, seed {seed}",
        start.elapsed().as_secs_f64()
    );
}

// ---------------------------------------------------------------------------------------
// Known, not fixed: conflict results amplify what one push costs.

/// One officer's 100 KB push of 500 conflicting one-answer updates to a visit holding 200
/// answers of 1000 characters: every conflict result carries the whole server record, so
/// the answer is about 100 MB and the ops table keeps 100 MB more (repeatable with fresh
/// op_ids). Fixing it changes what a stored conflict result holds (see docs/hostile.md), so
/// this test is ignored until then; it fails today.
#[test]
#[ignore = "known bug: conflict results amplify a 100 KB push into ~100 MB stored and sent"]
fn conflict_results_do_not_amplify_a_push() {
    let w = World::new(StoreKind::Sqlite);
    let (a, h) = (w.amina.as_str(), w.h_north);
    let v = uid();
    let mut answers = serde_json::Map::new();
    for i in 0..200 {
        answers.insert(format!("answers.q{i}"), json!("a".repeat(1000)));
    }
    let r = push_ok(
        &w.addr,
        a,
        w.device,
        vec![visit(v, h, "amina", Value::Object(answers))],
    );
    let base = r[0]["version"].clone();
    push_ok(
        &w.addr,
        a,
        w.device,
        vec![change(
            "visit",
            v,
            "update",
            base.clone(),
            json!({"answers.q0": "b"}),
        )],
    );
    let stored = |w: &World| -> i64 {
        rows(
            &w.s.db,
            "SELECT CAST(COALESCE(SUM(LENGTH(result)), 0) AS TEXT) FROM ops",
        )[0]
        .parse()
        .unwrap()
    };
    let before = stored(&w);
    let changes: Vec<Value> = (0..500)
        .map(|_| {
            change(
                "visit",
                v,
                "update",
                base.clone(),
                json!({"answers.q0": "c"}),
            )
        })
        .collect();
    let req = post(a, body(uid(), changes));
    let sent = req.body.len();
    let resp = send(&w.addr, &req);
    assert_eq!(resp.status, 200);
    let grew = stored(&w) - before;
    println!(
        "request {sent} bytes, response {} bytes, ops grew {grew} bytes",
        resp.body.len()
    );
    assert!(
        resp.body.len() < 20 * sent,
        "response {} bytes for a {sent}-byte push",
        resp.body.len()
    );
    assert!(
        (grew as usize) < 20 * sent,
        "{grew} bytes stored for a {sent}-byte push"
    );
}
