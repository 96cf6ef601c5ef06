//! One test per exit code in the README's table, each reached through the real `fieldsync`
//! binary the way an officer would reach it. Code 70 (an internal error, i.e. a bug) has no
//! test: there is no honest way to make a correct build hit a bug on purpose.
//!
//! 3, 4 and 77 run against a real `fieldsync serve`; 76 against a tiny fake server on
//! 127.0.0.1 that answers something that is not the fieldsync protocol.

mod support;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::Duration;

use support::device::Device;
use support::{StoreKind, TestServer};

fn officer(server: &TestServer, id: &str, team: &str) -> Device {
    let token = server.add_officer(id, team);
    Device::for_officer(&server.url, id, &token)
}

/// Opens the device's database directly, to damage it as a failing disk or a careless edit
/// would.
fn raw_db(d: &Device) -> rusqlite::Connection {
    rusqlite::Connection::open(&d.db).unwrap()
}

#[test]
fn code_0_done() {
    let d = Device::initialised();
    let id = d.add_household("Wanjiru");
    assert_eq!(id.len(), 36, "{id}");
}

#[test]
fn code_2_usage() {
    let d = Device::initialised();
    d.add_household("A");
    let out = d.run(&["household", "add", "--no-such-flag"]);
    assert_eq!(out.status.code(), Some(2));
    // An id prefix that matches several records is a usage error too.
    d.add_household("B");
    let ids: Vec<String> = d
        .json(&["household", "list"])
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect();
    let common: String = ids[0]
        .chars()
        .zip(ids[1].chars())
        .take_while(|(a, b)| a == b)
        .map(|(a, _)| a)
        .collect();
    if !common.is_empty() {
        let err = d.fails(2, &["household", "show", &common]);
        assert!(err.contains("ambiguous"), "{err}");
    }
    // Sizes out of range are usage errors naming the range, before anything is sent.
    for (flag, bad, range) in [
        ("--batch-size", "0", "1..=500"),
        ("--batch-size", "501", "1..=500"),
        ("--page-size", "0", "1..=1000"),
        ("--page-size", "1001", "1..=1000"),
    ] {
        let err = d.fails(2, &["sync", flag, bad]);
        assert!(err.contains(flag) && err.contains(range), "{err}");
    }
    assert_eq!(
        d.json(&["queue"])["pending"],
        2,
        "nothing was sent or changed"
    );
}

/// Amina and Brian edit one household's village offline; Amina syncs first, so Brian's next
/// sync files a conflict. Returns the server (keep it alive) and Brian's laptop.
fn brian_behind_a_conflict() -> (TestServer, Device) {
    let server = TestServer::new(StoreKind::Sqlite);
    let amina = officer(&server, "amina", "north");
    let brian = officer(&server, "brian", "north");
    let h = amina.add_household("Wanjiru");
    amina.sync_expect(0);
    brian.sync_expect(0);
    amina.ok(&["household", "edit", &h, "--village", "Amina's"]);
    brian.ok(&["household", "edit", &h, "--village", "Brian's"]);
    amina.sync_expect(0);
    (server, brian)
}

#[test]
fn code_3_conflicts_wait() {
    let (_server, brian) = brian_behind_a_conflict();
    let r = brian.sync_expect(3);
    assert_eq!(r["conflicts"], 1);
}

#[test]
fn code_4_rejected() {
    let server = TestServer::new(StoreKind::Sqlite);
    let amina = officer(&server, "amina", "north");
    let h = amina.add_household("Wanjiru");
    amina.sync_expect(0);
    amina.add_visit(&h, "offline");
    // Moved to another team while offline: the visit to a north household is refused.
    let (code, _, err) =
        support::admin(&server.db, &["officer", "move", "amina", "--team", "south"]);
    assert_eq!(code, 0, "{err}");
    let r = amina.sync_expect(4);
    assert_eq!(r["rejected"], 1);
}

#[test]
fn code_65_bad_data() {
    let d = Device::initialised();
    let h = d.add_household("Wanjiru");
    let err = d.fails(
        65,
        &["visit", "add", "--household", &h, "--gps", "north,east"],
    );
    assert!(!err.is_empty());
}

#[test]
fn code_66_not_found() {
    let d = Device::initialised();
    d.add_household("Wanjiru");
    d.fails(66, &["household", "show", "ffffffff"]);
}

