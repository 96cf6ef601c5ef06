//! The embedded SQLite store: one file, WAL, one writer connection and a few readers.
//!
//! All rusqlite calls run in `tokio::task::spawn_blocking`, never on the async threads.
//! Writes serialise on the single writer connection (`BEGIN IMMEDIATE`), which also keeps
//! other processes (e.g. `fieldsync admin`) out while a push is written; readers use WAL
//! snapshots and never wait for the writer. It only loads and writes rows: what a write
//! stores is decided by its caller's [`Decide`].
//!
//! Durability: `synchronous=FULL`. A push answered `accepted` survives a power cut. Writes
//! that arrive while the writer is busy are committed together (group commit, see
//! `write_group`): one fsync of the WAL per group instead of one per push, which is what lets
//! thousands of officers syncing at once share one small server.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

use super::migrations;
use super::{
    form_row, from_json, parse_entity, parse_uuid, to_json, validate_team, Decide, FormRow,
    Officer, OfficerActivity, OfficerSummary, PullPage, Snapshot, Store, StoreStats, StoredOp,
    StoredRecord, WriteKeys, WriteSet,
};
use crate::forms::Form;
use crate::server::error::StoreError;
use crate::server::wire::{StoredColumns, WireRecord};
use uuid::Uuid;

const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS version_counter (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL,
    server_id INTEGER NOT NULL
);
INSERT OR IGNORE INTO version_counter (id, version, server_id) VALUES (1, 0, 0);
CREATE TABLE IF NOT EXISTS officers (
    id TEXT PRIMARY KEY,
    team TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);
CREATE TABLE IF NOT EXISTS records (
    id TEXT PRIMARY KEY,
    server_id INTEGER NOT NULL UNIQUE,
    entity_type TEXT NOT NULL,
    team TEXT NOT NULL,
    version INTEGER NOT NULL,
    deleted INTEGER NOT NULL,
    deleted_by TEXT,
    fields TEXT NOT NULL,
    stamps TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS records_team_version ON records (team, version);
CREATE TABLE IF NOT EXISTS ops (
    op_id TEXT PRIMARY KEY,
    hash TEXT NOT NULL,
    result TEXT NOT NULL
);
"#;

/// Migration step "export index" (issue 12): lets `admin export` page through one entity's
/// records by version without scanning the table. Idempotent and harmless to older builds.
const EXPORT_INDEX: &str =
    "CREATE INDEX IF NOT EXISTS records_entity_version ON records (entity_type, version);";

/// The `WHERE` clause of an export: `?1` entity, `?2` team or NULL, `?3` after, `?4` upto,
/// `?5` include deleted.
const EXPORT_WHERE: &str = "entity_type = ?1 AND (?2 IS NULL OR team = ?2) AND version > ?3 \
     AND version <= ?4 AND (?5 OR deleted = 0)";

fn export_params(f: &super::ExportFilter) -> (String, Option<String>, i64, i64, bool) {
    (
        f.entity.as_str().to_string(),
        f.team.clone(),
        f.after,
        f.upto,
        f.include_deleted,
    )
}

/// Reader connections kept open between requests. Every request reads (the token, then a
/// pull page); with fewer idle readers than concurrent requests, connections were opened
/// (schema parsed, statements prepared) and closed again for most requests. Reads at once
/// are bounded by [`concurrent_reads`], which is never above this, so no reader is closed.
const MAX_IDLE_READERS: usize = 32;

/// How many reads run at once: 4 per core (reads of cached pages are CPU work; the slack
/// covers reads that wait for the disk), at least 8, at most [`MAX_IDLE_READERS`]. Other
/// reads wait their turn in order. Without a bound, 200 concurrent requests ran ~200 blocking
/// threads on 2 cores: a thread switch per read, the allocator's arenas contended, and more
/// readers open than were kept idle (opened and closed again per request).
fn concurrent_reads() -> usize {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    (cores * 4).clamp(8, MAX_IDLE_READERS)
}

/// The SQLite store.
pub struct SqliteStore {
    path: PathBuf,
    writer: Arc<Mutex<Connection>>,
    readers: Arc<Mutex<Vec<Connection>>>,
    /// Turns to read (see [`concurrent_reads`]).
    read_turns: Arc<tokio::sync::Semaphore>,
    /// Writes waiting for the writer (see [`SqliteStore::write`]: group commit).
    waiting: Arc<Mutex<Vec<QueuedWrite>>>,
}

/// Most writes committed together in one group.
const MAX_GROUP: usize = 64;

type WriteReply = tokio::sync::oneshot::Sender<Result<(), StoreError>>;

/// A write waiting for the writer connection.
struct QueuedWrite {
    keys: WriteKeys,
    decide: Decide,
    reply: WriteReply,
}

fn open_conn(path: &Path) -> Result<Connection, StoreError> {
    let conn =
        Connection::open(path).map_err(StoreError::sqlite(format!("open {}", path.display())))?;
    conn.busy_timeout(std::time::Duration::from_secs(10))
        .map_err(StoreError::sqlite("set busy timeout"))?;
    conn.pragma_update(None, "journal_mode", "WAL")
        .map_err(StoreError::sqlite("enable WAL"))?;
    conn.pragma_update(None, "synchronous", "FULL")
        .map_err(StoreError::sqlite("set synchronous"))?;
    Ok(conn)
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic while holding the lock cannot leave a half-written transaction (rusqlite
    // rolls back on drop), so a poisoned lock is safe to keep using.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl SqliteStore {
    /// Opens (creating if needed) and migrates the database at `path`.
    pub async fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        let path = path.to_path_buf();
        let p = path.clone();
        let writer = tokio::task::spawn_blocking(move || -> Result<Connection, StoreError> {
            if let Some(dir) = p.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|source| StoreError::Io {
                    context: format!("create {}", dir.display()),
                    source,
                })?;
            }
            let mut conn = open_conn(&p)?;
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(StoreError::sqlite("begin migration"))?;
            tx.execute_batch(SCHEMA)
                .map_err(StoreError::sqlite("create schema"))?;
            tx.execute_batch(EXPORT_INDEX)
                .map_err(StoreError::sqlite("create the export index"))?;
            let secret = hex::encode(rand::random::<[u8; 32]>());
            tx.execute(
                "INSERT OR IGNORE INTO meta (key, value) VALUES ('cursor_secret', ?1), ('history_floor', '0'), ('schema_version', '1')",
                params![secret],
            )
            .map_err(StoreError::sqlite("initialise meta"))?;
            let found = super::check_schema_version(&meta(&tx, "schema_version")?)?;
            migrate(&tx, found)?;
            tx.commit().map_err(StoreError::sqlite("commit migration"))?;
            Ok(conn)
        })
        .await
        .map_err(|e| StoreError::Task(e.to_string()))??;
        Ok(SqliteStore {
            path,
            writer: Arc::new(Mutex::new(writer)),
            readers: Arc::new(Mutex::new(Vec::new())),
            read_turns: Arc::new(tokio::sync::Semaphore::new(concurrent_reads())),
            waiting: Arc::new(Mutex::new(Vec::new())),
        })
    }

    async fn run_writer<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let w = self.writer.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = lock(&w);
            f(&mut conn)
        })
        .await
        .map_err(|e| StoreError::Task(e.to_string()))?
    }

    async fn read<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let pool = self.readers.clone();
        let path = self.path.clone();
        let turn = Arc::clone(&self.read_turns)
            .acquire_owned()
            .await
            .map_err(|_| StoreError::Task("the store's read turns were closed".into()))?;
        tokio::task::spawn_blocking(move || {
            let _turn = turn;
            let taken = lock(&pool).pop();
            let mut conn = match taken {
                Some(c) => c,
                None => open_conn(&path)?,
            };
            let out = f(&mut conn);
            let mut idle = lock(&pool);
            if idle.len() < MAX_IDLE_READERS {
                idle.push(conn);
            }
            out
        })
        .await
        .map_err(|e| StoreError::Task(e.to_string()))?
    }
}

