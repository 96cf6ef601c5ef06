//! Known, not fixed: conflict results amplify what one push costs.

use super::*;

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
