//! The sync queue: appending local changes, reading it, compacting it, taking batches to
//! send and releasing them — each step one local transaction.
//!
//! An entry's life: `pending` → `sending` (marked before its request) → gone (accepted, or
//! turned into a conflict) or `rejected` (kept, with the server's error, until the record is
//! edited again). Entries left in `sending` by a crash are sent again with the same op_id;
//! the server's dedupe makes that safe.
//!
//! This module must not apply the server's answers (`apply.rs`) or format entries for people.

use std::collections::{BTreeMap, HashSet};

use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use uuid::Uuid;

use super::rows::{get_record, put_row, table, LocalRecord, SyncState};
use super::Store;
use crate::client::error::{Error, Result};
use crate::merge::{compact, PendingOp};
use crate::model::{apply_fields, EntityType, FieldMap, Operation};
use crate::protocol::Change;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum QueueStatus {
    Pending,
    Sending,
    Rejected,
}

impl QueueStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            QueueStatus::Pending => "pending",
            QueueStatus::Sending => "sending",
            QueueStatus::Rejected => "rejected",
        }
    }

    pub(super) fn parse(s: &str) -> rusqlite::Result<QueueStatus> {
        match s {
            "pending" => Ok(QueueStatus::Pending),
            "sending" => Ok(QueueStatus::Sending),
            "rejected" => Ok(QueueStatus::Rejected),
            other => Err(bad("status", format_args!("unknown status {other:?}"))),
        }
    }
}

/// One row of the sync queue.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QueueEntry {
    pub id: i64,
    pub op_id: Uuid,
    pub entity_type: EntityType,
    pub entity_id: Uuid,
    pub operation: Operation,
    /// The changed fields only.
    pub payload: FieldMap,
    pub base_version: Option<i64>,
    pub enqueued_at: String,
    pub retry_count: i64,
    pub status: QueueStatus,
    pub last_error: Option<String>,
    /// The entry's sequence number (op-id retention, `op_seq.rs`): given when it is first
    /// sent, kept with its op_id. Not part of the entry's listings.
    #[serde(skip)]
    pub seq: Option<i64>,
}

impl QueueEntry {
    pub fn to_change(&self) -> Change {
        Change {
            op_id: self.op_id,
            entity_type: self.entity_type,
            entity_id: self.entity_id,
            operation: self.operation,
            base_version: self.base_version,
            fields: self.payload.clone(),
        }
    }
}

const QUEUE_COLUMNS: &str = "id, op_id, entity_type, entity_id, operation, payload, base_version, \
                             enqueued_at, retry_count, status, last_error, seq";

/// A column whose text does not parse: the row is damaged.
fn bad(column: &str, msg: impl std::fmt::Display) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(
        0,
        rusqlite::types::Type::Text,
        format!("sync_queue.{column}: {msg}").into(),
    )
}

/// Reads a row selected with [`QUEUE_COLUMNS`], by position (in the order of
/// [`QUEUE_COLUMNS`]: looking columns up by name compared every column name for every
/// value, a few per cent of a large push).
fn read_entry(r: &rusqlite::Row<'_>) -> rusqlite::Result<QueueEntry> {
    let uuid = |idx: usize, column: &str| -> rusqlite::Result<Uuid> {
        let s: String = r.get(idx)?;
        Uuid::parse_str(&s).map_err(|e| bad(column, e))
    };
    let entity: String = r.get(2)?;
    let op: String = r.get(4)?;
    let payload: String = r.get(5)?;
    let status: String = r.get(9)?;
    Ok(QueueEntry {
        id: r.get(0)?,
        op_id: uuid(1, "op_id")?,
        entity_type: entity.parse().map_err(|e| bad("entity_type", e))?,
        entity_id: uuid(3, "entity_id")?,
        operation: op.parse().map_err(|e| bad("operation", e))?,
        payload: serde_json::from_str(&payload).map_err(|e| bad("payload", e))?,
        base_version: r.get(6)?,
        enqueued_at: r.get(7)?,
        retry_count: r.get(8)?,
        status: QueueStatus::parse(&status)?,
        last_error: r.get(10)?,
        seq: r.get(11)?,
    })
}

#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct QueueCounts {
    pub pending: i64,
    pub sending: i64,
    pub rejected: i64,
}

