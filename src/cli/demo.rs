//! `fieldsync demo`: the whole system on one machine, with the real commands an officer and
//! an administrator would type, each run as its own `fieldsync` process (the server too: a
//! `fieldsync serve` child on 127.0.0.1, so the demo needs the `server` feature and says so
//! at once without it). It only drives and prints commands; it decides nothing about sync.

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

/// The officers of the demo and their teams.
const OFFICERS: [(&str, &str); 3] = [("amina", "north"), ("brian", "north"), ("chen", "south")];

pub fn run(args: DemoArgs) -> Result<i32, Failure> {
    if !cfg!(feature = "server") {
        return Err(super::serve::server_missing("demo"));
    }
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
    let demo = Demo {
        exe: exe.clone(),
        dir: tmp.path().to_path_buf(),
    };
    let server_db = demo.dir.join("server.sqlite3");

    println!("fieldsync demo: one sync server, two officers of team north, one of team south.\n");
    println!("1. The administrator starts a server (embedded SQLite) and registers officers.");
    let (_server, url) = start_server(&exe, &server_db)?;
    println!("  [admin] $ fieldsync serve --database server.sqlite3   → {url}");
    let tokens = demo.register(&server_db.display().to_string())?;
    println!("\n2. Each officer sets up a laptop once.");
    demo.set_up_laptops(&url, &tokens)?;
    println!("\n3. Offline all day: amina and brian record households and visits.");
    demo.record_offline()?;
    println!("\n4. Back in range, each syncs: push the queue in batches, pull the team's changes.");
    for officer in ["amina", "brian", "amina", "chen"] {
        demo.run(Some(officer), &["sync"], None)?;
    }
    println!("\n5. Each officer of team north sees the other's work; chen (team south) sees none.");
    demo.show_what_each_team_sees()?;
    println!("\nDone: every change arrived once, and each team saw exactly its own records.");
    if args.keep {
        let kept = tmp.keep();
        println!("The demo's files are in {}", kept.display());
    }
    Ok(exit::OK)
}

impl Demo {
    /// Registers the officers with `fieldsync admin`; their tokens, in [`OFFICERS`] order.
    fn register(&self, db: &str) -> Result<Vec<(&'static str, String)>, Failure> {
        let mut tokens = Vec::new();
        for (officer, team) in OFFICERS {
            let args = [
                "admin",
                "--database",
                db,
                "officer",
                "add",
                officer,
                "--team",
                team,
            ];
            tokens.push((officer, self.run(None, &args, None)?));
        }
        Ok(tokens)
    }

    fn set_up_laptops(&self, url: &str, tokens: &[(&str, String)]) -> Result<(), Failure> {
        for (officer, token) in tokens {
            let args = [
                "init",
                "--server",
                url,
                "--officer",
                officer,
                "--token-stdin",
            ];
            self.run(Some(officer), &args, Some(&format!("{token}\n")))?;
        }
        Ok(())
    }

    fn record_offline(&self) -> Result<(), Failure> {
        let h = self.run(
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
        let visit = [
            "visit",
            "add",
            "--household",
            prefix(&h),
            "--notes",
            "two children vaccinated",
            "--answer",
            "crop=maize",
        ];
        self.run(Some("amina"), &visit, None)?;
        let h2 = self.run(
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
        let visit = [
            "visit",
            "add",
            "--household",
            prefix(&h2),
            "--answer",
            "water=borehole",
        ];
        self.run(Some("brian"), &visit, None)?;
        self.run(Some("amina"), &["queue"], None)?;
        Ok(())
    }

    /// Lists what each officer sees, and checks it: amina sees both households of team
    /// north, chen (team south) none.
    fn show_what_each_team_sees(&self) -> Result<(), Failure> {
        self.run(Some("amina"), &["household", "list"], None)?;
        self.run(Some("brian"), &["visit", "list"], None)?;
        self.run(Some("chen"), &["household", "list"], None)?;
        let count = |who: &str| -> Result<usize, Failure> {
            let out = self.check(who, &["household", "list", "--json"])?;
            let rows: Vec<serde_json::Value> = serde_json::from_str(&out)
                .map_err(|e| fail(format!("`household list --json` printed no JSON: {e}")))?;
            Ok(rows.len())
        };
        if count("chen")? != 0 || count("amina")? != 2 {
            return Err(fail("the demo did not converge as expected"));
        }
        self.run(Some("amina"), &["status"], None)?;
        Ok(())
    }
}

/// The short id prefix an officer would type.
fn prefix(id: &str) -> &str {
    id.get(..8).unwrap_or(id)
}
