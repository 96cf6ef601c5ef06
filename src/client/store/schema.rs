//! The local database's schema and its migrations, and the `PRAGMA user_version` that says
//! which of them a file has seen.
//!
//! This module owns DDL only: it must not read or write records, the queue or conflicts.

use rusqlite::{params, Connection, TransactionBehavior};
use uuid::Uuid;

use super::sync_state::meta;

/// The schema version this build writes (`PRAGMA user_version`).
pub const SCHEMA_VERSION: i64 = 6;

/// Migrations, in order: `MIGRATIONS[i]` takes the schema from version `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE household (
    id          TEXT PRIMARY KEY,
    server_id   INTEGER,
    name        TEXT NOT NULL,
    village     TEXT,
    gps_lat     REAL,
    gps_lon     REAL,
    notes       TEXT,
    sync_state  TEXT NOT NULL CHECK (sync_state IN ('pending','syncing','synced','conflict')),
    version     INTEGER,
    base        TEXT,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    deleted_at  TEXT
);
CREATE TABLE visit (
    id           TEXT PRIMARY KEY,
    server_id    INTEGER,
    household_id TEXT NOT NULL,
    officer_id   TEXT NOT NULL,
    visited_at   TEXT NOT NULL,
    notes        TEXT,
    gps_lat      REAL,
    gps_lon      REAL,
    answers      TEXT NOT NULL DEFAULT '{}',
    sync_state   TEXT NOT NULL CHECK (sync_state IN ('pending','syncing','synced','conflict')),
    version      INTEGER,
    base         TEXT,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    deleted_at   TEXT
);
CREATE INDEX visit_by_household ON visit (household_id);
CREATE TABLE sync_queue (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    op_id        TEXT NOT NULL UNIQUE,
    entity_type  TEXT NOT NULL CHECK (entity_type IN ('household','visit')),
    entity_id    TEXT NOT NULL,
    operation    TEXT NOT NULL CHECK (operation IN ('insert','update','delete')),
    payload      TEXT NOT NULL,
    base_version INTEGER,
    enqueued_at  TEXT NOT NULL,
    retry_count  INTEGER NOT NULL DEFAULT 0,
    status       TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending','sending','rejected')),
    last_error   TEXT
);
CREATE INDEX sync_queue_by_entity ON sync_queue (entity_type, entity_id);
CREATE INDEX sync_queue_by_status ON sync_queue (status, id);
CREATE TABLE sync_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE conflict (
    entity_type   TEXT NOT NULL,
    entity_id     TEXT NOT NULL,
    operation     TEXT NOT NULL,
    fields        TEXT NOT NULL,
    server_record TEXT NOT NULL,
    found_at      TEXT NOT NULL,
    PRIMARY KEY (entity_type, entity_id)
);
"#,
    MIGRATION_2_FORMS,
    MIGRATION_3_IMPORT_FINGERPRINTS,
    MIGRATION_4_SWEEP,
    MIGRATION_5_NONE,
    MIGRATION_6_OP_SEQ,
];

/// Step 5: none. It was set aside for the pull without echo (issue 14), which turned out to
/// need no client column (the stamp is applied to the existing record columns); it stays an
/// empty step rather than renumber step 6.
const MIGRATION_5_NONE: &str = "";

/// Step 6 (issue 17, op-id retention): each queue entry's sequence number, given when it is
/// first sent from the `op_seq_next` counter in `sync_meta` (which only grows) and kept for
/// as long as its op_id; `NULL` for an entry not sent since it got its op_id.
const MIGRATION_6_OP_SEQ: &str = r#"
ALTER TABLE sync_queue ADD COLUMN seq INTEGER;
CREATE INDEX sync_queue_by_seq ON sync_queue (seq) WHERE seq IS NOT NULL;
"#;

/// Step 2 (issue 15): the team's form versions this device holds (see `forms.rs`), and the
/// form version each visit was filled against.
const MIGRATION_2_FORMS: &str = r#"
CREATE TABLE form (
    team         TEXT NOT NULL,
    version      INTEGER PRIMARY KEY,
    content_hash TEXT NOT NULL,
    form         TEXT NOT NULL,
    received_at  TEXT NOT NULL
);
ALTER TABLE visit ADD COLUMN form_version INTEGER;
"#;

/// Step 3 (issue 12): import fingerprints, one row per imported row, so
/// importing it again is recognised (see `imports.rs`); and each record's `audit`, the
/// server's who-and-when stamps as pulled (JSON of `protocol::Audit`).
const MIGRATION_3_IMPORT_FINGERPRINTS: &str = r#"
CREATE TABLE import_fingerprint (
    entity_type  TEXT NOT NULL CHECK (entity_type IN ('household','visit')),
    fingerprint  TEXT NOT NULL,
    entity_id    TEXT NOT NULL,
    imported_at  TEXT NOT NULL,
    PRIMARY KEY (entity_type, fingerprint)
);
ALTER TABLE household ADD COLUMN audit TEXT;
ALTER TABLE visit ADD COLUMN audit TEXT;
"#;

