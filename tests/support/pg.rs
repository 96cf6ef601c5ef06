//! PostgreSQL for the tests and the benchmark: the one place that starts a throwaway
//! PostgreSQL 15 cluster, creates databases in it and runs SQL through `psql`.
//!
//! The tests want speed ([`Durability::Fast`]: `initdb --no-sync`, `fsync=off`); the
//! benchmark wants the figures a real deployment would see ([`Durability::Durable`]: the
//! server's defaults, fsync on). Tests use [`base_url`] (`FIELDSYNC_TEST_PG_URL`, else one
//! cluster per test process, stopped when the process exits); the benchmark owns a
//! [`Cluster`] (`FIELDSYNC_BENCH_PG_URL`, else its own cluster, stopped on drop). This module
//! must not skip: when PostgreSQL cannot be had, it says why (tests panic, the bench errs).

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use super::sys::is_root;

/// Where the PostgreSQL 15 tools are (Debian's layout).
pub const PG_BIN: &str = "/usr/lib/postgresql/15/bin";

/// Why PostgreSQL could not be had.
#[derive(Debug, thiserror::Error)]
pub enum PgError {
    #[error("PostgreSQL 15 is not installed at {PG_BIN} and {var} is unset")]
    NotInstalled { var: &'static str },
    #[error("{what}: {source}")]
    Io {
        what: String,
        source: std::io::Error,
    },
    #[error("{what} failed: {output}")]
    Tool { what: String, output: String },
}

/// How much a throwaway cluster trades durability for speed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// For tests: `initdb --no-sync`, `fsync=off`, small shared buffers.
    Fast,
    /// For the benchmark: PostgreSQL's durable defaults (fsync and synchronous_commit on).
    Durable,
}

impl Durability {
    fn initdb_args(self) -> &'static [&'static str] {
        match self {
            Durability::Fast => &["--no-sync"],
            Durability::Durable => &[],
        }
    }

    fn server_options(self) -> &'static str {
        match self {
            Durability::Fast => "-c fsync=off -c shared_buffers=64MB",
            Durability::Durable => "-c shared_buffers=256MB",
        }
    }
}

/// A PostgreSQL server: one given by an environment variable, or a throwaway cluster this
/// process started (stopped and removed on drop).
pub struct Cluster {
    /// Base URL without a database name, e.g. `postgres://postgres@127.0.0.1:PORT`.
    pub base: String,
    durability: Durability,
    owned: Option<Owned>,
}

struct Owned {
    root: PathBuf,
    as_root: bool,
}

impl Cluster {
    /// The server at `$var` when it is set, otherwise a new throwaway cluster.
    pub fn from_env_or_start(
        var: &'static str,
        durability: Durability,
    ) -> Result<Cluster, PgError> {
        match std::env::var(var) {
            Ok(u) if !u.trim().is_empty() => Ok(Cluster {
                base: u.trim().trim_end_matches('/').to_string(),
                durability,
                owned: None,
            }),
            _ => Cluster::start(var, durability),
        }
    }

    /// Starts a throwaway cluster on a free port of 127.0.0.1, as the `postgres` user when
    /// this process is root. `var` only names the alternative in the error.
    pub fn start(var: &'static str, durability: Durability) -> Result<Cluster, PgError> {
        let bin = Path::new(PG_BIN);
        if !bin.join("initdb").exists() {
            return Err(PgError::NotInstalled { var });
        }
        let root =
            std::env::temp_dir().join(format!("fieldsync-pg-{}", uuid::Uuid::new_v4().simple()));
        let owned = Owned {
            root,
            as_root: is_root(),
        };
        owned.prepare()?;
        let data = owned.data();
        let mut initdb = vec![tool("initdb"), "-D".into(), data.clone()];
        initdb.extend(["-U", "postgres", "--auth=trust", "-E", "UTF8"].map(String::from));
        initdb.extend(durability.initdb_args().iter().map(|s| s.to_string()));
        owned.run_ok("initdb", &initdb)?;
        let mut last = None;
        for _ in 0..5 {
            match owned.pg_ctl_start(durability) {
                Ok(port) => {
                    return Ok(Cluster {
                        base: format!("postgres://postgres@127.0.0.1:{port}"),
                        durability,
                        owned: Some(owned),
                    })
                }
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| tool_error("pg_ctl start", "no attempt".into())))
    }

