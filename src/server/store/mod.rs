//! The server's storage: one trait, two implementations ([`sqlite::SqliteStore`],
//! [`postgres::PgStore`]). Stores only load and write: every sync rule (dedupe, permissions,
//! conflicts, cursors, team scope) lives in [`crate::server::service`] and the pure planner
//! [`crate::server::push`]; nothing here decides what a change does.
//!
//! # The write path
//!
//! [`Store::write`] is "begin a write transaction for these ids, load what they name into a
//! [`Snapshot`], let the caller decide ([`Decide`]), write the [`WriteSet`] it returns,
//! commit". The caller's decision is a plain synchronous closure, so the SQLite store can run
//! it on its writer thread and commit many pushes together. [`write_with`] wraps it for
//! callers that need the decision's own output back.
//!
//! # Consistency rules (both stores)
//!
//! - **One write = one atomic unit.** A write runs entirely inside one write transaction; a
//!   crash or a failed statement leaves nothing of it applied. (The SQLite store commits the
//!   writes waiting for its writer together: one transaction, one savepoint per write, one
//!   fsync; a write returns only after that commit.)
//! - **Writes of one team serialise; teams never wait on each other; readers never wait.**
//!   Versions are per team (pulls, cursors and team scope are per team): each team has one
//!   counter row in `team_versions`. A write names its team ([`WriteKeys::team`]), first locks
//!   that team's row (SQLite: the one writer connection with `BEGIN IMMEDIATE` serialises
//!   everything anyway; PostgreSQL: `SELECT ... FROM team_versions WHERE team = $1 FOR
//!   UPDATE`), allocates the team's versions from it, and the lock is released only by the
//!   commit, so a team's transactions commit in the order of the versions they took. Any
//!   reader snapshot therefore sees a *prefix* of each team's version sequence: a pull
//!   cursor (per team: "everything of team T up to version V was delivered") never skips a
//!   change of T that commits later with a smaller version. This holds across several server
//!   processes over one PostgreSQL database, because the lock is in the database; writes of
//!   different teams lock different rows and proceed in parallel. A write stores records of
//!   its own team only (the store refuses anything else), so no transaction touches two
//!   teams' rows. A team's row is created by its first write (PostgreSQL: `INSERT ... ON
//!   CONFLICT DO NOTHING`, then the lock, so two processes never both create it) at the
//!   version `version_base` in `meta`, which every `serve` start raises (see
//!   [`Store::skip_versions`]). Server ids stay unique across teams (SQLite: the writer's
//!   counter; PostgreSQL: a sequence, which never waits). Operations over several teams
//!   lock their rows in team order: a move (two teams: it raises the new team's counter to
//!   the old one's), a `serve` start's jump and purging tombstones (every team).
//!   Pulls and authentication only read and run in parallel with writes and each other.
//! - **Loads and writes are batched**: a write loads its op_ids and records in a fixed number
//!   of statements (PostgreSQL: `= ANY` queries pipelined behind the team's lock, see
//!   `postgres/push.rs`; SQLite: cached point lookups) and writes its rows in a fixed number
//!   of statements.
//! - **Dedupe lives in the database**: every result is stored under its op_id in the same
//!   transaction as its effects, so it survives restarts and holds across processes.

pub(crate) mod migrations;
mod pg_stats;
mod pg_tls;
mod pgpass;
pub mod postgres;
pub mod sqlite;

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use uuid::Uuid;

use super::database::Database;
use super::error::StoreError;
use crate::forms::{Form, PublishedForm};
use crate::merge::Stamps;
use crate::model::{EntityType, FieldMap};
use crate::protocol::{Audit, ChangeResult, Record};

/// An officer as the server knows them.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Officer {
    pub id: String,
    pub team: String,
    pub created_at: String,
    pub revoked: bool,
}

/// An officer with what the server recorded of their syncing (`admin officer list`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct OfficerSummary {
    #[serde(flatten)]
    pub officer: Officer,
    /// When the officer's last push was applied (UTC, RFC 3339), if ever.
    pub last_push_at: Option<String>,
    /// When the officer last pulled (to the minute: pulls are recorded at most once a
    /// minute per officer and server process), if ever.
    pub last_pull_at: Option<String>,
    /// Changes the officer pushed, each op_id counted once (a retried batch adds nothing).
    pub changes_pushed: i64,
}

