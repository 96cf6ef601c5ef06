//! The pull's read-ahead (phase E): the next page is fetched while one is stored, yet every
//! page is stored once, in cursor order, with its cursor; a failure or a stop part-way
//! leaves the last stored page's cursor and the next sync resumes from it with nothing lost
//! or stored twice; local work that appears during the pull (an unsent edit, a conflict)
//! is kept. Over HTTP on both stores.

mod support;

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use fieldsync::client::remote::{PullAsk, Remote, RemoteError, Traffic};
use fieldsync::client::store::{meta, ListFilter, LocalRecord, Store, SyncState};
use fieldsync::client::sync::{sync, NoProgress, SyncOptions, SyncReport};
use fieldsync::client::transport::{RetryPolicy, Transport};
use fieldsync::client::Error;
use fieldsync::model::{EntityType, FieldMap};
use fieldsync::protocol::{HealthResponse, PullResponse, PushRequest, PushResponse};
use serde_json::{json, Value};
use support::{both_stores, StoreKind, TestServer};
use uuid::Uuid;

/// Records at the server (one household, its visits) and the page size of the pulls.
const VISITS: usize = 120;
const PAGE: u32 = 10;

/// What to do when the pull of a given page (1-based, counted over the remote's life) is
/// asked or answered.
type Hook = Box<dyn FnMut() + Send>;

/// A remote that remembers every pull it made and every page it answered, and can fail one
/// pull, raise the stop flag after a page, or run a hook when a page is answered.
struct Recorder {
    inner: Transport,
    /// (cursor asked, next cursor answered, versions of the page) per answered pull.
    pages: Vec<(Option<String>, String, Vec<i64>)>,
    /// Whether each pull named the device (so the server may leave out its own pushes).
    named: Vec<bool>,
    pulls: u32,
    fail_pull: Option<u32>,
    stop_after: Option<(u32, Arc<AtomicBool>)>,
    on_page: Option<(u32, Hook)>,
}

impl Recorder {
    fn new(inner: Transport) -> Recorder {
        Recorder {
            inner,
            pages: Vec::new(),
            named: Vec::new(),
            pulls: 0,
            fail_pull: None,
            stop_after: None,
            on_page: None,
        }
    }
}

impl Remote for Recorder {
    fn health(&mut self) -> Result<HealthResponse, RemoteError> {
        self.inner.health()
    }
    fn push(&mut self, req: &PushRequest, seen: Option<i64>) -> Result<PushResponse, RemoteError> {
        self.inner.push(req, seen)
    }
    fn pull(&mut self, ask: &PullAsk<'_>) -> Result<PullResponse, RemoteError> {
        self.pulls += 1;
        self.named.push(ask.device.is_some());
        if self.fail_pull == Some(self.pulls) {
            return Err(RemoteError::Offline("cannot connect (test)".into()));
        }
        let page = self.inner.pull(ask)?;
        let versions = page.records.iter().map(|r| r.version).collect();
        let asked = ask.cursor.map(str::to_string);
        self.pages.push((asked, page.next_cursor.clone(), versions));
        if let Some((n, hook)) = &mut self.on_page {
            if *n == self.pulls {
                hook();
            }
        }
        if let Some((n, flag)) = &self.stop_after {
            if *n == self.pulls {
                flag.store(true, Ordering::SeqCst);
            }
        }
        Ok(page)
    }
    fn traffic(&self) -> Traffic {
        self.inner.traffic()
    }
}

fn fields(v: Value) -> FieldMap {
    serde_json::from_value(v).expect("a field map")
}

fn policy() -> RetryPolicy {
    RetryPolicy {
        attempts: 1,
        base: Duration::from_millis(5),
        max_delay: Duration::from_millis(40),
        connect_timeout: Duration::from_secs(2),
        request_timeout: Duration::from_secs(10),
    }
}

fn transport(server: &TestServer, token: &str) -> Transport {
    Transport::new(&server.url, token, false, policy()).expect("transport")
}

fn laptop(path: &Path, officer: &str) -> Store {
    let store = Store::open(path).expect("a device database");
    store.claim_officer(officer).expect("claim");
    store
}