#[test]
fn code_74_not_a_database() {
    let d = Device::initialised();
    std::fs::write(&d.db, b"this is not a SQLite file, it is a shopping list").unwrap();
    let err = d.fails(74, &["household", "list"]);
    assert!(err.contains("not a fieldsync database"), "{err}");
}

#[test]
fn code_74_a_damaged_row_is_local_corruption_not_a_protocol_error() {
    let d = Device::initialised();
    d.add_household("Wanjiru");
    // A queue payload that is no longer JSON.
    raw_db(&d)
        .execute("UPDATE sync_queue SET payload = '{not json'", [])
        .unwrap();
    let err = d.fails(74, &["queue"]);
    assert!(err.contains("payload"), "{err}");
}

#[test]
fn code_74_a_damaged_device_id_is_local_corruption_not_a_protocol_error() {
    let d = Device::initialised();
    d.add_household("Wanjiru");
    raw_db(&d)
        .execute(
            "UPDATE sync_meta SET value = 'not-a-uuid' WHERE key = 'device_id'",
            [],
        )
        .unwrap();
    let err = d.fails(74, &["status"]);
    assert!(err.contains("device id"), "{err}");
}

#[test]
fn code_75_offline() {
    // Port 9 (discard) on this machine: nothing listens, the connection is refused.
    let d = Device::initialised();
    d.add_household("Wanjiru");
    let (code, _, err) = d.sync(&[]);
    assert_eq!(code, 75, "{err}");
    assert!(err.contains("offline: 1 change waiting"), "{err}");
}

/// A server on 127.0.0.1 that answers every request with `response`, until the test ends.
fn fake_server(response: &'static str) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let _ = conn.set_read_timeout(Some(Duration::from_millis(500)));
            let mut buf = [0u8; 4096];
            let _ = conn.read(&mut buf);
            let _ = conn.write_all(response.as_bytes());
        }
    });
    url
}

#[test]
fn code_76_an_answer_that_is_not_the_protocol() {
    let url = fake_server(
        "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 20\r\nConnection: close\r\n\r\n<html>a router</html",
    );
    let d = Device::new();
    d.init(&url, "amina", "t0ken");
    d.add_household("Wanjiru");
    let (code, _, err) = d.sync(&[]);
    assert_eq!(code, 76, "{err}");
    assert!(err.contains("does not parse"), "{err}");
    // Nothing was sent or lost.
    assert_eq!(d.json(&["queue"])["pending"], 1);
}

#[test]
fn code_77_token_refused() {
    let server = TestServer::new(StoreKind::Sqlite);
    let token = server.add_officer("amina", "north");
    let d = Device::for_officer(&server.url, "amina", &token);
    // `init` tries the token, so the wrong one goes into the config afterwards, as a token
    // typed into the file by hand or revoked since would be.
    let config = std::fs::read_to_string(&d.config).unwrap();
    std::fs::write(&d.config, config.replace(&token, "not-the-token")).unwrap();
    d.add_household("Wanjiru");
    let (code, _, err) = d.sync(&[]);
    assert_eq!(code, 77, "{err}");
    assert!(err.contains("fieldsync init"), "{err}");
    assert_eq!(d.json(&["queue"])["pending"], 1);
}

#[test]
fn code_78_no_config() {
    let d = Device::new();
    let (code, _, err) = d.sync(&[]);
    assert_eq!(code, 78, "{err}");
    assert!(err.contains("fieldsync init"), "{err}");
}

#[test]
fn code_130_backing_out_of_a_prompt() {
    use expectrl::{Eof, Session, WaitStatus};
    let (_server, brian) = brian_behind_a_conflict();
    brian.sync_expect(3);

    let mut cmd = std::process::Command::new(support::bin());
    cmd.arg("--db")
        .arg(&brian.db)
        .arg("--config")
        .arg(&brian.config);
    cmd.arg("resolve").env("TERM", "xterm");
    let mut s = Session::spawn(cmd).expect("spawn in a pty");
    s.set_expect_timeout(Some(Duration::from_secs(20)));
    s.expect("How do you want to settle it?").unwrap();
    s.send("\x1b").unwrap();
    let _ = s.expect(Eof);
    match s.get_process().wait().expect("wait") {
        WaitStatus::Exited(_, code) => assert_eq!(code, 130),
        other => panic!("resolve ended with {other:?}"),
    }
    assert_eq!(brian.json(&["conflicts"]).as_array().unwrap().len(), 1);
}
