//! Issue 11, the field's side, end to end with real `fieldsync serve`, `admin` and client
//! processes on both stores: a pull from scratch after a purge removes what the server no
//! longer has; a moved officer's laptop ends up holding exactly the new team's records and
//! its own local work.

mod support;

use serde_json::Value;
use support::device::Device;
use support::{admin, both_stores, StoreKind, TestServer};

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
    admin_ok(&server.db, &["purge-tombstones", "--before-version", &before]);

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
    assert!(again.get("moved").is_none(), "a move is reported once: {again}");

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

both_stores!(
    purged_tombstones_leave_no_ghosts_after_a_resync,
    a_moved_officer_holds_the_new_teams_records_and_keeps_local_work,
);
