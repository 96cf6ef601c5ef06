//! The store-level suite: the same scenarios run against the SQLite and the PostgreSQL
//! implementations, through the `Store` trait directly (officers, pull, purge, the write
//! transaction) and through the in-process `Service` that decides what a push writes
//! (authentication, push, pull with cursors, team moves, re-sync) without HTTP.

mod support;

use support::both_stores;

use std::sync::Arc;

use fieldsync::model::{EntityType, FieldMap, Operation};
use fieldsync::protocol::{Change, ChangeResult, ChangeStatus, ErrorCode, PushRequest, Record};
use fieldsync::server::store::{self, Officer, Store, WriteKeys, WriteSet};
use fieldsync::server::PullQuery;
use fieldsync::server::{Service, ServiceError, StoreError};
use serde_json::json;
use uuid::Uuid;

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap()
}

/// A fresh store of the kind; the TempDir keeps a SQLite file alive.
async fn open(kind: &str) -> (Arc<dyn Store>, Option<tempfile::TempDir>) {
    match kind {
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
    }
}

/// Pushes `changes` through the service over `st`, as `o` from `dev`.
async fn push(
    st: &Arc<dyn Store>,
    o: &Officer,
    dev: Uuid,
    changes: Vec<Change>,
) -> Vec<ChangeResult> {
    let svc = Service::new(st.clone()).await.unwrap();
    let req = PushRequest {
        device_id: dev,
        changes,
        sequence: None,
    };
    svc.push(o, req).await.unwrap().results
}

fn officer(id: &str, team: &str) -> Officer {
    Officer {
        id: id.into(),
        team: team.into(),
        created_at: String::new(),
        revoked: false,
    }
}

fn fm(v: serde_json::Value) -> FieldMap {
    serde_json::from_value(v).unwrap()
}

fn insert(id: Uuid, name: &str) -> Change {
    Change {
        op_id: Uuid::new_v4(),
        entity_type: EntityType::Household,
        entity_id: id,
        operation: Operation::Insert,
        base_version: None,
        fields: fm(json!({ "name": name })),
    }
}

both_stores!(
    officers_add_list_revoke_move,
    push_pull_and_dedupe,
    concurrent_pushes_commit_in_version_order,
    purge_raises_the_history_floor,
    a_write_stores_exactly_what_was_decided,
    a_mixed_push_loads_what_it_names_and_numbers_only_new_records,
    a_write_failing_half_way_leaves_nothing,
    service_authenticates_pushes_and_pulls_by_cursor,
    service_restarts_a_moved_officer_and_refuses_old_cursors,
);

async fn officers_add_list_revoke_move(kind: &str) {
    let (st, _d) = open(kind).await;
    st.add_officer("amina", "north", "h1").await.unwrap();
    assert!(matches!(
        st.add_officer("amina", "south", "h2").await,
        Err(StoreError::DuplicateOfficer(_))
    ));
    assert!(matches!(
        st.add_officer("bad id", "south", "h3").await,
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        st.revoke_officer("ghost").await,
        Err(StoreError::UnknownOfficer(_))
    ));
    assert!(matches!(
        st.move_officer("ghost", "x").await,
        Err(StoreError::UnknownOfficer(_))
    ));
    let o = st.officer_by_token_hash("h1").await.unwrap().unwrap();
    assert_eq!(
        (o.id.as_str(), o.team.as_str(), o.revoked),
        ("amina", "north", false)
    );
    st.move_officer("amina", "south").await.unwrap();
    st.revoke_officer("amina").await.unwrap();
    let o = st.officer_by_token_hash("h1").await.unwrap().unwrap();
    assert_eq!((o.team.as_str(), o.revoked), ("south", true));
    assert!(st.officer_by_token_hash("nope").await.unwrap().is_none());
    assert_eq!(st.list_officers().await.unwrap().len(), 1);
    // The cursor secret is stable and 32 bytes.
    let s1 = st.cursor_secret().await.unwrap();
    assert_eq!(s1.len(), 32);
    assert_eq!(st.cursor_secret().await.unwrap(), s1);
}

