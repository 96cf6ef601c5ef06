//! PostgreSQL for the benchmark: `FIELDSYNC_BENCH_PG_URL` (e.g.
//! `postgres://postgres@127.0.0.1:5432`) when set, otherwise a throwaway PostgreSQL 15
//! cluster with its durable defaults (fsync on, synchronous_commit on), stopped on drop.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use super::{fail, Result};

const PG_BIN: &str = "/usr/lib/postgresql/15/bin";

pub struct Postgres {
    /// Base URL without a database name.
    pub base: String,
    /// Our own cluster (data directory), stopped on drop.
    owned: Option<Cluster>,
}

struct Cluster {
    root: PathBuf,
    as_root: bool,
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// Runs a PostgreSQL tool, as the `postgres` user when we are root.
fn run_pg(as_root: bool, args: &[&str]) -> Result<Output> {
    let mut cmd = if as_root {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).args(args);
        c
    } else {
        let mut c = Command::new(args[0]);
        c.args(&args[1..]);
        c
    };
    Ok(cmd.stdin(Stdio::null()).output()?)
}

impl Postgres {
    pub fn start() -> Result<Postgres> {
        if let Ok(u) = std::env::var("FIELDSYNC_BENCH_PG_URL") {
            if !u.trim().is_empty() {
                return Ok(Postgres {
                    base: u.trim().trim_end_matches('/').to_string(),
                    owned: None,
                });
            }
        }
        let bin = Path::new(PG_BIN);
        if !bin.join("initdb").exists() {
            return fail(format!(
                "PostgreSQL 15 is not installed at {PG_BIN}; set FIELDSYNC_BENCH_PG_URL"
            ));
        }
        let as_root = is_root();
        let root = std::env::temp_dir().join(format!(
            "fieldsync-bench-pg-{}",
            uuid::Uuid::new_v4().simple()
        ));
        let data = root.join("data");
        std::fs::create_dir_all(root.join("sock"))?;
        Command::new("chmod")
            .args(["755", &root.display().to_string()])
            .status()?;
        if as_root {
            Command::new("chown")
                .args(["-R", "postgres:postgres", &root.display().to_string()])
                .status()?;
        }
        let cluster = Cluster {
            root: root.clone(),
            as_root,
        };
        let initdb = bin.join("initdb").display().to_string();
        let datas = data.display().to_string();
        let out = run_pg(
            as_root,
            &[
                &initdb,
                "-D",
                &datas,
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
            ],
        )?;
        if !out.status.success() {
            return fail(format!("initdb: {}", String::from_utf8_lossy(&out.stderr)));
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let opts = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c max_connections=300 -c shared_buffers=256MB",
            root.join("sock").display()
        );
        let log = root.join("pg.log").display().to_string();
        let pg_ctl = bin.join("pg_ctl").display().to_string();
        let out = run_pg(
            as_root,
            &[
                &pg_ctl, "-D", &datas, "-l", &log, "-w", "-o", &opts, "start",
            ],
        )?;
        if !out.status.success() {
            return fail(format!(
                "pg_ctl start: {}{}",
                String::from_utf8_lossy(&out.stderr),
                std::fs::read_to_string(&log).unwrap_or_default()
            ));
        }
        Ok(Postgres {
            base: format!("postgres://postgres@127.0.0.1:{port}"),
            owned: Some(cluster),
        })
    }

    pub fn describe(&self) -> String {
        match &self.owned {
            Some(_) => {
                "15, throwaway cluster, default durability (fsync=on, synchronous_commit=on)".into()
            }
            None => format!("at {} (FIELDSYNC_BENCH_PG_URL)", self.base),
        }
    }

    /// A new, empty database: its URL.
    pub fn fresh_database(&self) -> Result<String> {
        let name = format!("fsbench_{}", uuid::Uuid::new_v4().simple());
        let url = format!("{}/postgres", self.base);
        let psql = Path::new(PG_BIN).join("psql");
        let mut last = String::new();
        for _ in 0..50 {
            let out = Command::new(&psql)
                .args([
                    url.as_str(),
                    "-v",
                    "ON_ERROR_STOP=1",
                    "-qAt",
                    "-c",
                    &format!("CREATE DATABASE {name}"),
                ])
                .output()?;
            if out.status.success() {
                return Ok(format!("{}/{name}", self.base));
            }
            last = String::from_utf8_lossy(&out.stderr).into_owned();
            std::thread::sleep(Duration::from_millis(100));
        }
        fail(format!("CREATE DATABASE failed: {last}"))
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        if let Some(c) = &self.owned {
            let data = c.root.join("data").display().to_string();
            let pg_ctl = Path::new(PG_BIN).join("pg_ctl").display().to_string();
            let _ = run_pg(
                c.as_root,
                &[&pg_ctl, "-D", &data, "-m", "immediate", "stop"],
            );
            let _ = std::fs::remove_dir_all(&c.root);
        }
    }
}
