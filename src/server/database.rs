//! What `--database` / `FIELDSYNC_DATABASE` names: a SQLite file or a PostgreSQL connection.
//!
//! Owns the one rule that tells them apart, so that a typo never silently becomes a SQLite
//! file (`postgress://…`, a libpq string with a misspelt key, an empty variable). It must not
//! open anything, and its errors must never echo the value: a connection string may hold a
//! password, so they name only what is wrong (a scheme, a keyword, the expected shapes).

use std::fmt;
use std::path::PathBuf;

/// File endings that make a bare path a SQLite database.
pub const SQLITE_ENDINGS: [&str; 2] = [".sqlite3", ".db"];

/// The prefix that makes any path a SQLite database.
pub const SQLITE_PREFIX: &str = "sqlite:";

/// A parsed `--database` value.
#[derive(Clone, PartialEq, Eq)]
pub enum Database {
    /// A SQLite file (created if missing).
    Sqlite(PathBuf),
    /// A PostgreSQL URL or libpq key=value string, checked to parse.
    Postgres(String),
}

/// Why a `--database` value names no database. The messages never contain the value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DatabaseError {
    #[error("the database is empty (an unset variable?): {SHAPES}")]
    Empty,
    #[error("`sqlite:` is not followed by a file path")]
    EmptySqlitePath,
    #[error("unknown database URL scheme `{0}`: use postgres:// or postgresql:// (or {SQLITE_PREFIX}PATH for SQLite)")]
    UnknownScheme(String),
    #[error("the PostgreSQL connection string does not parse ({0}); the value is not shown as it may hold a password")]
    Postgres(String),
    #[error("the database names neither SQLite nor PostgreSQL (the value is not shown as it may hold a password): {SHAPES}")]
    Unrecognised,
}

const SHAPES: &str = "give sqlite:PATH, a path ending in .sqlite3 or .db, a postgres:// or \
                      postgresql:// URL, or a libpq string such as \"host=db dbname=fieldsync\"";

impl Database {
    /// Parses a `--database` value. See the module documentation for the accepted shapes.
    pub fn parse(value: &str) -> Result<Database, DatabaseError> {
        let v = value.trim();
        if v.is_empty() {
            return Err(DatabaseError::Empty);
        }
        if let Some(path) = v.strip_prefix(SQLITE_PREFIX) {
            if path.is_empty() {
                return Err(DatabaseError::EmptySqlitePath);
            }
            return Ok(Database::Sqlite(PathBuf::from(path)));
        }
        if let Some((scheme, _)) = v.split_once("://") {
            if scheme != "postgres" && scheme != "postgresql" {
                return Err(DatabaseError::UnknownScheme(printable_scheme(scheme)));
            }
            return parse_postgres(v);
        }
        if looks_like_keyword_string(v) {
            return parse_postgres(v);
        }
        if SQLITE_ENDINGS.iter().any(|e| v.ends_with(e)) {
            return Ok(Database::Sqlite(PathBuf::from(v)));
        }
        Err(DatabaseError::Unrecognised)
    }

    /// `"sqlite"` or `"postgres"`.
    pub fn kind(&self) -> &'static str {
        match self {
            Database::Sqlite(_) => "sqlite",
            Database::Postgres(_) => "postgres",
        }
    }
}

/// Never prints a PostgreSQL connection string: it may hold a password.
impl fmt::Debug for Database {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Database::Sqlite(p) => f.debug_tuple("Sqlite").field(p).finish(),
            Database::Postgres(_) => f.write_str("Postgres(<connection string not shown>)"),
        }
    }
}

fn parse_postgres(v: &str) -> Result<Database, DatabaseError> {
    v.parse::<tokio_postgres::Config>()
        .map_err(|e| DatabaseError::Postgres(pg_parse_reason(&e)))?;
    Ok(Database::Postgres(v.to_string()))
}

/// tokio-postgres' parse errors name keywords and positions, never values; keep only the
/// innermost message (the outer one is a generic "invalid configuration").
fn pg_parse_reason(e: &tokio_postgres::Error) -> String {
    let mut inner: &dyn std::error::Error = e;
    while let Some(s) = inner.source() {
        inner = s;
    }
    inner.to_string()
}

/// A libpq key=value string starts with a keyword (letters and `_`) and `=`.
fn looks_like_keyword_string(v: &str) -> bool {
    let key_end = v
        .find(|c: char| !(c.is_ascii_alphabetic() || c == '_'))
        .unwrap_or(v.len());
    key_end > 0 && v[key_end..].trim_start().starts_with('=')
}

/// A scheme is shown in the error only when it is short and plain (so a password pasted in
/// its place is not).
fn printable_scheme(scheme: &str) -> String {
    let plain = scheme.len() <= 16
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    if plain {
        scheme.to_string()
    } else {
        "(not shown)".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sqlite(p: &str) -> Result<Database, DatabaseError> {
        Ok(Database::Sqlite(PathBuf::from(p)))
    }

    #[test]
    fn sqlite_shapes_are_accepted() {
        assert_eq!(Database::parse("/srv/f.sqlite3"), sqlite("/srv/f.sqlite3"));
        assert_eq!(Database::parse("data.db"), sqlite("data.db"));
        assert_eq!(
            Database::parse("sqlite:/srv/any-name"),
            sqlite("/srv/any-name")
        );
        assert_eq!(Database::parse("sqlite:rel.file"), sqlite("rel.file"));
    }

    #[test]
    fn postgres_shapes_are_accepted() {
        for v in [
            "postgres://fieldsync@db/fieldsync",
            "postgresql://u:secret@db:5433/f?sslmode=require",
            "host=db dbname=fieldsync user=u password=secret",
            "host = db port=5432",
        ] {
            assert_eq!(Database::parse(v).map(|d| d.kind()), Ok("postgres"), "{v}");
        }
    }

    #[test]
    fn typos_are_refused_without_echoing_the_value() {
        let cases = [
            ("", DatabaseError::Empty),
            ("   ", DatabaseError::Empty),
            ("sqlite:", DatabaseError::EmptySqlitePath),
            (
                "postgress://u:hunter2@db/f",
                DatabaseError::UnknownScheme("postgress".into()),
            ),
            ("/srv/fieldsync", DatabaseError::Unrecognised),
            ("/srv/fieldsync.sqlite", DatabaseError::Unrecognised),
            ("hunter2", DatabaseError::Unrecognised),
        ];
        for (v, want) in cases {
            assert_eq!(Database::parse(v), Err(want), "{v:?}");
        }
        for v in [
            "host=db pasword=hunter2",
            "postgres://u:hunter2@db:notaport/f",
            "host=db password='hunter2",
        ] {
            let e = Database::parse(v).expect_err(v);
            assert!(matches!(e, DatabaseError::Postgres(_)), "{v}: {e:?}");
            assert!(!e.to_string().contains("hunter2"), "{v}: {e}");
        }
    }

    #[test]
    fn a_password_in_place_of_a_scheme_is_not_shown() {
        let e = Database::parse("x$hunter2!://db").expect_err("refused");
        assert!(!e.to_string().contains("hunter2"), "{e}");
    }

    #[test]
    fn debug_hides_connection_strings() {
        let d = Database::parse("postgres://u:hunter2@db/f").expect("parses");
        assert!(!format!("{d:?}").contains("hunter2"));
    }
}