fn run(
    store: &mut Store,
    remote: &mut (dyn Remote + Send),
    stop: &AtomicBool,
) -> Result<SyncReport, Error> {
    let opts = SyncOptions {
        pull_limit: PAGE,
        ..SyncOptions::default()
    };
    sync(store, remote, &opts, &mut NoProgress, &|| {
        stop.load(Ordering::SeqCst)
    })
}

fn no_stop() -> AtomicBool {
    AtomicBool::new(false)
}

/// A server, the two officers' tokens and amina's records.
struct Fixture {
    server: TestServer,
    amina: String,
    bert: String,
    visits: Vec<Uuid>,
}

/// A server whose team `north` holds one household and [`VISITS`] visits by `amina` (her
/// laptop is `amina.sqlite3` in `dir`), every seventh edited afterwards (so versions
/// interleave across records).
fn server_with_records(kind: StoreKind, dir: &Path) -> Fixture {
    let server = TestServer::new(kind);
    let amina = server.add_officer("amina", "north");
    let bert = server.add_officer("bert", "north");
    let mut a = laptop(&dir.join("amina.sqlite3"), "amina");
    let h = a
        .add(EntityType::Household, fields(json!({"name": "Wanjiru"})))
        .expect("household");
    let mut visits = Vec::new();
    for i in 0..VISITS {
        let v = json!({
            "household_id": h.to_string(),
            "officer_id": "amina",
            "visited_at": "2026-11-25T09:30:00Z",
            "notes": format!("visit {i}"),
        });
        visits.push(a.add(EntityType::Visit, fields(v)).expect("visit"));
    }
    let mut t = transport(&server, &amina);
    run(&mut a, &mut t, &no_stop()).expect("amina's first sync");
    for (i, v) in visits.iter().enumerate().step_by(7) {
        a.edit(
            EntityType::Visit,
            *v,
            fields(json!({"notes": format!("again {i}")})),
        )
        .expect("edit");
    }
    run(&mut a, &mut t, &no_stop()).expect("amina's second sync");
    Fixture {
        server,
        amina,
        bert,
        visits,
    }
}

/// Every record a device holds, by id.
fn holdings(store: &Store) -> Vec<LocalRecord> {
    let filter = ListFilter {
        deleted: true,
        ..Default::default()
    };
    let mut all = Vec::new();
    for e in EntityType::ALL {
        all.extend(store.list(e, &filter).expect("list"));
    }
    all.sort_by_key(|r| r.id);
    all
}

/// What a device pulling everything in one page holds: the server's records.
fn the_servers(server: &TestServer, token: &str, dir: &Path) -> Vec<LocalRecord> {
    let own = tempfile::tempdir_in(dir).expect("dir");
    let mut fresh = laptop(&own.path().join("fresh.sqlite3"), "bert");
    let mut t = transport(server, token);
    let opts = SyncOptions::default();
    sync(&mut fresh, &mut t, &opts, &mut NoProgress, &|| false).expect("a fresh pull");
    holdings(&fresh)
}

/// The pages the device stored, as the recorder saw them answered: each asked with the
/// cursor the one before ended at (a guessed page dropped unread is asked again with the
/// same cursor, so consecutive duplicates of an ask are the same page).
fn stored_chain(rec: &Recorder) -> Vec<(Option<String>, String, Vec<i64>)> {
    let mut chain: Vec<(Option<String>, String, Vec<i64>)> = Vec::new();
    for page in &rec.pages {
        match chain.last() {
            Some(last) if last.0 == page.0 => {
                let last = chain.len() - 1;
                chain[last] = page.clone();
            }
            _ => chain.push(page.clone()),
        }
    }
    chain
}

/// The versions of the records stored on the device in the order they were first written
/// (their row ids), which must be the order of the pages.
fn versions_in_write_order(db: &Path) -> Vec<i64> {
    let conn = rusqlite::Connection::open(db).expect("a second connection");
    let mut st = conn
        .prepare(
            "SELECT version FROM (SELECT rowid AS r, version, 0 AS t FROM household
             UNION ALL SELECT rowid, version, 1 FROM visit) ORDER BY t, r",
        )
        .expect("prepare");
    st.query_map([], |r| r.get(0))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("versions")
}

