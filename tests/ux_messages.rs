//! Issue 13 item 6: messages that tell the truth. `queue` does not claim everything reached
//! the server while conflicts hold edits; `status` names the configured server and warns
//! about old changes and old syncs; the resolve prompt (through a pseudo-terminal) shows the
//! record before "Write this resolution?", says what was written before Esc, and ends
//! Ctrl-C with a clean line; script errors are one line.

mod support;

use std::time::Duration;

use expectrl::{Eof, Session, WaitStatus};
use support::device::Device;
use support::{StoreKind, TestServer};

const ENTER: &str = "\r";

fn officer(server: &TestServer, id: &str) -> Device {
    let token = server.add_officer(id, "north");
    Device::for_officer(&server.url, id, &token)
}

/// Two visits both officers edited offline: brian ends with two conflicts.
fn two_conflicts() -> (TestServer, Device, Device) {
    let server = TestServer::new(StoreKind::Sqlite);
    let amina = officer(&server, "amina");
    let brian = officer(&server, "brian");
    let h = amina.add_household("Wanjiru");
    let visits = [amina.add_visit(&h, "one"), amina.add_visit(&h, "two")];
    amina.sync_expect(0);
    brian.sync_expect(0);
    for v in &visits {
        amina.ok(&["visit", "edit", v, "--notes", "amina's notes"]);
        brian.ok(&["visit", "edit", v, "--notes", "brian's notes"]);
    }
    amina.sync_expect(0);
    let r = brian.sync_expect(3);
    assert_eq!(r["conflicts_waiting"], 2, "{r}");
    (server, amina, brian)
}

fn resolve_in_pty(d: &Device) -> Session {
    let mut cmd = std::process::Command::new(support::bin());
    cmd.arg("--db").arg(&d.db).arg("--config").arg(&d.config);
    cmd.arg("resolve").env("TERM", "xterm");
    let mut s = Session::spawn(cmd).expect("spawn in a pty");
    s.set_expect_timeout(Some(Duration::from_secs(20)));
    s
}

fn finish(mut s: Session) -> (i32, String) {
    let rest = s
        .expect(Eof)
        .map(|c| String::from_utf8_lossy(c.as_bytes()).to_string())
        .unwrap_or_default();
    match s.get_process().wait().expect("wait") {
        WaitStatus::Exited(_, code) => (code, rest),
        other => panic!("resolve ended with {other:?}"),
    }
}

#[test]
fn the_prompt_shows_the_record_and_says_what_was_written_before_esc() {
    let (_server, _amina, brian) = two_conflicts();
    let mut s = resolve_in_pty(&brian);
    s.expect("Conflict 1 of 2").unwrap();
    s.expect("How do you want to settle it?").unwrap();
    s.send(ENTER).unwrap(); // keep mine
    s.expect("will be:").unwrap();
    s.expect("brian's notes").unwrap();
    s.expect("Write this resolution?").unwrap();
    s.send("y").unwrap();
    s.expect("Conflict 2 of 2").unwrap();
    s.expect("How do you want to settle it?").unwrap();
    s.send("\x1b").unwrap();
    let (code, out) = finish(s);
    assert_eq!(code, 130, "{out}");
    assert!(
        out.contains("1 of 2 conflicts was settled and written"),
        "{out}"
    );
    assert!(!out.contains("nothing was changed"), "{out}");
    let conflicts = brian.json(&["conflicts"]);
    assert_eq!(conflicts.as_array().unwrap().len(), 1, "{conflicts}");
    // The queue says the one left holds edits.
    let out = brian.run(&["queue"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !err.contains("everything recorded here has reached"),
        "{err}"
    );

    // Ctrl-C: one clean line, no "IO error".
    let mut s = resolve_in_pty(&brian);
    s.expect("How do you want to settle it?").unwrap();
    s.send("\x03").unwrap();
    let (code, out) = finish(s);
    assert_eq!(code, 130, "{out}");
    assert!(out.contains("Cancelled: nothing was changed."), "{out}");
    assert!(!out.to_lowercase().contains("io error"), "{out}");
}

#[test]
fn queue_with_only_conflicts_and_script_errors_are_truthful_one_liners() {
    let (_server, _amina, brian) = two_conflicts();
    // The conflicts' edits are held out of the queue until settled.
    let out = brian.run(&["queue"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("2 conflicts hold edits"), "{err}");
    // A delete-vs-edit flag on a field conflict, a missing decision: one line each.
    let list = brian.json(&["conflicts"]);
    let id = list[0]["id"].as_str().unwrap();
    let err = brian.fails(2, &["resolve", id, "--field", "deleted=mine"]);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
}

#[test]
fn status_names_the_configured_server_before_the_first_sync() {
    let d = Device::initialised();
    d.add_household("Wanjiru");
    let out = d.ok(&["status"]);
    assert!(out.contains("http://127.0.0.1:9 (not synced yet)"), "{out}");
    // A change two days old: a warning on stderr.
    let conn = rusqlite::Connection::open(&d.db).unwrap();
    conn.execute(
        "UPDATE sync_queue SET enqueued_at = '2020-01-01T00:00:00Z'",
        [],
    )
    .unwrap();
    let out = d.run(&["status"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("warning: a change has waited"), "{err}");
}
