//! Sending records again to a server that lacks them (issue 11): after a restore from a
//! backup (the server's history ends before versions this device received), and when the
//! device adopts another server database (`sync --adopt-server`). Also the bookkeeping both
//! rest on: the highest server version this device has received, and the id of the server
//! database it syncs with.
//!
//! Each reseed is one local transaction: it replaces the affected records' queue entries by
//! one `upsert` of the whole record (and a `delete` after it for a tombstone), moves the
//! entries that were already waiting behind them (a new visit may name a re-sent
//! household), forgets the pull cursor (the next pull starts from scratch and its sweep
//! removes what the server does not hold), and records what it was done for — so a crash
//! and a retry never re-send twice, and the server applies each op_id once.
//!
//! This module decides what the device re-sends; it must not talk to the server or print.

use rusqlite::{params, Connection};
use uuid::Uuid;

use super::queue::has_entries;
use super::rows::{get_record, table, LocalRecord};
use super::sync_state::{get_meta, meta, set_meta};
use super::Store;
use crate::client::error::{Error, Result};
use crate::model::{EntityType, FieldMap, Operation};

/// Why records are sent again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reseed {
    /// The server was restored and its history ends at this version: every record this
    /// device holds at a later version is sent again, merged against it.
    AfterRestore(i64),
    /// The device adopts another server database: every record it knows is sent as an
    /// insert where the new server lacks it (records with local work merge against base 0,
    /// so every field that differs is a conflict; the others leave the server's copy alone).
    Adopt,
}

impl Store {
    /// The highest server version this device has received (from push answers and pulled
    /// records); for a database older than this bookkeeping, its records' highest version.
    pub fn seen_version(&self) -> Result<i64> {
        if let Some(v) = get_meta(&self.conn, meta::SEEN_VERSION)? {
            return v
                .parse()
                .map_err(|e| Error::corrupt(format_args!("seen version {v:?}"), e));
        }
        Ok(self.conn.query_row(
            "SELECT COALESCE(max(v), 0) FROM (
                 SELECT max(version) AS v FROM household
                 UNION ALL SELECT max(version) FROM visit)",
            [],
            |r| r.get(0),
        )?)
    }

    /// Queues whole records again (see [`Reseed`]), in one transaction; with `server_id`,
    /// the device also remembers that server database. Returns how many records were queued
    /// again.
    pub fn reseed(&mut self, how: Reseed, server_id: Option<&str>) -> Result<usize> {
        let tx = self.write_tx()?;
        let before: i64 = tx.query_row("SELECT COALESCE(max(id), 0) FROM sync_queue", [], |r| {
            r.get(0)
        })?;
        let mut count = 0;
        // Households first: a visit needs its household on the server.
        for entity in [EntityType::Household, EntityType::Visit] {
            for rec in known_records(&tx, entity, how)? {
                if reseed_one(&tx, &rec, how)? {
                    count += 1;
                }
            }
        }
        // Entries that were already waiting go behind the re-sent records they may name.
        tx.execute(
            "UPDATE sync_queue SET id = id + (SELECT max(id) FROM sync_queue) WHERE id <= ?1",
            [before],
        )?;
        tx.execute("DELETE FROM sync_meta WHERE key = ?1", [meta::PULL_CURSOR])?;
        let seen = match how {
            Reseed::AfterRestore(v) => v,
            Reseed::Adopt => 0,
        };
        set_meta(&tx, meta::SEEN_VERSION, &seen.to_string())?;
        if let Some(id) = server_id {
            set_meta(&tx, meta::SERVER_ID, id)?;
        }
        tx.commit()?;
        Ok(count)
    }
}

/// Raises the highest version received to `version` (inside the caller's transaction).
pub(super) fn saw(tx: &Connection, version: i64) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO sync_meta (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = CAST(max(CAST(value AS INTEGER), ?2) AS TEXT)",
    )?
    .execute(params![meta::SEEN_VERSION, version])?;
    Ok(())
}

/// The records of `entity` a reseed considers: those at a server version (after the restored
/// history, for a restore), or whose push the server merged at such a version before this
/// device pulled it; not in conflict (settled by `resolve`).
fn known_records(tx: &Connection, entity: EntityType, how: Reseed) -> Result<Vec<LocalRecord>> {
    let after = match how {
        Reseed::AfterRestore(v) => v,
        Reseed::Adopt => i64::MIN,
    };
    let ids: Vec<String> = tx
        .prepare(&format!(
            "SELECT id FROM {} WHERE (version > ?1 OR merged_version > ?1)
                 AND sync_state != 'conflict' ORDER BY created_at, id",
            table(entity)
        ))?
        .query_map([after], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        let id = Uuid::parse_str(&id).map_err(|e| Error::corrupt(format_args!("id {id:?}"), e))?;
        if let Some(rec) = get_record(tx, entity, id)? {
            out.push(rec);
        }
    }
    Ok(out)
}

