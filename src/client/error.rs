//! The client's errors. Every message says what went wrong and, where there is one, what to
//! do next; every variant maps to one documented exit code.

use std::path::PathBuf;

use crate::exit;
use crate::model::ValidationError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Invalid(#[from] ValidationError),

    #[error("{0}")]
    BadInput(String),

    #[error("{0}")]
    NotFound(String),

    #[error("{what} {prefix:?} is ambiguous; it matches {}: give more characters", candidates.join(", "))]
    Ambiguous {
        what: &'static str,
        prefix: String,
        candidates: Vec<String>,
    },

    #[error("cannot open the local database {}: {reason}", path.display())]
    StoreUnavailable { path: PathBuf, reason: String },

    #[error(
        "the local database {} was written by a newer fieldsync (schema {found}, this one knows up to {known}); upgrade fieldsync. The file was left untouched",
        path.display()
    )]
    NewerSchema {
        path: PathBuf,
        found: i64,
        known: i64,
    },

    #[error("local database: {}", sqlite_message(.0))]
    Sqlite(#[from] rusqlite::Error),

    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },

    #[error("{0}")]
    Config(String),

    #[error("{0}")]
    Offline(String),

    #[error("{0}")]
    Unauthorized(String),

    #[error("{0}")]
    Protocol(String),

    #[error("{0}")]
    Busy(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Error {
        Error::Io {
            context: context.into(),
            source,
        }
    }

    /// The process exit code for this error (see the README's table).
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Invalid(_) | Error::BadInput(_) => exit::DATA,
            Error::NotFound(_) => exit::NO_INPUT,
            Error::Ambiguous { .. } => exit::USAGE,
            Error::StoreUnavailable { .. } | Error::NewerSchema { .. } | Error::Io { .. } => {
                exit::IO
            }
            Error::Sqlite(e) => sqlite_exit_code(e),
            Error::Config(_) => exit::CONFIG,
            Error::Offline(_) | Error::Busy(_) => exit::TEMPFAIL,
            Error::Unauthorized(_) => exit::NO_PERM,
            Error::Protocol(_) => exit::PROTOCOL,
        }
    }
}

/// SQLite failures that are about the file (full disk, read-only, corrupt) are store
/// failures (74); anything else is a bug (70).
fn sqlite_exit_code(e: &rusqlite::Error) -> i32 {
    use rusqlite::ErrorCode as C;
    match e.sqlite_error_code() {
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
        ) => exit::IO,
        _ => exit::SOFTWARE,
    }
}

/// Turns SQLite's terse file errors into advice.
pub fn explain_sqlite(e: &rusqlite::Error) -> Option<&'static str> {
    use rusqlite::ErrorCode as C;
    match e.sqlite_error_code()? {
        C::DiskFull => Some("the disk is full: free some space and try again; nothing was written"),
        C::ReadOnly => Some("the database file is read-only: check its permissions; nothing was written"),
        C::DatabaseCorrupt | C::NotADatabase => Some(
            "the file is not a fieldsync database or is damaged: restore it from a backup, or point --db at another file",
        ),
        C::DatabaseBusy | C::DatabaseLocked => {
            Some("the database is busy in another fieldsync process: try again in a moment")
        }
        _ => None,
    }
}

fn sqlite_message(e: &rusqlite::Error) -> String {
    match explain_sqlite(e) {
        Some(advice) => format!("{e}: {advice}"),
        None => e.to_string(),
    }
}
