//! Conflicts the server reported: reading them, and writing a settlement.
//!
//! A conflict keeps three copies: the *base* (the server's fields the officer's edit started
//! from, where known), *mine* (the local record) and *theirs* (the server's newest copy).
//! What a resolution writes is decided by the pure [`crate::merge::resolve`]; this module
//! writes it and queues the change for the server, in one transaction.
//!
//! This module must not decide resolutions, prompt or format conflicts for people.

use rusqlite::{params, OptionalExtension};
use serde_json::Value;
use uuid::Uuid;

use super::queue::enqueue;
use super::rows::{get_record, put_row, LocalRecord, SyncState};
use super::Store;
use crate::client::error::{Error, Result};
use crate::client::short_id::IdIndex;
use crate::merge::{self, Resolution, Sides, DELETED};
use crate::model::{self, EntityType, Operation};
use crate::protocol::Record;

/// One record in conflict.
#[derive(Debug, Clone)]
pub struct Conflict {
    pub entity_type: EntityType,
    pub id: Uuid,
    /// What this device sent: `update` or `delete`.
    pub my_operation: Operation,
    /// The colliding fields; `deleted` when one side deleted the record.
    pub fields: Vec<String>,
    pub mine: LocalRecord,
    pub theirs: Record,
    pub found_at: String,
}

impl Conflict {
    /// The server deleted the record; this device edited it.
    pub fn they_deleted(&self) -> bool {
        self.theirs.deleted
    }

    /// This device deleted the record; the server's copy was edited.
    pub fn i_deleted(&self) -> bool {
        self.my_operation == Operation::Delete
    }

    pub fn is_delete_conflict(&self) -> bool {
        self.they_deleted() || self.i_deleted()
    }

    /// The fields to decide one by one (the `deleted` marker left out).
    pub fn field_names(&self) -> Vec<&str> {
        self.fields
            .iter()
            .map(String::as_str)
            .filter(|f| *f != DELETED)
            .collect()
    }

    pub fn base_value(&self, field: &str) -> Option<&Value> {
        self.mine.base.as_ref().and_then(|b| b.get(field))
    }

    pub fn my_value(&self, field: &str) -> Option<&Value> {
        self.mine.fields.get(field)
    }

    pub fn their_value(&self, field: &str) -> Option<&Value> {
        self.theirs.fields.get(field)
    }

    /// The three copies, for [`crate::merge::resolve`].
    pub fn sides(&self) -> Sides<'_> {
        Sides {
            base: self.mine.base.as_ref(),
            mine: &self.mine.fields,
            i_deleted: self.i_deleted(),
            theirs: &self.theirs.fields,
            they_deleted: self.they_deleted(),
            colliding: &self.fields,
        }
    }
}

impl Store {
    /// Every record in conflict, oldest first.
    pub fn conflicts(&self) -> Result<Vec<Conflict>> {
        let mut stmt = self.conn.prepare(
            "SELECT entity_type, entity_id FROM conflict ORDER BY found_at, entity_type, entity_id",
        )?;
        let keys: Vec<(String, String)> = stmt
            .query_map([], |r| Ok((r.get("entity_type")?, r.get("entity_id")?)))?
            .collect::<rusqlite::Result<_>>()?;
        let mut out = Vec::new();
        for (e, id) in keys {
            let entity: EntityType = e
                .parse()
                .map_err(|err| Error::corrupt(format_args!("conflict entity type {e:?}"), err))?;
            let id = Uuid::parse_str(&id)
                .map_err(|e| Error::corrupt(format_args!("conflict id {id:?}"), e))?;
            if let Some(c) = self.conflict(entity, id)? {
                out.push(c);
            }
        }
        Ok(out)
    }

    /// The conflict on one record, if any.
    pub fn conflict(&self, entity: EntityType, id: Uuid) -> Result<Option<Conflict>> {
        let row: Option<(String, String, String, String)> = self
            .conn
            .query_row(
                "SELECT operation, fields, server_record, found_at FROM conflict
                 WHERE entity_type = ?1 AND entity_id = ?2",
                params![entity.as_str(), id.to_string()],
                |r| {
                    Ok((
                        r.get("operation")?,
                        r.get("fields")?,
                        r.get("server_record")?,
                        r.get("found_at")?,
                    ))
                },
            )
            .optional()?;
        let Some((op, fields, server, found_at)) = row else {
            return Ok(None);
        };
        let mine = get_record(&self.conn, entity, id)?.ok_or_else(|| {
            Error::CorruptStore(format!("conflict on {entity} {id} without a record"))
        })?;
        let bad = |e: serde_json::Error| Error::corrupt(format_args!("the conflict on {id}"), e);
        Ok(Some(Conflict {
            entity_type: entity,
            id,
            my_operation: op
                .parse()
                .map_err(|e| Error::corrupt(format_args!("the conflict on {id}"), e))?,
            fields: serde_json::from_str(&fields).map_err(bad)?,
            mine,
            theirs: serde_json::from_str(&server).map_err(bad)?,
            found_at,
        }))
    }

