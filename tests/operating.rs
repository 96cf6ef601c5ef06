//! Issue 11, the administrator's side, end to end with real `fieldsync serve`, `admin` and
//! client processes on both stores: token rotation keeps an officer's queue; `admin` never
//! creates a database; backups taken under load restore and serve; purges beyond the current
//! version are refused; supervision lists activity and silence.

mod support;

use std::path::Path;
use std::process::Command;

use serde_json::Value;
use support::device::Device;
use support::{admin, both_stores, pg, StoreKind, TestServer};

/// Runs one SQL statement on a server database (SQLite path or PostgreSQL URL).
fn sql(db: &str, statement: &str) {
    if db.starts_with("postgres") {
        let out = Command::new(Path::new(pg::PG_BIN).join("psql"))
            .args([db, "-v", "ON_ERROR_STOP=1", "-qAt", "-c", statement])
            .output()
            .expect("run psql");
        assert!(out.status.success(), "{statement}: {out:?}");
    } else {
        let conn = rusqlite::Connection::open(db).expect("open the server database");
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .unwrap();
        conn.execute_batch(statement).expect(statement);
    }
}

fn admin_ok(db: &str, args: &[&str]) -> String {
    let (code, out, err) = admin(db, args);
    assert_eq!(code, 0, "admin {args:?}: {err}");
    out
}

fn admin_json(db: &str, args: &[&str]) -> Value {
    serde_json::from_str(&admin_ok(db, args)).expect("admin --json prints JSON")
}

