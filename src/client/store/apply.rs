//! Applying what the server answered: the results of a pushed batch, and pulled pages with
//! their cursor (and the sweep that ends a pull from scratch, `sweep.rs`) — each one local transaction, so a crash between any two steps leaves a state
//! the next sync completes from.
//!
//! This module must not talk to the server or decide conflicts: the server decided them, and
//! the rules live in [`crate::merge`].

use std::collections::HashMap;

use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use uuid::Uuid;

use super::accepted_set;
use super::queue::{delete_entry, has_entries, QueueEntry};
use super::refill;
use super::rows::{get_record, put_row, table, write_row, LocalRecord, RowRef, SyncState};
use super::sweep::{self, Swept};
use super::sync_state::{get_meta, meta, set_meta};
use super::Store;
use crate::client::error::{Error, Result};
use crate::model::{self, apply_fields, EntityType, FieldMap, Operation};
use crate::protocol::{
    Audit, ChangeResult, ChangeStatus, ErrorCode, FieldStamp, PullResponse, Record,
};

/// What applying one push response did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct PushTally {
    pub accepted: u64,
    pub merged: u64,
    pub conflicts: u64,
    pub rejected: u64,
}

impl Store {
    /// Applies the server's answer to a batch, in one transaction.
    pub fn apply_push_results(
        &mut self,
        batch: &[QueueEntry],
        results: &[ChangeResult],
    ) -> Result<PushTally> {
        let now = model::now_timestamp();
        let tx = self.write_tx()?;
        let tally = record_push_results(&tx, batch, results, &now)?;
        tx.commit()?;
        Ok(tally)
    }

    /// Stores one pulled page and the cursor after it, in one transaction: an interrupted
    /// pull resumes from the last whole page. A record with local changes still queued, or
    /// in conflict, is not overwritten (a conflict keeps the newest server copy to resolve
    /// against). Returns how many records were written. (A page stored this way is never
    /// part of a sweep: see [`Store::apply_pull`].)
    pub fn apply_pull_page(&mut self, records: &[Record], next_cursor: &str) -> Result<usize> {
        let page = PullResponse {
            records: records.to_vec(),
            next_cursor: next_cursor.to_string(),
            has_more: true,
            forms: None,
            team: None,
            server_id: None,
        };
        Ok(self.apply_pull(&page, false)?.written)
    }

    /// Stores one pulled page, its cursor and the form versions it carried (issue 15) in one
    /// transaction, as [`Store::apply_pull_page`] does; and keeps the sweep of a pull from
    /// scratch (`from_scratch`: this page was asked for without a cursor and may start a
    /// sweep; the engine says no on a laptop's first sync; see `sweep.rs`).
    /// A page naming a team other than the one the device held starts a sweep too (the
    /// server answers a moved officer from scratch). The page that ends a sweep (`has_more`
    /// false) also removes what it left behind, and says so in [`PageApplied::swept`].
    pub fn apply_pull(&mut self, page: &PullResponse, from_scratch: bool) -> Result<PageApplied> {
        let now = model::now_timestamp();
        let tx = self.write_tx()?;
        let moved_from = team_change(&tx, page.team.as_deref())?;
        if from_scratch || moved_from.is_some() {
            sweep::begin(&tx, moved_from.as_deref())?;
        }
        if let Some(forms) = &page.forms {
            super::forms::store_forms(&tx, forms, &now)?;
        }
        let mut written = 0;
        for r in &page.records {
            if pulled(&tx, r, &now)? {
                written += 1;
            }
        }
        if let Some(v) = page.records.iter().map(|r| r.version).max() {
            refill::saw(&tx, v)?;
        }
        sweep::held_by_server(&tx, page.records.iter().map(|r| (r.entity_type, r.id)))?;
        let mut swept = None;
        if sweep::active(&tx)? {
            sweep::mark(&tx, &page.records)?;
            if !page.has_more {
                swept = Some(sweep::finish(&tx)?);
            }
        }
        if !page.has_more {
            let removed = sweep::remove_kept(&tx)?;
            if removed > 0 {
                let s = swept.get_or_insert_with(Swept::default);
                s.removed += removed;
            }
        }
        set_meta(&tx, meta::PULL_CURSOR, &page.next_cursor)?;
        set_meta(&tx, meta::LAST_PULL_AT, &now)?;
        tx.commit()?;
        Ok(PageApplied { written, swept })
    }
}

