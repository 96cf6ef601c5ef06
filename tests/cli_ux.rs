//! Issue 13, the officer's everyday CLI: exit codes that hold (closed pipes, panics), setup
//! and read-only commands, `sync --json` for scripts. Each test runs the real binary.

mod support;

use std::process::{Command, Output, Stdio};

use support::device::Device;

/// Runs `fieldsync ARGS` (with the device's --db/--config) with stdout a pipe whose reader
/// is already closed, as in `fieldsync visit list | head -0`.
fn into_closed_pipe(d: &Device, args: &[&str]) -> Output {
    let (reader, writer) = std::io::pipe().expect("a pipe");
    drop(reader);
    let mut c = d.spawn_cmd(args);
    c.stdout(writer);
    c.output().expect("fieldsync runs")
}

/// A device with a household, a visit to it and an edit, so that every listing has lines.
fn device_with_records() -> (Device, String) {
    let d = Device::initialised();
    let h = d.add_household("Wanjiru");
    d.add_visit(&h, "first visit");
    (d, h)
}

#[test]
fn every_listing_into_a_closed_pipe_ends_quietly_with_0() {
    let (d, h) = device_with_records();
    // `admin` opens only an existing server database: `serve` makes one.
    let server = support::TestServer::new(support::StoreKind::Sqlite);
    let server_db = server.db.as_str();
    let mut listings: Vec<Vec<&str>> = vec![
        vec!["household", "list"],
        vec!["household", "show", &h],
        vec!["visit", "list"],
        vec!["visit", "list", "--household", &h],
        vec!["queue"],
        vec!["status"],
        vec!["conflicts"],
        vec!["completions", "bash"],
        vec!["--help"],
        vec!["admin", "--database", server_db, "officer", "list"],
    ];
    let with_json: Vec<Vec<&str>> = listings
        .iter()
        .filter(|a| !matches!(a[0], "completions" | "--help" | "admin"))
        .map(|a| [vec!["--json"], a.clone()].concat())
        .collect();
    listings.extend(with_json);
    for args in &listings {
        let out = into_closed_pipe(&d, args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {err}");
        // (`conflicts` says "no conflicts" on stderr; nothing else may appear there.)
        for bad in ["panick", "Broken pipe", "error", "fieldsync:"] {
            assert!(!err.contains(bad), "{args:?} printed on stderr: {err}");
        }
    }
}

/// A closed stderr (a log pipe that went away: `cmd 2>&1 | head -1` style) loses the
/// diagnostics, never the command: its work is done and its exit code stands (it was 70, a
/// panic in `eprintln!`, for `admin` and every message on stderr).
#[test]
fn a_closed_stderr_loses_lines_not_the_command() {
    let d = Device::initialised();
    let server = support::TestServer::new(support::StoreKind::Sqlite);
    let with_closed_stderr = |args: &[&str]| {
        let (reader, writer) = std::io::pipe().expect("a pipe");
        drop(reader);
        let mut c = d.spawn_cmd(args);
        c.stderr(writer);
        c.output().expect("fieldsync runs")
    };
    // Success with a message on stderr: the record is written, exit 0.
    let out = with_closed_stderr(&["household", "add", "--name", "Wanjiru"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(d.records("household").len(), 1);
    // An admin command whose token goes to stdout and its note to stderr.
    let mut c = Command::new(support::bin());
    c.args([
        "admin",
        "--database",
        &server.db,
        "officer",
        "add",
        "zawadi",
        "--team",
        "north",
    ]);
    let (reader, writer) = std::io::pipe().expect("a pipe");
    drop(reader);
    let out = c
        .stderr(writer)
        .stdin(Stdio::null())
        .output()
        .expect("admin runs");
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim().len(), 64);
    // A failure keeps its own exit code (66: no such record), not 70.
    let out = with_closed_stderr(&["household", "show", "0000"]);
    assert_ne!(out.status.code(), Some(70));
    assert_ne!(out.status.code(), Some(0));
}

#[test]
fn a_panic_is_exit_70_and_one_line_asking_for_a_bug_report() {
    let out = Command::new(support::bin())
        .arg("status")
        .env("FIELDSYNC_DEBUG_PANIC", "1")
        .env("RUST_BACKTRACE", "1")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(70), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("bug") && err.contains("report"), "{err}");
    assert!(!err.contains("backtrace"), "{err}");
}

// ---- item 7: setup ----------------------------------------------------------------------

#[test]
fn init_accepts_only_http_and_https_servers() {
    let d = Device::new();
    for bad in [
        "ftp://sync.example.org",
        "sync.example.org",
        "file:///tmp/x",
    ] {
        let err = d.fails(
            2,
            &["init", "--server", bad, "--officer", "amina", "--token=t"],
        );
        assert!(err.contains("https://"), "{bad}: {err}");
        assert!(!d.config.exists(), "{bad}: a config was written");
    }
}

#[test]
fn init_offline_succeeds_with_a_note() {
    let d = Device::new();
    let out = d.run(&[
        "init",
        "--server",
        "http://127.0.0.1:9",
        "--officer",
        "amina",
        "--token=t",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains("not checked") && err.contains("not reachable"),
        "{err}"
    );
    assert!(d.config.exists());
}

fn init_checks_the_token_when_the_server_answers(kind: support::StoreKind) {
    let server = support::TestServer::new(kind);
    let token = server.add_officer("amina", "north");
    let d = Device::new();
    let err = d.fails(
        77,
        &[
            "init",
            "--server",
            &server.url,
            "--officer",
            "amina",
            "--token=wrong",
        ],
    );
    assert!(err.contains("refused the token"), "{err}");
    assert!(!d.config.exists(), "a refused token was written");
    let out = d.run(&[
        "init",
        "--server",
        &server.url,
        "--officer",
        "amina",
        &format!("--token={token}"),
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("accepted the token"), "{err}");
}

#[test]
fn commands_that_only_read_never_create_a_database() {
    let d = Device::initialised();
    // `init` set the database up: an empty list, not an error.
    assert!(d.db.exists());
    d.ok(&["household", "list"]);
    // A --db with a typo (here: a database that went away) is refused, never created.
    std::fs::remove_file(&d.db).unwrap();
    let readers: [&[&str]; 8] = [
        &["household", "list"],
        &["visit", "list"],
        &["household", "show", "01a2"],
        &["visit", "edit", "01a2", "--notes", "x"],
        &["queue"],
        &["status"],
        &["conflicts"],
        &["resolve", "--all", "--keep", "mine"],
    ];
    for args in readers {
        let err = d.fails(78, args);
        assert!(err.contains(&d.db.display().to_string()), "{args:?}: {err}");
        assert!(err.contains("fieldsync init"), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(!d.db.exists(), "{args:?} created the database");
    }
    // Recording something creates it.
    d.add_household("Wanjiru");
    assert!(d.db.exists());
    d.ok(&["household", "list"]);
}

// ---- item 8: scripts --------------------------------------------------------------------

/// `fieldsync --json sync ARGS`: (exit code, the one JSON object on stdout, stderr).
fn sync_json(d: &Device, args: &[&str]) -> (i32, serde_json::Value, String) {
    let out = d.run(&[&["--json", "sync", "--retries", "1"], args].concat());
    let stdout = String::from_utf8_lossy(&out.stdout);
    let value: serde_json::Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("sync --json printed no single JSON object ({e}): {stdout:?}"));
    assert!(value.is_object(), "{value}");
    let code = out.status.code().unwrap_or(-1);
    (
        code,
        value,
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

#[test]
fn sync_json_prints_one_object_when_offline_or_unconfigured() {
    let d = Device::initialised();
    d.add_household("Wanjiru");
    let (code, v, err) = sync_json(&d, &[]);
    assert_eq!(code, 75, "{err}");
    assert_eq!(v["error"]["code"], "offline", "{v}");
    assert_eq!(v["exit_code"], 75, "{v}");
    assert!(
        v["error"]["message"].as_str().unwrap().contains("offline"),
        "{v}"
    );

    let fresh = Device::new();
    let (code, v, _) = sync_json(&fresh, &[]);
    assert_eq!(code, 78);
    assert_eq!(v["error"]["code"], "config", "{v}");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("fieldsync init"),
        "{v}"
    );
}

#[test]
fn interval_without_watch_is_a_usage_error() {
    let d = Device::initialised();
    let out = d.run(&["sync", "--interval", "1m"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("--watch"), "{err}");
}

fn sync_results_go_to_stdout(kind: support::StoreKind) {
    let server = support::TestServer::new(kind);
    let token = server.add_officer("amina", "north");
    let d = Device::for_officer(&server.url, "amina", &token);
    d.add_household("Wanjiru");
    let out = d.run(&["sync"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout.starts_with("pushed 1 (1 accepted"), "{stdout:?}");
    let (code, v, _) = sync_json(&d, &[]);
    assert_eq!(code, 0);
    assert_eq!(v["pushed"], 0, "{v}");
    assert!(v.get("error").is_none(), "{v}");
}

support::both_stores!(
    init_checks_the_token_when_the_server_answers,
    sync_results_go_to_stdout
);
