//! Per-team versions (issue 14, item 3): every team has its own version counter and write
//! lock. Many teams pushing at once (over two server processes on PostgreSQL) never make a
//! cursor skip and each team's versions stay a gap-free sequence; a held lock of one team
//! never delays another team's push; the restore check compares a device's versions with
//! its own team's history (and its previous team's after a move); a write never crosses
//! teams; all-team incremental exports are exact through a per-team watermark.

mod support;

use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use fieldsync::model::{EntityType, FieldMap, Operation};
use fieldsync::protocol::{Change, PullResponse, PushRequest};
use fieldsync::server::store::{self, Store, StoredRecord, WriteKeys, WriteSet};
use fieldsync::server::PullQuery;
use fieldsync::server::{Service, ServiceError, StoreError};
use reqwest::StatusCode;
use serde_json::{json, Value};
use support::body::{household, push_request, uid};
use support::http::{pull_raw, push, JsonReq};
use support::server::admin;
use support::{both_stores, pg, StoreKind, TestServer};
use uuid::Uuid;

fn accepted_version(r: &fieldsync::protocol::ChangeResult) -> i64 {
    r.version.unwrap_or_else(|| panic!("not accepted: {r:?}"))
}

/// Pulls `token`'s team page by page (7 at a time) until `done` is set and one last full
/// pass found nothing more; every (id, version) seen, in the order received.
fn pull_until(url: String, token: String, done: Arc<AtomicBool>) -> Vec<(Uuid, i64)> {
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let finished = done.load(Ordering::SeqCst);
        loop {
            let q = match &cursor {
                Some(c) => format!("?cursor={c}&limit=7"),
                None => "?limit=7".into(),
            };
            let (st, b) = pull_raw(&url, &token, &q);
            assert_eq!(st, StatusCode::OK, "{b}");
            let p: PullResponse = serde_json::from_value(b).unwrap();
            seen.extend(p.records.iter().map(|r| (r.id, r.version)));
            cursor = Some(p.next_cursor);
            if !p.has_more {
                break;
            }
        }
        if finished {
            return seen;
        }
    }
}

/// Many teams push at once (PostgreSQL: over two server processes sharing the database)
/// while one reader per team pulls: each reader receives every accepted change of its team
/// exactly once, in strictly increasing version order, and each team's versions are the
/// gap-free sequence 1, 2, 3…
fn many_teams_pushing_at_once_never_make_a_cursor_skip(kind: StoreKind) {
    const TEAMS: usize = 6;
    const PUSHERS_PER_TEAM: usize = 2;
    const BATCHES: usize = 10;
    const PER: usize = 6;
    let s = TestServer::new(kind);
    let s2 = (kind == StoreKind::Postgres).then(|| s.second());
    let urls: Vec<String> = std::iter::once(s.url.clone())
        .chain(s2.iter().map(|x| x.url.clone()))
        .collect();
    let teams: Vec<String> = (0..TEAMS).map(|t| format!("team{t}")).collect();
    let done = Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = teams
        .iter()
        .map(|team| {
            let token = s.add_officer(&format!("reader-{team}"), team);
            let (url, done) = (s.url.clone(), done.clone());
            std::thread::spawn(move || pull_until(url, token, done))
        })
        .collect();
    let mut pushers = Vec::new();
    for (t, team) in teams.iter().enumerate() {
        for p in 0..PUSHERS_PER_TEAM {
            let token = s.add_officer(&format!("p{p}-{team}"), team);
            let url = urls[(t + p) % urls.len()].clone();
            pushers.push((
                t,
                std::thread::spawn(move || {
                    let dev = uid();
                    let mut acc = Vec::new();
                    for _ in 0..BATCHES {
                        let ids: Vec<Uuid> = (0..PER).map(|_| uid()).collect();
                        let changes = ids.iter().map(|i| household(*i, "h")).collect();
                        let results = push(&url, &token, dev, changes);
                        for (id, r) in ids.iter().zip(&results) {
                            acc.push((*id, accepted_version(r)));
                        }
                    }
                    acc
                }),
            ));
        }
    }
    let mut pushed: Vec<Vec<(Uuid, i64)>> = vec![Vec::new(); TEAMS];
    for (t, p) in pushers {
        pushed[t].extend(p.join().unwrap());
    }
    done.store(true, Ordering::SeqCst);
    for (t, reader) in readers.into_iter().enumerate() {
        let seen = reader.join().unwrap();
        let mut expected = pushed[t].clone();
        expected.sort_by_key(|x| x.1);
        assert_eq!(expected.len(), PUSHERS_PER_TEAM * BATCHES * PER);
        assert!(
            seen.windows(2).all(|w| w[0].1 < w[1].1),
            "team{t}: pull order broke"
        );
        assert_eq!(
            seen, expected,
            "team{t}: the reader missed or repeated changes"
        );
        let versions: Vec<i64> = expected.iter().map(|x| x.1).collect();
        assert_eq!(
            versions,
            (1..=expected.len() as i64).collect::<Vec<_>>(),
            "team{t}: versions are not gap-free"
        );
    }
}

