//! The local SQLite store: schema and migrations, household and visit records, and the rule
//! that every local write commits in one transaction with its sync-queue entry.
//!
//! Durability: WAL with `synchronous=FULL`, so a recorded visit survives a battery that dies
//! the moment `fieldsync visit add` returns. The file is created owner-only (0600).
//!
//! Records keep real columns. On the wire and in the queue a record is a flat
//! [`FieldMap`](crate::model::FieldMap); [`put_row`] and [`read_record`] convert between the two.
//!
//! `visit.household_id` is deliberately not a SQL foreign key: pulled pages are ordered by
//! server version, so a visit can arrive a page before its household's latest version. Local
//! writes check that the household exists in [`Store::add`] instead.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use rusqlite::{params, Connection, OpenFlags, OptionalExtension, Row, Transaction};
use serde::Serialize;
use serde_json::{json, Value};
use uuid::Uuid;

use super::error::{explain_sqlite, Error, Result};
use crate::model::{
    self, answers_of, apply_fields, diff_fields, validate_change, EntityType, FieldMap, Gps,
    Operation, ANSWER_PREFIX,
};

/// The schema version this build writes (`PRAGMA user_version`).
pub const SCHEMA_VERSION: i64 = 1;

/// Migrations, in order: `MIGRATIONS[i]` takes the schema from version `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[r#"
CREATE TABLE household (
    id          TEXT PRIMARY KEY,
    server_id   INTEGER,
    name        TEXT NOT NULL,
    village     TEXT,
    gps_lat     REAL,
    gps_lon     REAL,
    notes       TEXT,
    sync_state  TEXT NOT NULL CHECK (sync_state IN ('pending','syncing','synced','conflict')),
    version     INTEGER,
    base        TEXT,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    deleted_at  TEXT
);
CREATE TABLE visit (
    id           TEXT PRIMARY KEY,
    server_id    INTEGER,
    household_id TEXT NOT NULL,
    officer_id   TEXT NOT NULL,
    visited_at   TEXT NOT NULL,
    notes        TEXT,
    gps_lat      REAL,
    gps_lon      REAL,
    answers      TEXT NOT NULL DEFAULT '{}',
    sync_state   TEXT NOT NULL CHECK (sync_state IN ('pending','syncing','synced','conflict')),
    version      INTEGER,
    base         TEXT,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    deleted_at   TEXT
);
CREATE INDEX visit_by_household ON visit (household_id);
CREATE TABLE sync_queue (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    op_id        TEXT NOT NULL UNIQUE,
    entity_type  TEXT NOT NULL CHECK (entity_type IN ('household','visit')),
    entity_id    TEXT NOT NULL,
    operation    TEXT NOT NULL CHECK (operation IN ('insert','update','delete')),
    payload      TEXT NOT NULL,
    base_version INTEGER,
    enqueued_at  TEXT NOT NULL,
    retry_count  INTEGER NOT NULL DEFAULT 0,
    status       TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending','sending','rejected')),
    last_error   TEXT
);
CREATE INDEX sync_queue_by_entity ON sync_queue (entity_type, entity_id);
CREATE INDEX sync_queue_by_status ON sync_queue (status, id);
CREATE TABLE sync_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE conflict (
    entity_type   TEXT NOT NULL,
    entity_id     TEXT NOT NULL,
    operation     TEXT NOT NULL,
    fields        TEXT NOT NULL,
    server_record TEXT NOT NULL,
    found_at      TEXT NOT NULL,
    PRIMARY KEY (entity_type, entity_id)
);
"#];

/// Where a local record stands with the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncState {
    /// Local changes wait in the queue.
    Pending,
    /// Local changes are on their way (sent, no answer yet).
    Syncing,
    /// Matches the server at `version`.
    Synced,
    /// Collided with another device's change: see `fieldsync resolve`.
    Conflict,
}

impl SyncState {
    pub const ALL: [SyncState; 4] = [
        SyncState::Pending,
        SyncState::Syncing,
        SyncState::Synced,
        SyncState::Conflict,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SyncState::Pending => "pending",
            SyncState::Syncing => "syncing",
            SyncState::Synced => "synced",
            SyncState::Conflict => "conflict",
        }
    }
}