/// A fresh device pulls every record once, in order: the stored pages form one chain of
/// cursors, the report counts each record once, and the device holds the server's records.
fn a_fresh_pull_stores_each_page_once_in_order(kind: StoreKind) {
    let dir = tempfile::tempdir().expect("dir");
    let Fixture { server, bert, .. } = server_with_records(kind, dir.path());
    let db = dir.path().join("bert.sqlite3");
    let mut b = laptop(&db, "bert");
    let mut rec = Recorder::new(transport(&server, &bert));
    let report = run(&mut b, &mut rec, &no_stop()).expect("sync");
    assert_eq!(report.pulled, VISITS as u64 + 1);
    let chain = stored_chain(&rec);
    assert!(
        chain.len() as u32 >= (VISITS as u32 + 1) / PAGE,
        "{} pages",
        chain.len()
    );
    for pair in chain.windows(2) {
        assert_eq!(
            pair[1].0.as_deref(),
            Some(pair[0].1.as_str()),
            "cursors chain"
        );
    }
    let delivered: Vec<i64> = chain.iter().flat_map(|p| p.2.clone()).collect();
    assert!(
        delivered.windows(2).all(|w| w[0] < w[1]),
        "pages in version order"
    );
    assert_eq!(delivered.len(), VISITS + 1, "each record delivered once");
    let mut written = versions_in_write_order(&db);
    written.sort_unstable();
    assert_eq!(written, {
        let mut d = delivered.clone();
        d.sort_unstable();
        d
    });
    assert_eq!(
        b.meta(meta::PULL_CURSOR).expect("cursor"),
        chain.last().map(|p| p.1.clone())
    );
    assert_eq!(holdings(&b), the_servers(&server, &bert, dir.path()));
}

/// A laptop that holds nothing needs no sweep on its first pull (nothing the server dropped
/// can be on it): every page after the first names the device, the read-ahead guesses each
/// one right (one request per page), and it ends holding what the server holds. Once it
/// holds records, a pull from scratch sweeps again: no page names the device, so its own
/// records come back too, and still one request per page.
fn a_fresh_laptop_pulls_without_a_sweep(kind: StoreKind) {
    let dir = tempfile::tempdir().expect("dir");
    let Fixture { server, bert, .. } = server_with_records(kind, dir.path());
    let mut b = laptop(&dir.path().join("bert.sqlite3"), "bert");
    let mut rec = Recorder::new(transport(&server, &bert));
    let report = run(&mut b, &mut rec, &no_stop()).expect("sync");
    assert_eq!(report.pulled, VISITS as u64 + 1);
    assert!(!b.sweeping().expect("sweep flag"));
    let pages = rec.pages.len();
    assert!(pages as u32 > (VISITS as u32 + 1) / PAGE, "{pages} pages");
    assert_eq!(rec.pulls as usize, pages, "a request per page, none wasted");
    assert!(!rec.named[0], "the first page is asked from scratch");
    assert!(rec.named[1..].iter().all(|&n| n), "{:?}", rec.named);
    assert_eq!(holdings(&b), the_servers(&server, &bert, dir.path()));

    b.reset_cursor().expect("reset");
    let mut again = Recorder::new(transport(&server, &bert));
    let report = run(&mut b, &mut again, &no_stop()).expect("a pull from scratch");
    assert_eq!(
        report.pulled,
        VISITS as u64 + 1,
        "a sweep brings everything"
    );
    assert_eq!(again.pulls as usize, again.pages.len(), "none wasted");
    assert!(again.named.iter().all(|&n| !n), "{:?}", again.named);
    assert!(!b.sweeping().expect("sweep flag"), "the sweep ended");
    assert_eq!(holdings(&b), the_servers(&server, &bert, dir.path()));
}

