//! The fieldsync benchmark, shared by `benches/fleet.rs` (full size, release build) and
//! `tests/bench_smoke.rs` (tiny sizes, inside `cargo test`, so this code cannot rot).
//!
//! Everything runs on 127.0.0.1 against real `fieldsync serve` processes of the binary under
//! test; the client side is the real `fieldsync` binary as a child process where a figure is
//! about the client (backlog, round trip), and in-process threads speaking the wire protocol
//! where thousands of officers are simulated (fleet, naive design). All figures and ratios
//! come from one run. See `docs/performance.md`.
//!
//! Servers, devices, officers and PostgreSQL come from the test harness (`tests/support`,
//! included by the bench target as `crate::support`); this module owns only the benchmark:
//! its sections, the fleet driver and the report.
#![allow(dead_code)]

pub mod backlog;
pub mod limit;
pub mod pouch;
pub mod proxy;
pub mod scrape;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use fieldsync::client::store::Store as LocalStore;
use fieldsync::model::{EntityType, FieldMap};
use fieldsync::protocol::{
    Change, ChangeStatus, Operation, PullResponse, PushRequest, PushResponse, PATH_PULL, PATH_PUSH,
};
use fieldsync::server::store::{self as server_store, Officer};
use fieldsync::server::tokens::{new_token, token_hash};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::support::device::Device;
use crate::support::pg::{Cluster, Durability};
use crate::support::{add_officer, TestServer};

pub type Error = Box<dyn std::error::Error + Send + Sync>;
pub type Result<T> = std::result::Result<T, Error>;

fn fail<T>(msg: impl Into<String>) -> Result<T> {
    Err(msg.into().into())
}

/// How big each part of the benchmark is.
#[derive(Debug, Clone)]
pub struct Scale {
    pub name: &'static str,
    /// `Store::add` calls on a file database (each one durable transaction).
    pub local_adds: usize,
    /// Visits in the `visit import` file, and in the week-offline backlog.
    pub backlog: usize,
    /// `fieldsync visit add` processes timed.
    pub visit_add_runs: usize,
    /// Push batch and pull page sizes of the backlog's second run.
    pub batch: usize,
    pub page: u32,
    /// Also run the backlog with `batch` and `page` (the headline uses the client's defaults).
    pub large_sizes: bool,
    /// Entries of the naive design (and of ours, compared) without added delay.
    pub naive: usize,
    /// Entries of the naive design over the delayed link (extrapolated to `naive`).
    pub naive_delayed: usize,
    /// Added delay each way: the round trip grows by twice this.
    pub one_way_delay: Duration,
    /// A day's changes synced over the delayed link by the real client.
    pub day: usize,
    pub officers: usize,
    pub team_size: usize,
    pub changes_per_officer: usize,
    pub concurrency: usize,
}

impl Scale {
    /// The figures of issue 7.
    pub fn full() -> Scale {
        Scale {
            name: "full",
            local_adds: 1_000,
            backlog: 100_000,
            visit_add_runs: 50,
            batch: 500,
            page: 1000,
            large_sizes: true,
            naive: 10_000,
            naive_delayed: 300,
            one_way_delay: Duration::from_millis(50),
            day: 500,
            officers: 10_000,
            team_size: 20,
            changes_per_officer: 20,
            concurrency: 200,
        }
    }

    /// Tiny sizes: every code path, a few seconds in a debug build.
    pub fn smoke() -> Scale {
        Scale {
            name: "smoke",
            local_adds: 10,
            backlog: 300,
            visit_add_runs: 3,
            batch: 100,
            page: 100,
            large_sizes: true,
            naive: 30,
            naive_delayed: 5,
            one_way_delay: Duration::from_millis(5),
            day: 20,
            officers: 40,
            team_size: 10,
            changes_per_officer: 5,
            concurrency: 8,
        }
    }

    pub fn from_name(name: &str) -> Option<Scale> {
        match name {
            "full" => Some(Scale::full()),
            "smoke" => Some(Scale::smoke()),
            _ => None,
        }
    }
}

/// A target a figure is checked against.
#[derive(Debug, Clone, Copy)]
pub enum Target {
    Below(f64),
    Above(f64),
}

#[derive(Debug, Clone)]
pub struct Row {
    pub key: String,
    pub label: String,
    pub value: f64,
    pub unit: &'static str,
    pub target: Option<Target>,
}

impl Row {
    pub fn met(&self) -> Option<bool> {
        self.target.map(|t| match t {
            Target::Below(x) => self.value < x,
            Target::Above(x) => self.value > x,
        })
    }
}