/// `fieldsync init --token-stdin` on `device`, the token written to stdin: (code, stderr).
fn init_stdin(device: &Device, server: &str, officer: &str, token: &str) -> (i32, String) {
    let out = device
        .cmd(&[
            "init",
            "--server",
            server,
            "--officer",
            officer,
            "--token-stdin",
        ])
        .write_stdin(format!("{token}\n"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    (out.status.code().unwrap_or(-1), err)
}

fn revoke_new_token_init_and_the_queue_arrives_once(kind: StoreKind) {
    let server = TestServer::new(kind);
    let token = server.add_officer("amina", "north");
    let bola = Device::for_officer(&server.url, "bola", &server.add_officer("bola", "north"));
    let amina = Device::for_officer(&server.url, "amina", &token);
    let h = amina.add_household("Wanjiru");
    amina.sync_expect(0);
    admin_ok(&server.db, &["officer", "revoke", "amina"]);
    let visits: Vec<String> = (0..3)
        .map(|i| amina.add_visit(&h, &format!("queued visit {i}")))
        .collect();

    let (code, _, err) = amina.sync(&[]);
    assert_eq!(code, 77, "{err}");
    assert!(err.contains("fieldsync admin officer token"), "{err}");
    assert!(
        err.contains("fieldsync init") && err.contains("--token-stdin"),
        "{err}"
    );
    assert!(err.contains("queued changes are kept"), "{err}");
    assert_eq!(amina.json(&["queue"])["pending"], 3);

    let new_token = admin_ok(&server.db, &["officer", "token", "amina"]);
    let new_token = new_token.trim();
    assert!(!new_token.is_empty() && new_token != token);
    // The old token no longer works, even though the revocation is lifted.
    // (`init` tries a token against a reachable server, so the stale one is refused there.)
    let stale = Device::new();
    let out = stale.run(&[
        "init",
        "--server",
        &server.url,
        "--officer",
        "amina",
        &format!("--token={token}"),
    ]);
    assert_eq!(out.status.code(), Some(77), "{out:?}");

    // Another officer on amina's database stays refused, and the config is left alone.
    let config_before = std::fs::read(&amina.config).unwrap();
    let (code, err) = init_stdin(&amina, &server.url, "bola", new_token);
    assert_eq!(code, 78, "{err}");
    assert!(err.contains("belongs to officer \"amina\""), "{err}");
    assert_eq!(std::fs::read(&amina.config).unwrap(), config_before);

    let (code, err) = init_stdin(&amina, &server.url, "amina", new_token);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("3 queued changes are kept"), "{err}");
    assert_eq!(amina.json(&["queue"])["pending"], 3);
    let report = amina.sync_expect(0);
    assert_eq!(report["accepted"], 3, "{report}");
    // A second sync sends nothing again; bola sees every queued visit exactly once.
    assert_eq!(amina.sync_expect(0)["pushed"], 0);
    bola.sync_expect(0);
    let seen = bola.records("visit");
    assert_eq!(seen.len(), 3);
    for id in &visits {
        assert!(seen.contains_key(id), "visit {id} did not arrive");
    }
}

fn admin_on_a_path_that_is_not_a_fieldsync_database_exits_66_and_creates_nothing(kind: StoreKind) {
    let dir = tempfile::tempdir().unwrap();
    match kind {
        StoreKind::Sqlite => {
            let missing = dir.path().join("typo").join("server.sqlite3");
            let db = missing.display().to_string();
            for args in [
                &["officer", "list"][..],
                &["officer", "add", "amina", "--team", "north"],
                &["status"],
                &["purge-tombstones", "--before-version", "1"],
            ] {
                let (code, _, err) = admin(&db, args);
                assert_eq!(code, 66, "{args:?}: {err}");
                assert!(err.contains(&db), "{err}");
            }
            assert!(!dir.path().join("typo").exists(), "admin created a folder");
            // An empty file and another SQLite database: 66, and left as they were.
            let empty = dir.path().join("empty.sqlite3");
            std::fs::write(&empty, b"").unwrap();
            let other = dir.path().join("other.sqlite3");
            sql(&other.display().to_string(), "CREATE TABLE t (x INTEGER)");
            let other_before = std::fs::read(&other).unwrap();
            for f in [&empty, &other] {
                let (code, _, err) = admin(&f.display().to_string(), &["officer", "list"]);
                assert_eq!(code, 66, "{err}");
                assert!(err.contains("not a fieldsync server database"), "{err}");
            }
            assert_eq!(std::fs::read(&empty).unwrap(), b"");
            assert_eq!(std::fs::read(&other).unwrap(), other_before);
            // Not a SQLite file at all: the store is unusable (74).
            let text = dir.path().join("notes.db");
            std::fs::write(
                &text,
                "not a database, but long enough to have a header ".repeat(4),
            )
            .unwrap();
            let (code, _, err) = admin(&text.display().to_string(), &["officer", "list"]);
            assert_eq!(code, 74, "{err}");
        }
        StoreKind::Postgres => {
            let missing = format!("{}/no_such_database_{}", pg::base_url(), std::process::id());
            let (code, _, err) = admin(&missing, &["officer", "list"]);
            assert_eq!(code, 66, "{err}");
            let empty = pg::fresh_database();
            let (code, _, err) = admin(&empty, &["officer", "add", "amina", "--team", "north"]);
            assert_eq!(code, 66, "{err}");
            assert!(err.contains("not a fieldsync server database"), "{err}");
            // Still no schema: a second admin command is refused the same way.
            assert_eq!(admin(&empty, &["status"]).0, 66);
        }
    }
}

fn status_reports_the_current_version_and_purge_beyond_it_is_refused(kind: StoreKind) {
    let server = TestServer::new(kind);
    let amina = Device::for_officer(&server.url, "amina", &server.add_officer("amina", "north"));
    let h = amina.add_household("Wanjiru");
    amina.add_visit(&h, "one");
    amina.ok(&["household", "add", "--name", "Gone"]);
    amina.sync_expect(0);
    let gone = amina
        .records("household")
        .into_iter()
        .find(|(_, r)| r["name"] == "Gone")
        .map(|(id, _)| id)
        .unwrap();
    amina.ok(&["household", "delete", &gone]);
    amina.sync_expect(0);

    let status = admin_json(&server.db, &["status", "--json"]);
    let stats = &status["stats"];
    assert_eq!(status["store"], kind.name());
    assert_eq!(stats["current_version"], 4, "{status}");
    assert_eq!(stats["records"], 3);
    assert_eq!(stats["tombstones"], 1);
    assert_eq!(stats["officers"], 1);
    assert_eq!(stats["history_floor"], 0);
    // Stored results (what makes a retry apply once) the laptop has not acknowledged yet:
    // its last push's one (op-id retention forgets the rest).
    assert_eq!(stats["stored_results"], 1, "{status}");
    assert!(
        stats["database_bytes"].as_i64().unwrap_or(0) > 0,
        "{status}"
    );
    let text = admin_ok(&server.db, &["status"]);
    assert!(text.contains("push results     1"), "{text}");
    assert!(text.contains("current version  4"), "{text}");

    let (code, _, err) = admin(
        &server.db,
        &["purge-tombstones", "--before-version", "100000"],
    );
    assert_eq!(code, 65, "{err}");
    assert!(err.contains("current version 4"), "{err}");
    assert_eq!(admin_json(&server.db, &["status", "--json"]), status);
    let (code, _, err) = admin(&server.db, &["purge-tombstones", "--before-version", "6"]);
    assert_eq!(code, 65, "{err}");
    // current + 1 purges every tombstone, the one at the current version included.
    let (code, _, err) = admin(&server.db, &["purge-tombstones", "--before-version", "5"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("purged 1"), "{err}");
    assert_eq!(
        admin_json(&server.db, &["status", "--json"])["stats"]["history_floor"],
        4
    );
}

fn officer(list: &Value, id: &str) -> Value {
    list.as_array()
        .unwrap()
        .iter()
        .find(|o| o["id"] == id)
        .cloned()
        .unwrap_or_else(|| panic!("{id} not in {list}"))
}

fn ids(list: &Value) -> Vec<&str> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap())
        .collect()
}

