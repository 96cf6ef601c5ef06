//! Op-id retention (issue 17, item 10): the server forgets stored push results (by a device's
//! acknowledgement at once, by age after the retention), and a change it no longer knows is
//! still never applied twice.
//!
//! The service tests run on both stores; the engine tests drive the real sync engine over the
//! in-memory remote (`tests/support/memory.rs`), where the device side of the rules lives:
//! numbering, the watermark, what a refusal does to the queue.

mod support;

use std::sync::Arc;
use std::time::Duration;

use fieldsync::client::store::{meta, QueueStatus, Store as Laptop};
use fieldsync::client::sync::{sync, NoProgress, SyncOptions, SyncReport};
use fieldsync::model::{EntityType, FieldMap, Operation};
use fieldsync::protocol::{
    Change, ChangeResult, ChangeStatus, ErrorCode, PushRequest, PushResponse, PushSequence,
};
use fieldsync::server::store::{self, Officer, Store};
use fieldsync::server::PullQuery;
use fieldsync::server::Service;
use serde_json::json;
use support::both_stores;
use support::memory::{MemoryRemote, MemoryServer};
use uuid::Uuid;

/// A fresh service over a store of the kind; the TempDir keeps a SQLite file alive.
async fn open(kind: &str) -> (Service, Arc<dyn Store>, Option<tempfile::TempDir>) {
    let (st, dir) = match kind {
        "sqlite" => {
            let dir = tempfile::tempdir().unwrap();
            let p = dir.path().join("s.sqlite3").display().to_string();
            (store::open(&p).await.unwrap(), Some(dir))
        }
        _ => {
            let url = tokio::task::spawn_blocking(support::pg::fresh_database)
                .await
                .unwrap();
            (store::open(&url).await.unwrap(), None)
        }
    };
    (Service::new(st.clone()).await.unwrap(), st, dir)
}

fn fm(v: serde_json::Value) -> FieldMap {
    serde_json::from_value(v).unwrap()
}

fn change(
    entity_type: EntityType,
    id: Uuid,
    operation: Operation,
    base: Option<i64>,
    f: serde_json::Value,
) -> Change {
    Change {
        op_id: Uuid::new_v4(),
        entity_type,
        entity_id: id,
        operation,
        base_version: base,
        fields: fm(f),
    }
}

/// A household insert, an update of it (based on nothing: it applies on any version) and a
/// visit to it: a batch that, applied a second time, would move the household on.
fn batch(h: Uuid, v: Uuid) -> Vec<Change> {
    vec![
        change(
            EntityType::Household,
            h,
            Operation::Insert,
            None,
            json!({"name": "Wanjiru"}),
        ),
        change(
            EntityType::Household,
            h,
            Operation::Update,
            Some(0),
            json!({"village": "Kisumu"}),
        ),
        change(
            EntityType::Visit,
            v,
            Operation::Insert,
            None,
            json!({"household_id": h.to_string(), "officer_id": "amina",
                   "visited_at": "2026-11-25T09:30:00Z", "notes": "first"}),
        ),
    ]
}

fn numbered(device: Uuid, changes: Vec<Change>, first: i64, finished_below: i64) -> PushRequest {
    let seqs = (first..first + changes.len() as i64).collect();
    PushRequest {
        device_id: device,
        changes,
        sequence: Some(PushSequence {
            seqs,
            finished_below,
        }),
    }
}

async fn officer(svc: &Service) -> Officer {
    let token = svc.add_officer("amina", "north").await.unwrap();
    svc.authenticate(&token).await.unwrap()
}

/// The team's records as (id, version, fields), and how many visits there are.
async fn team(svc: &Service, o: &Officer) -> (Vec<(Uuid, i64, FieldMap)>, usize) {
    let page = svc
        .pull(o, PullQuery::page(None, Some(1000)))
        .await
        .unwrap();
    let visits = page
        .records
        .iter()
        .filter(|r| r.entity_type == EntityType::Visit)
        .count();
    let records = page
        .records
        .into_iter()
        .map(|r| (r.id, r.version, r.fields))
        .collect();
    (records, visits)
}