/// Records the server's answer to a batch inside the caller's transaction. Accepted
/// changes of records with no other entry in the batch (a backlog's every change) are
/// recorded together, set-based (`accepted_set.rs`); the others one by one, in batch
/// order. That split keeps the one-by-one meaning: each result touches its own record's
/// row, queue entries and conflict only, so only entries of the same record depend on
/// their order.
pub(super) fn record_push_results(
    tx: &Connection,
    batch: &[QueueEntry],
    results: &[ChangeResult],
    now: &str,
) -> Result<PushTally> {
    if results.len() != batch.len() || batch.iter().zip(results).any(|(e, r)| e.op_id != r.op_id) {
        return Err(Error::Protocol(format!(
            "the server answered {} results for {} changes, or out of order; nothing was marked, the batch will be sent again",
            results.len(),
            batch.len()
        )));
    }
    let mut entries_of: HashMap<(EntityType, Uuid), usize> = HashMap::new();
    for e in batch {
        *entries_of.entry((e.entity_type, e.entity_id)).or_default() += 1;
    }
    let mut tally = PushTally::default();
    // The highest version the answer tells of, recorded once for the whole batch.
    let mut seen: Option<i64> = None;
    let mut together = Vec::new();
    for (entry, result) in batch.iter().zip(results) {
        match result.status {
            ChangeStatus::Accepted => {
                tally.accepted += 1;
                seen = seen.max(result.version);
                tally.merged += u64::from(result.merged);
                if entries_of[&(entry.entity_type, entry.entity_id)] == 1 {
                    together.push((entry, result));
                } else {
                    accepted(tx, entry, result)?;
                }
            }
            ChangeStatus::Conflict => {
                tally.conflicts += 1;
                seen = seen.max(result.server_record.as_ref().map(|r| r.version));
                conflicted(tx, entry, result, now)?;
            }
            ChangeStatus::Rejected => {
                tally.rejected += 1;
                rejected(tx, entry, result)?;
            }
        }
    }
    accepted_set::record(tx, &together)?;
    if let Some(v) = seen {
        refill::saw(tx, v)?;
    }
    held_by_server(tx, batch, results)?;
    set_meta(tx, meta::LAST_PUSH_AT, now)?;
    Ok(tally)
}

/// The one-by-one recording every result had before `accepted_set.rs`, in batch order: the
/// reference the set-based path is tested against.
#[cfg(test)]
pub(super) fn record_one_by_one(
    tx: &Connection,
    batch: &[QueueEntry],
    results: &[ChangeResult],
    now: &str,
) -> Result<()> {
    let mut seen: Option<i64> = None;
    for (entry, result) in batch.iter().zip(results) {
        match result.status {
            ChangeStatus::Accepted => {
                seen = seen.max(result.version);
                accepted(tx, entry, result)?;
            }
            ChangeStatus::Conflict => {
                seen = seen.max(result.server_record.as_ref().map(|r| r.version));
                conflicted(tx, entry, result, now)?;
            }
            ChangeStatus::Rejected => rejected(tx, entry, result)?,
        }
    }
    if let Some(v) = seen {
        refill::saw(tx, v)?;
    }
    held_by_server(tx, batch, results)?;
    set_meta(tx, meta::LAST_PUSH_AT, now)
}

/// The records of the batch's accepted changes are the server's again (see
/// [`sweep::held_by_server`]).
fn held_by_server(tx: &Connection, batch: &[QueueEntry], results: &[ChangeResult]) -> Result<()> {
    let accepted = batch.iter().zip(results);
    sweep::held_by_server(
        tx,
        accepted
            .filter(|(_, r)| r.status == ChangeStatus::Accepted)
            .map(|(e, _)| (e.entity_type, e.entity_id)),
    )
}

/// What storing one pulled page did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageApplied {
    /// Records written (not protected by local work).
    pub written: usize,
    /// Set on the last page of a pull from scratch: what its sweep removed.
    pub swept: Option<Swept>,
}