    /// What the benchmark report says about this PostgreSQL.
    pub fn describe(&self) -> String {
        match (&self.owned, self.durability) {
            (Some(_), Durability::Durable) => {
                "15, throwaway cluster, default durability (fsync=on, synchronous_commit=on)".into()
            }
            (Some(_), Durability::Fast) => "15, throwaway cluster, fsync=off".into(),
            (None, _) => format!("at {} (from the environment)", self.base),
        }
    }

    /// A new, empty database named `PREFIX_<uuid>`: its URL.
    pub fn fresh_database(&self, prefix: &str) -> Result<String, PgError> {
        create_database(&self.base, prefix)
    }

    /// Leaves the cluster running until this process exits (a watchdog then stops it and
    /// removes its directory); returns its base URL.
    pub fn keep_until_process_exits(mut self) -> Result<String, PgError> {
        if let Some(owned) = self.owned.take() {
            owned.watchdog()?;
        }
        Ok(std::mem::take(&mut self.base))
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if let Some(owned) = self.owned.take() {
            let stop = [tool("pg_ctl"), "-D".into(), owned.data()];
            let stop = [&stop[..], &["-m", "immediate", "stop"].map(String::from)].concat();
            let _ = owned.run("pg_ctl stop", &stop);
            let _ = std::fs::remove_dir_all(&owned.root);
        }
    }
}

impl Owned {
    fn data(&self) -> String {
        self.root.join("data").display().to_string()
    }

    /// The cluster's directory, owned by `postgres` when we are root.
    fn prepare(&self) -> Result<(), PgError> {
        let sock = self.root.join("sock");
        std::fs::create_dir_all(&sock).map_err(|source| PgError::Io {
            what: format!("create {}", sock.display()),
            source,
        })?;
        let root = self.root.display().to_string();
        check(
            "chmod",
            command_output("chmod", Command::new("chmod").args(["755", &root]))?,
        )?;
        if self.as_root {
            let mut chown = Command::new("chown");
            chown.args(["-R", "postgres:postgres", &root]);
            check("chown", command_output("chown", &mut chown)?)?;
        }
        Ok(())
    }

    /// `pg_ctl start` on a free port: the port.
    fn pg_ctl_start(&self, durability: Durability) -> Result<u16, PgError> {
        let port = free_port()?;
        let opts = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c max_connections=300 {}",
            self.root.join("sock").display(),
            durability.server_options()
        );
        let log = self.root.join("pg.log").display().to_string();
        let args = [
            tool("pg_ctl"),
            "-D".into(),
            self.data(),
            "-l".into(),
            log.clone(),
        ];
        let args = [&args[..], &["-w".into(), "-o".into(), opts, "start".into()]].concat();
        let out = self.run("pg_ctl start", &args)?;
        if out.status.success() {
            return Ok(port);
        }
        let log = std::fs::read_to_string(&log).unwrap_or_default();
        Err(tool_error(
            "pg_ctl start",
            format!("{}{log}", output_text(&out)),
        ))
    }

    /// Runs a tool, as the `postgres` user when we are root.
    fn run(&self, what: &str, args: &[String]) -> Result<Output, PgError> {
        let mut cmd = if self.as_root {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).args(args);
            c
        } else {
            let mut c = Command::new(&args[0]);
            c.args(&args[1..]);
            c
        };
        command_output(what, cmd.stdin(Stdio::null()))
    }

    fn run_ok(&self, what: &str, args: &[String]) -> Result<(), PgError> {
        check(what, self.run(what, args)?)
    }

    /// Stops the cluster (and removes its directory) once this process is gone.
    // The watchdog must outlive this process, so it is deliberately never waited for.
    #[allow(clippy::zombie_processes)]
    fn watchdog(self) -> Result<(), PgError> {
        let pid = std::process::id();
        let prefix = if self.as_root {
            "runuser -u postgres -- "
        } else {
            ""
        };
        let stop = format!(
            "{prefix}{} -D {} stop -m immediate",
            tool("pg_ctl"),
            self.data()
        );
        let script = format!(
            "while kill -0 {pid} 2>/dev/null; do sleep 1; done; {stop} >/dev/null 2>&1; rm -rf {}",
            self.root.display()
        );
        Command::new("sh")
            .args(["-c", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|source| PgError::Io {
                what: "spawn the PostgreSQL watchdog".into(),
                source,
            })?;
        Ok(())
    }
}

