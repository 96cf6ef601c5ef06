//! HTTP-level tests of `fieldsync serve` against real server processes on 127.0.0.1, each
//! written once and run against both stores (SQLite and PostgreSQL).

mod support;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use fieldsync::protocol::{
    ChangeResult, ChangeStatus, ErrorBody, ErrorCode, HealthResponse, PullResponse, PushRequest,
    PushResponse, Record,
};
use reqwest::blocking::Client;
use reqwest::StatusCode;
use serde_json::{json, Value};
use support::body::{delete, household, uid, update, visit_with_answers};
use support::http::{
    client, error_code, gzip, pull_all, pull_page, pull_raw, push, push_raw, JsonReq, JsonResp,
};
use support::{admin, both_stores, StoreKind, TestServer};
use uuid::Uuid;

fn accepted(r: &ChangeResult) -> i64 {
    assert_eq!(r.status, ChangeStatus::Accepted, "{r:?}");
    r.version.unwrap()
}

fn rejected(r: &ChangeResult) -> ErrorCode {
    assert_eq!(r.status, ChangeStatus::Rejected, "{r:?}");
    r.error.as_ref().unwrap().code
}

fn record(url: &str, token: &str, id: Uuid) -> Record {
    let (all, _) = pull_all(url, token, None);
    all.into_iter()
        .find(|r| r.id == id)
        .unwrap_or_else(|| panic!("{id} not pulled"))
}

both_stores!(
    health_and_not_found,
    field_level_merge_and_conflicts,
    deletes_and_tombstones,
    replays_are_idempotent_across_restarts,
    op_id_reuse_with_other_content_is_rejected,
    rejections_do_not_block_the_batch,
    teams_see_and_edit_only_their_records,
    moving_an_officer_delivers_the_new_team,
    tokens_missing_unknown_or_revoked_get_401,
    cursors_and_limits_are_checked,
    purged_history_answers_resync_required,
    bad_bodies_get_4xx_json,
    gzip_requests_and_responses,
    concurrent_pushes_never_make_the_cursor_skip,
    overload_answers_503_with_retry_after,
    sigterm_finishes_in_flight_requests,
    admin_commands_report_errors_with_exit_codes,
);