impl fmt::Display for SyncState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SyncState {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "pending" => Ok(SyncState::Pending),
            "syncing" => Ok(SyncState::Syncing),
            "synced" => Ok(SyncState::Synced),
            "conflict" => Ok(SyncState::Conflict),
            _ => Err(format!(
                "unknown sync state {s:?} (expected pending, syncing, synced or conflict)"
            )),
        }
    }
}

/// A household or visit as the device holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct LocalRecord {
    pub entity_type: EntityType,
    pub id: Uuid,
    pub server_id: Option<i64>,
    pub fields: FieldMap,
    pub sync_state: SyncState,
    /// The server version this copy is based on (none before its first sync).
    pub version: Option<i64>,
    /// The server's fields as of `version`: the common base when resolving a conflict.
    pub base: Option<FieldMap>,
    pub created_at: String,
    pub updated_at: String,
    pub deleted_at: Option<String>,
}

impl LocalRecord {
    pub fn is_deleted(&self) -> bool {
        self.deleted_at.is_some()
    }

    /// The record as `list --json` / `show --json` print it: one key per column.
    pub fn to_json(&self) -> Value {
        let f = &self.fields;
        let s = |k: &str| f.get(k).cloned().unwrap_or(Value::Null);
        let gps = f.get("gps").and_then(|v| Gps::from_value(v).ok());
        let mut out = json!({ "id": self.id.to_string(), "server_id": self.server_id });
        let o = out.as_object_mut().expect("json! object");
        match self.entity_type {
            EntityType::Household => {
                o.insert("name".into(), s("name"));
                o.insert("village".into(), s("village"));
            }
            EntityType::Visit => {
                o.insert("household_id".into(), s("household_id"));
                o.insert("officer_id".into(), s("officer_id"));
                o.insert("visited_at".into(), s("visited_at"));
            }
        }
        o.insert("gps_lat".into(), json!(gps.map(|g| g.lat)));
        o.insert("gps_lon".into(), json!(gps.map(|g| g.lon)));
        o.insert("notes".into(), s("notes"));
        if self.entity_type == EntityType::Visit {
            o.insert("answers".into(), json!(answers_of(f)));
        }
        o.insert("sync_state".into(), json!(self.sync_state));
        o.insert("version".into(), json!(self.version));
        o.insert("created_at".into(), json!(self.created_at));
        o.insert("updated_at".into(), json!(self.updated_at));
        o.insert("deleted_at".into(), json!(self.deleted_at));
        out
    }
}

/// Sync bookkeeping kept with the records, so it commits with them.
pub mod meta {
    pub const DEVICE_ID: &str = "device_id";
    pub const OFFICER_ID: &str = "officer_id";
    pub const SERVER_URL: &str = "server_url";
    pub const PULL_CURSOR: &str = "pull_cursor";
    pub const LAST_PUSH_AT: &str = "last_push_at";
    pub const LAST_PULL_AT: &str = "last_pull_at";
    pub const LAST_SYNC_AT: &str = "last_sync_at";
}

/// The local database.
pub struct Store {
    pub(crate) conn: Connection,
    path: PathBuf,
}

pub(crate) fn table(entity: EntityType) -> &'static str {
    match entity {
        EntityType::Household => "household",
        EntityType::Visit => "visit",
    }
}

fn unavailable(path: &Path, e: &rusqlite::Error) -> Error {
    let reason = explain_sqlite(e)
        .map(str::to_string)
        .unwrap_or_else(|| e.to_string());
    Error::StoreUnavailable {
        path: path.to_path_buf(),
        reason,
    }
}

