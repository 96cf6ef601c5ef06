//! Recording accepted push results together (issue 14): a pushed batch's accepted changes
//! leave the queue with one `DELETE` keyed by a JSON array (`json_each`), the rows whose old
//! base or audit matters (not an insert's) are read with one `SELECT`, and each record's row
//! is written by one `UPDATE` statement prepared once for the batch — instead of a
//! `DELETE`, a `SELECT` and an `UPDATE` per change.
//!
//! Only for records with exactly one entry in the batch (`apply.rs` records the others one by
//! one, in order); each row is computed and written exactly as the one-by-one path does
//! ([`AcceptedRow`]).
//!
//! This module must not decide what a result means (`apply.rs` sorts them) or touch the
//! pull path.

use std::collections::HashMap;

use rusqlite::Connection;
use serde_json::Value;

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

/// Writes the rows of one record table's accepted changes.
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
    // One statement prepared once for the batch, run per row. (A single `UPDATE ... FROM
    // json_each` was measured: it cost twice as much, materialising every new row and
    // parsing it from JSON before writing it.)
    let mut stmt = tx.prepare_cached(&AcceptedRow::update_sql(entity))?;
    for (entry, result) in accepted {
        let id = entry.entity_id.to_string();
        let (base, audit) = match entry.operation {
            // The statement leaves a row in conflict alone; a missing row matches nothing.
            Operation::Insert => (None, None),
            _ => match held.get(&id) {
                // Gone, or in conflict: the one-by-one path leaves such a row alone.
                None => continue,
                Some((state, _, _)) if state == SyncState::Conflict.as_str() => continue,
                Some((_, base, audit)) => (base.as_deref(), audit.as_deref()),
            },
        };
        AcceptedRow::new(entry, result, base, audit)?.write(&mut stmt, entity, &id)?;
    }
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

#[cfg(test)]
mod tests {
    use rusqlite::types::Value as Sql;
    use serde_json::json;
    use uuid::Uuid;

    use crate::client::store::apply::{record_one_by_one, record_push_results};
    use crate::client::store::{QueueEntry, QueueStatus, Store, SyncState};
    use crate::model::{EntityType, FieldMap, Operation};
    use crate::protocol::{Audit, ChangeResult, ErrorCode, FieldStamp, Record};

    const NOW: &str = "2026-11-27T12:00:00Z";
    const H: EntityType = EntityType::Household;

    fn fields(v: serde_json::Value) -> FieldMap {
        serde_json::from_value(v).unwrap()
    }

    fn stamp() -> FieldStamp {
        FieldStamp {
            by: "amina".into(),
            at: "2026-11-27T11:59:00Z".into(),
        }
    }

    /// Every row of every table the push results touch, as text: two runs that leave the
    /// same dump left the same database.
    fn dump(conn: &rusqlite::Connection) -> Vec<String> {
        let mut out = Vec::new();
        for table in ["household", "visit", "sync_queue", "conflict", "sync_meta"] {
            let mut stmt = conn
                .prepare(&format!("SELECT * FROM {table} ORDER BY 1, 2"))
                .unwrap();
            let n = stmt.column_count();
            let rows = stmt
                .query_map([], |r| {
                    (0..n)
                        .map(|i| r.get::<_, Sql>(i))
                        .collect::<Result<Vec<_>, _>>()
                })
                .unwrap();
            for row in rows {
                out.push(format!("{table}: {:?}", row.unwrap()));
            }
        }
        out
    }

    /// Records `results` with `record` in a transaction that is rolled back, and returns
    /// the dump of what it left.
    fn recorded_by(
        s: &mut Store,
        batch: &[QueueEntry],
        results: &[ChangeResult],
        set_based: bool,
    ) -> Vec<String> {
        let tx = s.write_tx().unwrap();
        if set_based {
            record_push_results(&tx, batch, results, NOW).unwrap();
        } else {
            record_one_by_one(&tx, batch, results, NOW).unwrap();
        }
        let d = dump(&tx);
        tx.rollback().unwrap();
        d
    }

