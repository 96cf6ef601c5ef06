//! The sync service: every rule of `/v1` over a [`Store`], with no HTTP in sight.
//!
//! It owns authentication by token, the push rules (batch size, then the pure planner
//! [`push::plan`] run inside the store's write transaction), the pull rules (page size,
//! cursors, team scope: an officer who moved team starts over; a cursor below the history
//! floor must re-sync) and the administrator's operations (officers, tokens, purging). It
//! must not parse requests, pick HTTP statuses or print: `server::http` and `cli::admin` do.
//!
//! It is usable in-process, e.g. by an in-memory client `Remote` in tests:
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use fieldsync::protocol::PushRequest;
//! use fieldsync::server::service::Service;
//!
//! let service = Service::temporary().await?; // a SQLite store in a temporary folder
//! let token = service.add_officer("amina", "north").await?;
//! let amina = service.authenticate(&token).await?;
//! let pushed = service
//!     .push(&amina, PushRequest { device_id: uuid::Uuid::new_v4(), changes: vec![] })
//!     .await?;
//! let page = service.pull(&amina, None, None).await?;
//! let next = service.pull(&amina, Some(&page.next_cursor), Some(100)).await?;
//! # let _ = (pushed, next); Ok(()) }
//! ```

use std::sync::Arc;

use super::cursor::{decode_cursor, encode_cursor};
use super::error::{ServiceError, StoreError};
use super::form_rules::TeamForms;
use super::push;
use super::store::{self, FormRow, Officer, Store};
use super::tokens::{new_token, token_hash};
use crate::forms::Form;
use crate::protocol::{
    KnownForms, PullResponse, PushRequest, PushResponse, DEFAULT_PULL_LIMIT, MAX_PULL_LIMIT,
    MAX_PUSH_CHANGES,
};

/// The longest token the service looks up; anything longer is unknown without a lookup.
const MAX_TOKEN_LEN: usize = 256;

/// The sync rules over one store. Cheap to clone (the store is shared).
#[derive(Clone)]
pub struct Service {
    store: Arc<dyn Store>,
    /// Authenticates cursors; read once from the store (it never changes).
    cursor_secret: Arc<Vec<u8>>,
    /// Keeps the folder of a [`Service::temporary`] store alive.
    _temp: Option<Arc<tempfile::TempDir>>,
}

impl Service {
    /// The service over an open store.
    pub async fn new(store: Arc<dyn Store>) -> Result<Service, StoreError> {
        let cursor_secret = Arc::new(store.cursor_secret().await?);
        Ok(Service {
            store,
            cursor_secret,
            _temp: None,
        })
    }

    /// Opens (creating and migrating) the store named by `database`, a SQLite path or a
    /// `postgres://` URL, and the service over it.
    pub async fn open(database: &str) -> Result<Service, StoreError> {
        Service::new(store::open(database).await?).await
    }

    /// A service over a fresh SQLite store in a temporary folder, removed when the last
    /// clone of the service is dropped.
    pub async fn temporary() -> Result<Service, StoreError> {
        let dir = tempfile::Builder::new()
            .prefix("fieldsync-service-")
            .tempdir()
            .map_err(|source| StoreError::Io {
                context: "create a temporary folder for the store".into(),
                source,
            })?;
        let path = dir.path().join("server.sqlite3");
        let store = store::sqlite::SqliteStore::open(&path).await?;
        let mut service = Service::new(Arc::new(store)).await?;
        service._temp = Some(Arc::new(dir));
        Ok(service)
    }

