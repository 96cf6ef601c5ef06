//! Discarding changes the server will never take (issue 11, `fieldsync queue discard`): the
//! rejected entries to remove, each with the record as it is here (the CLI saves both to a
//! file first), and their removal in one transaction.
//!
//! After a discard the record follows the server again: a record left without local work is
//! removed (unless local visits still name it) and the pull cursor is forgotten, so the next
//! sync pulls from scratch — bringing back the server's copy of every record the officer may
//! see — and its sweep (`sweep.rs`) removes what the server never had.
//!
//! This module must not write files, ask or print: `cli::discard` does.

use std::collections::HashSet;

use rusqlite::{Connection, OptionalExtension};
use serde::Serialize;

use super::queue::{has_entries, QueueEntry, QueueStatus};
use super::rows::{get_record, table, LocalRecord, SyncState};
use super::sync_state::meta;
use super::Store;
use crate::client::error::Result;
use crate::model::EntityType;

/// What a discard removed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Discarded {
    /// Queue entries removed.
    pub entries: usize,
    /// Records removed here; those the server holds come back with the next sync.
    pub refreshed: usize,
    /// Of those, records the server never had (they are gone for good, except in the file).
    pub never_on_server: usize,
}

impl Store {
    /// Every rejected entry, each with its record as it is here: what a discard may remove.
    pub fn discardable(&self) -> Result<Vec<(QueueEntry, Option<LocalRecord>)>> {
        self.queue_entries(&[QueueStatus::Rejected])?
            .into_iter()
            .map(|e| {
                let rec = get_record(&self.conn, e.entity_type, e.entity_id)?;
                Ok((e, rec))
            })
            .collect()
    }

    /// Removes the given entries (those still rejected) in one transaction, removes records
    /// left without local work and forgets the pull cursor (see the module documentation).
    pub fn discard(&mut self, entries: &[QueueEntry]) -> Result<Discarded> {
        let tx = self.write_tx()?;
        let mut out = Discarded::default();
        for e in entries {
            out.entries += tx
                .prepare_cached("DELETE FROM sync_queue WHERE id = ?1 AND status = 'rejected'")?
                .execute([e.id])?;
        }
        let mut seen = HashSet::new();
        // Visits first, so that a household whose only visits were discarded can go too.
        let mut ordered: Vec<&QueueEntry> = entries.iter().collect();
        ordered.sort_by_key(|e| e.entity_type != EntityType::Visit);
        for e in ordered.into_iter().filter(|e| seen.insert(e.entity_id)) {
            if has_entries(&tx, e.entity_type, e.entity_id)? {
                continue;
            }
            let Some(rec) = get_record(&tx, e.entity_type, e.entity_id)? else {
                continue;
            };
            if rec.sync_state == SyncState::Conflict {
                continue;
            }
            if is_named_by_visits(&tx, &rec)? {
                // Kept for the visits that name it; synced, so the next pull overwrites it.
                tx.execute(
                    &format!(
                        "UPDATE {} SET sync_state = 'synced' WHERE id = ?1",
                        table(rec.entity_type)
                    ),
                    [rec.id.to_string()],
                )?;
                continue;
            }
            tx.execute(
                &format!("DELETE FROM {} WHERE id = ?1", table(rec.entity_type)),
                [rec.id.to_string()],
            )?;
            out.refreshed += 1;
            out.never_on_server += usize::from(rec.version.is_none());
        }
        if out.entries > 0 {
            tx.execute("DELETE FROM sync_meta WHERE key = ?1", [meta::PULL_CURSOR])?;
        }
        tx.commit()?;
        Ok(out)
    }
}

/// Is `rec` a household that local visits name?
fn is_named_by_visits(tx: &Connection, rec: &LocalRecord) -> Result<bool> {
    if rec.entity_type != EntityType::Household {
        return Ok(false);
    }
    Ok(tx
        .query_row(
            "SELECT 1 FROM visit WHERE household_id = ?1 LIMIT 1",
            [rec.id.to_string()],
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}
