//! Schema migration steps after the base schema (version 1), one entry per step, for both
//! stores. A store applies, in order and in one transaction with its base schema, every step
//! above the database's `schema_version` and records the new version in `meta`.
//!
//! Steps are only ever added (never edited): a database migrated by an older build must end
//! in the same shape as a fresh one. This module holds SQL only; the stores run it.

/// One migration step: the schema version it brings a database to, and its SQL per store.
pub(crate) struct Step {
    pub version: i64,
    /// What the step adds, for error messages.
    pub name: &'static str,
    pub sqlite: &'static str,
    pub postgres: &'static str,
}

/// Every step after the base schema, by version.
pub(crate) const STEPS: &[Step] = &[Step {
    version: 2,
    name: "officer activity (last push, last pull, changes pushed)",
    sqlite: "ALTER TABLE officers ADD COLUMN last_push_at TEXT;
             ALTER TABLE officers ADD COLUMN last_pull_at TEXT;
             ALTER TABLE officers ADD COLUMN changes_pushed INTEGER NOT NULL DEFAULT 0;",
    postgres: "ALTER TABLE officers ADD COLUMN IF NOT EXISTS last_push_at TEXT;
               ALTER TABLE officers ADD COLUMN IF NOT EXISTS last_pull_at TEXT;
               ALTER TABLE officers ADD COLUMN IF NOT EXISTS changes_pushed BIGINT NOT NULL DEFAULT 0;",
}, Step {
    version: 3,
    name: "forms (each team's published form versions, immutable once written)",
    sqlite: "CREATE TABLE IF NOT EXISTS forms (
                 team TEXT NOT NULL,
                 version INTEGER NOT NULL,
                 content_hash TEXT NOT NULL,
                 form TEXT NOT NULL,
                 published_at TEXT NOT NULL,
                 PRIMARY KEY (team, version)
             );",
    postgres: "CREATE TABLE IF NOT EXISTS forms (
                   team TEXT NOT NULL,
                   version BIGINT NOT NULL,
                   content_hash TEXT NOT NULL,
                   form TEXT NOT NULL,
                   published_at TEXT NOT NULL,
                   PRIMARY KEY (team, version)
               );",
}, Step {
    // Issue 12 (who and when).
    version: 4,
    name: "record audit (server receive times and officers of a record and its fields)",
    sqlite: "ALTER TABLE records ADD COLUMN audit TEXT NOT NULL DEFAULT '{}';",
    postgres: "ALTER TABLE records ADD COLUMN IF NOT EXISTS audit TEXT NOT NULL DEFAULT '{}';",
}, Step {
    version: 5,
    name: "server identity and version gaps (issue 11)",
    // The database's stable id (a random UUID, made once, with the database: a backup and
    // its restore keep it), and the ranges of versions a `serve` start skipped: no version
    // in them was ever handed out by this database (see `Store::skip_versions`).
    sqlite: "INSERT OR IGNORE INTO meta (key, value) VALUES ('server_id',
                 lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' ||
                 substr(lower(hex(randomblob(2))), 2) || '-' ||
                 substr('89ab', 1 + (abs(random()) % 4), 1) ||
                 substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6))));
             CREATE TABLE IF NOT EXISTS version_gaps (
                 after INTEGER PRIMARY KEY,
                 upto INTEGER NOT NULL
             );",
    postgres: "INSERT INTO meta (key, value) VALUES ('server_id', gen_random_uuid()::text)
                   ON CONFLICT DO NOTHING;
               CREATE TABLE IF NOT EXISTS version_gaps (
                   after BIGINT PRIMARY KEY,
                   upto BIGINT NOT NULL
               );",
}, Step {
    // Issue 14 (no echo): the device whose own change made the record's current version,
    // when that device holds exactly this record (it applied the push result's stamp); a
    // pull naming that device leaves the record out. Any later change clears it.
    version: 8,
    name: "the device holding each record's current version (no echo, issue 14)",
    sqlite: "ALTER TABLE records ADD COLUMN echo_device TEXT;",
    postgres: "ALTER TABLE records ADD COLUMN IF NOT EXISTS echo_device TEXT;",
}];

/// The steps a database at `found` still needs.
pub(crate) fn pending(found: i64) -> impl Iterator<Item = &'static Step> {
    STEPS.iter().filter(move |s| s.version > found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_are_numbered_in_order_and_end_at_the_schema_version() {
        // Steps 6 and 7 are other branches' (issue 14 took 8): in order, none twice.
        let versions: Vec<i64> = STEPS.iter().map(|s| s.version).collect();
        assert_eq!(versions.first(), Some(&2));
        assert!(versions.windows(2).all(|w| w[0] < w[1]), "{versions:?}");
        assert_eq!(
            STEPS.last().map(|s| s.version),
            Some(super::super::SCHEMA_VERSION)
        );
        assert_eq!(pending(1).count(), STEPS.len());
        assert_eq!(pending(super::super::SCHEMA_VERSION).count(), 0);
    }
}