/// Applies the migration steps above `found` (inside the caller's transaction).
fn migrate(tx: &Connection, found: i64) -> Result<(), StoreError> {
    for step in migrations::pending(found) {
        tx.execute_batch(step.sqlite)
            .map_err(StoreError::sqlite(format!("migrate: {}", step.name)))?;
        tx.execute(
            "UPDATE meta SET value = ?1 WHERE key = 'schema_version'",
            [step.version.to_string()],
        )
        .map_err(StoreError::sqlite("record the schema version"))?;
    }
    Ok(())
}

/// Fails unless `path` is an existing fieldsync server database; creates and changes
/// nothing (the file is only read; opening never creates it). Not a SQLite file at all: a
/// SQLite error (74).
pub(crate) async fn check_existing(path: &Path) -> Result<i64, StoreError> {
    let path = path.to_path_buf();
    tokio::task::spawn_blocking(move || {
        let shown = path.display().to_string();
        if !path.is_file() {
            return Err(StoreError::Missing(shown));
        }
        let conn = Connection::open_with_flags(&path, rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE)
            .map_err(StoreError::sqlite(format!("open {shown}")))?;
        let tables: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('meta', 'officers', 'records')",
                [],
                |r| r.get(0),
            )
            .map_err(StoreError::sqlite(format!("read {shown}")))?;
        if tables < 3 {
            return Err(StoreError::NotFieldsync(shown));
        }
        let version: String = conn
            .query_row(
                "SELECT value FROM meta WHERE key = 'schema_version'",
                [],
                |r| r.get(0),
            )
            .map_err(StoreError::sqlite(format!("read the schema version of {shown}")))?;
        super::check_schema_version(&version)
    })
    .await
    .map_err(|e| StoreError::Task(e.to_string()))?
}

fn officer_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Officer> {
    Ok(Officer {
        id: r.get(0)?,
        team: r.get(1)?,
        created_at: r.get(2)?,
        revoked: r.get::<_, Option<String>>(3)?.is_some(),
    })
}

type RawRecord = (
    String,
    i64,
    String,
    String,
    i64,
    bool,
    Option<String>,
    String,
    String,
    String,
);

fn raw_record(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawRecord> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
        r.get(8)?,
        r.get(9)?,
    ))
}

fn summary_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<OfficerSummary> {
    Ok(OfficerSummary {
        officer: officer_row(r)?,
        last_push_at: r.get(4)?,
        last_pull_at: r.get(5)?,
        changes_pushed: r.get(6)?,
    })
}

/// Records an officer's activity (inside the caller's transaction); one statement.
fn store_activity(tx: &Connection, activity: &OfficerActivity) -> Result<(), StoreError> {
    match activity {
        OfficerActivity::Pushed {
            officer,
            changes,
            at,
        } => tx
            .prepare_cached(
                "UPDATE officers SET last_push_at = ?2, changes_pushed = changes_pushed + ?3 WHERE id = ?1",
            )
            .and_then(|mut s| s.execute(params![officer, at, changes])),
        OfficerActivity::Pulled { officer, at } => tx
            .prepare_cached("UPDATE officers SET last_pull_at = ?2 WHERE id = ?1")
            .and_then(|mut s| s.execute(params![officer, at])),
    }
    .map_err(StoreError::sqlite("record officer activity"))?;
    Ok(())
}

const RECORD_COLS: &str =
    "id, server_id, entity_type, team, version, deleted, deleted_by, fields, stamps, audit, echo_device";