/// A laptop's first sync, after a week of work offline: its push sends its records once and
/// its pull brings only the others' (no sweep: what it holds is its own work, now the
/// server's), one request per page. A laptop whose first pull failed after its push was
/// accepted holds records from the server at its next sync, so that pull sweeps and brings
/// everything back (its own records too): a move or a restore in between cannot strand it.
fn a_laptops_first_sync_does_not_pull_back_what_it_pushed(kind: StoreKind) {
    let dir = tempfile::tempdir().expect("dir");
    let Fixture { server, .. } = server_with_records(kind, dir.path());
    let offline_week = |name: &str| {
        let mut l = laptop(&dir.path().join(format!("{name}.sqlite3")), name);
        let h = l
            .add(EntityType::Household, fields(json!({"name": name})))
            .expect("household");
        for i in 0..15 {
            let v = json!({
                "household_id": h.to_string(), "officer_id": name,
                "visited_at": "2026-11-25T09:30:00Z", "notes": format!("visit {i}"),
            });
            l.add(EntityType::Visit, fields(v)).expect("visit");
        }
        l
    };
    let others = VISITS as u64 + 1;

    let cora_token = server.add_officer("cora", "north");
    let mut cora = offline_week("cora");
    let mut rec = Recorder::new(transport(&server, &cora_token));
    let report = run(&mut cora, &mut rec, &no_stop()).expect("cora's first sync");
    assert_eq!((report.pushed, report.accepted), (16, 16));
    assert_eq!(report.pulled, others, "only the others' records came");
    assert_eq!(rec.pulls as usize, rec.pages.len(), "a request per page");
    assert!(rec.named[1..].iter().all(|&n| n), "{:?}", rec.named);
    assert!(!cora.sweeping().expect("sweep flag"));
    assert_eq!(
        holdings(&cora),
        the_servers(&server, &cora_token, dir.path())
    );

    let dora_token = server.add_officer("dora", "north");
    let mut dora = offline_week("dora");
    let mut rec = Recorder::new(transport(&server, &dora_token));
    rec.fail_pull = Some(1);
    assert!(
        run(&mut dora, &mut rec, &no_stop()).is_err(),
        "the pull failed"
    );
    assert!(dora.holds_server_records().expect("read"));
    let mut again = Recorder::new(transport(&server, &dora_token));
    let report = run(&mut dora, &mut again, &no_stop()).expect("dora's second sync");
    assert_eq!(report.pushed, 0);
    assert_eq!(report.pulled, others + 16 + 16, "a sweep brings everything");
    assert!(again.named.iter().all(|&n| !n), "{:?}", again.named);
    assert_eq!(
        holdings(&dora),
        the_servers(&server, &dora_token, dir.path())
    );
}

/// A request that fails part-way: every page before it is stored with its cursor, nothing
/// after it; the next sync resumes at that cursor and stores the rest exactly once.
fn a_failure_part_way_leaves_the_last_stored_cursor(kind: StoreKind) {
    let dir = tempfile::tempdir().expect("dir");
    let Fixture { server, bert, .. } = server_with_records(kind, dir.path());
    let db = dir.path().join("bert.sqlite3");
    let mut b = laptop(&db, "bert");
    let mut rec = Recorder::new(transport(&server, &bert));
    rec.fail_pull = Some(5);
    let err = run(&mut b, &mut rec, &no_stop()).expect_err("the fifth pull fails");
    assert!(matches!(err, Error::Offline(_)), "{err:?}");
    let before = stored_chain(&rec);
    assert_eq!(before.len(), 4, "four pages answered before the failure");
    assert_eq!(
        b.meta(meta::PULL_CURSOR).expect("cursor"),
        Some(before[3].1.clone())
    );
    let stored: usize = before.iter().map(|p| p.2.len()).sum();
    assert_eq!(
        holdings(&b).len(),
        stored,
        "exactly the pages before the failure"
    );
    rec.pages.clear();
    let report = run(&mut b, &mut rec, &no_stop()).expect("the sync resumes");
    assert_eq!(
        report.pulled as usize,
        VISITS + 1 - stored,
        "the rest, once"
    );
    assert_eq!(rec.pages[0].0.as_deref(), Some(before[3].1.as_str()));
    assert_eq!(holdings(&b), the_servers(&server, &bert, dir.path()));
}

