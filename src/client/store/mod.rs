//! The local SQLite store: one [`Store`] with a private connection and a small API, split by
//! what it holds — records (`records.rs`), the sync queue (`queue.rs`), what the server
//! answered (`apply.rs`; a batch's accepted changes together, `accepted_set.rs`; the push
//! pipeline's one transaction per batch, `push_step.rs`), conflicts (`conflicts.rs`), discarding rejected changes
//! (`discard.rs`), sync bookkeeping (`sync_state.rs`), the sweep after a pull
//! from scratch (`sweep.rs`),
//! the team's form versions (`forms.rs`), sending records again to a restored or adopted
//! server (`refill.rs`), WAL checkpoints off the writing thread during a pull
//! (`checkpoint.rs`) —
//! over one schema (`schema.rs`) and one row mapping (`rows.rs`).
//!
//! Durability: WAL with `synchronous=FULL`, so a recorded visit survives a battery that dies
//! the moment `fieldsync visit add` returns. The file is created owner-only (0600). Every
//! write is one `IMMEDIATE` transaction.
//!
//! The store must not talk to the server, format output or know the command line.

mod accepted_set;
mod apply;
mod checkpoint;
mod conflicts;
mod discard;
mod export;
mod forms;
mod imports;
mod op_seq;
mod push_step;
mod queue;
mod records;
mod refill;
mod rows;
mod schema;
mod sweep;
mod sync_state;

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags, Transaction};

use super::error::{explain_sqlite, Error, Result};

pub use apply::{PageApplied, PushTally};
pub use conflicts::Conflict;
pub use discard::Discarded;
pub use imports::ImportOutcome;
pub use push_step::NextBatch;
pub use queue::{replay, QueueCounts, QueueEntry, QueueStatus};
pub use records::ListFilter;
pub use refill::Reseed;
pub use rows::{LocalRecord, SyncState};
pub use schema::SCHEMA_VERSION;
pub use sweep::Swept;
pub use sync_state::{meta, Status};

/// The local database.
pub struct Store {
    conn: Connection,
    path: PathBuf,
}

fn unavailable(path: &Path, e: &rusqlite::Error) -> Error {
    let reason = explain_sqlite(e)
        .map(str::to_string)
        .unwrap_or_else(|| e.to_string());
    Error::StoreUnavailable {
        path: path.to_path_buf(),
        reason,
    }
}

impl Store {
    /// Opens (creating it owner-only if needed) and migrates the database at `path`.
    /// A database from a newer fieldsync is refused and left untouched.
    pub fn open(path: &Path) -> Result<Store> {
        if !path.exists() {
            create_owner_only(path)?;
        }
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| unavailable(path, &e))?;
        Store::init(conn, path)
    }

    /// An in-memory database, for tests and benchmarks.
    pub fn open_in_memory() -> Result<Store> {
        let conn = Connection::open_in_memory()?;
        Store::init(conn, Path::new(":memory:"))
    }

    fn init(conn: Connection, path: &Path) -> Result<Store> {
        let found: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|e| unavailable(path, &e))?;
        if found > SCHEMA_VERSION {
            return Err(Error::NewerSchema {
                path: path.to_path_buf(),
                found,
                known: SCHEMA_VERSION,
            });
        }
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        // WAL is a property of the file: switch only a new (or foreign) file, so that opening
        // an existing database writes nothing before it has been read successfully.
        let mode: String = conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .map_err(|e| unavailable(path, &e))?;
        if !mode.eq_ignore_ascii_case("wal") {
            conn.query_row("PRAGMA journal_mode = WAL", [], |_| Ok(()))
                .map_err(|e| unavailable(path, &e))?;
        }
        conn.execute_batch("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;")
            .map_err(|e| unavailable(path, &e))?;
        let mut store = Store {
            conn,
            path: path.to_path_buf(),
        };
        if found < SCHEMA_VERSION {
            schema::migrate(&mut store.conn, found).map_err(|e| unavailable(path, &e))?;
        }
        Ok(store)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Starts a write transaction. `IMMEDIATE` takes the write lock up front, so two
    /// fieldsync processes never fail halfway through a write.
    fn write_tx(&mut self) -> Result<Transaction<'_>> {
        Ok(self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?)
    }
}

fn create_owner_only(path: &Path) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| Error::io(format!("cannot create the folder {}", dir.display()), e))?;
    }
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    match opts.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(Error::io(
            format!("cannot create the database {}", path.display()),
            e,
        )),
    }
}
