//! How records, queue entries and conflicts look to people and in `--json`: one function per
//! shape, shared by the commands that print them.
//!
//! This module must not read or write the store, nor decide anything.

use serde_json::{json, Value};

use crate::client::store::{Conflict, LocalRecord};
use crate::merge::DELETED;
use crate::model::{answers_of, escape_unsafe, EntityType, FieldMap, Gps, ValidationError};

/// A record as `list --json` / `show --json` print it: one key per column.
pub fn record_json(rec: &LocalRecord) -> Value {
    let f = &rec.fields;
    let s = |k: &str| f.get(k).cloned().unwrap_or(Value::Null);
    let gps = f.get("gps").and_then(|v| Gps::from_value(v).ok());
    let mut out = json!({ "id": rec.id.to_string(), "server_id": rec.server_id });
    let o = out.as_object_mut().expect("json! object");
    match rec.entity_type {
        EntityType::Household => {
            o.insert("name".into(), s("name"));
            o.insert("village".into(), s("village"));
        }
        EntityType::Visit => {
            o.insert("household_id".into(), s("household_id"));
            o.insert("officer_id".into(), s("officer_id"));
            o.insert("visited_at".into(), s("visited_at"));
        }
    }
    o.insert("gps_lat".into(), json!(gps.map(|g| g.lat)));
    o.insert("gps_lon".into(), json!(gps.map(|g| g.lon)));
    o.insert("notes".into(), s("notes"));
    if rec.entity_type == EntityType::Visit {
        o.insert("answers".into(), json!(answers_of(f)));
        o.insert("form_version".into(), json!(f.get("form_version")));
    }
    o.insert("sync_state".into(), json!(rec.sync_state));
    o.insert("version".into(), json!(rec.version));
    o.insert("created_at".into(), json!(rec.created_at));
    o.insert("created_by".into(), json!(rec.audit.created_by));
    o.insert("updated_at".into(), json!(rec.updated_at));
    o.insert("updated_by".into(), json!(rec.audit.updated_by));
    o.insert("deleted_at".into(), json!(rec.deleted_at));
    o.insert("field_stamps".into(), json!(rec.audit.field_stamps));
    out
}

/// Who last changed one field of a record, as `show` tells it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldHistory {
    /// The server's stamp: the officer who pushed the change and its receive time.
    Stamped { by: String, at: String },
    /// Changed on this laptop and not synced yet (the value differs from the server's copy).
    Local,
    /// Synced before the server kept stamps (an older server or record).
    Unknown,
}

/// [`FieldHistory`] of every field of `rec`, in the record's order.
pub fn field_history(rec: &LocalRecord) -> Vec<(String, FieldHistory)> {
    rec.fields
        .iter()
        .map(|(k, v)| {
            let local = rec.base.as_ref().is_none_or(|b| b.get(k) != Some(v));
            let h = match rec.audit.field_stamps.get(k) {
                _ if local => FieldHistory::Local,
                Some(s) => FieldHistory::Stamped {
                    by: s.by.clone(),
                    at: s.at.clone(),
                },
                None => FieldHistory::Unknown,
            };
            (k.clone(), h)
        })
        .collect()
}

/// A conflict as `fieldsync conflicts --json` prints it.
pub fn conflict_json(c: &Conflict) -> Value {
    let fields: Vec<Value> = c
        .fields
        .iter()
        .map(|f| {
            if f == DELETED {
                json!({
                    "field": f,
                    "base": false,
                    "mine": c.i_deleted(),
                    "theirs": c.theirs.deleted,
                })
            } else {
                json!({
                    "field": f,
                    "base": c.base_value(f),
                    "mine": c.my_value(f),
                    "theirs": c.their_value(f),
                })
            }
        })
        .collect();
    json!({
        "entity_type": c.entity_type,
        "id": c.id.to_string(),
        "my_operation": c.my_operation,
        "server_version": c.theirs.version,
        "found_at": c.found_at,
        "fields": fields,
    })
}

/// Parses a typed value for `field` ("" clears it): GPS as `LAT,LON`, everything else text.
pub fn parse_value(field: &str, input: &str) -> Result<Value, ValidationError> {
    if input.is_empty() {
        return Ok(Value::Null);
    }
    if field == "gps" {
        return Ok(input.parse::<Gps>()?.to_value());
    }
    Ok(Value::String(input.to_string()))
}

/// Stored text for one line of a listing: line breaks shown as `⏎`, and every control
/// character escaped (`\u{1b}`), so text from another officer can never move the cursor,
/// recolour or retitle the terminal, even text stored before validation refused it.
pub fn one_line(s: &str) -> String {
    escape_unsafe(&s.replace("\r\n", "\n").replace('\n', "⏎"), &['\t']).into_owned()
}

/// Stored text for a `label  value` block: control characters escaped, and the lines after
/// the first indented by `indent` spaces so they stay under the value.
pub fn indented(s: &str, indent: usize) -> String {
    let safe = escape_unsafe(s, &['\n', '\t']);
    safe.lines()
        .collect::<Vec<_>>()
        .join(&format!("\n{:indent$}", ""))
}

/// Renders a field value for people: text as is (control characters escaped, line breaks as
/// `⏎`), GPS as `LAT,LON`, nothing as `(empty)`.
pub fn show_value(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => "(empty)".into(),
        Some(Value::String(s)) => one_line(s),
        Some(v) => match Gps::from_value(v) {
            Ok(g) => g.to_string(),
            Err(_) => v.to_string(),
        },
    }
}

/// A readable summary of a change's fields for `fieldsync queue`.
pub fn describe_fields(payload: &FieldMap) -> String {
    payload
        .keys()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_text_prints_safely() {
        assert_eq!(one_line("two\nlines\r\nthree"), "two⏎lines⏎three");
        assert_eq!(one_line("\u{1b}[2Jgone"), "\\u{1b}[2Jgone");
        assert_eq!(indented("a\nb\n\u{7}c", 4), "a\n    b\n    \\u{7}c");
        assert_eq!(show_value(Some(&Value::from("x\ny"))), "x⏎y");
    }
}