/// A row selected with [`RECORD_COLS`]: the record and its `echo_device`.
fn raw_full_record(r: &rusqlite::Row<'_>) -> rusqlite::Result<(RawRecord, Option<String>)> {
    Ok((raw_record(r)?, r.get(10)?))
}

fn to_record(raw: RawRecord) -> Result<StoredRecord, StoreError> {
    let (id, server_id, et, team, version, deleted, deleted_by, fields, stamps, audit) = raw;
    Ok(StoredRecord {
        server_id,
        entity_type: parse_entity(&et)?,
        id: parse_uuid("record id", &id)?,
        team,
        version,
        deleted,
        deleted_by: deleted_by
            .map(|d| parse_uuid("deleted_by", &d))
            .transpose()?,
        fields: from_json("record fields", &fields)?,
        stamps: from_json("record stamps", &stamps)?,
        audit: from_json("record audit", &audit)?,
        echo_device: None,
    })
}

/// [`RECORD_COLS`] with empty stamps, which an export does not need.
const EXPORT_COLS: &str =
    "id, server_id, entity_type, team, version, deleted, deleted_by, fields, '{}', audit";

/// [`RECORD_COLS`] without the per-field stamps, which a pull does not send.
const PULL_COLS: &str =
    "id, server_id, entity_type, team, version, deleted, deleted_by, fields, '', audit";

/// The records of `team` in versions `(after, upto]`, at most `limit`, leaving out those
/// whose `echo_device` is `skip`.
fn pull_page(
    c: &Connection,
    team: &str,
    after: i64,
    upto: i64,
    limit: u32,
    skip: Option<Uuid>,
) -> Result<PullPage, StoreError> {
    let mut q = c
        .prepare_cached(&format!(
            "SELECT {PULL_COLS} FROM records WHERE team = ?1 AND version > ?2 AND version <= ?3
               AND (?4 IS NULL OR echo_device IS NULL OR echo_device <> ?4)
             ORDER BY version LIMIT ?5"
        ))
        .map_err(StoreError::sqlite("prepare pull"))?;
    let skip = skip.map(|d| d.to_string());
    let rows = q
        .query_map(
            params![team, after, upto, skip, i64::from(limit) + 1],
            raw_record,
        )
        .map_err(StoreError::sqlite("pull"))?;
    let mut records = Vec::new();
    for row in rows {
        let raw = row.map_err(StoreError::sqlite("read pulled record"))?;
        records.push(to_wire(raw)?);
    }
    let has_more = records.len() > limit as usize;
    records.truncate(limit as usize);
    Ok(PullPage {
        records,
        has_more,
        covered: None,
    })
}

/// A row selected with [`PULL_COLS`] as the wire record (its fields and audit are copied
/// through as JSON text, not parsed; see [`crate::server::wire`]).
fn to_wire(raw: RawRecord) -> Result<WireRecord, StoreError> {
    let (id, server_id, et, _team, version, deleted, _deleted_by, fields, _stamps, audit) = raw;
    WireRecord::from_stored(StoredColumns {
        entity_type: &et,
        id: &id,
        server_id,
        version,
        deleted,
        fields: &fields,
        audit: &audit,
    })
}

fn meta(conn: &Connection, key: &str) -> Result<String, StoreError> {
    conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
        .map_err(StoreError::sqlite(format!("read meta {key}")))
}

/// Group commit: the writes waiting for the writer run in one write transaction, each in its
/// own savepoint, and one commit (one fsync) makes them all durable. Each write is still
/// atomic (a failing write rolls back to its savepoint and leaves the others alone), writes
/// still apply one after another in version order, and no write returns before the commit
/// that holds it. If the commit fails, every write of the group gets the error.
///
/// A write alone in its group (a device pushing its backlog, batch after batch) needs no
/// savepoint: the transaction is its atomic unit, rolled back when it fails. A savepoint
/// would copy every page the write touches into SQLite's sub-journal first (~5% of the
/// server's CPU in a 100,000-visit push).
fn write_group(conn: &mut Connection, group: Vec<QueuedWrite>) {
    let alone = group.len() == 1;
    let mut done: Vec<(WriteReply, Result<(), StoreError>)> = Vec::new();
    let outcome = (|| -> Result<(), StoreError> {
        let mut tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(StoreError::sqlite("begin push"))?;
        let mut roll_back = false;
        for w in group {
            let result = match alone {
                true => apply_write(&tx, &w.keys, w.decide),
                false => (|| {
                    let sp = tx
                        .savepoint()
                        .map_err(StoreError::sqlite("begin push savepoint"))?;
                    apply_write(&sp, &w.keys, w.decide)?;
                    sp.commit()
                        .map_err(StoreError::sqlite("release push savepoint"))
                })(),
            };
            roll_back = alone && result.is_err();
            done.push((w.reply, result));
        }
        match roll_back {
            // Dropping the transaction rolls the failed write back; its error is its answer.
            true => Ok(()),
            false => tx.commit().map_err(StoreError::sqlite("commit push")),
        }
    })();
    for (reply, result) in done {
        let result = match (&outcome, result) {
            (Err(e), Ok(())) => Err(StoreError::Task(format!("the group commit failed: {e}"))),
            (_, r) => r,
        };
        let _ = reply.send(result);
    }
}

/// One write inside the writer's transaction (or a savepoint of it): load, decide, store.
fn apply_write(tx: &Connection, keys: &WriteKeys, decide: Decide) -> Result<(), StoreError> {
    let mut snap = load(tx, keys)?;
    // The mark as stored, before the decision raises it by the push's watermark.
    let loaded_mark = snap.forgotten_upto;
    let writes = decide(&mut snap);
    let ack = super::finished(keys, loaded_mark, writes.origin.as_ref());
    store_writes(tx, &keys.team, ack.as_ref(), &writes)
}

