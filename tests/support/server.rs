//! Real `fieldsync serve` processes on 127.0.0.1 for tests and benches, and `fieldsync
//! admin` against their databases. Owns process lifetime (start, restart, SIGTERM, SIGKILL on
//! drop); must not know what a test sends to the server.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use super::{bin, pg, StoreKind};

/// A running `fieldsync serve` process. Killed on drop.
pub struct TestServer {
    /// `http://127.0.0.1:PORT`
    pub url: String,
    /// The `--database` argument: a SQLite path or a `postgres://` URL.
    pub db: String,
    /// Extra `serve` arguments this server was started with (kept for `restart`).
    pub extra_args: Vec<String>,
    child: Option<Child>,
    /// Keeps the SQLite directory alive for as long as the server (when it owns it).
    _dir: Option<std::sync::Arc<tempfile::TempDir>>,
}

impl TestServer {
    /// A server on a fresh database of the given kind.
    pub fn new(kind: StoreKind) -> TestServer {
        match kind {
            StoreKind::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let db = dir.path().join("server.sqlite3").display().to_string();
                let mut s = TestServer::start_with_db(&db);
                s._dir = Some(std::sync::Arc::new(dir));
                s
            }
            StoreKind::Postgres => TestServer::postgres(),
        }
    }

    /// A server on a SQLite database file inside `dir`.
    pub fn sqlite(dir: &Path) -> TestServer {
        let db = dir.join("server.sqlite3").display().to_string();
        TestServer::start_with_db(&db)
    }

    /// A server on a fresh PostgreSQL database.
    pub fn postgres() -> TestServer {
        TestServer::start_with_db(&pg::fresh_database())
    }

    /// Starts a server over `db` (a second process over the same database is fine).
    pub fn start_with_db(db: &str) -> TestServer {
        TestServer::start_with_args(db, &[])
    }

    /// Starts a server over `db` with extra `serve` arguments (e.g. `--max-inflight 1`).
    pub fn start_with_args(db: &str, extra: &[&str]) -> TestServer {
        let extra_args: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
        let (child, url) = spawn_server(db, &extra_args, "127.0.0.1:0");
        TestServer {
            url,
            db: db.to_string(),
            extra_args,
            child: Some(child),
            _dir: None,
        }
    }

    /// Another server process over the same database (shares the SQLite directory guard).
    pub fn second(&self) -> TestServer {
        let mut s = TestServer::start_with_db(&self.db);
        s._dir = self._dir.clone();
        s
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("server running").id()
    }

    /// Stops the server (SIGKILL) and starts it again over the same database, on the same
    /// address (so clients and proxies pointing at it keep working).
    pub fn restart(&mut self) {
        self.kill9();
        self.start_again();
    }

    /// Starts the server again (after [`TestServer::kill9`] or [`TestServer::terminate`]) on
    /// the same address and database.
    pub fn start_again(&mut self) {
        assert!(self.child.is_none(), "the server is still running");
        let addr = self
            .url
            .split("://")
            .nth(1)
            .expect("url has a scheme")
            .to_string();
        let (child, url) = spawn_server(&self.db, &self.extra_args, &addr);
        self.child = Some(child);
        self.url = url;
    }

    /// SIGKILLs the server and waits for it to die.
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Sends SIGTERM and waits (up to `timeout`) for the process to exit; returns its status.
    pub fn terminate(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        let mut c = self.child.take()?;
        let _ = Command::new("kill")
            .args(["-TERM", &c.id().to_string()])
            .status();
        let start = Instant::now();
        loop {
            if let Ok(Some(st)) = c.try_wait() {
                return Some(st);
            }
            if start.elapsed() > timeout {
                let _ = c.kill();
                let _ = c.wait();
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Takes the child process (the caller then owns killing it).
    pub fn take_child(&mut self) -> Option<Child> {
        self.child.take()
    }

    /// `fieldsync admin officer add ID --team TEAM` on this server's database: the token.
    pub fn add_officer(&self, id: &str, team: &str) -> String {
        add_officer(&self.db, id, team)
    }

    /// The server's socket address (for proxies in front of it).
    pub fn addr(&self) -> std::net::SocketAddr {
        self.url
            .trim_start_matches("http://")
            .parse()
            .unwrap_or_else(|e| panic!("server url {}: {e}", self.url))
    }

    /// `http://127.0.0.1:PORT` + `path`.
    pub fn at(&self, path: &str) -> String {
        format!("{}{}", self.url, path)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.kill9();
    }
}

fn spawn_server(db: &str, extra: &[String], listen: &str) -> (Child, String) {
    // Rebinding a just-released port can fail for a moment: retry briefly.
    for attempt in 0..50 {
        match try_spawn_server(db, extra, listen) {
            Ok(x) => return x,
            Err(e) if attempt < 49 && listen != "127.0.0.1:0" => {
                let _ = e;
                std::thread::sleep(Duration::from_millis(100));
            }
            Err(e) => panic!("{e}"),
        }
    }
    unreachable!()
}

fn try_spawn_server(db: &str, extra: &[String], listen: &str) -> Result<(Child, String), String> {
    let mut child = Command::new(bin())
        .args(["serve", "--listen", listen, "--database", db])
        .args(extra)
        .env(
            "FIELDSYNC_LOG",
            std::env::var("FIELDSYNC_LOG").unwrap_or_else(|_| "warn".into()),
        )
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn fieldsync serve");
    let stdout = child.stdout.take().expect("stdout");
    let mut reader = BufReader::new(stdout);
    let mut line = String::new();
    let n = reader.read_line(&mut line).expect("read first line");
    if n == 0 {
        let st = child.wait();
        return Err(format!(
            "fieldsync serve --listen {listen} --database {db} exited before listening: {st:?}"
        ));
    }
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line from serve: {line:?}"))
        .to_string();
    drain(reader);
    Ok((child, url))
}

/// Keeps reading the server's stdout so it can never block on a full pipe.
fn drain(mut r: BufReader<ChildStdout>) {
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = r.read(&mut buf) {
            if n == 0 {
                break;
            }
        }
    });
}

/// Runs `fieldsync admin --database DB ARGS...`; returns (exit code, stdout, stderr).
pub fn admin(db: &str, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(bin())
        .args(["admin", "--database", db])
        .args(args)
        .output()
        .expect("run fieldsync admin");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Adds an officer and returns their token (the only line `officer add` prints).
pub fn add_officer(db: &str, id: &str, team: &str) -> String {
    let (code, out, err) = admin(db, &["officer", "add", id, "--team", team]);
    assert_eq!(code, 0, "officer add {id} failed: {err}");
    let token = out.trim().to_string();
    assert!(!token.is_empty() && !token.contains('\n'), "token: {out:?}");
    token
}
