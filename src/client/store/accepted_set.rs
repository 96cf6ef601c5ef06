//! Recording accepted push results set-based (issue 14): a pushed batch's accepted changes
//! leave the queue with one `DELETE`, and their records learn their server versions with one
//! `SELECT` (only where the old base or audit matters) and one `UPDATE` per record table,
//! keyed by JSON arrays through `json_each`, instead of three statements per change.
//!
//! Only for records with exactly one entry in the batch (`apply.rs` records the others one by
//! one, in order); each row is computed exactly as the one-by-one path computes it
//! ([`AcceptedRow`]), and the `UPDATE` is the one-by-one statement with its parameters read
//! from the array.
//!
//! This module must not decide what a result means (`apply.rs` sorts them) or touch the
//! pull path.

use std::collections::HashMap;

use rusqlite::Connection;
use serde_json::{json, Value};

use super::apply::AcceptedRow;
use super::queue::{json_array, QueueEntry};
use super::rows::SyncState;
use crate::client::error::Result;
use crate::model::{EntityType, Operation};
use crate::protocol::ChangeResult;

/// What a record's row held before its accepted change: its sync state, base and audit.
type Held = (String, Option<String>, Option<String>);

/// Records accepted changes, each of a record with no other entry in the batch, inside the
/// caller's transaction.
pub(super) fn record(tx: &Connection, accepted: &[(&QueueEntry, &ChangeResult)]) -> Result<()> {
    if accepted.is_empty() {
        return Ok(());
    }
    // First: a record's state below asks whether it still has entries queued.
    let ids = json_array(accepted.iter().map(|(e, _)| Value::from(e.id)));
    tx.prepare_cached("DELETE FROM sync_queue WHERE id IN (SELECT value FROM json_each(?1))")?
        .execute([&ids])?;
    for entity in [EntityType::Household, EntityType::Visit] {
        let of_entity: Vec<_> = accepted
            .iter()
            .filter(|(e, _)| e.entity_type == entity)
            .collect();
        if !of_entity.is_empty() {
            update_rows(tx, entity, &of_entity)?;
        }
    }
    Ok(())
}

/// Writes the rows of one record table's accepted changes with one `UPDATE`.
fn update_rows(
    tx: &Connection,
    entity: EntityType,
    accepted: &[&(&QueueEntry, &ChangeResult)],
) -> Result<()> {
    // An insert starts from an empty base and a fresh audit: its old row does not matter.
    let not_inserts = accepted
        .iter()
        .filter(|(e, _)| e.operation != Operation::Insert)
        .map(|(e, _)| Value::from(e.entity_id.to_string()));
    let held = held_rows(tx, entity, &json_array(not_inserts))?;
    let mut rows = Vec::with_capacity(accepted.len());
    for (entry, result) in accepted {
        let id = entry.entity_id.to_string();
        let (base, audit) = match entry.operation {
            Operation::Insert => (None, None),
            _ => match held.get(&id) {
                // Gone, or in conflict: the one-by-one path leaves such a row alone.
                None => continue,
                Some((state, _, _)) if state == SyncState::Conflict.as_str() => continue,
                Some((_, base, audit)) => (base.as_deref(), audit.as_deref()),
            },
        };
        let row = AcceptedRow::new(entry, result, base, audit)?;
        let stamped = row.stamped.as_ref();
        rows.push(json!([
            id,
            row.server_id,
            row.version,
            row.merged_version,
            row.base,
            stamped.map(|s| &s.json),
            stamped.and_then(|s| s.created_at.as_ref()),
            stamped.map(|s| &s.updated_at),
        ]));
    }
    if rows.is_empty() {
        return Ok(());
    }
    // The statement of `apply.rs`'s one-by-one `accepted`, its parameters read from the
    // array; a row in conflict (an insert's, not read above) is left alone there too.
    tx.prepare_cached(&format!(
        "UPDATE {table} SET server_id = COALESCE(j.server_id, server_id),
             version = COALESCE(j.version, version), base = j.base,
             merged_version = CASE WHEN j.version IS NULL THEN j.merged_version ELSE NULL END,
             sync_state = CASE WHEN EXISTS (SELECT 1 FROM sync_queue
                 WHERE entity_type = ?2 AND entity_id = {table}.id)
               THEN 'pending' ELSE 'synced' END,
             audit = COALESCE(j.audit, audit), created_at = COALESCE(j.created_at, created_at),
             updated_at = COALESCE(j.updated_at, updated_at)
         FROM (SELECT value ->> 0 AS id, value ->> 1 AS server_id, value ->> 2 AS version,
                      value ->> 3 AS merged_version, value ->> 4 AS base, value ->> 5 AS audit,
                      value ->> 6 AS created_at, value ->> 7 AS updated_at
               FROM json_each(?1)) AS j
         WHERE {table}.id = j.id AND {table}.sync_state != 'conflict'",
        table = super::rows::table(entity)
    ))?
    .execute(rusqlite::params![
        Value::Array(rows).to_string(),
        entity.as_str()
    ])?;
    Ok(())
}

/// The sync state, base and audit of these records' rows (one statement), by record id.
fn held_rows(tx: &Connection, entity: EntityType, ids: &str) -> Result<HashMap<String, Held>> {
    if ids == "[]" {
        return Ok(HashMap::new());
    }
    let mut stmt = tx.prepare_cached(&format!(
        "SELECT id, sync_state, base, audit FROM {} WHERE id IN (SELECT value FROM json_each(?1))",
        super::rows::table(entity)
    ))?;
    let rows = stmt.query_map([ids], |r| {
        Ok((r.get::<_, String>(0)?, (r.get(1)?, r.get(2)?, r.get(3)?)))
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
