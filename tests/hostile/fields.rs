//! Table cases: the field grammar. Field values of the wrong type or shape per change (a
//! per-change rejection), and wrong types for every field of a request and of a change (400).

use super::*;

/// One case a line, as in docs/hostile.md.
#[rustfmt::skip]
pub(crate) fn per_change_cases(w: &World) -> Vec<Case> {
    let a = w.amina.as_str();
    let dev = w.device;
    vec![
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
    ]
}

/// `base` is a valid household insert the cases break one field of.
pub(crate) fn request_cases(w: &World, base: &Value) -> Vec<Case> {
    let a = w.amina.as_str();
    let dev = w.device;
    let mut t = Vec::new();
    for (field, values) in wrong_values() {
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
    t
}

/// Values of the wrong type for every field of a change.
fn wrong_values() -> Vec<(&'static str, Vec<Value>)> {
    vec![
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
                json!("replace"),
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
    ]
}