/// What the server recorded of an officer's syncing, written with a push (in its
/// transaction) or on its own for a pull.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OfficerActivity {
    /// A push applied `changes` new changes at `at`.
    Pushed {
        officer: String,
        changes: i64,
        at: String,
    },
    /// The officer pulled at `at`.
    Pulled { officer: String, at: String },
}

/// Counts and counters of a whole store (`admin status`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct StoreStats {
    pub officers: i64,
    pub revoked_officers: i64,
    /// Records, tombstones included.
    pub records: i64,
    pub tombstones: i64,
    /// The highest version handed out in any team (versions are per team).
    pub current_version: i64,
    /// The highest version whose history may have been forgotten (0: none).
    pub history_floor: i64,
    pub schema_version: i64,
    /// Stored push results (what makes a retried batch apply once), kept until the device
    /// acknowledges them or the op-id retention forgets them.
    pub stored_results: i64,
    /// Forms published, all teams and versions.
    pub forms: i64,
    /// The whole database's size on disk, in bytes.
    pub database_bytes: i64,
    /// Bytes on disk per table, indexes included (op-id retention keeps `ops` bounded);
    /// empty where the store cannot tell (a SQLite build without `dbstat`).
    pub table_bytes: std::collections::BTreeMap<String, i64>,
    /// Devices whose forgotten op-ids the server remembers by number (`device_ops`).
    pub devices_tracked: i64,
}

/// A published form version of a team, as `admin form list` shows it (issue 15).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FormRow {
    pub team: String,
    pub published_at: String,
    #[serde(flatten)]
    pub form: PublishedForm,
}

/// A record as stored: the wire [`Record`] plus what the server keeps to decide and to filter.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredRecord {
    pub server_id: i64,
    pub entity_type: EntityType,
    pub id: Uuid,
    /// The team that may see and edit it: a household's is its creator's team, a visit's is
    /// its household's.
    pub team: String,
    pub version: i64,
    pub deleted: bool,
    pub deleted_by: Option<Uuid>,
    pub fields: FieldMap,
    pub stamps: Stamps,
    /// Who and when, by the server's clock (sent with the record).
    pub audit: Audit,
    /// The device that holds exactly this version of the record, because its own push made
    /// it and the push result told it the stamp (no echo, issue 14): a pull naming that
    /// device leaves the record out. Every other change clears it.
    pub echo_device: Option<Uuid>,
}

impl StoredRecord {
    pub fn to_wire(&self) -> Record {
        Record {
            entity_type: self.entity_type,
            id: self.id,
            server_id: self.server_id,
            version: self.version,
            deleted: self.deleted,
            fields: self.fields.clone(),
            audit: self.audit.clone(),
        }
    }
}

/// The first result stored under an op_id, with the hash of the change that produced it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredOp {
    pub hash: String,
    pub result: ChangeResult,
}

/// What a write transaction must load: op_ids whose stored results to read, and record ids.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WriteKeys {
    /// The team whose counter the write locks and allocates versions from; every record the
    /// write stores must belong to it. Empty: a write that takes no version and stores no
    /// record (SQLite records a pull through the writer this way).
    pub team: String,
    pub op_ids: Vec<Uuid>,
    pub ids: Vec<Uuid>,
    /// Households the batch deletes: how many live visits refer to each is loaded into
    /// [`Snapshot::live_visits`] (the orphan rule, [`crate::orphans`]).
    pub deleted_households: Vec<Uuid>,
    /// The pushing device, when its push carries sequence numbers: its
    /// [`Snapshot::forgotten_upto`] is loaded (op-id retention, [`crate::server::retention`]).
    pub device: Option<Uuid>,
}

/// What a write needs from the store, read under the write lock.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// Stored results of the batch's op_ids that were seen before.
    pub ops: HashMap<Uuid, StoredOp>,
    /// The records the batch names, and the households its visit inserts refer to.
    pub records: HashMap<Uuid, StoredRecord>,
    /// The last version handed out in the write's team.
    pub version: i64,
    /// The last server id handed out (stores that reserve ids in [`Snapshot::server_ids`]
    /// leave it alone).
    pub server_id: i64,
    /// Server ids reserved for this write's new records, ascending (PostgreSQL, where they
    /// come from a sequence); empty when new ids follow [`Snapshot::server_id`] (SQLite).
    pub server_ids: Vec<i64>,
    /// Live visits per household of [`WriteKeys::deleted_households`].
    pub live_visits: HashMap<Uuid, i64>,
    /// The highest sequence number of [`WriteKeys::device`] whose op_id the store may have
    /// forgotten (0: none). Stores read it after the op_id lookup, so an op_id found missing
    /// because a trim deleted it is always covered by the mark that trim raised.
    pub forgotten_upto: i64,
}