/// A `psql` session holding `team`'s write lock (its `team_versions` row, `FOR UPDATE`) for
/// `secs`; returns once the lock is held.
fn hold_team_lock(db: &str, team: &str, secs: u32) -> Child {
    let child = Command::new(pg::tool("psql"))
        .args([
            db,
            "-qAt",
            "-c",
            &format!(
                "BEGIN; SELECT version FROM team_versions WHERE team = '{team}' FOR UPDATE; SELECT pg_sleep({secs}); COMMIT;"
            ),
        ])
        .stdout(Stdio::null())
        .spawn()
        .expect("spawn psql");
    std::thread::sleep(Duration::from_millis(500));
    child
}

/// One push of a new household with a client timeout: the status, or `None` when the client
/// gave up waiting.
fn push_within(url: &str, token: &str, timeout: Duration) -> Option<StatusCode> {
    reqwest::blocking::Client::builder()
        .timeout(timeout)
        .build()
        .expect("client")
        .post(format!("{url}/v1/push"))
        .bearer_auth(token)
        .json_body(&push_request(uid(), vec![household(uid(), "x")]))
        .send()
        .ok()
        .map(|r| r.status())
}

/// PostgreSQL: while team south's write lock is held from outside, pushes of team north and
/// of a team that never wrote before (its counter row is created on the way) answer at once,
/// through either of two server processes; a push of south waits for the lock.
#[test]
fn a_held_team_lock_never_delays_another_teams_push() {
    let s = TestServer::postgres();
    let s2 = s.second();
    let south = s.add_officer("chen", "south");
    let north = s.add_officer("amina", "north");
    let east = s.add_officer("dara", "east");
    // Both teams have written once: their rows exist.
    for token in [&south, &north] {
        assert_eq!(
            push_within(&s.url, token, Duration::from_secs(10)),
            Some(StatusCode::OK)
        );
    }
    let mut lock = hold_team_lock(&s.db, "south", 12);
    let started = Instant::now();
    assert_eq!(
        push_within(&s.url, &south, Duration::from_millis(1500)),
        None,
        "south's push must wait for south's lock"
    );
    for (url, token) in [(&s.url, &north), (&s2.url, &north), (&s2.url, &east)] {
        let t = Instant::now();
        assert_eq!(
            push_within(url, token, Duration::from_secs(10)),
            Some(StatusCode::OK)
        );
        assert!(
            t.elapsed() < Duration::from_secs(3),
            "another team's push waited {:?} for south's lock",
            t.elapsed()
        );
    }
    assert!(
        started.elapsed() < Duration::from_secs(11),
        "the lock was released before the other teams pushed: the test proves nothing"
    );
    assert!(lock.wait().unwrap().success());
    assert_eq!(
        push_within(&s.url, &south, Duration::from_secs(10)),
        Some(StatusCode::OK)
    );
}