fn health_and_not_found(kind: StoreKind) {
    let s = TestServer::new(kind);
    let h: HealthResponse = client()
        .get(s.at("/v1/health"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(h.status, "ok");
    assert_eq!(h.store, kind.name());
    let r = client().get(s.at("/v2/nothing")).send().unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(error_code(&r.json().unwrap()), ErrorCode::NotFound);
    let r = client().get(s.at("/v1/push")).send().unwrap();
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
    error_code(&r.json().unwrap());
}

fn field_level_merge_and_conflicts(kind: StoreKind) {
    let s = TestServer::new(kind);
    let amina = s.add_officer("amina", "north");
    let bo = s.add_officer("bo", "north");
    let (da, db) = (uid(), uid());
    let h = uid();
    let v1 = accepted(&push(&s.url, &amina, da, vec![household(h, "Achieng")])[0]);
    // Bo edits notes on top of v1.
    let v2 = accepted(
        &push(
            &s.url,
            &bo,
            db,
            vec![update("household", h, v1, json!({"notes": "bo"}))],
        )[0],
    );
    assert!(v2 > v1);
    // Amina, still at v1, edits gps: no collision, merged.
    let r = push(
        &s.url,
        &amina,
        da,
        vec![update("household", h, v1, json!({"gps": [1.0, 2.0]}))],
    );
    let v3 = accepted(&r[0]);
    assert!(r[0].merged && v3 > v2);
    // Amina, still at v1, edits notes: collides with Bo's.
    let r = push(
        &s.url,
        &amina,
        da,
        vec![update("household", h, v1, json!({"notes": "amina"}))],
    );
    assert_eq!(r[0].status, ChangeStatus::Conflict);
    assert_eq!(r[0].conflicting_fields, vec!["notes".to_string()]);
    let sr = r[0].server_record.as_ref().unwrap();
    assert_eq!(sr.fields["notes"], json!("bo"));
    assert_eq!(sr.fields["gps"], json!([1.0, 2.0]));
    assert_eq!(sr.version, v3);
    // The device's own later edits never conflict with its earlier ones.
    accepted(
        &push(
            &s.url,
            &bo,
            db,
            vec![update("household", h, v1, json!({"notes": "bo again"}))],
        )[0],
    );
    // Same value as the server: no collision.
    accepted(
        &push(
            &s.url,
            &amina,
            da,
            vec![update("household", h, v1, json!({"notes": "bo again"}))],
        )[0],
    );

    // Answers collide per key.
    let v = uid();
    let r = push(
        &s.url,
        &amina,
        da,
        vec![visit_with_answers(
            v,
            h,
            "amina",
            json!({"crop": "maize", "water": "well"}),
        )],
    );
    let base = accepted(&r[0]);
    accepted(
        &push(
            &s.url,
            &bo,
            db,
            vec![update("visit", v, base, json!({"answers.crop": "rice"}))],
        )[0],
    );
    let r = push(
        &s.url,
        &amina,
        da,
        vec![update("visit", v, base, json!({"answers.water": "river"}))],
    );
    accepted(&r[0]);
    assert!(r[0].merged);
    let r = push(
        &s.url,
        &amina,
        da,
        vec![update("visit", v, base, json!({"answers.crop": "sorghum"}))],
    );
    assert_eq!(r[0].status, ChangeStatus::Conflict);
    assert_eq!(r[0].conflicting_fields, vec!["answers.crop".to_string()]);
    let rec = record(&s.url, &amina, v);
    assert_eq!(rec.fields["answers.crop"], json!("rice"));
    assert_eq!(rec.fields["answers.water"], json!("river"));
    // Removing an answer (null) is a change of that key.
    let cur = rec.version;
    accepted(
        &push(
            &s.url,
            &bo,
            db,
            vec![update("visit", v, cur, json!({"answers.water": null}))],
        )[0],
    );
    let rec = record(&s.url, &amina, v);
    assert!(!rec.fields.contains_key("answers.water"));
}

fn deletes_and_tombstones(kind: StoreKind) {
    let s = TestServer::new(kind);
    let amina = s.add_officer("amina", "north");
    let bo = s.add_officer("bo", "north");
    let (da, db) = (uid(), uid());
    let h = uid();
    let v1 = accepted(&push(&s.url, &amina, da, vec![household(h, "A")])[0]);
    let v2 = accepted(
        &push(
            &s.url,
            &bo,
            db,
            vec![update("household", h, v1, json!({"village": "Kisumu"}))],
        )[0],
    );
    // Delete based before Bo's edit: conflict naming deleted and the edited field.
    let r = push(&s.url, &amina, da, vec![delete("household", h, v1)]);
    assert_eq!(r[0].status, ChangeStatus::Conflict);
    assert_eq!(
        r[0].conflicting_fields,
        vec!["deleted".to_string(), "village".to_string()]
    );
    // Delete on the current version applies.
    let v3 = accepted(&push(&s.url, &amina, da, vec![delete("household", h, v2)])[0]);
    let rec = record(&s.url, &bo, h);
    assert!(rec.deleted);
    assert_eq!(rec.version, v3);
    assert_eq!(
        rec.fields["village"],
        json!("Kisumu"),
        "tombstones keep last values"
    );
    // Bo edits from before the delete: conflict on deleted.
    let r = push(
        &s.url,
        &bo,
        db,
        vec![update("household", h, v2, json!({"notes": "late"}))],
    );
    assert_eq!(r[0].status, ChangeStatus::Conflict);
    assert_eq!(r[0].conflicting_fields, vec!["deleted".to_string()]);
    assert!(r[0].server_record.as_ref().unwrap().deleted);
    // Deleting a tombstone: accepted no-op at its current version.
    let r = push(&s.url, &bo, db, vec![delete("household", h, v1)]);
    assert_eq!(accepted(&r[0]), v3);
    assert_eq!(record(&s.url, &bo, h).version, v3);
    // An update that has seen the delete restores the record.
    let v4 = accepted(
        &push(
            &s.url,
            &bo,
            db,
            vec![update("household", h, v3, json!({"notes": "back"}))],
        )[0],
    );
    let rec = record(&s.url, &bo, h);
    assert!(!rec.deleted);
    assert_eq!(rec.version, v4);
    assert_eq!(rec.fields["notes"], json!("back"));
}

fn replays_are_idempotent_across_restarts(kind: StoreKind) {
    let mut s = TestServer::new(kind);
    let amina = s.add_officer("amina", "north");
    let d = uid();
    let h = uid();
    let batch = vec![
        household(h, "A"),
        update("household", h, 1, json!({"notes": "n"})),
        visit_with_answers(uid(), h, "amina", json!({"crop": "maize"})),
        json!({"op_id": uid(), "entity_type": "household", "entity_id": uid(), "operation": "insert", "fields": {}}),
    ];
    let first = push(&s.url, &amina, d, batch.clone());
    assert_eq!(
        first
            .iter()
            .filter(|r| r.status == ChangeStatus::Accepted)
            .count(),
        3
    );
    let (before, _) = pull_all(&s.url, &amina, None);
    let again = push(&s.url, &amina, d, batch.clone());
    assert_eq!(again, first);
    let (after, _) = pull_all(&s.url, &amina, None);
    assert_eq!(after, before, "a replay changed records");
    // A new change takes the next version: the replay allocated none.
    let next = accepted(&push(&s.url, &amina, d, vec![household(uid(), "B")])[0]);
    assert_eq!(next, before.iter().map(|r| r.version).max().unwrap() + 1);
    let url = s.url.clone();
    s.restart();
    assert_eq!(s.url, url, "restart keeps the address");
    assert_eq!(push(&s.url, &amina, d, batch.clone()), first);
    if kind == StoreKind::Postgres {
        let other = s.second();
        assert_eq!(push(&other.url, &amina, d, batch.clone()), first);
    }
    let (after, _) = pull_all(&s.url, &amina, None);
    assert_eq!(after.len(), before.len() + 1);
}

fn op_id_reuse_with_other_content_is_rejected(kind: StoreKind) {
    let s = TestServer::new(kind);
    let amina = s.add_officer("amina", "north");
    let d = uid();
    let h = uid();
    let ins = household(h, "A");
    accepted(&push(&s.url, &amina, d, vec![ins.clone()])[0]);
    let mut altered = ins.clone();
    altered["fields"]["name"] = json!("B");
    assert_eq!(
        rejected(&push(&s.url, &amina, d, vec![altered])[0]),
        ErrorCode::OpIdReused
    );
    let mut other_entity = ins.clone();
    other_entity["entity_id"] = json!(uid());
    assert_eq!(
        rejected(&push(&s.url, &amina, d, vec![other_entity])[0]),
        ErrorCode::OpIdReused
    );
    // The first result still stands and nothing changed.
    assert_eq!(push(&s.url, &amina, d, vec![ins])[0].version, Some(1));
    assert_eq!(record(&s.url, &amina, h).fields["name"], json!("A"));
    assert_eq!(pull_all(&s.url, &amina, None).0.len(), 1);
}

fn rejections_do_not_block_the_batch(kind: StoreKind) {
    let s = TestServer::new(kind);
    let amina = s.add_officer("amina", "north");
    let d = uid();
    let h = uid();
    let taken = uid();
    accepted(&push(&s.url, &amina, d, vec![household(taken, "T")])[0]);
    let long = "x".repeat(5000);
    let batch = vec![
        json!({"op_id": uid(), "entity_type": "household", "entity_id": uid(), "operation": "insert", "fields": {"name": ""}}),
        household(h, "ok"),
        update("household", h, 2, json!({"notes": long})),
        update("household", uid(), 1, json!({"notes": "x"})),
        household(taken, "again"),
        visit_with_answers(uid(), h, "somebody-else", json!({})),
        visit_with_answers(uid(), uid(), "amina", json!({})),
        update("household", h, 2, json!({"colour": "red"})),
        visit_with_answers(uid(), h, "amina", json!({"crop": "maize"})),
        update("household", h, 2, json!({"notes": "fine"})),
    ];
    let r = push(&s.url, &amina, d, batch);
    assert_eq!(r.len(), 10);
    assert_eq!(rejected(&r[0]), ErrorCode::InvalidField);
    accepted(&r[1]);
    assert_eq!(rejected(&r[2]), ErrorCode::InvalidField);
    assert_eq!(rejected(&r[3]), ErrorCode::UnknownRecord);
    assert_eq!(rejected(&r[4]), ErrorCode::AlreadyExists);
    assert_eq!(rejected(&r[5]), ErrorCode::Forbidden);
    assert_eq!(rejected(&r[6]), ErrorCode::UnknownRecord);
    assert_eq!(rejected(&r[7]), ErrorCode::InvalidField);
    accepted(&r[8]);
    accepted(&r[9]);
    // Versions are strictly increasing over accepted changes.
    assert!(r[1].version < r[8].version && r[8].version < r[9].version);
    assert!(r[2].error.as_ref().unwrap().message.contains("notes"));
    let (all, _) = pull_all(&s.url, &amina, None);
    assert_eq!(all.len(), 3);
}

fn teams_see_and_edit_only_their_records(kind: StoreKind) {
    let s = TestServer::new(kind);
    let amina = s.add_officer("amina", "north");
    let sam = s.add_officer("sam", "south");
    let (da, ds) = (uid(), uid());
    let hn = uid();
    let hs = uid();
    let vn = uid();
    push(
        &s.url,
        &amina,
        da,
        vec![
            household(hn, "N"),
            visit_with_answers(vn, hn, "amina", json!({})),
        ],
    );
    accepted(&push(&s.url, &sam, ds, vec![household(hs, "S")])[0]);
    let (south, _) = pull_all(&s.url, &sam, None);
    assert_eq!(south.iter().map(|r| r.id).collect::<Vec<_>>(), vec![hs]);
    let (north, _) = pull_all(&s.url, &amina, None);
    assert_eq!(
        north.iter().map(|r| r.id).collect::<HashSet<_>>(),
        HashSet::from([hn, vn])
    );
    let r = push(
        &s.url,
        &sam,
        ds,
        vec![
            update("household", hn, 1, json!({"notes": "x"})),
            delete("household", hn, 1),
            visit_with_answers(uid(), hn, "sam", json!({})),
            update("visit", vn, 2, json!({"notes": "x"})),
            visit_with_answers(uid(), hs, "amina", json!({})),
            visit_with_answers(uid(), hs, "sam", json!({})),
        ],
    );
    for x in &r[..5] {
        assert_eq!(rejected(x), ErrorCode::Forbidden);
    }
    accepted(&r[5]);
    let (north2, _) = pull_all(&s.url, &amina, None);
    assert_eq!(
        north2, north,
        "another team's pushes changed north's records"
    );
}

fn moving_an_officer_delivers_the_new_team(kind: StoreKind) {
    let s = TestServer::new(kind);
    let amina = s.add_officer("amina", "north");
    let sam = s.add_officer("sam", "south");
    let hn = uid();
    let hs = uid();
    push(&s.url, &amina, uid(), vec![household(hn, "N")]);
    push(&s.url, &sam, uid(), vec![household(hs, "S")]);
    let (got, cursor) = pull_all(&s.url, &sam, None);
    assert_eq!(got.len(), 1);
    let (code, _, err) = admin(&s.db, &["officer", "move", "sam", "--team", "north"]);
    assert_eq!(code, 0, "{err}");
    // The old cursor was for south: the next pull starts north from scratch.
    let (got, _) = pull_all(&s.url, &sam, Some(&cursor));
    assert_eq!(got.iter().map(|r| r.id).collect::<Vec<_>>(), vec![hn]);
    // And sam now edits north's records, not south's.
    let r = push(
        &s.url,
        &sam,
        uid(),
        vec![
            update("household", hn, 1, json!({"notes": "x"})),
            update("household", hs, 2, json!({"notes": "x"})),
        ],
    );
    accepted(&r[0]);
    assert_eq!(rejected(&r[1]), ErrorCode::Forbidden);
}

fn tokens_missing_unknown_or_revoked_get_401(kind: StoreKind) {
    let s = TestServer::new(kind);
    let amina = s.add_officer("amina", "north");
    let body = json!({"device_id": uid(), "changes": []});
    for auth in [
        None,
        Some("Bearer nope"),
        Some("Basic abc"),
        Some("Bearer "),
    ] {
        for path in ["/v1/push", "/v1/pull"] {
            let mut req = if path == "/v1/push" {
                client().post(s.at(path)).json_body(&body)
            } else {
                client().get(s.at(path))
            };
            if let Some(a) = auth {
                req = req.header("Authorization", a);
            }
            let r = req.send().unwrap();
            assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{auth:?} {path}");
            assert_eq!(error_code(&r.json().unwrap()), ErrorCode::Unauthorized);
        }
    }
    assert_eq!(push_raw(&s.url, &amina, &body).0, StatusCode::OK);
    let (code, _, err) = admin(&s.db, &["officer", "revoke", "amina"]);
    assert_eq!(code, 0, "{err}");
    let (st, b) = push_raw(&s.url, &amina, &body);
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(&b), ErrorCode::Unauthorized);
    let (st, _) = pull_raw(&s.url, &amina, "");
    assert_eq!(st, StatusCode::UNAUTHORIZED);
}

fn cursors_and_limits_are_checked(kind: StoreKind) {
    let s = TestServer::new(kind);
    let amina = s.add_officer("amina", "north");
    let bo = s.add_officer("bo", "north");
    let ids: Vec<Uuid> = (0..5).map(|_| uid()).collect();
    push(
        &s.url,
        &amina,
        uid(),
        ids.iter().map(|i| household(*i, "h")).collect(),
    );
    // Paging: 2 at a time, in version order, has_more until the end.
    let mut cursor: Option<String> = None;
    let mut seen = Vec::new();
    loop {
        let q = match &cursor {
            Some(c) => format!("?cursor={c}&limit=2"),
            None => "?limit=2".into(),
        };
        let (st, b) = pull_raw(&s.url, &amina, &q);
        assert_eq!(st, StatusCode::OK);
        let p: PullResponse = serde_json::from_value(b).unwrap();
        assert!(p.records.len() <= 2);
        seen.extend(p.records.iter().map(|r| r.version));
        cursor = Some(p.next_cursor);
        if !p.has_more {
            break;
        }
    }
    assert_eq!(seen, vec![1, 2, 3, 4, 5]);
    let amina_cursor = cursor.unwrap();
    // Nothing new: the same position again.
    let p = pull_page(&s.url, &amina, Some(&amina_cursor));
    assert!(p.records.is_empty() && !p.has_more);
    // Another officer's cursor, a forged one, garbage.
    let (st, b) = pull_raw(&s.url, &bo, &format!("?cursor={amina_cursor}"));
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&b), ErrorCode::InvalidCursor);
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let (_, tag) = amina_cursor.split_once('.').unwrap();
    let forged = format!("{}.{tag}", b64.encode("0.north"));
    for c in [
        forged.as_str(),
        "abc",
        "MS5ub3J0aA.AAAA",
        "..",
        &"A".repeat(2000),
    ] {
        let (st, b) = pull_raw(&s.url, &amina, &format!("?cursor={c}"));
        assert_eq!(st, StatusCode::BAD_REQUEST, "{c}");
        assert_eq!(error_code(&b), ErrorCode::InvalidCursor);
    }
    for l in ["0", "-1", "1001", "abc", "99999999999999999999", ""] {
        let (st, b) = pull_raw(&s.url, &amina, &format!("?limit={l}"));
        assert_eq!(st, StatusCode::BAD_REQUEST, "limit={l}");
        assert_eq!(error_code(&b), ErrorCode::BadRequest);
    }
    let (st, _) = pull_raw(&s.url, &amina, "?limit=1000");
    assert_eq!(st, StatusCode::OK);
    let (st, _) = pull_raw(&s.url, &amina, "?bogus=1");
    assert_eq!(st, StatusCode::BAD_REQUEST);
}