/// Records the team a page names; returns the old team when it changed (a move). A device
/// that knew no team yet (a first sync, an older database) just learns it.
fn team_change(tx: &Connection, team: Option<&str>) -> Result<Option<String>> {
    let Some(team) = team else {
        return Ok(None);
    };
    let held = get_meta(tx, meta::TEAM)?;
    if held.as_deref() == Some(team) {
        return Ok(None);
    }
    set_meta(tx, meta::TEAM, team)?;
    Ok(held)
}

/// An accepted change: the entry leaves the queue and the record learns its server version.
/// Only the columns that change are read and written. (One statement each: for records with
/// several entries in the batch; the others go together, `accepted_set.rs`.)
fn accepted(tx: &Connection, entry: &QueueEntry, result: &ChangeResult) -> Result<()> {
    let entity = entry.entity_type;
    delete_entry(tx, entry.id)?;
    let table = table(entity);
    let id = entry.entity_id.to_string();
    let row: Option<(String, Option<String>, Option<String>)> = tx
        .prepare_cached(&format!(
            "SELECT sync_state, base, audit FROM {table} WHERE id = ?1"
        ))?
        .query_row([&id], |r| {
            Ok((r.get("sync_state")?, r.get("base")?, r.get("audit")?))
        })
        .optional()?;
    let Some((state, old_base, old_audit)) = row else {
        return Ok(());
    };
    if state == SyncState::Conflict.as_str() {
        return Ok(());
    }
    let row = AcceptedRow::new(entry, result, old_base.as_deref(), old_audit.as_deref())?;
    let mut stmt = tx.prepare_cached(&AcceptedRow::update_sql(entity))?;
    row.write(&mut stmt, entity, &id)
}

/// What an accepted change writes to its record's row (the columns it changes).
pub(super) struct AcceptedRow {
    pub server_id: Option<i64>,
    /// The new version; `None` for a merged change (the row keeps its old one).
    pub version: Option<i64>,
    /// The version a merged change made (kept until the pull brings it).
    pub merged_version: Option<i64>,
    /// The new base: the old one with the change applied (an insert's or upsert's alone).
    pub base: String,
    pub stamped: Option<StampedAudit>,
}

impl AcceptedRow {
    /// The statement that writes such a row (parameters: see [`AcceptedRow::write`]).
    /// Synced, unless newer local edits are still queued. A merged change means the server
    /// holds other devices' edits this copy has not seen yet: the version stays at the old
    /// base until the pull brings them, or the next edit would claim to have seen them and
    /// overwrite them without a conflict. A row in conflict is left alone.
    pub(super) fn update_sql(entity: EntityType) -> String {
        format!(
            "UPDATE {} SET server_id = COALESCE(?2, server_id),
                 version = COALESCE(?3, version), base = ?4,
                 merged_version = CASE WHEN ?3 IS NULL THEN ?6 ELSE NULL END,
                 sync_state = CASE WHEN EXISTS (SELECT 1 FROM sync_queue
                     WHERE entity_type = ?5 AND entity_id = ?1)
                   THEN 'pending' ELSE 'synced' END,
                 audit = COALESCE(?7, audit), created_at = COALESCE(?8, created_at),
                 updated_at = COALESCE(?9, updated_at)
             WHERE id = ?1 AND sync_state != 'conflict'",
            table(entity)
        )
    }

    /// Writes the row of record `id` with `stmt`, prepared from [`AcceptedRow::update_sql`].
    pub(super) fn write(
        &self,
        stmt: &mut rusqlite::Statement<'_>,
        entity: EntityType,
        id: &str,
    ) -> Result<()> {
        let stamped = self.stamped.as_ref();
        stmt.execute(params![
            id,
            self.server_id,
            self.version,
            self.base,
            entity.as_str(),
            self.merged_version,
            stamped.map(|s| &s.json),
            stamped.and_then(|s| s.created_at.as_ref()),
            stamped.map(|s| &s.updated_at),
        ])?;
        Ok(())
    }