/// A fresh store of the kind; the TempDir keeps a SQLite file alive.
async fn open(kind: StoreKind) -> (Arc<dyn Store>, Option<tempfile::TempDir>) {
    match kind {
        StoreKind::Sqlite => {
            let dir = tempfile::tempdir().unwrap();
            let p = dir.path().join("s.sqlite3").display().to_string();
            (store::open(&p).await.unwrap(), Some(dir))
        }
        StoreKind::Postgres => {
            let url = tokio::task::spawn_blocking(pg::fresh_database)
                .await
                .unwrap();
            (store::open(&url).await.unwrap(), None)
        }
    }
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn insert(name: &str) -> Change {
    let mut fields = FieldMap::new();
    fields.insert("name".into(), json!(name));
    Change {
        op_id: Uuid::new_v4(),
        entity_type: EntityType::Household,
        entity_id: Uuid::new_v4(),
        operation: Operation::Insert,
        base_version: None,
        fields,
    }
}

fn batch(n: usize) -> PushRequest {
    PushRequest {
        device_id: Uuid::new_v4(),
        changes: (0..n).map(|i| insert(&format!("h{i}"))).collect(),
        sequence: None,
    }
}

fn behind(r: Result<impl std::fmt::Debug, ServiceError>) -> i64 {
    match r {
        Err(ServiceError::ServerBehind { current }) => current,
        other => panic!("expected server_behind, got {other:?}"),
    }
}

/// The `fieldsync-seen` check compares a device's versions with its team's history: a
/// version another team handed out is not held by a team that never reached it; a start's
/// jump records a gap per team; a team that first writes after a jump starts above it (and
/// never held anything below); after a move, a device still holding its old team's records
/// is checked against the team before the move too.
fn the_restore_check_is_per_team(kind: StoreKind) {
    rt().block_on(async {
        let (st, _d) = open(kind).await;
        let svc = Service::new(st.clone()).await.unwrap();
        let amina_token = svc.add_officer("amina", "north").await.unwrap();
        let chen_token = svc.add_officer("chen", "south").await.unwrap();
        let amina = svc.authenticate(&amina_token).await.unwrap();
        let chen = svc.authenticate(&chen_token).await.unwrap();
        svc.push(&amina, batch(3)).await.unwrap();
        svc.push(&chen, batch(1)).await.unwrap();
        // North handed out 3, south only 1.
        svc.push_seen(&amina, batch(0), Some(3)).await.unwrap();
        assert_eq!(behind(svc.push_seen(&chen, batch(0), Some(3)).await), 1);
        // A start jumps every team to 1000: (3, 1000] is north's gap, (1, 1000] south's.
        st.skip_versions(1000).await.unwrap();
        assert_eq!(st.team_version("north").await.unwrap(), 1000);
        assert_eq!(behind(svc.push_seen(&amina, batch(0), Some(500)).await), 3);
        assert_eq!(behind(svc.push_seen(&chen, batch(0), Some(500)).await), 1);
        let pushed = svc.push(&chen, batch(1)).await.unwrap();
        assert_eq!(pushed.results[0].version, Some(1001));
        // A team that first writes after the jump starts at it and holds nothing below.
        let eve_token = svc.add_officer("eve", "east").await.unwrap();
        let eve = svc.authenticate(&eve_token).await.unwrap();
        let first = svc.push(&eve, batch(1)).await.unwrap();
        assert_eq!(first.results[0].version, Some(1001));
        assert_eq!(behind(svc.push_seen(&eve, batch(0), Some(5)).await), 0);
        // Amina moves to south: her device still holds north's 3 (a version south skipped).
        svc.move_officer("amina", "south").await.unwrap();
        let moved = svc.authenticate(&amina_token).await.unwrap();
        svc.push_seen(&moved, batch(0), Some(3)).await.unwrap();
        let page = svc
            .pull(
                &moved,
                PullQuery {
                    seen: Some(3),
                    ..PullQuery::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(page.records.len(), 2, "south's records");
        // What neither team ever handed out is still refused.
        assert_eq!(behind(svc.push_seen(&moved, batch(0), Some(500)).await), 1);
        assert_eq!(st.current_version().await.unwrap(), 1001);
    });
}

/// A move raises the new team's counter to the old team's, so a push made after the move is
/// above every version the device held before it: when a restore loses that push, the
/// device's highest version is the lost one and the restored server says so (SQLite: a real
/// backup and restore, as `admin backup` makes).
#[test]
fn a_push_lost_after_a_move_is_not_hidden_by_the_old_teams_versions() {
    rt().block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("s.sqlite3");
        let svc = Service::open(&db.display().to_string()).await.unwrap();
        let token = svc.add_officer("amina", "north").await.unwrap();
        let chen = svc.add_officer("chen", "south").await.unwrap();
        let amina = svc.authenticate(&token).await.unwrap();
        let chen = svc.authenticate(&chen).await.unwrap();
        svc.push(&amina, batch(5)).await.unwrap();
        svc.push(&chen, batch(1)).await.unwrap();
        svc.move_officer("amina", "south").await.unwrap();
        let backup = dir.path().join("backup.sqlite3");
        svc.backup(&backup).await.unwrap();
        let moved = svc.authenticate(&token).await.unwrap();
        let lost = svc.push(&moved, batch(1)).await.unwrap();
        // Above north's 5, which the device also holds.
        assert_eq!(lost.results[0].version, Some(6));
        drop(svc);
        let restored = Service::open(&backup.display().to_string()).await.unwrap();
        restored.begin_run().await.unwrap();
        let moved = restored.authenticate(&token).await.unwrap();
        // The device holds north's 1..5 and the lost 6: it names 6.
        assert_eq!(
            behind(restored.push_seen(&moved, batch(0), Some(6)).await),
            5
        );
        // Before that push it held north's 5 only: still fine.
        restored.push_seen(&moved, batch(0), Some(5)).await.unwrap();
    });
}

/// A write stores records of its own team only: one naming another team's record is
/// refused as a whole and changes nothing.
fn a_write_never_crosses_teams(kind: StoreKind) {
    rt().block_on(async {
        let (st, _d) = open(kind).await;
        let record = |team: &str, version| StoredRecord {
            server_id: version,
            entity_type: EntityType::Household,
            id: Uuid::new_v4(),
            team: team.to_string(),
            version,
            deleted: false,
            deleted_by: None,
            fields: FieldMap::new(),
            stamps: Default::default(),
            audit: Default::default(),
            echo_device: None,
        };
        let records = vec![record("north", 1), record("south", 2)];
        let keys = WriteKeys {
            team: "north".into(),
            ..WriteKeys::default()
        };
        let set = WriteSet {
            records,
            version: 2,
            server_id: 2,
            ..WriteSet::default()
        };
        let err = st.write(keys, Box::new(move |_| set)).await.unwrap_err();
        assert!(matches!(err, StoreError::CrossTeam(_)), "{err}");
        assert!(st
            .pull("north", 0, 10, None)
            .await
            .unwrap()
            .records
            .is_empty());
        assert!(st
            .pull("south", 0, 10, None)
            .await
            .unwrap()
            .records
            .is_empty());
        assert_eq!(st.team_version("north").await.unwrap(), 0);
    });
}

/// `admin export` of one type; (ids by team, stderr).
fn export(db: &str, args: &[&str]) -> (BTreeMap<String, Vec<String>>, String) {
    let mut a = vec!["export", "--format", "jsonl", "--entity", "household"];
    a.extend_from_slice(args);
    let (code, out, err) = admin(db, &a);
    assert_eq!(code, 0, "admin export {args:?}: {err}");
    let mut ids: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for line in out.lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        let team = v["team"].as_str().unwrap().to_string();
        ids.entry(team)
            .or_default()
            .push(v["id"].as_str().unwrap().to_string());
    }
    (ids, err)
}

