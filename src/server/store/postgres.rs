//! The PostgreSQL store: a deadpool pool of tokio-postgres connections, prepared statements
//! and batched (UNNEST) writes.
//!
//! It only loads and writes rows: what a write stores is decided by its caller's [`Decide`].
//!
//! Writes of one team serialise on that team's row of `team_versions`: a write begins with
//! `SELECT ... FROM team_versions WHERE team = $1 FOR UPDATE` (creating the row first, race
//! free, when the team never wrote), allocates the team's versions from it, and releases it
//! by committing. A team's transactions therefore commit in version order, so a reader (each
//! pull is one statement, one snapshot under READ COMMITTED) always sees a gap-free prefix of
//! the team's versions, however many server processes share the database; writes of
//! different teams never wait on each other. Server ids come from the sequence
//! `record_server_ids` (reserved before the decision; never a wait). Reads (pull,
//! authentication) take no lock and run in parallel with writes.
//!
//! Every pooled connection plans each execution of a prepared statement for its parameters
//! ([`SESSION_SETTINGS`]): a new deployment's tables start empty, and PostgreSQL's generic
//! plan, picked once per connection after five executions, would keep the plan of an empty
//! table (a sequential scan of `ops` for every push's op_id lookup) while the table grows,
//! until autovacuum's first ANALYZE. See `docs/performance.md` ("Where the time of one
//! PostgreSQL push goes").
//!
//! Planner statistics for the growing tables are kept fresh from the first minute by
//! [`super::pg_stats`] (autovacuum's rule, checked every few seconds).
//!
//! Schema creation runs under `pg_advisory_lock`, so several processes may start at once;
//! a database already at this build's schema version gets no DDL (least privilege). The
//! password may come from `PGPASSWORD`/`PGPASSFILE` ([`super::pgpass`]), and
//! `sslmode=require` connects over verified TLS ([`super::pg_tls`]).

use std::future::Future;
use std::time::Duration;

use async_trait::async_trait;
use deadpool_postgres::{
    Hook, HookError, Manager, ManagerConfig, Pool, PoolError, RecyclingMethod, Runtime, TimeoutType,
};
use tokio_postgres::config::SslMode;
use tokio_postgres::NoTls;
use uuid::Uuid;

mod push;

use super::migrations;
use super::pg_tls::RustlsConnect;
use super::{
    form_row, from_json, parse_entity, parse_uuid, to_json, validate_team, Decide, FormRow,
    Officer, OfficerActivity, OfficerSummary, PullPage, Store, StoreOptions, StoreStats,
    StoredRecord, WriteKeys,
};
use crate::forms::Form;
use crate::server::error::StoreError;
use crate::server::wire::{StoredColumns, WireRecord};

type Param<'a> = &'a (dyn tokio_postgres::types::ToSql + Sync);

/// Key of the advisory lock held while the schema is created or migrated.
const MIGRATION_LOCK: i64 = 0x6669_656c_6473_796e; // "fieldsyn"

const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS version_counter (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    version BIGINT NOT NULL,
    server_id BIGINT NOT NULL
);
INSERT INTO version_counter (id, version, server_id) VALUES (1, 0, 0) ON CONFLICT DO NOTHING;
CREATE TABLE IF NOT EXISTS officers (
    id TEXT PRIMARY KEY,
    team TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);
