//! The client's typed errors: what went wrong, in terms of the client's own world (the local
//! store, the config, the server, the officer's input). Every message says what went wrong
//! and, where there is one, what to do next.
//!
//! This module must not know exit codes or command-line flag names: the CLI maps each
//! variant to an exit code in one place (`crate::cli::exit`).

use std::path::PathBuf;

use super::remote::RemoteError;
use super::tls::CertProblem;
use crate::model::ValidationError;
use crate::protocol::ErrorCode;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A field that fails validation.
    #[error("{0}")]
    Invalid(#[from] ValidationError),

    /// Input data that cannot be used (a malformed import row, a deleted record to edit).
    #[error("{0}")]
    BadInput(String),

    /// A household that still has visits cannot be deleted.
    #[error("household {household} still has {visits} visit(s); delete them first")]
    HasVisits { household: uuid::Uuid, visits: i64 },

    /// A record, conflict or file that does not exist.
    #[error("{0}")]
    NotFound(String),

    /// An id prefix that matches several records: `candidates` are the short ids of the
    /// first few of them, `total` how many there are.
    #[error("{what} {prefix:?} is ambiguous; it matches {}: give more characters", list_candidates(candidates, *total))]
    Ambiguous {
        what: &'static str,
        prefix: String,
        candidates: Vec<String>,
        total: usize,
    },

    /// The local database cannot be opened or used (unreadable, read-only, full disk).
    #[error("cannot open the local database {}: {reason}", path.display())]
    StoreUnavailable { path: PathBuf, reason: String },

    /// The local database was written by a newer fieldsync.
    #[error(
        "the local database {} was written by a newer fieldsync (schema {found}, this one knows up to {known}); upgrade fieldsync. The file was left untouched",
        path.display()
    )]
    NewerSchema {
        path: PathBuf,
        found: i64,
        known: i64,
    },

    /// Local data that does not read back (a damaged row), or cannot be encoded to be stored.
    #[error(
        "the local database holds data this fieldsync cannot use: {0}; restore it from a backup"
    )]
    CorruptStore(String),

    /// Any other SQLite failure; [`is_store_failure`] tells file trouble from bugs.
    #[error("local database: {}", sqlite_message(.0))]
    Sqlite(#[from] rusqlite::Error),

    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },

    /// Plain http to another machine, which the officer did not allow.
    #[error("refusing plain http to {server}: the token and field data would cross the network unencrypted. Use https://")]
    InsecureHttp { server: String },

    /// No home directory to put the default database or config in.
    #[error("cannot find a home directory for the default {0}")]
    NoHomeDir(HomeFile),

    /// No config file yet.
    #[error("no config at {}", path.display())]
    ConfigMissing { path: PathBuf },

    /// A server URL that cannot be used.
    #[error("server URL {server:?} is not valid ({reason})")]
    BadServerUrl { server: String, reason: String },

    /// The database already belongs to another officer than the config names.
    #[error("the database {} belongs to officer {owner:?}, but the config names {officer:?}", path.display())]
    OtherOfficer {
        path: PathBuf,
        owner: String,
        officer: String,
    },

    /// A config that cannot be used.
    #[error("{0}")]
    Config(String),

    /// The server cannot be reached right now; nothing was lost.
    #[error("{0}")]
    Offline(String),

    /// Another fieldsync process holds what this one needs; try again shortly.
    #[error("{0}")]
    Busy(String),

    /// The server refused this device's token.
    #[error("{0}")]
    Unauthorized(String),

    /// The server refused a request as a whole.
    #[error("the server refused the request: {message}")]
    Rejected {
        status: u16,
        code: Option<ErrorCode>,
        message: String,
    },

    /// The server asked for a pull from scratch, and a restart did not settle it.
    #[error(
        "the server asked this device to pull everything again, twice in one sync; try again later"
    )]
    ResyncRequired,

    /// The server is another database than the one this device synced with (issue 11).
    #[error("the server at {url} is database {theirs}, but this device synced with database {mine}: the server was rebuilt or replaced. Nothing was sent")]
    OtherServer {
        url: String,
        mine: String,
        theirs: String,
    },

    /// The server lost changes this device saw, and sending them again did not settle it.
    #[error("the server still lacks history this device saw (its history ends at version {0}) after this device sent it again; try again later")]
    ServerBehind(i64),

    /// The server answered something this client does not understand.
    #[error("{0}")]
    Protocol(String),

    /// The server's TLS certificate was refused (untrusted, wrong name, expired): not a
    /// network problem, and retrying cannot help. Nothing was sent.
    #[error("the server {server} cannot be trusted: {problem}. Nothing was sent or lost")]
    Certificate {
        server: String,
        problem: CertProblem,
    },

    /// A certificate authority file that holds no usable certificate.
    #[error("{} cannot be used as a certificate authority: {reason}", path.display())]
    BadCaCert { path: PathBuf, reason: String },

    /// The officer backed out; nothing was changed.
    #[error("cancelled: nothing was changed")]
    Cancelled,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The files that have a default place in the home directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HomeFile {
    Database,
    Config,
}