/// Every figure of one run, in order, with notes.
#[derive(Debug, Default)]
pub struct Report {
    pub rows: Vec<(String, Vec<Row>)>,
    pub notes: Vec<String>,
}

impl Report {
    fn section(&mut self, title: &str) {
        eprintln!("bench: {title}");
        self.rows.push((title.to_string(), Vec::new()));
    }

    fn add(&mut self, key: &str, label: &str, value: f64, unit: &'static str) {
        self.add_t(key, label, value, unit, None)
    }

    fn add_t(
        &mut self,
        key: &str,
        label: &str,
        value: f64,
        unit: &'static str,
        target: Option<Target>,
    ) {
        eprintln!("bench:   {label}: {}", fmt_value(value, unit));
        let row = Row {
            key: key.to_string(),
            label: label.to_string(),
            value,
            unit,
            target,
        };
        match self.rows.last_mut() {
            Some((_, rows)) => rows.push(row),
            None => self.rows.push((String::new(), vec![row])),
        }
    }

    /// Records the machine's load right now (other engineers share it).
    fn add_load(&mut self, key: &str) {
        let load = load_average().parse().unwrap_or(-1.0);
        self.add(key, "machine load average (1 min) at the end", load, "");
    }

    /// The value of a figure by key.
    pub fn get(&self, key: &str) -> Option<f64> {
        self.rows
            .iter()
            .flat_map(|(_, r)| r)
            .find(|r| r.key == key)
            .map(|r| r.value)
    }

    pub fn all(&self) -> impl Iterator<Item = &Row> {
        self.rows.iter().flat_map(|(_, r)| r)
    }

    /// The report as markdown tables, one per section.
    pub fn markdown(&self) -> String {
        let mut out = String::new();
        for (title, rows) in &self.rows {
            out.push_str(&format!(
                "\n### {title}\n\n| measure | value | target | met |\n|---|---:|---|---|\n"
            ));
            for r in rows {
                let (target, met) = match (r.target, r.met()) {
                    (Some(Target::Below(x)), Some(m)) => {
                        (format!("< {}", fmt_value(x, r.unit)), yes(m))
                    }
                    (Some(Target::Above(x)), Some(m)) => {
                        (format!("> {}", fmt_value(x, r.unit)), yes(m))
                    }
                    _ => (String::new(), ""),
                };
                out.push_str(&format!(
                    "| {} | {} | {target} | {met} |\n",
                    r.label,
                    fmt_value(r.value, r.unit)
                ));
            }
        }
        if !self.notes.is_empty() {
            out.push_str("\nNotes:\n");
            for n in &self.notes {
                out.push_str(&format!("- {n}\n"));
            }
        }
        out
    }
}

fn yes(m: bool) -> &'static str {
    if m {
        "yes"
    } else {
        "**no**"
    }
}

fn fmt_value(v: f64, unit: &str) -> String {
    let n = if v.abs() >= 100.0 || v == v.trunc() {
        group(v.round() as i64)
    } else if v.abs() >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    };
    if unit.is_empty() {
        n
    } else {
        format!("{n} {unit}")
    }
}

fn group(n: i64) -> String {
    let s = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 {
        format!("-{out}")
    } else {
        out
    }
}

/// Where the run happens: the binary, a scratch folder, PostgreSQL.
pub struct Env {
    pub bin: PathBuf,
    pub dir: tempfile::TempDir,
    pub pg: Cluster,
    n: AtomicUsize,
}

impl Env {
    pub fn new(bin: &Path) -> Result<Env> {
        if !bin.exists() {
            return fail(format!(
                "{} does not exist: build it first (cargo build --release)",
                bin.display()
            ));
        }
        Ok(Env {
            bin: bin.to_path_buf(),
            dir: tempfile::tempdir()?,
            pg: Cluster::from_env_or_start("FIELDSYNC_BENCH_PG_URL", Durability::Durable)?,
            n: AtomicUsize::new(0),
        })
    }

    /// A fresh path in the scratch folder.
    pub fn path(&self, name: &str) -> PathBuf {
        let n = self.n.fetch_add(1, Ordering::SeqCst);
        self.dir.path().join(format!("{n:03}-{name}"))
    }

    /// A fresh server database: a SQLite path or a new PostgreSQL database.
    pub fn database(&self, kind: Kind) -> Result<String> {
        match kind {
            Kind::Sqlite => Ok(self.path("server.sqlite3").display().to_string()),
            Kind::Postgres => Ok(self.pg.fresh_database("fsbench")?),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Sqlite,
    Postgres,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Sqlite => "SQLite",
            Kind::Postgres => "PostgreSQL",
        }
    }

    fn key(self) -> &'static str {
        match self {
            Kind::Sqlite => "sqlite",
            Kind::Postgres => "pg",
        }
    }
}