fn next_since(stderr: &str) -> String {
    stderr
        .split("next: --since ")
        .nth(1)
        .unwrap_or_else(|| panic!("no next --since in {stderr:?}"))
        .trim()
        .to_string()
}

/// An all-team incremental export passes the watermark the previous one printed (one
/// version per team) and gets exactly what changed since, in every team, even where a
/// team's new versions are below another team's; `--team T --since V` stays a plain
/// version. A malformed `--since` is a usage error.
fn all_team_exports_resume_from_a_watermark(kind: StoreKind) {
    let s = TestServer::new(kind);
    let north = s.add_officer("amina", "north");
    let south = s.add_officer("chen", "south");
    let households = |token: &str, n: usize| -> Vec<String> {
        let ids: Vec<Uuid> = (0..n).map(|_| uid()).collect();
        push(
            &s.url,
            token,
            uid(),
            ids.iter().map(|i| household(*i, "h")).collect(),
        );
        ids.iter().map(Uuid::to_string).collect()
    };
    let n1 = households(&north, 5);
    let s1 = households(&south, 1);
    let (first, err) = export(&s.db, &[]);
    assert_eq!(first["north"], n1);
    assert_eq!(first["south"], s1);
    let mark = next_since(&err);
    assert_eq!(mark, "north:5,south:1");
    // A plain number above a team's counter: the next watermark names the team's counter,
    // not the number, so south's next versions (2, 3) are not skipped by the next export.
    let (none, err) = export(&s.db, &["--since", "5"]);
    assert!(none.is_empty(), "{none:?}");
    assert_eq!(next_since(&err), "north:5,south:1");
    let (_, err) = export(&s.db, &["--team", "south", "--since", "9"]);
    assert_eq!(next_since(&err), "1");
    // South's next versions (2, 3) are below north's 5: a single number would skip them.
    let s2 = households(&south, 2);
    let (next, err) = export(&s.db, &["--since", &mark]);
    assert_eq!(next.get("south"), Some(&s2));
    assert_eq!(next.get("north"), None);
    assert_eq!(next_since(&err), "north:5,south:3");
    // A team the watermark does not name (it first wrote after it) comes whole.
    let w1 = households(&s.add_officer("dara", "west"), 2);
    let (next, _) = export(&s.db, &["--since", "north:5,south:3"]);
    assert_eq!(next.get("west"), Some(&w1));
    assert_eq!(next.len(), 1);
    // One team: a plain version, exact.
    let (one, err) = export(&s.db, &["--team", "south", "--since", "1"]);
    assert_eq!(one.get("south"), Some(&s2));
    assert_eq!(one.len(), 1);
    assert_eq!(next_since(&err), "3");
    for bad in ["north:x", "north", "-1", "north:1,north:2", "no spaces:1"] {
        let (code, _, err) = admin(&s.db, &["export", "--entity", "household", "--since", bad]);
        assert_eq!(code, 2, "--since {bad}: {err}");
    }
}

