//! The server as an operator runs it (issue 17): `--database` typos refused before anything
//! is created, the announced default database, liveness outside `--max-inflight`, and
//! readiness that follows the store.

mod support;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::{bin, StoreKind, TestServer};

/// Every file under `dir`, recursively (to show that nothing was created).
fn files_under(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read dir").flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p.clone());
            }
            out.push(p.display().to_string());
        }
    }
    out
}

/// `fieldsync ARGS` in `dir` (also its HOME and data dir), with `FIELDSYNC_DATABASE` set to
/// `env_db` when given: (exit code, stderr).
fn run_in(dir: &Path, args: &[&str], env_db: Option<&str>) -> (i32, String) {
    let mut cmd = Command::new(bin());
    cmd.args(args)
        .current_dir(dir)
        .env("HOME", dir)
        .env("XDG_DATA_HOME", dir.join("data"))
        .env_remove("FIELDSYNC_DATABASE")
        .stdin(Stdio::null());
    if let Some(v) = env_db {
        cmd.env("FIELDSYNC_DATABASE", v);
    }
    let out = cmd.output().expect("run fieldsync");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const TYPOS: [&str; 7] = [
    "postgress://fieldsync:hunter2@db/fieldsync",
    "host=db dbname=fieldsync pasword=hunter2",
    "postgres://fieldsync:hunter2@db:notaport/fieldsync",
    "hunter2",
    "fieldsync-hunter2",
    "/srv/fieldsync.sqlite",
    "",
];

#[test]
fn database_typos_are_exit_78_create_nothing_and_echo_no_secret() {
    for typo in TYPOS {
        for (via_env, args) in [
            (
                false,
                vec!["serve", "--listen", "127.0.0.1:0", "--database", typo],
            ),
            (true, vec!["serve", "--listen", "127.0.0.1:0"]),
            (false, vec!["admin", "--database", typo, "officer", "list"]),
        ] {
            if via_env && typo.is_empty() {
                continue; // an empty variable is an unset one: the default, tested below
            }
            let dir = tempfile::tempdir().expect("temp dir");
            let (code, err) = run_in(dir.path(), &args, via_env.then_some(typo));
            assert_eq!(code, 78, "{args:?} env={via_env}: {err}");
            assert!(err.contains("database"), "{typo:?}: {err}");
            assert!(!err.contains("hunter2"), "{typo:?} echoed: {err}");
            assert_eq!(err.lines().count(), 1, "{typo:?}: one line: {err}");
            assert!(files_under(dir.path()).is_empty(), "{typo:?} created files");
        }
    }
}

#[test]
fn explicit_sqlite_shapes_are_used_as_given() {
    let dir = tempfile::tempdir().expect("temp dir");
    for name in ["sqlite:plain-name", "x.db", "y.sqlite3"] {
        let (code, err) = run_in(
            dir.path(),
            &["admin", "--database", name, "officer", "list"],
            None,
        );
        // Taken as a SQLite path (a typo would be 78): `admin` then finds no database there
        // and, since only `serve` creates one (issue 11), creates nothing.
        assert_eq!(code, 66, "{name}: {err}");
        assert!(err.contains("no fieldsync database"), "{name}: {err}");
        let file = dir.path().join(name.trim_start_matches("sqlite:"));
        assert!(!file.exists(), "{name} created {}", file.display());
    }
}

#[test]
fn serve_without_a_database_announces_the_default_once_after_listening() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut child = Command::new(bin())
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("HOME", dir.path())
        .env("XDG_DATA_HOME", dir.path().join("data"))
        .env_remove("FIELDSYNC_DATABASE")
        .env("FIELDSYNC_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn serve");
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    let mut first = String::new();
    let mut second = String::new();
    out.read_line(&mut first).expect("first line");
    out.read_line(&mut second).expect("second line");
    let _ = child.kill();
    let _ = child.wait();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut out, &mut rest).expect("rest");
    assert!(
        first.starts_with("listening on http://127.0.0.1:"),
        "{first:?}"
    );
    let db = dir.path().join("data/fieldsync/server.sqlite3");
    assert!(second.contains("default SQLite file"), "{second:?}");
    assert!(second.contains(&db.display().to_string()), "{second:?}");
    assert!(db.exists(), "the default database was not created");
    assert!(
        !rest.contains("default"),
        "announced more than once: {rest:?}"
    );
}

/// Waits until `f` holds, up to `limit`.
fn eventually(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

/// GET `url`: (status, body as JSON).
fn get_json(url: &str) -> (u16, serde_json::Value) {
    let r = support::http::client()
        .get(url)
        .timeout(Duration::from_secs(10))
        .send()
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    let status = r.status().as_u16();
    let body = r.bytes().expect("body");
    (
        status,
        serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null),
    )
}