/// Peak resident set (`VmHWM`) of a live process, in KiB.
pub fn vm_hwm_kib(pid: u32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    s.lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// CPU time (user + system) a live process has used so far, in seconds.
pub fn cpu_secs(pid: u32) -> f64 {
    let Ok(s) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0.0;
    };
    // Fields after the command name (which is in parentheses and may hold spaces).
    let rest = s.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // utime and stime are fields 14 and 15 of stat, 11 and 12 after the name; 100 ticks/s.
    (ticks(11) + ticks(12)) / 100.0
}

/// The 1-minute load average: other work on the machine skews every figure.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "?".into())
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// A server's peak resident set so far, in KiB.
fn peak_rss_kib(server: &TestServer) -> u64 {
    vm_hwm_kib(server.pid()).unwrap_or(0)
}

/// One officer's device, set up against `server`.
fn new_device(server: &str, officer: &str, token: &str) -> Device {
    Device::for_officer(server, officer, token)
}

/// A copy of `src`'s database set up for `officer` against `server`.
fn copy_of(src: &Device, server: &str, officer: &str, token: &str) -> Result<Device> {
    let dev = Device::new();
    dev.copy_store_from(src)?;
    dev.init(server, officer, token);
    Ok(dev)
}

/// What `fieldsync sync --json` reported, with the client's peak RSS and wall time.
#[derive(Debug, Clone)]
pub struct SyncRun {
    pub json: Value,
    pub peak_rss_kib: u64,
    pub wall: Duration,
}

impl SyncRun {
    pub fn n(&self, k: &str) -> f64 {
        self.json.get(k).and_then(Value::as_f64).unwrap_or(0.0)
    }
}

/// Runs `fieldsync sync --json ARGS` as a child process, sampling its `VmHWM` until it exits.
fn sync_child(dev: &Device, extra: &[&str]) -> Result<SyncRun> {
    let started = Instant::now();
    let args = [&["sync", "--json"][..], extra].concat();
    let mut child = dev.spawn_cmd(&args).spawn()?;
    let pid = child.id();
    let mut stdout = child.stdout.take().ok_or("no stdout")?;
    let mut stderr = child.stderr.take().ok_or("no stderr")?;
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let mut peak = 0;
    let status = loop {
        // VmHWM only grows, so the last sample before exit is (nearly) the peak.
        if let Some(k) = vm_hwm_kib(pid) {
            peak = peak.max(k);
        }
        if let Some(st) = child.try_wait()? {
            break st;
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let wall = started.elapsed();
    let out = out.join().unwrap_or_default();
    let err = err.join().unwrap_or_default();
    if !status.success() {
        return fail(format!("fieldsync sync: {status}: {err}"));
    }
    let json = serde_json::from_str(out.trim())
        .map_err(|e| format!("sync --json printed {out:?}: {e}"))?;
    Ok(SyncRun {
        json,
        peak_rss_kib: peak,
        wall,
    })
}

fn visit_fields(household: Uuid, officer: &str, i: usize) -> FieldMap {
    let v = json!({
        "household_id": household.to_string(),
        "officer_id": officer,
        "visited_at": "2026-11-20T09:30:00Z",
        "notes": format!("visit {i}: follow-up on the water point"),
        "gps": [-1.2921 + (i % 1000) as f64 * 1e-5, 36.8219],
        "answers.crop": "maize",
        "answers.household_size": (i % 9 + 1).to_string(),
    });
    serde_json::from_value(v).expect("a field map")
}

/// The JSON-lines import file of `n` visits of `household`.
fn write_import_file(path: &Path, household: &str, n: usize) -> Result<()> {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path)?);
    for i in 0..n {
        writeln!(
            f,
            "{}",
            json!({
                "household_id": household,
                "visited_at": "2026-11-20T09:30:00Z",
                "notes": format!("visit {i}: follow-up on the water point"),
                // JSON lines are typed: gps is [lat, lon] (issue 12).
                "gps": [-1.2921 + (i % 1000) as f64 * 1e-5, 36.8219],
                "answers": {"crop": "maize", "household_size": (i % 9 + 1).to_string()},
            })
        )?;
    }
    f.flush()?;
    Ok(())
}

/// A device holding one household and `n` imported visits, never synced. Returns the time
/// `visit import` took.
fn device_with_backlog(
    env: &Env,
    server: &str,
    officer: &str,
    token: &str,
    n: usize,
) -> Result<(Device, Duration)> {
    let dev = new_device(server, officer, token);
    let took = fill_backlog(env, &dev, n)?;
    Ok((dev, took))
}

