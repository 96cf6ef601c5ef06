//! WAL checkpoints off the writing thread during a long pull (phase E). A pull into a fresh
//! device writes ~150 MB of pages through the WAL; by default the connection that commits
//! also copies them into the database file every 1,000 pages (an automatic checkpoint, with
//! its fsyncs), on the thread that stores the pages. While [`Store::with_background_checkpoints`]
//! runs, the store's connection does not checkpoint and a second connection on another
//! thread does (`PASSIVE`: it never blocks the writer nor waits for it; once the WAL is
//! 16 MiB long and all copied, a `RESTART` that waits for the writer's current transaction
//! lets the writer start it again, so it does not grow with the pull).
//!
//! Durability is unchanged: a page's transaction is durable when its commit returns (WAL,
//! `synchronous=FULL`); a checkpoint only moves committed pages into the main file, and a
//! crash before or during one loses nothing (the WAL is replayed on the next open).
//!
//! This module must not write records or know what a pull is.

use std::sync::mpsc::{channel, RecvTimeoutError};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use super::Store;
use crate::client::error::Result;

/// How often the background connection checkpoints what the writer committed.
const EVERY: Duration = Duration::from_millis(25);

/// A WAL this long (in pages, 16 MiB), all copied, is started again from its beginning.
const RESTART_PAGES: i64 = 4096;

/// SQLite's default `wal_autocheckpoint`, restored afterwards.
const AUTOCHECKPOINT_PAGES: i64 = 1000;

impl Store {
    /// Runs `body` with WAL checkpoints made by a second connection on another thread (see
    /// the module doc). An in-memory store (no WAL) just runs `body`.
    pub fn with_background_checkpoints<T>(
        &mut self,
        body: impl FnOnce(&mut Store) -> Result<T>,
    ) -> Result<T> {
        let Some(second) = self.second_connection() else {
            return body(self);
        };
        self.conn.pragma_update(None, "wal_autocheckpoint", 0)?;
        let out = std::thread::scope(|scope| {
            let (done, finished) = channel::<()>();
            scope.spawn(move || {
                // Until `done` is dropped: a failed checkpoint is left to the next one, and
                // to the writer's own once this ends.
                while let Err(RecvTimeoutError::Timeout) = finished.recv_timeout(EVERY) {
                    let _ = checkpoint(&second);
                }
            });
            let out = body(self);
            drop(done);
            out
        });
        let restored = self
            .conn
            .pragma_update(None, "wal_autocheckpoint", AUTOCHECKPOINT_PAGES);
        let out = out?;
        restored?;
        Ok(out)
    }

    /// A second connection to the same file, or `None` for an in-memory store or when it
    /// cannot be opened (the store's own connection then checkpoints as usual).
    fn second_connection(&self) -> Option<Connection> {
        if self.path.as_os_str() == ":memory:" {
            return None;
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(&self.path, flags).ok()?;
        conn.busy_timeout(Duration::from_secs(5)).ok()?;
        Some(conn)
    }
}

/// Copies what the writer committed into the database file without waiting for it. The
/// writer starts the WAL again from its beginning only when it finds it all copied as its
/// next transaction begins, which a writer committing page after page seldom does: so once
/// the WAL is long and all copied, a `RESTART` checkpoint (which waits for the writer's
/// current transaction, a few milliseconds) makes the next transaction start it again.
fn checkpoint(conn: &Connection) -> rusqlite::Result<()> {
    let (log, copied): (i64, i64) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
        Ok((r.get(1)?, r.get(2)?))
    })?;
    if log >= RESTART_PAGES && copied == log {
        conn.query_row("PRAGMA wal_checkpoint(RESTART)", [], |_| Ok(()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::model::{EntityType, FieldMap};

    fn household(i: usize) -> FieldMap {
        serde_json::from_value(json!({"name": format!("household {i}"), "notes": "x".repeat(500)}))
            .expect("a field map")
    }

    #[test]
    fn writes_made_meanwhile_are_all_kept_and_the_writer_checkpoints_again_after() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("device.sqlite3");
        let mut store = Store::open(&path).expect("open");
        // Enough pages for the background connection to copy while the writer commits.
        let written = store
            .with_background_checkpoints(|store| {
                let mut ids = Vec::new();
                for i in 0..400 {
                    ids.push(store.add(EntityType::Household, household(i))?);
                }
                let auto: i64 = store
                    .conn
                    .query_row("PRAGMA wal_autocheckpoint", [], |r| r.get(0))?;
                assert_eq!(auto, 0, "the writer does not checkpoint meanwhile");
                Ok(ids)
            })
            .expect("writes");
        let auto: i64 = store
            .conn
            .query_row("PRAGMA wal_autocheckpoint", [], |r| r.get(0))
            .expect("pragma");
        assert_eq!(auto, AUTOCHECKPOINT_PAGES);
        drop(store);
        let reopened = Store::open(&path).expect("reopen");
        for id in written {
            assert!(reopened
                .get(EntityType::Household, id)
                .expect("read")
                .is_some());
        }
    }

    #[test]
    fn an_in_memory_store_just_runs_the_body() {
        let mut store = Store::open_in_memory().expect("open");
        let n = store
            .with_background_checkpoints(|_| Ok(7))
            .expect("the body's value");
        assert_eq!(n, 7);
    }
}
