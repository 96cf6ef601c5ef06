//! Conflicts the server reported, and settling them.
//!
//! A conflict keeps three copies: the *base* (the server's fields the officer's edit started
//! from, where known), *mine* (the local record) and *theirs* (the server's newest copy). A
//! resolution picks, per colliding field, mine, theirs or a new value; the officer's edits of
//! fields that do not collide are kept without asking. The result is written and an update
//! based on the server's version is queued, in one transaction; if the server moved on again
//! in between, the next sync reports a new conflict rather than overwriting anything.

use std::collections::BTreeMap;

use rusqlite::{params, OptionalExtension};
use serde_json::{json, Value};
use uuid::Uuid;

use super::error::{Error, Result};
use super::store::{enqueue, get_record, put_row, LocalRecord, Store, SyncState};
use crate::merge::DELETED;
use crate::model::{self, diff_fields, EntityType, FieldMap, Gps, Operation};
use crate::protocol::Record;

/// One record in conflict.
#[derive(Debug, Clone)]
pub struct Conflict {
    pub entity_type: EntityType,
    pub id: Uuid,
    /// What this device sent: `update` or `delete`.
    pub my_operation: Operation,
    /// The colliding fields; `deleted` when one side deleted the record.
    pub fields: Vec<String>,
    pub mine: LocalRecord,
    pub theirs: Record,
    pub found_at: String,
}

impl Conflict {
    /// The server deleted the record; this device edited it.
    pub fn they_deleted(&self) -> bool {
        self.theirs.deleted
    }

    /// This device deleted the record; the server's copy was edited.
    pub fn i_deleted(&self) -> bool {
        self.my_operation == Operation::Delete
    }

    pub fn is_delete_conflict(&self) -> bool {
        self.they_deleted() || self.i_deleted()
    }

    /// The fields to decide one by one (the `deleted` marker left out).
    pub fn field_names(&self) -> Vec<&str> {
        self.fields
            .iter()
            .map(String::as_str)
            .filter(|f| *f != DELETED)
            .collect()
    }

    pub fn base_value(&self, field: &str) -> Option<&Value> {
        self.mine.base.as_ref().and_then(|b| b.get(field))
    }

    pub fn my_value(&self, field: &str) -> Option<&Value> {
        self.mine.fields.get(field)
    }

    pub fn their_value(&self, field: &str) -> Option<&Value> {
        self.theirs.fields.get(field)
    }

    /// `fieldsync conflicts --json`.
    pub fn to_json(&self) -> Value {
        let fields: Vec<Value> = self
            .fields
            .iter()
            .map(|f| {
                if f == DELETED {
                    json!({
                        "field": f,
                        "base": false,
                        "mine": self.i_deleted(),
                        "theirs": self.theirs.deleted,
                    })
                } else {
                    json!({
                        "field": f,
                        "base": self.base_value(f),
                        "mine": self.my_value(f),
                        "theirs": self.their_value(f),
                    })
                }
            })
            .collect();
        json!({
            "entity_type": self.entity_type,
            "id": self.id.to_string(),
            "my_operation": self.my_operation,
            "server_version": self.theirs.version,
            "found_at": self.found_at,
            "fields": fields,
        })
    }
}

/// A decision for one colliding field.
#[derive(Debug, Clone, PartialEq)]
pub enum Choice {
    Mine,
    Theirs,
    /// A new value (`null` clears the field).
    Value(Value),
}

/// How to settle one conflict.
#[derive(Debug, Clone, PartialEq)]
pub enum Resolution {
    /// Decide each colliding field; a field not named keeps `default`.
    Fields {
        choices: BTreeMap<String, Choice>,
        default: Choice,
    },
    /// Delete versus edit: keep the record (restore it, or keep my edits).
    KeepRecord,
    /// Delete versus edit: let it be deleted.
    AcceptDelete,
}