/// Queues a household and `n` visits on `dev` (the visits by one import); the import's time.
fn fill_backlog(env: &Env, dev: &Device, n: usize) -> Result<Duration> {
    let hid = dev.try_ok(&["household", "add", "--name", "Backlog farm"])?;
    let file = env.path("visits.jsonl");
    write_import_file(&file, hid.trim(), n)?;
    let started = Instant::now();
    dev.try_ok(&["visit", "import", &file.display().to_string()])?;
    Ok(started.elapsed())
}

fn rate(n: usize, d: Duration) -> f64 {
    n as f64 / d.as_secs_f64().max(1e-9)
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

/// Runs every part of the benchmark once.
pub fn run(scale: &Scale, bin: &Path) -> Result<Report> {
    let env = Env::new(bin)?;
    let mut report = Report::default();
    report.notes.push(format!(
        "scale `{}`; binary {}; {} CPUs; PostgreSQL {}",
        scale.name,
        bin.display(),
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        env.pg.describe()
    ));
    // FIELDSYNC_BENCH_ONLY=b,e runs some sections only (for profiling; a full run has all).
    let only = std::env::var("FIELDSYNC_BENCH_ONLY").unwrap_or_default();
    let on = |s: &str| only.is_empty() || only.split(',').any(|o| o.trim() == s);
    if on("a") {
        local_writes(&env, scale, &mut report)?;
    }
    if on("b") {
        backlog::backlog(&env, scale, &mut report)?;
    }
    if on("f") {
        pouch::pouchdb(&env, scale, &mut report)?;
    }
    if on("d") {
        naive(&env, scale, &mut report)?;
    }
    if on("e") {
        fleet(&env, scale, &mut report)?;
    }
    if !only.is_empty() {
        report
            .notes
            .push(format!("only sections {only} (FIELDSYNC_BENCH_ONLY)"));
    }
    Ok(report)
}

/// a. Local writes.
fn local_writes(env: &Env, scale: &Scale, report: &mut Report) -> Result<()> {
    report.section("a. Local writes (client store, synchronous=FULL)");
    let mut store = LocalStore::open(&env.path("local.db"))?;
    let hid = store.add(
        EntityType::Household,
        serde_json::from_value(json!({"name": "Local farm"}))?,
    )?;
    let started = Instant::now();
    for i in 0..scale.local_adds {
        store.add(EntityType::Visit, visit_fields(hid, "bench-local", i))?;
    }
    report.add(
        "a.add_per_s",
        &format!(
            "`Store::add` (record + queue entry, one durable transaction each), {} visits",
            scale.local_adds
        ),
        rate(scale.local_adds, started.elapsed()),
        "/s",
    );
    drop(store);

    // The import path (all rows in one transaction), through the real binary.
    let (_dev, took) =
        device_with_backlog(env, "http://127.0.0.1:9", "bench-imp", "t", scale.backlog)?;
    report.add_t(
        "a.import_s",
        &format!(
            "`fieldsync visit import` of {} visits (whole process)",
            scale.backlog
        ),
        secs(took),
        "s",
        Some(Target::Below(3.0)),
    );
    report.add(
        "a.import_per_s",
        "import rate",
        rate(scale.backlog, took),
        "visits/s",
    );

    let dev = new_device("http://127.0.0.1:9", "bench-add", "t");
    let hid = dev.try_ok(&["household", "add", "--name", "Add farm"])?;
    let mut walls = Vec::new();
    for i in 0..scale.visit_add_runs {
        let started = Instant::now();
        dev.try_ok(&[
            "visit",
            "add",
            "--household",
            hid.trim(),
            "--notes",
            &format!("n{i}"),
            "--answer",
            "crop=maize",
        ])?;
        walls.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    report.add_t(
        "a.visit_add_ms",
        &format!(
            "`fieldsync visit add` median wall time ({} runs)",
            scale.visit_add_runs
        ),
        median(walls),
        "ms",
        Some(Target::Below(10.0)),
    );
    Ok(())
}

struct StoreLimit {
    push_rps: f64,
    pull_rps: f64,
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?)
}

/// The backlog's changes: one household insert, then `n` visit inserts.
fn backlog_changes(officer: &str, n: usize) -> Vec<Change> {
    let hid = fieldsync::model::new_id();
    let mut changes = Vec::with_capacity(n + 1);
    changes.push(Change {
        op_id: Uuid::now_v7(),
        entity_type: EntityType::Household,
        entity_id: hid,
        operation: Operation::Insert,
        base_version: None,
        fields: serde_json::from_value(json!({"name": "Backlog farm"})).expect("fields"),
    });
    for i in 0..n {
        changes.push(Change {
            op_id: Uuid::now_v7(),
            entity_type: EntityType::Visit,
            entity_id: fieldsync::model::new_id(),
            operation: Operation::Insert,
            base_version: None,
            fields: visit_fields(hid, officer, i),
        });
    }
    changes
}

fn store_limit(env: &Env, kind: Kind, n: usize, batch: usize, page: u32) -> Result<StoreLimit> {
    let database = env.database(kind)?;
    let rt = runtime()?;
    rt.block_on(async move {
        let store = server_store::open(&database).await?;
        store
            .add_officer("bench-a", "t1", &token_hash(&new_token()))
            .await?;
        let service = fieldsync::server::Service::new(store.clone()).await?;
        let officer = Officer {
            id: "bench-a".into(),
            team: "t1".into(),
            created_at: String::new(),
            revoked: false,
        };
        let device = Uuid::new_v4();
        let changes = backlog_changes("bench-a", n);
        let total = changes.len();
        let mut batches: Vec<Vec<Change>> = Vec::new();
        let mut it = changes.into_iter().peekable();
        while it.peek().is_some() {
            batches.push(it.by_ref().take(batch).collect());
        }
        let started = Instant::now();
        for b in batches {
            let req = PushRequest {
                device_id: device,
                changes: b,
                sequence: None,
            };
            let results = service.push(&officer, req).await?.results;
            if let Some(r) = results.iter().find(|r| r.status != ChangeStatus::Accepted) {
                return fail(format!("store push: {r:?}"));
            }
        }
        let push_rps = rate(total, started.elapsed());
        let started = Instant::now();
        let (mut after, mut got) = (0, 0);
        loop {
            let p = store.pull("t1", after, page, None).await?;
            got += p.records.len();
            after = p.records.last().map_or(after, |r| r.version);
            if !p.has_more {
                break;
            }
        }
        if got != total {
            return fail(format!("store pull got {got} of {total}"));
        }
        let pull_rps = rate(total, started.elapsed());
        Ok::<_, Error>(StoreLimit { push_rps, pull_rps })
    })
}

/// A blocking HTTP client for in-process officers.
fn http() -> Result<reqwest::blocking::Client> {
    Ok(reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(60))
        .pool_max_idle_per_host(1024)
        .build()?)
}