impl Snapshot {
    /// The server id of the next new record: the next reserved one, else one past the last.
    pub fn next_server_id(&mut self) -> i64 {
        if self.server_ids.is_empty() {
            self.server_id += 1;
            return self.server_id;
        }
        self.server_ids.remove(0)
    }
}

/// What a write stores, in one transaction.
#[derive(Debug, Clone, Default)]
pub struct WriteSet {
    /// The final state of every record the batch changed (inserted or updated rows).
    pub records: Vec<StoredRecord>,
    /// New op_id results to store: (op_id, content hash, result).
    pub ops: Vec<(Uuid, String, ChangeResult)>,
    /// The counters after the batch (`version`: the write's team's).
    pub version: i64,
    pub server_id: i64,
    /// The officer activity to record in the same transaction (the officer row's last push
    /// time and count), if any.
    pub activity: Option<OfficerActivity>,
    /// Where the new `ops` come from, for op-id retention; `None`: stored without device,
    /// number or time (never trimmed by age).
    pub origin: Option<OpOrigin>,
}

/// Who stored a write's op results and when, and what the device acknowledged (op-id
/// retention, see [`crate::server::retention`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OpOrigin {
    pub device: Uuid,
    /// The server's clock, in seconds since 1970 (what the age trim compares).
    pub stored_at: i64,
    /// The device's sequence number of each new op_id, when the push carried them.
    pub seqs: HashMap<Uuid, i64>,
    /// When the push carried a sequence: the device's results numbered below this are
    /// finished and deleted in the same transaction, raising the device's mark to it − 1.
    pub finished_below: Option<i64>,
}

/// The caller's decision inside a write transaction: what to write, given what was loaded.
/// It runs under the store's write lock, so it must be quick and must not block.
pub type Decide = Box<dyn FnOnce(&mut Snapshot) -> WriteSet + Send + 'static>;

/// [`Store::write`] with a decision that also returns a value (e.g. one result per change).
pub async fn write_with<T, F>(
    store: &dyn Store,
    keys: WriteKeys,
    decide: F,
) -> Result<T, StoreError>
where
    T: Send + 'static,
    F: FnOnce(&mut Snapshot) -> (T, WriteSet) + Send + 'static,
{
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    store
        .write(
            keys,
            Box::new(move |snap| {
                let (out, writes) = decide(snap);
                // The receiver lives until `write` returns; a failed send cannot happen.
                let _ = tx.send(out);
                writes
            }),
        )
        .await?;
    rx.try_recv()
        .map_err(|_| StoreError::Task("the store committed without running the decision".into()))
}

/// One page of a pull.
#[derive(Debug, Clone, Default)]
pub struct PullPage {
    /// The records' wire JSON (see [`crate::server::wire`]); `WireRecord::record` parses one.
    pub records: Vec<crate::server::wire::WireRecord>,
    pub has_more: bool,
    /// When the page left out records (see [`Store::pull`]'s `skip_device`): the version it
    /// covered up to, which the next cursor names; `None`: the last record's.
    pub covered: Option<i64>,
}

/// Which records an export reads: one entity type, optionally one team, versions in
/// `(after, upto]`, tombstones only if asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportFilter {
    pub entity: EntityType,
    pub team: Option<String>,
    pub after: i64,
    pub upto: i64,
    pub include_deleted: bool,
}