/// A stop between pages (Ctrl-C in `--watch`): the page read ahead is dropped unread, the
/// cursor is the last stored page's, and the next sync brings exactly the rest.
fn a_stop_part_way_drops_the_page_read_ahead(kind: StoreKind) {
    let dir = tempfile::tempdir().expect("dir");
    let Fixture { server, bert, .. } = server_with_records(kind, dir.path());
    let db = dir.path().join("bert.sqlite3");
    let mut b = laptop(&db, "bert");
    let stop = Arc::new(AtomicBool::new(false));
    let mut rec = Recorder::new(transport(&server, &bert));
    rec.stop_after = Some((3, stop.clone()));
    let first = run(&mut b, &mut rec, &stop).expect("a stopped sync");
    let answered = stored_chain(&rec);
    // Page 3 raised the flag as it was answered; it may have been stored or not, and the
    // page read ahead after the last stored one never is.
    let stored: usize = holdings(&b).len();
    assert_eq!(first.pulled as usize, stored);
    let cursor = b.meta(meta::PULL_CURSOR).expect("cursor");
    let at = answered
        .iter()
        .position(|p| Some(&p.1) == cursor.as_ref())
        .expect("the stored cursor is one an answered page ended at");
    let through: usize = answered[..=at].iter().map(|p| p.2.len()).sum();
    assert_eq!(
        stored, through,
        "every page up to the cursor, none after it"
    );
    assert!(stored < VISITS + 1, "the stop came part-way");
    rec.pages.clear();
    rec.stop_after = None;
    stop.store(false, Ordering::SeqCst);
    let rest = run(&mut b, &mut rec, &stop).expect("the sync resumes");
    assert_eq!(rest.pulled as usize, VISITS + 1 - stored);
    assert_eq!(holdings(&b), the_servers(&server, &bert, dir.path()));
}

/// Local work during a read-ahead pull: a record in conflict before it, an edit made on the
/// device while pages are arriving, and a failure part-way. The conflict keeps the local
/// copy and takes the newest server copy to resolve against; the unsent edit is not
/// overwritten (it waits, and the resumed sync sends it: a conflict with amina's edit);
/// every other record ends as the server holds it.
fn local_work_survives_a_read_ahead_pull(kind: StoreKind) {
    let dir = tempfile::tempdir().expect("dir");
    let Fixture {
        server,
        amina,
        bert,
        visits,
    } = server_with_records(kind, dir.path());
    let db = dir.path().join("bert.sqlite3");
    let mut b = laptop(&db, "bert");
    run(&mut b, &mut transport(&server, &bert), &no_stop()).expect("bert's first sync");
    // Amina edits two visits bert holds, between new visits (later pages).
    let mut a = laptop(&dir.path().join("amina.sqlite3"), "amina");
    let (clash, late) = (visits[1], visits[2]);
    a.edit(
        EntityType::Visit,
        clash,
        fields(json!({"notes": "amina's"})),
    )
    .expect("edit");
    let h = holdings(&a)[0].id;
    for i in 0..40 {
        if i == 22 {
            // In the third page of bert's pull, after his edit of it.
            a.edit(
                EntityType::Visit,
                late,
                fields(json!({"notes": "amina's late"})),
            )
            .expect("edit");
        }
        let v = json!({"household_id": h.to_string(), "officer_id": "amina",
            "visited_at": "2026-11-26T09:30:00Z", "notes": format!("more {i}")});
        a.add(EntityType::Visit, fields(v)).expect("visit");
    }
    run(&mut a, &mut transport(&server, &amina), &no_stop()).expect("amina's sync");
    // Bert's conflicting edit goes with his next sync's push; during its pull, after the
    // second page, he edits `late` on the laptop (a second connection, as the CLI would).
    b.edit(EntityType::Visit, clash, fields(json!({"notes": "bert's"})))
        .expect("edit");
    let db2 = db.clone();
    let mut rec = Recorder::new(transport(&server, &bert));
    rec.on_page = Some((
        2,
        Box::new(move || {
            let mut other = Store::open(&db2).expect("a second connection");
            other
                .edit(
                    EntityType::Visit,
                    late,
                    fields(json!({"notes": "bert's late"})),
                )
                .expect("a local edit during the pull");
        }),
    ));
    rec.fail_pull = Some(4);
    let err = run(&mut b, &mut rec, &no_stop()).expect_err("the fourth pull fails");
    assert!(matches!(err, Error::Offline(_)), "{err:?}");
    let held = b.get(EntityType::Visit, late).expect("read").expect("late");
    assert_eq!(
        (held.sync_state, held.fields["notes"].as_str()),
        (SyncState::Pending, Some("bert's late")),
        "the edit made during the pull waits to be sent"
    );
    rec.fail_pull = None;
    run(&mut b, &mut rec, &no_stop()).expect("the pull resumes");
    let servers = the_servers(&server, &bert, dir.path());
    let mine = holdings(&b);
    assert_eq!(mine.len(), servers.len(), "every record, once");
    for (m, s) in mine.iter().zip(&servers) {
        assert_eq!(m.id, s.id);
        if m.id == clash {
            assert_eq!(m.sync_state, SyncState::Conflict);
            assert_eq!(m.fields["notes"], "bert's");
            let c = b
                .conflict(EntityType::Visit, clash)
                .expect("read")
                .expect("a conflict");
            assert_eq!(Some(c.theirs.version), s.version, "the newest server copy");
        } else if m.id == late {
            // The resumed sync pushed the edit first: it collides with amina's.
            assert_eq!(m.sync_state, SyncState::Conflict);
            assert_eq!(m.fields["notes"], "bert's late");
            let c = b
                .conflict(EntityType::Visit, late)
                .expect("read")
                .expect("a conflict");
            assert_eq!(c.theirs.fields["notes"], "amina's late");
            assert_eq!(Some(c.theirs.version), s.version, "the newest server copy");
        } else {
            assert_eq!(m, s, "as the server holds it");
        }
    }
}