/// Bytes per table, indexes included, from the `dbstat` virtual table; empty when this
/// SQLite lacks it (the whole file's size is in the stats either way).
fn table_bytes(tx: &Connection) -> std::collections::BTreeMap<String, i64> {
    let read = || -> rusqlite::Result<std::collections::BTreeMap<String, i64>> {
        let mut st = tx.prepare(
            "SELECT coalesce(m.tbl_name, d.name), sum(d.pgsize) FROM dbstat d
             LEFT JOIN sqlite_schema m ON m.name = d.name GROUP BY 1",
        )?;
        let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.collect()
    };
    read().unwrap_or_default()
}

/// Reads the counters, the stored results of `keys.op_ids` and the records `keys.ids` name,
/// inside the writer's transaction.
/// The highest version handed out in any team (or the base new teams start at).
const CURRENT_VERSION: &str = "SELECT MAX(COALESCE((SELECT max(version) FROM team_versions), 0),
            (SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'version_base'))";

fn load(tx: &Connection, keys: &WriteKeys) -> Result<Snapshot, StoreError> {
    let version = match keys.team.as_str() {
        "" => 0,
        team => team_counter(tx, team)?,
    };
    let mut snap = Snapshot {
        version,
        ..Snapshot::default()
    };
    snap.server_id = tx
        .query_row(
            "SELECT server_id FROM version_counter WHERE id = 1",
            [],
            |r| r.get(0),
        )
        .map_err(StoreError::sqlite("read server id counter"))?;
    let mut q = tx
        .prepare_cached("SELECT hash, result FROM ops WHERE op_id = ?1")
        .map_err(StoreError::sqlite("prepare op lookup"))?;
    for op in &keys.op_ids {
        let row: Option<(String, String)> = q
            .query_row([op.to_string()], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()
            .map_err(StoreError::sqlite("look up op_id"))?;
        if let Some((hash, result)) = row {
            let result = from_json("stored result", &result)?;
            snap.ops.insert(*op, StoredOp { hash, result });
        }
    }
    if let Some(device) = keys.device {
        snap.forgotten_upto = tx
            .prepare_cached("SELECT forgotten_upto FROM device_ops WHERE device_id = ?1")
            .and_then(|mut q| q.query_row([device.to_string()], |r| r.get(0)).optional())
            .map_err(StoreError::sqlite("read the device's forgotten op-ids"))?
            .unwrap_or(0);
    }
    let mut q = tx
        .prepare_cached(&format!("SELECT {RECORD_COLS} FROM records WHERE id = ?1"))
        .map_err(StoreError::sqlite("prepare record lookup"))?;
    for id in &keys.ids {
        let row = q
            .query_row([id.to_string()], raw_full_record)
            .optional()
            .map_err(StoreError::sqlite("look up record"))?;
        if let Some((raw, echo)) = row {
            let mut rec = to_record(raw)?;
            rec.echo_device = echo.map(|d| parse_uuid("echo_device", &d)).transpose()?;
            snap.records.insert(*id, rec);
        }
    }
    let mut q = tx
        .prepare_cached(
            "SELECT count(*) FROM records WHERE entity_type = 'visit' AND NOT deleted
               AND json_extract(fields, '$.household_id') = ?1",
        )
        .map_err(StoreError::sqlite("prepare visit count"))?;
    for h in &keys.deleted_households {
        let n: i64 = q
            .query_row([h.to_string()], |r| r.get(0))
            .map_err(StoreError::sqlite("count a household's visits"))?;
        snap.live_visits.insert(*h, n);
    }
    Ok(snap)
}

/// A device's acknowledgement (see [`super::finished`]): raises its mark, then deletes its
/// finished results (one writer: nothing interleaves).
fn finish_ops(tx: &Connection, ack: &super::Finished) -> Result<(), StoreError> {
    tx.prepare_cached(
        "INSERT INTO device_ops (device_id, forgotten_upto) VALUES (?1, ?2)
         ON CONFLICT (device_id) DO UPDATE
             SET forgotten_upto = max(forgotten_upto, excluded.forgotten_upto)",
    )
    .and_then(|mut st| st.execute(params![ack.device, ack.below - 1]))
    .map_err(StoreError::sqlite("raise the device's op mark"))?;
    tx.prepare_cached("DELETE FROM ops WHERE device_id = ?1 AND seq > ?2 AND seq < ?3")
        .and_then(|mut st| st.execute(params![ack.device, ack.above, ack.below]))
        .map_err(StoreError::sqlite("delete finished op results"))?;
    Ok(())
}

/// The version counter of `team` (inside the writer's transaction), creating it when the
/// team never wrote: at `version_base`, with (0, base] recorded as skipped (no version up to
/// it was ever handed out in this team).
fn team_counter(tx: &Connection, team: &str) -> Result<i64, StoreError> {
    let found: Option<i64> = tx
        .prepare_cached("SELECT version FROM team_versions WHERE team = ?1")
        .and_then(|mut q| q.query_row([team], |r| r.get(0)).optional())
        .map_err(StoreError::sqlite("read the team's version counter"))?;
    if let Some(v) = found {
        return Ok(v);
    }
    let base: i64 = meta(tx, "version_base")?
        .parse()
        .map_err(|e| StoreError::Corrupt(format!("version base: {e}")))?;
    tx.execute(
        "INSERT INTO team_versions (team, version) VALUES (?1, ?2)",
        params![team, base],
    )
    .map_err(StoreError::sqlite("create the team's version counter"))?;
    if base > 0 {
        tx.execute(
            "INSERT INTO team_version_gaps (team, after, upto) VALUES (?1, 0, ?2)",
            params![team, base],
        )
        .map_err(StoreError::sqlite("record the team's skipped versions"))?;
    }
    Ok(base)
}

/// Writes a decided [`WriteSet`] of `team` inside the writer's transaction (the caller
/// commits).
fn store_writes(
    tx: &Connection,
    team: &str,
    ack: Option<&super::Finished>,
    write: &WriteSet,
) -> Result<(), StoreError> {
    super::check_one_team(team, &write.records)?;
    let mut up = tx
        .prepare_cached(
            "INSERT INTO records (id, server_id, entity_type, team, version, deleted, deleted_by, fields, stamps, audit, echo_device)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
             ON CONFLICT (id) DO UPDATE SET version = excluded.version, deleted = excluded.deleted,
               deleted_by = excluded.deleted_by, fields = excluded.fields, stamps = excluded.stamps,
               audit = excluded.audit, echo_device = excluded.echo_device",
        )
        .map_err(StoreError::sqlite("prepare record write"))?;
    for r in &write.records {
        up.execute(params![
            r.id.to_string(),
            r.server_id,
            r.entity_type.as_str(),
            r.team,
            r.version,
            r.deleted,
            r.deleted_by.map(|d| d.to_string()),
            to_json(&r.fields)?,
            to_json(&r.stamps)?,
            to_json(&r.audit)?,
            r.echo_device.map(|d| d.to_string()),
        ])
        .map_err(StoreError::sqlite("write record"))?;
    }
    if let Some(ack) = ack {
        finish_ops(tx, ack)?;
    }
    let mut ins = tx
        .prepare_cached(
            "INSERT INTO ops (op_id, hash, result, device_id, seq, stored_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )
        .map_err(StoreError::sqlite("prepare op write"))?;
    let origin = write.origin.as_ref();
    for (op, hash, result) in &write.ops {
        ins.execute(params![
            op.to_string(),
            hash,
            to_json(result)?,
            origin.map(|o| o.device.to_string()),
            origin.and_then(|o| o.seqs.get(op)),
            origin.map(|o| o.stored_at),
        ])
        .map_err(StoreError::sqlite("store op result"))?;
    }
    if !team.is_empty() {
        tx.prepare_cached("UPDATE team_versions SET version = ?2 WHERE team = ?1")
            .and_then(|mut q| q.execute(params![team, write.version]))
            .map_err(StoreError::sqlite("advance the team's version counter"))?;
    }
    tx.prepare_cached("UPDATE version_counter SET server_id = ?1 WHERE id = 1")
        .and_then(|mut q| q.execute([write.server_id]))
        .map_err(StoreError::sqlite("advance the server id counter"))?;
    if let Some(activity) = &write.activity {
        store_activity(tx, activity)?;
    }
    Ok(())
}

#[async_trait]
impl Store for SqliteStore {
    fn kind(&self) -> &'static str {
        "sqlite"
    }

    async fn officer_by_token_hash(&self, token_hash: &str) -> Result<Option<Officer>, StoreError> {
        let h = token_hash.to_string();
        self.read(move |c| {
            c.prepare_cached(
                "SELECT id, team, created_at, revoked_at FROM officers WHERE token_hash = ?1",
            )
            .and_then(|mut s| s.query_row([h], officer_row).optional())
            .map_err(StoreError::sqlite("look up token"))
        })
        .await
    }

    async fn write(&self, keys: WriteKeys, decide: Decide) -> Result<(), StoreError> {
        // Queue the write, then take the writer: whoever gets it runs every write queued by
        // then (up to MAX_GROUP) as one group. A write taken by an earlier group is answered
        // by that group; its own turn at the writer then finds the queue empty or serves others.
        let (reply, answer) = tokio::sync::oneshot::channel();
        lock(&self.waiting).push(QueuedWrite {
            keys,
            decide,
            reply,
        });
        let waiting = self.waiting.clone();
        self.run_writer(move |c| {
            let group: Vec<QueuedWrite> = {
                let mut q = lock(&waiting);
                let n = q.len().min(MAX_GROUP);
                q.drain(..n).collect()
            };
            if !group.is_empty() {
                write_group(c, group);
            }
            Ok(())
        })
        .await?;
        answer
            .await
            .map_err(|_| StoreError::Task("the write was dropped before it was applied".into()))?
    }

    async fn pull(
        &self,
        team: &str,
        after: i64,
        limit: u32,
        skip_device: Option<Uuid>,
    ) -> Result<PullPage, StoreError> {
        let team = team.to_string();
        self.read(move |c| match skip_device {
            None => pull_page(c, &team, after, i64::MAX, limit, None),
            Some(device) => {
                // How far the team's versions reach, read first: every version up to it has
                // committed (the prefix rule), so the page read next sees all of them.
                let upto: Option<i64> = c
                    .prepare_cached("SELECT max(version) FROM records WHERE team = ?1")
                    .and_then(|mut q| q.query_row([&team], |r| r.get(0)))
                    .map_err(StoreError::sqlite("pull: the team's last version"))?;
                let upto = upto.unwrap_or(after).max(after);
                let mut page = pull_page(c, &team, after, upto, limit, Some(device))?;
                if !page.has_more {
                    page.covered = Some(upto);
                }
                Ok(page)
            }
        })
        .await
    }

    async fn cursor_secret(&self) -> Result<Vec<u8>, StoreError> {
        let s = self.read(|c| meta(c, "cursor_secret")).await?;
        hex::decode(&s).map_err(|e| StoreError::Corrupt(format!("cursor secret: {e}")))
    }

    async fn history_floor(&self) -> Result<i64, StoreError> {
        let s = self.read(|c| meta(c, "history_floor")).await?;
        s.parse()
            .map_err(|e| StoreError::Corrupt(format!("history floor {s:?}: {e}")))
    }

    async fn add_officer(&self, id: &str, team: &str, token_hash: &str) -> Result<(), StoreError> {
        crate::model::validate_officer_id(id).map_err(|e| StoreError::Invalid(e.message))?;
        validate_team(team)?;
        let (id, team, h) = (id.to_string(), team.to_string(), token_hash.to_string());
        self.run_writer(move |c| {
            let n = c
                .execute(
                    "INSERT OR IGNORE INTO officers (id, team, token_hash, created_at) VALUES (?1, ?2, ?3, ?4)",
                    params![id, team, h, crate::model::now_timestamp()],
                )
                .map_err(StoreError::sqlite("add officer"))?;
            if n == 0 {
                return Err(StoreError::DuplicateOfficer(id));
            }
            Ok(())
        })
        .await
    }

    async fn list_officers(&self) -> Result<Vec<OfficerSummary>, StoreError> {
        self.read(|c| {
            let mut q = c
                .prepare("SELECT id, team, created_at, revoked_at, last_push_at, last_pull_at, changes_pushed FROM officers ORDER BY id")
                .map_err(StoreError::sqlite("prepare officer list"))?;
            let rows = q
                .query_map([], summary_row)
                .map_err(StoreError::sqlite("list officers"))?;
            rows.collect::<Result<Vec<_>, _>>()
                .map_err(StoreError::sqlite("read officer"))
        })
        .await
    }

    async fn revoke_officer(&self, id: &str) -> Result<(), StoreError> {
        let id = id.to_string();
        self.run_writer(move |c| {
            let n = c
                .execute(
                    "UPDATE officers SET revoked_at = COALESCE(revoked_at, ?2) WHERE id = ?1",
                    params![id, crate::model::now_timestamp()],
                )
                .map_err(StoreError::sqlite("revoke officer"))?;
            if n == 0 {
                return Err(StoreError::UnknownOfficer(id));
            }
            Ok(())
        })
        .await
    }

    async fn reissue_token(&self, id: &str, token_hash: &str) -> Result<(), StoreError> {
        let (id, h) = (id.to_string(), token_hash.to_string());
        self.run_writer(move |c| {
            let n = c
                .execute(
                    "UPDATE officers SET token_hash = ?2, revoked_at = NULL WHERE id = ?1",
                    params![id, h],
                )
                .map_err(StoreError::sqlite("issue a new token"))?;
            if n == 0 {
                return Err(StoreError::UnknownOfficer(id));
            }
            Ok(())
        })
        .await
    }

    async fn record_pull(&self, officer: &str, at: &str) -> Result<(), StoreError> {
        // Through the group commit: under load it shares a push group's fsync.
        let activity = OfficerActivity::Pulled {
            officer: officer.to_string(),
            at: at.to_string(),
        };
        self.write(
            WriteKeys::default(),
            Box::new(move |snap| WriteSet {
                version: snap.version,
                server_id: snap.server_id,
                activity: Some(activity),
                ..WriteSet::default()
            }),
        )
        .await
    }

    async fn stats(&self) -> Result<StoreStats, StoreError> {
        self.read(|c| {
            let tx = c
                .transaction()
                .map_err(StoreError::sqlite("begin stats read"))?;
            let count = |sql: &str| -> Result<i64, StoreError> {
                tx.query_row(sql, [], |r| r.get(0))
                    .map_err(StoreError::sqlite("read stats"))
            };
            let int_meta = |key: &str| -> Result<i64, StoreError> {
                let v = meta(&tx, key)?;
                v.parse()
                    .map_err(|e| StoreError::Corrupt(format!("meta {key} {v:?}: {e}")))
            };
            Ok(StoreStats {
                officers: count("SELECT count(*) FROM officers")?,
                revoked_officers: count(
                    "SELECT count(*) FROM officers WHERE revoked_at IS NOT NULL",
                )?,
                records: count("SELECT count(*) FROM records")?,
                tombstones: count("SELECT count(*) FROM records WHERE deleted = 1")?,
                current_version: count(CURRENT_VERSION)?,
                history_floor: int_meta("history_floor")?,
                schema_version: int_meta("schema_version")?,
                stored_results: count("SELECT count(*) FROM ops")?,
                forms: count("SELECT count(*) FROM forms")?,
                database_bytes: count(
                    "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()",
                )?,
                table_bytes: table_bytes(&tx),
                devices_tracked: count("SELECT count(*) FROM device_ops")?,
            })
        })
        .await
    }

    async fn backup(&self, dest: &Path) -> Result<(), StoreError> {
        let dest = dest.to_path_buf();
        self.read(move |c| backup_into(c, &dest)).await
    }

    async fn move_officer(&self, id: &str, team: &str) -> Result<(), StoreError> {
        validate_team(team)?;
        let (id, team) = (id.to_string(), team.to_string());
        self.run_writer(move |c| {
            let tx = c
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(StoreError::sqlite("begin the move"))?;
            let from: String = tx
                .query_row("SELECT team FROM officers WHERE id = ?1", [&id], |r| {
                    r.get(0)
                })
                .optional()
                .map_err(StoreError::sqlite("read the officer's team"))?
                .ok_or_else(|| StoreError::UnknownOfficer(id.clone()))?;
            if from == team {
                return Ok(());
            }
            let raised = team_counter(&tx, &from)?.max(team_counter(&tx, &team)?);
            tx.execute(
                "UPDATE team_versions SET version = ?2 WHERE team = ?1",
                params![team, raised],
            )
            .map_err(StoreError::sqlite("raise the new team's version"))?;
            tx.execute(
                "UPDATE officers SET team = ?2, previous_team = ?3, moved_at_version = ?4 WHERE id = ?1",
                params![id, team, from, raised],
            )
            .map_err(StoreError::sqlite("move officer"))?;
            tx.commit().map_err(StoreError::sqlite("commit the move"))
        })
        .await
    }

    async fn purge_tombstones(&self, before: i64) -> Result<u64, StoreError> {
        self.run_writer(move |c| {
            let tx = c
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(StoreError::sqlite("begin purge"))?;
            let n = tx
                .execute(
                    "DELETE FROM records WHERE deleted = 1 AND version < ?1",
                    [before],
                )
                .map_err(StoreError::sqlite("purge tombstones"))?;
            // Cursors below `before - 1` may point into forgotten history.
            tx.execute(
                "UPDATE meta SET value = CAST(MAX(CAST(value AS INTEGER), ?1) AS TEXT) WHERE key = 'history_floor'",
                [before - 1],
            )
            .map_err(StoreError::sqlite("raise history floor"))?;
            tx.commit().map_err(StoreError::sqlite("commit purge"))?;
            Ok(n as u64)
        })
        .await
    }

    async fn trim_ops(&self, stored_upto: i64, limit: u32) -> Result<u64, StoreError> {
        self.run_writer(move |c| {
            let tx = c
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(StoreError::sqlite("begin op trim"))?;
            // Any `limit` rows stored by then (the index on stored_at finds them); the
            // marks are raised over exactly the rows deleted, in the same transaction.
            let mut marks: std::collections::BTreeMap<String, i64> = Default::default();
            let mut n = 0u64;
            {
                let mut del = tx
                    .prepare(
                        "DELETE FROM ops WHERE rowid IN (
                             SELECT rowid FROM ops WHERE stored_at <= ?1 LIMIT ?2)
                         RETURNING device_id, seq",
                    )
                    .map_err(StoreError::sqlite("prepare op trim"))?;
                let mut rows = del
                    .query(params![stored_upto, limit])
                    .map_err(StoreError::sqlite("trim op results"))?;
                while let Some(r) = rows.next().map_err(StoreError::sqlite("trim op results"))? {
                    n += 1;
                    let device: Option<String> =
                        r.get(0).map_err(StoreError::sqlite("read device"))?;
                    let seq: Option<i64> = r.get(1).map_err(StoreError::sqlite("read seq"))?;
                    if let (Some(d), Some(s)) = (device, seq) {
                        let m = marks.entry(d).or_insert(s);
                        *m = (*m).max(s);
                    }
                }
            }
            let mut up = tx
                .prepare(
                    "INSERT INTO device_ops (device_id, forgotten_upto) VALUES (?1, ?2)
                     ON CONFLICT (device_id) DO UPDATE
                         SET forgotten_upto = max(forgotten_upto, excluded.forgotten_upto)",
                )
                .map_err(StoreError::sqlite("prepare mark raise"))?;
            for (device, seq) in &marks {
                up.execute(params![device, seq])
                    .map_err(StoreError::sqlite("raise a device's op mark"))?;
            }
            drop(up);
            tx.commit().map_err(StoreError::sqlite("commit op trim"))?;
            Ok(n)
        })
        .await
    }

    async fn current_version(&self) -> Result<i64, StoreError> {
        self.read(|c| {
            c.query_row(CURRENT_VERSION, [], |r| r.get(0))
                .map_err(StoreError::sqlite("read the version counters"))
        })
        .await
    }

    async fn team_version(&self, team: &str) -> Result<i64, StoreError> {
        let team = team.to_string();
        self.read(move |c| {
            c.query_row(
                "SELECT COALESCE((SELECT version FROM team_versions WHERE team = ?1),
                                 (SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'version_base'))",
                [team],
                |r| r.get(0),
            )
            .map_err(StoreError::sqlite("read the team's version"))
        })
        .await
    }

    async fn team_versions(&self) -> Result<Vec<(String, i64)>, StoreError> {
        self.read(|c| {
            let mut q = c
                .prepare("SELECT team, version FROM team_versions ORDER BY team")
                .map_err(StoreError::sqlite("prepare the team versions read"))?;
            let rows = q
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
                .map_err(StoreError::sqlite("read the team versions"))?;
            Ok(rows)
        })
        .await
    }

    async fn previous_team(&self, officer: &str) -> Result<Option<(String, i64)>, StoreError> {
        let officer = officer.to_string();
        self.read(move |c| {
            c.query_row(
                "SELECT previous_team, moved_at_version FROM officers
                 WHERE id = ?1 AND previous_team IS NOT NULL AND moved_at_version IS NOT NULL",
                [officer],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(StoreError::sqlite("read the officer's previous team"))
        })
        .await
    }

    async fn server_id(&self) -> Result<String, StoreError> {
        self.read(|c| meta(c, "server_id")).await
    }

    async fn skip_versions(&self, at_least: i64) -> Result<(), StoreError> {
        self.run_writer(move |c| {
            let tx = c
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(StoreError::sqlite("begin skipping versions"))?;
            let handed_out: bool = tx
                .query_row(
                    "SELECT EXISTS (SELECT 1 FROM team_versions WHERE version > 0)",
                    [],
                    |r| r.get(0),
                )
                .map_err(StoreError::sqlite("read the version counters"))?;
            if handed_out {
                let raise = [
                    "INSERT INTO team_version_gaps (team, after, upto)
                     SELECT team, version, ?1 FROM team_versions WHERE version < ?1",
                    "UPDATE team_versions SET version = ?1 WHERE version < ?1",
                    "UPDATE meta SET value = CAST(MAX(CAST(value AS INTEGER), ?1) AS TEXT)
                     WHERE key = 'version_base'",
                ];
                for sql in raise {
                    tx.execute(sql, [at_least])
                        .map_err(StoreError::sqlite("raise the version counters"))?;
                }
            }
            tx.commit()
                .map_err(StoreError::sqlite("commit skipped versions"))
        })
        .await
    }

    async fn skipped_range_start(
        &self,
        team: &str,
        version: i64,
    ) -> Result<Option<i64>, StoreError> {
        let team = team.to_string();
        self.read(move |c| {
            // Gaps recorded before per-team versions (schema step 6) apply to every team.
            c.query_row(
                "SELECT after FROM team_version_gaps WHERE team = ?1 AND after < ?2 AND ?2 <= upto
                 UNION ALL
                 SELECT after FROM version_gaps WHERE after < ?2 AND ?2 <= upto
                 LIMIT 1",
                params![team, version],
                |r| r.get(0),
            )
            .optional()
            .map_err(StoreError::sqlite("read version gaps"))
        })
        .await
    }

    async fn export_answer_keys(
        &self,
        filter: &super::ExportFilter,
    ) -> Result<Vec<String>, StoreError> {
        let p = export_params(filter);
        self.read(move |c| {
            let mut q = c
                .prepare(&format!(
                    "SELECT DISTINCT substr(j.key, 9) FROM records, json_each(records.fields) AS j \
                     WHERE {EXPORT_WHERE} AND j.key LIKE 'answers.%' ORDER BY 1"
                ))
                .map_err(StoreError::sqlite("prepare export keys"))?;
            let rows = q
                .query_map(params![p.0, p.1, p.2, p.3, p.4], |r| r.get::<_, String>(0))
                .map_err(StoreError::sqlite("export keys"))?;
            rows.collect::<rusqlite::Result<Vec<String>>>()
                .map_err(StoreError::sqlite("read export keys"))
        })
        .await
    }

    async fn export_page(
        &self,
        filter: &super::ExportFilter,
        limit: u32,
    ) -> Result<Vec<StoredRecord>, StoreError> {
        let p = export_params(filter);
        self.read(move |c| {
            let mut q = c
                .prepare_cached(&format!(
                    "SELECT {EXPORT_COLS} FROM records WHERE {EXPORT_WHERE} ORDER BY version LIMIT ?6"
                ))
                .map_err(StoreError::sqlite("prepare export page"))?;
            let rows = q
                .query_map(params![p.0, p.1, p.2, p.3, p.4, limit], raw_record)
                .map_err(StoreError::sqlite("export page"))?;
            let mut out = Vec::new();
            for row in rows {
                out.push(to_record(row.map_err(StoreError::sqlite("read exported record"))?)?);
            }
            Ok(out)
        })
        .await
    }

    async fn publish_form(&self, team: &str, form: &Form) -> Result<FormRow, StoreError> {
        validate_team(team)?;
        let team = team.to_string();
        let form = form.clone();
        self.run_writer(move |c| {
            let tx = c
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(StoreError::sqlite("begin publish"))?;
            let last: i64 = tx
                .query_row(
                    "SELECT COALESCE(MAX(version), 0) FROM forms WHERE team = ?1",
                    [&team],
                    |r| r.get(0),
                )
                .map_err(StoreError::sqlite("read the last form version"))?;
            let published = crate::forms::PublishedForm::new(
                u32::try_from(last + 1)
                    .map_err(|_| StoreError::Corrupt(format!("form version {last}")))?,
                form,
            );
            let row = FormRow {
                team,
                published_at: crate::model::now_timestamp(),
                form: published,
            };
            tx.execute(
                "INSERT INTO forms (team, version, content_hash, form, published_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    row.team,
                    row.form.version,
                    row.form.content_hash,
                    to_json(&row.form.form)?,
                    row.published_at
                ],
            )
            .map_err(StoreError::sqlite("store the form"))?;
            tx.commit().map_err(StoreError::sqlite("commit publish"))?;
            Ok(row)
        })
        .await
    }

    async fn forms(&self, team: Option<&str>, after: u32) -> Result<Vec<FormRow>, StoreError> {
        let team = team.map(str::to_string);
        self.read(move |c| {
            let mut st = c
                .prepare_cached(
                    "SELECT team, version, content_hash, form, published_at FROM forms \
                     WHERE (?1 IS NULL OR team = ?1) AND version > ?2 ORDER BY team, version",
                )
                .map_err(StoreError::sqlite("prepare forms read"))?;
            let raw = st
                .query_map(params![team, after], |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get::<_, String>(3)?,
                        r.get(4)?,
                    ))
                })
                .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
                .map_err(StoreError::sqlite("read forms"))?;
            raw.into_iter()
                .map(|(t, v, h, f, at)| form_row(t, v, h, &f, at))
                .collect()
        })
        .await
    }
}

