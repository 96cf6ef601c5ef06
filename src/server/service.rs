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
use super::push;
use super::store::{self, Officer, Store};
use super::tokens::{new_token, token_hash};
use crate::protocol::{
    PullResponse, PushRequest, PushResponse, DEFAULT_PULL_LIMIT, MAX_PULL_LIMIT, MAX_PUSH_CHANGES,
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

    /// Can the store serve right now? Reads one row through the same path a request takes
    /// (PostgreSQL: a pooled connection), giving up after `within`.
    pub async fn ready(&self, within: std::time::Duration) -> Result<(), String> {
        match tokio::time::timeout(within, self.store.history_floor()).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(format!("the {} store fails: {e}", self.store.kind())),
            Err(_) => Err(format!(
                "the {} store did not answer within {} ms",
                self.store.kind(),
                within.as_millis()
            )),
        }
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
        let officer = officer.clone();
        let results = store::write_with(self.store.as_ref(), keys, move |snap| {
            push::plan(&officer, req.device_id, &req.changes, snap)
        })
        .await?;
        Ok(PushResponse { results })
    }

    /// The next page of `officer`'s team after `cursor` (from the start when `None` or
    /// empty), at most `limit` records (default [`DEFAULT_PULL_LIMIT`]).
    pub async fn pull(
        &self,
        officer: &Officer,
        cursor: Option<&str>,
        limit: Option<u32>,
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
        })
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
}