fn codes(resp: &PushResponse) -> Vec<Option<ErrorCode>> {
    resp.results
        .iter()
        .map(|r| r.error.as_ref().map(|e| e.code))
        .collect()
}

fn all_accepted(results: &[ChangeResult]) -> bool {
    results.iter().all(|r| r.status == ChangeStatus::Accepted)
}

/// A batch applied, its answer lost, every stored result trimmed (a retention of 0), the same
/// batch sent again: refused `op_expired`, nothing moves, no second visit. Without the mark
/// (or with the mark read before the op_id lookup) the update applies again: a new version.
async fn a_replayed_batch_after_an_age_trim_applies_once(kind: &str) {
    let (svc, _st, _d) = open(kind).await;
    let o = officer(&svc).await;
    let (dev, h, v) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    let changes = batch(h, v);
    let first = svc
        .push(&o, numbered(dev, changes.clone(), 1, 1))
        .await
        .unwrap();
    assert!(all_accepted(&first.results), "{first:?}");
    let before = team(&svc, &o).await;
    // Young results survive a trim with the real retention.
    assert_eq!(
        svc.trim_ops(Duration::from_secs(30 * 86_400))
            .await
            .unwrap(),
        0
    );
    assert_eq!(svc.trim_ops(Duration::ZERO).await.unwrap(), 3);
    let stats = svc.stats().await.unwrap();
    assert_eq!((stats.stored_results, stats.devices_tracked), (0, 1));

    let replay = svc.push(&o, numbered(dev, changes, 1, 1)).await.unwrap();
    assert_eq!(codes(&replay), vec![Some(ErrorCode::OpExpired); 3]);
    assert_eq!(replay.seq_floor, Some(3), "the device learns the mark");
    assert_eq!(
        team(&svc, &o).await,
        before,
        "versions and fields unchanged"
    );
    assert_eq!(before.1, 1, "one visit");
    assert_eq!(
        svc.stats().await.unwrap().stored_results,
        0,
        "refusals are not stored"
    );
}

/// The watermark forgets a device's finished results in the push that says so, and a change
/// numbered below it is refused even though no age trim ran.
async fn the_watermark_forgets_finished_results_at_once(kind: &str) {
    let (svc, _st, _d) = open(kind).await;
    let o = officer(&svc).await;
    let (dev, h, v) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    let changes = batch(h, v);
    svc.push(&o, numbered(dev, changes.clone(), 1, 1))
        .await
        .unwrap();
    // Another device's results are not the first device's to forget.
    let other = change(
        EntityType::Household,
        Uuid::new_v4(),
        Operation::Insert,
        None,
        json!({"name": "Otieno"}),
    );
    svc.push(&o, numbered(Uuid::new_v4(), vec![other], 1, 1))
        .await
        .unwrap();
    let next = change(
        EntityType::Household,
        h,
        Operation::Update,
        Some(0),
        json!({"notes": "second"}),
    );
    let second = svc.push(&o, numbered(dev, vec![next], 4, 4)).await.unwrap();
    assert!(all_accepted(&second.results));
    assert_eq!(
        svc.stats().await.unwrap().stored_results,
        2,
        "the device's three finished results are gone; the new one and the other device's stay"
    );
    let before = team(&svc, &o).await;
    let replay = svc.push(&o, numbered(dev, changes, 1, 1)).await.unwrap();
    assert_eq!(codes(&replay), vec![Some(ErrorCode::OpExpired); 3]);
    assert_eq!(team(&svc, &o).await, before);
}