/// Starts a push whose body never finishes arriving, so it holds an in-flight slot; the
/// connection is returned to keep it open.
fn hold_a_slot(server: &TestServer, token: &str) -> std::net::TcpStream {
    use std::io::Write;
    let mut s = std::net::TcpStream::connect(server.addr()).expect("connect");
    write!(
        s,
        "POST /v1/push HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{{\"device_id\""
    )
    .expect("send the start of a push");
    s
}

fn health_and_ready_answer_while_every_slot_is_taken(kind: StoreKind) {
    let base = TestServer::new(kind);
    let server = TestServer::start_with_args(&base.db, &["--max-inflight", "1"]);
    let token = server.add_officer("amina", "north");
    let _held = hold_a_slot(&server, &token);
    let pull = server.at("/v1/pull");
    assert!(
        eventually(Duration::from_secs(10), || {
            let r = support::http::client()
                .get(&pull)
                .bearer_auth(&token)
                .send();
            r.map(|r| r.status().as_u16() == 503).unwrap_or(false)
        }),
        "the held push never took the only slot"
    );
    let (st, body) = get_json(&server.at("/v1/health"));
    assert_eq!((st, body["status"].as_str()), (200, Some("ok")), "{body}");
    let (st, body) = get_json(&server.at("/v1/ready"));
    assert_eq!(st, 200, "{body}");
    assert_eq!(body["status"], "ready");
    assert_eq!(body["store"], kind.name());
}

#[test]
fn ready_reflects_a_stopped_postgres_and_health_stays_up() {
    let cluster =
        support::pg::Cluster::start("FIELDSYNC_TEST_PG_URL", support::pg::Durability::Fast)
            .expect("a private PostgreSQL cluster");
    let db = cluster.fresh_database("ops").expect("database");
    let server = TestServer::start_with_db(&db);
    let (st, body) = get_json(&server.at("/v1/ready"));
    assert_eq!(st, 200, "{body}");
    drop(cluster); // stops the postmaster (immediate)
    let mut last = serde_json::Value::Null;
    let became_unready = eventually(Duration::from_secs(20), || {
        let (st, body) = get_json(&server.at("/v1/ready"));
        last = body;
        st == 503
    });
    assert!(
        became_unready,
        "ready stayed 200 with PostgreSQL stopped: {last}"
    );
    assert_eq!(last["status"], "unavailable", "{last}");
    assert_eq!(last["store"], "postgres", "{last}");
    let reason = last["reason"].as_str().unwrap_or_default();
    assert!(reason.contains("postgres"), "{reason}");
    let (st, body) = get_json(&server.at("/v1/health"));
    assert_eq!(st, 200, "liveness must not depend on the store: {body}");
}

/// A `fieldsync serve` with its stderr going where the test says: (child, base URL).
fn spawn_serve(
    db: &str,
    extra: &[&str],
    level: &str,
    stderr: Stdio,
) -> (std::process::Child, String) {
    let mut child = Command::new(bin())
        .args(["serve", "--listen", "127.0.0.1:0", "--database", db])
        .args(extra)
        .env("FIELDSYNC_LOG", level)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .expect("spawn serve");
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    let mut line = String::new();
    out.read_line(&mut line).expect("first line");
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("first line {line:?}"))
        .to_string();
    std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
    (child, url)
}

