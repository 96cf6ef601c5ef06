//! The sync queue: reading it for people (`queue`, `status`), compacting it, taking batches
//! to send, and applying what the server answered — each step one local transaction, so a
//! crash between any two steps leaves a state the next sync completes from.
//!
//! An entry's life: `pending` → `sending` (marked before its request) → gone (accepted, or
//! turned into a conflict) or `rejected` (kept, with the server's error, until the record is
//! edited again). Entries left in `sending` by a crash are sent again with the same op_id;
//! the server's dedupe makes that safe.

use std::collections::BTreeMap;

use rusqlite::{params, OptionalExtension};
use serde::Serialize;
use uuid::Uuid;

use super::error::{Error, Result};
use super::store::{self, get_record, meta, put_row, LocalRecord, Store, SyncState};
use crate::merge::{compact, PendingOp};
use crate::model::{self, apply_fields, EntityType, FieldMap, Operation};
use crate::protocol::{Change, ChangeResult, ChangeStatus, Record};

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

    fn parse(s: &str) -> rusqlite::Result<QueueStatus> {
        match s {
            "pending" => Ok(QueueStatus::Pending),
            "sending" => Ok(QueueStatus::Sending),
            "rejected" => Ok(QueueStatus::Rejected),
            other => Err(rusqlite::Error::FromSqlConversionFailure(
                0,
                rusqlite::types::Type::Text,
                format!("bad queue status {other:?}").into(),
            )),
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
                             enqueued_at, retry_count, status, last_error";

fn bad(col: usize, msg: impl Into<String>) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(col, rusqlite::types::Type::Text, msg.into().into())
}

fn read_entry(r: &rusqlite::Row<'_>) -> rusqlite::Result<QueueEntry> {
    let uuid = |i: usize| -> rusqlite::Result<Uuid> {
        let s: String = r.get(i)?;
        Uuid::parse_str(&s).map_err(|e| bad(i, e.to_string()))
    };
    let entity: String = r.get(2)?;
    let op: String = r.get(4)?;
    let payload: String = r.get(5)?;
    let status: String = r.get(9)?;
    Ok(QueueEntry {
        id: r.get(0)?,
        op_id: uuid(1)?,
        entity_type: entity.parse().map_err(|e| bad(2, format!("{e}")))?,
        entity_id: uuid(3)?,
        operation: op.parse().map_err(|e| bad(4, format!("{e}")))?,
        payload: serde_json::from_str(&payload).map_err(|e| bad(5, e.to_string()))?,
        base_version: r.get(6)?,
        enqueued_at: r.get(7)?,
        retry_count: r.get(8)?,
        status: QueueStatus::parse(&status)?,
        last_error: r.get(10)?,
    })
}

/// `fieldsync status`, as numbers.
#[derive(Debug, Clone, Serialize)]
pub struct Status {
    pub households: BTreeMap<SyncState, i64>,
    pub visits: BTreeMap<SyncState, i64>,
    pub queue: QueueCounts,
    pub oldest_pending: Option<String>,
    pub conflicts: i64,
    pub last_sync_at: Option<String>,
    pub last_push_at: Option<String>,
    pub last_pull_at: Option<String>,
    pub server: Option<String>,
    pub officer: Option<String>,
    pub device_id: String,
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

/// What applying one push response did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct PushTally {
    pub accepted: u64,
    pub merged: u64,
    pub conflicts: u64,
    pub rejected: u64,
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

    pub fn status(&self) -> Result<Status> {
        let counts = |entity: EntityType| -> Result<BTreeMap<SyncState, i64>> {
            let mut out: BTreeMap<SyncState, i64> =
                SyncState::ALL.iter().map(|s| (*s, 0)).collect();
            let mut stmt = self.conn.prepare(&format!(
                "SELECT sync_state, count(*) FROM {} WHERE deleted_at IS NULL OR sync_state != 'synced' GROUP BY sync_state",
                store::table(entity)
            ))?;
            let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
            for row in rows {
                let (s, n) = row?;
                if let Ok(state) = s.parse() {
                    out.insert(state, n);
                }
            }
            Ok(out)
        };
        Ok(Status {
            households: counts(EntityType::Household)?,
            visits: counts(EntityType::Visit)?,
            queue: self.queue_counts()?,
            oldest_pending: self
                .conn
                .query_row(
                    "SELECT min(enqueued_at) FROM sync_queue WHERE status != 'rejected'",
                    [],
                    |r| r.get(0),
                )
                .optional()?
                .flatten(),
            conflicts: self
                .conn
                .query_row("SELECT count(*) FROM conflict", [], |r| r.get(0))?,
            last_sync_at: self.meta(meta::LAST_SYNC_AT)?,
            last_push_at: self.meta(meta::LAST_PUSH_AT)?,
            last_pull_at: self.meta(meta::LAST_PULL_AT)?,
            server: self.meta(meta::SERVER_URL)?,
            officer: self.meta(meta::OFFICER_ID)?,
            device_id: self.device_id()?.to_string(),
        })
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
            let payload =
                serde_json::to_string(&op.fields).map_err(|e| Error::Protocol(e.to_string()))?;
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
        let tx = self.write_tx()?;
        // Two index range scans on (status, id): `sending` first, then `pending`. (One query
        // ordered by `status = 'pending', id` sorted the whole queue for every batch.)
        let mut batch: Vec<QueueEntry> = Vec::with_capacity(size);
        for status in [QueueStatus::Sending, QueueStatus::Pending] {
            let left = size - batch.len();
            if left == 0 {
                break;
            }
            let mut stmt = tx.prepare_cached(&format!(
                "SELECT {QUEUE_COLUMNS} FROM sync_queue WHERE status = ?1 ORDER BY id LIMIT ?2"
            ))?;
            let rows = stmt.query_map(params![status.as_str(), left as i64], read_entry)?;
            for row in rows {
                batch.push(row?);
            }
        }
        for e in &mut batch {
            // An update queued before its record's insert was accepted learns the base now.
            if e.base_version.is_none() && e.operation != Operation::Insert {
                if let Some(version) = record_version(&tx, e.entity_type, e.entity_id)? {
                    e.base_version = Some(version);
                    tx.prepare_cached("UPDATE sync_queue SET base_version = ?2 WHERE id = ?1")?
                        .execute(params![e.id, version])?;
                }
            }
        }
        // Set-based: one statement for the queue and one per record table, not three per entry.
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
            tx.prepare_cached(&format!(
                "UPDATE {} SET sync_state = 'syncing'
                 WHERE sync_state = 'pending' AND id IN (SELECT value FROM json_each(?1))",
                store::table(entity)
            ))?
            .execute([&records])?;
        }
        for e in &mut batch {
            if e.status == QueueStatus::Sending {
                e.retry_count += 1;
            }
            e.status = QueueStatus::Sending;
        }
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
                store::table(e.entity_type)
            ))?
            .execute([e.entity_id.to_string()])?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Applies the server's answer to a batch, in one transaction.
    pub fn apply_push_results(
        &mut self,
        batch: &[QueueEntry],
        results: &[ChangeResult],
    ) -> Result<PushTally> {
        if results.len() != batch.len()
            || batch.iter().zip(results).any(|(e, r)| e.op_id != r.op_id)
        {
            return Err(Error::Protocol(format!(
                "the server answered {} results for {} changes, or out of order; nothing was marked, the batch will be sent again",
                results.len(),
                batch.len()
            )));
        }
        let now = model::now_timestamp();
        let tx = self.write_tx()?;
        let mut tally = PushTally::default();
        for (entry, result) in batch.iter().zip(results) {
            let entity = entry.entity_type;
            match result.status {
                ChangeStatus::Accepted => {
                    tally.accepted += 1;
                    tally.merged += result.merged as u64;
                    delete_entry(&tx, entry.id)?;
                    // Only the columns that change are read and written (the common case of a
                    // sync: it runs once per pushed change).
                    let table = store::table(entity);
                    let id = entry.entity_id.to_string();
                    let row: Option<(String, Option<String>)> = tx
                        .prepare_cached(&format!(
                            "SELECT sync_state, base FROM {table} WHERE id = ?1"
                        ))?
                        .query_row([&id], |r| Ok((r.get(0)?, r.get(1)?)))
                        .optional()?;
                    let Some((state, old_base)) = row else {
                        continue;
                    };
                    if state == SyncState::Conflict.as_str() {
                        continue;
                    }
                    let mut base = match (entry.operation, old_base) {
                        (Operation::Insert, _) | (_, None) => FieldMap::new(),
                        (_, Some(b)) => serde_json::from_str(&b).map_err(|e| {
                            Error::Protocol(format!("bad base of {entity} {id}: {e}"))
                        })?,
                    };
                    apply_fields(&mut base, &entry.payload);
                    let base =
                        serde_json::to_string(&base).map_err(|e| Error::Protocol(e.to_string()))?;
                    // Synced, unless newer local edits are still queued. A merged change
                    // means the server holds other devices' edits this copy has not seen
                    // yet: the version stays at the old base until the pull brings them,
                    // or the next edit would claim to have seen them and overwrite them
                    // without a conflict.
                    tx.prepare_cached(&format!(
                        "UPDATE {table} SET server_id = COALESCE(?2, server_id),
                             version = COALESCE(?3, version), base = ?4,
                             sync_state = CASE WHEN EXISTS (SELECT 1 FROM sync_queue
                                 WHERE entity_type = ?5 AND entity_id = ?1)
                               THEN 'pending' ELSE 'synced' END
                         WHERE id = ?1"
                    ))?
                    .execute(params![
                        id,
                        result.server_id,
                        if result.merged { None } else { result.version },
                        base,
                        entity.as_str()
                    ])?;
                }
                ChangeStatus::Conflict => {
                    let rec = get_record(&tx, entity, entry.entity_id)?;
                    tally.conflicts += 1;
                    let server = result.server_record.as_ref().ok_or_else(|| {
                        Error::Protocol("a conflict result without the server's record".into())
                    })?;
                    record_conflict(&tx, entry, &result.conflicting_fields, server, &now)?;
                    if let Some(rec) = rec {
                        put_row(
                            &tx,
                            &LocalRecord {
                                sync_state: SyncState::Conflict,
                                server_id: Some(server.server_id),
                                ..rec
                            },
                        )?;
                    }
                }
                ChangeStatus::Rejected => {
                    let rec = get_record(&tx, entity, entry.entity_id)?;
                    tally.rejected += 1;
                    let msg = result
                        .error
                        .as_ref()
                        .map(|e| e.to_string())
                        .unwrap_or_else(|| "rejected without a reason".into());
                    tx.prepare_cached(
                        "UPDATE sync_queue SET status = 'rejected', last_error = ?2 WHERE id = ?1",
                    )?
                    .execute(params![entry.id, msg])?;
                    if let Some(rec) = rec.filter(|r| r.sync_state == SyncState::Syncing) {
                        put_row(
                            &tx,
                            &LocalRecord {
                                sync_state: SyncState::Pending,
                                ..rec
                            },
                        )?;
                    }
                }
            }
        }
        store::set_meta(&tx, meta::LAST_PUSH_AT, &now)?;
        tx.commit()?;
        Ok(tally)
    }

    /// Stores one pulled page and the cursor after it, in one transaction: an interrupted
    /// pull resumes from the last whole page. A record with local changes still queued, or
    /// in conflict, is not overwritten (a conflict keeps the newest server copy to resolve
    /// against). Returns how many records were written.
    pub fn apply_pull_page(&mut self, records: &[Record], next_cursor: &str) -> Result<usize> {
        let now = model::now_timestamp();
        let tx = self.write_tx()?;
        let mut written = 0;
        for r in records {
            let local = get_record(&tx, r.entity_type, r.id)?;
            if let Some(l) = &local {
                if l.sync_state == SyncState::Conflict {
                    let json =
                        serde_json::to_string(r).map_err(|e| Error::Protocol(e.to_string()))?;
                    tx.prepare_cached(
                        "UPDATE conflict SET server_record = ?3 WHERE entity_type = ?1 AND entity_id = ?2",
                    )?
                    .execute(params![r.entity_type.as_str(), r.id.to_string(), json])?;
                    continue;
                }
                if has_entries(&tx, r.entity_type, r.id)? {
                    continue;
                }
                // The same version is still applied: a merged push leaves the local copy
                // without the other devices' fields until the pull brings them.
                if l.version.is_some_and(|v| v > r.version) {
                    continue;
                }
            }
            let deleted_at = match (&local, r.deleted) {
                (_, false) => None,
                (Some(l), true) if l.deleted_at.is_some() => l.deleted_at.clone(),
                (_, true) => Some(now.clone()),
            };
            put_row(
                &tx,
                &LocalRecord {
                    entity_type: r.entity_type,
                    id: r.id,
                    server_id: Some(r.server_id),
                    fields: r.fields.clone(),
                    sync_state: SyncState::Synced,
                    version: Some(r.version),
                    base: Some(r.fields.clone()),
                    created_at: local
                        .as_ref()
                        .map_or_else(|| now.clone(), |l| l.created_at.clone()),
                    updated_at: now.clone(),
                    deleted_at,
                },
            )?;
            written += 1;
        }
        store::set_meta(&tx, meta::PULL_CURSOR, next_cursor)?;
        store::set_meta(&tx, meta::LAST_PULL_AT, &now)?;
        tx.commit()?;
        Ok(written)
    }

    /// Forgets the pull cursor, so the next pull starts from the beginning.
    pub fn reset_cursor(&self) -> Result<()> {
        self.conn
            .execute("DELETE FROM sync_meta WHERE key = ?1", [meta::PULL_CURSOR])?;
        Ok(())
    }
}

