//! Table cases: per-change permissions, replays and versions.

use super::*;

/// One case a line, as in docs/hostile.md.
#[rustfmt::skip]
pub(crate) fn cases(w: &World) -> Vec<Case> {
    let a = w.amina.as_str();
    let dev = w.device;
    vec![
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
    ]
}