/// The tests' PostgreSQL base URL (no database name): `FIELDSYNC_TEST_PG_URL`, else one
/// [`Durability::Fast`] cluster for this test process. Panics when there is none.
pub fn base_url() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| {
        Cluster::from_env_or_start("FIELDSYNC_TEST_PG_URL", Durability::Fast)
            .and_then(Cluster::keep_until_process_exits)
            .unwrap_or_else(|e| panic!("the PostgreSQL tests cannot run: {e}"))
    })
}

/// Creates a fresh, uniquely named database on the tests' server and returns its URL.
pub fn fresh_database() -> String {
    create_database(base_url(), "fs").unwrap_or_else(|e| panic!("{e}"))
}

/// Creates a database named `PREFIX_<uuid>` on the server at `base`: its URL.
pub fn create_database(base: &str, prefix: &str) -> Result<String, PgError> {
    let name = format!("{prefix}_{}", uuid::Uuid::new_v4().simple());
    try_psql(base, &format!("CREATE DATABASE {name}"))?;
    Ok(format!("{base}/{name}"))
}

/// Runs one SQL statement against the `postgres` database of the server at `base`; panics
/// when it keeps failing.
pub fn psql(base: &str, sql: &str) {
    try_psql(base, sql).unwrap_or_else(|e| panic!("{e}"));
}

/// Runs one SQL statement against the `postgres` database of the server at `base`, retrying
/// for about 5 s (a cluster that just started may still refuse connections).
pub fn try_psql(base: &str, sql: &str) -> Result<(), PgError> {
    let url = format!("{base}/postgres");
    let mut last = String::new();
    for _ in 0..50 {
        match Command::new(tool("psql"))
            .args([url.as_str(), "-v", "ON_ERROR_STOP=1", "-qAt", "-c", sql])
            .output()
        {
            Ok(o) if o.status.success() => return Ok(()),
            Ok(o) => last = String::from_utf8_lossy(&o.stderr).into_owned(),
            Err(e) => last = e.to_string(),
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err(tool_error(&format!("psql {url} -c {sql:?}"), last))
}

/// The path of a PostgreSQL program (`psql`, `pg_dump`, ...).
pub fn tool(name: &str) -> String {
    Path::new(PG_BIN).join(name).display().to_string()
}

fn free_port() -> Result<u16, PgError> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|source| PgError::Io {
            what: "pick a free port".into(),
            source,
        })
}

fn command_output(what: &str, cmd: &mut Command) -> Result<Output, PgError> {
    cmd.output().map_err(|source| PgError::Io {
        what: format!("run {what}"),
        source,
    })
}

fn check(what: &str, out: Output) -> Result<(), PgError> {
    if out.status.success() {
        Ok(())
    } else {
        Err(tool_error(what, output_text(&out)))
    }
}

fn output_text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn tool_error(what: &str, output: String) -> PgError {
    PgError::Tool {
        what: what.to_string(),
        output,
    }
}