impl QueueCounts {
    /// Entries that the next sync will send.
    pub fn waiting(&self) -> i64 {
        self.pending + self.sending
    }
}

impl Store {
    /// Queue entries in queue order, optionally only those with the given statuses.
    pub fn queue_entries(&self, only: &[QueueStatus]) -> Result<Vec<QueueEntry>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {QUEUE_COLUMNS} FROM sync_queue ORDER BY id"
        ))?;
        let rows = stmt.query_map([], read_entry)?;
        let mut out = Vec::new();
        for r in rows {
            let e = r?;
            if only.is_empty() || only.contains(&e.status) {
                out.push(e);
            }
        }
        Ok(out)
    }

    pub fn queue_counts(&self) -> Result<QueueCounts> {
        let mut c = QueueCounts::default();
        let mut stmt = self
            .conn
            .prepare("SELECT status, count(*) FROM sync_queue GROUP BY status")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
        for row in rows {
            let (status, n) = row?;
            match QueueStatus::parse(&status)? {
                QueueStatus::Pending => c.pending = n,
                QueueStatus::Sending => c.sending = n,
                QueueStatus::Rejected => c.rejected = n,
            }
        }
        Ok(c)
    }

    /// Compacts unsent entries (see [`crate::merge::compact`]), in one transaction. Records
    /// with an entry in flight are left alone: the server may already hold that entry.
    /// Returns how many entries the queue lost.
    pub fn compact_queue(&mut self) -> Result<usize> {
        let tx = self.write_tx()?;
        // Only records with several unsent entries can compact; loading just those keeps a
        // week's backlog of one-entry records out of memory.
        let ops: Vec<PendingOp> = {
            let mut stmt = tx.prepare(&format!(
                "SELECT {QUEUE_COLUMNS} FROM sync_queue
                 WHERE status = 'pending' AND (entity_type, entity_id) IN (
                     SELECT entity_type, entity_id FROM sync_queue
                     WHERE status IN ('pending', 'sending')
                     GROUP BY entity_type, entity_id
                     HAVING count(*) > 1 AND sum(status = 'sending') = 0)
                 ORDER BY id"
            ))?;
            let rows = stmt.query_map([], read_entry)?;
            let mut ops = Vec::new();
            for e in rows {
                let e = e?;
                ops.push(PendingOp {
                    queue_id: e.id,
                    entity_type: e.entity_type,
                    entity_id: e.entity_id,
                    operation: e.operation,
                    base_version: e.base_version,
                    fields: e.payload,
                });
            }
            ops
        };
        let plan = compact(&ops);
        for op in &plan.rewrite {
            let payload = serde_json::to_string(&op.fields)
                .map_err(|e| Error::corrupt("a compacted queue entry", e))?;
            tx.prepare_cached(
                "UPDATE sync_queue SET operation = ?2, payload = ?3, base_version = ?4 WHERE id = ?1",
            )?
            .execute(params![
                op.queue_id,
                op.operation.as_str(),
                payload,
                op.base_version
            ])?;
        }
        for id in &plan.delete {
            tx.prepare_cached("DELETE FROM sync_queue WHERE id = ?1")?
                .execute([id])?;
        }
        // A record whose every change cancelled out (inserted, then deleted, never sent)
        // has nothing left to sync.
        for op in &ops {
            if plan.delete.contains(&op.queue_id)
                && !has_entries(&tx, op.entity_type, op.entity_id)?
            {
                if let Some(rec) = get_record(&tx, op.entity_type, op.entity_id)? {
                    if rec.version.is_none() {
                        put_row(
                            &tx,
                            &LocalRecord {
                                sync_state: SyncState::Synced,
                                ..rec
                            },
                        )?;
                    }
                }
            }
        }
        tx.commit()?;
        Ok(plan.delete.len())
    }

    /// Takes the next batch to push and marks it `sending`, in one transaction. Entries a
    /// crash left in `sending` come first, in queue order, with the same op_ids.
    pub fn take_batch(&mut self, size: usize) -> Result<Vec<QueueEntry>> {
        self.take_batch_besides(size, &HashSet::new())
    }

    /// [`Store::take_batch`], passing over the entries of batches taken before and not
    /// answered yet (`in_flight`, queue ids; they are `sending` too): what the push pipeline
    /// takes while an earlier batch is on the wire.
    pub fn take_batch_besides(
        &mut self,
        size: usize,
        in_flight: &HashSet<i64>,
    ) -> Result<Vec<QueueEntry>> {
        let tx = self.write_tx()?;
        let batch = take_in(&tx, size, in_flight)?;
        // Durable before the request may leave: compaction rewrites only entries never
        // sent, so the server must never receive an entry the queue does not know is out.
        tx.commit()?;
        Ok(batch)
    }

    /// Puts a batch the server certainly did not apply (it refused the request as a whole,
    /// e.g. 401) back to `pending`, as if it had never been taken.
    pub fn release_batch(&mut self, batch: &[QueueEntry]) -> Result<()> {
        let tx = self.write_tx()?;
        for e in batch {
            tx.prepare_cached(
                "UPDATE sync_queue SET status = 'pending', retry_count = ?2 WHERE id = ?1 AND status = 'sending'",
            )?
            .execute(params![e.id, e.retry_count])?;
            tx.prepare_cached(&format!(
                "UPDATE {} SET sync_state = 'pending' WHERE id = ?1 AND sync_state = 'syncing'",
                table(e.entity_type)
            ))?
            .execute([e.entity_id.to_string()])?;
        }
        tx.commit()?;
        Ok(())
    }
}