CREATE TABLE IF NOT EXISTS records (
    id TEXT PRIMARY KEY,
    server_id BIGINT NOT NULL UNIQUE,
    entity_type TEXT NOT NULL,
    team TEXT NOT NULL,
    version BIGINT NOT NULL,
    deleted BOOLEAN NOT NULL,
    deleted_by TEXT,
    fields TEXT NOT NULL,
    stamps TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS records_team_version ON records (team, version);
CREATE TABLE IF NOT EXISTS ops (
    op_id TEXT PRIMARY KEY,
    hash TEXT NOT NULL,
    result TEXT NOT NULL
);
"#;

/// Migration step "export index" (issue 12): lets `admin export` page through one entity's
/// records by version without scanning the table. Idempotent and harmless to older builds.
const EXPORT_INDEX: &str =
    "CREATE INDEX IF NOT EXISTS records_entity_version ON records (entity_type, version);";

/// The `WHERE` clause of an export: `$1` entity, `$2` team or NULL, `$3` after, `$4` upto,
/// `$5` include deleted.
const EXPORT_WHERE: &str = "entity_type = $1 AND ($2::text IS NULL OR team = $2) \
     AND version > $3 AND version <= $4 AND ($5 OR NOT deleted)";

/// Run once on every new pooled connection. `force_custom_plan`: a prepared statement is
/// planned for its parameters on every execution (tens of microseconds for our keyed
/// statements), never frozen as a generic plan chosen while the tables were still empty.
/// Being a session setting it needs no DDL and no table ownership.
const SESSION_SETTINGS: &str = "SET plan_cache_mode = force_custom_plan";

const RECORD_COLS: &str =
    "id, server_id, entity_type, team, version, deleted, deleted_by, fields, stamps, audit, echo_device";

/// The PostgreSQL store.
pub struct PgStore {
    pool: Pool,
    /// How long a request waits for a pooled connection (for the exhaustion message).
    wait: Duration,
    /// Wakes the statistics keeper ([`super::pg_stats`]) after writes.
    written: super::pg_stats::Written,
}

fn pool_err(e: impl std::fmt::Display) -> StoreError {
    StoreError::Pool(e.to_string())
}

fn to_record(r: &tokio_postgres::Row) -> Result<StoredRecord, StoreError> {
    let get = |e: tokio_postgres::Error| StoreError::Postgres {
        context: "read record row".into(),
        source: e,
    };
    let id: String = r.try_get(0).map_err(get)?;
    let et: String = r.try_get(2).map_err(get)?;
    let deleted_by: Option<String> = r.try_get(6).map_err(get)?;
    let fields: String = r.try_get(7).map_err(get)?;
    let stamps: String = r.try_get(8).map_err(get)?;
    let audit: String = r.try_get(9).map_err(get)?;
    // Exports select the first ten columns only.
    let echo: Option<String> = match r.len() > 10 {
        true => r.try_get(10).map_err(get)?,
        false => None,
    };
    Ok(StoredRecord {
        server_id: r.try_get(1).map_err(get)?,
        entity_type: parse_entity(&et)?,
        id: parse_uuid("record id", &id)?,
        team: r.try_get(3).map_err(get)?,
        version: r.try_get(4).map_err(get)?,
        deleted: r.try_get(5).map_err(get)?,
        deleted_by: deleted_by
            .map(|d| parse_uuid("deleted_by", &d))
            .transpose()?,
        fields: from_json("record fields", &fields)?,
        stamps: from_json("record stamps", &stamps)?,
        audit: from_json("record audit", &audit)?,
        echo_device: echo.map(|d| parse_uuid("echo_device", &d)).transpose()?,
    })
}

fn to_summary(r: &tokio_postgres::Row) -> Result<OfficerSummary, StoreError> {
    let get = StoreError::pg("read officer activity");
    Ok(OfficerSummary {
        officer: to_officer(r)?,
        last_push_at: r.try_get(4).map_err(StoreError::pg("read last push"))?,
        last_pull_at: r.try_get(5).map_err(StoreError::pg("read last pull"))?,
        changes_pushed: r.try_get(6).map_err(get)?,
    })
}

/// The statement recording an officer's activity, and its parameters.
fn activity_sql(a: &OfficerActivity) -> (&'static str, Vec<Param<'_>>) {
    match a {
        OfficerActivity::Pushed {
            officer,
            changes,
            at,
        } => (
            "UPDATE officers SET last_push_at = $2, changes_pushed = changes_pushed + $3 WHERE id = $1",
            vec![officer as Param<'_>, at as Param<'_>, changes as Param<'_>],
        ),
        OfficerActivity::Pulled { officer, at } => (
            "UPDATE officers SET last_pull_at = $2 WHERE id = $1",
            vec![officer as Param<'_>, at as Param<'_>],
        ),
    }
}

fn to_officer(r: &tokio_postgres::Row) -> Result<Officer, StoreError> {
    let get = |e: tokio_postgres::Error| StoreError::Postgres {
        context: "read officer row".into(),
        source: e,
    };
    Ok(Officer {
        id: r.try_get(0).map_err(get)?,
        team: r.try_get(1).map_err(get)?,
        created_at: r.try_get(2).map_err(get)?,
        revoked: r.try_get::<_, Option<String>>(3).map_err(get)?.is_some(),
    })
}

/// Bytes per table of the store's schema, indexes and TOAST included.
async fn table_bytes(
    c: &deadpool_postgres::Object,
) -> Result<std::collections::BTreeMap<String, i64>, StoreError> {
    let rows = c
        .query(
            "SELECT c.relname::text, pg_total_relation_size(c.oid) FROM pg_class c
             WHERE c.relkind = 'r' AND c.relnamespace = current_schema()::regnamespace",
            &[],
        )
        .await
        .map_err(StoreError::pg("read table sizes"))?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get(0).map_err(StoreError::pg("read table name"))?,
                r.try_get(1).map_err(StoreError::pg("read table size"))?,
            ))
        })
        .collect()
}

/// Parses a connection string and fills in what libpq would take from the environment:
/// the password from `PGPASSWORD`, else from `PGPASSFILE` (default `~/.pgpass`).
fn connection_config(url: &str) -> Result<(tokio_postgres::Config, Tls), StoreError> {
    let mut config: tokio_postgres::Config = url
        .parse()
        .map_err(StoreError::pg("parse the connection string"))?;
    if config.get_password().is_none() {
        if let Some(password) = super::pgpass::password_for(&config) {
            config.password(password);
        }
    }
    // A TLS setting that cannot work (no trusted certificate) fails here, clearly; the trust
    // store is read once, here, for every connection made with this config.
    let tls = Tls::for_config(&config)?;
    Ok((config, tls))
}

/// How connections are made: plain, or verified TLS when the connection string says
/// `sslmode=require` (see [`super::pg_tls`]).
#[derive(Clone)]
enum Tls {
    Plain,
    Verified(RustlsConnect),
}

impl Tls {
    fn for_config(config: &tokio_postgres::Config) -> Result<Tls, StoreError> {
        match config.get_ssl_mode() {
            SslMode::Require => Ok(Tls::Verified(RustlsConnect::from_environment()?)),
            _ => Ok(Tls::Plain),
        }
    }
}