/// POST one push; the results.
fn post_push(
    http: &reqwest::blocking::Client,
    base: &str,
    token: &str,
    req: &PushRequest,
) -> Result<PushResponse> {
    let resp = http
        .post(format!("{base}{PATH_PUSH}"))
        .bearer_auth(token)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(serde_json::to_vec(req)?)
        .send()?;
    let status = resp.status();
    if !status.is_success() {
        return fail(format!(
            "push: HTTP {status}: {}",
            resp.text().unwrap_or_default()
        ));
    }
    Ok(serde_json::from_slice(&resp.bytes()?)?)
}

fn get_pull(
    http: &reqwest::blocking::Client,
    base: &str,
    token: &str,
    cursor: Option<&str>,
    limit: u32,
) -> Result<PullResponse> {
    let mut q = vec![("limit", limit.to_string())];
    if let Some(c) = cursor {
        q.push(("cursor", c.to_string()));
    }
    let resp = http
        .get(format!("{base}{PATH_PULL}"))
        .bearer_auth(token)
        .query(&q)
        .send()?;
    let status = resp.status();
    if !status.is_success() {
        return fail(format!(
            "pull: HTTP {status}: {}",
            resp.text().unwrap_or_default()
        ));
    }
    Ok(serde_json::from_slice(&resp.bytes()?)?)
}

/// The naive design: one request per queue entry. Returns the time for `n` entries.
fn naive_push(base: &str, token: &str, officer: &str, n: usize) -> Result<Duration> {
    let http = http()?;
    let device = Uuid::new_v4();
    let changes = backlog_changes(officer, n.saturating_sub(1));
    let started = Instant::now();
    for c in changes {
        let req = PushRequest {
            device_id: device,
            changes: vec![c],
            sequence: None,
        };
        let resp = post_push(&http, base, token, &req)?;
        if resp.results.first().map(|r| r.status) != Some(ChangeStatus::Accepted) {
            return fail(format!("naive push: {:?}", resp.results));
        }
    }
    Ok(started.elapsed())
}

