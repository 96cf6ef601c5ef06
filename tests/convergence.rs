//! Convergence under faults: officers of several teams make seeded random offline edits and
//! sync through a fault-injecting proxy in random order (dropped requests, dropped answers
//! after the server applied them, cut responses, 5xx, delays), with clients killed mid-sync.
//! Each schedule also moves one officer to the other team, rotates one officer's token (a
//! sync with the old one is refused and loses nothing), and restores the server from a
//! backup taken mid-schedule (the devices refill it). Then the faults stop, every officer
//! settles conflicts by a fixed rule and discards what the server will never take (a moved
//! officer's edits of the old team's records), and all sync until nothing changes. The
//! invariants:
//!
//! 1. every device of a team holds exactly the server's records for that team;
//! 2. every record a device created and did not delete before it was sent is on the server,
//!    once (no change lost, none duplicated), unless the server refused it and its officer
//!    discarded it (a moved officer's visit to an old-team household);
//! 3. no queue entry was lost or left behind: every queue is empty at the end;
//! 4. every collision surfaced as a conflict: when an officer's last write of a field is not
//!    the final value, either the final value's writer had seen it (a chain of overwrites
//!    leads back to it) or a conflict (or a rejection the officer discarded) on that record
//!    was reported.
//!
//! `FIELDSYNC_CONVERGENCE_SCHEDULES` (default 50 per store) and `FIELDSYNC_CONVERGENCE_SEED`
//! (re-run one schedule) control it; a failure prints the seed.

mod support;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use uuid::Uuid;

use fieldsync::client::config::Config;
use fieldsync::client::store::{ListFilter, LocalRecord, Store, SyncState};
use fieldsync::client::sync::{sync, NoProgress, SyncOptions, SyncReport};
use fieldsync::client::transport::{RetryPolicy, Transport};
use fieldsync::merge::{Choice, Resolution};
use fieldsync::model::{EntityType, FieldMap};
use support::proxy::{FaultKind, FaultProxy};
use support::{admin, pg, StoreKind, TestServer};

const TEAMS: [&str; 2] = ["north", "south"];
const PER_TEAM: usize = 2;

struct Officer {
    id: String,
    /// The team's base name (now: officers move); on the server it carries the seed (see
    /// `team_name`).
    team: &'static str,
    db: PathBuf,
    config: PathBuf,
    token: String,
}

/// What the test knows about every write, to check invariant 4.
#[derive(Default)]
struct Model {
    /// (record, field) → value written → the value its writer saw before (None: empty).
    overwrote: HashMap<(Uuid, String), HashMap<String, Option<String>>>,
    /// (officer, record, field) → that officer's last written value.
    last_write: BTreeMap<(usize, Uuid, String), String>,
    /// Records created by each officer, and whether they deleted them before any sync.
    created: Vec<(usize, Uuid, EntityType)>,
    /// Records on which any officer was shown a conflict (or discarded a rejection).
    surfaced: BTreeSet<Uuid>,
    /// Records whose rejected changes an officer discarded.
    discarded: BTreeSet<Uuid>,
    /// Records some officer deleted.
    deleted: BTreeSet<Uuid>,
    counter: u64,
}

struct Run {
    rng: StdRng,
    officers: Vec<Officer>,
    proxy: FaultProxy,
    model: Model,
    faults: u64,
    kills: u64,
    syncs: u64,
    trace: Vec<String>,
    _dir: tempfile::TempDir,
}

fn policy() -> RetryPolicy {
    RetryPolicy {
        attempts: 3,
        base: Duration::from_millis(5),
        max_delay: Duration::from_millis(40),
        connect_timeout: Duration::from_secs(2),
        request_timeout: Duration::from_secs(5),
    }
}