    /// `"sqlite"` or `"postgres"`.
    pub fn store_kind(&self) -> &'static str {
        self.store.kind()
    }

    /// The officer holding `token`. Never cached: a revoked token stops working at once.
    pub async fn authenticate(&self, token: &str) -> Result<Officer, ServiceError> {
        let unknown = || ServiceError::Unauthorized("unknown token".into());
        if token.is_empty() || token.len() > MAX_TOKEN_LEN {
            return Err(unknown());
        }
        match self.store.officer_by_token_hash(&token_hash(token)).await? {
            Some(o) if !o.revoked => Ok(o),
            Some(_) => Err(ServiceError::Unauthorized(
                "this token has been revoked".into(),
            )),
            None => Err(unknown()),
        }
    }

    /// Applies a batch for `officer` in one transaction: one result per change, in order.
    pub async fn push(
        &self,
        officer: &Officer,
        req: PushRequest,
    ) -> Result<PushResponse, ServiceError> {
        let count = req.changes.len();
        if count > MAX_PUSH_CHANGES {
            return Err(ServiceError::BatchTooLarge { count });
        }
        if count == 0 {
            return Ok(PushResponse {
                results: Vec::new(),
            });
        }
        let keys = push::needed(&req.changes);
        let forms = self.push_forms(&officer.team, &req).await?;
        let officer = officer.clone();
        let results = store::write_with(self.store.as_ref(), keys, move |snap| {
            push::plan_with_forms(&officer, req.device_id, &req.changes, snap, &forms)
        })
        .await?;
        Ok(PushResponse { results })
    }

    /// The team's published forms when a push holds visit inserts or updates (which may name
    /// a form version); none otherwise. Published versions never change, so they may be read
    /// before the write transaction.
    async fn push_forms(&self, team: &str, req: &PushRequest) -> Result<TeamForms, ServiceError> {
        let visits = req.changes.iter().any(|c| {
            c.entity_type == crate::model::EntityType::Visit
                && c.operation != crate::model::Operation::Delete
        });
        if !visits {
            return Ok(TeamForms::new());
        }
        let rows = self.store.forms(Some(team), 0).await?;
        Ok(rows
            .into_iter()
            .map(|r| (r.form.version, r.form.form))
            .collect())
    }

    /// The next page of `officer`'s team after `cursor` (from the start when `None` or
    /// empty), at most `limit` records (default [`DEFAULT_PULL_LIMIT`]).
    pub async fn pull(
        &self,
        officer: &Officer,
        cursor: Option<&str>,
        limit: Option<u32>,
    ) -> Result<PullResponse, ServiceError> {
        self.pull_with_forms(officer, cursor, limit, None).await
    }

    /// [`Service::pull`], plus the team's form versions newer than `known` (issue 15) when the
    /// client says what it holds.
    pub async fn pull_with_forms(
        &self,
        officer: &Officer,
        cursor: Option<&str>,
        limit: Option<u32>,
        known: Option<&KnownForms>,
    ) -> Result<PullResponse, ServiceError> {
        let limit = limit.unwrap_or(DEFAULT_PULL_LIMIT);
        if !(1..=MAX_PULL_LIMIT).contains(&limit) {
            return Err(ServiceError::InvalidLimit(limit.to_string()));
        }
        let after = self.resume_after(officer, cursor).await?;
        let page = self.store.pull(&officer.team, after, limit).await?;
        let last = page.records.last().map_or(after, |r| r.version);
        Ok(PullResponse {
            next_cursor: encode_cursor(&self.cursor_secret, &officer.id, &officer.team, last),
            has_more: page.has_more,
            records: page.records,
            forms: match known {
                Some(k) => self.new_forms(&officer.team, k).await?,
                None => None,
            },
        })
    }

    /// The versions of `team`'s form the device does not hold, if any.
    async fn new_forms(
        &self,
        team: &str,
        known: &KnownForms,
    ) -> Result<Option<crate::protocol::TeamForms>, ServiceError> {
        let rows = self
            .store
            .forms(Some(team), known.needs_after(team))
            .await?;
        if rows.is_empty() {
            return Ok(None);
        }
        Ok(Some(crate::protocol::TeamForms {
            team: team.to_string(),
            versions: rows.into_iter().map(|r| r.form).collect(),
        }))
    }

    /// The version a pull resumes after: the cursor's, 0 when the officer moved team (so the
    /// new team's records all arrive), or a refusal when the cursor is forged or points below
    /// the history floor.
    async fn resume_after(
        &self,
        officer: &Officer,
        cursor: Option<&str>,
    ) -> Result<i64, ServiceError> {
        let Some(c) = cursor.filter(|c| !c.is_empty()) else {
            return Ok(0);
        };
        let cur = decode_cursor(&self.cursor_secret, &officer.id, c)
            .ok_or(ServiceError::InvalidCursor)?;
        if cur.team != officer.team {
            return Ok(0);
        }
        let floor = self.store.history_floor().await?;
        if cur.version > 0 && cur.version < floor {
            return Err(ServiceError::ResyncRequired);
        }
        Ok(cur.version)
    }

    /// Adds an officer to `team` and returns their new token (only its hash is stored).
    pub async fn add_officer(&self, id: &str, team: &str) -> Result<String, ServiceError> {
        let token = new_token();
        self.store
            .add_officer(id, team, &token_hash(&token))
            .await?;
        Ok(token)
    }

    /// Every officer, by id.
    pub async fn list_officers(&self) -> Result<Vec<Officer>, ServiceError> {
        Ok(self.store.list_officers().await?)
    }

    /// Revokes an officer's token at once.
    pub async fn revoke_officer(&self, id: &str) -> Result<(), ServiceError> {
        Ok(self.store.revoke_officer(id).await?)
    }

    /// Moves an officer to another team; their next pull starts over (see [`Service::pull`]).
    pub async fn move_officer(&self, id: &str, team: &str) -> Result<(), ServiceError> {
        Ok(self.store.move_officer(id, team).await?)
    }

    /// Deletes tombstones below version `before` and raises the history floor, so cursors
    /// older than it must re-sync; the number deleted.
    pub async fn purge_tombstones(&self, before: i64) -> Result<u64, ServiceError> {
        Ok(self.store.purge_tombstones(before).await?)
    }

    /// Publishes `form` as `team`'s next form version (issue 15); devices of the team receive
    /// it with their next pull.
    pub async fn publish_form(&self, team: &str, form: &Form) -> Result<FormRow, ServiceError> {
        Ok(self.store.publish_form(team, form).await?)
    }

    /// Every published form version of `team`, or of every team when `None`.
    pub async fn list_forms(&self, team: Option<&str>) -> Result<Vec<FormRow>, ServiceError> {
        Ok(self.store.forms(team, 0).await?)
    }

    /// One published form version of `team`: `version`, or the current (highest) one.
    pub async fn form(&self, team: &str, version: Option<u32>) -> Result<FormRow, ServiceError> {
        let after = version.map_or(0, |v| v.saturating_sub(1));
        let rows = self.store.forms(Some(team), after).await?;
        let found = match version {
            Some(v) => rows.into_iter().find(|r| r.form.version == v),
            None => rows.into_iter().last(),
        };
        found.ok_or_else(|| {
            let what = version.map_or("no form".to_string(), |v| format!("no form version {v}"));
            ServiceError::Store(StoreError::UnknownForm(format!(
                "team {team:?} has {what} (see `fieldsync admin form list`)"
            )))
        })
    }
}
