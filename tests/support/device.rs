//! A field officer's laptop in the tests and the benchmark: its own database and config,
//! driven through the real `fieldsync` binary. It runs commands and reads their output; what
//! the output must be is the caller's business (apart from `ok`/`fails`, which say so).

use std::path::PathBuf;
use std::process::Output;

use assert_cmd::Command;
use serde_json::Value;
use tempfile::TempDir;

pub struct Device {
    _dir: TempDir,
    pub db: PathBuf,
    pub config: PathBuf,
}

impl Device {
    pub fn new() -> Device {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("field.sqlite3");
        let config = dir.path().join("config.toml");
        Device {
            _dir: dir,
            db,
            config,
        }
    }

    /// A device with a config (officer amina), as after `fieldsync init`.
    pub fn initialised() -> Device {
        let d = Device::new();
        d.init("http://127.0.0.1:9", "amina", "t0ken");
        d
    }

    /// `fieldsync init --server SERVER --officer OFFICER --token=TOKEN`.
    pub fn init(&self, server: &str, officer: &str, token: &str) {
        // `=`: never let a token be taken for a flag.
        self.ok(&[
            "init",
            "--server",
            server,
            "--officer",
            officer,
            &format!("--token={token}"),
        ]);
    }

    /// Records a visit to `household` with `notes`; returns its id.
    pub fn add_visit(&self, household: &str, notes: &str) -> String {
        self.ok(&["visit", "add", "--household", household, "--notes", notes])
            .trim()
            .to_string()
    }

    /// `fieldsync --db DB --config CONFIG ARGS` for `assert_cmd`.
    pub fn cmd(&self, args: &[&str]) -> Command {
        Command::from_std(self.std_cmd(args))
    }

    /// The same command as a plain `std::process::Command`, to spawn in the background
    /// (stdin closed, stdout and stderr piped).
    pub fn spawn_cmd(&self, args: &[&str]) -> std::process::Command {
        let mut c = self.std_cmd(args);
        c.stdin(std::process::Stdio::null());
        c.stdout(std::process::Stdio::piped());
        c.stderr(std::process::Stdio::piped());
        c
    }

    fn std_cmd(&self, args: &[&str]) -> std::process::Command {
        let mut c = std::process::Command::new(super::bin());
        c.arg("--db")
            .arg(&self.db)
            .arg("--config")
            .arg(&self.config);
        c.args(args);
        c.env_remove("FIELDSYNC_DB").env_remove("FIELDSYNC_CONFIG");
        c
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().unwrap()
    }

    /// Runs a command that must succeed; returns its stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        self.try_ok(args).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Runs a command: its stdout when it succeeded, otherwise what went wrong.
    pub fn try_ok(&self, args: &[&str]) -> Result<String, String> {
        let out = self
            .cmd(args)
            .output()
            .map_err(|e| format!("{args:?} could not run: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "{args:?} failed: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        String::from_utf8(out.stdout).map_err(|e| format!("{args:?} printed non-UTF-8: {e}"))
    }

    /// Replaces this device's database with a copy of `src`'s (with its WAL files).
    pub fn copy_store_from(&self, src: &Device) -> std::io::Result<()> {
        std::fs::copy(&src.db, &self.db)?;
        for ext in ["-wal", "-shm"] {
            let from = PathBuf::from(format!("{}{ext}", src.db.display()));
            if from.exists() {
                std::fs::copy(&from, format!("{}{ext}", self.db.display()))?;
            }
        }
        Ok(())
    }

    pub fn json(&self, args: &[&str]) -> Value {
        let mut a = vec!["--json"];
        a.extend_from_slice(args);
        serde_json::from_str(&self.ok(&a)).unwrap()
    }

    /// Runs a command that must fail with `code`; returns its stderr.
    pub fn fails(&self, code: i32, args: &[&str]) -> String {
        let out = self.run(args);
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        assert_eq!(out.status.code(), Some(code), "{args:?}: {err}");
        assert!(out.stdout.is_empty(), "{args:?} printed on stdout");
        assert!(!err.trim().is_empty(), "{args:?} failed without a message");
        err
    }

    /// Everything stored: records (tombstones too) and the queue.
    pub fn snapshot(&self) -> Value {
        serde_json::json!({
            "households": self.json(&["household", "list", "--deleted"]),
            "visits": self.json(&["visit", "list", "--deleted"]),
            "queue": self.json(&["queue"]),
        })
    }

    pub fn add_household(&self, name: &str) -> String {
        self.ok(&["household", "add", "--name", name])
            .trim()
            .to_string()
    }
}

impl Device {
    /// A device set up for `officer` against `server` (a URL) with `token`.
    pub fn for_officer(server: &str, officer: &str, token: &str) -> Device {
        let d = Device::new();
        d.init(server, officer, token);
        d
    }

    /// `fieldsync sync ARGS`: (exit code, stdout, stderr).
    pub fn sync(&self, args: &[&str]) -> (i32, String, String) {
        let mut a = vec!["sync", "--retries", "2"];
        a.extend_from_slice(args);
        let out = self.run(&a);
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).to_string(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    }

    /// A sync that must end with `code`; returns its JSON report.
    pub fn sync_expect(&self, code: i32) -> Value {
        let (c, out, err) = self.sync(&["--json"]);
        assert_eq!(c, code, "sync: {err}");
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("sync --json: {e}: {out}"))
    }

    /// Records by id: `list --json` of `entity` (tombstones included).
    pub fn records(&self, entity: &str) -> std::collections::BTreeMap<String, Value> {
        self.json(&[entity, "list", "--deleted"])
            .as_array()
            .unwrap()
            .iter()
            .map(|r| (r["id"].as_str().unwrap().to_string(), r.clone()))
            .collect()
    }
}