    fn household(s: &mut Store, name: &str) -> Uuid {
        s.add(H, fields(json!({ "name": name }))).unwrap()
    }

    fn state(s: &Store, id: Uuid) -> (SyncState, Option<i64>) {
        let r = s.get(H, id).unwrap().unwrap();
        (r.sync_state, r.version)
    }

    /// A batch mixing every kind of result, recorded set-based, leaves exactly what
    /// recording it one result at a time leaves (the reference), and what each result means:
    /// the set-based statements touch the accepted entries and their records only.
    #[test]
    fn a_mixed_batch_recorded_together_is_recorded_as_one_by_one() {
        let mut s = Store::open_in_memory().unwrap();
        // Round 1: records the server then holds, synced at versions 1..=5.
        let [a, b, c, d, e] = ["a", "b", "c", "d", "e"].map(|n| household(&mut s, n));
        let first = s.take_batch(10).unwrap();
        let ok: Vec<_> = first
            .iter()
            .enumerate()
            .map(|(i, q)| ChangeResult::accepted(q.op_id, i as i64 + 1, i as i64 + 1, false))
            .collect();
        s.apply_push_results(&first, &ok).unwrap();

        // Round 2. `f`: its insert was taken and the answer lost (left `sending`), then edited.
        let f = household(&mut s, "f");
        s.take_batch(1).unwrap();
        s.edit(H, f, fields(json!({ "village": "upper" }))).unwrap();
        s.edit(H, a, fields(json!({ "name": "a2" }))).unwrap(); // accepted, stamped
        s.edit(H, b, fields(json!({ "name": "b2" }))).unwrap(); // conflict
        s.edit(H, c, fields(json!({ "name": "c2" }))).unwrap(); // rejected
        s.edit(H, d, fields(json!({ "village": "low" }))).unwrap(); // accepted, merged
        s.delete(H, e).unwrap(); // upsert of a tombstone, deleted on the server too
        let g = household(&mut s, "g"); // accepted insert, edited while in flight
        let k = household(&mut s, "k"); // accepted insert of a record now in conflict
        let gone = s.add(H, fields(json!({ "name": "gone" }))).unwrap(); // a delete the server refuses (it never had the record)
        s.delete(H, gone).unwrap();
        let left = household(&mut s, "left"); // not in the batch
        s.conn
            .execute(
                "UPDATE sync_queue SET operation = 'upsert' WHERE entity_id = ?1",
                [e.to_string()],
            )
            .unwrap();
        // `gone`'s insert and delete, folded into the delete alone for the test's refusal.
        s.conn
            .execute(
                "DELETE FROM sync_queue WHERE entity_id = ?1 AND operation = 'insert'",
                [gone.to_string()],
            )
            .unwrap();
        let waiting = s.queue_counts().unwrap().waiting() as usize;
        let batch = s.take_batch(waiting - 1).unwrap();
        assert!(batch.iter().all(|q| q.entity_id != left));
        assert_eq!(batch.iter().filter(|q| q.entity_id == f).count(), 2);
        // Made while the batch was in flight.
        s.edit(H, g, fields(json!({ "village": "late" }))).unwrap();
        s.conn
            .execute(
                "UPDATE household SET sync_state = 'conflict' WHERE id = ?1",
                [k.to_string()],
            )
            .unwrap();

        let server = |id: Uuid, version: i64, deleted: bool| Record {
            entity_type: H,
            id,
            server_id: version,
            version,
            deleted,
            fields: fields(json!({ "name": "server" })),
            audit: Audit::default(),
        };
        let results: Vec<ChangeResult> = batch
            .iter()
            .map(|q| {
                let id = q.entity_id;
                let op = q.op_id;
                if id == a || id == g || id == f {
                    let v = if id == f { 10 + q.id } else { 20 + q.id };
                    let mut r = ChangeResult::accepted(op, v, v, false);
                    r.stamped = Some(stamp());
                    r
                } else if id == b {
                    ChangeResult::conflict(op, server(b, 30, false), vec!["name".into()])
                } else if id == c {
                    ChangeResult::rejected(op, ErrorCode::InvalidField, "name: empty")
                } else if id == d {
                    ChangeResult::accepted(op, 31, 4, true)
                } else if id == e {
                    ChangeResult::conflict(op, server(e, 32, true), vec!["deleted".into()])
                } else if id == gone {
                    ChangeResult::rejected(op, ErrorCode::UnknownRecord, "no such household")
                } else {
                    assert_eq!(id, k);
                    ChangeResult::accepted(op, 33, 33, false)
                }
            })
            .collect();

        let reference = recorded_by(&mut s, &batch, &results, false);
        let together = recorded_by(&mut s, &batch, &results, true);
        assert_eq!(together, reference);

        // And what each result means, in the store as the set-based path leaves it.
        s.apply_push_results(&batch, &results).unwrap();
        let a_row = s.get(H, a).unwrap().unwrap();
        assert_eq!(a_row.sync_state, SyncState::Synced);
        assert!(a_row.version.is_some_and(|v| v > 20), "{:?}", a_row.version);
        assert_eq!(a_row.base.as_ref().unwrap()["name"], json!("a2"));
        assert_eq!(a_row.audit.updated_by.as_deref(), Some("amina"));
        assert_eq!(state(&s, b).0, SyncState::Conflict);
        assert_eq!(state(&s, c).0, SyncState::Pending);
        assert_eq!(
            state(&s, d),
            (SyncState::Synced, Some(4)),
            "merged: old version"
        );
        assert_eq!(state(&s, e), (SyncState::Synced, Some(32)), "the tombstone");
        assert_eq!(state(&s, g).0, SyncState::Pending, "edited while in flight");
        assert_eq!(
            state(&s, k),
            (SyncState::Conflict, None),
            "a conflict stays"
        );
        assert_eq!(
            state(&s, gone).0,
            SyncState::Synced,
            "settled by the refusal"
        );
        assert_eq!(state(&s, left), (SyncState::Pending, None));
        assert_eq!(state(&s, f).0, SyncState::Synced);
        let queue: Vec<(Uuid, Operation, QueueStatus)> = s
            .queue_entries(&[])
            .unwrap()
            .iter()
            .map(|q| (q.entity_id, q.operation, q.status))
            .collect();
        assert_eq!(
            queue,
            [
                (c, Operation::Update, QueueStatus::Rejected),
                (left, Operation::Insert, QueueStatus::Pending),
                (g, Operation::Update, QueueStatus::Pending),
            ]
        );
    }

