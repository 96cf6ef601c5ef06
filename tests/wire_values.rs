//! Canonical values on the wire (issue 12, item 5), on both stores: the server stores and
//! returns every UUID lower-case and hyphenated and every time as RFC 3339 in UTC with `T`
//! and `Z`, whatever spelling a client sent; what cannot be read strictly is rejected
//! `invalid_field`; and the rules `docs/protocol.md` documents are the ones enforced.

mod support;

use fieldsync::protocol::{ChangeStatus, ErrorCode};
use reqwest::StatusCode;
use serde_json::{json, Value};
use support::body::{change, household, insert, push_request, uid, visit};
use support::http::{pull_all, push, push_raw};
use support::{both_stores, StoreKind, TestServer};
use uuid::Uuid;

fn rejected_code(r: &fieldsync::protocol::ChangeResult) -> ErrorCode {
    assert_eq!(r.status, ChangeStatus::Rejected, "{r:?}");
    r.error.as_ref().expect("a rejection carries an error").code
}

/// Non-canonical ids and times are stored and returned canonical.
fn non_canonical_spellings_come_back_canonical(kind: StoreKind) {
    let s = TestServer::new(kind);
    let token = s.add_officer("amina", "north");
    let (h, v1, v2) = (uid(), uid(), uid());
    let upper = |u: Uuid| u.hyphenated().to_string().to_uppercase();
    // Ids typed as UUIDs in the protocol, in braced and urn forms, upper-case.
    let mut hh = household(h, "Wanjiru");
    hh["entity_id"] = json!(format!("{{{}}}", upper(h)));
    let mut first = visit(
        v1,
        h,
        "amina",
        json!({"visited_at": "2026-11-25t12:30:00+03:00"}),
    );
    first["fields"]["household_id"] = json!(format!("urn:uuid:{}", upper(h)));
    first["entity_id"] = json!(format!("urn:uuid:{}", upper(v1)));
    let mut second = visit(
        v2,
        h,
        "amina",
        json!({"visited_at": "2026-11-25T09:30:00.500z"}),
    );
    second["fields"]["household_id"] = json!(format!("{{{}}}", upper(h)));
    let body =
        json!({"device_id": format!("{{{}}}", upper(uid())), "changes": [hh, first, second]});
    let (st, out) = push_raw(&s.url, &token, &body);
    assert_eq!(st, StatusCode::OK, "{out}");
    for r in out["results"].as_array().unwrap() {
        assert_eq!(r["status"], "accepted", "{r}");
    }
    let (records, _) = pull_all(&s.url, &token, None);
    let by_id = |id: Uuid| records.iter().find(|r| r.id == id).expect("pulled").clone();
    let canonical_h = h.hyphenated().to_string();
    let a = by_id(v1);
    assert_eq!(a.fields["household_id"], json!(canonical_h));
    assert_eq!(a.fields["visited_at"], json!("2026-11-25T09:30:00Z"));
    let b = by_id(v2);
    assert_eq!(b.fields["household_id"], json!(canonical_h));
    assert_eq!(b.fields["visited_at"], json!("2026-11-25T09:30:00.5Z"));
    // The raw JSON too: ids as the server writes them.
    let (_, page) = support::http::pull_raw(&s.url, &token, "");
    for r in page["records"].as_array().unwrap() {
        let id = r["id"].as_str().unwrap();
        assert_eq!(id, id.to_lowercase());
        assert_eq!(id.len(), 36, "{id}");
    }
    // An update spelling the time another way changes nothing else and stores it canonical.
    let res = push(
        &s.url,
        &token,
        uid(),
        vec![change(
            "visit",
            v1,
            "update",
            json!(a.version),
            json!({"visited_at": "2026-11-25T10:00:00+00:00"}),
        )],
    );
    assert_eq!(res[0].status, ChangeStatus::Accepted, "{res:?}");
    let (records, _) = pull_all(&s.url, &token, None);
    let a = records.iter().find(|r| r.id == v1).unwrap();
    assert_eq!(a.fields["visited_at"], json!("2026-11-25T10:00:00Z"));
}