/// One connection outside the pool, with the task driving it.
async fn connect_one(
    config: &tokio_postgres::Config,
    tls: &Tls,
) -> Result<(tokio_postgres::Client, tokio::task::JoinHandle<()>), tokio_postgres::Error> {
    fn drive<F>(conn: F) -> tokio::task::JoinHandle<()>
    where
        F: Future<Output = Result<(), tokio_postgres::Error>> + Send + 'static,
    {
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!("single connection closed: {e}");
            }
        })
    }
    match tls {
        Tls::Verified(tls) => {
            let (client, conn) = config.connect(tls.clone()).await?;
            Ok((client, drive(conn)))
        }
        Tls::Plain => {
            let (client, conn) = config.connect(NoTls).await?;
            Ok((client, drive(conn)))
        }
    }
}

/// The schema version recorded in the database, `None` when it has no fieldsync schema;
/// a newer version than this build knows is [`StoreError::NewerSchema`]. Reads only.
async fn schema_version(client: &tokio_postgres::Client) -> Result<Option<i64>, StoreError> {
    let has_meta: bool = client
        .query_one("SELECT to_regclass('meta') IS NOT NULL", &[])
        .await
        .and_then(|r| r.try_get(0))
        .map_err(StoreError::pg("look for the fieldsync schema"))?;
    if !has_meta {
        return Ok(None);
    }
    let found: Option<String> = client
        .query_opt("SELECT value FROM meta WHERE key = 'schema_version'", &[])
        .await
        .and_then(|r| r.map(|r| r.try_get(0)).transpose())
        .map_err(StoreError::pg("read the schema version"))?;
    found.map(|v| super::check_schema_version(&v)).transpose()
}

/// Creates the base schema if absent and applies every pending step, holding the
/// migration advisory lock (released when the connection closes, even on failure). A role
/// without the right to change the schema gets [`StoreError::NeedsMigration`].
async fn migrate_locked(client: &tokio_postgres::Client) -> Result<(), StoreError> {
    client
        .execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK])
        .await
        .map_err(StoreError::pg("take the migration lock"))?;
    // Read again under the lock: another process may have migrated meanwhile.
    let found = schema_version(client).await?;
    if found != Some(super::SCHEMA_VERSION) {
        let secret = hex::encode(rand::random::<[u8; 32]>());
        let base = async {
            client.batch_execute(SCHEMA).await?;
            client.batch_execute(EXPORT_INDEX).await?;
            client
                .execute(
                    "INSERT INTO meta (key, value) VALUES ('cursor_secret', $1), ('history_floor', '0'), ('schema_version', '1') ON CONFLICT DO NOTHING",
                    &[&secret],
                )
                .await
        };
        let created = base.await;
        let migrated = match created {
            Ok(_) => {
                let now = schema_version(client).await?.unwrap_or(1);
                migrate(client, now).await
            }
            Err(e) => Err(StoreError::pg("create schema")(e)),
        };
        if let Err(e) = migrated {
            return Err(needs_owner(e, found.unwrap_or(0)));
        }
    }
    client
        .execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK])
        .await
        .map_err(StoreError::pg("release the migration lock"))?;
    Ok(())
}

/// A schema change refused for lack of privilege becomes [`StoreError::NeedsMigration`].
fn needs_owner(e: StoreError, found: i64) -> StoreError {
    let denied = |source: &tokio_postgres::Error| {
        source.code().is_some_and(|c| {
            *c == tokio_postgres::error::SqlState::INSUFFICIENT_PRIVILEGE || c.code() == "42501"
        })
    };
    match e {
        StoreError::Postgres { ref source, .. } if denied(source) => {
            let reason = source
                .as_db_error()
                .map_or_else(|| source.to_string(), |d| d.message().to_string());
            StoreError::NeedsMigration {
                found,
                wanted: super::SCHEMA_VERSION,
                reason,
            }
        }
        other => other,
    }
}

/// The connection pool: `options.pool_size` connections at most, a request waiting at most
/// `options.pool_wait` for one.
fn build_pool(
    config: tokio_postgres::Config,
    tls: Tls,
    options: &StoreOptions,
) -> Result<Pool, StoreError> {
    let manager_config = ManagerConfig {
        recycling_method: RecyclingMethod::Fast,
    };
    let mgr = match tls {
        Tls::Verified(tls) => Manager::from_config(config, tls, manager_config),
        Tls::Plain => Manager::from_config(config, NoTls, manager_config),
    };
    Pool::builder(mgr)
        .max_size(options.pool_size)
        .runtime(Runtime::Tokio1)
        .wait_timeout(Some(options.pool_wait))
        .create_timeout(Some(Duration::from_secs(10)))
        .post_create(Hook::async_fn(|client, _| {
            Box::pin(async move {
                client
                    .batch_execute(SESSION_SETTINGS)
                    .await
                    .map_err(HookError::Backend)
            })
        }))
        .build()
        .map_err(pool_err)
}

/// Closes pooled connections idle for longer than `idle`, checking every `idle / 4`, so a
/// burst's connections do not stay open on the database forever.
fn spawn_idle_reaper(pool: Pool, idle: Duration) {
    let every = (idle / 4).max(Duration::from_secs(1));
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.tick().await;
        loop {
            tick.tick().await;
            if pool.is_closed() {
                return;
            }
            pool.retain(|_, metrics| metrics.last_used() < idle);
        }
    });
}

/// Applies the migration steps above `found`, each in its own transaction with the new
/// schema version (the caller holds the migration lock).
async fn migrate(client: &tokio_postgres::Client, found: i64) -> Result<(), StoreError> {
    for step in migrations::pending(found) {
        let sql = format!(
            "BEGIN; {} UPDATE meta SET value = '{}' WHERE key = 'schema_version'; COMMIT;",
            step.postgres, step.version
        );
        client
            .batch_execute(&sql)
            .await
            .map_err(StoreError::pg(format!("migrate: {}", step.name)))?;
    }
    Ok(())
}