/// The server version a local record is based on (`None`: no such record, or never synced).
fn record_version(tx: &rusqlite::Connection, entity: EntityType, id: Uuid) -> Result<Option<i64>> {
    Ok(tx
        .prepare_cached(&format!(
            "SELECT version FROM {} WHERE id = ?1",
            store::table(entity)
        ))?
        .query_row([id.to_string()], |r| r.get::<_, Option<i64>>(0))
        .optional()?
        .flatten())
}

/// A JSON array, for `json_each(?)` in set-based statements.
fn json_array(items: impl Iterator<Item = serde_json::Value>) -> String {
    serde_json::Value::Array(items.collect()).to_string()
}

fn delete_entry(tx: &rusqlite::Connection, id: i64) -> Result<()> {
    tx.prepare_cached("DELETE FROM sync_queue WHERE id = ?1")?
        .execute([id])?;
    Ok(())
}

/// Does this record still have queue entries (of any status)?
pub(crate) fn has_entries(tx: &rusqlite::Connection, entity: EntityType, id: Uuid) -> Result<bool> {
    Ok(tx
        .prepare_cached(
            "SELECT 1 FROM sync_queue WHERE entity_type = ?1 AND entity_id = ?2 LIMIT 1",
        )?
        .query_row(params![entity.as_str(), id.to_string()], |_| Ok(()))
        .optional()?
        .is_some())
}