impl Store {
    /// Opens (creating it owner-only if needed) and migrates the database at `path`.
    /// A database from a newer fieldsync is refused and left untouched.
    pub fn open(path: &Path) -> Result<Store> {
        if !path.exists() {
            create_owner_only(path)?;
        }
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| unavailable(path, &e))?;
        Store::init(conn, path)
    }

    /// An in-memory database, for tests and benchmarks.
    pub fn open_in_memory() -> Result<Store> {
        let conn = Connection::open_in_memory()?;
        Store::init(conn, Path::new(":memory:"))
    }

    fn init(conn: Connection, path: &Path) -> Result<Store> {
        let found: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|e| unavailable(path, &e))?;
        if found > SCHEMA_VERSION {
            return Err(Error::NewerSchema {
                path: path.to_path_buf(),
                found,
                known: SCHEMA_VERSION,
            });
        }
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        // WAL is a property of the file: switch only a new (or foreign) file, so that opening
        // an existing database writes nothing before it has been read successfully.
        let mode: String = conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .map_err(|e| unavailable(path, &e))?;
        if !mode.eq_ignore_ascii_case("wal") {
            conn.query_row("PRAGMA journal_mode = WAL", [], |_| Ok(()))
                .map_err(|e| unavailable(path, &e))?;
        }
        conn.execute_batch("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;")
            .map_err(|e| unavailable(path, &e))?;
        let mut store = Store {
            conn,
            path: path.to_path_buf(),
        };
        if found < SCHEMA_VERSION {
            store.migrate(found).map_err(|e| match e {
                Error::Sqlite(e) => unavailable(path, &e),
                other => other,
            })?;
        }
        Ok(store)
    }

    fn migrate(&mut self, from: i64) -> Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(from as usize) {
            tx.execute_batch(sql)?;
            if i == 0 {
                tx.execute(
                    "INSERT INTO sync_meta (key, value) VALUES (?1, ?2)",
                    params![meta::DEVICE_ID, Uuid::new_v4().to_string()],
                )?;
            }
        }
        tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
        tx.commit()?;
        Ok(())
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// This device's id (made once, when the database was created).
    pub fn device_id(&self) -> Result<Uuid> {
        let v = self
            .meta(meta::DEVICE_ID)?
            .ok_or_else(|| Error::Protocol("the database has no device id".into()))?;
        Uuid::parse_str(&v).map_err(|_| Error::Protocol(format!("bad device id {v:?}")))
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

    /// Binds the database to one officer: the first officer to record a visit or sync owns
    /// it, and a config naming another officer is refused rather than mixing their work.
    pub fn claim_officer(&self, officer: &str) -> Result<()> {
        match self.meta(meta::OFFICER_ID)? {
            Some(o) if o == officer => Ok(()),
            Some(o) => Err(Error::Config(format!(
                "the database {} belongs to officer {o:?}, but the config names {officer:?}; use another --db for this officer",
                self.path.display()
            ))),
            None => self.set_meta(meta::OFFICER_ID, officer),
        }
    }

    /// Finds the one record whose id starts with `prefix` (as git does with hashes).
    pub fn resolve_id(&self, entity: EntityType, prefix: &str) -> Result<Uuid> {
        let p = prefix.trim().to_ascii_lowercase();
        if p.is_empty() || !p.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
            return Err(Error::BadInput(format!(
                "{prefix:?} is not a {entity} id (ids are hexadecimal, e.g. 0193a1b2)"
            )));
        }
        let sql = format!(
            "SELECT id FROM {} WHERE id GLOB ?1 || '*' ORDER BY id LIMIT 6",
            table(entity)
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let ids: Vec<String> = stmt
            .query_map([&p], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        match ids.len() {
            0 => Err(Error::NotFound(format!(
                "no {entity} has an id starting with {prefix:?}; see `fieldsync {entity} list`"
            ))),
            1 => Uuid::parse_str(&ids[0])
                .map_err(|_| Error::Protocol(format!("bad id in the database: {}", ids[0]))),
            _ => Err(Error::Ambiguous {
                what: entity.as_str(),
                prefix: prefix.to_string(),
                candidates: ids,
            }),
        }
    }

    /// Reads one record, tombstones included.
    pub fn get(&self, entity: EntityType, id: Uuid) -> Result<Option<LocalRecord>> {
        get_record(&self.conn, entity, id)
    }

    /// Lists records, newest first by id. Tombstones are left out unless `deleted`.
    pub fn list(&self, entity: EntityType, filter: &ListFilter) -> Result<Vec<LocalRecord>> {
        let mut sql = format!(
            "SELECT {} FROM {} WHERE 1=1",
            columns(entity),
            table(entity)
        );
        let mut args: Vec<String> = Vec::new();
        if !filter.deleted {
            sql.push_str(" AND deleted_at IS NULL");
        }
        if let Some(state) = filter.state {
            args.push(state.as_str().to_string());
            sql.push_str(&format!(" AND sync_state = ?{}", args.len()));
        }
        if let (EntityType::Visit, Some(h)) = (entity, filter.household) {
            args.push(h.to_string());
            sql.push_str(&format!(" AND household_id = ?{}", args.len()));
        }
        sql.push_str(" ORDER BY id");
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map(rusqlite::params_from_iter(args.iter()), |r| {
            read_record(entity, r)
        })?;
        rows.collect::<rusqlite::Result<_>>().map_err(Error::from)
    }

    /// Records a new household or visit and queues its insert, in one transaction.
    pub fn add(&mut self, entity: EntityType, fields: FieldMap) -> Result<Uuid> {
        let tx = self.write_tx()?;
        let id = insert_local(&tx, entity, fields, &model::now_timestamp())?;
        tx.commit()?;
        Ok(id)
    }

    /// Applies `changes` to a record and queues an update carrying only the fields that
    /// really changed, in one transaction. Returns those fields (empty: nothing to do).
    pub fn edit(&mut self, entity: EntityType, id: Uuid, changes: FieldMap) -> Result<FieldMap> {
        let tx = self.write_tx()?;
        let rec = live_record(&tx, entity, id)?;
        let mut next = rec.fields.clone();
        apply_fields(&mut next, &changes);
        let changed = diff_fields(&rec.fields, &next);
        if changed.is_empty() {
            return Ok(changed);
        }
        validate_change(entity, Operation::Update, &changed)?;
        let now = model::now_timestamp();
        write_local_change(&tx, &rec, &next, None, &now)?;
        enqueue(&tx, &rec, Operation::Update, &changed, &now)?;
        tx.commit()?;
        Ok(changed)
    }

    /// Deletes a record (keeping it as a tombstone) and queues the delete, in one transaction.
    /// A household that still has visits is refused.
    pub fn delete(&mut self, entity: EntityType, id: Uuid) -> Result<()> {
        let tx = self.write_tx()?;
        let rec = live_record(&tx, entity, id)?;
        if entity == EntityType::Household {
            let visits: i64 = tx.query_row(
                "SELECT count(*) FROM visit WHERE household_id = ?1 AND deleted_at IS NULL",
                [id.to_string()],
                |r| r.get(0),
            )?;
            if visits > 0 {
                return Err(Error::BadInput(format!(
                    "household {id} still has {visits} visit(s); delete them first (`fieldsync visit list --household {id}`)"
                )));
            }
        }
        let now = model::now_timestamp();
        write_local_change(&tx, &rec, &rec.fields, Some(&now), &now)?;
        enqueue(&tx, &rec, Operation::Delete, &FieldMap::new(), &now)?;
        tx.commit()?;
        Ok(())
    }

    /// Records many new records and their queue entries in one transaction: all or nothing.
    /// `rows` carry their source line numbers, which errors name.
    pub fn import(&mut self, entity: EntityType, rows: Vec<(usize, FieldMap)>) -> Result<usize> {
        let tx = self.write_tx()?;
        let now = model::now_timestamp();
        let n = rows.len();
        for (line, fields) in rows {
            insert_local(&tx, entity, fields, &now).map_err(|e| match e {
                Error::Invalid(v) => Error::BadInput(format!("line {line}: {v}")),
                Error::BadInput(m) | Error::NotFound(m) => {
                    Error::BadInput(format!("line {line}: {m}"))
                }
                other => other,
            })?;
        }
        tx.commit()?;
        Ok(n)
    }

    /// Starts a write transaction. `IMMEDIATE` takes the write lock up front, so two
    /// fieldsync processes never fail halfway through a write.
    pub(crate) fn write_tx(&mut self) -> Result<Transaction<'_>> {
        Ok(self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?)
    }
}