impl Run {
    fn new(server: &TestServer, seed: u64) -> Run {
        let dir = tempfile::tempdir().unwrap();
        let upstream = server.url.trim_start_matches("http://").parse().unwrap();
        let proxy = FaultProxy::start(upstream);
        let mut officers = Vec::new();
        for team in TEAMS {
            for i in 0..PER_TEAM {
                let id = format!("{team}{i}-{seed}");
                let token = server.add_officer(&id, &team_name(team, seed));
                let db = dir.path().join(format!("{id}.sqlite3"));
                let config = dir.path().join(format!("{id}.toml"));
                Config {
                    server: proxy.url(),
                    officer: id.clone(),
                    token: Some(token.clone()),
                    ca_cert: None,
                }
                .save(&config)
                .unwrap();
                Store::open(&db).unwrap().claim_officer(&id).unwrap();
                officers.push(Officer {
                    id,
                    team,
                    db,
                    config,
                    token,
                });
            }
        }
        Run {
            rng: StdRng::seed_from_u64(seed),
            officers,
            proxy,
            model: Model::default(),
            faults: 0,
            kills: 0,
            syncs: 0,
            trace: Vec::new(),
            _dir: dir,
        }
    }

    fn store(&self, o: usize) -> Store {
        Store::open(&self.officers[o].db).unwrap()
    }

    fn value(&mut self, o: usize) -> String {
        self.model.counter += 1;
        format!("o{o}-w{}", self.model.counter)
    }

    /// One random offline edit by officer `o`.
    fn edit(&mut self, o: usize) {
        let mut store = self.store(o);
        let live = |e| {
            store
                .list(e, &ListFilter::default())
                .unwrap()
                .into_iter()
                .filter(|r| r.sync_state != SyncState::Conflict)
                .collect::<Vec<_>>()
        };
        let households = live(EntityType::Household);
        let visits = live(EntityType::Visit);
        let pick = self.rng.gen_range(0..100);
        if households.is_empty() || pick < 12 {
            let name = self.value(o);
            let id = store
                .add(EntityType::Household, fm(json!({ "name": name })))
                .unwrap();
            self.model.created.push((o, id, EntityType::Household));
            self.note_write(o, id, "name", &name, None);
        } else if visits.is_empty() || pick < 30 {
            let h = &households[self.rng.gen_range(0..households.len())];
            let notes = self.value(o);
            let id = store
                .add(
                    EntityType::Visit,
                    fm(json!({
                        "household_id": h.id.to_string(), "officer_id": self.officers[o].id,
                        "visited_at": "2026-11-25T09:00:00Z", "notes": notes,
                    })),
                )
                .unwrap();
            self.model.created.push((o, id, EntityType::Visit));
            self.note_write(o, id, "notes", &notes, None);
        } else if pick < 60 {
            let h = &households[self.rng.gen_range(0..households.len())];
            let field = ["name", "village", "notes"][self.rng.gen_range(0..3)];
            self.edit_field(&mut store, o, h, field);
        } else if pick < 92 {
            let visit = &visits[self.rng.gen_range(0..visits.len())];
            let field = ["notes", "answers.crop", "answers.water"][self.rng.gen_range(0..3)];
            self.edit_field(&mut store, o, visit, field);
        } else {
            let visit = &visits[self.rng.gen_range(0..visits.len())];
            store.delete(EntityType::Visit, visit.id).unwrap();
            self.model.deleted.insert(visit.id);
            self.trace.push(format!("delete o{o} {}", visit.id));
            let seen = visit.fields.clone();
            for (k, v) in seen {
                if let Some(s) = v.as_str() {
                    let tomb = format!("deleted-by-o{o}-{}", visit.id);
                    self.model
                        .overwrote
                        .entry((visit.id, k.clone()))
                        .or_default()
                        .insert(tomb, Some(s.to_string()));
                }
            }
        }
    }