/// A page that brings a form version changes what the next ask says (the forms held): the
/// page guessed ahead is dropped unread and asked again, and still every record is stored
/// once, in order.
fn a_page_with_a_form_asks_the_guessed_page_again(kind: StoreKind) {
    let dir = tempfile::tempdir().expect("dir");
    let Fixture { server, bert, .. } = server_with_records(kind, dir.path());
    let sample = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/forms/household-visit");
    let (code, _, err) =
        support::admin(&server.db, &["form", "publish", "--team", "north", sample]);
    assert_eq!(code, 0, "publish: {err}");
    let db = dir.path().join("bert.sqlite3");
    let mut b = laptop(&db, "bert");
    let mut rec = Recorder::new(transport(&server, &bert));
    let report = run(&mut b, &mut rec, &no_stop()).expect("sync");
    assert_eq!(report.pulled, VISITS as u64 + 1);
    assert_eq!(
        rec.pages[1].0, rec.pages[2].0,
        "the second page was asked again"
    );
    assert!(
        b.current_form().expect("read").is_some(),
        "the form arrived"
    );
    let mut written = versions_in_write_order(&db);
    written.sort_unstable();
    written.dedup();
    assert_eq!(written.len(), VISITS + 1);
    assert_eq!(holdings(&b), the_servers(&server, &bert, dir.path()));
}

/// A record added on the device while a pull from scratch runs is not delivered by it (the
/// server does not have it yet); once its push is accepted the device must still hold it,
/// although no pull brings it back (no echo).
fn a_record_added_during_a_pull_from_scratch_stays_after_its_push(kind: StoreKind) {
    let dir = tempfile::tempdir().expect("dir");
    let Fixture { server, bert, .. } = server_with_records(kind, dir.path());
    let db = dir.path().join("bert.sqlite3");
    let mut b = laptop(&db, "bert");
    let added = Arc::new(std::sync::Mutex::new(None));
    let (db2, slot) = (db.clone(), added.clone());
    let mut rec = Recorder::new(transport(&server, &bert));
    rec.on_page = Some((
        2,
        Box::new(move || {
            let mut other = Store::open(&db2).expect("a second connection");
            let h = other
                .add(
                    EntityType::Household,
                    fields(json!({"name": "Added meanwhile"})),
                )
                .expect("a household added during the pull");
            *slot.lock().expect("slot") = Some(h);
        }),
    ));
    run(&mut b, &mut rec, &no_stop()).expect("the first sync");
    let h = added.lock().expect("slot").expect("the hook ran");
    let report = run(&mut b, &mut rec, &no_stop()).expect("the second sync");
    assert_eq!(report.accepted, 1);
    run(&mut b, &mut rec, &no_stop()).expect("a third sync");
    let held = b.get(EntityType::Household, h).expect("read");
    assert!(held.is_some(), "the device lost its own household");
}

both_stores!(
    a_record_added_during_a_pull_from_scratch_stays_after_its_push,
    a_page_with_a_form_asks_the_guessed_page_again,
    a_fresh_pull_stores_each_page_once_in_order,
    a_fresh_laptop_pulls_without_a_sweep,
    a_laptops_first_sync_does_not_pull_back_what_it_pushed,
    a_failure_part_way_leaves_the_last_stored_cursor,
    a_stop_part_way_drops_the_page_read_ahead,
    local_work_survives_a_read_ahead_pull,
);