/// SQL that turns a fresh database into one an older build (schema 5, one global counter)
/// left behind: north's record at version 41, server id 7; a skipped range (10, 20].
const BACK_TO_SCHEMA_5: &str = "
    ALTER TABLE records DROP COLUMN echo_device;
    DROP INDEX ops_by_age; DROP INDEX ops_by_device_seq; DROP TABLE device_ops;
    ALTER TABLE ops DROP COLUMN device_id; ALTER TABLE ops DROP COLUMN seq;
    ALTER TABLE ops DROP COLUMN stored_at;
    DROP TABLE team_versions;
    DROP TABLE team_version_gaps;
    ALTER TABLE officers DROP COLUMN previous_team;
    ALTER TABLE officers DROP COLUMN moved_at_version;
    DELETE FROM meta WHERE key = 'version_base';
    UPDATE meta SET value = '5' WHERE key = 'schema_version';
    UPDATE version_counter SET version = 41, server_id = 7;
    INSERT INTO version_gaps (after, upto) VALUES (10, 20);
    INSERT INTO records (id, server_id, entity_type, team, version, deleted, deleted_by, fields, stamps, audit)
        VALUES ('0190b3e4-0000-7000-8000-000000000001', 7, 'household', 'north', 41, false, NULL,
                '{\"name\":\"old\"}', '{}', '{}');";