/// The server's storage. Implementations must follow the consistency rules in the module
/// documentation.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// `"sqlite"` or `"postgres"`.
    fn kind(&self) -> &'static str;

    /// The connection pool's state, for `/metrics`; `None` for a store without a pool.
    fn pool_status(&self) -> Option<crate::server::metrics::PoolStatus> {
        None
    }

    /// The officer holding the token whose SHA-256 (hex) is `token_hash`, revoked or not.
    /// Never cached: a revoked token stops working at once.
    async fn officer_by_token_hash(&self, token_hash: &str) -> Result<Option<Officer>, StoreError>;

    /// One write transaction: takes the write lock, loads `keys` into a [`Snapshot`], runs
    /// `decide` on it, writes the [`WriteSet`] it returns and commits. Nothing is written if
    /// any step fails. See [`write_with`] to get a value back from `decide`.
    async fn write(&self, keys: WriteKeys, decide: Decide) -> Result<(), StoreError>;

    /// The records of `team` with version > `after`, by version, at most `limit`; with
    /// `skip_device`, leaving out those whose [`StoredRecord::echo_device`] is that device
    /// and saying in [`PullPage::covered`] how far the page reached (read under the same
    /// prefix rule as the page, so no record at or below it is still to commit).
    async fn pull(
        &self,
        team: &str,
        after: i64,
        limit: u32,
        skip_device: Option<Uuid>,
    ) -> Result<PullPage, StoreError>;

    /// The secret that authenticates cursors (generated once, kept in the database).
    async fn cursor_secret(&self) -> Result<Vec<u8>, StoreError>;

    /// The highest version whose history may have been forgotten (0: none).
    async fn history_floor(&self) -> Result<i64, StoreError>;

    /// Adds an officer with a token hash.
    async fn add_officer(&self, id: &str, team: &str, token_hash: &str) -> Result<(), StoreError>;

    /// Every officer with their recorded activity, by id.
    async fn list_officers(&self) -> Result<Vec<OfficerSummary>, StoreError>;

    async fn revoke_officer(&self, id: &str) -> Result<(), StoreError>;

    /// Replaces an officer's token hash and lifts a revocation, in one statement: the old
    /// token stops working at once.
    async fn reissue_token(&self, id: &str, token_hash: &str) -> Result<(), StoreError>;

    /// Records that an officer pulled (one cheap statement; SQLite joins the group commit).
    async fn record_pull(&self, officer: &str, at: &str) -> Result<(), StoreError>;

    /// Counts and counters of the whole store.
    async fn stats(&self) -> Result<StoreStats, StoreError>;

    /// Writes a consistent copy of the database to the new file `dest` while writes go on
    /// (SQLite: `VACUUM INTO`). Refused when `dest` exists. PostgreSQL refuses: it is backed
    /// up with `pg_dump`.
    async fn backup(&self, dest: &std::path::Path) -> Result<(), StoreError>;

    /// Moves an officer to `team`. Under both teams' locks (in team order), raises the new
    /// team's counter to at least the old team's, so every version the new team hands out
    /// after the move is above every version the officer's devices received before it, and
    /// records the old team and that version (see [`Store::previous_team`]). Nothing when the
    /// officer is already in `team`.
    async fn move_officer(&self, id: &str, team: &str) -> Result<(), StoreError>;

    /// Deletes tombstones older than `before` and raises the history floor; the count.
    async fn purge_tombstones(&self, before: i64) -> Result<u64, StoreError>;

    /// Op-id retention's age trim: deletes at most `limit` stored results stored at or before
    /// `stored_upto` (seconds since 1970, any of them), under the write lock, and in the same
    /// transaction raises each device's mark to the highest sequence number among them
    /// (see [`crate::server::retention`]). Returns how many were deleted.
    async fn trim_ops(&self, stored_upto: i64, limit: u32) -> Result<u64, StoreError>;

    /// The highest version handed out in any team (every committed record has a version at
    /// most this).
    async fn current_version(&self) -> Result<i64, StoreError>;

    /// The last version handed out in `team` (every committed record of the team has a
    /// version at most this); a team that never wrote: the version its counter will start at.
    async fn team_version(&self, team: &str) -> Result<i64, StoreError>;

    /// Every team's last version handed out, by team: one consistent read, so each team's
    /// records up to its version are all committed (an export's watermark).
    async fn team_versions(&self) -> Result<Vec<(String, i64)>, StoreError>;

    /// The officer's team before their last move and the new team's version right after it
    /// (see [`Store::move_officer`]), if they were ever moved.
    async fn previous_team(&self, officer: &str) -> Result<Option<(String, i64)>, StoreError>;

    /// The database's stable id (issue 11): a UUID made with it (migration step 4).
    async fn server_id(&self) -> Result<String, StoreError>;

    /// Under every team's lock: when the database has handed out versions, raises
    /// `version_base` to `at_least` and every team's counter below it to `at_least`,
    /// recording the range (counter, at_least] as skipped for that team; otherwise nothing.
    /// `serve` calls it at every start.
    async fn skip_versions(&self, at_least: i64) -> Result<(), StoreError>;

    /// The start of the skipped range of `team` that holds `version` (a version this
    /// database never handed out in that team), if any.
    async fn skipped_range_start(
        &self,
        team: &str,
        version: i64,
    ) -> Result<Option<i64>, StoreError>;

    /// The distinct answer keys (without the `answers.` prefix) of the records `filter`
    /// selects, sorted. One query; no record is loaded.
    async fn export_answer_keys(&self, filter: &ExportFilter) -> Result<Vec<String>, StoreError>;

    /// At most `limit` records `filter` selects, by version (their stamps are left empty).
    /// Callers page by raising `filter.after` to the last version returned.
    async fn export_page(
        &self,
        filter: &ExportFilter,
        limit: u32,
    ) -> Result<Vec<StoredRecord>, StoreError>;
    /// Stores `form` as `team`'s next form version (1, 2, 3… per team; a published version
    /// never changes) and returns it. Takes the team's lock, so versions are never reused.
    async fn publish_form(&self, team: &str, form: &Form) -> Result<FormRow, StoreError>;

    /// The published form versions of `team` (of every team when `None`) with a version
    /// above `after`, by team and version.
    async fn forms(&self, team: Option<&str>, after: u32) -> Result<Vec<FormRow>, StoreError>;
}