fn purged_history_answers_resync_required(kind: StoreKind) {
    let s = TestServer::new(kind);
    let amina = s.add_officer("amina", "north");
    let d = uid();
    let (h1, h2) = (uid(), uid());
    push(
        &s.url,
        &amina,
        d,
        vec![household(h1, "a"), household(h2, "b")],
    );
    let (_, early) = pull_all(&s.url, &amina, Some(&pull_page_limit1(&s, &amina)));
    let _ = early;
    let c1 = pull_page_limit1(&s, &amina); // cursor at version 1
    accepted(&push(&s.url, &amina, d, vec![delete("household", h1, 1)])[0]); // v3
    push(&s.url, &amina, d, vec![household(uid(), "c")]); // v4
    let (_, c4) = pull_all(&s.url, &amina, None);
    let (code, _, err) = admin(&s.db, &["purge-tombstones", "--before-version", "4"]);
    assert_eq!(code, 0, "{err}");
    let (st, b) = pull_raw(&s.url, &amina, &format!("?cursor={c1}"));
    assert_eq!(st, StatusCode::GONE);
    assert_eq!(error_code(&b), ErrorCode::ResyncRequired);
    // A cursor past the purge and a fresh pull still work; the tombstone is gone.
    let p = pull_page(&s.url, &amina, Some(&c4));
    assert!(p.records.is_empty());
    let (all, _) = pull_all(&s.url, &amina, None);
    assert_eq!(all.len(), 2);
    assert!(all.iter().all(|r| r.id != h1));
}