/// Takes the next batch inside the caller's transaction (see
/// [`Store::take_batch_besides`]): reads it, gives updates and deletes the base their record
/// holds now, numbers it (`op_seq.rs`) and marks it `sending`, with one statement for the
/// queue and one per record table, whatever the batch size.
pub(super) fn take_in(
    tx: &Connection,
    size: usize,
    in_flight: &HashSet<i64>,
) -> Result<Vec<QueueEntry>> {
    let mut batch = read_next(tx, size, in_flight)?;
    for e in &mut batch {
        // An update queued before its record's insert was accepted learns the base now.
        // An upsert keeps the base it was queued with (none: insert where absent).
        let takes_base = matches!(e.operation, Operation::Update | Operation::Delete);
        if e.base_version.is_none() && takes_base {
            if let Some(version) = record_version(tx, e.entity_type, e.entity_id)? {
                e.base_version = Some(version);
                tx.prepare_cached("UPDATE sync_queue SET base_version = ?2 WHERE id = ?1")?
                    .execute(params![e.id, version])?;
            }
        }
    }
    super::op_seq::number(tx, &mut batch)?;
    let ids = json_array(batch.iter().map(|e| serde_json::Value::from(e.id)));
    tx.prepare_cached(
        "UPDATE sync_queue SET retry_count = retry_count + (status = 'sending'), status = 'sending'
         WHERE id IN (SELECT value FROM json_each(?1))",
    )?
    .execute([&ids])?;
    for entity in [EntityType::Household, EntityType::Visit] {
        let of_entity = batch
            .iter()
            .filter(|e| e.entity_type == entity)
            .map(|e| serde_json::Value::from(e.entity_id.to_string()));
        let records = json_array(of_entity);
        if records == "[]" {
            continue;
        }
        tx.prepare_cached(match entity {
            EntityType::Household => {
                "UPDATE household SET sync_state = 'syncing'
                 WHERE sync_state = 'pending' AND id IN (SELECT value FROM json_each(?1))"
            }
            EntityType::Visit => {
                "UPDATE visit SET sync_state = 'syncing'
                 WHERE sync_state = 'pending' AND id IN (SELECT value FROM json_each(?1))"
            }
        })?
        .execute([&records])?;
    }
    for e in &mut batch {
        if e.status == QueueStatus::Sending {
            e.retry_count += 1;
        }
        e.status = QueueStatus::Sending;
    }
    Ok(batch)
}

