//! The sync service: every rule of `/v1` over a [`Store`], with no HTTP in sight.
//!
//! It owns authentication by token, the push rules (batch size, then the pure planner
//! [`push::plan`] run inside the store's write transaction), the pull rules (page size,
//! cursors, team scope: an officer who moved team starts over; a cursor below the history
//! floor must re-sync; the restore check against the team's own versions, which are per
//! team), supervision (each officer's last push, last pull and changes pushed,
//! recorded cheaply) and the administrator's operations (officers, tokens, purging, stats,
//! backups). It
//! must not parse requests, pick HTTP statuses or print: `server::http` and `cli::admin` do.
//!
//! It is usable in-process, e.g. by an in-memory client `Remote` in tests:
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use fieldsync::protocol::PushRequest;
//! use fieldsync::server::service::{PullQuery, Service};
//!
//! let service = Service::temporary().await?; // a SQLite store in a temporary folder
//! let token = service.add_officer("amina", "north").await?;
//! let amina = service.authenticate(&token).await?;
//! let pushed = service
//!     .push(&amina, PushRequest { device_id: uuid::Uuid::new_v4(), changes: vec![], sequence: None })
//!     .await?;
//! let page = service.pull(&amina, PullQuery::default()).await?;
//! let next = service
//!     .pull(&amina, PullQuery::page(Some(&page.next_cursor), Some(100)))
//!     .await?;
//! # let _ = (pushed, next); Ok(()) }
//! ```

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::cursor::{decode_cursor, encode_cursor_at, Cursor};
use super::error::{ServiceError, StoreError};
use super::form_rules::TeamForms;
use super::push::{self, PushMode};
use super::retention;
use super::store::{self, FormRow, Officer, OfficerActivity, OfficerSummary, Store, StoreStats};
use super::tokens::{new_token, token_hash};
use super::wire::{self, WireRecord};
use crate::forms::Form;
use crate::protocol::{
    ErrorCode, KnownForms, PullResponse, PushRequest, PushResponse, DEFAULT_PULL_LIMIT,
    MAX_PULL_LIMIT, MAX_PUSH_CHANGES,
};

/// The longest token the service looks up; anything longer is unknown without a lookup.
const MAX_TOKEN_LEN: usize = 256;

/// An officer's pulls are recorded at most this often per server process, so that pulling
/// page after page costs no writes.
const PULL_RECORD_INTERVAL: Duration = Duration::from_secs(60);

/// What a pull asks, beyond who asks: every member optional ([`PullQuery::default`] is the
/// first page of the officer's team at the default size).
#[derive(Debug, Clone, Copy, Default)]
pub struct PullQuery<'a> {
    /// Where the last page ended (none or empty: from the start).
    pub cursor: Option<&'a str>,
    /// Records per page, 1 to [`MAX_PULL_LIMIT`] (default [`DEFAULT_PULL_LIMIT`]).
    pub limit: Option<u32>,
    /// The team's form versions the device holds (issue 15): the page brings newer ones.
    /// `None`: the device does not take forms.
    pub known: Option<&'a KnownForms>,
    /// The highest version the device holds (`fieldsync-seen`, issue 11): when it, or the
    /// cursor, is a version this database does not hold (beyond the team's counter, or in a
    /// range a start skipped), the database lost history the device saw — it was restored
    /// from a backup — and the answer is [`ServiceError::ServerBehind`], so the device sends
    /// it again.
    pub seen: Option<i64>,
    /// The device asking (`fieldsync-device`, issue 14): a pull that continues a cursor of
    /// the officer's current team leaves out the records the device's own pushes made and
    /// holds exactly (`echo_device`), and its cursor still moves past them. A pull from
    /// scratch (no cursor, or the officer moved team) leaves nothing out.
    pub device: Option<uuid::Uuid>,
}