async fn push_pull_and_dedupe(kind: &str) {
    let (st, _d) = open(kind).await;
    let o = officer("amina", "north");
    let dev = Uuid::new_v4();
    let ids: Vec<Uuid> = (0..10).map(|_| Uuid::new_v4()).collect();
    let batch: Vec<Change> = ids.iter().map(|i| insert(*i, "h")).collect();
    let r = push(&st, &o, dev, batch.clone()).await;
    assert!(r.iter().all(|x| x.status == ChangeStatus::Accepted));
    assert_eq!(
        r.iter().map(|x| x.version.unwrap()).collect::<Vec<_>>(),
        (1..=10).collect::<Vec<_>>()
    );
    assert_eq!(push(&st, &o, dev, batch.clone()).await, r);
    let mut altered = batch[0].clone();
    altered.fields = fm(json!({"name": "other"}));
    let r2 = push(&st, &o, dev, vec![altered]).await;
    assert_eq!(r2[0].error.as_ref().unwrap().code, ErrorCode::OpIdReused);
    let page = st.pull("north", 0, 4, None).await.unwrap();
    assert_eq!(page.records.len(), 4);
    assert!(page.has_more);
    let page = st.pull("north", 8, 4, None).await.unwrap();
    assert_eq!(
        page.records.iter().map(|r| r.version).collect::<Vec<_>>(),
        vec![9, 10]
    );
    assert!(!page.has_more);
    assert!(st
        .pull("south", 0, 100, None)
        .await
        .unwrap()
        .records
        .is_empty());
}

/// One push that updates a stored household, inserts a household and a visit, and deletes a
/// household that still has a live visit. The store loads it all in one go (PostgreSQL: the
/// lookups, the server-id reservation counted against the stored ids, and the live-visit
/// count pipelined behind the team's lock): the stored records keep their server ids, the
/// new ones get ids no record had (too few reserved is a unique-key failure), and the delete
/// meets its household's visit (a miscounted orphan rule would delete it).
async fn a_mixed_push_loads_what_it_names_and_numbers_only_new_records(kind: &str) {
    let (st, _d) = open(kind).await;
    let o = officer("amina", "north");
    let dev = Uuid::new_v4();
    let (h1, h2, h3, v1, v2) = (
        Uuid::new_v4(),
        Uuid::new_v4(),
        Uuid::new_v4(),
        Uuid::new_v4(),
        Uuid::new_v4(),
    );
    let visit = |id: Uuid, h: Uuid| Change {
        op_id: Uuid::new_v4(),
        entity_type: EntityType::Visit,
        entity_id: id,
        operation: Operation::Insert,
        base_version: None,
        fields: fm(json!({"household_id": h.to_string(), "officer_id": "amina",
                          "visited_at": "2026-11-25T09:30:00Z"})),
    };
    let first = push(
        &st,
        &o,
        dev,
        vec![insert(h1, "a"), insert(h2, "b"), visit(v1, h1)],
    )
    .await;
    assert!(first.iter().all(|r| r.status == ChangeStatus::Accepted));
    let ids_before: Vec<i64> = first.iter().map(|r| r.server_id.unwrap()).collect();
    let mut update = insert(h2, "b2");
    (update.operation, update.base_version) = (Operation::Update, first[1].version);
    let mut delete = insert(h1, "a");
    (delete.operation, delete.base_version) = (Operation::Delete, first[0].version);
    delete.fields = FieldMap::new();
    let second = push(
        &st,
        &o,
        dev,
        vec![update, insert(h3, "c"), visit(v2, h2), delete],
    )
    .await;
    let statuses: Vec<ChangeStatus> = second.iter().map(|r| r.status).collect();
    use ChangeStatus::{Accepted, Conflict};
    assert_eq!(statuses, vec![Accepted, Accepted, Accepted, Conflict]);
    let records = typed(st.pull("north", 0, 100, None).await.unwrap());
    let sid = |id: Uuid| records.iter().find(|r| r.id == id).unwrap().server_id;
    assert_eq!(
        vec![sid(h1), sid(h2), sid(v1)],
        ids_before,
        "stored ids kept"
    );
    let mut all: Vec<i64> = records.iter().map(|r| r.server_id).collect();
    all.sort_unstable();
    all.dedup();
    assert_eq!(all.len(), 5, "every record its own server id");
    assert!(!ids_before.contains(&sid(h3)) && !ids_before.contains(&sid(v2)));
    let h1_now = records.iter().find(|r| r.id == h1).unwrap();
    assert!(
        !h1_now.deleted,
        "a household with a live visit is not deleted"
    );
}