    /// The row an accepted change leaves, from the row's base and audit before it.
    pub(super) fn new(
        entry: &QueueEntry,
        result: &ChangeResult,
        old_base: Option<&str>,
        old_audit: Option<&str>,
    ) -> Result<AcceptedRow> {
        let what = || format!("the base of {} {}", entry.entity_type, entry.entity_id);
        let mut base = match (entry.operation, old_base) {
            (Operation::Insert | Operation::Upsert, _) | (_, None) => FieldMap::new(),
            (_, Some(b)) => serde_json::from_str(b).map_err(|e| Error::corrupt(what(), e))?,
        };
        apply_fields(&mut base, &entry.payload);
        let stamped = match &result.stamped {
            Some(stamp) => Some(stamped_audit(entry, old_audit, stamp)?),
            None => None,
        };
        Ok(AcceptedRow {
            server_id: result.server_id,
            version: if result.merged { None } else { result.version },
            merged_version: result.version,
            base: serde_json::to_string(&base).map_err(|e| Error::corrupt(what(), e))?,
            stamped,
        })
    }
}

/// The audit a stamped accepted change leaves (no echo, issue 14), as the record's columns.
pub(super) struct StampedAudit {
    pub json: String,
    pub created_at: Option<String>,
    pub updated_at: String,
}

/// The server's audit of a record after an accepted change it stamped: the audit this copy
/// held (the server's own, which the stamp promises) stamped exactly as the server did
/// ([`Audit::stamp`], `created` for an insert). The pull leaves the record out, so this
/// copy must hold what the server holds.
fn stamped_audit(
    entry: &QueueEntry,
    old: Option<&str>,
    stamp: &FieldStamp,
) -> Result<StampedAudit> {
    let corrupt = |e| Error::corrupt(format_args!("the audit of {}", entry.entity_id), e);
    let created = entry.operation == Operation::Insert;
    let mut audit: Audit = match (created, old) {
        (false, Some(a)) => serde_json::from_str(a).map_err(corrupt)?,
        _ => Audit::default(),
    };
    audit.stamp(&stamp.by, &stamp.at, &entry.payload, created);
    Ok(StampedAudit {
        json: serde_json::to_string(&audit).map_err(corrupt)?,
        created_at: audit.created_at.clone(),
        updated_at: stamp.at.clone(),
    })
}

/// A change that collided with another device's: file the conflict, mark the record.
fn conflicted(tx: &Connection, entry: &QueueEntry, result: &ChangeResult, now: &str) -> Result<()> {
    let rec = get_record(tx, entry.entity_type, entry.entity_id)?;
    let server = result
        .server_record
        .as_ref()
        .ok_or_else(|| Error::Protocol("a conflict result without the server's record".into()))?;
    if let Some(rec) = rec
        .as_ref()
        .filter(|r| agrees_deleted(r, entry, result, server))
    {
        return take_tombstone(tx, entry, rec, server);
    }
    record_conflict(tx, entry, &result.conflicting_fields, server, now)?;
    if let Some(rec) = rec {
        put_row(
            tx,
            &LocalRecord {
                sync_state: SyncState::Conflict,
                server_id: Some(server.server_id),
                ..rec
            },
        )?;
    }
    Ok(())
}

/// Is this an upsert of a tombstone (a deletion sent again to a restored server) that only
/// collides with the server's own deletion of the record? Both sides say "deleted": there is
/// nothing to settle.
fn agrees_deleted(
    rec: &LocalRecord,
    entry: &QueueEntry,
    result: &ChangeResult,
    server: &Record,
) -> bool {
    entry.operation == Operation::Upsert
        && rec.is_deleted()
        && server.deleted
        && result.conflicting_fields == [crate::merge::DELETED]
}

/// Removes the record's other queued changes that are not in flight (those in flight are
/// answered by their own results).
fn drop_unsent_entries(tx: &Connection, entry: &QueueEntry) -> Result<()> {
    tx.prepare_cached(
        "DELETE FROM sync_queue WHERE entity_type = ?1 AND entity_id = ?2 AND status != 'sending'",
    )?
    .execute(params![
        entry.entity_type.as_str(),
        entry.entity_id.to_string()
    ])?;
    Ok(())
}

/// Takes the server's tombstone for a record deleted on both sides; the record's other
/// queued changes go (those in flight are answered by their own results).
fn take_tombstone(
    tx: &Connection,
    entry: &QueueEntry,
    rec: &LocalRecord,
    server: &Record,
) -> Result<()> {
    delete_entry(tx, entry.id)?;
    drop_unsent_entries(tx, entry)?;
    put_row(
        tx,
        &LocalRecord {
            server_id: Some(server.server_id),
            fields: server.fields.clone(),
            sync_state: SyncState::Synced,
            version: Some(server.version),
            base: Some(server.fields.clone()),
            ..rec.clone()
        },
    )
}