impl std::fmt::Display for HomeFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            HomeFile::Database => "database",
            HomeFile::Config => "config",
        })
    }
}

impl Error {
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Error {
        Error::Io {
            context: context.into(),
            source,
        }
    }

    /// A local value that could not be encoded or decoded.
    pub fn corrupt(what: impl std::fmt::Display, e: impl std::fmt::Display) -> Error {
        Error::CorruptStore(format!("{what}: {e}"))
    }
}

impl From<RemoteError> for Error {
    fn from(e: RemoteError) -> Self {
        match e {
            RemoteError::Offline(why) => Error::Offline(why),
            RemoteError::Unauthorized(why) => Error::Unauthorized(why),
            RemoteError::ResyncRequired => Error::ResyncRequired,
            RemoteError::ServerBehind { server_version } => Error::ServerBehind(server_version),
            RemoteError::Rejected {
                status,
                code,
                message,
            } => Error::Rejected {
                status,
                code,
                message,
            },
            RemoteError::Protocol(m) => Error::Protocol(m),
            RemoteError::Certificate { server, problem } => Error::Certificate { server, problem },
        }
    }
}

/// Is this SQLite failure about the store itself (its file, its disk, its contents) rather
/// than a bug in this program?
pub fn is_store_failure(e: &rusqlite::Error) -> bool {
    use rusqlite::ErrorCode as C;
    if matches!(e, rusqlite::Error::FromSqlConversionFailure(..)) {
        // A row whose text does not parse: the data is damaged, not the code.
        return true;
    }
    matches!(
        e.sqlite_error_code(),
        Some(
            C::DiskFull
                | C::ReadOnly
                | C::DatabaseCorrupt
                | C::NotADatabase
                | C::CannotOpen
                | C::SystemIoFailure
                | C::PermissionDenied
                | C::DatabaseBusy
                | C::DatabaseLocked,
        )
    )
}

/// Turns SQLite's terse file errors into advice.
pub fn explain_sqlite(e: &rusqlite::Error) -> Option<&'static str> {
    use rusqlite::ErrorCode as C;
    match e.sqlite_error_code()? {
        C::DiskFull => Some("the disk is full: free some space and try again; nothing was written"),
        C::ReadOnly => Some("the database file is read-only: check its permissions; nothing was written"),
        C::DatabaseCorrupt | C::NotADatabase => Some(
            "the file is not a fieldsync database or is damaged: restore it from a backup, or use another database file",
        ),
        C::DatabaseBusy | C::DatabaseLocked => {
            Some("the database is busy in another fieldsync process: try again in a moment")
        }
        _ => None,
    }
}

/// `a, b, c` or `a, b, c and 7 more`.
fn list_candidates(shown: &[String], total: usize) -> String {
    let listed = shown.join(", ");
    match total.saturating_sub(shown.len()) {
        0 => listed,
        more => format!("{listed} and {more} more"),
    }
}

fn sqlite_message(e: &rusqlite::Error) -> String {
    match explain_sqlite(e) {
        Some(advice) => format!("{e}: {advice}"),
        None => e.to_string(),
    }
}