/// Filters for [`Store::list`].
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub state: Option<SyncState>,
    pub household: Option<Uuid>,
    pub deleted: bool,
}

fn create_owner_only(path: &Path) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| Error::io(format!("cannot create the folder {}", dir.display()), e))?;
    }
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    match opts.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(Error::io(
            format!("cannot create the database {}", path.display()),
            e,
        )),
    }
}

pub(crate) fn set_meta(conn: &Connection, key: &str, value: &str) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO sync_meta (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )?
    .execute(params![key, value])?;
    Ok(())
}

pub(crate) fn columns(entity: EntityType) -> &'static str {
    match entity {
        EntityType::Household => {
            "id, server_id, sync_state, version, base, created_at, updated_at, deleted_at, \
             name, village, gps_lat, gps_lon, notes"
        }
        EntityType::Visit => {
            "id, server_id, sync_state, version, base, created_at, updated_at, deleted_at, \
             household_id, officer_id, visited_at, notes, gps_lat, gps_lon, answers"
        }
    }
}

fn conversion_err(col: usize, msg: String) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(col, rusqlite::types::Type::Text, msg.into())
}

/// Reads a row selected with [`columns`] into a record.
pub(crate) fn read_record(entity: EntityType, r: &Row<'_>) -> rusqlite::Result<LocalRecord> {
    let id: String = r.get(0)?;
    let id = Uuid::parse_str(&id).map_err(|e| conversion_err(0, e.to_string()))?;
    let state: String = r.get(2)?;
    let sync_state = state.parse().map_err(|e| conversion_err(2, e))?;
    let base: Option<String> = r.get(4)?;
    let base = base
        .map(|b| serde_json::from_str::<FieldMap>(&b))
        .transpose()
        .map_err(|e| conversion_err(4, e.to_string()))?;
    let mut fields = FieldMap::new();
    let mut put = |k: &str, v: Option<String>| {
        if let Some(v) = v {
            fields.insert(k.to_string(), Value::String(v));
        }
    };
    let gps_at;
    match entity {
        EntityType::Household => {
            put("name", r.get(8)?);
            put("village", r.get(9)?);
            put("notes", r.get(12)?);
            gps_at = 10;
        }
        EntityType::Visit => {
            put("household_id", r.get(8)?);
            put("officer_id", r.get(9)?);
            put("visited_at", r.get(10)?);
            put("notes", r.get(11)?);
            gps_at = 12;
            let answers: String = r.get(14)?;
            let answers: BTreeMap<String, String> =
                serde_json::from_str(&answers).map_err(|e| conversion_err(14, e.to_string()))?;
            for (k, v) in answers {
                fields.insert(format!("{ANSWER_PREFIX}{k}"), Value::String(v));
            }
        }
    }
    let lat: Option<f64> = r.get(gps_at)?;
    let lon: Option<f64> = r.get(gps_at + 1)?;
    if let (Some(lat), Some(lon)) = (lat, lon) {
        fields.insert("gps".into(), json!([lat, lon]));
    }
    Ok(LocalRecord {
        entity_type: entity,
        id,
        server_id: r.get(1)?,
        fields,
        sync_state,
        version: r.get(3)?,
        base,
        created_at: r.get(5)?,
        updated_at: r.get(6)?,
        deleted_at: r.get(7)?,
    })
}

