//! Server exports: which records an `admin export` reads and in what order, streamed page by
//! page so memory stays bounded however many records there are.
//!
//! An export is fixed when it starts: it reads versions in `(since, upto]`, where `upto` is
//! the last version handed out at that moment, so the answer-key pass and the record pass
//! see the same set, and the next incremental export starts at `--since upto` without
//! missing or repeating a change (a record changed meanwhile gets a version above `upto`
//! and comes in the next export). It must not format records (see [`crate::export`]) or
//! print.

use std::sync::Arc;

use super::error::ServiceError;
use super::store::{validate_team, ExportFilter, Store, StoredRecord};
use crate::export::PAGE_SIZE;
use crate::model::EntityType;

/// What to export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportQuery {
    pub entity: EntityType,
    pub team: Option<String>,
    /// Only records changed after this version (0: everything).
    pub since: i64,
    pub include_deleted: bool,
}

/// A running export: its answer keys, its upper version, and the pages still to read.
pub struct Export {
    store: Arc<dyn Store>,
    filter: ExportFilter,
    answer_keys: Vec<String>,
    done: bool,
}

impl Export {
    /// Fixes the export's version range and reads its answer keys (one query).
    pub(super) async fn start(
        store: Arc<dyn Store>,
        query: ExportQuery,
    ) -> Result<Export, ServiceError> {
        if let Some(team) = &query.team {
            validate_team(team)?;
        }
        let since = query.since.max(0);
        let upto = store.current_version().await?.max(since);
        let filter = ExportFilter {
            entity: query.entity,
            team: query.team,
            after: since,
            upto,
            include_deleted: query.include_deleted,
        };
        let answer_keys = match query.entity {
            EntityType::Visit => store.export_answer_keys(&filter).await?,
            EntityType::Household => Vec::new(),
        };
        Ok(Export {
            store,
            filter,
            answer_keys,
            done: false,
        })
    }

    /// Every answer key of the exported records, sorted (empty for households).
    pub fn answer_keys(&self) -> &[String] {
        &self.answer_keys
    }

    /// The last version this export covers: the next one starts with `--since` this.
    pub fn upto(&self) -> i64 {
        self.filter.upto
    }

    /// The next page of records by version, or `None` when all were read.
    pub async fn next_page(&mut self) -> Result<Option<Vec<StoredRecord>>, ServiceError> {
        if self.done {
            return Ok(None);
        }
        let page = self.store.export_page(&self.filter, PAGE_SIZE).await?;
        match page.last() {
            Some(last) if page.len() == PAGE_SIZE as usize => self.filter.after = last.version,
            _ => self.done = true,
        }
        if page.is_empty() {
            return Ok(None);
        }
        Ok(Some(page))
    }
}