/// A write whose second record breaks a constraint (its server id is the first one's) fails
/// as a whole: its first record, its op result and its counter are not stored, though they
/// were written before the failing row (the SQLite store runs a write alone in its group
/// without a savepoint, so this is its transaction's rollback; PostgreSQL's pipelined writes
/// likewise). The next write applies normally.
async fn a_write_failing_half_way_leaves_nothing(kind: &str) {
    let (st, _d) = open(kind).await;
    let north = || WriteKeys {
        team: "north".into(),
        ..WriteKeys::default()
    };
    let record = |version: i64, server_id: i64| store::StoredRecord {
        server_id,
        entity_type: EntityType::Household,
        id: Uuid::new_v4(),
        team: "north".into(),
        version,
        deleted: false,
        deleted_by: None,
        fields: fm(json!({"name": "x"})),
        stamps: Default::default(),
        audit: Default::default(),
        echo_device: None,
    };
    let op = Uuid::new_v4();
    let broken = WriteSet {
        records: vec![record(1, 7), record(2, 7)],
        ops: vec![(op, "h".into(), ChangeResult::accepted(op, 1, 7, false))],
        version: 2,
        server_id: 7,
        ..WriteSet::default()
    };
    let err = st.write(north(), Box::new(move |_| broken)).await;
    assert!(err.is_err(), "a duplicate server id is refused");
    assert!(st
        .pull("north", 0, 10, None)
        .await
        .unwrap()
        .records
        .is_empty());
    assert_eq!(st.team_version("north").await.unwrap(), 0);
    assert_eq!(st.stats().await.unwrap().stored_results, 0);
    let fine = WriteSet {
        records: vec![record(1, 8)],
        version: 1,
        server_id: 8,
        ..WriteSet::default()
    };
    st.write(north(), Box::new(move |_| fine)).await.unwrap();
    let records = typed(st.pull("north", 0, 10, None).await.unwrap());
    assert_eq!(
        records.iter().map(|r| r.server_id).collect::<Vec<_>>(),
        vec![8]
    );
}

async fn concurrent_pushes_commit_in_version_order(kind: &str) {
    let (st, _d) = open(kind).await;
    let o = officer("amina", "north");
    const TASKS: usize = 8;
    const BATCHES: usize = 20;
    const PER: usize = 5;
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let puller = {
        let st = st.clone();
        let done = done.clone();
        tokio::spawn(async move {
            let mut seen = Vec::new();
            let mut after = 0;
            loop {
                let finished = done.load(std::sync::atomic::Ordering::SeqCst);
                loop {
                    let p = st.pull("north", after, 3, None).await.unwrap();
                    for r in &p.records {
                        seen.push(r.version);
                        after = r.version;
                    }
                    if !p.has_more {
                        break;
                    }
                }
                if finished {
                    return seen;
                }
                tokio::task::yield_now().await;
            }
        })
    };
    let pushers: Vec<_> = (0..TASKS)
        .map(|_| {
            let st = st.clone();
            let o = o.clone();
            tokio::spawn(async move {
                let dev = Uuid::new_v4();
                let mut n = 0;
                for _ in 0..BATCHES {
                    let b: Vec<Change> = (0..PER).map(|_| insert(Uuid::new_v4(), "h")).collect();
                    n += push(&st, &o, dev, b).await.len();
                }
                n
            })
        })
        .collect();
    let mut total = 0;
    for p in pushers {
        total += p.await.unwrap();
    }
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    let seen = puller.await.unwrap();
    assert_eq!(total, TASKS * BATCHES * PER);
    assert_eq!(
        seen,
        (1..=total as i64).collect::<Vec<_>>(),
        "the puller skipped or repeated versions"
    );
}

async fn purge_raises_the_history_floor(kind: &str) {
    let (st, _d) = open(kind).await;
    let o = officer("amina", "north");
    let dev = Uuid::new_v4();
    let h = Uuid::new_v4();
    push(
        &st,
        &o,
        dev,
        vec![insert(h, "a"), insert(Uuid::new_v4(), "b")],
    )
    .await;
    let del = Change {
        op_id: Uuid::new_v4(),
        entity_type: EntityType::Household,
        entity_id: h,
        operation: Operation::Delete,
        base_version: Some(1),
        fields: FieldMap::new(),
    };
    assert_eq!(push(&st, &o, dev, vec![del]).await[0].version, Some(3));
    assert_eq!(st.history_floor().await.unwrap(), 0);
    assert_eq!(
        st.purge_tombstones(3).await.unwrap(),
        0,
        "v3 is not below 3"
    );
    assert_eq!(st.purge_tombstones(4).await.unwrap(), 1);
    assert_eq!(st.history_floor().await.unwrap(), 3);
    assert_eq!(st.purge_tombstones(2).await.unwrap(), 0);
    assert_eq!(
        st.history_floor().await.unwrap(),
        3,
        "the floor never goes down"
    );
    assert_eq!(
        st.pull("north", 0, 10, None).await.unwrap().records.len(),
        1
    );
}

