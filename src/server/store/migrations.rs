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
    version: 6,
    name: "per-team versions (issue 14)",
    // One version counter per team (`team_versions`, the row a write of that team locks),
    // each team's skipped ranges (`team_version_gaps`; the older `version_gaps` rows keep
    // applying to every team), the version a new team's counter starts at (`version_base`,
    // raised by every `serve` start), an officer's team before their last move and the new
    // team's version then (see `Store::move_officer`), and on
    // PostgreSQL the sequence server ids come from (no lock). Every team known so far starts
    // at the old global counter, so every version a device holds stays held.
    sqlite: "CREATE TABLE IF NOT EXISTS team_versions (
                 team TEXT PRIMARY KEY,
                 version INTEGER NOT NULL
             );
             CREATE TABLE IF NOT EXISTS team_version_gaps (
                 team TEXT NOT NULL,
                 after INTEGER NOT NULL,
                 upto INTEGER NOT NULL,
                 PRIMARY KEY (team, after)
             );
             INSERT OR IGNORE INTO meta (key, value)
                 SELECT 'version_base', CAST(version AS TEXT) FROM version_counter WHERE id = 1;
             INSERT OR IGNORE INTO team_versions (team, version)
                 SELECT t.team, c.version
                 FROM (SELECT team FROM records UNION SELECT team FROM officers
                       UNION SELECT team FROM forms) AS t, version_counter AS c
                 WHERE c.id = 1;
             ALTER TABLE officers ADD COLUMN previous_team TEXT;
             ALTER TABLE officers ADD COLUMN moved_at_version INTEGER;",
    postgres: "CREATE TABLE IF NOT EXISTS team_versions (
                   team TEXT PRIMARY KEY,
                   version BIGINT NOT NULL
               );
               CREATE TABLE IF NOT EXISTS team_version_gaps (
                   team TEXT NOT NULL,
                   after BIGINT NOT NULL,
                   upto BIGINT NOT NULL,
                   PRIMARY KEY (team, after)
               );
               INSERT INTO meta (key, value)
                   SELECT 'version_base', version::text FROM version_counter WHERE id = 1
                   ON CONFLICT DO NOTHING;
               INSERT INTO team_versions (team, version)
                   SELECT t.team, c.version
                   FROM (SELECT team FROM records UNION SELECT team FROM officers
                         UNION SELECT team FROM forms) AS t
                   CROSS JOIN version_counter AS c
                   WHERE c.id = 1
                   ON CONFLICT DO NOTHING;
               ALTER TABLE officers ADD COLUMN IF NOT EXISTS previous_team TEXT;
               ALTER TABLE officers ADD COLUMN IF NOT EXISTS moved_at_version BIGINT;
               CREATE SEQUENCE IF NOT EXISTS record_server_ids;
               SELECT setval('record_server_ids', GREATEST(
                   (SELECT server_id FROM version_counter WHERE id = 1),
                   (SELECT COALESCE(max(server_id), 0) FROM records)) + 1, false);
               -- Whoever may write records may take server ids: an application role granted
               -- table rights only (docs/server.md, least privilege) keeps serving.
               DO $$
               DECLARE g oid;
               BEGIN
                   FOR g IN SELECT DISTINCT a.grantee
                            FROM pg_class AS c, aclexplode(c.relacl) AS a
                            WHERE c.oid = 'records'::regclass AND a.privilege_type = 'INSERT'
                              AND a.grantee <> c.relowner
                   LOOP
                       IF g = 0 THEN
                           GRANT USAGE ON SEQUENCE record_server_ids TO PUBLIC;
                       ELSE
                           EXECUTE format('GRANT USAGE ON SEQUENCE record_server_ids TO %s',
                                          g::regrole::text);
                       END IF;
                   END LOOP;
               END $$;",
}, Step {
    version: 7,
    name: "op-id retention (who stored each result, its sequence number and when; per-device marks)",
    // Existing results count as stored now, so they age out one retention after the
    // upgrade (see `server::retention`). `device_ops.forgotten_upto`: the highest sequence
    // number of the device whose result may have been deleted.
    sqlite: "ALTER TABLE ops ADD COLUMN device_id TEXT;
             ALTER TABLE ops ADD COLUMN seq INTEGER;
             ALTER TABLE ops ADD COLUMN stored_at INTEGER;
             UPDATE ops SET stored_at = CAST(strftime('%s', 'now') AS INTEGER);
             CREATE INDEX IF NOT EXISTS ops_by_age ON ops (stored_at);
             CREATE INDEX IF NOT EXISTS ops_by_device_seq ON ops (device_id, seq)
                 WHERE seq IS NOT NULL;
             CREATE TABLE IF NOT EXISTS device_ops (
                 device_id TEXT PRIMARY KEY,
                 forgotten_upto INTEGER NOT NULL
             );",
    postgres: "ALTER TABLE ops ADD COLUMN IF NOT EXISTS device_id TEXT;
               ALTER TABLE ops ADD COLUMN IF NOT EXISTS seq BIGINT;
               ALTER TABLE ops ADD COLUMN IF NOT EXISTS stored_at BIGINT;
               UPDATE ops SET stored_at = floor(extract(epoch FROM now()))::bigint
                   WHERE stored_at IS NULL;
               CREATE INDEX IF NOT EXISTS ops_by_age ON ops (stored_at);
               CREATE INDEX IF NOT EXISTS ops_by_device_seq ON ops (device_id, seq)
                   WHERE seq IS NOT NULL;
               CREATE TABLE IF NOT EXISTS device_ops (
                   device_id TEXT PRIMARY KEY,
                   forgotten_upto BIGINT NOT NULL
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
        // 2, 3, 4, … with no gap: a missing step would be skipped by every upgrade.
        let versions: Vec<i64> = STEPS.iter().map(|s| s.version).collect();
        let expected: Vec<i64> = (2..2 + STEPS.len() as i64).collect();
        assert_eq!(versions, expected);
        assert_eq!(
            STEPS.last().map(|s| s.version),
            Some(super::super::SCHEMA_VERSION)
        );
        assert_eq!(pending(1).count(), STEPS.len());
        assert_eq!(pending(super::super::SCHEMA_VERSION).count(), 0);
    }
}