    /// Only the accepted entries of the batch leave the queue, even where another entry of
    /// the same record (not in the batch) waits, and an accepted insert whose record the
    /// device no longer has touches nothing.
    #[test]
    fn only_the_batch_leaves_the_queue() {
        let mut s = Store::open_in_memory().unwrap();
        let ids: Vec<Uuid> = (0..6)
            .map(|i| household(&mut s, &format!("h{i}")))
            .collect();
        let batch = s.take_batch(4).unwrap();
        s.edit(H, ids[1], fields(json!({ "name": "later" })))
            .unwrap();
        s.conn
            .execute("DELETE FROM household WHERE id = ?1", [ids[3].to_string()])
            .unwrap();
        let results: Vec<_> = batch
            .iter()
            .map(|q| ChangeResult::accepted(q.op_id, q.id + 100, q.id, false))
            .collect();
        let reference = recorded_by(&mut s, &batch, &results, false);
        assert_eq!(recorded_by(&mut s, &batch, &results, true), reference);
        s.apply_push_results(&batch, &results).unwrap();
        let queue: Vec<Uuid> = s
            .queue_entries(&[])
            .unwrap()
            .iter()
            .map(|q| q.entity_id)
            .collect();
        assert_eq!(queue, [ids[4], ids[5], ids[1]]);
        assert_eq!(state(&s, ids[0]).0, SyncState::Synced);
        assert_eq!(state(&s, ids[1]).0, SyncState::Pending);
        assert_eq!(state(&s, ids[4]), (SyncState::Pending, None));
        assert!(s.get(H, ids[3]).unwrap().is_none());
    }
}