/// `VACUUM INTO` a temporary file next to `dest` (a consistent snapshot, read in one read
/// transaction while writers go on), fsyncs it, then links it to `dest`, which fails if `dest`
/// exists: a backup never overwrites, and a failed one leaves no half-written `dest`.
fn backup_into(conn: &Connection, dest: &Path) -> Result<(), StoreError> {
    let shown = dest.display().to_string();
    if dest.exists() {
        return Err(StoreError::Exists(shown));
    }
    let dir = dest
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let io = |context: String| move |source: std::io::Error| StoreError::Io { context, source };
    let tmp = tempfile::Builder::new()
        .prefix(".fieldsync-backup-")
        .tempdir_in(dir)
        .map_err(io(format!(
            "create a temporary folder in {}",
            dir.display()
        )))?;
    let part = tmp.path().join("backup.sqlite3");
    let part_str = part
        .to_str()
        .ok_or_else(|| StoreError::Invalid(format!("{shown}: the path is not UTF-8")))?;
    conn.execute("VACUUM INTO ?1", [part_str])
        .map_err(StoreError::sqlite(format!("back up into {shown}")))?;
    std::fs::File::open(&part)
        .and_then(|f| f.sync_all())
        .map_err(io(format!("sync {shown}")))?;
    std::fs::hard_link(&part, dest).map_err(|source| {
        if source.kind() == std::io::ErrorKind::AlreadyExists {
            StoreError::Exists(shown.clone())
        } else {
            StoreError::Io {
                context: format!("write {shown}"),
                source,
            }
        }
    })?;
    Ok(())
}