fn pull_page_limit1(s: &TestServer, token: &str) -> String {
    let (st, b) = pull_raw(&s.url, token, "?limit=1");
    assert_eq!(st, StatusCode::OK);
    serde_json::from_value::<PullResponse>(b)
        .unwrap()
        .next_cursor
}

fn post_bytes(
    s: &TestServer,
    token: &str,
    body: Vec<u8>,
    encoding: Option<&str>,
) -> (StatusCode, Value) {
    let mut req = client()
        .post(s.at("/v1/push"))
        .bearer_auth(token)
        .header("Content-Type", "application/json")
        .body(body);
    if let Some(e) = encoding {
        req = req.header("Content-Encoding", e);
    }
    let r = req.send().unwrap();
    let st = r.status();
    let text = r.text().unwrap();
    let v = serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text:?}"));
    (st, v)
}

fn bad_bodies_get_4xx_json(kind: StoreKind) {
    let s = TestServer::new(kind);
    let amina = s.add_officer("amina", "north");
    let dev = uid();
    let cases: Vec<(Vec<u8>, ErrorCode)> = vec![
        (b"{".to_vec(), ErrorCode::InvalidJson),
        (b"".to_vec(), ErrorCode::InvalidJson),
        (b"[]".to_vec(), ErrorCode::InvalidJson),
        (vec![0xff, 0xfe, 0x00], ErrorCode::InvalidJson),
        (json!({"device_id": "not-a-uuid", "changes": []}).to_string().into_bytes(), ErrorCode::InvalidJson),
        (json!({"device_id": dev, "changes": [], "extra": 1}).to_string().into_bytes(), ErrorCode::InvalidJson),
        (json!({"device_id": dev, "changes": [{"op_id": uid(), "entity_type": "cow", "entity_id": uid(), "operation": "insert"}]}).to_string().into_bytes(), ErrorCode::InvalidJson),
        (json!({"device_id": dev, "changes": [{"op_id": uid(), "entity_type": "household", "entity_id": uid(), "operation": "replace"}]}).to_string().into_bytes(), ErrorCode::InvalidJson),
        (json!({"device_id": dev, "changes": [{"op_id": uid(), "entity_type": "household", "entity_id": uid(), "operation": "update", "base_version": "7"}]}).to_string().into_bytes(), ErrorCode::InvalidJson),
        (format!("{{\"device_id\":\"{dev}\",\"changes\":[{{\"op_id\":\"{}\",\"entity_type\":\"household\",\"entity_id\":\"{}\",\"operation\":\"insert\",\"fields\":{{\"name\":{}1{}}}}}]}}", uid(), uid(), "[".repeat(10000), "]".repeat(10000)).into_bytes(), ErrorCode::InvalidJson),
    ];
    for (body, code) in cases {
        let (st, b) = post_bytes(&s, &amina, body.clone(), None);
        assert_eq!(
            st,
            StatusCode::BAD_REQUEST,
            "{}",
            String::from_utf8_lossy(&body[..body.len().min(200)])
        );
        assert_eq!(error_code(&b), code);
    }
    // Too many changes.
    let many: Vec<Value> = (0..501).map(|_| household(uid(), "h")).collect();
    let (st, b) = push_raw(&s.url, &amina, &json!({"device_id": dev, "changes": many}));
    assert_eq!(st, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(error_code(&b), ErrorCode::BatchTooLarge);
    // Oversize body: refused from its Content-Length, before it is read.
    let addr = s.url.strip_prefix("http://").unwrap();
    let mut c = TcpStream::connect(addr).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(
        c,
        "POST /v1/push HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {amina}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{{",
        17 * 1024 * 1024
    )
    .unwrap();
    let mut resp = vec![0u8; 4096];
    let n = c.read(&mut resp).unwrap();
    let resp = String::from_utf8_lossy(&resp[..n]).into_owned();
    assert!(resp.starts_with("HTTP/1.1 413"), "{resp}");
    assert!(resp.contains("payload_too_large"), "{resp}");
    // A gzip bomb: small on the wire, 1 GiB inflated.
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let zeros = vec![b' '; 1 << 20];
    for _ in 0..1024 {
        enc.write_all(&zeros).unwrap();
    }
    let bomb = enc.finish().unwrap();
    assert!(bomb.len() < 2 << 20);
    let (st, b) = post_bytes(&s, &amina, bomb, Some("gzip"));
    assert_eq!(st, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(error_code(&b), ErrorCode::PayloadTooLarge);
    // Not gzip at all, and an unknown encoding.
    let (st, b) = post_bytes(&s, &amina, b"plain".to_vec(), Some("gzip"));
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&b), ErrorCode::InvalidJson);
    let (st, b) = post_bytes(&s, &amina, b"{}".to_vec(), Some("br"));
    assert_eq!(st, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(error_code(&b), ErrorCode::UnsupportedMediaType);
    // A non-JSON Content-Type.
    let r = client()
        .post(s.at("/v1/push"))
        .bearer_auth(&amina)
        .header("Content-Type", "text/plain")
        .body("{}")
        .send()
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(
        error_code(&r.json().unwrap()),
        ErrorCode::UnsupportedMediaType
    );
    // A token that is not even valid text.
    let r = client()
        .get(s.at("/v1/pull"))
        .header(
            "Authorization",
            reqwest::header::HeaderValue::from_bytes(b"Bearer \xff\xfe").unwrap(),
        )
        .send()
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(&r.json().unwrap()), ErrorCode::Unauthorized);
    // SQL metacharacters are data.
    let h = uid();
    let evil = "'); DROP TABLE records; --";
    let r = push(
        &s.url,
        &amina,
        dev,
        vec![
            json!({"op_id": uid(), "entity_type": "household", "entity_id": h, "operation": "insert", "fields": {"name": evil, "notes": "\" OR 1=1"}}),
        ],
    );
    accepted(&r[0]);
    assert_eq!(record(&s.url, &amina, h).fields["name"], json!(evil));
    // Nothing else was stored.
    assert_eq!(pull_all(&s.url, &amina, None).0.len(), 1);
}