    /// Finds a conflict by the short id (or id prefix) of its record.
    pub fn find_conflict(&self, input: &str) -> Result<Conflict> {
        let conflicts = self.conflicts()?;
        let index = IdIndex::new(conflicts.iter().map(|c| (c.entity_type, c.id)));
        let id = index.resolve(None, "conflict", "fieldsync conflicts", input)?;
        conflicts
            .into_iter()
            .find(|c| c.id == id)
            .ok_or_else(|| Error::NotFound(format!("no conflict on {id}")))
    }

    /// Settles a conflict: writes the chosen record and queues what the server needs, in one
    /// transaction. Whether a change was queued (none when the record now equals the
    /// server's copy).
    pub fn resolve(&mut self, c: &Conflict, resolution: &Resolution) -> Result<bool> {
        let now = model::now_timestamp();
        let theirs = &c.theirs;
        // The local record now stands on the server's copy; a queued change is its difference.
        // Its times are the server's receive times, as a pulled copy's are (so every laptop
        // shows the same); a queued change below sets `updated_at` to this device's time.
        let on_server = LocalRecord {
            server_id: Some(theirs.server_id),
            version: Some(theirs.version),
            base: Some(theirs.fields.clone()),
            created_at: (theirs.audit.created_at.clone())
                .unwrap_or_else(|| c.mine.created_at.clone()),
            updated_at: (theirs.audit.updated_at.clone()).unwrap_or_else(|| now.clone()),
            audit: theirs.audit.clone(),
            ..c.mine.clone()
        };
        let tx = self.write_tx()?;
        // The row may have changed since the conflict was read (a pull refreshed "theirs").
        let still: Option<String> = tx
            .query_row(
                "SELECT server_record FROM conflict WHERE entity_type = ?1 AND entity_id = ?2",
                params![c.entity_type.as_str(), c.id.to_string()],
                |r| r.get("server_record"),
            )
            .optional()?;
        match still {
            None => return Err(Error::NotFound(format!("{} {} is no longer in conflict", c.entity_type, c.id))),
            Some(s) if serde_json::from_str::<Record>(&s).ok().as_ref() != Some(theirs) => {
                return Err(Error::Busy(format!(
                    "the server's copy of {} {} changed while you were deciding; run `fieldsync resolve {}` again",
                    c.entity_type, c.id, c.id
                )))
            }
            Some(_) => {}
        }
        let settled =
            merge::resolve(&c.sides(), resolution).map_err(|e| Error::BadInput(e.to_string()))?;
        if settled.deleted && c.entity_type == EntityType::Household {
            // The orphan rule: never a deleted household under live visits.
            let visits = super::records::live_visits(&tx, c.id)?;
            if visits > 0 {
                return Err(Error::HasVisits {
                    household: c.id,
                    visits,
                });
            }
        }
        // A delete kept from the server has the server's time of it, as a pulled one has.
        let deleted_at = settled.deleted.then(|| {
            (c.mine.deleted_at.clone())
                .or_else(|| theirs.deleted.then(|| on_server.updated_at.clone()))
                .unwrap_or_else(|| now.clone())
        });
        let mut rec = LocalRecord {
            fields: settled.fields,
            deleted_at,
            sync_state: SyncState::Synced,
            ..on_server
        };
        if let Some((op, payload)) = &settled.send {
            model::validate_change(c.entity_type, *op, payload)?;
            rec.sync_state = SyncState::Pending;
            rec.updated_at = now.clone();
        }
        put_row(&tx, &rec)?;
        if let Some((op, payload)) = &settled.send {
            enqueue(&tx, &rec, *op, payload, &now)?;
        }
        tx.execute(
            "DELETE FROM conflict WHERE entity_type = ?1 AND entity_id = ?2",
            params![c.entity_type.as_str(), c.id.to_string()],
        )?;
        tx.commit()?;
        Ok(settled.send.is_some())
    }
}