/// Acknowledgement after acknowledgement (a device pushing its backlog): each deletes exactly
/// the device's results numbered from its previous mark up to below its watermark, none
/// above it and none of another device's. The stores look only above the mark they loaded
/// (`seq > mark AND seq < finished_below`): a bound taken from the push's own watermark would
/// delete nothing, one off by one would keep or delete a result too many, which the counts
/// and the replays below tell.
async fn successive_acknowledgements_forget_exactly_what_they_finish(kind: &str) {
    let (svc, _st, _d) = open(kind).await;
    let o = officer(&svc).await;
    let (dev, other) = (Uuid::new_v4(), Uuid::new_v4());
    let household = |name: &str| {
        change(
            EntityType::Household,
            Uuid::new_v4(),
            Operation::Insert,
            None,
            json!({ "name": name }),
        )
    };
    let three = |n: &str| vec![household(n), household(n), household(n)];
    let stored = || async { svc.stats().await.unwrap().stored_results };
    svc.push(&o, numbered(other, vec![household("other")], 1, 1))
        .await
        .unwrap();
    let mut sent = Vec::new();
    for (first, finished_below) in [(1, 1), (4, 4), (7, 7)] {
        let changes = three("batch");
        let resp = svc
            .push(&o, numbered(dev, changes.clone(), first, finished_below))
            .await
            .unwrap();
        assert!(all_accepted(&resp.results));
        sent.push((changes, resp.results));
        // This batch's three and the other device's one: every earlier batch is finished.
        assert_eq!(stored().await, 4, "after the batch numbered from {first}");
    }
    // Finished below 9: numbers 7 and 8 go, 9 stays (and the new one, numbered 10, is kept).
    let last = svc
        .push(&o, numbered(dev, vec![household("last")], 10, 9))
        .await
        .unwrap();
    assert!(all_accepted(&last.results));
    assert_eq!(stored().await, 3, "9, 10 and the other device's result");
    let (third, answers) = &sent[2];
    let replay = |c: &Change, n: i64| numbered(dev, vec![c.clone()], n, 9);
    let eight = svc.push(&o, replay(&third[1], 8)).await.unwrap();
    assert_eq!(codes(&eight), vec![Some(ErrorCode::OpExpired)]);
    let nine = svc.push(&o, replay(&third[2], 9)).await.unwrap();
    assert_eq!(nine.results, vec![answers[2].clone()], "9 is still stored");
    let first_of_all = svc.push(&o, replay(&sent[0].0[0], 1)).await.unwrap();
    assert_eq!(codes(&first_of_all), vec![Some(ErrorCode::OpExpired)]);
    assert_eq!(stored().await, 3, "replays store nothing");
}

/// A change held back (here: numbered after the trim, as the device numbers an edited,
/// revived or resolved entry) applies although older and newer results were forgotten; and a
/// result still stored is answered again, whatever the mark.
async fn a_change_numbered_above_the_mark_applies_and_a_stored_one_is_answered(kind: &str) {
    let (svc, _st, _d) = open(kind).await;
    let o = officer(&svc).await;
    let (dev, h, v) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    // Seq 1 stays in the device's queue (say a conflict waiting): the watermark stays at 1.
    let changes = batch(h, v);
    svc.push(&o, numbered(dev, changes.clone(), 1, 1))
        .await
        .unwrap();
    let later = change(
        EntityType::Household,
        h,
        Operation::Update,
        Some(0),
        json!({"notes": "later"}),
    );
    svc.push(&o, numbered(dev, vec![later.clone()], 4, 1))
        .await
        .unwrap();
    assert_eq!(
        svc.stats().await.unwrap().stored_results,
        4,
        "nothing finished"
    );
    // The same op_id again, still stored: its first result, whatever the numbers say.
    let again = svc
        .push(&o, numbered(dev, vec![later], 4, 1))
        .await
        .unwrap();
    assert!(all_accepted(&again.results));
    svc.trim_ops(Duration::ZERO).await.unwrap();
    let held = change(
        EntityType::Household,
        h,
        Operation::Update,
        Some(0),
        json!({"notes": "held back, sent at last"}),
    );
    let resp = svc.push(&o, numbered(dev, vec![held], 5, 5)).await.unwrap();
    assert!(all_accepted(&resp.results), "{resp:?}");
    assert_eq!(resp.seq_floor, None);
    let (records, _) = team(&svc, &o).await;
    let household = records.iter().find(|r| r.0 == h).unwrap();
    assert_eq!(household.2["notes"], json!("held back, sent at last"));
}