/// A database written by a newer fieldsync is refused, not misread.
#[test]
fn sqlite_database_from_a_newer_fieldsync_is_refused() {
    rt().block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.sqlite3");
        drop(store::open(&p.display().to_string()).await.unwrap());
        let c = rusqlite::Connection::open(&p).unwrap();
        c.execute(
            "UPDATE meta SET value = '99' WHERE key = 'schema_version'",
            [],
        )
        .unwrap();
        drop(c);
        match store::open(&p.display().to_string()).await {
            Err(e @ StoreError::NewerSchema { found: 99, .. }) => {
                assert!(e.to_string().contains("newer"), "{e}")
            }
            Err(e) => panic!("unexpected error {e}"),
            Ok(_) => panic!("a newer database was opened"),
        }
    });
}

async fn a_write_stores_exactly_what_was_decided(kind: &str) {
    let (st, _d) = open(kind).await;
    let o = officer("amina", "north");
    let h = Uuid::new_v4();
    let first = push(&st, &o, Uuid::new_v4(), vec![insert(h, "a")]).await;
    // The decision sees the loaded record and the counters; what it returns is written.
    let keys = WriteKeys {
        team: "north".into(),
        op_ids: vec![first[0].op_id, Uuid::new_v4()],
        ids: vec![h, Uuid::new_v4()],
        ..WriteKeys::default()
    };
    let seen = store::write_with(st.as_ref(), keys, move |snap| {
        // The next server id is a new one (the stored record has server id 1).
        let seen = (
            snap.version,
            snap.next_server_id() > 1,
            snap.records.len(),
            snap.ops.len(),
        );
        let mut rec = snap.records[&h].clone();
        rec.version = snap.version + 1;
        rec.fields.insert("name".into(), json!("renamed"));
        let writes = WriteSet {
            records: vec![rec],
            ops: Vec::new(),
            version: snap.version + 1,
            server_id: snap.server_id,
            activity: None,
            origin: None,
        };
        (seen, writes)
    })
    .await
    .unwrap();
    assert_eq!(seen, (1, true, 1, 1));
    let page = st.pull("north", 1, 10, None).await.unwrap();
    assert_eq!(page.records.len(), 1);
    assert_eq!(
        page.records[0].record().unwrap().fields["name"],
        json!("renamed")
    );
    assert_eq!(page.records[0].version, 2);
    // An empty decision writes nothing but the (unchanged) counters.
    let north = WriteKeys {
        team: "north".into(),
        ..WriteKeys::default()
    };
    store::write_with(st.as_ref(), north, |snap| {
        let w = WriteSet {
            version: snap.version,
            server_id: snap.server_id,
            ..WriteSet::default()
        };
        ((), w)
    })
    .await
    .unwrap();
    assert!(st
        .pull("north", 2, 10, None)
        .await
        .unwrap()
        .records
        .is_empty());
}