fn supervision_lists_activity_and_who_went_silent(kind: StoreKind) {
    let server = TestServer::new(kind);
    let amina = Device::for_officer(&server.url, "amina", &server.add_officer("amina", "north"));
    server.add_officer("brian", "south");
    server.add_officer("chege", "south");
    let h = amina.add_household("Wanjiru");
    amina.add_visit(&h, "one");
    amina.sync_expect(0);
    amina.sync_expect(0); // nothing new: the count stays

    let list = admin_json(&server.db, &["officer", "list", "--json"]);
    let a = officer(&list, "amina");
    assert_eq!(a["team"], "north");
    assert_eq!(a["changes_pushed"], 2, "{a}");
    assert!(
        a["last_push_at"].is_string() && a["last_pull_at"].is_string(),
        "{a}"
    );
    assert_eq!(a["revoked"], false);
    let b = officer(&list, "brian");
    assert!(
        b["last_push_at"].is_null() && b["last_pull_at"].is_null(),
        "{b}"
    );
    assert_eq!(b["changes_pushed"], 0);
    let table = admin_ok(&server.db, &["officer", "list"]);
    assert!(
        table.contains("LAST PUSH") && table.contains("never"),
        "{table}"
    );

    // Everyone was just added or synced: nobody is silent for a week.
    let silent = admin_json(
        &server.db,
        &["officer", "list", "--json", "--silent-for", "7d"],
    );
    assert!(ids(&silent).is_empty(), "{silent}");
    // brian was added long ago and never synced; chege synced long ago; amina just synced.
    let long_ago = "2026-01-01T00:00:00Z";
    sql(
        &server.db,
        &format!("UPDATE officers SET created_at = '{long_ago}'"),
    );
    sql(
        &server.db,
        &format!("UPDATE officers SET last_pull_at = '{long_ago}' WHERE id = 'chege'"),
    );
    let silent = admin_json(
        &server.db,
        &["officer", "list", "--json", "--silent-for", "7d"],
    );
    assert_eq!(ids(&silent), ["brian", "chege"]);
    let silent = admin_json(
        &server.db,
        &["officer", "list", "--json", "--silent-for", "1m"],
    );
    assert_eq!(ids(&silent), ["brian", "chege"]);
    let (code, _, err) = admin(&server.db, &["officer", "list", "--silent-for", "7w"]);
    assert_eq!(code, 2, "{err}");
}