/// The schema version this build writes. A database with a higher one was written by a
/// newer fieldsync and is refused rather than misread.
pub const SCHEMA_VERSION: i64 = 8;

/// Checks the `schema_version` read from a database's meta table; the version.
pub(crate) fn check_schema_version(found: &str) -> Result<i64, StoreError> {
    let v: i64 = found
        .parse()
        .map_err(|_| StoreError::Corrupt(format!("schema version {found:?}")))?;
    if v > SCHEMA_VERSION {
        return Err(StoreError::NewerSchema {
            found: v,
            known: SCHEMA_VERSION,
        });
    }
    Ok(v)
}

/// How a store connects: the PostgreSQL pool's limits (SQLite has one writer and a few
/// readers, and ignores these).
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// Most PostgreSQL connections this process opens (`--pool-size`).
    pub pool_size: usize,
    /// How long a request waits for a pooled connection before it is a 503.
    pub pool_wait: Duration,
    /// A pooled connection idle this long is closed.
    pub pool_idle: Duration,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            pool_size: 16,
            pool_wait: Duration::from_secs(5),
            pool_idle: Duration::from_secs(120),
        }
    }
}

/// Opens (creating and migrating) the store named by `database` (see
/// [`crate::server::database::Database::parse`] for the accepted shapes; anything else is
/// [`StoreError::Database`] and nothing is created).
pub async fn open(database: &str) -> Result<std::sync::Arc<dyn Store>, StoreError> {
    open_parsed(&Database::parse(database)?, &StoreOptions::default()).await
}

/// Opens (creating and migrating) an already parsed database.
pub async fn open_parsed(
    database: &Database,
    options: &StoreOptions,
) -> Result<std::sync::Arc<dyn Store>, StoreError> {
    Ok(match database {
        Database::Postgres(conn) => {
            std::sync::Arc::new(postgres::PgStore::open_with(conn, options).await?)
        }
        Database::Sqlite(path) => std::sync::Arc::new(sqlite::SqliteStore::open(path).await?),
    })
}

/// Opens and migrates the existing fieldsync database named by `database`, creating
/// nothing: a missing SQLite file or PostgreSQL database is [`StoreError::Missing`], one
/// without the fieldsync schema is [`StoreError::NotFieldsync`]. `admin` uses it, so that a
/// mistyped `--database` never creates an empty server database; only `serve` creates one.
pub async fn open_existing(database: &str) -> Result<std::sync::Arc<dyn Store>, StoreError> {
    // Parsed as `serve` parses it, so `sqlite:PATH` names the file PATH here too.
    let parsed = Database::parse(database)?;
    match &parsed {
        Database::Postgres(conn) => postgres::PgStore::check_existing(conn).await?,
        Database::Sqlite(path) => {
            sqlite::check_existing(path).await?;
        }
    }
    open_parsed(&parsed, &StoreOptions::default()).await
}

/// Creates or upgrades the schema of the database named by `database` (`admin migrate`);
/// the schema versions before (`None`: no fieldsync schema) and after. A SQLite file must
/// already exist (only `serve` creates one); a PostgreSQL database must exist and may be
/// empty.
pub async fn migrate(database: &str) -> Result<(Option<i64>, i64), StoreError> {
    match Database::parse(database)? {
        Database::Postgres(conn) => postgres::PgStore::migrate(&conn).await,
        Database::Sqlite(path) => {
            let before = sqlite::check_existing(&path).await?;
            drop(sqlite::SqliteStore::open(&path).await?);
            Ok((Some(before), SCHEMA_VERSION))
        }
    }
}

