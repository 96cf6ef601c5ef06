//! Issue 13 item 5: no orphans (the rule in `src/orphans.rs`, documented in
//! docs/protocol.md). A household delete that meets another officer's new visit is a
//! conflict, and keeping the delete stays refused while the visit lives; a new visit to a
//! household deleted on the server restores it. Both stores.

mod support;

use serde_json::Value;
use support::device::Device;
use support::{StoreKind, TestServer};

fn officer(server: &TestServer, id: &str) -> Device {
    let token = server.add_officer(id, "north");
    Device::for_officer(&server.url, id, &token)
}

/// What a fresh device of the team pulls: id → record.
fn on_server(server: &TestServer, entity: &str) -> std::collections::BTreeMap<String, Value> {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let auditor = officer(server, &format!("auditor{n}"));
    auditor.sync_expect(0);
    auditor.records(entity)
}

fn a_delete_meeting_a_new_visit_is_a_conflict_that_cannot_orphan(kind: StoreKind) {
    let server = TestServer::new(kind);
    let amina = officer(&server, "amina");
    let brian = officer(&server, "brian");
    let h = amina.add_household("Wanjiru");
    amina.sync_expect(0);
    brian.sync_expect(0);
    amina.ok(&["household", "delete", &h]);
    let v = brian.add_visit(&h, "brian was there");
    brian.sync_expect(0);
    let r = amina.sync_expect(3);
    assert_eq!(r["conflicts"], 1, "{r}");
    let households = on_server(&server, "household");
    assert!(
        households[&h]["deleted_at"].is_null(),
        "the household stays on the server"
    );
    // Keeping the delete is refused while brian's visit lives (on this laptop too now).
    let err = amina.fails(65, &["resolve", &h, "--keep", "mine"]);
    assert!(err.contains("visit"), "{err}");
    assert_eq!(amina.json(&["conflicts"]).as_array().unwrap().len(), 1);
    amina.ok(&["resolve", &h, "--keep", "theirs"]);
    amina.sync_expect(0);
    let mine = amina.records("household");
    assert!(
        mine[&h]["deleted_at"].is_null(),
        "restored on amina's laptop"
    );
    let visits = on_server(&server, "visit");
    assert!(visits[&v]["deleted_at"].is_null());
}

fn a_new_visit_to_a_deleted_household_restores_it(kind: StoreKind) {
    let server = TestServer::new(kind);
    let amina = officer(&server, "amina");
    let brian = officer(&server, "brian");
    let h = amina.add_household("Wanjiru");
    amina.sync_expect(0);
    brian.sync_expect(0);
    amina.ok(&["household", "delete", &h]);
    amina.sync_expect(0);
    let v = brian.add_visit(&h, "still there");
    let r = brian.sync_expect(0);
    assert_eq!(r["accepted"], 1, "{r}");
    let households = on_server(&server, "household");
    assert!(
        households[&h]["deleted_at"].is_null(),
        "the visit restored it"
    );
    assert!(on_server(&server, "visit")[&v]["deleted_at"].is_null());
    // Everyone converges on it, the officer who deleted it too.
    amina.sync_expect(0);
    assert!(amina.records("household")[&h]["deleted_at"].is_null());
    assert!(brian.records("household")[&h]["deleted_at"].is_null());
}

/// The prompt says why the delete cannot be kept before the officer chooses, and offers to
/// restore the household.
#[test]
fn the_prompt_explains_the_visits_before_the_choice() {
    use expectrl::{Eof, Session, WaitStatus};
    let server = TestServer::new(StoreKind::Sqlite);
    let amina = officer(&server, "amina");
    let brian = officer(&server, "brian");
    let h = amina.add_household("Wanjiru");
    amina.sync_expect(0);
    brian.sync_expect(0);
    amina.ok(&["household", "delete", &h]);
    brian.add_visit(&h, "brian was there");
    brian.sync_expect(0);
    amina.sync_expect(3);
    let mut cmd = std::process::Command::new(support::bin());
    cmd.arg("--db")
        .arg(&amina.db)
        .arg("--config")
        .arg(&amina.config);
    cmd.arg("resolve").env("TERM", "xterm");
    let mut s = Session::spawn(cmd).expect("spawn in a pty");
    s.set_expect_timeout(Some(std::time::Duration::from_secs(20)));
    s.expect("the server keeps it because visits refer to it")
        .unwrap();
    s.expect("has 1 visit(s) on this laptop").unwrap();
    s.expect("Restore the record (with the server's edits)")
        .unwrap();
    s.send("\r").unwrap();
    s.expect("Write this resolution?").unwrap();
    s.send("y").unwrap();
    s.expect(Eof).unwrap();
    assert!(matches!(
        s.get_process().wait().unwrap(),
        WaitStatus::Exited(_, 0)
    ));
    amina.sync_expect(0);
    assert!(amina.records("household")[&h]["deleted_at"].is_null());
}

support::both_stores!(
    a_delete_meeting_a_new_visit_is_a_conflict_that_cannot_orphan,
    a_new_visit_to_a_deleted_household_restores_it,
);