fn gzip_requests_and_responses(kind: StoreKind) {
    let s = TestServer::new(kind);
    let amina = s.add_officer("amina", "north");
    let changes: Vec<Value> = (0..300)
        .map(|i| household(uid(), &format!("household {i}")))
        .collect();
    let body = serde_json::to_vec(&json!({"device_id": uid(), "changes": changes})).unwrap();
    let packed = gzip(&body);
    assert!(packed.len() < body.len() / 3);
    let (st, b) = post_bytes(&s, &amina, packed, Some("gzip"));
    assert_eq!(st, StatusCode::OK, "{b}");
    let r: PushResponse = serde_json::from_value(b).unwrap();
    assert!(r.results.iter().all(|x| x.status == ChangeStatus::Accepted));
    // Responses are gzip when asked for (reqwest's gzip feature asks and inflates).
    let raw = Client::builder()
        .no_gzip()
        .build()
        .unwrap()
        .get(s.at("/v1/pull?limit=1000"))
        .bearer_auth(&amina)
        .header("Accept-Encoding", "gzip")
        .send()
        .unwrap();
    assert_eq!(raw.headers().get("content-encoding").unwrap(), "gzip");
    let bytes = raw.bytes().unwrap();
    let mut text = String::new();
    flate2::read::GzDecoder::new(&bytes[..])
        .read_to_string(&mut text)
        .unwrap();
    let p: PullResponse = serde_json::from_str(&text).unwrap();
    assert_eq!(p.records.len(), 300);
}