/// Is a refusal the end of the matter? A deletion of a record the server does not have, when
/// nothing else of the record waits (what it asked for holds). A deletion that follows a
/// refused re-sent record (another officer's visit the restored server lacks) waits with it.
fn settled_by_refusal(tx: &Connection, entry: &QueueEntry, result: &ChangeResult) -> Result<bool> {
    let code = result.error.as_ref().map(|e| e.code);
    if entry.operation != Operation::Delete || code != Some(ErrorCode::UnknownRecord) {
        return Ok(false);
    }
    let others: i64 = tx
        .prepare_cached(
            "SELECT count(*) FROM sync_queue WHERE entity_type = ?1 AND entity_id = ?2 AND id != ?3",
        )?
        .query_row(
            params![entry.entity_type.as_str(), entry.entity_id.to_string(), entry.id],
            |r| r.get(0),
        )?;
    Ok(others == 0)
}

/// A change the server refused: the entry stays, with the server's reason, until the record
/// is edited again.
fn rejected(tx: &Connection, entry: &QueueEntry, result: &ChangeResult) -> Result<()> {
    if settled_by_refusal(tx, entry, result)? {
        // Nothing is left to send: the record follows the server again (the next pull's
        // copy replaces it, or its sweep removes it).
        delete_entry(tx, entry.id)?;
        tx.prepare_cached(&format!(
            "UPDATE {} SET sync_state = 'synced' WHERE id = ?1 AND NOT EXISTS
                 (SELECT 1 FROM sync_queue WHERE entity_type = ?2 AND entity_id = ?1)",
            table(entry.entity_type)
        ))?
        .execute(params![
            entry.entity_id.to_string(),
            entry.entity_type.as_str()
        ])?;
        return Ok(());
    }
    let rec = get_record(tx, entry.entity_type, entry.entity_id)?;
    let msg = result
        .error
        .as_ref()
        .map(|e| e.to_string())
        .unwrap_or_else(|| "rejected without a reason".into());
    tx.prepare_cached("UPDATE sync_queue SET status = 'rejected', last_error = ?2 WHERE id = ?1")?
        .execute(params![entry.id, msg])?;
    if let Some(rec) = rec.filter(|r| r.sync_state == SyncState::Syncing) {
        put_row(
            tx,
            &LocalRecord {
                sync_state: SyncState::Pending,
                ..rec
            },
        )?;
    }
    Ok(())
}

/// Stores one pulled record unless local work protects it; true when it was written.
fn pulled(tx: &Connection, r: &Record, now: &str) -> Result<bool> {
    let local = get_record(tx, r.entity_type, r.id)?;
    if let Some(l) = &local {
        if l.sync_state == SyncState::Conflict {
            let json = serde_json::to_string(r)
                .map_err(|e| Error::corrupt(format_args!("the server's copy of {}", r.id), e))?;
            tx.prepare_cached(
                "UPDATE conflict SET server_record = ?3 WHERE entity_type = ?1 AND entity_id = ?2",
            )?
            .execute(params![r.entity_type.as_str(), r.id.to_string(), json])?;
            return Ok(false);
        }
        // The same version is still applied: a merged push leaves the local copy without the
        // other devices' fields until the pull brings them.
        if l.version.is_some_and(|v| v > r.version) {
            return Ok(false);
        }
        if has_entries(tx, r.entity_type, r.id)? {
            return refresh_rejected(tx, l, r, now);
        }
    }
    let deleted_at = match (&local, r.deleted) {
        (_, false) => None,
        (Some(l), true) if l.deleted_at.is_some() => l.deleted_at.as_deref(),
        // The server's time of the delete when it sent it: the same on every laptop.
        (_, true) => Some(r.audit.updated_at.as_deref().unwrap_or(now)),
    };
    // The server's receive times when it sent them: the same on every laptop.
    let created_at = match (&r.audit.created_at, &local) {
        (Some(at), _) => at.as_str(),
        (None, Some(l)) => l.created_at.as_str(),
        (None, None) => now,
    };
    write_row(
        tx,
        &RowRef {
            entity_type: r.entity_type,
            id: r.id,
            server_id: Some(r.server_id),
            fields: &r.fields,
            sync_state: SyncState::Synced,
            version: Some(r.version),
            base: Some(&r.fields),
            created_at,
            updated_at: r.audit.updated_at.as_deref().unwrap_or(now),
            deleted_at,
            audit: &r.audit,
        },
    )?;
    // The pull brought what a merged push of this record made (or later). A record new to
    // this device has no merged push.
    if local.is_some() {
        tx.prepare_cached(&format!(
            "UPDATE {} SET merged_version = NULL WHERE id = ?1 AND merged_version <= ?2",
            table(r.entity_type)
        ))?
        .execute(params![r.id.to_string(), r.version])?;
    }
    Ok(true)
}

