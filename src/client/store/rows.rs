//! Records as rows: the household and visit tables' columns, and the conversion between a
//! row and a [`LocalRecord`] (whose fields are a flat [`FieldMap`], as on the wire and in the
//! queue). Rows are read by column name.
//!
//! This module must not decide anything: no validation, no queueing, no sync rules.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::Serialize;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::client::error::{Error, Result};
use crate::model::{answers_of, EntityType, FieldMap, Gps, ANSWER_PREFIX, FORM_VERSION};
use crate::protocol::Audit;

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
    /// Local times until the server's arrive: a pulled copy takes the server's receive times
    /// (`audit.created_at` / `updated_at`), so every laptop shows the same; a local edit sets
    /// `updated_at` to the device's time until the server's arrives (a pull, or the stamp of
    /// its accepted push: no echo, issue 14).
    pub created_at: String,
    pub updated_at: String,
    pub deleted_at: Option<String>,
    /// Who created and last changed the record and each field, as the server stamped them
    /// (empty before the record's first pull or stamped push).
    pub audit: Audit,
}

impl LocalRecord {
    pub fn is_deleted(&self) -> bool {
        self.deleted_at.is_some()
    }
}

/// The table that holds `entity`.
pub(super) fn table(entity: EntityType) -> &'static str {
    match entity {
        EntityType::Household => "household",
        EntityType::Visit => "visit",
    }
}

/// The columns [`read_record`] reads.
pub(super) fn columns(entity: EntityType) -> &'static str {
    match entity {
        EntityType::Household => {
            "id, server_id, sync_state, version, base, created_at, updated_at, deleted_at, \
             audit, name, village, gps_lat, gps_lon, notes"
        }
        EntityType::Visit => {
            "id, server_id, sync_state, version, base, created_at, updated_at, deleted_at, \
             audit, household_id, officer_id, visited_at, notes, gps_lat, gps_lon, answers, \
             form_version"
        }
    }
}

/// A column whose text does not parse: the row is damaged.
fn conversion_err(column: &str, msg: impl fmt::Display) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(
        0,
        rusqlite::types::Type::Text,
        format!("column {column}: {msg}").into(),
    )
}

/// Reads a row selected with [`columns`] into a record, by column name.
pub(super) fn read_record(entity: EntityType, r: &Row<'_>) -> rusqlite::Result<LocalRecord> {
    let id: String = r.get("id")?;
    let id = Uuid::parse_str(&id).map_err(|e| conversion_err("id", e))?;
    let state: String = r.get("sync_state")?;
    let sync_state = state.parse().map_err(|e| conversion_err("sync_state", e))?;
    let base: Option<String> = r.get("base")?;
    let base = base
        .map(|b| serde_json::from_str::<FieldMap>(&b))
        .transpose()
        .map_err(|e| conversion_err("base", e))?;
    let mut fields = FieldMap::new();
    let texts: &[&str] = match entity {
        EntityType::Household => &["name", "village", "notes"],
        EntityType::Visit => &["household_id", "officer_id", "visited_at", "notes"],
    };
    for &column in texts {
        if let Some(v) = r.get::<_, Option<String>>(column)? {
            fields.insert(column.to_string(), Value::String(v));
        }
    }
    if entity == EntityType::Visit {
        let answers: String = r.get("answers")?;
        let answers: BTreeMap<String, String> =
            serde_json::from_str(&answers).map_err(|e| conversion_err("answers", e))?;
        for (k, v) in answers {
            fields.insert(format!("{ANSWER_PREFIX}{k}"), Value::String(v));
        }
        if let Some(v) = r.get::<_, Option<i64>>(FORM_VERSION)? {
            fields.insert(FORM_VERSION.into(), json!(v));
        }
    }
    let audit: Option<String> = r.get("audit")?;
    let audit = audit
        .map(|a| serde_json::from_str::<Audit>(&a))
        .transpose()
        .map_err(|e| conversion_err("audit", e))?
        .unwrap_or_default();
    let lat: Option<f64> = r.get("gps_lat")?;
    let lon: Option<f64> = r.get("gps_lon")?;
    if let (Some(lat), Some(lon)) = (lat, lon) {
        fields.insert("gps".into(), json!([lat, lon]));
    }
    Ok(LocalRecord {
        entity_type: entity,
        id,
        server_id: r.get("server_id")?,
        fields,
        sync_state,
        version: r.get("version")?,
        base,
        created_at: r.get("created_at")?,
        updated_at: r.get("updated_at")?,
        deleted_at: r.get("deleted_at")?,
        audit,
    })
}