/// A database of the global counter (schema 5) migrates to per-team versions: every team it
/// knew continues from the global counter, so every version a device holds stays held (the
/// older skipped ranges apply to every team), a new team starts there too, and server ids
/// continue above the old ones.
fn an_older_database_continues_from_its_global_counter(kind: StoreKind) {
    rt().block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let db = match kind {
            StoreKind::Sqlite => dir.path().join("s.sqlite3").display().to_string(),
            StoreKind::Postgres => tokio::task::spawn_blocking(pg::fresh_database)
                .await
                .unwrap(),
        };
        let svc = Service::open(&db).await.unwrap();
        let amina_token = svc.add_officer("amina", "north").await.unwrap();
        let chen_token = svc.add_officer("chen", "south").await.unwrap();
        drop(svc);
        match kind {
            StoreKind::Sqlite => {
                let c = rusqlite::Connection::open(&db).unwrap();
                c.execute_batch(BACK_TO_SCHEMA_5).unwrap();
            }
            StoreKind::Postgres => {
                let sql = format!("{BACK_TO_SCHEMA_5} DROP SEQUENCE record_server_ids;");
                let url = db.clone();
                let status = tokio::task::spawn_blocking(move || {
                    Command::new(pg::tool("psql"))
                        .args([url.as_str(), "-v", "ON_ERROR_STOP=1", "-qAt", "-c", &sql])
                        .status()
                        .expect("run psql")
                })
                .await
                .unwrap();
                assert!(status.success());
            }
        }
        let svc = Service::open(&db).await.unwrap();
        assert_eq!(svc.stats().await.unwrap().schema_version, 8);
        let amina = svc.authenticate(&amina_token).await.unwrap();
        let chen = svc.authenticate(&chen_token).await.unwrap();
        // Version 41 stays held in both old teams; 15 lies in the old skipped range.
        svc.push_seen(&amina, batch(0), Some(41)).await.unwrap();
        svc.push_seen(&chen, batch(0), Some(41)).await.unwrap();
        assert_eq!(behind(svc.push_seen(&chen, batch(0), Some(15)).await), 10);
        let pushed = svc.push(&amina, batch(1)).await.unwrap();
        assert_eq!(pushed.results[0].version, Some(42));
        assert!(pushed.results[0].server_id.is_some_and(|id| id > 7));
        assert_eq!(
            svc.push(&chen, batch(1)).await.unwrap().results[0].version,
            Some(42)
        );
        let eve = svc.add_officer("eve", "east").await.unwrap();
        let eve = svc.authenticate(&eve).await.unwrap();
        assert_eq!(
            svc.push(&eve, batch(1)).await.unwrap().results[0].version,
            Some(42)
        );
        assert_eq!(behind(svc.push_seen(&eve, batch(0), Some(30)).await), 0);
        let page = svc.pull(&amina, PullQuery::default()).await.unwrap();
        assert_eq!(page.records.len(), 2, "the old record and the new one");
    });
}

both_stores!(
    an_older_database_continues_from_its_global_counter,
    many_teams_pushing_at_once_never_make_a_cursor_skip,
    the_restore_check_is_per_team,
    a_write_never_crosses_teams,
    all_team_exports_resume_from_a_watermark,
);