/// Backs up `server`'s database into a new file (SQLite: `admin backup`; PostgreSQL:
/// `pg_dump -Fc`, as the docs say) and returns a database restored from it.
fn back_up_and_restore(server: &TestServer, kind: StoreKind, dir: &Path) -> String {
    let file = dir.join("backup.sqlite3");
    let file_s = file.display().to_string();
    match kind {
        StoreKind::Sqlite => {
            admin_ok(&server.db, &["backup", &file_s]);
            file_s
        }
        StoreKind::Postgres => {
            let (code, _, err) = admin(&server.db, &["backup", &file_s]);
            assert_eq!(code, 2, "{err}");
            assert!(err.contains("pg_dump -Fc"), "{err}");
            assert!(!file.exists());
            let tool = |name: &str| Command::new(Path::new(pg::PG_BIN).join(name));
            let out = tool("pg_dump")
                .args(["-Fc", "--file", &file_s, &server.db])
                .output()
                .unwrap();
            assert!(out.status.success(), "pg_dump: {out:?}");
            let fresh = pg::fresh_database();
            let out = tool("pg_restore")
                .args(["--no-owner", "-d", &fresh, &file_s])
                .output()
                .unwrap();
            assert!(out.status.success(), "pg_restore: {out:?}");
            fresh
        }
    }
}

fn backup_taken_during_pushes_restores_and_serves(kind: StoreKind) {
    let server = TestServer::new(kind);
    let token = server.add_officer("amina", "north");
    let amina = Device::for_officer(&server.url, "amina", &token);
    let h = amina.add_household("Wanjiru");
    amina.sync_expect(0);
    let dir = tempfile::tempdir().unwrap();
    let restored = std::thread::scope(|s| {
        let pusher = s.spawn(|| {
            for i in 0..12 {
                amina.add_visit(&h, &format!("visit {i}"));
                amina.sync_expect(0);
            }
        });
        std::thread::sleep(std::time::Duration::from_millis(300));
        let restored = back_up_and_restore(&server, kind, dir.path());
        pusher.join().expect("the pushes went on");
        restored
    });
    if kind == StoreKind::Sqlite {
        let conn = rusqlite::Connection::open(&restored).unwrap();
        let check: String = conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(check, "ok");
        // A backup never overwrites.
        let before = std::fs::read(&restored).unwrap();
        let (code, _, err) = admin(&server.db, &["backup", &restored]);
        assert_eq!(code, 73, "{err}");
        assert!(err.contains("already exists"), "{err}");
        assert_eq!(std::fs::read(&restored).unwrap(), before);
    }
    let held = admin_json(&restored, &["status", "--json"])["stats"]["records"]
        .as_i64()
        .unwrap();
    assert!(held >= 1, "the backup holds at least the household");
    // The restored database serves: a fresh laptop of amina's pulls exactly what it holds.
    let again = TestServer::start_with_db(&restored);
    let laptop = Device::for_officer(&again.url, "amina", &token);
    laptop.sync_expect(0);
    let pulled = laptop.records("household").len() + laptop.records("visit").len();
    assert_eq!(pulled as i64, held);
}

both_stores!(
    backup_taken_during_pushes_restores_and_serves,
    revoke_new_token_init_and_the_queue_arrives_once,
    admin_on_a_path_that_is_not_a_fieldsync_database_exits_66_and_creates_nothing,
    status_reports_the_current_version_and_purge_beyond_it_is_refused,
    supervision_lists_activity_and_who_went_silent,
);
