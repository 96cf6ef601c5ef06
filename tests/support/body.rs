//! Push-request builders: changes and push bodies as the JSON a client sends, for tests
//! that speak the wire protocol themselves (server, hostile input, fuzzing, benches).
//!
//! Builders only build: they never send, never check a response, and build exactly the JSON
//! asked for (a `base_version` of `null` is written as `null`, an omitted one is omitted), so
//! hostile tests can rely on the bytes.

use serde_json::{json, Value};
use uuid::Uuid;

/// A fresh random id (op ids, entity ids, device ids).
pub fn uid() -> Uuid {
    Uuid::new_v4()
}

/// A change with every key, under the given op id (`base` may be `Value::Null`).
pub fn change_with_op(
    op: Uuid,
    entity: &str,
    id: Uuid,
    operation: &str,
    base: Value,
    fields: Value,
) -> Value {
    json!({"op_id": op, "entity_type": entity, "entity_id": id, "operation": operation, "base_version": base, "fields": fields})
}

/// A change with every key and a fresh op id.
pub fn change(entity: &str, id: Uuid, operation: &str, base: Value, fields: Value) -> Value {
    change_with_op(uid(), entity, id, operation, base, fields)
}

/// An insert with no `base_version` key.
pub fn insert(entity: &str, id: Uuid, fields: Value) -> Value {
    json!({"op_id": uid(), "entity_type": entity, "entity_id": id, "operation": "insert", "fields": fields})
}

/// Inserts a household called `name`.
pub fn household(id: Uuid, name: &str) -> Value {
    insert("household", id, json!({"name": name}))
}

/// Inserts a visit of `household` by `officer`, with `extra` fields merged in as they are.
pub fn visit(id: Uuid, household: Uuid, officer: &str, extra: Value) -> Value {
    let mut fields = json!({"household_id": household, "officer_id": officer, "visited_at": "2026-11-25T09:30:00Z"});
    for (k, v) in extra.as_object().expect("visit fields are an object") {
        fields[k] = v.clone();
    }
    insert("visit", id, fields)
}

/// Inserts a visit whose `answers` (`{"crop": "maize"}`) become `answers.*` fields.
pub fn visit_with_answers(id: Uuid, household: Uuid, officer: &str, answers: Value) -> Value {
    visit(id, household, officer, self::answers(answers))
}

/// `{"crop": "maize"}` as the flat field names `{"answers.crop": "maize"}`.
pub fn answers(answers: Value) -> Value {
    let fields = answers.as_object().expect("answers are an object");
    Value::Object(
        fields
            .iter()
            .map(|(k, v)| (format!("answers.{k}"), v.clone()))
            .collect(),
    )
}

/// An update of `fields` on top of version `base`.
pub fn update(entity: &str, id: Uuid, base: i64, fields: Value) -> Value {
    json!({"op_id": uid(), "entity_type": entity, "entity_id": id, "operation": "update", "base_version": base, "fields": fields})
}

/// A delete on top of version `base`.
pub fn delete(entity: &str, id: Uuid, base: i64) -> Value {
    json!({"op_id": uid(), "entity_type": entity, "entity_id": id, "operation": "delete", "base_version": base})
}

/// A push request from `device`.
pub fn push_request(device: Uuid, changes: Vec<Value>) -> Value {
    json!({"device_id": device, "changes": changes})
}

/// A push request from `device`, serialised.
pub fn push_body(device: Uuid, changes: Vec<Value>) -> Vec<u8> {
    serde_json::to_vec(&push_request(device, changes)).expect("JSON values serialise")
}