    /// Officer `o` writes a fresh unique value to one field of `rec`.
    fn edit_field(&mut self, store: &mut Store, o: usize, rec: &LocalRecord, field: &str) {
        let v = self.value(o);
        let before = rec
            .fields
            .get(field)
            .and_then(Value::as_str)
            .map(str::to_string);
        let mut f = FieldMap::new();
        f.insert(field.into(), json!(v));
        store.edit(rec.entity_type, rec.id, f).unwrap();
        self.note_write(o, rec.id, field, &v, before);
    }

    fn note_write(&mut self, o: usize, id: Uuid, field: &str, v: &str, before: Option<String>) {
        self.trace
            .push(format!("write o{o} {id}.{field} = {v} (saw {before:?})"));
        self.model
            .overwrote
            .entry((id, field.to_string()))
            .or_default()
            .insert(v.to_string(), before);
        self.model
            .last_write
            .insert((o, id, field.to_string()), v.to_string());
    }

    /// A sync in this process (through the proxy). Errors are expected while faults are on.
    fn sync_in_process(&mut self, o: usize) -> Option<SyncReport> {
        self.syncs += 1;
        let off = &self.officers[o];
        let mut store = Store::open(&off.db).unwrap();
        let mut t = Transport::new(&self.proxy.url(), &off.token, false, policy()).unwrap();
        let opts = SyncOptions {
            batch_size: self.rng.gen_range(1..20),
            pull_limit: self.rng.gen_range(1..30),
            lock_wait: Duration::from_secs(5),
            adopt_server: false,
        };
        let res = sync(&mut store, &mut t, &opts, &mut NoProgress, &|| false);
        self.trace.push(format!(
            "sync o{o}: {:?}",
            res.as_ref()
                .map(|r| (r.pushed, r.accepted, r.conflicts, r.pulled))
                .map_err(|e| e.to_string())
        ));
        let r = res.ok();
        self.note_conflicts(o);
        r
    }