/// Parses a typed value for `field` ("" clears it): GPS as `LAT,LON`, everything else text.
pub fn parse_value(field: &str, input: &str) -> Result<Value> {
    if input.is_empty() {
        return Ok(Value::Null);
    }
    if field == "gps" {
        return Ok(input.parse::<Gps>()?.to_value());
    }
    Ok(Value::String(input.to_string()))
}

/// Renders a field value for people: text as is, GPS as `LAT,LON`, nothing as `(empty)`.
pub fn show_value(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => "(empty)".into(),
        Some(Value::String(s)) => s.clone(),
        Some(v) => match Gps::from_value(v) {
            Ok(g) => g.to_string(),
            Err(_) => v.to_string(),
        },
    }
}

impl Store {
    /// Every record in conflict, oldest first.
    pub fn conflicts(&self) -> Result<Vec<Conflict>> {
        let mut stmt = self.conn.prepare(
            "SELECT entity_type, entity_id FROM conflict ORDER BY found_at, entity_type, entity_id",
        )?;
        let keys: Vec<(String, String)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        let mut out = Vec::new();
        for (e, id) in keys {
            let entity: EntityType = e.parse()?;
            let id = Uuid::parse_str(&id).map_err(|e| Error::Protocol(e.to_string()))?;
            if let Some(c) = self.conflict(entity, id)? {
                out.push(c);
            }
        }
        Ok(out)
    }