/// Files a conflict and drops the record's remaining queued changes: the local record
/// itself holds "mine", and resolving it queues one change that supersedes them all.
fn record_conflict(
    tx: &rusqlite::Connection,
    entry: &QueueEntry,
    fields: &[String],
    server: &Record,
    now: &str,
) -> Result<()> {
    let fields_json = serde_json::to_string(fields).map_err(|e| Error::Protocol(e.to_string()))?;
    let server_json = serde_json::to_string(server).map_err(|e| Error::Protocol(e.to_string()))?;
    tx.prepare_cached(
        "INSERT INTO conflict (entity_type, entity_id, operation, fields, server_record, found_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (entity_type, entity_id) DO UPDATE SET operation = excluded.operation,
             fields = excluded.fields, server_record = excluded.server_record",
    )?
    .execute(params![
        entry.entity_type.as_str(),
        entry.entity_id.to_string(),
        entry.operation.as_str(),
        fields_json,
        server_json,
        now
    ])?;
    tx.prepare_cached(
        "DELETE FROM sync_queue WHERE entity_type = ?1 AND entity_id = ?2 AND status != 'sending'",
    )?
    .execute(params![
        entry.entity_type.as_str(),
        entry.entity_id.to_string()
    ])?;
    delete_entry(tx, entry.id)
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
            Operation::Insert => {
                slot.0 = FieldMap::new();
                apply_fields(&mut slot.0, &e.payload);
            }
            Operation::Update => apply_fields(&mut slot.0, &e.payload),
            Operation::Delete => slot.1 = true,
        }
    }
    out
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
