//! `fieldsync demo`: the whole system on one machine, with the real commands an officer and
//! an administrator would type, each run as its own `fieldsync` process.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use clap::Args;

use super::Failure;
use crate::exit;

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Keep the demo's folder (server database, officers' databases and configs) afterwards.
    #[arg(long)]
    pub keep: bool,
}

struct Demo {
    exe: PathBuf,
    dir: PathBuf,
}

/// Stops the demo server however the demo ends.
struct ServerGuard(Child);

impl Drop for ServerGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn fail(msg: impl Into<String>) -> Failure {
    Failure::new(exit::SOFTWARE, msg)
}

impl Demo {
    /// Runs `fieldsync ARGS` for one officer (or the admin), echoing the command line.
    fn run(
        &self,
        who: Option<&str>,
        args: &[&str],
        stdin: Option<&str>,
    ) -> Result<String, Failure> {
        self.run_shown(who, args, stdin, true)
    }

    /// Runs a command without echoing it (the demo's own checks).
    fn check(&self, who: &str, args: &[&str]) -> Result<String, Failure> {
        self.run_shown(Some(who), args, None, false)
    }

    fn run_shown(
        &self,
        who: Option<&str>,
        args: &[&str],
        stdin: Option<&str>,
        show: bool,
    ) -> Result<String, Failure> {
        let mut cmd = Command::new(&self.exe);
        let mut shown = String::from("fieldsync");
        if let Some(o) = who {
            cmd.arg("--db").arg(self.dir.join(format!("{o}.sqlite3")));
            cmd.arg("--config").arg(self.dir.join(format!("{o}.toml")));
        }
        for a in args {
            cmd.arg(a);
            shown.push(' ');
            if a.contains(' ') {
                shown.push_str(&format!("'{a}'"));
            } else {
                shown.push_str(a);
            }
        }
        let prefix = who.map_or("admin".to_string(), str::to_string);
        if show {
            println!("  [{prefix}] $ {shown}");
        }
        cmd.stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        });
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = cmd
            .spawn()
            .map_err(|e| fail(format!("cannot run {}: {e}", self.exe.display())))?;
        if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
            use std::io::Write;
            pipe.write_all(text.as_bytes())
                .map_err(|e| fail(format!("cannot feed stdin: {e}")))?;
        }
        let out = child
            .wait_with_output()
            .map_err(|e| fail(format!("cannot wait for fieldsync: {e}")))?;
        let stdout = String::from_utf8_lossy(&out.stdout).trim().to_string();
        let stderr = String::from_utf8_lossy(&out.stderr).trim().to_string();
        if show {
            for line in stdout.lines().chain(stderr.lines()) {
                println!("      {line}");
            }
        }
        match out.status.code() {
            Some(0) => Ok(stdout),
            code => Err(fail(format!("`{shown}` failed with {code:?}"))),
        }
    }
}

fn start_server(exe: &Path, db: &Path) -> Result<(ServerGuard, String), Failure> {
    let mut child = Command::new(exe)
        .args(["serve", "--listen", "127.0.0.1:0", "--database"])
        .arg(db)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| fail(format!("cannot start the server: {e}")))?;
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| fail("no server stdout"))?;
    let guard = ServerGuard(child);
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .map_err(|e| fail(format!("cannot read the server's address: {e}")))?;
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .ok_or_else(|| fail(format!("the server did not start: {line:?}")))?
        .to_string();
    Ok((guard, url))
}

pub fn run(args: DemoArgs) -> Result<i32, Failure> {
    let exe = std::env::current_exe().map_err(|e| fail(format!("cannot find fieldsync: {e}")))?;
    let tmp = tempfile::Builder::new()
        .prefix("fieldsync-demo-")
        .tempdir()
        .map_err(|e| {
            Failure::new(
                exit::CANT_CREATE,
                format!("cannot make a temporary folder: {e}"),
            )
        })?;
    let dir = tmp.path().to_path_buf();
    let demo = Demo {
        exe: exe.clone(),
        dir: dir.clone(),
    };
    let server_db = dir.join("server.sqlite3");
    let db_arg = server_db.display().to_string();

    println!("fieldsync demo: one sync server, two officers of team north, one of team south.\n");
    println!("1. The administrator starts a server (embedded SQLite) and registers officers.");
    let (_server, url) = start_server(&exe, &server_db)?;
    println!("  [admin] $ fieldsync serve --database server.sqlite3   → {url}");
    let mut tokens = Vec::new();
    for (officer, team) in [("amina", "north"), ("brian", "north"), ("chen", "south")] {
        let token = demo.run(
            None,
            &[
                "admin",
                "--database",
                &db_arg,
                "officer",
                "add",
                officer,
                "--team",
                team,
            ],
            None,
        )?;
        tokens.push((officer, token));
    }

    println!("\n2. Each officer sets up a laptop once.");
    for (officer, token) in &tokens {
        demo.run(
            Some(officer),
            &[
                "init",
                "--server",
                &url,
                "--officer",
                officer,
                "--token-stdin",
            ],
            Some(&format!("{token}\n")),
        )?;
    }

    println!("\n3. Offline all day: amina and brian record households and visits.");
    let h = demo.run(
        Some("amina"),
        &[
            "household",
            "add",
            "--name",
            "Wanjiru",
            "--village",
            "Kibera",
            "--gps",
            "-1.3133,36.7876",
        ],
        None,
    )?;
    demo.run(
        Some("amina"),
        &[
            "visit",
            "add",
            "--household",
            &h[..8],
            "--notes",
            "two children vaccinated",
            "--answer",
            "crop=maize",
        ],
        None,
    )?;
    let h2 = demo.run(
        Some("brian"),
        &[
            "household",
            "add",
            "--name",
            "Otieno",
            "--village",
            "Kisumu",
        ],
        None,
    )?;
    demo.run(
        Some("brian"),
        &[
            "visit",
            "add",
            "--household",
            &h2[..8],
            "--answer",
            "water=borehole",
        ],
        None,
    )?;
    demo.run(Some("amina"), &["queue"], None)?;

    println!("\n4. Back in range, each syncs: push the queue in batches, pull the team's changes.");
    demo.run(Some("amina"), &["sync"], None)?;
    demo.run(Some("brian"), &["sync"], None)?;
    demo.run(Some("amina"), &["sync"], None)?;
    demo.run(Some("chen"), &["sync"], None)?;

    println!("\n5. Each officer of team north sees the other's work; chen (team south) sees none.");
    demo.run(Some("amina"), &["household", "list"], None)?;
    demo.run(Some("brian"), &["visit", "list"], None)?;
    demo.run(Some("chen"), &["household", "list"], None)?;
    let south = demo.check("chen", &["household", "list", "--json"])?;
    let seen: Vec<serde_json::Value> = serde_json::from_str(&south).unwrap_or_default();
    let amina_sees = demo.check("amina", &["household", "list", "--json"])?;
    let amina_seen: Vec<serde_json::Value> = serde_json::from_str(&amina_sees).unwrap_or_default();
    if !seen.is_empty() || amina_seen.len() != 2 {
        return Err(fail("the demo did not converge as expected"));
    }
    demo.run(Some("amina"), &["status"], None)?;

    println!("\nDone: every change arrived once, and each team saw exactly its own records.");
    if args.keep {
        let kept = tmp.keep();
        println!("The demo's files are in {}", kept.display());
    }
    Ok(exit::OK)
}