/// d. The naive design against ours, with and without an added round trip; and a day's
/// changes over the slow link.
fn naive(env: &Env, scale: &Scale, report: &mut Report) -> Result<()> {
    let rtt_ms = scale.one_way_delay.as_millis() * 2;
    report.section(&format!(
        "d. One request per entry (naive) vs batched (ours), {} entries, SQLite store",
        scale.naive
    ));
    let database = env.database(Kind::Sqlite)?;
    let server = TestServer::start_with_db(&database);
    let proxy = proxy::DelayProxy::start(server.addr(), scale.one_way_delay)?;
    let mut tokens = Vec::new();
    for i in 0..6 {
        tokens.push(add_officer(
            &database,
            &format!("bench-n{i}"),
            &format!("tn{i}"),
        ));
    }
    let naive_fast = naive_push(&server.url, &tokens[0], "bench-n0", scale.naive)?;
    let naive_slow = naive_push(&proxy.url(), &tokens[1], "bench-n1", scale.naive_delayed)?;
    let per_entry_slow = naive_slow.as_secs_f64() / scale.naive_delayed as f64;
    let naive_slow_est = per_entry_slow * scale.naive as f64;

    // Ours: the real client, default sizes, the same number of entries (1 household + visits).
    let (ours_dev, _) =
        device_with_backlog(env, &server.url, "bench-n2", &tokens[2], scale.naive - 1)?;
    let ours_fast = sync_child(&ours_dev, &[])?;
    let (ours_dev2, _) =
        device_with_backlog(env, &proxy.url(), "bench-n3", &tokens[3], scale.naive - 1)?;
    let ours_slow = sync_child(&ours_dev2, &[])?;
    let of = ours_fast.n("push_ms") / 1000.0;
    let os = ours_slow.n("push_ms") / 1000.0;
    report.add(
        "d.naive_s",
        "naive, loopback: push time",
        secs(naive_fast),
        "s",
    );
    report.add(
        "d.naive_requests",
        "naive: requests",
        scale.naive as f64,
        "",
    );
    report.add(
        "d.ours_s",
        "ours (default batch 100), loopback: push time",
        of,
        "s",
    );
    report.add(
        "d.ours_requests",
        "ours: requests (whole sync)",
        ours_fast.n("requests"),
        "",
    );
    report.add(
        "d.ratio_fast",
        "naive ÷ ours, loopback",
        secs(naive_fast) / of.max(1e-9),
        "×",
    );
    report.add(
        "d.naive_slow_s",
        &format!(
            "naive, +{rtt_ms} ms RTT: push time (measured on {} entries, {:.1} ms each, × {})",
            scale.naive_delayed,
            per_entry_slow * 1000.0,
            scale.naive
        ),
        naive_slow_est,
        "s",
    );
    report.add(
        "d.ours_slow_s",
        &format!("ours, +{rtt_ms} ms RTT: push time (measured)"),
        os,
        "s",
    );
    report.add(
        "d.ratio_slow",
        &format!("naive ÷ ours, +{rtt_ms} ms RTT"),
        naive_slow_est / os.max(1e-9),
        "×",
    );

    // A day's work over the slow link: the whole `fieldsync sync`, wall time of the process.
    let (day_dev, _) =
        device_with_backlog(env, &proxy.url(), "bench-n4", &tokens[4], scale.day - 1)?;
    let day = sync_child(&day_dev, &[])?;
    report.add_t(
        "d.day_s",
        &format!(
            "a day's {} changes, whole `fieldsync sync` over +{rtt_ms} ms RTT (process wall time)",
            scale.day
        ),
        secs(day.wall),
        "s",
        Some(Target::Below(2.0)),
    );
    report.add("d.day_requests", "  its requests", day.n("requests"), "");
    report.notes.push(format!(
        "d: the delay proxy adds {} ms to each direction of every TCP chunk (connection setup is not delayed); \
         the naive design over it was measured on {} entries and extrapolated linearly to {}",
        scale.one_way_delay.as_millis(),
        scale.naive_delayed,
        scale.naive
    ));
    Ok(())
}

/// Latencies and errors of a fleet run.
#[derive(Default)]
struct FleetTally {
    latencies_ms: Vec<f64>,
    errors: usize,
    first_error: Option<String>,
    syncs: usize,
}