impl PgStore {
    /// Fails unless `url` names an existing database holding the fieldsync schema; creates
    /// and changes nothing.
    pub async fn check_existing(url: &str) -> Result<(), StoreError> {
        let (config, tls) = connection_config(url)?;
        let shown = config.get_dbname().map_or_else(
            || "the PostgreSQL database".to_string(),
            |d| format!("PostgreSQL database {d:?}"),
        );
        let (client, task) = match connect_one(&config, &tls).await {
            Ok(c) => c,
            Err(e) if e.code() == Some(&tokio_postgres::error::SqlState::INVALID_CATALOG_NAME) => {
                return Err(StoreError::Missing(shown));
            }
            Err(e) => return Err(StoreError::pg("connect")(e)),
        };
        let found: bool = client
            .query_one(
                "SELECT to_regclass('meta') IS NOT NULL AND to_regclass('officers') IS NOT NULL AND to_regclass('records') IS NOT NULL",
                &[],
            )
            .await
            .and_then(|r| r.try_get(0))
            .map_err(StoreError::pg("look for the fieldsync schema"))?;
        drop(client);
        let _ = task.await;
        if found {
            Ok(())
        } else {
            Err(StoreError::NotFieldsync(shown))
        }
    }

    /// Connects to `url` with the default [`StoreOptions`]; see [`PgStore::open_with`].
    pub async fn open(url: &str) -> Result<PgStore, StoreError> {
        PgStore::open_with(url, &StoreOptions::default()).await
    }

    /// Connects to `url`, brings the schema to this build's version when it is older or
    /// absent (under an advisory lock), and builds the pool.
    ///
    /// A database already at this build's version gets no DDL and no lock at all: a role
    /// with only SELECT/INSERT/UPDATE/DELETE on the tables can serve it. A newer schema is
    /// refused before anything is touched.
    pub async fn open_with(url: &str, options: &StoreOptions) -> Result<PgStore, StoreError> {
        let (config, tls) = connection_config(url)?;
        {
            let (client, task) = connect_one(&config, &tls)
                .await
                .map_err(StoreError::pg("connect"))?;
            if schema_version(&client).await? != Some(super::SCHEMA_VERSION) {
                migrate_locked(&client).await?;
            }
            drop(client);
            let _ = task.await;
        }
        let pool = build_pool(config, tls, options)?;
        spawn_idle_reaper(pool.clone(), options.pool_idle);
        let written = super::pg_stats::spawn_statistics_keeper(pool.clone());
        Ok(PgStore {
            pool,
            wait: options.pool_wait,
            written,
        })
    }

    /// Creates or upgrades the schema of the database at `url` (what `admin migrate` runs,
    /// as the schema owner); the schema versions before and after.
    pub async fn migrate(url: &str) -> Result<(Option<i64>, i64), StoreError> {
        let (config, tls) = connection_config(url)?;
        let (client, task) = connect_one(&config, &tls)
            .await
            .map_err(StoreError::pg("connect"))?;
        let before = schema_version(&client).await?;
        if before != Some(super::SCHEMA_VERSION) {
            migrate_locked(&client).await?;
        }
        drop(client);
        let _ = task.await;
        Ok((before, super::SCHEMA_VERSION))
    }

    async fn client(&self) -> Result<deadpool_postgres::Object, StoreError> {
        self.pool.get().await.map_err(|e| match e {
            PoolError::Timeout(TimeoutType::Wait) => {
                let size = self.pool.status().max_size;
                tracing::warn!(
                    pool_size = size,
                    "pool exhausted: every connection stayed busy for the whole wait"
                );
                StoreError::PoolExhausted {
                    size,
                    waited_ms: self.wait.as_millis(),
                }
            }
            other => pool_err(other),
        })
    }

    async fn meta(&self, key: &str) -> Result<String, StoreError> {
        let c = self.client().await?;
        let st = c
            .prepare_cached("SELECT value FROM meta WHERE key = $1")
            .await
            .map_err(StoreError::pg("prepare meta read"))?;
        let row = c
            .query_one(&st, &[&key])
            .await
            .map_err(StoreError::pg(format!("read meta {key}")))?;
        row.try_get(0).map_err(StoreError::pg("read meta value"))
    }
}

