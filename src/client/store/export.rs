//! Reading the laptop's records for `fieldsync export`: page by page in id order, and the
//! distinct answer keys in one query, so an export never holds every record in memory.
//!
//! This module only reads; it must not format records (see [`crate::export`]).

use uuid::Uuid;

use super::rows::{columns, read_record, table, LocalRecord};
use super::Store;
use crate::client::error::{Error, Result};
use crate::model::EntityType;

impl Store {
    /// The distinct answer keys of the visits (tombstones too if `deleted`), sorted.
    pub fn export_answer_keys(&self, deleted: bool) -> Result<Vec<String>> {
        let mut stmt = self.conn.prepare(
            "SELECT DISTINCT j.key FROM visit, json_each(visit.answers) AS j \
             WHERE ?1 OR visit.deleted_at IS NULL ORDER BY 1",
        )?;
        let rows = stmt.query_map([deleted], |r| r.get::<_, String>(0))?;
        rows.collect::<rusqlite::Result<_>>().map_err(Error::from)
    }

    /// At most `limit` records after the id `after` (from the first when `None`), by id;
    /// tombstones only if `deleted`.
    pub fn export_page(
        &self,
        entity: EntityType,
        after: Option<Uuid>,
        deleted: bool,
        limit: u32,
    ) -> Result<Vec<LocalRecord>> {
        let sql = format!(
            "SELECT {} FROM {} WHERE id > ?1 AND (?2 OR deleted_at IS NULL) ORDER BY id LIMIT ?3",
            columns(entity),
            table(entity)
        );
        let after = after.map(|u| u.to_string()).unwrap_or_default();
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(rusqlite::params![after, deleted, limit], |r| {
            read_record(entity, r)
        })?;
        rows.collect::<rusqlite::Result<_>>().map_err(Error::from)
    }
}