pub(crate) fn get_record(
    conn: &Connection,
    entity: EntityType,
    id: Uuid,
) -> Result<Option<LocalRecord>> {
    let sql = format!(
        "SELECT {} FROM {} WHERE id = ?1",
        columns(entity),
        table(entity)
    );
    Ok(conn
        .prepare_cached(&sql)?
        .query_row([id.to_string()], |r| read_record(entity, r))
        .optional()?)
}

/// A record that exists and is not deleted; with advice when it is neither.
fn live_record(conn: &Connection, entity: EntityType, id: Uuid) -> Result<LocalRecord> {
    let rec = get_record(conn, entity, id)?
        .ok_or_else(|| Error::NotFound(format!("no {entity} with id {id}")))?;
    if rec.is_deleted() {
        return Err(Error::BadInput(format!("{entity} {id} is deleted")));
    }
    if rec.sync_state == SyncState::Conflict {
        return Err(Error::BadInput(format!(
            "{entity} {id} is in conflict with the server's copy; settle it first with `fieldsync resolve {id}`"
        )));
    }
    Ok(rec)
}

fn text<'a>(f: &'a FieldMap, k: &str) -> Option<&'a str> {
    f.get(k).and_then(Value::as_str)
}

/// Writes a record's columns (insert or replace), keeping `created_at` of an existing row.
pub(crate) fn put_row(conn: &Connection, rec: &LocalRecord) -> Result<()> {
    let f = &rec.fields;
    let gps = f.get("gps").and_then(|v| Gps::from_value(v).ok());
    let base = rec
        .base
        .as_ref()
        .map(serde_json::to_string)
        .transpose()
        .map_err(|e| Error::Protocol(e.to_string()))?;
    let common = params![
        rec.id.to_string(),
        rec.server_id,
        rec.sync_state.as_str(),
        rec.version,
        base,
        rec.created_at,
        rec.updated_at,
        rec.deleted_at,
    ];
    match rec.entity_type {
        EntityType::Household => {
            let mut stmt = conn.prepare_cached(
                "INSERT INTO household (id, server_id, sync_state, version, base, created_at,
                     updated_at, deleted_at, name, village, gps_lat, gps_lon, notes)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
                 ON CONFLICT (id) DO UPDATE SET server_id = excluded.server_id,
                     sync_state = excluded.sync_state, version = excluded.version,
                     base = excluded.base, updated_at = excluded.updated_at,
                     deleted_at = excluded.deleted_at, name = excluded.name,
                     village = excluded.village, gps_lat = excluded.gps_lat,
                     gps_lon = excluded.gps_lon, notes = excluded.notes",
            )?;
            let own = params![
                text(f, "name").unwrap_or(""),
                text(f, "village"),
                gps.map(|g| g.lat),
                gps.map(|g| g.lon),
                text(f, "notes"),
            ];
            stmt.execute(rusqlite::params_from_iter(common.iter().chain(own.iter())))?;
        }
        EntityType::Visit => {
            let mut stmt = conn.prepare_cached(
                "INSERT INTO visit (id, server_id, sync_state, version, base, created_at,
                     updated_at, deleted_at, household_id, officer_id, visited_at, notes,
                     gps_lat, gps_lon, answers)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)
                 ON CONFLICT (id) DO UPDATE SET server_id = excluded.server_id,
                     sync_state = excluded.sync_state, version = excluded.version,
                     base = excluded.base, updated_at = excluded.updated_at,
                     deleted_at = excluded.deleted_at, household_id = excluded.household_id,
                     officer_id = excluded.officer_id, visited_at = excluded.visited_at,
                     notes = excluded.notes, gps_lat = excluded.gps_lat,
                     gps_lon = excluded.gps_lon, answers = excluded.answers",
            )?;
            let answers = serde_json::to_string(&answers_of(f))
                .map_err(|e| Error::Protocol(e.to_string()))?;
            let own = params![
                text(f, "household_id").unwrap_or(""),
                text(f, "officer_id").unwrap_or(""),
                text(f, "visited_at").unwrap_or(""),
                text(f, "notes"),
                gps.map(|g| g.lat),
                gps.map(|g| g.lon),
                answers,
            ];
            stmt.execute(rusqlite::params_from_iter(common.iter().chain(own.iter())))?;
        }
    }
    Ok(())
}