#[async_trait]
impl Store for PgStore {
    fn kind(&self) -> &'static str {
        "postgres"
    }

    fn pool_status(&self) -> Option<crate::server::metrics::PoolStatus> {
        let s = self.pool.status();
        Some(crate::server::metrics::PoolStatus {
            max: s.max_size,
            open: s.size,
            in_use: s.size.saturating_sub(s.available),
            waiting: s.waiting,
        })
    }

    async fn officer_by_token_hash(&self, token_hash: &str) -> Result<Option<Officer>, StoreError> {
        let c = self.client().await?;
        let st = c
            .prepare_cached(
                "SELECT id, team, created_at, revoked_at FROM officers WHERE token_hash = $1",
            )
            .await
            .map_err(StoreError::pg("prepare token lookup"))?;
        let row = c
            .query_opt(&st, &[&token_hash])
            .await
            .map_err(StoreError::pg("look up token"))?;
        row.as_ref().map(to_officer).transpose()
    }

    async fn write(&self, keys: WriteKeys, decide: Decide) -> Result<(), StoreError> {
        let asked = std::time::Instant::now();
        let mut c = self.client().await?;
        crate::server::metrics::global().pool_wait(asked.elapsed());
        push::write(&mut c, &keys, decide).await?;
        self.written.mark();
        Ok(())
    }

    async fn pull(
        &self,
        team: &str,
        after: i64,
        limit: u32,
        skip_device: Option<Uuid>,
    ) -> Result<PullPage, StoreError> {
        let c = self.client().await?;
        // With a device to skip: how far the team's versions reach, read first. Every
        // version up to it has committed (the prefix rule), so the page read next sees them.
        let upto = match skip_device {
            None => i64::MAX,
            Some(_) => {
                let st = c
                    .prepare_cached("SELECT max(version) FROM records WHERE team = $1")
                    .await
                    .map_err(StoreError::pg("prepare pull"))?;
                let row = c
                    .query_one(&st, &[&team])
                    .await
                    .map_err(StoreError::pg("pull: the team's last version"))?;
                let upto: Option<i64> = row.try_get(0).map_err(StoreError::pg("pull"))?;
                upto.unwrap_or(after).max(after)
            }
        };
        let skip = skip_device.map(|d| d.to_string());
        let st = c
            .prepare_cached(
                "SELECT id, server_id, entity_type, version, deleted, fields, audit FROM records
                 WHERE team = $1 AND version > $2 AND version <= $3
                   AND ($4::text IS NULL OR echo_device IS NULL OR echo_device <> $4)
                 ORDER BY version LIMIT $5",
            )
            .await
            .map_err(StoreError::pg("prepare pull"))?;
        let rows = c
            .query(&st, &[&team, &after, &upto, &skip, &(i64::from(limit) + 1)])
            .await
            .map_err(StoreError::pg("pull"))?;
        let mut records = Vec::with_capacity(rows.len());
        // The wire record only: the stamps are neither read nor parsed.
        let get = |e: tokio_postgres::Error| StoreError::Postgres {
            context: "read pulled record".into(),
            source: e,
        };
        // Fields and audit are copied through as JSON text (see `crate::server::wire`).
        for r in &rows {
            records.push(WireRecord::from_stored(StoredColumns {
                id: r.try_get(0).map_err(get)?,
                server_id: r.try_get(1).map_err(get)?,
                entity_type: r.try_get(2).map_err(get)?,
                version: r.try_get(3).map_err(get)?,
                deleted: r.try_get(4).map_err(get)?,
                fields: r.try_get(5).map_err(get)?,
                audit: r.try_get(6).map_err(get)?,
            })?);
        }
        let has_more = records.len() > limit as usize;
        records.truncate(limit as usize);
        let covered = skip_device.is_some().then_some(upto).filter(|_| !has_more);
        Ok(PullPage {
            records,
            has_more,
            covered,
        })
    }

    async fn cursor_secret(&self) -> Result<Vec<u8>, StoreError> {
        let s = self.meta("cursor_secret").await?;
        hex::decode(&s).map_err(|e| StoreError::Corrupt(format!("cursor secret: {e}")))
    }

    async fn history_floor(&self) -> Result<i64, StoreError> {
        let s = self.meta("history_floor").await?;
        s.parse()
            .map_err(|e| StoreError::Corrupt(format!("history floor {s:?}: {e}")))
    }

    async fn add_officer(&self, id: &str, team: &str, token_hash: &str) -> Result<(), StoreError> {
        crate::model::validate_officer_id(id).map_err(|e| StoreError::Invalid(e.message))?;
        validate_team(team)?;
        let c = self.client().await?;
        let n = c
            .execute(
                "INSERT INTO officers (id, team, token_hash, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING",
                &[&id, &team, &token_hash, &crate::model::now_timestamp()],
            )
            .await
            .map_err(StoreError::pg("add officer"))?;
        if n == 0 {
            return Err(StoreError::DuplicateOfficer(id.to_string()));
        }
        Ok(())
    }

    async fn list_officers(&self) -> Result<Vec<OfficerSummary>, StoreError> {
        let c = self.client().await?;
        let rows = c
            .query(
                "SELECT id, team, created_at, revoked_at, last_push_at, last_pull_at, changes_pushed FROM officers ORDER BY id",
                &[],
            )
            .await
            .map_err(StoreError::pg("list officers"))?;
        rows.iter().map(to_summary).collect()
    }

    async fn reissue_token(&self, id: &str, token_hash: &str) -> Result<(), StoreError> {
        let c = self.client().await?;
        let n = c
            .execute(
                "UPDATE officers SET token_hash = $2, revoked_at = NULL WHERE id = $1",
                &[&id, &token_hash],
            )
            .await
            .map_err(StoreError::pg("issue a new token"))?;
        if n == 0 {
            return Err(StoreError::UnknownOfficer(id.to_string()));
        }
        Ok(())
    }

    async fn record_pull(&self, officer: &str, at: &str) -> Result<(), StoreError> {
        let c = self.client().await?;
        let a = OfficerActivity::Pulled {
            officer: officer.to_string(),
            at: at.to_string(),
        };
        let (sql, params) = activity_sql(&a);
        let st = c
            .prepare_cached(sql)
            .await
            .map_err(StoreError::pg("prepare pull record"))?;
        c.execute(&st, &params)
            .await
            .map_err(StoreError::pg("record a pull"))?;
        Ok(())
    }

    async fn stats(&self) -> Result<StoreStats, StoreError> {
        let c = self.client().await?;
        let row = c
            .query_one(
                "SELECT (SELECT count(*) FROM officers),
                        (SELECT count(*) FROM officers WHERE revoked_at IS NOT NULL),
                        (SELECT count(*) FROM records),
                        (SELECT count(*) FROM records WHERE deleted),
                        GREATEST((SELECT max(version) FROM team_versions),
                                 (SELECT value::bigint FROM meta WHERE key = 'version_base')),
                        (SELECT value::bigint FROM meta WHERE key = 'history_floor'),
                        (SELECT value::bigint FROM meta WHERE key = 'schema_version'),
                        (SELECT count(*) FROM ops),
                        (SELECT count(*) FROM forms),
                        pg_database_size(current_database()),
                        (SELECT count(*) FROM device_ops)",
                &[],
            )
            .await
            .map_err(StoreError::pg("read stats"))?;
        let get = |i: usize| -> Result<i64, StoreError> {
            row.try_get(i)
                .map_err(StoreError::pg("read a stats column"))
        };
        Ok(StoreStats {
            officers: get(0)?,
            revoked_officers: get(1)?,
            records: get(2)?,
            tombstones: get(3)?,
            current_version: get(4)?,
            history_floor: get(5)?,
            schema_version: get(6)?,
            stored_results: get(7)?,
            forms: get(8)?,
            database_bytes: get(9)?,
            table_bytes: table_bytes(&c).await?,
            devices_tracked: get(10)?,
        })
    }

    async fn trim_ops(&self, stored_upto: i64, limit: u32) -> Result<u64, StoreError> {
        let mut c = self.client().await?;
        let tx = c
            .transaction()
            .await
            .map_err(StoreError::pg("begin op trim"))?;
        // Serialises trims and purges across server processes. Pushes do not take this
        // lock (they lock their team's counter): a push looks its op_ids up and then reads
        // the device's mark in a later statement, so under READ COMMITTED a lookup that
        // missed a row this trim deleted sees the mark this trim raised (same commit).
        tx.execute(
            "SELECT version FROM version_counter WHERE id = 1 FOR UPDATE",
            &[],
        )
        .await
        .map_err(StoreError::pg("lock version counter"))?;
        let limit = i64::from(limit);
        let rows = tx
            .query(
                "SELECT op_id, device_id, seq FROM ops WHERE stored_at <= $1 LIMIT $2",
                &[&stored_upto, &limit],
            )
            .await
            .map_err(StoreError::pg("find op results to trim"))?;
        let mut marks: std::collections::BTreeMap<String, i64> = Default::default();
        let mut ids = Vec::with_capacity(rows.len());
        for r in &rows {
            ids.push(
                r.try_get::<_, String>(0)
                    .map_err(StoreError::pg("read op_id"))?,
            );
            let device: Option<String> = r.try_get(1).map_err(StoreError::pg("read device"))?;
            let seq: Option<i64> = r.try_get(2).map_err(StoreError::pg("read seq"))?;
            if let (Some(d), Some(s)) = (device, seq) {
                let m = marks.entry(d).or_insert(s);
                *m = (*m).max(s);
            }
        }
        // Device rows first (in key order), then the results: the order a push takes them.
        let (devices, seqs): (Vec<String>, Vec<i64>) = marks.into_iter().unzip();
        tx.execute(
            "INSERT INTO device_ops (device_id, forgotten_upto)
             SELECT * FROM UNNEST($1::text[], $2::int8[])
             ON CONFLICT (device_id) DO UPDATE
                 SET forgotten_upto = GREATEST(device_ops.forgotten_upto, EXCLUDED.forgotten_upto)",
            &[&devices, &seqs],
        )
        .await
        .map_err(StoreError::pg("raise devices' op marks"))?;
        let n = tx
            .execute("DELETE FROM ops WHERE op_id = ANY($1)", &[&ids])
            .await
            .map_err(StoreError::pg("trim op results"))?;
        tx.commit()
            .await
            .map_err(StoreError::pg("commit op trim"))?;
        Ok(n)
    }

    async fn backup(&self, _dest: &std::path::Path) -> Result<(), StoreError> {
        Err(StoreError::Invalid(
            "a PostgreSQL database is backed up with pg_dump -Fc, not fieldsync admin backup"
                .into(),
        ))
    }

    async fn revoke_officer(&self, id: &str) -> Result<(), StoreError> {
        let c = self.client().await?;
        let n = c
            .execute(
                "UPDATE officers SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1",
                &[&id, &crate::model::now_timestamp()],
            )
            .await
            .map_err(StoreError::pg("revoke officer"))?;
        if n == 0 {
            return Err(StoreError::UnknownOfficer(id.to_string()));
        }
        Ok(())
    }

    async fn move_officer(&self, id: &str, team: &str) -> Result<(), StoreError> {
        validate_team(team)?;
        let mut c = self.client().await?;
        let tx = c
            .transaction()
            .await
            .map_err(StoreError::pg("begin the move"))?;
        // Lock order, as everywhere: the version base (shared), team rows in team order, then
        // the officer's row (a push holds its team's row, then writes its officer's row).
        tx.execute(
            "SELECT value FROM meta WHERE key = 'version_base' FOR SHARE",
            &[],
        )
        .await
        .map_err(StoreError::pg("lock the version base"))?;
        let from: String = tx
            .query_opt("SELECT team FROM officers WHERE id = $1", &[&id])
            .await
            .map_err(StoreError::pg("read the officer's team"))?
            .ok_or_else(|| StoreError::UnknownOfficer(id.to_string()))?
            .try_get(0)
            .map_err(StoreError::pg("read the officer's team"))?;
        if from == team {
            return Ok(());
        }
        let (first, second) = if from.as_str() < team {
            (from.as_str(), team)
        } else {
            (team, from.as_str())
        };
        let (v1, v2) = (
            push::lock_team(&tx, first).await?,
            push::lock_team(&tx, second).await?,
        );
        let still: String = tx
            .query_one("SELECT team FROM officers WHERE id = $1 FOR UPDATE", &[&id])
            .await
            .and_then(|r| r.try_get(0))
            .map_err(StoreError::pg("lock the officer"))?;
        if still != from {
            return Err(StoreError::Invalid(format!(
                "officer {id:?} was moved meanwhile: run the move again"
            )));
        }
        let raised = v1.max(v2);
        tx.execute(
            "UPDATE team_versions SET version = $2 WHERE team = $1",
            &[&team, &raised],
        )
        .await
        .map_err(StoreError::pg("raise the new team's version"))?;
        tx.execute(
            "UPDATE officers SET team = $2, previous_team = $3, moved_at_version = $4 WHERE id = $1",
            &[&id, &team, &from, &raised],
        )
        .await
        .map_err(StoreError::pg("move officer"))?;
        tx.commit().await.map_err(StoreError::pg("commit the move"))
    }

    async fn purge_tombstones(&self, before: i64) -> Result<u64, StoreError> {
        let mut c = self.client().await?;
        let tx = c
            .transaction()
            .await
            .map_err(StoreError::pg("begin purge"))?;
        // Every team's write lock, in team order, so no push interleaves with the purge.
        tx.execute(
            "SELECT version FROM team_versions ORDER BY team FOR UPDATE",
            &[],
        )
        .await
        .map_err(StoreError::pg("lock every team's version counter"))?;
        let n = tx
            .execute(
                "DELETE FROM records WHERE deleted AND version < $1",
                &[&before],
            )
            .await
            .map_err(StoreError::pg("purge tombstones"))?;
        tx.execute(
            "UPDATE meta SET value = GREATEST(value::bigint, $1)::text WHERE key = 'history_floor'",
            &[&(before - 1)],
        )
        .await
        .map_err(StoreError::pg("raise history floor"))?;
        tx.commit().await.map_err(StoreError::pg("commit purge"))?;
        Ok(n)
    }

    async fn current_version(&self) -> Result<i64, StoreError> {
        let c = self.client().await?;
        let row = c
            .query_one(
                "SELECT GREATEST((SELECT max(version) FROM team_versions),
                                 (SELECT value::bigint FROM meta WHERE key = 'version_base'))",
                &[],
            )
            .await
            .map_err(StoreError::pg("read the version counters"))?;
        row.try_get(0).map_err(StoreError::pg("read the version"))
    }

    async fn team_version(&self, team: &str) -> Result<i64, StoreError> {
        let c = self.client().await?;
        let st = c
            .prepare_cached(
                "SELECT COALESCE((SELECT version FROM team_versions WHERE team = $1),
                                 (SELECT value::bigint FROM meta WHERE key = 'version_base'))",
            )
            .await
            .map_err(StoreError::pg("prepare the team version read"))?;
        let row = c
            .query_one(&st, &[&team])
            .await
            .map_err(StoreError::pg("read the team's version"))?;
        row.try_get(0)
            .map_err(StoreError::pg("read the team's version"))
    }

    async fn team_versions(&self) -> Result<Vec<(String, i64)>, StoreError> {
        let c = self.client().await?;
        let rows = c
            .query("SELECT team, version FROM team_versions ORDER BY team", &[])
            .await
            .map_err(StoreError::pg("read the team versions"))?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect::<Result<_, tokio_postgres::Error>>()
            .map_err(StoreError::pg("read a team version"))
    }

    async fn previous_team(&self, officer: &str) -> Result<Option<(String, i64)>, StoreError> {
        let c = self.client().await?;
        let row = c
            .query_opt(
                "SELECT previous_team, moved_at_version FROM officers
                 WHERE id = $1 AND previous_team IS NOT NULL AND moved_at_version IS NOT NULL",
                &[&officer],
            )
            .await
            .map_err(StoreError::pg("read the officer's previous team"))?;
        row.map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .transpose()
            .map_err(StoreError::pg("read the previous team"))
    }

    async fn server_id(&self) -> Result<String, StoreError> {
        self.meta("server_id").await
    }

    async fn skip_versions(&self, at_least: i64) -> Result<(), StoreError> {
        let mut c = self.client().await?;
        let tx = c
            .transaction()
            .await
            .map_err(StoreError::pg("begin skipping versions"))?;
        // The base first (a team's creation reads it under a share lock), then every team's
        // write lock in team order: no push allocates versions while the counters jump.
        tx.execute(
            "SELECT value FROM meta WHERE key = 'version_base' FOR UPDATE",
            &[],
        )
        .await
        .map_err(StoreError::pg("lock the version base"))?;
        let handed_out: bool = tx
            .query_one(
                "SELECT COALESCE(bool_or(version > 0), false)
                 FROM (SELECT version FROM team_versions ORDER BY team FOR UPDATE) AS t",
                &[],
            )
            .await
            .and_then(|r| r.try_get(0))
            .map_err(StoreError::pg("lock every team's version counter"))?;
        if handed_out {
            let raise = [
                "INSERT INTO team_version_gaps (team, after, upto)
                 SELECT team, version, $1 FROM team_versions WHERE version < $1",
                "UPDATE team_versions SET version = $1 WHERE version < $1",
                "UPDATE meta SET value = GREATEST(value::bigint, $1)::text WHERE key = 'version_base'",
            ];
            for sql in raise {
                tx.execute(sql, &[&at_least])
                    .await
                    .map_err(StoreError::pg("raise the version counters"))?;
            }
        }
        tx.commit()
            .await
            .map_err(StoreError::pg("commit skipped versions"))
    }

    async fn skipped_range_start(
        &self,
        team: &str,
        version: i64,
    ) -> Result<Option<i64>, StoreError> {
        let c = self.client().await?;
        // Gaps recorded before per-team versions (schema step 6) apply to every team.
        let row = c
            .query_opt(
                "SELECT after FROM team_version_gaps WHERE team = $1 AND after < $2 AND $2 <= upto
                 UNION ALL
                 SELECT after FROM version_gaps WHERE after < $2 AND $2 <= upto
                 LIMIT 1",
                &[&team, &version],
            )
            .await
            .map_err(StoreError::pg("read version gaps"))?;
        row.map(|r| r.try_get(0))
            .transpose()
            .map_err(StoreError::pg("read a version gap"))
    }

    async fn export_answer_keys(
        &self,
        filter: &super::ExportFilter,
    ) -> Result<Vec<String>, StoreError> {
        let c = self.client().await?;
        let sql = format!(
            "SELECT DISTINCT substr(k, 9) FROM records, json_object_keys(fields::json) AS k \
             WHERE {EXPORT_WHERE} AND k LIKE 'answers.%' ORDER BY 1"
        );
        let entity = filter.entity.as_str();
        let rows = c
            .query(
                &sql,
                &[
                    &entity,
                    &filter.team,
                    &filter.after,
                    &filter.upto,
                    &filter.include_deleted,
                ],
            )
            .await
            .map_err(StoreError::pg("export keys"))?;
        rows.iter()
            .map(|r| r.try_get(0).map_err(StoreError::pg("read export key")))
            .collect()
    }

    async fn export_page(
        &self,
        filter: &super::ExportFilter,
        limit: u32,
    ) -> Result<Vec<StoredRecord>, StoreError> {
        let c = self.client().await?;
        let st = c
            .prepare_cached(&format!(
                "SELECT id, server_id, entity_type, team, version, deleted, deleted_by, fields, '{{}}', audit \
                 FROM records WHERE {EXPORT_WHERE} ORDER BY version LIMIT $6"
            ))
            .await
            .map_err(StoreError::pg("prepare export page"))?;
        let entity = filter.entity.as_str();
        let rows = c
            .query(
                &st,
                &[
                    &entity,
                    &filter.team,
                    &filter.after,
                    &filter.upto,
                    &filter.include_deleted,
                    &i64::from(limit),
                ],
            )
            .await
            .map_err(StoreError::pg("export page"))?;
        rows.iter().map(to_record).collect()
    }
    async fn publish_form(&self, team: &str, form: &Form) -> Result<FormRow, StoreError> {
        validate_team(team)?;
        let mut c = self.client().await?;
        let tx = c
            .transaction()
            .await
            .map_err(StoreError::pg("begin publish"))?;
        // The team's write lock: publishes of one team never race for a version number.
        push::lock_team(&tx, team).await?;
        let last: i64 = tx
            .query_one(
                "SELECT COALESCE(MAX(version), 0) FROM forms WHERE team = $1",
                &[&team],
            )
            .await
            .and_then(|r| r.try_get(0))
            .map_err(StoreError::pg("read the last form version"))?;
        let version = u32::try_from(last + 1)
            .map_err(|_| StoreError::Corrupt(format!("form version {last}")))?;
        let row = FormRow {
            team: team.to_string(),
            published_at: crate::model::now_timestamp(),
            form: crate::forms::PublishedForm::new(version, form.clone()),
        };
        tx.execute(
            "INSERT INTO forms (team, version, content_hash, form, published_at) VALUES ($1, $2, $3, $4, $5)",
            &[
                &row.team,
                &i64::from(version),
                &row.form.content_hash,
                &to_json(&row.form.form)?,
                &row.published_at,
            ],
        )
        .await
        .map_err(StoreError::pg("store the form"))?;
        tx.commit()
            .await
            .map_err(StoreError::pg("commit publish"))?;
        Ok(row)
    }

    async fn forms(&self, team: Option<&str>, after: u32) -> Result<Vec<FormRow>, StoreError> {
        let c = self.client().await?;
        let rows = c
            .query(
                "SELECT team, version, content_hash, form, published_at FROM forms \
                 WHERE ($1::text IS NULL OR team = $1) AND version > $2 ORDER BY team, version",
                &[&team, &i64::from(after)],
            )
            .await
            .map_err(StoreError::pg("read forms"))?;
        rows.iter()
            .map(|r| {
                let get = |e| StoreError::pg("read a form row")(e);
                let form: String = r.try_get(3).map_err(get)?;
                form_row(
                    r.try_get(0).map_err(get)?,
                    r.try_get(1).map_err(get)?,
                    r.try_get(2).map_err(get)?,
                    &form,
                    r.try_get(4).map_err(get)?,
                )
            })
            .collect()
    }
}