/// A client that sends no numbers (older builds) works as before: retries are answered from
/// the stored results; its results carry no number, so a trim raises no mark for it.
async fn an_old_client_without_numbers_still_works(kind: &str) {
    let (svc, _st, _d) = open(kind).await;
    let o = officer(&svc).await;
    let (dev, h, v) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    let req = PushRequest {
        device_id: dev,
        changes: batch(h, v),
        sequence: None,
    };
    let first = svc.push(&o, req.clone()).await.unwrap();
    let before = team(&svc, &o).await;
    let retry = svc.push(&o, req.clone()).await.unwrap();
    assert_eq!(first, retry, "the stored results, again");
    assert_eq!(team(&svc, &o).await, before);
    assert_eq!(svc.trim_ops(Duration::ZERO).await.unwrap(), 3);
    assert_eq!(svc.stats().await.unwrap().devices_tracked, 0);
    // A malformed sequence is refused as a whole.
    let mut bad = numbered(dev, batch(Uuid::new_v4(), Uuid::new_v4()), 1, 1);
    if let Some(s) = bad.sequence.as_mut() {
        s.seqs.pop();
    }
    assert!(svc.push(&o, bad).await.is_err());
}

/// `admin status` shows what the table costs.
async fn stats_show_table_sizes(kind: &str) {
    let (svc, _st, _d) = open(kind).await;
    let stats = svc.stats().await.unwrap();
    assert!(
        stats.table_bytes.contains_key("ops"),
        "{kind}: {:?}",
        stats.table_bytes
    );
    assert!(
        stats.table_bytes.contains_key("device_ops"),
        "{:?}",
        stats.table_bytes
    );
}