impl<'a> PullQuery<'a> {
    /// The page after `cursor` of at most `limit` records, nothing else asked.
    pub fn page(cursor: Option<&'a str>, limit: Option<u32>) -> PullQuery<'a> {
        PullQuery {
            cursor,
            limit,
            ..PullQuery::default()
        }
    }
}

/// The sync rules over one store. Cheap to clone (the store is shared).
#[derive(Clone)]
pub struct Service {
    store: Arc<dyn Store>,
    /// Authenticates cursors; read once from the store (it never changes).
    cursor_secret: Arc<Vec<u8>>,
    /// The database's stable id; read once from the store (it never changes).
    server_id: Arc<String>,
    /// When this process last recorded each officer's pull (see [`PULL_RECORD_INTERVAL`]).
    pulls_recorded: Arc<Mutex<HashMap<String, Instant>>>,
    /// Keeps the folder of a [`Service::temporary`] store alive.
    _temp: Option<Arc<tempfile::TempDir>>,
}

impl Service {
    /// The service over an open store.
    pub async fn new(store: Arc<dyn Store>) -> Result<Service, StoreError> {
        let cursor_secret = Arc::new(store.cursor_secret().await?);
        let server_id = Arc::new(store.server_id().await?);
        Ok(Service {
            store,
            cursor_secret,
            server_id,
            pulls_recorded: Arc::default(),
            _temp: None,
        })
    }

    /// Opens (creating and migrating) the store named by `database`, a SQLite path or a
    /// `postgres://` URL, and the service over it.
    pub async fn open(database: &str) -> Result<Service, StoreError> {
        Service::new(store::open(database).await?).await
    }

    /// [`Service::open`] with the store's connection limits (`serve --pool-size`).
    pub async fn open_with(
        database: &str,
        options: &store::StoreOptions,
    ) -> Result<Service, StoreError> {
        let parsed = crate::server::database::Database::parse(database)?;
        Service::new(store::open_parsed(&parsed, options).await?).await
    }