/// The entries of the next batch, in the order they are sent: entries a crash left in
/// `sending` first, then `pending` ones, each in queue order, passing over `in_flight`.
fn read_next(tx: &Connection, size: usize, in_flight: &HashSet<i64>) -> Result<Vec<QueueEntry>> {
    // Two index range scans on (status, id): `sending` first, then `pending`. (One query
    // ordered by `status = 'pending', id` sorted the whole queue for every batch.)
    let mut batch: Vec<QueueEntry> = Vec::with_capacity(size);
    for status in [QueueStatus::Sending, QueueStatus::Pending] {
        let left = size - batch.len();
        if left == 0 {
            break;
        }
        // In-flight entries are `sending`: read past as many of them as there are.
        let passed = match status {
            QueueStatus::Sending => in_flight.len(),
            _ => 0,
        };
        let mut stmt = tx.prepare_cached(&format!(
            "SELECT {QUEUE_COLUMNS} FROM sync_queue WHERE status = ?1 ORDER BY id LIMIT ?2"
        ))?;
        let limit = (left + passed) as i64;
        let rows = stmt.query_map(params![status.as_str(), limit], read_entry)?;
        for row in rows {
            let entry = row?;
            if !in_flight.contains(&entry.id) && batch.len() < size {
                batch.push(entry);
            }
        }
    }
    Ok(batch)
}

/// The server version a local record is based on (`None`: no such record, or never synced).
fn record_version(tx: &Connection, entity: EntityType, id: Uuid) -> Result<Option<i64>> {
    Ok(tx
        .prepare_cached(&format!(
            "SELECT version FROM {} WHERE id = ?1",
            table(entity)
        ))?
        .query_row([id.to_string()], |r| r.get::<_, Option<i64>>(0))
        .optional()?
        .flatten())
}

/// A JSON array, for `json_each(?)` in set-based statements.
pub(super) fn json_array(items: impl Iterator<Item = serde_json::Value>) -> String {
    serde_json::Value::Array(items.collect()).to_string()
}

pub(super) fn delete_entry(tx: &Connection, id: i64) -> Result<()> {
    tx.prepare_cached("DELETE FROM sync_queue WHERE id = ?1")?
        .execute([id])?;
    Ok(())
}

/// Does this record still have queue entries (of any status)?
pub(super) fn has_entries(tx: &Connection, entity: EntityType, id: Uuid) -> Result<bool> {
    Ok(tx
        .prepare_cached(
            "SELECT 1 FROM sync_queue WHERE entity_type = ?1 AND entity_id = ?2 LIMIT 1",
        )?
        .query_row(params![entity.as_str(), id.to_string()], |_| Ok(()))
        .optional()?
        .is_some())
}

/// Appends a queue entry for a local change. Entries of this record that the server
/// rejected come back to life with fresh op_ids: the edit is the officer's answer to the
/// rejection, and compaction folds them into one change.
pub(super) fn enqueue(
    tx: &Connection,
    rec: &LocalRecord,
    op: Operation,
    payload: &FieldMap,
    now: &str,
) -> Result<()> {
    let payload = serde_json::to_string(payload)
        .map_err(|e| Error::corrupt(format_args!("the queued change of {}", rec.id), e))?;
    let entity = rec.entity_type.as_str();
    let id = rec.id.to_string();
    if op != Operation::Insert {
        let mut revive = tx.prepare_cached(
            "SELECT id FROM sync_queue WHERE entity_type = ?1 AND entity_id = ?2 AND status = 'rejected'",
        )?;
        let rejected: Vec<i64> = revive
            .query_map(params![entity, id], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        for qid in rejected {
            tx.prepare_cached(
                // A new op_id is a new change: it is numbered afresh when sent (op-id
                // retention), above anything the server may have forgotten of this device.
                "UPDATE sync_queue SET status = 'pending', op_id = ?2, seq = NULL, last_error = NULL WHERE id = ?1",
            )?
            .execute(params![qid, Uuid::now_v7().to_string()])?;
        }
    }
    tx.prepare_cached(
        "INSERT INTO sync_queue (op_id, entity_type, entity_id, operation, payload, base_version, enqueued_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        Uuid::now_v7().to_string(),
        entity,
        id,
        op.as_str(),
        payload,
        rec.version,
        now,
    ])?;
    Ok(())
}