fn concurrent_pushes_never_make_the_cursor_skip(kind: StoreKind) {
    let s = TestServer::new(kind);
    // PostgreSQL: pushers spread over two server processes sharing the database.
    let s2 = if kind == StoreKind::Postgres {
        Some(s.second())
    } else {
        None
    };
    let urls: Vec<String> = std::iter::once(s.url.clone())
        .chain(s2.iter().map(|x| x.url.clone()))
        .collect();
    let reader = s.add_officer("reader", "north");
    const PUSHERS: usize = 4;
    const BATCHES: usize = 25;
    const PER: usize = 8;
    let tokens: Vec<String> = (0..PUSHERS)
        .map(|i| s.add_officer(&format!("p{i}"), "north"))
        .collect();
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let pull_url = s.url.clone();
    let d2 = done.clone();
    let puller = std::thread::spawn(move || {
        let mut seen: Vec<(Uuid, i64)> = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let finished = d2.load(std::sync::atomic::Ordering::SeqCst);
            loop {
                let q = match &cursor {
                    Some(c) => format!("?cursor={c}&limit=7"),
                    None => "?limit=7".into(),
                };
                let (st, b) = pull_raw(&pull_url, &reader, &q);
                assert_eq!(st, StatusCode::OK, "{b}");
                let p: PullResponse = serde_json::from_value(b).unwrap();
                seen.extend(p.records.iter().map(|r| (r.id, r.version)));
                cursor = Some(p.next_cursor);
                if !p.has_more {
                    break;
                }
            }
            if finished {
                return seen;
            }
        }
    });
    let pushers: Vec<_> = tokens
        .into_iter()
        .enumerate()
        .map(|(i, t)| {
            let url = urls[i % urls.len()].clone();
            std::thread::spawn(move || {
                let dev = uid();
                let mut acc = Vec::new();
                for _ in 0..BATCHES {
                    let ids: Vec<Uuid> = (0..PER).map(|_| uid()).collect();
                    let r = push(
                        &url,
                        &t,
                        dev,
                        ids.iter().map(|i| household(*i, "h")).collect(),
                    );
                    for (id, res) in ids.iter().zip(&r) {
                        acc.push((*id, accepted(res)));
                    }
                }
                acc
            })
        })
        .collect();
    let mut pushed: Vec<(Uuid, i64)> = Vec::new();
    for p in pushers {
        pushed.extend(p.join().unwrap());
    }
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    let seen = puller.join().unwrap();
    assert_eq!(pushed.len(), PUSHERS * BATCHES * PER);
    // Every accepted change exactly once, in strictly increasing version order.
    assert!(seen.windows(2).all(|w| w[0].1 < w[1].1), "pull order broke");
    let mut a = pushed.clone();
    a.sort_by_key(|x| x.1);
    assert_eq!(seen, a, "the puller missed or repeated changes");
    // Versions are a gap-free sequence from 1.
    let versions: Vec<i64> = a.iter().map(|x| x.1).collect();
    assert_eq!(versions, (1..=a.len() as i64).collect::<Vec<_>>());
}