/// End to end, real processes: the laptop's watermark travels over HTTP (the server said
/// `op_sequences`), `admin trim-ops` forgets the rest, `admin status` shows it, and the
/// laptop goes on syncing; `serve` refuses a retention of 0 days.
fn admin_trims_and_status_shows_the_results_table(kind: support::StoreKind) {
    let server = support::TestServer::new(kind);
    let token = server.add_officer("amina", "north");
    let amina = support::device::Device::for_officer(&server.url, "amina", &token);
    for i in 0..3 {
        amina.add_household(&format!("h{i}"));
    }
    amina.sync_expect(0);
    let h = amina.add_household("h3");
    amina.sync_expect(0);
    let status = |db: &str| -> serde_json::Value {
        let (code, out, err) = support::admin(db, &["status", "--json"]);
        assert_eq!(code, 0, "{err}");
        serde_json::from_str(&out).unwrap()
    };
    assert_eq!(
        status(&server.db)["stats"]["stored_results"],
        1,
        "three acknowledged"
    );
    let (code, _, err) = support::admin(&server.db, &["trim-ops", "--older-than-days", "30"]);
    assert_eq!((code, err.contains("forgot 0 ")), (0, true), "{err}");
    let (code, _, err) = support::admin(&server.db, &["trim-ops", "--older-than-days", "0"]);
    assert_eq!((code, err.contains("forgot 1 ")), (0, true), "{err}");
    let stats = status(&server.db)["stats"].clone();
    assert_eq!(
        (
            stats["stored_results"].as_i64(),
            stats["devices_tracked"].as_i64()
        ),
        (Some(0), Some(1))
    );
    assert!(stats["table_bytes"]["ops"].as_i64().is_some(), "{stats}");
    amina.ok(&["household", "edit", &h, "--village", "Kisumu"]);
    let report = amina.sync_expect(0);
    assert_eq!(
        (report["accepted"].as_i64(), report["rejected"].as_i64()),
        (Some(1), Some(0))
    );
    let (code, _, err) = support::admin(&server.db, &["trim-ops", "--older-than-days", "soon"]);
    assert_eq!(code, 2, "{err}");
    let out = std::process::Command::new(support::bin())
        .args(["serve", "--listen", "127.0.0.1:0", "--database", &server.db])
        .args(["--op-retention-days", "0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
}

/// Runs SQL on a server database (SQLite path or PostgreSQL URL).
fn sql(db: &str, statements: &str) {
    if db.starts_with("postgres") {
        let out = std::process::Command::new(support::pg::tool("psql"))
            .args([db, "-v", "ON_ERROR_STOP=1", "-qAt", "-c", statements])
            .output()
            .expect("run psql");
        assert!(out.status.success(), "{statements}: {out:?}");
    } else {
        let conn = rusqlite::Connection::open(db).expect("open the server database");
        conn.busy_timeout(Duration::from_secs(10)).unwrap();
        conn.execute_batch(statements).expect(statements);
    }
}

/// Schema step 7 on a database that holds results from before it: they count as stored at
/// the upgrade, so they survive a trim with the real retention and go with a trim of 0 days.
fn step_7_dates_the_results_stored_before_it(kind: support::StoreKind) {
    let dir = tempfile::tempdir().unwrap();
    let db = match kind {
        support::StoreKind::Sqlite => dir.path().join("s.sqlite3").display().to_string(),
        support::StoreKind::Postgres => support::pg::fresh_database(),
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let svc = Service::open(&db).await.unwrap();
        let o = officer(&svc).await;
        let req = PushRequest {
            device_id: Uuid::new_v4(),
            changes: batch(Uuid::new_v4(), Uuid::new_v4()),
            sequence: None,
        };
        assert!(all_accepted(&svc.push(&o, req).await.unwrap().results));
    });
    // Back to schema 6, as a database written before op-id retention.
    sql(
        &db,
        "ALTER TABLE records DROP COLUMN echo_device;
         DROP INDEX ops_by_age; DROP INDEX ops_by_device_seq; DROP TABLE device_ops;
         ALTER TABLE ops DROP COLUMN device_id; ALTER TABLE ops DROP COLUMN seq;
         ALTER TABLE ops DROP COLUMN stored_at;
         UPDATE meta SET value = '6' WHERE key = 'schema_version';",
    );
    rt.block_on(async {
        let svc = Service::open(&db).await.unwrap();
        let stats = svc.stats().await.unwrap();
        assert_eq!((stats.schema_version, stats.stored_results), (8, 3));
        assert_eq!(svc.trim_ops(Duration::from_secs(86_400)).await.unwrap(), 0);
        assert_eq!(svc.trim_ops(Duration::ZERO).await.unwrap(), 3);
    });
}

both_stores!(
    step_7_dates_the_results_stored_before_it,
    admin_trims_and_status_shows_the_results_table,
    a_replayed_batch_after_an_age_trim_applies_once,
    the_watermark_forgets_finished_results_at_once,
    successive_acknowledgements_forget_exactly_what_they_finish,
    a_change_numbered_above_the_mark_applies_and_a_stored_one_is_answered,
    an_old_client_without_numbers_still_works,
    stats_show_table_sizes,
);

// --- The device side, through the sync engine -------------------------------------------

fn laptop(officer: &str) -> Laptop {
    let store = Laptop::open_in_memory().expect("an in-memory store");
    store.claim_officer(officer).expect("claim");
    store
}

fn run(
    store: &mut Laptop,
    remote: &mut MemoryRemote,
) -> Result<SyncReport, fieldsync::client::Error> {
    sync(
        store,
        remote,
        &SyncOptions::default(),
        &mut NoProgress,
        &|| false,
    )
}

fn add_household(store: &mut Laptop, name: &str) -> Uuid {
    store
        .add(EntityType::Household, fm(json!({ "name": name })))
        .expect("add household")
}

fn trim_all(server: &MemoryServer) -> u64 {
    server
        .block_on(server.service.trim_ops(Duration::ZERO))
        .expect("trim")
}

/// The device's watermark lets the server forget its results as soon as it holds them.
#[test]
fn a_device_acknowledges_what_it_holds_and_the_server_forgets_it() {
    let server = MemoryServer::new();
    let mut ra = server.officer("amina", "north");
    let mut a = laptop("amina");
    for i in 0..3 {
        add_household(&mut a, &format!("h{i}"));
    }
    run(&mut a, &mut ra).unwrap();
    let stats = || server.block_on(server.service.stats()).unwrap();
    assert_eq!(stats().stored_results, 3, "answered, not yet acknowledged");
    add_household(&mut a, "h3");
    run(&mut a, &mut ra).unwrap();
    assert_eq!(
        stats().stored_results,
        1,
        "the first three were acknowledged"
    );
}

/// The version and fields of household `h` as another officer of the team pulls them.
fn seen_by_brian(server: &MemoryServer, rb: &mut MemoryRemote, h: Uuid) -> (Option<i64>, FieldMap) {
    let mut b = laptop("brian");
    run(&mut b, rb).unwrap();
    let rec = b.get(EntityType::Household, h).unwrap().expect("pulled");
    let _ = server;
    (rec.version, rec.fields)
}

/// A batch whose answer was lost, replayed after the server forgot it: never applied twice,
/// and the officer's entry is kept (rejected, with the reason) rather than dropped.
#[test]
fn a_lost_answer_replayed_after_a_trim_is_kept_and_not_applied_again() {
    let server = MemoryServer::new();
    let mut ra = server.officer("amina", "north");
    let mut rb = server.officer("brian", "north");
    let mut a = laptop("amina");
    let h = add_household(&mut a, "Wanjiru");
    run(&mut a, &mut ra).unwrap();
    a.edit(EntityType::Household, h, fm(json!({"notes": "once"})))
        .unwrap();
    ra.lose_next_answer = true;
    assert!(run(&mut a, &mut ra).is_err());
    let before = seen_by_brian(&server, &mut rb, h);
    assert_eq!(before.1["notes"], json!("once"));
    assert_eq!(
        trim_all(&server),
        1,
        "the insert's result went with the watermark"
    );
    let report = run(&mut a, &mut ra).unwrap();
    assert_eq!((report.accepted, report.rejected), (0, 1), "{report:?}");
    assert_eq!(
        seen_by_brian(&server, &mut rb, h),
        before,
        "not applied again"
    );
    let rejected = a.queue_entries(&[QueueStatus::Rejected]).unwrap();
    assert_eq!(rejected.len(), 1);
    assert!(
        rejected[0]
            .last_error
            .as_deref()
            .unwrap_or("")
            .contains("op_expired"),
        "{:?}",
        rejected[0].last_error
    );
    // The officer edits the record: the change goes again, numbered afresh, and applies.
    a.edit(
        EntityType::Household,
        h,
        fm(json!({"notes": "twice, on purpose"})),
    )
    .unwrap();
    let report = run(&mut a, &mut ra).unwrap();
    assert_eq!(report.rejected, 0, "{report:?}");
    assert_eq!(a.queue_counts().unwrap().rejected, 0);
    let after = seen_by_brian(&server, &mut rb, h);
    assert_eq!(after.1["notes"], json!("twice, on purpose"));
}

/// A rejected entry revived by an edit after its result was trimmed gets a new number: sent
/// with its old one (at or below the mark) it would be refused `op_expired` instead of being
/// judged on what it says.
#[test]
fn a_revived_entry_is_numbered_afresh_after_a_trim() {
    let server = MemoryServer::new();
    let mut ra = server.officer("amina", "north");
    let mut a = laptop("amina");
    let h = add_household(&mut a, "Wanjiru");
    run(&mut a, &mut ra).unwrap();
    // A visit in another officer's name: rejected (forbidden), held in the queue.
    let v = a
        .add(
            EntityType::Visit,
            fm(json!({"household_id": h.to_string(), "officer_id": "brian",
                      "visited_at": "2026-11-25T09:30:00Z"})),
        )
        .unwrap();
    add_household(&mut a, "later");
    assert_eq!(run(&mut a, &mut ra).unwrap().rejected, 1);
    add_household(&mut a, "later still");
    run(&mut a, &mut ra).unwrap();
    assert!(trim_all(&server) > 0);
    // Editing the visit revives its rejected insert with a fresh op_id.
    a.edit(EntityType::Visit, v, fm(json!({"notes": "edited"})))
        .unwrap();
    let report = run(&mut a, &mut ra).unwrap();
    assert!(report.rejected >= 1, "{report:?}");
    for e in a.queue_entries(&[QueueStatus::Rejected]).unwrap() {
        let why = e.last_error.unwrap_or_default();
        assert!(!why.contains("op_expired"), "judged, not expired: {why}");
    }
}

/// A device whose database went back (restored from a backup) numbers from an old counter:
/// its new changes are refused once, the answer raises its counter, and the next edit goes.
#[test]
fn a_device_whose_counter_went_back_learns_the_mark() {
    let server = MemoryServer::new();
    let mut ra = server.officer("amina", "north");
    let mut a = laptop("amina");
    for i in 0..3 {
        add_household(&mut a, &format!("h{i}"));
    }
    run(&mut a, &mut ra).unwrap();
    add_household(&mut a, "h3");
    run(&mut a, &mut ra).unwrap();
    trim_all(&server);
    // The same device id with a fresh counter: what a restored backup looks like.
    let device = a.device_id().unwrap();
    let mut b = laptop("amina");
    b.set_meta(meta::DEVICE_ID, &device.to_string()).unwrap();
    let h = add_household(&mut b, "after the restore");
    let report = run(&mut b, &mut ra).unwrap();
    assert_eq!(
        report.rejected, 1,
        "numbered at or below the mark: refused, kept"
    );
    b.edit(EntityType::Household, h, fm(json!({"notes": "again"})))
        .unwrap();
    let report = run(&mut b, &mut ra).unwrap();
    assert_eq!(
        (report.rejected, report.rejected_waiting),
        (0, 0),
        "{report:?}"
    );
}

/// A newer laptop against an older server (its health says nothing of `op_sequences`) sends
/// no `sequence`: `PushRequest` refuses unknown fields, so an older server would refuse it.
#[test]
fn a_newer_laptop_sends_no_numbers_to_an_older_server() {
    struct OlderServer(MemoryRemote, Vec<PushRequest>);
    impl fieldsync::client::remote::Remote for OlderServer {
        fn health(
            &mut self,
        ) -> Result<fieldsync::protocol::HealthResponse, fieldsync::client::remote::RemoteError>
        {
            let mut h = self.0.health()?;
            h.op_sequences = false;
            Ok(h)
        }
        fn push(
            &mut self,
            req: &PushRequest,
            seen: Option<i64>,
        ) -> Result<PushResponse, fieldsync::client::remote::RemoteError> {
            self.1.push(req.clone());
            self.0.push(req, seen)
        }
        fn pull(
            &mut self,
            ask: &fieldsync::client::remote::PullAsk<'_>,
        ) -> Result<fieldsync::protocol::PullResponse, fieldsync::client::remote::RemoteError>
        {
            self.0.pull(ask)
        }
        fn traffic(&self) -> fieldsync::client::remote::Traffic {
            self.0.traffic()
        }
    }
    let server = MemoryServer::new();
    let mut older = OlderServer(server.officer("amina", "north"), Vec::new());
    let mut a = laptop("amina");
    add_household(&mut a, "Wanjiru");
    sync(
        &mut a,
        &mut older,
        &SyncOptions::default(),
        &mut NoProgress,
        &|| false,
    )
    .unwrap();
    assert_eq!(older.1.len(), 1);
    assert!(older.1.iter().all(|r| r.sequence.is_none()));
    let body = serde_json::to_value(&older.1[0]).unwrap();
    assert!(body.get("sequence").is_none(), "{body}");
}
