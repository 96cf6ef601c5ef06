//! Issue 13 item 3: no silent waits. Against a server that accepts connections and never
//! answers, every request times out (`--timeout`), a stalled push is retried like any
//! transient failure and then `sync` exits 75 with the queue kept, and on a terminal a
//! spinner says what it waits for.

mod support;

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use support::device::Device;

/// A server on 127.0.0.1 that accepts every connection and never answers, except (when
/// `healthy`) `GET /v1/health`. Counts the requests it left waiting.
struct Stalling {
    url: String,
    stalled: Arc<AtomicUsize>,
}

impl Stalling {
    fn start(healthy: bool) -> Stalling {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let stalled = Arc::new(AtomicUsize::new(0));
        let counter = stalled.clone();
        // Held open until the test process ends: the client must give up by itself.
        let held: Arc<Mutex<Vec<TcpStream>>> = Arc::default();
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let (counter, held) = (counter.clone(), held.clone());
                std::thread::spawn(move || serve(conn, healthy, &counter, &held));
            }
        });
        Stalling { url, stalled }
    }
}

/// Reads requests off one connection: answers health checks, stalls on anything else.
fn serve(conn: TcpStream, healthy: bool, stalled: &AtomicUsize, held: &Mutex<Vec<TcpStream>>) {
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    let mut conn = conn;
    loop {
        let mut first = String::new();
        if reader.read_line(&mut first).unwrap_or(0) == 0 {
            return;
        }
        // The rest of the head (a health check has no body).
        let mut line = String::new();
        while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
            line.clear();
        }
        if healthy && first.starts_with("GET /v1/health") {
            let body = r#"{"status":"ok","version":"0.1.0","store":"sqlite"}"#;
            let answer = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                body.len()
            );
            if conn.write_all(answer.as_bytes()).is_err() {
                return;
            }
            continue;
        }
        stalled.fetch_add(1, Ordering::SeqCst);
        held.lock().unwrap().push(conn);
        return;
    }
}

/// A device set up against `server`; `init` tries the token and waits at most 1 s.
fn device_for(server: &Stalling) -> Device {
    let d = Device::new();
    let started = Instant::now();
    d.ok(&[
        "--timeout",
        "1s",
        "init",
        "--server",
        &server.url,
        "--officer",
        "amina",
        "--token=t0ken",
    ]);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "init waited {:?}",
        started.elapsed()
    );
    d
}

#[test]
fn a_server_that_never_answers_is_offline_after_the_timeout() {
    let server = Stalling::start(false);
    let d = device_for(&server);
    d.add_household("Wanjiru");
    let before = d.snapshot();
    let started = Instant::now();
    let out = d.run(&["--timeout", "1s", "sync", "--retries", "2"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(75), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "{:?}",
        started.elapsed()
    );
    assert!(err.contains("did not answer within 1 s"), "{err}");
    assert_eq!(d.snapshot(), before, "nothing lost, nothing sent");
}

#[test]
fn a_stalled_push_is_retried_then_exits_75_keeping_the_queue() {
    let server = Stalling::start(true);
    let d = device_for(&server);
    d.add_household("Wanjiru");
    // (`init` tried the token with a pull, which stalled too.)
    let before = server.stalled.load(Ordering::SeqCst);
    let out = d.run(&["--timeout", "1s", "sync", "--retries", "3"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(75), "{err}");
    let attempts = server.stalled.load(Ordering::SeqCst) - before;
    assert_eq!(attempts, 3, "three attempts: {err}");
    assert!(err.contains("did not answer within 1 s"), "{err}");
    let queue = d.json(&["queue"]);
    assert_eq!(queue["entries"].as_array().unwrap().len(), 1, "{queue}");
    // --json: one object saying so.
    let out = d.run(&["--json", "--timeout", "1s", "sync", "--retries", "1"]);
    assert_eq!(out.status.code(), Some(75));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["error"]["code"], "offline", "{report}");
}

#[test]
fn a_bad_timeout_is_a_usage_error() {
    let d = Device::initialised();
    for bad in ["0s", "soon", "5x"] {
        let err = d.fails(2, &["--timeout", bad, "status"]);
        assert!(err.contains("--timeout"), "{err}");
    }
}

#[test]
fn on_a_terminal_a_spinner_says_what_it_waits_for() {
    use expectrl::{Eof, Session};
    let server = Stalling::start(true);
    let d = device_for(&server);
    d.add_household("Wanjiru");
    let mut cmd = std::process::Command::new(support::bin());
    cmd.arg("--db").arg(&d.db).arg("--config").arg(&d.config);
    cmd.args(["--timeout", "3s", "sync", "--retries", "1"]);
    cmd.env("TERM", "xterm");
    let mut s = Session::spawn(cmd).expect("spawn in a pty");
    s.set_expect_timeout(Some(Duration::from_secs(20)));
    s.expect("waiting for the server (sending 1 change)")
        .unwrap();
    // The seconds count up while it waits.
    s.expect("2s").unwrap();
    let rest = s.expect(Eof).unwrap();
    let rest = String::from_utf8_lossy(rest.as_bytes()).to_string();
    assert!(rest.contains("did not answer within 3 s"), "{rest}");
}