/// Every rule `docs/protocol.md` states for fields, enforced: each case is rejected
/// `invalid_field` on its own, and nothing is stored.
fn documented_rules_are_enforced(kind: StoreKind) {
    let s = TestServer::new(kind);
    let token = s.add_officer("amina", "north");
    let h = uid();
    push(&s.url, &token, uid(), vec![household(h, "Wanjiru")]);
    let bad_visit = |extra: Value| visit(uid(), h, "amina", extra);
    let many: serde_json::Map<String, Value> = (0..201)
        .map(|i| (format!("answers.q{i}"), json!("x")))
        .collect();
    let cases: Vec<(&str, Value)> = vec![
        (
            "time with X",
            bad_visit(json!({"visited_at": "2026-11-25X09:30:00z"})),
        ),
        (
            "time with a space",
            bad_visit(json!({"visited_at": "2026-11-25 09:30:00Z"})),
        ),
        (
            "time without a zone",
            bad_visit(json!({"visited_at": "2026-11-25T09:30:00"})),
        ),
        (
            "household_id not a UUID",
            bad_visit(json!({"household_id": "0192f0a0-zzzz"})),
        ),
        ("NUL in a name", household(uid(), "Wan\u{0}jiru")),
        (
            "NUL in notes",
            insert("household", uid(), json!({"name": "a", "notes": "x\u{0}"})),
        ),
        (
            "NUL in an answer",
            bad_visit(json!({"answers.crop": "m\u{0}"})),
        ),
        ("blank name", household(uid(), "   ")),
        (
            "latitude 91",
            insert("household", uid(), json!({"name": "a", "gps": [91.0, 0.0]})),
        ),
        (
            "longitude -181",
            insert(
                "household",
                uid(),
                json!({"name": "a", "gps": [0.0, -181.0]}),
            ),
        ),
        (
            "gps of three",
            insert(
                "household",
                uid(),
                json!({"name": "a", "gps": [1.0, 2.0, 3.0]}),
            ),
        ),
        ("201 answers", bad_visit(Value::Object(many))),
        (
            "answer key charset",
            bad_visit(json!({"answers.cr op": "x"})),
        ),
        ("name over 200", household(uid(), &"n".repeat(201))),
        (
            "base_version on an insert",
            change("household", uid(), "insert", json!(3), json!({"name": "a"})),
        ),
    ];
    for (what, c) in cases {
        let res = push(&s.url, &token, uid(), vec![c]);
        assert_eq!(
            rejected_code(&res[0]),
            ErrorCode::InvalidField,
            "{what}: {res:?}"
        );
    }
    // The officer id charset: a visit must name the token's officer, so a malformed one is
    // refused before it could be stored.
    let res = push(
        &s.url,
        &token,
        uid(),
        vec![bad_visit(json!({"officer_id": "am ina"}))],
    );
    assert_ne!(res[0].status, ChangeStatus::Accepted, "{res:?}");
    let (records, _) = pull_all(&s.url, &token, None);
    assert_eq!(records.len(), 1, "only the household: {records:?}");
    // A malformed UUID where the protocol types one is the whole request's error.
    let body = push_request(uid(), vec![household(uid(), "a")]);
    let mut body = body;
    body["changes"][0]["entity_id"] = json!("not-a-uuid");
    let (st, out) = push_raw(&s.url, &token, &body);
    assert_eq!(st, StatusCode::BAD_REQUEST, "{out}");
}

both_stores!(
    non_canonical_spellings_come_back_canonical,
    documented_rules_are_enforced
);

/// `admin --database sqlite:PATH` names the same file as `serve --database sqlite:PATH`
/// (found by `.ci/schemathesis`: admin took the whole string for a path and answered 66).
#[test]
fn admin_reads_a_sqlite_prefixed_database_as_serve_does() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite:{}", dir.path().join("server.sqlite3").display());
    let _server = TestServer::start_with_db(&db);
    let (code, token, err) = support::admin(&db, &["officer", "add", "amina", "--team", "north"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(token.trim().len(), 64, "{token}");
}