    /// A `fieldsync sync` process killed with SIGKILL after a random moment.
    fn sync_and_kill(&mut self, o: usize) {
        self.syncs += 1;
        self.kills += 1;
        let off = &self.officers[o];
        let mut child = std::process::Command::new(support::bin())
            .arg("--db")
            .arg(&off.db)
            .arg("--config")
            .arg(&off.config)
            .args([
                "sync",
                "--quiet",
                "--retries",
                "2",
                "--batch-size",
                "3",
                "--page-size",
                "4",
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(self.rng.gen_range(0..60)));
        let _ = child.kill();
        let _ = child.wait();
        self.trace.push(format!("sync o{o}: killed"));
        self.note_conflicts(o);
    }

    fn note_conflicts(&mut self, o: usize) {
        for c in self.store(o).conflicts().unwrap() {
            self.model.surfaced.insert(c.id);
        }
    }

    /// The administrator moves officer `o` to the other team.
    fn move_officer(&mut self, server: &TestServer, o: usize, seed: u64) {
        let to = if self.officers[o].team == TEAMS[0] {
            TEAMS[1]
        } else {
            TEAMS[0]
        };
        let id = self.officers[o].id.clone();
        let (code, _, err) = admin(
            &server.db,
            &["officer", "move", &id, "--team", &team_name(to, seed)],
        );
        assert_eq!(code, 0, "seed {seed}: move {id}: {err}");
        self.officers[o].team = to;
        self.trace.push(format!("move o{o} to {to}"));
    }

    /// The administrator issues officer `o` a new token; a sync with the old one is refused
    /// (or finds the network down) and loses nothing; then the laptop takes the new token.
    fn rotate_token(&mut self, server: &TestServer, o: usize, seed: u64) {
        let id = self.officers[o].id.clone();
        let (code, out, err) = admin(&server.db, &["officer", "token", &id]);
        assert_eq!(code, 0, "seed {seed}: token {id}: {err}");
        let waiting = {
            let mut store = self.store(o);
            store.compact_queue().unwrap();
            store.queue_counts().unwrap().waiting()
        };
        let refused = self.sync_in_process(o);
        assert!(refused.is_none(), "seed {seed}: the old token still works");
        assert_eq!(self.store(o).queue_counts().unwrap().waiting(), waiting);
        let off = &mut self.officers[o];
        off.token = out.trim().to_string();
        Config {
            server: self.proxy.url(),
            officer: off.id.clone(),
            token: Some(off.token.clone()),
            ca_cert: None,
        }
        .save(&off.config)
        .unwrap();
        self.trace.push(format!("token o{o}"));
    }

    /// Officer `o` discards every rejected change (saving nothing: the test's model knows
    /// them), as an officer would with `fieldsync queue discard --rejected`.
    fn discard_rejected(&mut self, o: usize) {
        let mut store = self.store(o);
        let rejected = store.discardable().unwrap();
        if rejected.is_empty() {
            return;
        }
        let entries: Vec<_> = rejected.into_iter().map(|(e, _)| e).collect();
        for e in &entries {
            self.model.surfaced.insert(e.entity_id);
            self.model.discarded.insert(e.entity_id);
        }
        store.discard(&entries).unwrap();
        self.trace.push(format!("discard o{o}: {}", entries.len()));
    }

    /// The fixed rule once the network is calm: take the server's side of every conflict.
    fn resolve_all(&mut self, o: usize) {
        let mut store = self.store(o);
        for c in store.conflicts().unwrap() {
            self.model.surfaced.insert(c.id);
            let r = if c.is_delete_conflict() {
                if c.they_deleted() {
                    Resolution::AcceptDelete
                } else {
                    Resolution::KeepRecord
                }
            } else {
                Resolution::Fields {
                    choices: BTreeMap::new(),
                    default: Choice::Theirs,
                }
            };
            store.resolve(&c, &r).unwrap();
        }
    }
}

/// A consistent copy of the server's database taken while it runs (SQLite: `admin backup`;
/// PostgreSQL: `pg_dump -Fc`).
fn back_up(server: &TestServer, file: &Path) {
    if server.db.starts_with("postgres") {
        let out = Command::new(Path::new(pg::PG_BIN).join("pg_dump"))
            .args(["-Fc", "--file"])
            .arg(file)
            .arg(&server.db)
            .output()
            .unwrap();
        assert!(out.status.success(), "pg_dump: {out:?}");
    } else {
        let (code, _, err) = admin(&server.db, &["backup", &file.display().to_string()]);
        assert_eq!(code, 0, "admin backup: {err}");
    }
}

/// Stops the server, restores `file` into a fresh database (beside the old one: it outlives
/// the schedule) and serves it on the same address.
fn restore(server: &mut TestServer, file: &Path) {
    server.terminate(Duration::from_secs(10));
    if server.db.starts_with("postgres") {
        let db = pg::fresh_database();
        let out = Command::new(Path::new(pg::PG_BIN).join("pg_restore"))
            .args(["--no-owner", "-d", &db])
            .arg(file)
            .output()
            .unwrap();
        assert!(out.status.success(), "pg_restore: {out:?}");
        server.db = db;
    } else {
        let dir = Path::new(&server.db)
            .parent()
            .expect("a SQLite database in a folder")
            .to_path_buf();
        let db = dir.join(format!("restored-{}.sqlite3", Uuid::new_v4().simple()));
        std::fs::copy(file, &db).unwrap();
        server.db = db.display().to_string();
    }
    server.start_again();
}

/// Each schedule has teams of its own, so schedules sharing a server stay independent (and
/// a long soak does not pull every earlier schedule's records).
fn team_name(team: &str, seed: u64) -> String {
    format!("{team}-{seed}")
}

fn fm(v: Value) -> FieldMap {
    serde_json::from_value(v).unwrap()
}

/// A device's records as the fields every copy must agree on.
/// Every record's server stamps (its audit) as the device holds them. (Not the local
/// `created_at`/`updated_at` columns: resolving a conflict takes the server's audit but keeps
/// the local record's times, which stay until the server's next change of the record.)
fn stamps(store: &Store) -> BTreeMap<Uuid, String> {
    let mut out = BTreeMap::new();
    for e in EntityType::ALL {
        let filter = ListFilter {
            deleted: true,
            ..Default::default()
        };
        for r in store.list(e, &filter).unwrap() {
            out.insert(r.id, serde_json::to_string(&r.audit).unwrap());
        }
    }
    out
}

fn holdings(store: &Store) -> BTreeMap<(EntityType, Uuid), (FieldMap, bool, Option<i64>)> {
    let mut out = BTreeMap::new();
    for e in EntityType::ALL {
        let filter = ListFilter {
            deleted: true,
            ..Default::default()
        };
        for r in store.list(e, &filter).unwrap() {
            let deleted = r.is_deleted();
            out.insert((e, r.id), (r.fields, deleted, r.version));
        }
    }
    out
}

fn run_schedule(server: &mut TestServer, seed: u64) -> (u64, u64, u64, u64) {
    let mut run = Run::new(server, seed);
    // Every team starts from a shared household so that officers collide.
    for t in 0..TEAMS.len() {
        let first = t * PER_TEAM;
        run.edit(first);
        for o in first..first + PER_TEAM {
            run.sync_in_process(o).expect("calm start");
        }
    }
    let kinds = [
        FaultKind::DropBeforeUpstream,
        FaultKind::DropAfterUpstream,
        FaultKind::CutResponse,
        FaultKind::Status503,
        FaultKind::Status500,
        FaultKind::Delay,
    ];
    run.proxy.set_random(seed, 0.25, &kinds);
    let steps = run.rng.gen_range(8..16);
    // The administrator's actions come before the backup, so the restore keeps them.
    let backup_at = run.rng.gen_range(2..steps - 2);
    let restore_at = run.rng.gen_range(backup_at + 1..steps);
    let move_at = run.rng.gen_range(0..backup_at);
    let rotate_at = run.rng.gen_range(0..backup_at);
    let backup = run._dir.path().join("backup");
    for step in 0..steps {
        if step == move_at {
            let o = run.rng.gen_range(0..run.officers.len());
            run.move_officer(server, o, seed);
        }
        if step == rotate_at {
            let o = run.rng.gen_range(0..run.officers.len());
            run.rotate_token(server, o, seed);
        }
        if step == backup_at {
            back_up(server, &backup);
            run.trace.push("backup".into());
        }
        if step == restore_at {
            restore(server, &backup);
            run.trace.push("restore".into());
        }
        let o = run.rng.gen_range(0..run.officers.len());
        for _ in 0..run.rng.gen_range(1..5) {
            run.edit(o);
        }
        match run.rng.gen_range(0..10) {
            0..=1 => run.sync_and_kill(o),
            2..=7 => {
                run.sync_in_process(o);
            }
            _ => {}
        }
    }
    run.faults = run.proxy.faults_injected();
    run.proxy.clear();

    // Calm: settle and sync until a whole round changes nothing.
    let mut calm_rounds = 0;
    for round in 0.. {
        assert!(
            round < 12,
            "seed {seed}: no convergence after 12 calm rounds"
        );
        let mut moved = false;
        for o in 0..run.officers.len() {
            run.resolve_all(o);
            run.discard_rejected(o);
            let r = run
                .sync_in_process(o)
                .unwrap_or_else(|| panic!("seed {seed}: a calm sync failed"));
            moved |= r.pushed > 0 || r.pulled > 0 || r.conflicts > 0 || r.rejected > 0;
        }
        if !moved {
            calm_rounds += 1;
            if calm_rounds == 1 {
                break;
            }
        }
    }
    check_invariants(&mut run, server, seed);
    (run.syncs, run.model.counter, run.faults, run.kills)
}

fn check_invariants(run: &mut Run, server: &TestServer, seed: u64) {
    // An auditor per team pulls the server's records from scratch.
    let mut server_view = HashMap::new();
    let mut server_stamps = HashMap::new();
    for team in TEAMS {
        let id = format!("auditor-{team}-{seed}");
        let token = server.add_officer(&id, &team_name(team, seed));
        let db = run._dir.path().join(format!("{id}.sqlite3"));
        let mut store = Store::open(&db).unwrap();
        let mut t = Transport::new(&server.url, &token, false, policy()).unwrap();
        sync(
            &mut store,
            &mut t,
            &SyncOptions::default(),
            &mut NoProgress,
            &|| false,
        )
        .unwrap();
        server_view.insert(team, holdings(&store));
        server_stamps.insert(team, stamps(&store));
    }
    // 1 and 3: every device holds exactly its team's server records; every queue is empty.
    for (o, off) in run.officers.iter().enumerate() {
        let store = Store::open(&off.db).unwrap();
        let q = store.queue_counts().unwrap();
        assert_eq!(
            (q.pending, q.sending, q.rejected),
            (0, 0, 0),
            "seed {seed}: officer {o} has queue entries left"
        );
        assert_eq!(store.conflicts().unwrap().len(), 0, "seed {seed}");
        let mine = holdings(&store);
        let theirs = &server_view[off.team];
        // Records inserted and deleted before they were ever sent stay local tombstones.
        let mine: BTreeMap<_, _> = mine
            .into_iter()
            .filter(|(_, (_, deleted, version))| !(*deleted && version.is_none()))
            .collect();
        if mine != *theirs {
            for (k, v) in mine.iter() {
                if theirs.get(k) != Some(v) {
                    eprintln!("mine {k:?}: {v:?}\n  server: {:?}", theirs.get(k));
                }
            }
            for (k, v) in theirs.iter().filter(|(k, _)| !mine.contains_key(*k)) {
                eprintln!("server only {k:?}: {v:?}");
            }
            eprintln!(
                "trace: {:#?}",
                run.trace
                    .iter()
                    .filter(|l| !l.starts_with("write"))
                    .collect::<Vec<_>>()
            );
        }
        // The server's audit stamps too (no echo, issue 14: a record this device pushed and
        // did not pull back must hold them all the same).
        let my_stamps = stamps(&store);
        for (id, theirs) in &server_stamps[off.team] {
            assert_eq!(
                my_stamps.get(id),
                Some(theirs),
                "seed {seed}: officer {o}'s copy of {id} lacks the server's stamps"
            );
        }
        assert!(
            mine == *theirs,
            "seed {seed}: officer {o} ({}) differs from the server:\n mine {:?}\n server {:?}",
            off.id,
            mine.keys().collect::<Vec<_>>(),
            theirs.keys().collect::<Vec<_>>()
        );
    }
    // 2: every created record reached the server once (in one team), unless it was deleted
    // unsent or its officer discarded the server's refusal.
    for (o, id, entity) in &run.model.created {
        if run.model.discarded.contains(id) {
            continue;
        }
        // Deleted before it was ever sent: a local tombstone, or none once a pull from
        // scratch swept it (the server never had it).
        let local = run.store(*o).get(*entity, *id).unwrap();
        let never_sent = match &local {
            Some(l) => l.is_deleted() && l.version.is_none(),
            None => run.model.deleted.contains(id),
        };
        if never_sent {
            continue;
        }
        let copies = server_view
            .values()
            .filter(|v| v.contains_key(&(*entity, *id)))
            .count();
        assert!(copies <= 1, "seed {seed}: {entity} {id} is in two teams");
        let on_server = server_view.values().find_map(|v| v.get(&(*entity, *id)));
        if on_server.is_none() {
            let id_s = id.to_string();
            eprintln!(
                "trace: {:#?}\nlocal: {:?}",
                run.trace
                    .iter()
                    .filter(|l| l.contains(&id_s) || !l.starts_with("write"))
                    .collect::<Vec<_>>(),
                run.store(*o).get(*entity, *id).unwrap()
            );
        }
        assert!(
            on_server.is_some(),
            "seed {seed}: {entity} {id} by officer {o} was lost"
        );
    }
    // 4: every collision surfaced.
    for ((o, id, field), v) in &run.model.last_write {
        let Some((_, (fields, deleted, _))) = server_view
            .values()
            .flat_map(|v| v.iter())
            .find(|((_, rid), _)| rid == id)
        else {
            continue; // deleted before it was ever sent
        };
        let final_value = fields
            .get(field)
            .and_then(Value::as_str)
            .map(str::to_string);
        if final_value.as_deref() == Some(v.as_str()) {
            continue;
        }
        let writes = &run.model.overwrote[&(*id, field.clone())];
        // Walk back from the final value (or the deleter's view) through what each writer saw.
        let mut starts: Vec<Option<String>> = vec![final_value.clone()];
        if *deleted {
            starts.extend(
                writes
                    .iter()
                    .filter(|(k, _)| k.starts_with("deleted-by-"))
                    .map(|(k, _)| Some(k.clone())),
            );
        }
        let superseded = starts.into_iter().any(|start| {
            let mut cur = start;
            let mut hops = 0;
            while let Some(c) = cur {
                if c == *v {
                    return true;
                }
                hops += 1;
                if hops > 10_000 {
                    break;
                }
                cur = writes.get(&c).cloned().flatten();
            }
            false
        });
        if !(superseded || run.model.surfaced.contains(id)) {
            eprintln!("writes of {id}.{field}: {writes:?}");
            eprintln!(
                "last writes: {:?}",
                run.model
                    .last_write
                    .iter()
                    .filter(|((_, r, f), _)| r == id && f == field)
                    .collect::<Vec<_>>()
            );
            eprintln!(
                "trace: {:?}",
                run.trace
                    .iter()
                    .filter(|l| l.contains(&id.to_string()) || !l.starts_with("write"))
                    .collect::<Vec<_>>()
            );
        }
        assert!(
            superseded || run.model.surfaced.contains(id),
            "seed {seed}: officer {o}'s write {v:?} to {id}.{field} was overwritten by {final_value:?} without anyone seeing it and without a conflict"
        );
    }
}

fn schedules() -> Vec<u64> {
    if let Ok(seed) = std::env::var("FIELDSYNC_CONVERGENCE_SEED") {
        return vec![seed
            .parse()
            .expect("FIELDSYNC_CONVERGENCE_SEED is a number")];
    }
    let n: u64 = std::env::var("FIELDSYNC_CONVERGENCE_SCHEDULES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(50);
    (1..=n).collect()
}

fn convergence(kind: StoreKind) {
    let mut server = TestServer::new(kind);
    let mut totals = (0, 0, 0, 0);
    let seeds = schedules();
    for &seed in &seeds {
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            run_schedule(&mut server, seed)
        }));
        match r {
            Ok((syncs, writes, faults, kills)) => {
                totals.0 += syncs;
                totals.1 += writes;
                totals.2 += faults;
                totals.3 += kills;
            }
            Err(e) => {
                eprintln!(
                    "convergence failed on {kind:?} with seed {seed}: re-run with FIELDSYNC_CONVERGENCE_SEED={seed}"
                );
                std::panic::resume_unwind(e);
            }
        }
    }
    eprintln!(
        "convergence {kind:?}: {} schedules, {} syncs, {} writes, {} faults injected, {} clients killed, 0 losses",
        seeds.len(),
        totals.0,
        totals.1,
        totals.2,
        totals.3
    );
}

#[test]
fn converges_on_sqlite() {
    convergence(StoreKind::Sqlite);
}

#[test]
fn converges_on_postgres() {
    convergence(StoreKind::Postgres);
}
