//! Server errors: store failures ([`StoreError`]), refusals of the sync rules
//! ([`ServiceError`], each with the wire [`ErrorCode`] a client sees) and failures starting
//! the server ([`ServeError`]). HTTP statuses are chosen in `server::http`, not here.

use crate::protocol::{ErrorCode, MAX_PULL_LIMIT, MAX_PUSH_CHANGES};

/// Why the service refused or failed a request. Nothing of a refused request was applied.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The token is missing, unknown or revoked.
    #[error("{0}")]
    Unauthorized(String),
    /// A push with more changes than the protocol allows.
    #[error("{count} changes in one push; the limit is {MAX_PUSH_CHANGES}")]
    BatchTooLarge { count: usize },
    /// A pull page size out of range.
    #[error("limit must be a whole number from 1 to {MAX_PULL_LIMIT}, not {0:?}")]
    InvalidLimit(String),
    /// A cursor this server did not issue to this officer.
    #[error("this cursor was not issued by this server to this officer")]
    InvalidCursor,
    /// The cursor points into history the server has forgotten: pull from scratch.
    #[error("the server no longer keeps the history this cursor points into: pull from scratch")]
    ResyncRequired,
    /// The device saw versions beyond `current`, where this database's history ends (it was
    /// restored from a backup): the device must send again what it lost.
    #[error("this server's history ends at version {current} but this device saw later ones: the server was restored from a backup; send again what it lost, then pull from scratch")]
    ServerBehind { current: i64 },
    /// `purge-tombstones` beyond the last version handed out (it would purge tombstones
    /// not yet written, and raise the history floor above every cursor).
    #[error("--before-version {given} is beyond the current version {current}: give at most {} (purges every tombstone up to the current version)", current + 1)]
    VersionBeyondCurrent { given: i64, current: i64 },
    /// A push's `sequence` does not fit its changes (op-id retention).
    #[error("{0}")]
    BadSequence(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ServiceError {
    /// The error code a client sees.
    pub fn code(&self) -> ErrorCode {
        match self {
            ServiceError::Unauthorized(_) => ErrorCode::Unauthorized,
            ServiceError::BatchTooLarge { .. } => ErrorCode::BatchTooLarge,
            ServiceError::InvalidLimit(_)
            | ServiceError::VersionBeyondCurrent { .. }
            | ServiceError::BadSequence(_) => ErrorCode::BadRequest,
            ServiceError::InvalidCursor => ErrorCode::InvalidCursor,
            ServiceError::ResyncRequired => ErrorCode::ResyncRequired,
            ServiceError::ServerBehind { .. } => ErrorCode::ServerBehind,
            ServiceError::Store(e) => e.code(),
        }
    }
}

/// A failure of a store operation. Nothing of the failed operation was applied: every
/// write runs in one transaction.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite failed (I/O, corruption, busy, ...).
    #[error("SQLite {context}: {source}")]
    Sqlite {
        context: String,
        #[source]
        source: rusqlite::Error,
    },
    /// PostgreSQL failed (connection, query, ...).
    #[error("PostgreSQL {context}: {}", pg_detail(source))]
    Postgres {
        context: String,
        #[source]
        source: tokio_postgres::Error,
    },
    /// No connection could be had from the PostgreSQL pool.
    #[error("PostgreSQL pool: {0}")]
    Pool(String),
    /// Every pooled connection stayed busy for the pool's whole wait time.
    #[error("PostgreSQL pool exhausted: all {size} connections stayed busy for {waited_ms} ms (raise --pool-size, within the database's max_connections)")]
    PoolExhausted { size: usize, waited_ms: u128 },
    /// The database was written by a newer fieldsync; nothing was changed in it.
    #[error("the database has schema version {found}, from a newer fieldsync (this one knows {known}): upgrade fieldsync; nothing was changed")]
    NewerSchema { found: i64, known: i64 },
    /// The schema needs creating or upgrading and this role may not (least-privilege role).
    #[error("the database schema is at version {found} and this fieldsync needs {wanted}, but this role may not change the schema ({reason}): run `fieldsync admin migrate --database ...` as the schema owner, then start again")]
    NeedsMigration {
        found: i64,
        wanted: i64,
        reason: String,
    },
    /// Stored data that does not parse: a bug or a corrupted database.
    #[error("corrupt stored data: {0}")]
    Corrupt(String),
    /// A file-system failure (creating the database directory, ...).
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    /// `admin` on a database that does not exist (a SQLite path or PostgreSQL database).
    #[error("no fieldsync database at {0}: check --database (only `fieldsync serve` creates one)")]
    Missing(String),
    /// `admin` on a database without the fieldsync schema.
    #[error("{0} is not a fieldsync server database: check --database (only `fieldsync serve` creates one)")]
    NotFieldsync(String),
    /// A file `admin backup` must not overwrite.
    #[error("{0} already exists: choose a new file name (a backup never overwrites)")]
    Exists(String),
    /// A named officer does not exist.
    #[error("no officer {0:?}")]
    UnknownOfficer(String),
    /// An officer with this id already exists.
    #[error("officer {0:?} already exists")]
    DuplicateOfficer(String),
    /// A named form version does not exist.
    #[error("{0}")]
    UnknownForm(String),
    /// A value given to an admin command is invalid.
    #[error("{0}")]
    Invalid(String),
    /// `--database` names no database (the message never shows the value).
    #[error(transparent)]
    Database(#[from] crate::server::database::DatabaseError),
    /// The blocking task running a SQLite call died (a panic).
    #[error("store task failed: {0}")]
    Task(String),
    /// A write would store a record of another team than the one whose versions it
    /// allocates (a bug: every write touches one team's rows only); nothing was written.
    #[error("refused a write that crosses teams: {0}")]
    CrossTeam(String),
}

/// A PostgreSQL error with the server's message (tokio-postgres' own Display says only
/// "db error").
fn pg_detail(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{} ({})", db.message(), db.code().code()),
        None => {
            let mut out = e.to_string();
            let mut src = std::error::Error::source(e);
            while let Some(s) = src {
                out.push_str(": ");
                out.push_str(&s.to_string());
                src = s.source();
            }
            out
        }
    }
}

impl StoreError {
    pub fn sqlite(context: impl Into<String>) -> impl FnOnce(rusqlite::Error) -> StoreError {
        let context = context.into();
        move |source| StoreError::Sqlite { context, source }
    }

    pub fn pg(context: impl Into<String>) -> impl FnOnce(tokio_postgres::Error) -> StoreError {
        let context = context.into();
        move |source| StoreError::Postgres { context, source }
    }

    /// The error code a client sees for this failure.
    pub fn code(&self) -> ErrorCode {
        match self {
            StoreError::Pool(_) | StoreError::PoolExhausted { .. } => ErrorCode::Unavailable,
            StoreError::Postgres { source, .. } if source.is_closed() => ErrorCode::Unavailable,
            StoreError::Sqlite {
                source: rusqlite::Error::SqliteFailure(e, _),
                ..
            } if matches!(
                e.code,
                rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
            ) =>
            {
                ErrorCode::Unavailable
            }
            _ => ErrorCode::Internal,
        }
    }
}

/// A failure starting the server.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: String,
        #[source]
        source: std::io::Error,
    },
    #[error("TLS: {0}")]
    Tls(String),
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
}