/// e. The fleet: every officer pushes its changes, then pulls its team's.
fn fleet(env: &Env, scale: &Scale, report: &mut Report) -> Result<()> {
    // FIELDSYNC_BENCH_FLEET=sqlite1,pg1,pg2 picks some fleets (for profiling).
    let pick = std::env::var("FIELDSYNC_BENCH_FLEET").unwrap_or_default();
    for (kind, servers) in [(Kind::Sqlite, 1), (Kind::Postgres, 1), (Kind::Postgres, 2)] {
        let id = format!("{}{servers}", kind.key());
        if !pick.is_empty() && !pick.split(',').any(|p| p.trim() == id) {
            continue;
        }
        let label = if servers == 1 {
            kind.name().to_string()
        } else {
            format!("{servers} server processes over {}", kind.name())
        };
        report.section(&format!(
            "e. Fleet, {label}: {} officers in teams of {}, {} changes each, {} at once",
            scale.officers, scale.team_size, scale.changes_per_officer, scale.concurrency
        ));
        let database = env.database(kind)?;
        let created = Instant::now();
        let tokens = create_officers(&database, scale)?;
        eprintln!(
            "bench:   ({} officers created in {:.1} s)",
            tokens.len(),
            created.elapsed().as_secs_f64()
        );
        let procs: Vec<TestServer> = (0..servers)
            .map(|_| TestServer::start_with_db(&database))
            .collect();
        let urls: Vec<String> = procs.iter().map(|s| s.url.clone()).collect();
        // The fleet's client side is this process (its threads and one HTTP client): its CPU
        // time says how much of the 2 cores the simulated officers take from the server.
        let client_cpu = cpu_secs(std::process::id());
        let (took, tally) = run_fleet(scale, &urls, &tokens)?;
        let client_cpu = cpu_secs(std::process::id()) - client_cpu;
        let mut lat = tally.latencies_ms;
        lat.sort_by(f64::total_cmp);
        let k = format!("e.{}{}", kind.key(), servers);
        report.add_t(
            &format!("{k}.total_s"),
            "total time",
            secs(took),
            "s",
            Some(Target::Below(30.0)),
        );
        report.add(
            &format!("{k}.syncs_per_s"),
            "syncs/s",
            rate(tally.syncs, took),
            "/s",
        );
        report.add(&format!("{k}.requests"), "requests", lat.len() as f64, "");
        report.add(
            &format!("{k}.p50_ms"),
            "request latency p50",
            percentile(&lat, 0.50),
            "ms",
        );
        report.add(
            &format!("{k}.p95_ms"),
            "request latency p95",
            percentile(&lat, 0.95),
            "ms",
        );
        report.add_t(
            &format!("{k}.p99_ms"),
            "request latency p99",
            percentile(&lat, 0.99),
            "ms",
            Some(Target::Below(500.0)),
        );
        report.add_t(
            &format!("{k}.errors"),
            "errors",
            tally.errors as f64,
            "",
            Some(Target::Below(0.5)),
        );
        lock_wait_rows(report, &k, &urls)?;
        if servers == 2 {
            if let Some(one) = report.get(&format!("e.{}1.total_s", kind.key())) {
                report.add_t(
                    &format!("{k}.vs_one"),
                    "total time ÷ one server process's",
                    secs(took) / one.max(1e-9),
                    "×",
                    Some(Target::Below(1.0)),
                );
            }
        }
        let cpu: f64 = procs.iter().map(|p| cpu_secs(p.pid())).sum();
        report.add(
            &format!("{k}.server_cpu_s"),
            "server CPU time (all processes)",
            cpu,
            "s",
        );
        report.add(
            &format!("{k}.client_cpu_s"),
            "bench client CPU time (the officers' threads, this process)",
            client_cpu,
            "s",
        );
        report.add_load(&format!("{k}.load"));
        let rss = procs.iter().map(peak_rss_kib).max().unwrap_or(0);
        report.add(
            &format!("{k}.server_rss"),
            "server peak RSS (largest process)",
            mib(rss),
            "MiB",
        );
        if let Some(e) = tally.first_error {
            report.notes.push(format!("e ({label}): first error: {e}"));
        }
    }
    Ok(())
}

/// The push lock wait of a fleet's server processes, scraped from their `/metrics`, and on
/// PostgreSQL its two parts: the pool queue and the team's row lock.
fn lock_wait_rows(report: &mut Report, k: &str, urls: &[String]) -> Result<()> {
    let http = http()?;
    let (mut waited, mut pushes) = (0.0, 0.0);
    let (mut pool, mut team) = (None::<(f64, f64)>, None::<(f64, f64)>);
    let add = |acc: &mut Option<(f64, f64)>, part: Option<(f64, f64)>| {
        if let Some((s, n)) = part {
            let (a, b) = acc.get_or_insert((0.0, 0.0));
            *a += s;
            *b += n;
        }
    };
    for url in urls {
        let w = scrape::push_wait(&http, url)?;
        waited += w.total.0;
        pushes += w.total.1;
        add(&mut pool, w.pool);
        add(&mut team, w.team_lock);
    }
    report.add(
        &format!("{k}.lock_wait_s"),
        "push lock wait, all pushes (`fieldsync_push_lock_wait_seconds_sum`)",
        waited,
        "s",
    );
    report.add(
        &format!("{k}.lock_wait_ms"),
        "push lock wait, mean per push",
        waited * 1000.0 / pushes.max(1.0),
        "ms",
    );
    // SQLite reports no parts (count 0): its whole wait is the single writer's queue.
    for (part, key, label) in [
        (
            pool,
            "pool_wait_ms",
            "of which waiting for a pooled connection, mean per push",
        ),
        (
            team,
            "team_lock_ms",
            "of which taking the team's row lock, mean per push",
        ),
    ] {
        if let Some((s, n)) = part.filter(|(_, n)| *n > 0.0) {
            report.add(&format!("{k}.{key}"), label, s * 1000.0 / n, "ms");
        }
    }
    Ok(())
}

