//! Shared helpers for the integration tests: real `fieldsync serve` processes on 127.0.0.1
//! over SQLite or PostgreSQL, throwaway PostgreSQL databases, and `fieldsync admin`.
//!
//! PostgreSQL: when `FIELDSYNC_TEST_PG_URL` (e.g. `postgres://postgres@127.0.0.1:5432`) is
//! set, that server is used; otherwise one throwaway PostgreSQL 15 cluster is started per
//! test process (as the `postgres` user, on a free port) and stopped when the process exits.
//! Each test server gets its own freshly created database. If PostgreSQL cannot be started
//! the helpers panic: the PostgreSQL tests never skip silently.
#![allow(dead_code)]

pub mod device;
pub mod http;
pub mod proxy;

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The `fieldsync` binary under test.
pub fn bin() -> PathBuf {
    assert_cmd::cargo::cargo_bin("fieldsync")
}

/// Which store a server runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreKind {
    Sqlite,
    Postgres,
}

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

/// PostgreSQL for tests.
pub mod pg {
    use super::*;

    /// The base URL (no database name), e.g. `postgres://postgres@127.0.0.1:PORT`.
    pub fn base_url() -> &'static str {
        static URL: OnceLock<String> = OnceLock::new();
        URL.get_or_init(|| match std::env::var("FIELDSYNC_TEST_PG_URL") {
            Ok(u) if !u.trim().is_empty() => u.trim().trim_end_matches('/').to_string(),
            _ => start_cluster(),
        })
    }

    /// Creates a fresh, uniquely named database and returns its URL.
    pub fn fresh_database() -> String {
        let name = format!("fs_{}", uuid::Uuid::new_v4().simple());
        let base = base_url();
        psql(base, &format!("CREATE DATABASE {name}"));
        format!("{base}/{name}")
    }

    /// Runs one SQL statement against the `postgres` database of the server at `base`.
    pub fn psql(base: &str, sql: &str) {
        let url = format!("{base}/postgres");
        let mut last = String::new();
        for _ in 0..50 {
            match Command::new("/usr/lib/postgresql/15/bin/psql")
                .args([url.as_str(), "-v", "ON_ERROR_STOP=1", "-qAt", "-c", sql])
                .output()
            {
                Ok(o) if o.status.success() => return,
                Ok(o) => last = String::from_utf8_lossy(&o.stderr).into_owned(),
                Err(e) => last = e.to_string(),
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("PostgreSQL: {sql} failed at {url}: {last}");
    }

    fn free_port() -> u16 {
        std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("pick a free port")
    }

    /// Starts a throwaway cluster as the `postgres` user; a watchdog stops it when this test
    /// process exits.
    fn start_cluster() -> String {
        let bin = Path::new("/usr/lib/postgresql/15/bin");
        assert!(
            bin.join("initdb").exists(),
            "PostgreSQL 15 is not installed at {} and FIELDSYNC_TEST_PG_URL is unset: \
             the PostgreSQL tests cannot run",
            bin.display()
        );
        let root =
            std::env::temp_dir().join(format!("fieldsync-pg-{}", uuid::Uuid::new_v4().simple()));
        let data = root.join("data");
        let sock = root.join("sock");
        std::fs::create_dir_all(&sock).expect("create pg dirs");
        let as_root = unsafe_is_root();
        let chown = |p: &Path| {
            if as_root {
                let st = Command::new("chown")
                    .args(["-R", "postgres:postgres", &p.display().to_string()])
                    .status()
                    .expect("chown");
                assert!(st.success(), "chown {} to postgres failed", p.display());
            }
        };
        let _ = Command::new("chmod")
            .args(["755", &root.display().to_string()])
            .status();
        chown(&root);
        let run = |args: &[&str]| -> std::process::Output {
            let mut cmd = if as_root {
                let mut c = Command::new("runuser");
                c.args(["-u", "postgres", "--"]);
                c.args(args);
                c
            } else {
                let mut c = Command::new(args[0]);
                c.args(&args[1..]);
                c
            };
            cmd.stdin(Stdio::null());
            cmd.output()
                .unwrap_or_else(|e| panic!("cannot run {args:?} to start PostgreSQL: {e}"))
        };
        let initdb = bin.join("initdb").display().to_string();
        let pg_ctl = bin.join("pg_ctl").display().to_string();
        let datas = data.display().to_string();
        let out = run(&[
            &initdb,
            "-D",
            &datas,
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-sync",
        ]);
        assert!(
            out.status.success(),
            "initdb failed, the PostgreSQL tests cannot run: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let mut last_err = String::new();
        for _ in 0..5 {
            let port = free_port();
            let opts = format!(
                "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300 -c shared_buffers=64MB",
                sock.display()
            );
            let log = root.join("pg.log").display().to_string();
            let out = run(&[
                &pg_ctl, "-D", &datas, "-l", &log, "-w", "-o", &opts, "start",
            ]);
            if out.status.success() {
                watchdog(&pg_ctl, &datas, as_root, &root);
                return format!("postgres://postgres@127.0.0.1:{port}");
            }
            last_err = format!(
                "{}{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr),
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        }
        panic!("PostgreSQL could not be started, the PostgreSQL tests cannot run: {last_err}");
    }

    fn unsafe_is_root() -> bool {
        Command::new("id")
            .arg("-u")
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
            .unwrap_or(false)
    }

    /// Stops the cluster (and removes its directory) once this process is gone.
    // The watchdog must outlive this process, so it is deliberately never waited for.
    #[allow(clippy::zombie_processes)]
    fn watchdog(pg_ctl: &str, data: &str, as_root: bool, root: &Path) {
        let pid = std::process::id();
        let stop = if as_root {
            format!("runuser -u postgres -- {pg_ctl} -D {data} stop -m immediate")
        } else {
            format!("{pg_ctl} -D {data} stop -m immediate")
        };
        let script = format!(
            "while kill -0 {pid} 2>/dev/null; do sleep 1; done; {stop} >/dev/null 2>&1; rm -rf {}",
            root.display()
        );
        // Never waited for on purpose: the watchdog must outlive this process.
        #[allow(clippy::zombie_processes)]
        let _watchdog = Command::new("sh")
            .args(["-c", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn the PostgreSQL watchdog");
    }
}
