//! f. PouchDB as the peer in the same run (issue 14): PouchDB 9 replicating to an
//! express-pouchdb 4 server (a separate Node process, LevelDB on disk) on 127.0.0.1, the same
//! backlog and incremental sync as sections b and i, and fieldsync's times divided by
//! PouchDB's.
//!
//! The npm packages are installed once into `target/bench-node` (`pouchdb`,
//! `express-pouchdb@4`, `express@4`) with npm itself. Without Node, npm or the packages
//! (e.g. offline), the section is skipped with a message and a note in the report.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::Value;

use super::backlog::INCREMENTAL;
use super::{fail, Env, Kind, Report, Result, Scale};

/// The peer's script, written next to its `node_modules`.
const PEER_JS: &str = include_str!("peer.js");

/// What npm installs into the cache folder.
const PACKAGES: [&str; 3] = ["pouchdb", "express-pouchdb@4", "express@4"];

/// The Node cache folder: `target/bench-node`, beside the binary's profile folder.
fn node_dir(env: &Env) -> Result<PathBuf> {
    let target = env
        .bin
        .parent()
        .and_then(Path::parent)
        .ok_or("the binary is not inside a target folder")?;
    Ok(target.join("bench-node"))
}

fn works(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The cache folder with the packages installed and the peer script written.
fn prepare(env: &Env) -> Result<PathBuf> {
    if !works("node") || !works("npm") {
        return fail("node or npm is not installed");
    }
    let dir = node_dir(env)?;
    std::fs::create_dir_all(&dir)?;
    let installed = ["pouchdb", "express-pouchdb", "express"].iter().all(|p| {
        dir.join("node_modules")
            .join(p)
            .join("package.json")
            .exists()
    });
    if !installed {
        eprintln!(
            "bench:   (installing {} into {})",
            PACKAGES.join(" "),
            dir.display()
        );
        let out = Command::new("npm")
            // Bounded, so that an offline machine skips the section within seconds.
            .args(["install", "--no-audit", "--no-fund", "--fetch-retries=1"])
            .args(["--fetch-timeout=20000", "--prefix"])
            .arg(&dir)
            .args(PACKAGES)
            .output()?;
        if !out.status.success() {
            return fail(format!(
                "npm install failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
    }
    std::fs::write(dir.join("peer.js"), PEER_JS)?;
    Ok(dir)
}

/// The express-pouchdb server process; killed when dropped.
struct PeerServer {
    child: Child,
    url: String,
}

impl PeerServer {
    fn start(node_dir: &Path, data: &Path) -> Result<PeerServer> {
        let mut child = Command::new("node")
            .current_dir(node_dir)
            .arg("peer.js")
            .arg("serve")
            .arg(data)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?;
        let mut line = String::new();
        if let Some(out) = child.stdout.take() {
            BufReader::new(out).read_line(&mut line)?;
        }
        let url = match line.trim().parse::<u16>() {
            Ok(port) => format!("http://127.0.0.1:{port}"),
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                return fail(format!("express-pouchdb did not start (printed {line:?})"));
            }
        };
        Ok(PeerServer { child, url })
    }
}

impl Drop for PeerServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// PouchDB's four times, in milliseconds.
struct PouchTimes {
    push_ms: f64,
    pull_ms: f64,
    inc_push_ms: f64,
    inc_pull_ms: f64,
}

fn run_peer(env: &Env, dir: &Path, n: usize) -> Result<PouchTimes> {
    let server_data = env.path("pouch-server");
    let client_data = env.path("pouch-client");
    std::fs::create_dir_all(&server_data)?;
    std::fs::create_dir_all(&client_data)?;
    let server = PeerServer::start(dir, &server_data)?;
    let out = Command::new("node")
        .current_dir(dir)
        .args(["peer.js", "client", &server.url])
        .args([n.to_string(), INCREMENTAL.to_string()])
        .arg(&client_data)
        .output()?;
    if !out.status.success() {
        return fail(format!(
            "the PouchDB client failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let v: Value = serde_json::from_slice(&out.stdout)?;
    let ms = |k: &str| {
        v.get(k)
            .and_then(Value::as_f64)
            .ok_or(format!("peer.js printed no {k}"))
    };
    Ok(PouchTimes {
        push_ms: ms("push_ms")?,
        pull_ms: ms("pull_ms")?,
        inc_push_ms: ms("inc_push_ms")?,
        inc_pull_ms: ms("inc_pull_ms")?,
    })
}

/// f. PouchDB's figures and fieldsync ÷ PouchDB for the figures section b and i measured.
pub fn pouchdb(env: &Env, scale: &Scale, report: &mut Report) -> Result<()> {
    report.section(&format!(
        "f. PouchDB 9 ⇄ express-pouchdb 4 (LevelDB), same machine, same run: {} visits and a household",
        scale.backlog
    ));
    let times = match prepare(env).and_then(|dir| run_peer(env, &dir, scale.backlog)) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("bench:   PouchDB skipped: {e}");
            report.notes.push(format!("f: PouchDB skipped: {e}"));
            return Ok(());
        }
    };
    let rows = [
        (
            "push_ms",
            "push (`replicate.to`, default batch 100)",
            times.push_ms,
        ),
        (
            "pull_ms",
            "pull into a fresh database (`replicate.from`)",
            times.pull_ms,
        ),
        (
            "inc_push_ms",
            "incremental: push 100 new docs",
            times.inc_push_ms,
        ),
        (
            "inc_pull_ms",
            "incremental: pull them on another database",
            times.inc_pull_ms,
        ),
    ];
    for (k, label, v) in rows {
        report.add(
            &format!("f.pouch.{k}"),
            &format!("PouchDB {label}"),
            v,
            "ms",
        );
    }
    for kind in [Kind::Sqlite, Kind::Postgres] {
        let k = kind.key();
        let ours = [
            (
                "push",
                "backlog push (whole sync)",
                report.get(&format!("b.{k}.sync_s")).map(|s| s * 1000.0),
                times.push_ms,
            ),
            (
                "pull",
                "backlog pull",
                report.get(&format!("b.{k}.pull_s")).map(|s| s * 1000.0),
                times.pull_ms,
            ),
            (
                "inc_push",
                "incremental push",
                report.get(&format!("i.{k}.push_ms")),
                times.inc_push_ms,
            ),
            (
                "inc_pull",
                "incremental pull",
                report.get(&format!("i.{k}.pull_ms")),
                times.inc_pull_ms,
            ),
        ];
        for (key, label, ours_ms, pouch_ms) in ours {
            if let Some(ours_ms) = ours_ms {
                report.add(
                    &format!("f.{k}.{key}_ratio"),
                    &format!("fieldsync ({}) ÷ PouchDB, {label}", kind.name()),
                    ours_ms / pouch_ms.max(1e-9),
                    "×",
                );
            }
        }
    }
    Ok(())
}