/// Opens a raw connection and sends a push's headers and half its body.
fn start_slow_push(url: &str, token: &str, body: &[u8]) -> TcpStream {
    let addr = url.strip_prefix("http://").unwrap();
    let mut c = TcpStream::connect(addr).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(
        c,
        "POST /v1/push HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .unwrap();
    c.write_all(&body[..body.len() / 2]).unwrap();
    c.flush().unwrap();
    c
}

fn finish_slow_push(mut c: TcpStream, body: &[u8]) -> String {
    c.write_all(&body[body.len() / 2..]).unwrap();
    let mut out = String::new();
    c.read_to_string(&mut out).unwrap();
    out
}

fn overload_answers_503_with_retry_after(kind: StoreKind) {
    let dbsrv = TestServer::new(kind);
    let amina = dbsrv.add_officer("amina", "north");
    let s = TestServer::start_with_args(&dbsrv.db, &["--max-inflight", "1"]);
    let body =
        serde_json::to_vec(&json!({"device_id": uid(), "changes": [household(uid(), "slow")]}))
            .unwrap();
    let slow = start_slow_push(&s.url, &amina, &body);
    // Wait until the slow request holds the only slot.
    let mut got = None;
    // (A pull: health and readiness stay outside --max-inflight, for load balancers.)
    for _ in 0..100 {
        let r = client()
            .get(s.at("/v1/pull"))
            .bearer_auth(&amina)
            .send()
            .unwrap();
        if r.status() == StatusCode::SERVICE_UNAVAILABLE {
            got = Some(r);
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let r = got.expect("never answered 503 while the only slot was taken");
    assert_eq!(r.headers().get("retry-after").unwrap(), "1");
    assert_eq!(error_code(&r.json().unwrap()), ErrorCode::Overloaded);
    let resp = finish_slow_push(slow, &body);
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    assert_eq!(
        client().get(s.at("/v1/health")).send().unwrap().status(),
        StatusCode::OK
    );
    // The memory all bodies may hold is bounded too: over it, 503 at once.
    let small = TestServer::start_with_args(&dbsrv.db, &["--max-body-memory-mib", "1"]);
    let ok = push(&small.url, &amina, uid(), vec![household(uid(), "fits")]);
    accepted(&ok[0]);
    let big = format!(
        "{{\"device_id\":\"{}\",\"changes\":[],\"pad\":\"{}\"}}",
        uid(),
        "x".repeat(2 << 20)
    );
    let r = client()
        .post(small.at("/v1/push"))
        .bearer_auth(&amina)
        .header("Content-Type", "application/json")
        .body(big)
        .send();
    // The server may answer before the whole body is sent; either way nothing is applied.
    if let Ok(r) = r {
        assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(r.headers().get("retry-after").unwrap(), "1");
        assert_eq!(error_code(&r.json().unwrap()), ErrorCode::Overloaded);
    }
    let packed = gzip(
        format!(
            "{{\"device_id\":\"{}\",\"changes\":[],\"pad\":\"{}\"}}",
            uid(),
            " ".repeat(2 << 20)
        )
        .as_bytes(),
    );
    let (st, b) = post_bytes(&small, &amina, packed, Some("gzip"));
    assert_eq!(st, StatusCode::SERVICE_UNAVAILABLE, "{b}");
    assert_eq!(error_code(&b), ErrorCode::Overloaded);
}

fn sigterm_finishes_in_flight_requests(kind: StoreKind) {
    let mut s = TestServer::new(kind);
    let amina = s.add_officer("amina", "north");
    let h = uid();
    let body = serde_json::to_vec(
        &json!({"device_id": uid(), "changes": [household(h, "during shutdown")]}),
    )
    .unwrap();
    let slow = start_slow_push(&s.url, &amina, &body);
    std::thread::sleep(Duration::from_millis(200));
    let pid = s.pid();
    let st = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    assert!(st.success());
    std::thread::sleep(Duration::from_millis(200));
    let resp = finish_slow_push(slow, &body);
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    let status = s
        .terminate(Duration::from_secs(20))
        .expect("server did not exit after SIGTERM");
    assert!(status.success(), "{status:?}");
    let s2 = TestServer::start_with_db(&s.db);
    assert_eq!(record(&s2.url, &amina, h).version, 1);
}

fn admin_commands_report_errors_with_exit_codes(kind: StoreKind) {
    let s = TestServer::new(kind);
    let t1 = s.add_officer("amina", "north");
    let (code, out, err) = admin(&s.db, &["officer", "add", "amina", "--team", "south"]);
    assert_eq!(code, 65, "{out}{err}");
    assert!(out.is_empty() && err.contains("amina"));
    for args in [
        vec!["officer", "revoke", "ghost"],
        vec!["officer", "move", "ghost", "--team", "x"],
    ] {
        let (code, _, err) = admin(&s.db, &args);
        assert_eq!(code, 66, "{args:?}: {err}");
        assert!(err.contains("ghost"));
    }
    let (code, _, _) = admin(&s.db, &["officer", "add", "bad id!", "--team", "north"]);
    assert_eq!(code, 65);
    let t2 = s.add_officer("bo", "south");
    assert_ne!(t1, t2);
    assert_eq!(t1.len(), 64);
    assert!(t1.chars().all(|c| c.is_ascii_hexdigit()), "{t1}");
    admin(&s.db, &["officer", "revoke", "bo"]);
    let (code, out, _) = admin(&s.db, &["officer", "list", "--json"]);
    assert_eq!(code, 0);
    let list: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(list[0]["id"], "amina");
    assert_eq!(list[0]["revoked"], false);
    assert_eq!(list[1]["team"], "south");
    assert_eq!(list[1]["revoked"], true);
    let (code, out, _) = admin(&s.db, &["officer", "list"]);
    assert_eq!(code, 0);
    assert!(out.contains("amina") && out.contains("north"));
}

/// Two server processes over one PostgreSQL database behave as one server.
#[test]
fn postgres_two_processes_behave_as_one() {
    let a = TestServer::postgres();
    let b = a.second();
    let amina = a.add_officer("amina", "north");
    let bo = a.add_officer("bo", "north");
    let h = uid();
    let ins = household(h, "A");
    let d = uid();
    let first = push(&a.url, &amina, d, vec![ins.clone()]);
    assert_eq!(push(&b.url, &amina, d, vec![ins]), first);
    let v2 = accepted(
        &push(
            &b.url,
            &bo,
            uid(),
            vec![update("household", h, 1, json!({"notes": "b"}))],
        )[0],
    );
    assert_eq!(v2, 2);
    let r = push(
        &a.url,
        &amina,
        d,
        vec![update("household", h, 1, json!({"notes": "a"}))],
    );
    assert_eq!(r[0].status, ChangeStatus::Conflict);
    // A cursor from one process works on the other.
    let p = pull_page(&a.url, &amina, None);
    let p2 = pull_page(&b.url, &amina, Some(&p.next_cursor));
    assert!(p2.records.is_empty());
    accepted(&push(&a.url, &amina, d, vec![household(uid(), "B")])[0]);
    assert_eq!(
        pull_page(&b.url, &amina, Some(&p.next_cursor))
            .records
            .len(),
        1
    );
    // Revocation through either is seen by both at once.
    admin(&a.db, &["officer", "revoke", "bo"]);
    assert_eq!(pull_raw(&b.url, &bo, "").0, StatusCode::UNAUTHORIZED);
    assert_eq!(pull_raw(&a.url, &bo, "").0, StatusCode::UNAUTHORIZED);
}

/// Every example in docs/protocol.md parses into the protocol type its tag names.
#[test]
fn protocol_doc_examples_parse_into_the_real_types() {
    let doc =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/protocol.md")).unwrap();
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    let mut pending: Option<String> = None;
    let mut lines = doc.lines();
    while let Some(line) = lines.next() {
        let t = line.trim();
        if let Some(rest) = t.strip_prefix("<!-- type:") {
            pending = Some(rest.trim_end_matches("-->").trim().to_string());
            continue;
        }
        if t == "```json" {
            let mut block = String::new();
            for l in lines.by_ref() {
                if l.trim() == "```" {
                    break;
                }
                block.push_str(l);
                block.push('\n');
            }
            let ty = pending
                .take()
                .unwrap_or_else(|| panic!("untagged json block:\n{block}"));
            let check = |r: Result<(), serde_json::Error>| {
                r.unwrap_or_else(|e| panic!("{ty} example does not parse: {e}\n{block}"))
            };
            match ty.as_str() {
                "PushRequest" => check(serde_json::from_str::<PushRequest>(&block).map(|_| ())),
                "PushResponse" => check(serde_json::from_str::<PushResponse>(&block).map(|_| ())),
                "PullResponse" => check(serde_json::from_str::<PullResponse>(&block).map(|_| ())),
                "HealthResponse" => {
                    check(serde_json::from_str::<HealthResponse>(&block).map(|_| ()))
                }
                "ErrorBody" => {
                    let e: ErrorBody =
                        serde_json::from_str(&block).unwrap_or_else(|e| panic!("{e}\n{block}"));
                    assert_ne!(e.error.code, ErrorCode::Unknown, "unknown code in\n{block}");
                }
                other => panic!("unknown example type {other}"),
            }
            *counts.entry(ty).or_default() += 1;
        } else if t.starts_with("```") && t.len() > 3 {
            // Other fenced blocks (http, sh) are not checked.
            for l in lines.by_ref() {
                if l.trim() == "```" {
                    break;
                }
            }
        }
    }
    for ty in [
        "PushRequest",
        "PushResponse",
        "PullResponse",
        "HealthResponse",
        "ErrorBody",
    ] {
        assert!(
            counts.get(ty).copied().unwrap_or(0) > 0,
            "no {ty} example in docs/protocol.md"
        );
    }
    // Every error code appears in the doc.
    for code in [
        "unauthorized",
        "invalid_json",
        "bad_request",
        "invalid_cursor",
        "resync_required",
        "payload_too_large",
        "batch_too_large",
        "not_found",
        "unsupported_media_type",
        "overloaded",
        "internal",
        "unavailable",
        "invalid_field",
        "forbidden",
        "unknown_record",
        "already_exists",
        "op_id_reused",
        "op_expired",
    ] {
        assert!(
            doc.contains(&format!("`{code}`")),
            "docs/protocol.md does not document `{code}`"
        );
    }
    let _: HashMap<(), ()> = HashMap::new();
}

/// Two processes starting at once on a fresh PostgreSQL database both migrate safely.
#[test]
fn postgres_processes_starting_together_share_one_schema() {
    let db = support::pg::fresh_database();
    let starts: Vec<_> = (0..3)
        .map(|_| {
            let db = db.clone();
            std::thread::spawn(move || TestServer::start_with_db(&db))
        })
        .collect();
    let servers: Vec<TestServer> = starts.into_iter().map(|t| t.join().unwrap()).collect();
    let amina = support::add_officer(&db, "amina", "north");
    let h = uid();
    accepted(&push(&servers[0].url, &amina, uid(), vec![household(h, "A")])[0]);
    for s in &servers {
        assert_eq!(record(&s.url, &amina, h).version, 1);
    }
}

/// `--tls-cert/--tls-key` serve HTTPS, and the first line says so.
#[test]
fn tls_serves_https() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    let st = std::process::Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
        ])
        .args(["-addext", "subjectAltName=IP:127.0.0.1"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stderr(std::process::Stdio::null())
        .status()
        .expect("openssl is needed to make a test certificate");
    assert!(st.success());
    let db = dir.path().join("s.sqlite3").display().to_string();
    let s = TestServer::start_with_args(
        &db,
        &[
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
        ],
    );
    assert!(s.url.starts_with("https://127.0.0.1:"), "{}", s.url);
    let amina = s.add_officer("amina", "north");
    // A self-signed test certificate: trust it blindly (it is a CA certificate, which
    // webpki refuses as a server certificate even when added as a root).
    let c = Client::builder()
        .danger_accept_invalid_certs(true)
        .build()
        .unwrap();
    let h: HealthResponse = c.get(s.at("/v1/health")).send().unwrap().json().unwrap();
    assert_eq!(h.status, "ok");
    let r = c.get(s.at("/v1/pull")).bearer_auth(&amina).send().unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}