pub(super) fn get_record(
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

pub(super) fn text<'a>(f: &'a FieldMap, k: &str) -> Option<&'a str> {
    f.get(k).and_then(Value::as_str)
}

/// A record's columns as [`write_row`] writes them, borrowed (a pulled record is written
/// straight from the page, without copying its fields and audit into a [`LocalRecord`]).
pub(super) struct RowRef<'a> {
    pub entity_type: EntityType,
    pub id: Uuid,
    pub server_id: Option<i64>,
    pub fields: &'a FieldMap,
    pub sync_state: SyncState,
    pub version: Option<i64>,
    pub base: Option<&'a FieldMap>,
    pub created_at: &'a str,
    pub updated_at: &'a str,
    pub deleted_at: Option<&'a str>,
    pub audit: &'a Audit,
}

impl LocalRecord {
    fn as_row(&self) -> RowRef<'_> {
        RowRef {
            entity_type: self.entity_type,
            id: self.id,
            server_id: self.server_id,
            fields: &self.fields,
            sync_state: self.sync_state,
            version: self.version,
            base: self.base.as_ref(),
            created_at: &self.created_at,
            updated_at: &self.updated_at,
            deleted_at: self.deleted_at.as_deref(),
            audit: &self.audit,
        }
    }
}

/// Writes a record's columns (insert or replace).
pub(super) fn put_row(conn: &Connection, rec: &LocalRecord) -> Result<()> {
    write_row(conn, &rec.as_row())
}

/// Writes a record's columns (insert or replace).
pub(super) fn write_row(conn: &Connection, rec: &RowRef<'_>) -> Result<()> {
    let f = rec.fields;
    let gps = f.get("gps").and_then(|v| Gps::from_value(v).ok());
    let base = rec
        .base
        .map(serde_json::to_string)
        .transpose()
        .map_err(|e| Error::corrupt(format_args!("the base of {}", rec.id), e))?;
    let audit = serde_json::to_string(rec.audit)
        .map_err(|e| Error::corrupt(format_args!("the audit of {}", rec.id), e))?;
    let common = params![
        rec.id.to_string(),
        rec.server_id,
        rec.sync_state.as_str(),
        rec.version,
        base,
        rec.created_at,
        rec.updated_at,
        rec.deleted_at,
        audit,
    ];
    match rec.entity_type {
        EntityType::Household => {
            let mut stmt = conn.prepare_cached(
                "INSERT INTO household (id, server_id, sync_state, version, base, created_at,
                     updated_at, deleted_at, audit, name, village, gps_lat, gps_lon, notes)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)
                 ON CONFLICT (id) DO UPDATE SET server_id = excluded.server_id,
                     sync_state = excluded.sync_state, version = excluded.version,
                     base = excluded.base, created_at = excluded.created_at,
                     updated_at = excluded.updated_at, audit = excluded.audit,
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
                     updated_at, deleted_at, audit, household_id, officer_id, visited_at, notes,
                     gps_lat, gps_lon, answers, form_version)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)
                 ON CONFLICT (id) DO UPDATE SET server_id = excluded.server_id,
                     sync_state = excluded.sync_state, version = excluded.version,
                     base = excluded.base, created_at = excluded.created_at,
                     updated_at = excluded.updated_at, audit = excluded.audit,
                     deleted_at = excluded.deleted_at, household_id = excluded.household_id,
                     officer_id = excluded.officer_id, visited_at = excluded.visited_at,
                     notes = excluded.notes, gps_lat = excluded.gps_lat,
                     gps_lon = excluded.gps_lon, answers = excluded.answers,
                     form_version = excluded.form_version",
            )?;
            let answers = serde_json::to_string(&answers_of(f))
                .map_err(|e| Error::corrupt(format_args!("the answers of {}", rec.id), e))?;
            let own = params![
                text(f, "household_id").unwrap_or(""),
                text(f, "officer_id").unwrap_or(""),
                text(f, "visited_at").unwrap_or(""),
                text(f, "notes"),
                gps.map(|g| g.lat),
                gps.map(|g| g.lon),
                answers,
                f.get(FORM_VERSION).and_then(Value::as_i64),
            ];
            stmt.execute(rusqlite::params_from_iter(common.iter().chain(own.iter())))?;
        }
    }
    Ok(())
}