/// Replays queue payloads onto empty records: what the queue alone says the device holds.
/// Used by tests to check that the queue never misses a local write.
pub fn replay(entries: &[QueueEntry]) -> BTreeMap<(EntityType, Uuid), (FieldMap, bool)> {
    let mut out: BTreeMap<(EntityType, Uuid), (FieldMap, bool)> = BTreeMap::new();
    for e in entries {
        let slot = out
            .entry((e.entity_type, e.entity_id))
            .or_insert_with(|| (FieldMap::new(), false));
        match e.operation {
            Operation::Insert | Operation::Upsert => {
                slot.0 = FieldMap::new();
                apply_fields(&mut slot.0, &e.payload);
            }
            Operation::Update => apply_fields(&mut slot.0, &e.payload),
            Operation::Delete => slot.1 = true,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::store::ListFilter;
    use proptest::prelude::*;
    use serde_json::{json, Value};

    #[derive(Debug, Clone)]
    enum Act {
        AddHousehold(String),
        AddVisit(usize, Option<String>),
        EditHousehold(usize, Option<String>, Option<String>),
        EditVisit(usize, String, Option<String>),
        DeleteVisit(usize),
    }

    fn act() -> impl Strategy<Value = Act> {
        let word = "[a-z]{1,6}";
        prop_oneof![
            word.prop_map(Act::AddHousehold),
            (any::<usize>(), proptest::option::of(word)).prop_map(|(h, n)| Act::AddVisit(h, n)),
            (
                any::<usize>(),
                proptest::option::of(word),
                proptest::option::of(word)
            )
                .prop_map(|(h, n, v)| Act::EditHousehold(h, n, v)),
            (any::<usize>(), "[a-c]", proptest::option::of(word))
                .prop_map(|(v, k, a)| Act::EditVisit(v, k, a)),
            any::<usize>().prop_map(Act::DeleteVisit),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        /// Replaying the queue's payloads from an empty database rebuilds exactly the local
        /// records: no local write ever misses its queue entry.
        #[test]
        fn replaying_the_queue_rebuilds_the_records(acts in proptest::collection::vec(act(), 1..40)) {
            let mut s = Store::open_in_memory().unwrap();
            let mut households = Vec::new();
            let mut visits = Vec::new();
            for a in acts {
                match a {
                    Act::AddHousehold(name) => {
                        households.push(s.add(EntityType::Household, serde_json::from_value(json!({"name": name})).unwrap()).unwrap());
                    }
                    Act::AddVisit(h, notes) if !households.is_empty() => {
                        let h = households[h % households.len()];
                        let mut f: FieldMap = serde_json::from_value(json!({
                            "household_id": h.to_string(), "officer_id": "amina",
                            "visited_at": "2026-11-25T09:00:00Z"})).unwrap();
                        if let Some(n) = notes { f.insert("notes".into(), json!(n)); }
                        visits.push(s.add(EntityType::Visit, f).unwrap());
                    }
                    Act::EditHousehold(h, name, village) if !households.is_empty() => {
                        let h = households[h % households.len()];
                        let mut f = FieldMap::new();
                        if let Some(n) = name { f.insert("name".into(), json!(n)); }
                        f.insert("village".into(), village.map_or(Value::Null, Value::from));
                        s.edit(EntityType::Household, h, f).unwrap();
                    }
                    Act::EditVisit(v, key, answer) if !visits.is_empty() => {
                        let v = visits[v % visits.len()];
                        if s.get(EntityType::Visit, v).unwrap().unwrap().is_deleted() { continue; }
                        let mut f = FieldMap::new();
                        f.insert(format!("answers.{key}"), answer.map_or(Value::Null, Value::from));
                        s.edit(EntityType::Visit, v, f).unwrap();
                    }
                    Act::DeleteVisit(v) if !visits.is_empty() => {
                        let v = visits[v % visits.len()];
                        if !s.get(EntityType::Visit, v).unwrap().unwrap().is_deleted() {
                            s.delete(EntityType::Visit, v).unwrap();
                        }
                    }
                    _ => {}
                }
            }
            let replayed = replay(&s.queue_entries(&[]).unwrap());
            let mut actual = BTreeMap::new();
            for entity in EntityType::ALL {
                let filter = ListFilter { deleted: true, ..Default::default() };
                for r in s.list(entity, &filter).unwrap() {
                    actual.insert((entity, r.id), (r.fields.clone(), r.is_deleted()));
                }
            }
            prop_assert_eq!(replayed, actual);
        }
    }
}