/// A record whose only queued changes are rejected updates still follows the server (issue
/// 11): it takes the server's copy with the rejected edits laid over it, so the officer still
/// sees them, and editing the record sends them again against their original base (a field
/// another device changed since then is then a conflict, never a silent overwrite). Records
/// with changes waiting to be sent, or a rejected insert or delete, are left alone.
fn refresh_rejected(tx: &Connection, l: &LocalRecord, r: &Record, now: &str) -> Result<bool> {
    let entries: Vec<(String, String, String)> = tx
        .prepare_cached(
            "SELECT status, operation, payload FROM sync_queue
             WHERE entity_type = ?1 AND entity_id = ?2 ORDER BY id",
        )?
        .query_map(params![r.entity_type.as_str(), r.id.to_string()], |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let all_rejected = entries.iter().all(|(status, _, _)| status == "rejected");
    if all_rejected && entries.iter().any(|(_, op, _)| op == "upsert") {
        return revive_resent(tx, r);
    }
    let only_rejected_updates = all_rejected && entries.iter().all(|(_, op, _)| op == "update");
    if !only_rejected_updates || r.deleted {
        return Ok(false);
    }
    let mut fields = r.fields.clone();
    for (_, _, payload) in &entries {
        let p: FieldMap = serde_json::from_str(payload)
            .map_err(|e| Error::corrupt(format_args!("the queued change of {}", r.id), e))?;
        apply_fields(&mut fields, &p);
    }
    put_row(
        tx,
        &LocalRecord {
            server_id: Some(r.server_id),
            fields,
            sync_state: SyncState::Pending,
            version: Some(r.version),
            base: Some(r.fields.clone()),
            updated_at: now.to_string(),
            ..l.clone()
        },
    )?;
    Ok(true)
}

/// A record sent again to a restored server was refused because the server lacked it (another
/// officer's visit, which only its author may bring back). Now the server has it again: the
/// re-sent record goes out once more, merged against where the restored history ends, so
/// what this device held of it is not lost. The local copy stays as it is until then.
fn revive_resent(tx: &Connection, r: &Record) -> Result<bool> {
    let ids: Vec<i64> = tx
        .prepare_cached("SELECT id FROM sync_queue WHERE entity_type = ?1 AND entity_id = ?2")?
        .query_map(params![r.entity_type.as_str(), r.id.to_string()], |row| {
            row.get(0)
        })?
        .collect::<rusqlite::Result<_>>()?;
    for id in ids {
        tx.prepare_cached(
            "UPDATE sync_queue SET status = 'pending', op_id = ?2, last_error = NULL WHERE id = ?1",
        )?
        .execute(params![id, uuid::Uuid::now_v7().to_string()])?;
    }
    Ok(false)
}

/// Files a conflict and drops the record's remaining queued changes: the local record itself
/// holds "mine", and resolving it queues one change that supersedes them all.
fn record_conflict(
    tx: &Connection,
    entry: &QueueEntry,
    fields: &[String],
    server: &Record,
    now: &str,
) -> Result<()> {
    let what = format_args!("the conflict on {}", entry.entity_id).to_string();
    let fields_json = serde_json::to_string(fields).map_err(|e| Error::corrupt(&what, e))?;
    let server_json = serde_json::to_string(server).map_err(|e| Error::corrupt(&what, e))?;
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
    drop_unsent_entries(tx, entry)?;
    delete_entry(tx, entry.id)
}