    /// Opens and migrates an existing fieldsync database, creating nothing (see
    /// [`store::open_existing`]): what `admin` uses.
    pub async fn open_existing(database: &str) -> Result<Service, StoreError> {
        Service::new(store::open_existing(database).await?).await
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

    /// The store's connection pool, for `/metrics`.
    pub fn pool_status(&self) -> Option<crate::server::metrics::PoolStatus> {
        self.store.pool_status()
    }

    /// The database's stable id (a UUID made with it; see `/v1/health`).
    pub fn server_id(&self) -> &str {
        &self.server_id
    }

    /// Called when a server process starts: skips every team's version counter ahead to
    /// [`start_version`] of the server's clock, recording each team's skipped range (and
    /// raising the version a new team starts at). A database restored from a backup thus
    /// never hands out again a version it handed out before the restore, and a device that
    /// saw one learns that the server lost history ([`ServiceError::ServerBehind`]) whichever
    /// device syncs first. A database that has handed out no version yet is left alone.
    pub async fn begin_run(&self) -> Result<(), StoreError> {
        self.store.skip_versions(start_version()).await
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

    /// [`Service::push`] from a device that has received versions up to `seen` (issue 11):
    /// refused as a whole with [`ServiceError::ServerBehind`], before anything is applied,
    /// when this database does not hold `seen` (it was restored from a backup).
    pub async fn push_seen(
        &self,
        officer: &Officer,
        req: PushRequest,
        seen: Option<i64>,
    ) -> Result<PushResponse, ServiceError> {
        self.push_with(officer, req, seen, PushMode::default())
            .await
    }

    /// Applies a batch for `officer` in one transaction: one result per change, in order.
    pub async fn push(
        &self,
        officer: &Officer,
        req: PushRequest,
    ) -> Result<PushResponse, ServiceError> {
        self.push_with(officer, req, None, PushMode::default())
            .await
    }

    /// [`Service::push_seen`] in `mode`: with [`PushMode::no_echo`] (the client sent
    /// `fieldsync-no-echo`), accepted changes the device can rebuild exactly carry their
    /// stamp and are left out of that device's later pulls (issue 14).
    pub async fn push_with(
        &self,
        officer: &Officer,
        req: PushRequest,
        seen: Option<i64>,
        mode: PushMode<'static>,
    ) -> Result<PushResponse, ServiceError> {
        self.check_seen(officer, seen.unwrap_or(0)).await?;
        let count = req.changes.len();
        if count > MAX_PUSH_CHANGES {
            return Err(ServiceError::BatchTooLarge { count });
        }
        retention::check(&req)?;
        if count == 0 {
            return Ok(PushResponse {
                results: Vec::new(),
                seq_floor: None,
            });
        }
        let mut keys = push::needed(&req.changes);
        keys.device = req.sequence.as_ref().map(|_| req.device_id);
        let origin = retention::origin(&req, retention::now_secs());
        // Every record a push may write belongs to the officer's team (the planner refuses
        // others' records as `forbidden`), so it locks that team's counter only.
        keys.team = officer.team.clone();
        let forms = self.push_forms(&officer.team, &req).await?;
        let officer = officer.clone();
        let at = crate::model::now_timestamp();
        let store = Arc::clone(&self.store);
        // The write runs in its own task, to its end, even when the caller goes away (a
        // client that gave up): a write future dropped half-way would hand its pooled
        // connection back with a statement still queued on it, stalling whichever request
        // takes that connection next. A retried batch then finds its stored results.
        let started = Instant::now();
        let write = tokio::spawn(async move {
            store::write_with(store.as_ref(), keys, move |snap| {
                crate::server::metrics::global().lock_wait(started.elapsed());
                let sequence = req.sequence.as_ref();
                snap.forgotten_upto = retention::effective_mark(snap.forgotten_upto, sequence);
                let mode = PushMode {
                    seqs: sequence.map(|s| s.seqs.as_slice()),
                    ..mode
                };
                let (results, mut writes) = push::plan_with_mode(
                    &officer,
                    req.device_id,
                    &req.changes,
                    snap,
                    &forms,
                    &at,
                    mode,
                );
                writes.origin = Some(origin);
                let expired = results.iter().any(|r| {
                    r.error
                        .as_ref()
                        .is_some_and(|e| e.code == ErrorCode::OpExpired)
                });
                let seq_floor = expired.then_some(snap.forgotten_upto);
                // Supervision, in the push's own transaction: new op_ids only, so a retried
                // batch does not count twice.
                writes.activity = Some(OfficerActivity::Pushed {
                    changes: writes.ops.len() as i64,
                    officer: officer.id,
                    at,
                });
                ((results, seq_floor), writes)
            })
            .await
        });
        let (results, seq_floor) = write
            .await
            .map_err(|e| StoreError::Task(format!("push task: {e}")))??;
        Ok(PushResponse { results, seq_floor })
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

    /// The next page of `officer`'s team as `query` asks (see [`PullQuery`]): after its
    /// cursor, at most its limit, the form versions newer than those it knows, checked
    /// against what the device has seen, without the device's own pushes.
    pub async fn pull(
        &self,
        officer: &Officer,
        query: PullQuery<'_>,
    ) -> Result<PullResponse, ServiceError> {
        let page = self.pull_wire(officer, query).await?;
        Ok(wire::typed(page)?)
    }

    /// [`Service::pull`] with the records as their wire JSON, as the stores read them
    /// (what `GET /v1/pull` sends: nothing stored is parsed and serialised again).
    pub async fn pull_wire(
        &self,
        officer: &Officer,
        query: PullQuery<'_>,
    ) -> Result<PullResponse<WireRecord>, ServiceError> {
        let PullQuery {
            cursor,
            limit,
            known,
            seen,
            device,
        } = query;
        let limit = limit.unwrap_or(DEFAULT_PULL_LIMIT);
        if !(1..=MAX_PULL_LIMIT).contains(&limit) {
            return Err(ServiceError::InvalidLimit(limit.to_string()));
        }
        let cur = match cursor.filter(|c| !c.is_empty()) {
            Some(c) => Some(
                decode_cursor(&self.cursor_secret, &officer.id, c)
                    .ok_or(ServiceError::InvalidCursor)?,
            ),
            None => None,
        };
        let seen = seen.unwrap_or(0);
        match &cur {
            // A cursor names its team: checked against that team's history, unless the
            // device's own highest version of the same team covers it.
            Some(c) if c.team != officer.team || c.version > seen => {
                self.check_holds(&c.team, c.version).await?;
            }
            _ => {}
        }
        self.check_seen(officer, seen).await?;
        let floor = self.store.history_floor().await?;
        let after = resume_after(officer, cur.as_ref(), floor)?;
        let continues = cur.as_ref().is_some_and(|c| c.team == officer.team);
        let skip = device.filter(|_| continues);
        let page = self.store.pull(&officer.team, after, limit, skip).await?;
        self.record_pull(&officer.id).await;
        let last = page
            .covered
            .unwrap_or_else(|| page.records.last().map_or(after, |r| r.version));
        Ok(PullResponse {
            next_cursor: encode_cursor_at(
                &self.cursor_secret,
                &officer.id,
                &officer.team,
                last,
                floor,
            ),
            has_more: page.has_more,
            records: page.records,
            forms: match known {
                Some(k) => self.new_forms(&officer.team, k).await?,
                None => None,
            },
            team: Some(officer.team.clone()),
            server_id: Some(self.server_id.to_string()),
        })
    }

    /// Records that `officer` pulled, at most once per [`PULL_RECORD_INTERVAL`] in this
    /// process. A failure is logged, never passed on: the pull itself succeeded.
    async fn record_pull(&self, officer: &str) {
        let now = Instant::now();
        {
            let mut seen = self
                .pulls_recorded
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            match seen.get(officer) {
                Some(t) if now.duration_since(*t) < PULL_RECORD_INTERVAL => return,
                _ => seen.insert(officer.to_string(), now),
            };
        }
        let at = crate::model::now_timestamp();
        if let Err(e) = self.store.record_pull(officer, &at).await {
            tracing::warn!("cannot record {officer}'s pull: {e}");
        }
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

    /// Refuses a device that saw version `ahead` of `team` when this database does not hold
    /// it: beyond the team's last version handed out, or inside a range of the team a start
    /// skipped (see [`Service::begin_run`]). The error names where the team's history ends.
    async fn check_holds(&self, team: &str, ahead: i64) -> Result<(), ServiceError> {
        if ahead <= 0 {
            return Ok(());
        }
        let current = self.store.team_version(team).await?;
        if ahead > current {
            return Err(ServiceError::ServerBehind { current });
        }
        match self.store.skipped_range_start(team, ahead).await? {
            Some(start) => Err(ServiceError::ServerBehind { current: start }),
            None => Ok(()),
        }
    }

    /// [`Service::check_holds`] for the `fieldsync-seen` version (the highest version the
    /// device holds), which names no team: checked against the officer's team. A device that
    /// has not yet pulled since its officer was moved still holds the old team's records: a
    /// move raises the new team's counter to the old one's (see [`Store::move_officer`]), so
    /// everything the new team hands out afterwards is above them, and a version at or below
    /// that point that the new team does not hold is checked against the old team instead.
    async fn check_seen(&self, officer: &Officer, seen: i64) -> Result<(), ServiceError> {
        let refused = match self.check_holds(&officer.team, seen).await {
            Err(ServiceError::ServerBehind { current }) => current,
            other => return other,
        };
        if let Some((previous, moved_at)) = self.store.previous_team(&officer.id).await? {
            if previous != officer.team
                && seen <= moved_at
                && self.check_holds(&previous, seen).await.is_ok()
            {
                return Ok(());
            }
        }
        Err(ServiceError::ServerBehind { current: refused })
    }

    /// Adds an officer to `team` and returns their new token (only its hash is stored).
    pub async fn add_officer(&self, id: &str, team: &str) -> Result<String, ServiceError> {
        let token = new_token();
        self.store
            .add_officer(id, team, &token_hash(&token))
            .await?;
        Ok(token)
    }

    /// Every officer with their recorded activity, by id.
    pub async fn list_officers(&self) -> Result<Vec<OfficerSummary>, ServiceError> {
        Ok(self.store.list_officers().await?)
    }

    /// Issues a new token for an existing officer and lifts a revocation; the old token stops
    /// working at once. Returns the new token (only its hash is stored).
    pub async fn issue_token(&self, id: &str) -> Result<String, ServiceError> {
        let token = new_token();
        self.store.reissue_token(id, &token_hash(&token)).await?;
        Ok(token)
    }

    /// Counts and counters of the whole store (`admin status`).
    pub async fn stats(&self) -> Result<StoreStats, ServiceError> {
        Ok(self.store.stats().await?)
    }

    /// Writes a consistent copy of a SQLite store to the new file `dest` while the server
    /// runs (see [`Store::backup`]).
    pub async fn backup(&self, dest: &std::path::Path) -> Result<(), ServiceError> {
        Ok(self.store.backup(dest).await?)
    }

    /// Revokes an officer's token at once.
    pub async fn revoke_officer(&self, id: &str) -> Result<(), ServiceError> {
        Ok(self.store.revoke_officer(id).await?)
    }

    /// Moves an officer to another team; their next pull starts over (see [`Service::pull`]).
    pub async fn move_officer(&self, id: &str, team: &str) -> Result<(), ServiceError> {
        Ok(self.store.move_officer(id, team).await?)
    }

    /// Op-id retention's age trim ([`retention::trim`]): forgets the stored results of
    /// changes received at least `retention` ago; how many. `serve` runs it every
    /// [`retention::TRIM_INTERVAL`]; `admin trim-ops` on demand.
    pub async fn trim_ops(&self, retention: Duration) -> Result<u64, ServiceError> {
        Ok(retention::trim(self.store.as_ref(), retention).await?)
    }

    /// Starts an export of the records `query` selects (see [`super::export`]).
    pub async fn export(
        &self,
        query: super::export::ExportQuery,
    ) -> Result<super::export::Export, ServiceError> {
        super::export::Export::start(self.store.clone(), query).await
    }

    /// Deletes tombstones below version `before` in every team and raises the history floor
    /// (one number for every team's versions), so cursors older than it must re-sync; the
    /// number deleted.
    /// A version beyond the current one (`before > current + 1`) is refused: it would purge tombstones not yet
    /// written and send every device back to the start. (Versions only grow, so checking
    /// before the purge's own transaction is safe.)
    pub async fn purge_tombstones(&self, before: i64) -> Result<u64, ServiceError> {
        let current = self.store.stats().await?.current_version;
        // Below `current + 1` is every tombstone there is; anything higher is beyond it.
        if before > current + 1 {
            return Err(ServiceError::VersionBeyondCurrent {
                given: before,
                current,
            });
        }
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

/// The version a pull resumes after: the cursor's, 0 without one or when the officer moved
/// team (so the new team's records all arrive), or a refusal when the cursor points below
/// the history floor `floor` — unless it was issued under that same floor: then its pull
/// began after the purge (from scratch) and has missed nothing.
fn resume_after(officer: &Officer, cur: Option<&Cursor>, floor: i64) -> Result<i64, ServiceError> {
    let Some(cur) = cur else {
        return Ok(0);
    };
    if cur.team != officer.team {
        return Ok(0);
    }
    if cur.version > 0 && cur.version < floor && cur.floor < floor {
        return Err(ServiceError::ResyncRequired);
    }
    Ok(cur.version)
}

/// Versions per millisecond of the server's clock that a start skips to: a server would
/// have to hand out over a million versions a second, for its whole run, to reach the next
/// start's first version. Versions stay below 2^53 (exact in JSON numbers) until the year
/// 2248. Only the size of a jump depends on the clock; ordering and conflicts never do.
const VERSIONS_PER_MS: i64 = 1024;

/// The version a server process starting now skips to.
pub fn start_version() -> i64 {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    ms.saturating_mul(VERSIONS_PER_MS)
}