/// SIGTERM, then the exit status within `limit` (None: still running, then killed).
fn sigterm(child: &mut std::process::Child, limit: Duration) -> Option<std::process::ExitStatus> {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let start = Instant::now();
    while start.elapsed() < limit {
        if let Ok(Some(st)) = child.try_wait() {
            return Some(st);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

/// A household insert, a visit with notes and an answer, a pull: a whole session.
fn session(url: &str, token: &str, name: &str, notes: &str) {
    use support::body::{household, uid, visit};
    let (h, v) = (uid(), uid());
    let results = support::http::push(url, token, uid(), vec![household(h, name)]);
    assert_eq!(results.len(), 1);
    let extra = serde_json::json!({ "notes": notes, "answers.crop": "maize" });
    support::http::push(url, token, uid(), vec![visit(v, h, "amina", extra)]);
    let (records, _) = support::http::pull_all(url, token, None);
    assert!(records.iter().any(|r| r.id == h) && records.iter().any(|r| r.id == v));
}

fn a_closed_log_pipe_keeps_serving_and_sigterm_still_stops_it(kind: StoreKind) {
    let base = TestServer::new(kind);
    let token = base.add_officer("amina", "north");
    let (mut child, url) = spawn_serve(&base.db, &[], "trace", Stdio::piped());
    drop(child.stderr.take()); // the log reader goes away
    for i in 0..20 {
        let (st, _) = get_json(&format!("{url}/v1/health"));
        assert_eq!(st, 200, "health {i} with a closed log pipe");
    }
    session(&url, &token, "Wanjiru", "first visit");
    let status = sigterm(&mut child, Duration::from_secs(15));
    assert!(
        status.is_some_and(|s| s.success()),
        "SIGTERM did not stop the server cleanly: {status:?}"
    );
}

fn a_full_session_at_trace_logs_no_personal_data_or_secret(kind: StoreKind) {
    let base = TestServer::new(kind);
    let token = base.add_officer("amina", "north");
    let hash = fieldsync::server::tokens::token_hash(&token);
    for format in ["text", "json"] {
        let dir = tempfile::tempdir().expect("temp dir");
        let log_path = dir.path().join("serve.log");
        let log = std::fs::File::create(&log_path).expect("log file");
        let (mut child, url) = spawn_serve(
            &base.db,
            &["--log-format", format],
            "trace",
            Stdio::from(log),
        );
        let name = format!("Wanjiru{format}Kamau");
        let notes = format!("mother{format}away");
        session(&url, &token, &name, &notes);
        let r = support::http::client()
            .get(format!("{url}/v1/health"))
            .header("x-request-id", "probe-42")
            .send()
            .expect("health");
        assert_eq!(r.headers()["x-request-id"], "probe-42");
        let own = support::http::client()
            .get(format!("{url}/v1/health"))
            .send()
            .expect("health");
        let own_id = own.headers()["x-request-id"]
            .to_str()
            .expect("ascii")
            .to_string();
        assert!(sigterm(&mut child, Duration::from_secs(15)).is_some());
        let logs = std::fs::read_to_string(&log_path).expect("read log");
        for secret in [
            name.as_str(),
            notes.as_str(),
            "maize",
            token.as_str(),
            hash.as_str(),
        ] {
            assert!(
                !logs.contains(secret),
                "{format} log at trace holds {secret:?}"
            );
        }
        assert!(
            logs.contains("probe-42") && logs.contains(&own_id),
            "{format}: request ids"
        );
        let pushes: Vec<&str> = logs
            .lines()
            .filter(|l| l.contains("/v1/push") && l.contains("duration_ms"))
            .collect();
        assert_eq!(pushes.len(), 2, "{format}: one line per push:\n{logs}");
        if format == "json" {
            for l in logs.lines() {
                let v: serde_json::Value =
                    serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}"));
                assert!(v["level"].is_string(), "{l}");
            }
            let line: serde_json::Value = serde_json::from_str(pushes[0]).expect("json");
            assert_eq!(line["fields"]["accepted"], 1, "{line}");
            assert_eq!(line["fields"]["rejected"], 0, "{line}");
            assert!(line["span"]["id"].is_string(), "{line}");
        } else {
            assert!(pushes[0].contains("accepted=1"), "{}", pushes[0]);
            assert!(pushes[0].contains("request{id="), "{}", pushes[0]);
        }
    }
}

support::both_stores!(
    health_and_ready_answer_while_every_slot_is_taken,
    a_closed_log_pipe_keeps_serving_and_sigterm_still_stops_it,
    a_full_session_at_trace_logs_no_personal_data_or_secret
);

/// The shipped systemd unit (`contrib/fieldsync.service`) passes `systemd-analyze verify`
/// with no warning at all (it exits 0 on unknown keys, so its output is checked too), with
/// `ExecStart` pointed at this build. Skipped, saying so, where systemd is not installed.
#[test]
fn the_systemd_unit_verifies() {
    let analyze = ["/usr/bin/systemd-analyze", "/bin/systemd-analyze"]
        .into_iter()
        .find(|p| Path::new(p).exists());
    let Some(analyze) = analyze else {
        eprintln!("systemd-analyze is not installed: the unit is not verified here");
        return;
    };
    let unit = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("contrib/fieldsync.service"),
    )
    .expect("read contrib/fieldsync.service");
    assert!(
        unit.contains("ExecStart=/usr/local/bin/fieldsync serve"),
        "{unit}"
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("fieldsync.service");
    let here = unit.replace("/usr/local/bin/fieldsync", &bin().display().to_string());
    std::fs::write(&path, here).expect("write the unit");
    let out = Command::new(analyze)
        .arg("verify")
        .arg(&path)
        .output()
        .expect("run systemd-analyze");
    let said =
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    // Only the unit's own lines count: a machine without systemd as PID 1 may add notes
    // about itself.
    let about_unit: Vec<&str> = said
        .lines()
        .filter(|l| l.contains("fieldsync.service"))
        .collect();
    assert!(out.status.success() && about_unit.is_empty(), "{said}");
}