    /// The conflict on one record, if any.
    pub fn conflict(&self, entity: EntityType, id: Uuid) -> Result<Option<Conflict>> {
        let row: Option<(String, String, String, String)> = self
            .conn
            .query_row(
                "SELECT operation, fields, server_record, found_at FROM conflict
                 WHERE entity_type = ?1 AND entity_id = ?2",
                params![entity.as_str(), id.to_string()],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()?;
        let Some((op, fields, server, found_at)) = row else {
            return Ok(None);
        };
        let mine = get_record(&self.conn, entity, id)?.ok_or_else(|| {
            Error::Protocol(format!("conflict on {entity} {id} without a record"))
        })?;
        let bad = |e: serde_json::Error| Error::Protocol(format!("stored conflict: {e}"));
        Ok(Some(Conflict {
            entity_type: entity,
            id,
            my_operation: op.parse()?,
            fields: serde_json::from_str(&fields).map_err(bad)?,
            mine,
            theirs: serde_json::from_str(&server).map_err(bad)?,
            found_at,
        }))
    }

    /// Finds a conflict by an id prefix among records in conflict.
    pub fn find_conflict(&self, prefix: &str) -> Result<Conflict> {
        let p = prefix.trim().to_ascii_lowercase();
        let matches: Vec<Conflict> = self
            .conflicts()?
            .into_iter()
            .filter(|c| c.id.to_string().starts_with(&p))
            .collect();
        match matches.len() {
            0 => Err(Error::NotFound(format!(
                "no conflict on a record whose id starts with {prefix:?}; see `fieldsync conflicts`"
            ))),
            1 => Ok(matches.into_iter().next().expect("one match")),
            _ => Err(Error::Ambiguous {
                what: "conflict",
                prefix: prefix.to_string(),
                candidates: matches.iter().map(|c| c.id.to_string()).collect(),
            }),
        }
    }

    /// Settles a conflict: writes the chosen record and queues what the server needs, in one
    /// transaction.
    pub fn resolve(&mut self, c: &Conflict, resolution: &Resolution) -> Result<()> {
        let now = model::now_timestamp();
        let theirs = &c.theirs;
        // The local record now stands on the server's copy; a queued change is its difference.
        let on_server = LocalRecord {
            server_id: Some(theirs.server_id),
            version: Some(theirs.version),
            base: Some(theirs.fields.clone()),
            updated_at: now.clone(),
            ..c.mine.clone()
        };
        let tx = self.write_tx()?;
        // The row may have changed since the conflict was read (a pull refreshed "theirs").
        let still: Option<String> = tx
            .query_row(
                "SELECT server_record FROM conflict WHERE entity_type = ?1 AND entity_id = ?2",
                params![c.entity_type.as_str(), c.id.to_string()],
                |r| r.get(0),
            )
            .optional()?;
        match still {
            None => return Err(Error::NotFound(format!("{} {} is no longer in conflict", c.entity_type, c.id))),
            Some(s) if serde_json::from_str::<Record>(&s).ok().as_ref() != Some(theirs) => {
                return Err(Error::Busy(format!(
                    "the server's copy of {} {} changed while you were deciding; run `fieldsync resolve {}` again",
                    c.entity_type, c.id, c.id
                )))
            }
            Some(_) => {}
        }
        let (fields, deleted, op) = match resolution {
            Resolution::AcceptDelete => {
                if c.they_deleted() {
                    (theirs.fields.clone(), true, None)
                } else {
                    // I deleted; keep my delete on the server's latest version.
                    (c.mine.fields.clone(), true, Some(Operation::Delete))
                }
            }
            Resolution::KeepRecord => {
                if c.they_deleted() {
                    // Restore: send every field so the server revives the whole record.
                    (c.mine.fields.clone(), false, Some(Operation::Update))
                } else {
                    // I deleted, they edited: take their record back.
                    (theirs.fields.clone(), false, None)
                }
            }
            Resolution::Fields { choices, default } => {
                if c.is_delete_conflict() {
                    return Err(Error::BadInput(
                        "this conflict is a delete against an edit: keep the record or accept the delete".into(),
                    ));
                }
                let mut out = theirs.fields.clone();
                // My edits of fields that do not collide are kept.
                let base = c.mine.base.clone().unwrap_or_else(|| theirs.fields.clone());
                for (k, v) in diff_fields(&base, &c.mine.fields) {
                    if !c.fields.contains(&k) {
                        set(&mut out, &k, v);
                    }
                }
                for f in c.field_names() {
                    let choice = choices.get(f).unwrap_or(default);
                    let v = match choice {
                        Choice::Mine => c.my_value(f).cloned().unwrap_or(Value::Null),
                        Choice::Theirs => c.their_value(f).cloned().unwrap_or(Value::Null),
                        Choice::Value(v) => v.clone(),
                    };
                    set(&mut out, f, v);
                }
                (out, false, Some(Operation::Update))
            }
        };
        let mut rec = LocalRecord {
            fields,
            deleted_at: deleted.then(|| c.mine.deleted_at.clone().unwrap_or(now.clone())),
            sync_state: SyncState::Synced,
            ..on_server
        };
        let payload = match op {
            // A restore sends every field the server may take (the tombstone kept the rest).
            Some(Operation::Update) if c.they_deleted() => rec
                .fields
                .iter()
                .filter(|(k, _)| !matches!(k.as_str(), "household_id" | "officer_id"))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            Some(Operation::Update) => diff_fields(&theirs.fields, &rec.fields),
            _ => FieldMap::new(),
        };
        let op = op.filter(|o| *o == Operation::Delete || !payload.is_empty() || c.they_deleted());
        if let Some(o) = op {
            model::validate_change(c.entity_type, o, &payload)?;
            rec.sync_state = SyncState::Pending;
        }
        put_row(&tx, &rec)?;
        if let Some(o) = op {
            enqueue(&tx, &rec, o, &payload, &now)?;
        }
        tx.execute(
            "DELETE FROM conflict WHERE entity_type = ?1 AND entity_id = ?2",
            params![c.entity_type.as_str(), c.id.to_string()],
        )?;
        tx.commit()?;
        Ok(())
    }
}

fn set(out: &mut FieldMap, k: &str, v: Value) {
    if v.is_null() {
        out.remove(k);
    } else {
        out.insert(k.to_string(), v);
    }
}
