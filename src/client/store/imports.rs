//! Imports that never duplicate: rows from a file are recorded with their queue entries in
//! one transaction, and each row's fingerprint (see `client::import`) is kept, so a row this
//! device has imported before is skipped unless the officer asks for it again.
//!
//! This module must not parse files (that is `client::import`) or talk to the server.

use rusqlite::{params, Connection, OptionalExtension};

use super::records::insert_local;
use super::Store;
use crate::client::error::{Error, Result};
use crate::client::import::Row;
use crate::client::short_id::IdIndex;
use crate::model::{self, EntityType, FieldMap};

/// What an import did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ImportOutcome {
    /// Rows recorded as new records.
    pub imported: usize,
    /// Rows skipped because this device imported them before.
    pub skipped: usize,
}

impl Store {
    /// Records the rows not imported before (every row when `again`) with their queue
    /// entries, in one transaction: all or nothing. Errors name the row's line.
    pub fn import(
        &mut self,
        entity: EntityType,
        rows: Vec<Row>,
        again: bool,
    ) -> Result<ImportOutcome> {
        // A visit's household may be given by the short id (or an id prefix) `list` shows.
        let index = match entity {
            EntityType::Visit if rows.iter().any(|r| short_household(&r.fields).is_some()) => {
                Some(self.id_index()?)
            }
            _ => None,
        };
        let tx = self.write_tx()?;
        let now = model::now_timestamp();
        let mut outcome = ImportOutcome::default();
        for mut row in rows {
            if !again && imported_before(&tx, entity, &row.fingerprint)? {
                outcome.skipped += 1;
                continue;
            }
            let line = row.line;
            let inserted = full_household(&row.fields, index.as_ref()).and_then(|full| {
                if let Some(id) = full {
                    row.fields
                        .insert("household_id".into(), id.to_string().into());
                }
                insert_local(&tx, entity, row.fields, &now)
            });
            let id = inserted.map_err(|e| match e {
                Error::Invalid(v) => Error::BadInput(format!("line {line}: {v}")),
                Error::BadInput(m) | Error::NotFound(m) => {
                    Error::BadInput(format!("line {line}: {m}"))
                }
                ambiguous @ Error::Ambiguous { .. } => {
                    Error::BadInput(format!("line {line}: {ambiguous}"))
                }
                other => other,
            })?;
            // Imported again on purpose: the first record keeps the fingerprint.
            tx.prepare_cached(
                "INSERT OR IGNORE INTO import_fingerprint (entity_type, fingerprint, entity_id, imported_at)
                 VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![entity.as_str(), row.fingerprint, id.to_string(), now])?;
            outcome.imported += 1;
        }
        tx.commit()?;
        Ok(outcome)
    }
}

/// A visit row's `household_id` when it is not a full id (a short id or a prefix).
fn short_household(f: &FieldMap) -> Option<&str> {
    f.get("household_id")
        .and_then(|v| v.as_str())
        .filter(|s| uuid::Uuid::parse_str(s).is_err())
}

/// The full id of a row's household given by a short id; `None` when it is given in full.
fn full_household(f: &FieldMap, index: Option<&IdIndex>) -> Result<Option<uuid::Uuid>> {
    match (short_household(f), index) {
        (Some(short), Some(ids)) => ids
            .resolve(
                Some(EntityType::Household),
                "household",
                "fieldsync household list",
                short,
            )
            .map(Some),
        _ => Ok(None),
    }
}

fn imported_before(conn: &Connection, entity: EntityType, fingerprint: &str) -> Result<bool> {
    Ok(conn
        .prepare_cached(
            "SELECT 1 FROM import_fingerprint WHERE entity_type = ?1 AND fingerprint = ?2",
        )?
        .query_row(params![entity.as_str(), fingerprint], |_| Ok(()))
        .optional()?
        .is_some())
}
