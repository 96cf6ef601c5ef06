//! Table cases: injection. SQL metacharacters in every string field (data, stored and pulled
//! back byte-exactly), NUL bytes, and base versions the server never issued.

use super::*;

/// SQL (and LIKE, and printf, and escape) metacharacters: valid strings, so they are data.
pub(crate) const SQL_META_STRINGS: &[&str] = &[
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

/// `base` is the valid household insert the field-grammar cases broke.
pub(crate) fn cases(w: &World, base: &Value) -> Vec<Case> {
    let mut t = sql_metacharacters(w, base);
    t.extend(nul_bytes(w, base));
    t.extend(forged_versions(w));
    t
}

/// SQL metacharacters in every string field of a change: data where the field is free
/// text, refused where it has a grammar.
fn sql_metacharacters(w: &World, base: &Value) -> Vec<Case> {
    let a = w.amina.as_str();
    let dev = w.device;
    let mut t = Vec::new();
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
    t
}

/// NUL bytes in every string of a change.
fn nul_bytes(w: &World, base: &Value) -> Vec<Case> {
    let a = w.amina.as_str();
    let dev = w.device;
    let mut t = Vec::new();
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
    t
}

/// Base versions the server never issued.
fn forged_versions(w: &World) -> Vec<Case> {
    let a = w.amina.as_str();
    let dev = w.device;
    let mut t = Vec::new();
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