/// Validates and records a new record with its queued insert (inside the caller's transaction).
fn insert_local(tx: &Connection, entity: EntityType, fields: FieldMap, now: &str) -> Result<Uuid> {
    let mut clean = FieldMap::new();
    apply_fields(&mut clean, &fields);
    validate_change(entity, Operation::Insert, &clean)?;
    if entity == EntityType::Visit {
        let hid = text(&clean, "household_id").unwrap_or_default();
        let alive: Option<bool> = tx
            .prepare_cached("SELECT deleted_at IS NULL FROM household WHERE id = ?1")?
            .query_row([hid], |r| r.get(0))
            .optional()?;
        match alive {
            None => {
                return Err(Error::NotFound(format!(
                    "no household with id {hid}; see `fieldsync household list`"
                )))
            }
            Some(false) => return Err(Error::BadInput(format!("household {hid} is deleted"))),
            Some(true) => {}
        }
    }
    let rec = LocalRecord {
        entity_type: entity,
        id: model::new_id(),
        server_id: None,
        fields: clean,
        sync_state: SyncState::Pending,
        version: None,
        base: None,
        created_at: now.to_string(),
        updated_at: now.to_string(),
        deleted_at: None,
    };
    put_row(tx, &rec)?;
    enqueue(tx, &rec, Operation::Insert, &rec.fields, now)?;
    Ok(rec.id)
}

/// Writes a local edit or delete: new fields, `pending`, fresh `updated_at`.
fn write_local_change(
    tx: &Connection,
    rec: &LocalRecord,
    fields: &FieldMap,
    deleted_at: Option<&str>,
    now: &str,
) -> Result<()> {
    let next = LocalRecord {
        fields: fields.clone(),
        sync_state: SyncState::Pending,
        updated_at: now.to_string(),
        deleted_at: deleted_at.map(str::to_string),
        ..rec.clone()
    };
    put_row(tx, &next)
}

