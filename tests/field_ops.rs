//! Issue 11, the field's side, end to end with real `fieldsync serve`, `admin` and client
//! processes on both stores: a pull from scratch after a purge removes what the server no
//! longer has; a moved officer's laptop ends up holding exactly the new team's records and
//! its own local work (and discards what the server will never take); a rebuilt server is
//! refused until adopted, then holds every local record once; a server restored from a
//! backup is refilled by its devices, nothing lost and nothing doubled.

mod support;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use serde_json::Value;
use support::device::Device;
use support::{admin, both_stores, pg, StoreKind, TestServer};

fn admin_ok(db: &str, args: &[&str]) -> String {
    let (code, out, err) = admin(db, args);
    assert_eq!(code, 0, "admin {args:?}: {err}");
    out
}

/// Names of the live households on `device`, sorted.
fn household_names(device: &Device) -> Vec<String> {
    let mut v: Vec<String> = device
        .records("household")
        .values()
        .filter(|r| r["deleted_at"].is_null())
        .map(|r| r["name"].as_str().unwrap_or_default().to_string())
        .collect();
    v.sort();
    v
}

fn current_version(db: &str) -> i64 {
    let status: Value =
        serde_json::from_str(&admin_ok(db, &["status", "--json"])).expect("status --json");
    status["stats"]["current_version"]
        .as_i64()
        .unwrap_or_else(|| panic!("no current_version in {status}"))
}