/// Step 4 (issue 11): the records a pull from scratch delivered so far, for the sweep at its
/// end, and those a sweep kept only for their local work (`sweep.rs`); per record, the
/// version of a push the server merged with others' edits, until a pull brings it
/// (`merged_version`: a restored server that lost it gets the record again, `refill.rs`); and the queue takes `upsert` (a whole record sent again to a restored or
/// adopted server), rebuilt because SQLite cannot alter a CHECK constraint (ids, and with
/// them the AUTOINCREMENT sequence, are kept). The server's id and the officer's team are
/// `sync_meta` keys.
const MIGRATION_4_SWEEP: &str = r#"
CREATE TABLE resync_seen (
    entity_type TEXT NOT NULL,
    entity_id   TEXT NOT NULL,
    PRIMARY KEY (entity_type, entity_id)
) WITHOUT ROWID;
ALTER TABLE household ADD COLUMN merged_version INTEGER;
ALTER TABLE visit ADD COLUMN merged_version INTEGER;
CREATE TABLE sweep_kept (
    entity_type TEXT NOT NULL,
    entity_id   TEXT NOT NULL,
    PRIMARY KEY (entity_type, entity_id)
) WITHOUT ROWID;
CREATE TABLE sync_queue_3 (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    op_id        TEXT NOT NULL UNIQUE,
    entity_type  TEXT NOT NULL CHECK (entity_type IN ('household','visit')),
    entity_id    TEXT NOT NULL,
    operation    TEXT NOT NULL CHECK (operation IN ('insert','update','delete','upsert')),
    payload      TEXT NOT NULL,
    base_version INTEGER,
    enqueued_at  TEXT NOT NULL,
    retry_count  INTEGER NOT NULL DEFAULT 0,
    status       TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending','sending','rejected')),
    last_error   TEXT
);
INSERT INTO sync_queue_3 SELECT * FROM sync_queue;
DELETE FROM sqlite_sequence WHERE name = 'sync_queue_3';
INSERT INTO sqlite_sequence (name, seq) SELECT 'sync_queue_3', seq FROM sqlite_sequence
    WHERE name = 'sync_queue';
DROP TABLE sync_queue;
ALTER TABLE sync_queue_3 RENAME TO sync_queue;
CREATE INDEX sync_queue_by_entity ON sync_queue (entity_type, entity_id);
CREATE INDEX sync_queue_by_status ON sync_queue (status, id);
"#;

/// Runs the migrations after `from`, and the first one's seed (this device's id), in one
/// transaction.
pub(super) fn migrate(conn: &mut Connection, from: i64) -> rusqlite::Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(from.max(0) as usize) {
        tx.execute_batch(sql)?;
        if i == 0 {
            tx.execute(
                "INSERT INTO sync_meta (key, value) VALUES (?1, ?2)",
                params![meta::DEVICE_ID, Uuid::new_v4().to_string()],
            )?;
        }
    }
    tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
    tx.commit()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_3_keeps_the_queue_and_its_ids_and_takes_upserts() {
        let mut conn = Connection::open_in_memory().unwrap();
        for sql in &MIGRATIONS[..2] {
            conn.execute_batch(sql).unwrap();
        }
        conn.execute(
            "INSERT INTO sync_queue (id, op_id, entity_type, entity_id, operation, payload, enqueued_at)
             VALUES (7, 'op', 'household', 'h', 'insert', '{}', 't')",
            [],
        )
        .unwrap();
        conn.execute("DELETE FROM sync_queue WHERE id = 7", [])
            .unwrap();
        conn.execute(
            "INSERT INTO sync_queue (id, op_id, entity_type, entity_id, operation, payload, enqueued_at)
             VALUES (5, 'kept', 'household', 'h', 'update', '{}', 't')",
            [],
        )
        .unwrap();
        migrate(&mut conn, 2).unwrap();
        let kept: String = conn
            .query_row("SELECT op_id FROM sync_queue WHERE id = 5", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(kept, "kept");
        conn.execute(
            "INSERT INTO sync_queue (op_id, entity_type, entity_id, operation, payload, enqueued_at)
             VALUES ('new', 'household', 'h', 'upsert', '{}', 't')",
            [],
        )
        .unwrap();
        let id: i64 = conn
            .query_row("SELECT id FROM sync_queue WHERE op_id = 'new'", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert!(id > 7, "AUTOINCREMENT never reuses an id: got {id}");
    }
}