/// Refuses a write of `team` that would store a record of another team: every write touches
/// one team's rows only (see the consistency rules), which is what lets teams write in
/// parallel and the schema be split by team.
pub(crate) fn check_one_team(team: &str, records: &[StoredRecord]) -> Result<(), StoreError> {
    match records.iter().find(|r| r.team != team || team.is_empty()) {
        None => Ok(()),
        Some(r) => Err(StoreError::CrossTeam(format!(
            "a write of team {team:?} would store {} {} of team {:?}",
            r.entity_type, r.id, r.team
        ))),
    }
}

/// What a push's acknowledgement ([`OpOrigin::finished_below`]) deletes: the device's
/// stored results numbered in `(above, below)`, after raising its mark to `below - 1`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Finished {
    pub device: String,
    /// The device's mark as the write loaded it ([`Snapshot::forgotten_upto`] before the
    /// decision); 0 when the write did not load it.
    pub above: i64,
    pub below: i64,
}

/// The acknowledgement a write carries, if any, given the device mark `loaded` that
/// [`Store::write`] read for `keys.device` before the decision.
///
/// Why the lower bound `above` loses nothing: a device's results numbered at or below its
/// mark were deleted by the acknowledgement that raised the mark to there, and a number at
/// or below the mark is never stored again (retention rule 4 refuses it). Only the age trim
/// raises a mark without deleting everything below it (it forgets the *old* results and
/// raises the mark to the highest number among them); a result numbered lower but stored
/// later then stays until it is old enough for the trim itself. A device numbers and sends
/// its changes in order, so that takes a result stored out of order. Without the bound,
/// PostgreSQL's index scan walked every result the device ever had acknowledged (dead index
/// entries until a vacuum): ~5 ms per push at 100,000 (see docs/performance.md).
pub(crate) fn finished(
    keys: &WriteKeys,
    loaded: i64,
    origin: Option<&OpOrigin>,
) -> Option<Finished> {
    let origin = origin?;
    let below = origin.finished_below?;
    let above = match keys.device {
        Some(d) if d == origin.device => loaded,
        _ => 0,
    };
    Some(Finished {
        device: origin.device.to_string(),
        above,
        below,
    })
}

/// JSON text of stamps / fields / results, for storage.
pub(crate) fn to_json<T: serde::Serialize>(v: &T) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(|e| StoreError::Corrupt(format!("cannot encode: {e}")))
}

pub(crate) fn from_json<T: serde::de::DeserializeOwned>(
    what: &str,
    s: &str,
) -> Result<T, StoreError> {
    serde_json::from_str(s).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}

pub(crate) fn parse_uuid(what: &str, s: &str) -> Result<Uuid, StoreError> {
    Uuid::parse_str(s).map_err(|e| StoreError::Corrupt(format!("{what} {s:?}: {e}")))
}

pub(crate) fn parse_entity(s: &str) -> Result<EntityType, StoreError> {
    s.parse()
        .map_err(|e| StoreError::Corrupt(format!("entity type: {e}")))
}

/// Checks a team name: the same alphabet as officer ids.
pub fn validate_team(team: &str) -> Result<(), StoreError> {
    crate::model::validate_officer_id(team).map_err(|_| {
        StoreError::Invalid(format!(
            "team {team:?} must be 1 to 64 letters, digits or '_', '-', '.', '@'"
        ))
    })
}

/// Decodes a stored form row's JSON and checks it against its stored hash.
pub(crate) fn form_row(
    team: String,
    version: i64,
    content_hash: String,
    form_json: &str,
    published_at: String,
) -> Result<FormRow, StoreError> {
    let form: Form = from_json("form", form_json)?;
    let version = u32::try_from(version)
        .map_err(|_| StoreError::Corrupt(format!("form version {version}")))?;
    let published = PublishedForm {
        version,
        content_hash,
        form,
    };
    if !published.hash_matches() {
        return Err(StoreError::Corrupt(format!(
            "team {team}'s form version {version} does not match its content hash"
        )));
    }
    Ok(FormRow {
        team,
        published_at,
        form: published,
    })
}