fn purged_tombstones_leave_no_ghosts_after_a_resync(kind: StoreKind) {
    let server = TestServer::new(kind);
    let amina = Device::for_officer(&server.url, "amina", &server.add_officer("amina", "north"));
    let brian = Device::for_officer(&server.url, "brian", &server.add_officer("brian", "north"));
    let doomed = amina.add_household("to be deleted");
    for i in 0..4 {
        amina.add_household(&format!("stays {i}"));
    }
    amina.sync_expect(0);
    brian.sync_expect(0);
    amina.ok(&["household", "delete", &doomed]);
    amina.sync_expect(0);
    let before = (current_version(&server.db) + 1).to_string();
    admin_ok(
        &server.db,
        &["purge-tombstones", "--before-version", &before],
    );

    // Pages of two records: the pull from scratch goes on below the new history floor.
    let (code, out, err) = brian.sync(&["--page-size", "2"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("1 records removed: the server no longer holds them"),
        "{out}"
    );
    assert_eq!(household_names(&brian), household_names(&amina));
    assert!(!brian.records("household").contains_key(&doomed));
}

fn a_moved_officer_holds_the_new_teams_records_and_keeps_local_work(kind: StoreKind) {
    let server = TestServer::new(kind);
    let amina = Device::for_officer(&server.url, "amina", &server.add_officer("amina", "north"));
    let chidi = Device::for_officer(&server.url, "chidi", &server.add_officer("chidi", "south"));
    let brian = Device::for_officer(&server.url, "brian", &server.add_officer("brian", "north"));
    let north: Vec<String> = (0..3)
        .map(|i| amina.add_household(&format!("north {i}")))
        .collect();
    amina.add_visit(&north[0], "a north visit");
    chidi.add_household("south 0");
    chidi.add_household("south 1");
    amina.sync_expect(0);
    chidi.sync_expect(0);
    brian.sync_expect(0);
    brian.ok(&["household", "edit", &north[1], "--notes", "brian's edit"]);
    admin_ok(&server.db, &["officer", "move", "brian", "--team", "south"]);

    let (code, out, err) = brian.sync(&[]);
    assert_eq!(code, 4, "the north edit is rejected, not dropped: {err}");
    assert!(
        out.contains("moved from team north to south: 3 records removed, 2 pulled"),
        "{out}"
    );
    assert_eq!(
        household_names(&brian),
        vec!["north 1", "south 0", "south 1"],
        "the new team's records and the one with local work"
    );
    assert!(brian.records("visit").is_empty(), "the north visit is gone");
    let queue = brian.json(&["queue", "--rejected"]);
    assert_eq!(queue["rejected"], 1, "{queue}");
    let again = brian.sync_expect(4);
    assert!(
        again.get("moved").is_none(),
        "a move is reported once: {again}"
    );

    // The edit the server will never take: without a terminal, discard needs --yes.
    let err = brian.fails(2, &["queue", "discard", "--rejected"]);
    assert!(err.contains("--yes"), "{err}");
    assert_eq!(brian.json(&["queue"])["rejected"], 1, "nothing discarded");
    let path = brian.ok(&["queue", "discard", &north[1][..8], "--yes"]);
    let saved = std::fs::read_to_string(path.trim()).expect("the discard file");
    let line: Value = serde_json::from_str(saved.lines().next().expect("one line")).unwrap();
    assert_eq!(line["entry"]["entity_id"], north[1].as_str(), "{line}");
    assert_eq!(line["record"]["notes"], "brian's edit", "{line}");
    assert_eq!(brian.json(&["queue"])["rejected"], 0);
    brian.sync_expect(0);
    assert_eq!(household_names(&brian), vec!["south 0", "south 1"]);
}

/// The server database's id, from `admin status --json`.
fn server_id(db: &str) -> String {
    let status: Value = serde_json::from_str(&admin_ok(db, &["status", "--json"])).unwrap();
    status["server_id"]
        .as_str()
        .unwrap_or_else(|| panic!("no server_id in {status}"))
        .to_string()
}

/// Every record of the server, tombstones included, by (entity, id): (deleted, fields).
fn server_records(db: &str) -> BTreeMap<(String, String), Value> {
    let mut out = BTreeMap::new();
    for entity in ["household", "visit"] {
        let lines = admin_ok(
            db,
            &[
                "export",
                "--entity",
                entity,
                "--format",
                "jsonl",
                "--include-deleted",
            ],
        );
        for line in lines.lines().filter(|l| !l.trim().is_empty()) {
            let mut rec: Value = serde_json::from_str(line).expect("a JSON line");
            let id = rec["id"].as_str().expect("an id").to_string();
            let o = rec.as_object_mut().expect("an object");
            // Numbering is the server's own business: a re-sent record may get new numbers.
            o.remove("server_id");
            o.remove("version");
            // So are its who-and-when stamps: the server records who sent it and when it
            // received it, and a record sent again after a restore is stamped with the
            // laptop that sent it (a device's word on who wrote it before is not proof).
            for stamp in ["created_at", "created_by", "updated_at", "updated_by"] {
                o.remove(stamp);
            }
            let before = out.insert((entity.to_string(), id.clone()), rec);
            assert!(before.is_none(), "{entity} {id} exported twice");
        }
    }
    out
}

/// A fresh database of `kind` for a server that replaces another.
fn fresh_db(kind: StoreKind, dir: &Path, name: &str) -> String {
    match kind {
        StoreKind::Sqlite => dir.join(name).display().to_string(),
        StoreKind::Postgres => pg::fresh_database(),
    }
}

fn a_rebuilt_server_is_refused_then_adopted_and_holds_every_record_once(kind: StoreKind) {
    let dir = tempfile::tempdir().unwrap();
    let mut server = TestServer::new(kind);
    let amina = Device::for_officer(&server.url, "amina", &server.add_officer("amina", "north"));
    let h: Vec<String> = (0..3)
        .map(|i| amina.add_household(&format!("h{i}")))
        .collect();
    amina.add_visit(&h[0], "first visit");
    amina.sync_expect(0);
    amina.ok(&["household", "edit", &h[1], "--notes", "offline edit"]);
    let expected_households = 3;
    let old_id = server_id(&server.db);

    // The server is rebuilt: a new, empty database at the same address.
    server.terminate(Duration::from_secs(10));
    server.db = fresh_db(kind, dir.path(), "rebuilt.sqlite3");
    server.start_again();
    let token = server.add_officer("amina", "north");
    amina.init(&server.url, "amina", &token);
    let new_id = server_id(&server.db);
    assert_ne!(old_id, new_id);

    let (code, _, err) = amina.sync(&[]);
    assert_eq!(code, 78, "{err}");
    assert!(err.contains(&old_id) && err.contains(&new_id), "{err}");
    assert!(err.contains("--adopt-server"), "{err}");
    assert_eq!(amina.json(&["queue"])["pending"], 1, "nothing was sent");
    assert!(server_records(&server.db).is_empty());

    let (code, out, err) = amina.sync(&["--adopt-server"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains(&format!("adopted server database {new_id}")),
        "{out}"
    );
    let records = server_records(&server.db);
    assert_eq!(records.len(), expected_households + 1, "{records:?}");
    let edited = &records[&("household".to_string(), h[1].clone())];
    assert_eq!(edited["notes"], "offline edit");
    // A retry changes nothing: each record is on the server once.
    amina.sync_expect(0);
    assert_eq!(server_records(&server.db).len(), expected_households + 1);
}

/// Every device syncs until each ends with exit 0 (at most three rounds).
fn sync_all(devices: &[&Device]) {
    for d in devices {
        d.sync_expect(0);
    }
    for d in devices {
        d.sync_expect(0);
    }
}

/// Restores `backup` (a SQLite file or a `pg_dump -Fc` file) into a fresh database; its
/// `--database` value.
fn restore(kind: StoreKind, backup: &Path, dir: &Path) -> String {
    let db = fresh_db(kind, dir, "restored.sqlite3");
    match kind {
        StoreKind::Sqlite => {
            std::fs::copy(backup, &db).expect("copy the backup into place");
        }
        StoreKind::Postgres => {
            let out = Command::new(Path::new(pg::PG_BIN).join("pg_restore"))
                .args(["--no-owner", "-d", &db])
                .arg(backup)
                .output()
                .unwrap();
            assert!(out.status.success(), "pg_restore: {out:?}");
        }
    }
    db
}

/// Backs the server's database up while it runs (SQLite: `admin backup`; PostgreSQL:
/// `pg_dump -Fc`).
fn back_up(kind: StoreKind, db: &str, file: &Path) {
    match kind {
        StoreKind::Sqlite => {
            admin_ok(db, &["backup", &file.display().to_string()]);
        }
        StoreKind::Postgres => {
            let out = Command::new(Path::new(pg::PG_BIN).join("pg_dump"))
                .args(["-Fc", "--file"])
                .arg(file)
                .arg(db)
                .output()
                .unwrap();
            assert!(out.status.success(), "pg_dump: {out:?}");
        }
    }
}

fn a_restored_server_is_refilled_by_its_devices_nothing_lost_nothing_doubled(kind: StoreKind) {
    let dir = tempfile::tempdir().unwrap();
    let mut server = TestServer::new(kind);
    let amina = Device::for_officer(&server.url, "amina", &server.add_officer("amina", "north"));
    let brian = Device::for_officer(&server.url, "brian", &server.add_officer("brian", "north"));
    let chidi = Device::for_officer(&server.url, "chidi", &server.add_officer("chidi", "south"));
    let all = [&amina, &brian, &chidi];
    let shared = amina.add_household("shared");
    let old = amina.add_household("old");
    brian.add_household("brian's first");
    chidi.add_household("south first");
    sync_all(&all);
    let backup = dir.path().join("backup.dump");
    back_up(kind, &server.db, &backup);

    // After the backup: new records, edits of old ones by two officers, a delete, visits.
    amina.ok(&["household", "edit", &shared, "--village", "Kibera"]);
    amina.add_household("amina after");
    let v = amina.add_visit(&shared, "amina's visit");
    sync_all(&all);
    brian.ok(&["household", "edit", &shared, "--notes", "brian's note"]);
    brian.ok(&["household", "delete", &old]);
    brian.add_visit(&shared, "brian's visit");
    chidi.add_household("south after");
    sync_all(&all);
    amina.ok(&["visit", "edit", &v, "--notes", "amina's visit, edited"]);
    sync_all(&all);
    let before = server_records(&server.db);
    assert_eq!(
        before.len(),
        8,
        "six households (one deleted), two visits: {before:?}"
    );

    // The server is restored from the backup, at the same address.
    server.terminate(Duration::from_secs(10));
    server.db = restore(kind, &backup, dir.path());
    server.start_again();
    assert!(server_records(&server.db).len() < before.len());

    // Chidi, with new work, syncs first: the restored server's counter moves past every
    // version it lost, and the others must still notice.
    chidi.add_household("south after the restore");
    let (code, out, err) = chidi.sync(&[]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("the server was restored from a backup"),
        "{out}"
    );
    // Brian re-sends amina's visit too, but only its author may bring it back: the server
    // refuses it until amina has synced, then brian's copy goes out again (merged).
    let (code, out, err) = brian.sync(&[]);
    assert_eq!(code, 4, "{out} {err}");
    assert!(
        out.contains("the server was restored from a backup"),
        "{out}"
    );
    let (code, out, err) = amina.sync(&[]);
    assert_eq!(code, 0, "{out} {err}");
    assert!(
        out.contains("the server was restored from a backup"),
        "{out}"
    );
    sync_all(&all);

    let after = server_records(&server.db);
    for (key, rec) in &before {
        assert_eq!(
            after.get(key),
            Some(rec),
            "{key:?} lost or changed by the restore"
        );
    }
    assert_eq!(after.len(), before.len() + 1, "only the new record is new");
    for d in all {
        let q = d.json(&["queue"]);
        assert_eq!(
            (q["pending"].as_i64(), q["rejected"].as_i64()),
            (Some(0), Some(0))
        );
    }
    // Every device holds its team's records as the server does.
    let north_live = after
        .iter()
        .filter(|((e, _), r)| e == "household" && r["team"] == "north" && r["deleted"] == false)
        .count();
    assert_eq!(household_names(&amina).len(), north_live);
    assert_eq!(household_names(&brian), household_names(&amina));
}

/// The convergence soak's seed 84, written out. Brian's edit of a household, based on a
/// copy older than chidi's note, is merged by the server (brian never pulls the merged
/// record: his pulls fail) and then lost by a restore. After the restore brian, who never saw
/// chidi's note, writes a note of his own. The refill must send back only brian's own
/// changes on the version he really had: his name comes back, and his note meets chidi's
/// as a conflict instead of silently replacing it.
fn a_lost_merged_push_is_refilled_without_overwriting_what_its_device_never_saw(kind: StoreKind) {
    let dir = tempfile::tempdir().unwrap();
    let mut server = TestServer::new(kind);
    let proxy = support::proxy::FaultProxy::start(
        server.url.trim_start_matches("http://").parse().unwrap(),
    );
    let amina = Device::for_officer(&server.url, "amina", &server.add_officer("amina", "north"));
    let brian = Device::for_officer(&proxy.url(), "brian", &server.add_officer("brian", "north"));
    let chidi = Device::for_officer(&server.url, "chidi", &server.add_officer("chidi", "north"));
    let h = amina.add_household("shared");
    sync_all(&[&amina, &brian, &chidi]);
    chidi.ok(&["household", "edit", &h, "--notes", "chidi's note"]);
    sync_all(&[&chidi]);
    let backup = dir.path().join("backup.dump");
    back_up(kind, &server.db, &backup);

    // Brian's push is merged at a version the restore will lose; his pulls fail, so he
    // never holds the merged record (chidi's note).
    brian.ok(&["household", "edit", &h, "--name", "brian's name"]);
    for _ in 0..8 {
        proxy.push_fault_for("/v1/pull", support::proxy::Fault::DropBeforeUpstream);
    }
    let (code, out, err) = brian.sync(&[]);
    assert_eq!(code, 75, "{out} {err}");
    proxy.clear();

    server.terminate(Duration::from_secs(10));
    server.db = restore(kind, &backup, dir.path());
    server.start_again();
    proxy.set_upstream(server.url.trim_start_matches("http://").parse().unwrap());

    brian.ok(&["household", "edit", &h, "--notes", "brian's note"]);
    let (code, out, err) = brian.sync(&[]);
    assert_eq!(code, 3, "a conflict on the note: {out} {err}");
    let after = server_records(&server.db);
    let rec = &after[&("household".to_string(), h.clone())];
    assert_eq!(rec["notes"], "chidi's note", "{rec}");
    assert_eq!(rec["name"], "brian's name", "{rec}");
}

both_stores!(
    purged_tombstones_leave_no_ghosts_after_a_resync,
    a_moved_officer_holds_the_new_teams_records_and_keeps_local_work,
    a_rebuilt_server_is_refused_then_adopted_and_holds_every_record_once,
    a_restored_server_is_refilled_by_its_devices_nothing_lost_nothing_doubled,
    a_lost_merged_push_is_refilled_without_overwriting_what_its_device_never_saw,
);
