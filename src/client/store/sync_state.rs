//! Sync bookkeeping kept in the same database as the records, so it commits with them: this
//! device's id, the officer it belongs to, the pull cursor and the last sync times.
//!
//! This module must not know the queue's or the records' rules.

use std::collections::BTreeMap;

use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use uuid::Uuid;

use super::queue::QueueCounts;
use super::rows::{table, SyncState};
use super::Store;
use crate::client::error::{Error, Result};
use crate::model::EntityType;

/// Sync bookkeeping kept with the records, so it commits with them.
pub mod meta {
    pub const DEVICE_ID: &str = "device_id";
    pub const OFFICER_ID: &str = "officer_id";
    pub const SERVER_URL: &str = "server_url";
    pub const PULL_CURSOR: &str = "pull_cursor";
    pub const LAST_PUSH_AT: &str = "last_push_at";
    pub const LAST_PULL_AT: &str = "last_pull_at";
    pub const LAST_SYNC_AT: &str = "last_sync_at";
    /// The officer's team as the server last named it (issue 11).
    pub const TEAM: &str = "team";
    /// Set while a pull from scratch collects marks for its sweep (`sweep.rs`).
    pub const SWEEP: &str = "sweep";
    /// The team the device held before a move, until the move's sweep ends.
    pub const MOVED_FROM: &str = "moved_from";
    /// The id of the server database this device syncs with (issue 11).
    pub const SERVER_ID: &str = "server_id";
    /// The highest server version this device has received (issue 11; `refill.rs`).
    pub const SEEN_VERSION: &str = "seen_version";
    /// The next sequence number a queue entry gets when first sent (op-id retention).
    pub const OP_SEQ_NEXT: &str = "op_seq_next";
}

/// Where this device stands, as numbers (`fieldsync status` shows them).
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

impl Store {
    /// Counts of records by sync state, the queue, conflicts and the last sync times.
    pub fn status(&self) -> Result<Status> {
        let counts = |entity: EntityType| -> Result<BTreeMap<SyncState, i64>> {
            let mut out: BTreeMap<SyncState, i64> =
                SyncState::ALL.iter().map(|s| (*s, 0)).collect();
            let mut stmt = self.conn.prepare(&format!(
                "SELECT sync_state, count(*) FROM {} WHERE deleted_at IS NULL OR sync_state != 'synced' GROUP BY sync_state",
                table(entity)
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
            conflicts: self.conflict_count()?,
            last_sync_at: self.meta(meta::LAST_SYNC_AT)?,
            last_push_at: self.meta(meta::LAST_PUSH_AT)?,
            last_pull_at: self.meta(meta::LAST_PULL_AT)?,
            server: self.meta(meta::SERVER_URL)?,
            officer: self.meta(meta::OFFICER_ID)?,
            device_id: self.device_id()?.to_string(),
        })
    }

    /// Conflicts waiting for the officer.
    pub fn conflict_count(&self) -> Result<i64> {
        Ok(self
            .conn
            .query_row("SELECT count(*) FROM conflict", [], |r| r.get(0))?)
    }

    /// This device's id (made once, when the database was created).
    pub fn device_id(&self) -> Result<Uuid> {
        let v = self
            .meta(meta::DEVICE_ID)?
            .ok_or_else(|| Error::CorruptStore("the database has no device id".into()))?;
        Uuid::parse_str(&v).map_err(|e| Error::corrupt(format_args!("device id {v:?}"), e))
    }

    pub fn meta(&self, key: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row("SELECT value FROM sync_meta WHERE key = ?1", [key], |r| {
                r.get(0)
            })
            .optional()?)
    }

    pub fn set_meta(&self, key: &str, value: &str) -> Result<()> {
        set_meta(&self.conn, key, value)
    }

    /// The officer this database belongs to, if any has claimed it yet.
    pub fn officer(&self) -> Result<Option<String>> {
        self.meta(meta::OFFICER_ID)
    }

    /// Binds the database to one officer: the first officer to record a visit or sync owns
    /// it, and a config naming another officer is refused rather than mixing their work.
    pub fn claim_officer(&self, officer: &str) -> Result<()> {
        match self.meta(meta::OFFICER_ID)? {
            Some(o) if o == officer => Ok(()),
            Some(o) => Err(Error::OtherOfficer {
                path: self.path.clone(),
                owner: o,
                officer: officer.to_string(),
            }),
            None => self.set_meta(meta::OFFICER_ID, officer),
        }
    }

    /// Forgets the pull cursor, so the next pull starts from the beginning.
    pub fn reset_cursor(&self) -> Result<()> {
        self.conn
            .execute("DELETE FROM sync_meta WHERE key = ?1", [meta::PULL_CURSOR])?;
        Ok(())
    }
}

pub(super) fn get_meta(conn: &Connection, key: &str) -> Result<Option<String>> {
    Ok(conn
        .prepare_cached("SELECT value FROM sync_meta WHERE key = ?1")?
        .query_row([key], |r| r.get(0))
        .optional()?)
}

pub(super) fn set_meta(conn: &Connection, key: &str, value: &str) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO sync_meta (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )?
    .execute(params![key, value])?;
    Ok(())
}