/// Replaces a record's queue entries by one upsert of the whole record (and its delete, for
/// a tombstone; a tombstone is not sent to an adopted server). Another officer's visit is
/// re-sent too: where the server still has it, an edit of it made here is not lost; where it
/// does not, the server refuses it (visits come from their authors) and the refusal is taken
/// as done (`apply.rs`), its author re-sends it. The record forgets its version either way:
/// the server it had it from no longer holds it, so the next pull's copy always replaces it
/// (and the sweep removes it if none comes). False when nothing is sent.
fn reseed_one(tx: &Connection, rec: &LocalRecord, how: Reseed) -> Result<bool> {
    if let Some(sent) = own_changes_only(tx, rec, how)? {
        return Ok(sent);
    }
    let has_work = has_entries(tx, rec.entity_type, rec.id)?;
    let base = match how {
        Reseed::AfterRestore(v) => Some(v),
        Reseed::Adopt if has_work => Some(0),
        Reseed::Adopt => None,
    };
    let ops: &[Operation] = match (rec.is_deleted(), how) {
        (true, Reseed::Adopt) if !has_work => &[],
        (true, _) => &[Operation::Upsert, Operation::Delete],
        (false, _) => &[Operation::Upsert],
    };
    let state = if ops.is_empty() { "synced" } else { "pending" };
    tx.execute(
        &format!(
            "UPDATE {} SET version = NULL, merged_version = NULL, sync_state = ?2 WHERE id = ?1",
            table(rec.entity_type)
        ),
        params![rec.id.to_string(), state],
    )?;
    if ops.is_empty() {
        return Ok(false);
    }
    drop_entries(tx, rec)?;
    for op in ops {
        let fields = match op {
            Operation::Delete => FieldMap::new(),
            _ => rec.fields.clone(),
        };
        queue_whole(tx, rec, *op, &fields, base)?;
    }
    Ok(true)
}

/// A record this device knows only up to a version the restored server still holds (its
/// copy predates the restored history; it is here because a push of it was merged at a
/// lost version, see `known_records`): the device's copy is older than the server's for
/// every field it did not change itself, so an upsert against the restored history would
/// overwrite other officers' changes it never saw (found by the convergence soak, seed 84).
/// Instead the record is queued again as one update on the version the device really had
/// (its pending entries folded in): the server applies what no other device changed since
/// that version (this device's lost changes come back) and answers a conflict for every field
/// another device did change — possibly a field this device only holds stale, which the
/// officer then settles; never a silent overwrite. Which fields the lost push changed is not
/// kept apart (the base took them in), so the whole record goes.
/// `Some(sent)` when this rule applied; `None` for records it does not cover.
fn own_changes_only(tx: &Connection, rec: &LocalRecord, how: Reseed) -> Result<Option<bool>> {
    let Reseed::AfterRestore(history_end) = how else {
        return Ok(None);
    };
    let (Some(known), Some(base)) = (rec.version, rec.base.as_ref()) else {
        return Ok(None);
    };
    if known > history_end || rec.is_deleted() {
        return Ok(None);
    }
    let mut own = rec.fields.clone();
    for k in base.keys().filter(|k| !rec.fields.contains_key(*k)) {
        own.insert(k.clone(), serde_json::Value::Null);
    }
    if rec.entity_type == EntityType::Visit {
        // Fixed once a visit is recorded: an update may not carry them.
        own.remove("household_id");
        own.remove("officer_id");
    }
    drop_entries(tx, rec)?;
    let state = if own.is_empty() { "synced" } else { "pending" };
    tx.execute(
        &format!(
            "UPDATE {} SET merged_version = NULL, sync_state = ?2 WHERE id = ?1",
            table(rec.entity_type)
        ),
        params![rec.id.to_string(), state],
    )?;
    if own.is_empty() {
        return Ok(Some(false));
    }
    queue_whole(tx, rec, Operation::Update, &own, Some(known))?;
    Ok(Some(true))
}

/// Removes every queue entry of `rec` (a reseed queues what replaces them).
fn drop_entries(tx: &Connection, rec: &LocalRecord) -> Result<()> {
    tx.execute(
        "DELETE FROM sync_queue WHERE entity_type = ?1 AND entity_id = ?2",
        params![rec.entity_type.as_str(), rec.id.to_string()],
    )?;
    Ok(())
}

/// Appends one queue entry with an explicit base version.
fn queue_whole(
    tx: &Connection,
    rec: &LocalRecord,
    op: Operation,
    fields: &FieldMap,
    base: Option<i64>,
) -> Result<()> {
    let payload = serde_json::to_string(fields)
        .map_err(|e| Error::corrupt(format_args!("the queued change of {}", rec.id), e))?;
    tx.prepare_cached(
        "INSERT INTO sync_queue (op_id, entity_type, entity_id, operation, payload, base_version, enqueued_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        Uuid::now_v7().to_string(),
        rec.entity_type.as_str(),
        rec.id.to_string(),
        op.as_str(),
        payload,
        base,
        crate::model::now_timestamp(),
    ])?;
    Ok(())
}