/// Creates the fleet's officers through the store's own API: their tokens, in order.
fn create_officers(database: &str, scale: &Scale) -> Result<Vec<String>> {
    let rt = runtime()?;
    let n = scale.officers;
    let team_size = scale.team_size;
    rt.block_on(async move {
        let store = server_store::open(database).await?;
        let tokens: Vec<String> = (0..n).map(|_| new_token()).collect();
        // A few at once: PostgreSQL overlaps the commits, SQLite serialises them anyway.
        let work: Vec<(usize, String)> = tokens.iter().cloned().enumerate().collect();
        let chunks: Vec<Vec<(usize, String)>> = work
            .chunks(n.div_ceil(16).max(1))
            .map(<[_]>::to_vec)
            .collect();
        let mut tasks = Vec::new();
        for chunk in chunks {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                for (i, t) in chunk {
                    store
                        .add_officer(
                            &format!("o{i:05}"),
                            &format!("team{:04}", i / team_size),
                            &token_hash(&t),
                        )
                        .await?;
                }
                Ok::<(), fieldsync::server::StoreError>(())
            }));
        }
        for t in tasks {
            t.await??;
        }
        Ok::<_, Error>(tokens)
    })
}

fn run_fleet(scale: &Scale, urls: &[String], tokens: &[String]) -> Result<(Duration, FleetTally)> {
    let http = http()?;
    let next = AtomicUsize::new(0);
    let tally = Mutex::new(FleetTally::default());
    let started = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..scale.concurrency.min(tokens.len()).max(1) {
            s.spawn(|| {
                let mut mine = FleetTally::default();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= tokens.len() {
                        break;
                    }
                    let base = &urls[i % urls.len()];
                    match officer_sync(
                        &http,
                        base,
                        &tokens[i],
                        &format!("o{i:05}"),
                        scale,
                        &mut mine.latencies_ms,
                    ) {
                        Ok(()) => mine.syncs += 1,
                        Err(e) => {
                            mine.errors += 1;
                            mine.first_error.get_or_insert_with(|| e.to_string());
                        }
                    }
                }
                let mut t = tally.lock().unwrap_or_else(|p| p.into_inner());
                t.latencies_ms.extend(mine.latencies_ms);
                t.errors += mine.errors;
                t.syncs += mine.syncs;
                if t.first_error.is_none() {
                    t.first_error = mine.first_error;
                }
            });
        }
    });
    let took = started.elapsed();
    Ok((took, tally.into_inner().unwrap_or_else(|p| p.into_inner())))
}

/// One simulated officer: push a household and its visits in one request, then pull the team's
/// records page by page.
fn officer_sync(
    http: &reqwest::blocking::Client,
    base: &str,
    token: &str,
    officer: &str,
    scale: &Scale,
    latencies: &mut Vec<f64>,
) -> Result<()> {
    let changes = backlog_changes(officer, scale.changes_per_officer.saturating_sub(1));
    let req = PushRequest {
        device_id: Uuid::new_v4(),
        changes,
        sequence: None,
    };
    let t = Instant::now();
    let resp = post_push(http, base, token, &req)?;
    latencies.push(t.elapsed().as_secs_f64() * 1000.0);
    if let Some(r) = resp
        .results
        .iter()
        .find(|r| r.status != ChangeStatus::Accepted)
    {
        return fail(format!("push result {r:?}"));
    }
    let mut cursor: Option<String> = None;
    let mut seen = BTreeMap::new();
    loop {
        let t = Instant::now();
        let page = get_pull(http, base, token, cursor.as_deref(), 1000)?;
        latencies.push(t.elapsed().as_secs_f64() * 1000.0);
        for r in &page.records {
            seen.insert(r.id, r.version);
        }
        cursor = Some(page.next_cursor);
        if !page.has_more {
            break;
        }
    }
    // Its own records are always among the team's.
    if seen.len() < scale.changes_per_officer {
        return fail(format!("pulled {} records, fewer than its own", seen.len()));
    }
    Ok(())
}