/// Appends a queue entry for a local change. Entries of this record that the server
/// rejected come back to life with fresh op_ids: the edit is the officer's answer to the
/// rejection, and compaction folds them into one change.
pub(crate) fn enqueue(
    tx: &Connection,
    rec: &LocalRecord,
    op: Operation,
    payload: &FieldMap,
    now: &str,
) -> Result<()> {
    let payload = serde_json::to_string(payload).map_err(|e| Error::Protocol(e.to_string()))?;
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
                "UPDATE sync_queue SET status = 'pending', op_id = ?2, last_error = NULL WHERE id = ?1",
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fm(v: Value) -> FieldMap {
        serde_json::from_value(v).unwrap()
    }

    fn queue_len(s: &Store) -> i64 {
        s.conn
            .query_row("SELECT count(*) FROM sync_queue", [], |r| r.get(0))
            .unwrap()
    }

    #[test]
    fn a_failing_queue_insert_rolls_the_record_back() {
        let mut s = Store::open_in_memory().unwrap();
        s.add(EntityType::Household, fm(json!({"name": "kept"})))
            .unwrap();
        s.conn
            .execute_batch(
                "CREATE TRIGGER fail_enqueue BEFORE INSERT ON sync_queue
                 BEGIN SELECT RAISE(ABORT, 'queue is broken'); END;",
            )
            .unwrap();
        let err = s
            .add(EntityType::Household, fm(json!({"name": "lost"})))
            .unwrap_err();
        assert!(err.to_string().contains("queue is broken"), "{err}");
        let names: Vec<String> = s
            .list(EntityType::Household, &ListFilter::default())
            .unwrap()
            .into_iter()
            .map(|r| r.fields["name"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(names, vec!["kept"]);
        // Edits and deletes roll back the same way.
        let id = s
            .list(EntityType::Household, &ListFilter::default())
            .unwrap()[0]
            .id;
        assert!(s
            .edit(EntityType::Household, id, fm(json!({"name": "renamed"})))
            .is_err());
        assert!(s.delete(EntityType::Household, id).is_err());
        let rec = s.get(EntityType::Household, id).unwrap().unwrap();
        assert_eq!(rec.fields["name"], json!("kept"));
        assert!(rec.deleted_at.is_none());
        assert_eq!(queue_len(&s), 1);
    }

    #[test]
    fn edits_queue_only_what_changed() {
        let mut s = Store::open_in_memory().unwrap();
        let h = s
            .add(
                EntityType::Household,
                fm(json!({"name": "A", "village": "V"})),
            )
            .unwrap();
        let changed = s
            .edit(
                EntityType::Household,
                h,
                fm(json!({"name": "A", "village": "W"})),
            )
            .unwrap();
        assert_eq!(changed, fm(json!({"village": "W"})));
        let none = s
            .edit(EntityType::Household, h, fm(json!({"village": "W"})))
            .unwrap();
        assert!(none.is_empty());
        assert_eq!(queue_len(&s), 2);
    }

    #[test]
    fn prefixes_resolve_uniquely_or_list_candidates() {
        let mut s = Store::open_in_memory().unwrap();
        let a = s
            .add(EntityType::Household, fm(json!({"name": "A"})))
            .unwrap();
        let b = s
            .add(EntityType::Household, fm(json!({"name": "B"})))
            .unwrap();
        assert_eq!(
            s.resolve_id(EntityType::Household, &a.to_string()).unwrap(),
            a
        );
        let common: String = a
            .to_string()
            .chars()
            .zip(b.to_string().chars())
            .take_while(|(x, y)| x == y)
            .map(|(x, _)| x)
            .collect();
        if !common.is_empty() {
            assert!(matches!(
                s.resolve_id(EntityType::Household, &common),
                Err(Error::Ambiguous { .. })
            ));
        }
        assert!(matches!(
            s.resolve_id(EntityType::Household, "ffffffff"),
            Err(Error::NotFound(_))
        ));
        assert!(matches!(
            s.resolve_id(EntityType::Household, "zz"),
            Err(Error::BadInput(_))
        ));
    }

    #[test]
    fn a_household_with_visits_cannot_be_deleted() {
        let mut s = Store::open_in_memory().unwrap();
        let h = s
            .add(EntityType::Household, fm(json!({"name": "A"})))
            .unwrap();
        s.add(
            EntityType::Visit,
            fm(json!({"household_id": h.to_string(), "officer_id": "o", "visited_at": "2026-01-01T00:00:00Z"})),
        )
        .unwrap();
        assert!(s.delete(EntityType::Household, h).is_err());
    }
}
