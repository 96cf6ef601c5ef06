//! Household and visit records as the officer writes them: look-up by id prefix, listing,
//! and add, edit, delete and import — each one transaction with its sync-queue entry.
//!
//! `visit.household_id` is deliberately not a SQL foreign key: pulled pages are ordered by
//! server version, so a visit can arrive a page before its household's latest version. Local
//! writes check that the household exists in [`Store::add`] instead.
//!
//! This module must not talk to the server or apply what it answered (see `apply.rs`).

use rusqlite::{Connection, OptionalExtension};
use uuid::Uuid;

use super::queue::enqueue;
use super::rows::{columns, get_record, put_row, read_record, table, text, LocalRecord, SyncState};
use super::Store;
use crate::client::error::{Error, Result};
use crate::client::short_id::IdIndex;
use crate::model::{
    self, apply_fields, canonicalize_fields, diff_fields, validate_change, EntityType, FieldMap,
    Operation,
};

impl Store {
    /// Finds the one record of `entity` that `input` names: a short id (or a prefix of
    /// one), or a prefix of its full id with or without hyphens (see [`crate::client::short_id`]).
    pub fn resolve_id(&self, entity: EntityType, input: &str) -> Result<Uuid> {
        let listing = format!("fieldsync {entity} list");
        self.id_index()?
            .resolve(Some(entity), entity.as_str(), &listing, input)
    }

    /// The short ids of every record on this laptop (households and visits, tombstones too).
    pub fn id_index(&self) -> Result<IdIndex> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT 'household', id FROM household UNION ALL SELECT 'visit', id FROM visit",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        let mut ids = Vec::new();
        for row in rows {
            let (entity, id) = row?;
            let entity = if entity == "household" {
                EntityType::Household
            } else {
                EntityType::Visit
            };
            let id =
                Uuid::parse_str(&id).map_err(|e| Error::corrupt(format_args!("id {id:?}"), e))?;
            ids.push((entity, id));
        }
        Ok(IdIndex::new(ids))
    }

    /// How many live visits on this laptop refer to `household` (the orphan rule,
    /// [`crate::orphans`]).
    pub fn live_visits(&self, household: Uuid) -> Result<i64> {
        live_visits(&self.conn, household)
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
        canonicalize_fields(&mut next);
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
            let visits = live_visits(&tx, id)?;
            if visits > 0 {
                return Err(Error::HasVisits {
                    household: id,
                    visits,
                });
            }
        }
        let now = model::now_timestamp();
        write_local_change(&tx, &rec, &rec.fields, Some(&now), &now)?;
        enqueue(&tx, &rec, Operation::Delete, &FieldMap::new(), &now)?;
        tx.commit()?;
        Ok(())
    }
}

/// Filters for [`Store::list`].
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub state: Option<SyncState>,
    pub household: Option<Uuid>,
    pub deleted: bool,
}

/// Live visits referring to `household`.
pub(super) fn live_visits(conn: &Connection, household: Uuid) -> Result<i64> {
    Ok(conn.query_row(
        "SELECT count(*) FROM visit WHERE household_id = ?1 AND deleted_at IS NULL",
        [household.to_string()],
        |r| r.get(0),
    )?)
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

/// Validates and records a new record with its queued insert (inside the caller's transaction).
pub(super) fn insert_local(
    tx: &Connection,
    entity: EntityType,
    fields: FieldMap,
    now: &str,
) -> Result<Uuid> {
    let mut clean = FieldMap::new();
    apply_fields(&mut clean, &fields);
    canonicalize_fields(&mut clean);
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
        audit: Default::default(),
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

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
        let without_hyphens = a.simple().to_string();
        assert_eq!(
            s.resolve_id(EntityType::Household, &without_hyphens)
                .unwrap(),
            a
        );
        assert!(matches!(
            s.resolve_id(EntityType::Household, "ffffffff"),
            Err(Error::NotFound(_))
        ));
        assert!(matches!(
            s.resolve_id(EntityType::Household, "zz"),
            Err(Error::NotFound(_))
        ));
        assert!(matches!(
            s.resolve_id(EntityType::Household, "i!"),
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