async fn service_authenticates_pushes_and_pulls_by_cursor(kind: &str) {
    let (st, _d) = open(kind).await;
    let svc = Service::new(st).await.unwrap();
    let token = svc.add_officer("amina", "north").await.unwrap();
    assert!(matches!(
        svc.authenticate("not-a-token").await,
        Err(ServiceError::Unauthorized(_))
    ));
    let amina = svc.authenticate(&token).await.unwrap();
    assert_eq!((amina.id.as_str(), amina.team.as_str()), ("amina", "north"));
    let changes: Vec<Change> = (0..5).map(|_| insert(Uuid::new_v4(), "h")).collect();
    let req = |changes| PushRequest {
        device_id: Uuid::new_v4(),
        changes,
        sequence: None,
    };
    let res = svc.push(&amina, req(changes)).await.unwrap().results;
    assert!(res.iter().all(|r| r.status == ChangeStatus::Accepted));
    let too_many = vec![insert(Uuid::new_v4(), "h"); fieldsync::protocol::MAX_PUSH_CHANGES + 1];
    assert!(matches!(
        svc.push(&amina, req(too_many)).await,
        Err(ServiceError::BatchTooLarge { .. })
    ));
    let p1 = svc
        .pull(&amina, PullQuery::page(None, Some(3)))
        .await
        .unwrap();
    assert_eq!(p1.records.len(), 3);
    assert!(p1.has_more);
    let p2 = svc
        .pull(&amina, PullQuery::page(Some(&p1.next_cursor), Some(3)))
        .await
        .unwrap();
    assert_eq!(
        p2.records.iter().map(|r| r.version).collect::<Vec<_>>(),
        vec![4, 5]
    );
    assert!(!p2.has_more);
    assert!(matches!(
        svc.pull(&amina, PullQuery::page(None, Some(0))).await,
        Err(ServiceError::InvalidLimit(_))
    ));
    let brian_token = svc.add_officer("brian", "north").await.unwrap();
    let brian = svc.authenticate(&brian_token).await.unwrap();
    assert!(
        matches!(
            svc.pull(&brian, PullQuery::page(Some(&p1.next_cursor), None))
                .await,
            Err(ServiceError::InvalidCursor)
        ),
        "a cursor is bound to its officer"
    );
    svc.revoke_officer("amina").await.unwrap();
    assert!(matches!(
        svc.authenticate(&token).await,
        Err(ServiceError::Unauthorized(_))
    ));
}

async fn service_restarts_a_moved_officer_and_refuses_old_cursors(kind: &str) {
    let (st, _d) = open(kind).await;
    let svc = Service::new(st).await.unwrap();
    let amina_token = svc.add_officer("amina", "north").await.unwrap();
    let chen_token = svc.add_officer("chen", "south").await.unwrap();
    let amina = svc.authenticate(&amina_token).await.unwrap();
    let chen = svc.authenticate(&chen_token).await.unwrap();
    let dev = Uuid::new_v4();
    let h = Uuid::new_v4();
    let north = vec![insert(h, "n1"), insert(Uuid::new_v4(), "n2")];
    let req = |changes| PushRequest {
        device_id: dev,
        changes,
        sequence: None,
    };
    svc.push(&amina, req(north)).await.unwrap();
    svc.push(&chen, req(vec![insert(Uuid::new_v4(), "s1")]))
        .await
        .unwrap();
    let end = svc.pull(&amina, PullQuery::default()).await.unwrap();
    assert_eq!(end.records.len(), 2, "only amina's team");
    // Moved to south: the old cursor starts over with the new team's records.
    svc.move_officer("amina", "south").await.unwrap();
    let moved = svc.authenticate(&amina_token).await.unwrap();
    let page = svc
        .pull(&moved, PullQuery::page(Some(&end.next_cursor), None))
        .await
        .unwrap();
    assert_eq!(page.records.len(), 1);
    assert_eq!(page.records[0].fields["name"], json!("s1"));
    // A cursor below the history floor must re-sync.
    let early = svc.pull(&chen, PullQuery::default()).await.unwrap();
    let del = Change {
        op_id: Uuid::new_v4(),
        entity_type: EntityType::Household,
        entity_id: h,
        operation: Operation::Delete,
        base_version: Some(1),
        fields: FieldMap::new(),
    };
    let more = svc
        .push(&moved, req(vec![insert(Uuid::new_v4(), "s2")]))
        .await
        .unwrap();
    // Versions are per team; the move raised south's counter to north's 2.
    assert_eq!(more.results[0].version, Some(3));
    // `amina` is her pre-move identity, as a request authenticated before the move holds it.
    let gone = svc.push(&amina, req(vec![del])).await.unwrap();
    assert_eq!(gone.results[0].version, Some(3), "north's third");
    // The history floor is one number for every team: it may only reach the highest
    // version of any team (here north's 3) plus one.
    assert!(matches!(
        svc.purge_tombstones(5).await,
        Err(ServiceError::VersionBeyondCurrent { current: 3, .. })
    ));
    assert_eq!(svc.purge_tombstones(4).await.unwrap(), 1);
    assert!(matches!(
        svc.pull(&chen, PullQuery::page(Some(&early.next_cursor), None))
            .await,
        Err(ServiceError::ResyncRequired)
    ));
    assert_eq!(
        svc.pull(&chen, PullQuery::default())
            .await
            .unwrap()
            .records
            .len(),
        2
    );
}

/// A pulled page's records, parsed from the JSON text the store hands out.
fn typed(page: store::PullPage) -> Vec<Record> {
    page.records
        .iter()
        .map(|r| r.record().expect("a stored record parses"))
        .collect()
}
