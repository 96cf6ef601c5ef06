//! No echo (issue 14): a device does not pull back the records its own push just made,
//! unless someone else changed them since — and it still ends up holding exactly the server's
//! records (fields, versions, server ids and the server's audit stamps). A pull from scratch,
//! another device of the same officer, an older client, merged and conflicting pushes all
//! still get the records. In process through the in-memory remote, and over HTTP on both
//! stores.

mod support;

use fieldsync::client::store::{ListFilter, LocalRecord, Store};
use fieldsync::client::sync::{sync, NoProgress, SyncOptions, SyncReport};
use fieldsync::client::transport::{RetryPolicy, Transport};
use fieldsync::model::{EntityType, FieldMap};
use fieldsync::server::PullQuery;
use serde_json::{json, Value};
use support::memory::MemoryServer;
use support::{both_stores, StoreKind, TestServer};
use uuid::Uuid;

fn fields(v: Value) -> FieldMap {
    serde_json::from_value(v).expect("a field map")
}

fn laptop(officer: &str) -> Store {
    let store = Store::open_in_memory().expect("an in-memory store");
    store.claim_officer(officer).expect("claim");
    store
}

fn run(
    store: &mut Store,
    remote: &mut (dyn fieldsync::client::remote::Remote + Send),
) -> SyncReport {
    sync(
        store,
        remote,
        &SyncOptions::default(),
        &mut NoProgress,
        &|| false,
    )
    .expect("sync")
}

/// One household and `n` visits to it, recorded on `store` by `officer`.
fn record_visits(store: &mut Store, officer: &str, n: usize) -> Uuid {
    let h = store
        .add(EntityType::Household, fields(json!({"name": "Wanjiru"})))
        .expect("add household");
    for i in 0..n {
        let f = json!({
            "household_id": h.to_string(),
            "officer_id": officer,
            "visited_at": "2026-11-25T09:30:00Z",
            "notes": format!("visit {i}"),
        });
        store.add(EntityType::Visit, fields(f)).expect("add visit");
    }
    h
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

/// The device holds exactly what a device pulling from scratch receives (the server's
/// records, audit stamps and server receive times included).
fn assert_holds_the_servers(mine: &Store, fresh: &Store) {
    let (mine, theirs) = (holdings(mine), holdings(fresh));
    assert_eq!(mine.len(), theirs.len());
    for (m, t) in mine.iter().zip(&theirs) {
        assert_eq!(m, t, "the device's copy differs from the server's");
        assert!(t.audit.created_by.is_some(), "the server stamps records");
    }
}

#[test]
fn the_pushing_device_pulls_none_of_its_own_new_visits_and_holds_the_servers_records() {
    let server = MemoryServer::new();
    let mut remote = server.officer("amina", "north");
    let mut a = laptop("amina");
    run(&mut a, &mut remote); // a cursor, as every device has after its first sync
    record_visits(&mut a, "amina", 60);
    remote.records_pulled = 0;
    let report = run(&mut a, &mut remote);
    assert_eq!(report.accepted, 61);
    assert_eq!((report.pulled, remote.records_pulled), (0, 0));
    // A second laptop of the same officer, and a re-installed one, get everything.
    let mut b = laptop("amina");
    assert_eq!(run(&mut b, &mut remote).pulled, 61);
    assert_holds_the_servers(&a, &b);
    // The cursor moved past the skipped records: a later change arrives alone.
    let h = holdings(&b)[0].id;
    b.edit(EntityType::Household, h, fields(json!({"notes": "dog"})))
        .expect("edit");
    run(&mut b, &mut remote);
    assert_eq!(run(&mut a, &mut remote).pulled, 1);
    assert_holds_the_servers(&a, &b);
}

#[test]
fn another_device_with_a_cursor_receives_them_all() {
    let server = MemoryServer::new();
    let mut amina = server.officer("amina", "north");
    let mut brian = server.officer("brian", "north");
    let (mut a, mut b) = (laptop("amina"), laptop("brian"));
    run(&mut b, &mut brian);
    record_visits(&mut a, "amina", 20);
    run(&mut a, &mut amina);
    assert_eq!(run(&mut b, &mut brian).pulled, 21);
    assert_holds_the_servers(&a, &b);
}

#[test]
fn own_edits_of_own_records_do_not_come_back_but_edits_of_pulled_ones_do() {
    let server = MemoryServer::new();
    let mut amina = server.officer("amina", "north");
    let mut brian = server.officer("brian", "north");
    let (mut a, mut b) = (laptop("amina"), laptop("brian"));
    let mine = record_visits(&mut a, "amina", 0);
    run(&mut a, &mut amina);
    let theirs = record_visits(&mut b, "brian", 0);
    run(&mut b, &mut brian);
    run(&mut a, &mut amina);
    a.edit(EntityType::Household, mine, fields(json!({"notes": "a"})))
        .expect("edit");
    assert_eq!(run(&mut a, &mut amina).pulled, 0, "its own record, edited");
    // A record another device made: the server cannot know this copy is exactly its own,
    // so it comes back once (correct, one record more).
    a.edit(EntityType::Household, theirs, fields(json!({"notes": "a"})))
        .expect("edit");
    assert_eq!(run(&mut a, &mut amina).pulled, 1);
    let mut fresh = laptop("amina");
    run(&mut fresh, &mut amina);
    assert_holds_the_servers(&a, &fresh);
}

#[test]
fn merged_and_conflicting_pushes_come_back() {
    let server = MemoryServer::new();
    let mut amina = server.officer("amina", "north");
    let mut brian = server.officer("brian", "north");
    let (mut a, mut b) = (laptop("amina"), laptop("brian"));
    let h = record_visits(&mut a, "amina", 0);
    run(&mut a, &mut amina);
    run(&mut b, &mut brian);
    // Merged: brian changed another field since amina's base.
    b.edit(
        EntityType::Household,
        h,
        fields(json!({"village": "Kisumu"})),
    )
    .expect("edit");
    run(&mut b, &mut brian);
    a.edit(EntityType::Household, h, fields(json!({"notes": "a"})))
        .expect("edit");
    let report = run(&mut a, &mut amina);
    assert_eq!((report.merged, report.pulled), (1, 1));
    run(&mut b, &mut brian);
    assert_holds_the_servers(&a, &b);
    // A conflict: both change the same field.
    b.edit(EntityType::Household, h, fields(json!({"notes": "b"})))
        .expect("edit");
    run(&mut b, &mut brian);
    a.edit(EntityType::Household, h, fields(json!({"notes": "c"})))
        .expect("edit");
    let report = run(&mut a, &mut amina);
    assert_eq!((report.conflicts, report.pulled), (1, 1));
}

#[test]
fn a_pull_from_scratch_and_an_older_client_get_everything() {
    let server = MemoryServer::new();
    let mut remote = server.officer("amina", "north");
    let mut a = laptop("amina");
    run(&mut a, &mut remote);
    record_visits(&mut a, "amina", 30);
    assert_eq!(run(&mut a, &mut remote).pulled, 0);
    a.reset_cursor().expect("reset");
    assert_eq!(run(&mut a, &mut remote).pulled, 31, "from scratch");
    assert_eq!(holdings(&a).len(), 31, "the sweep kept them all");
    // A client before issue 14 neither applies stamps nor names its device.
    let mut old = laptop("amina");
    remote.older_client = true;
    run(&mut old, &mut remote);
    record_visits(&mut old, "amina", 5);
    assert_eq!(run(&mut old, &mut remote).pulled, 6);
    let mut fresh = laptop("amina");
    run(&mut fresh, &mut remote);
    assert_holds_the_servers(&old, &fresh);
}

#[test]
fn a_lost_push_answer_is_stamped_when_the_batch_is_sent_again() {
    let server = MemoryServer::new();
    let mut remote = server.officer("amina", "north");
    let mut a = laptop("amina");
    run(&mut a, &mut remote);
    record_visits(&mut a, "amina", 10);
    remote.lose_next_answer = true;
    let opts = SyncOptions::default();
    assert!(sync(&mut a, &mut remote, &opts, &mut NoProgress, &|| false).is_err());
    assert_eq!(run(&mut a, &mut remote).pulled, 0);
    let mut fresh = laptop("amina");
    run(&mut fresh, &mut remote);
    assert_holds_the_servers(&a, &fresh);
}

fn policy() -> RetryPolicy {
    RetryPolicy {
        attempts: 3,
        base: std::time::Duration::from_millis(5),
        max_delay: std::time::Duration::from_millis(40),
        connect_timeout: std::time::Duration::from_secs(2),
        request_timeout: std::time::Duration::from_secs(10),
    }
}

/// Over HTTP: the pushing device's pull moves none of its own new visits; another laptop
/// of the officer gets them all; both hold the same records.
fn over_http_the_pushing_device_pulls_none_of_its_own(kind: StoreKind) {
    let server = TestServer::new(kind);
    let token = server.add_officer("amina", "north");
    let mut t = Transport::new(&server.url, &token, false, policy()).expect("transport");
    let mut a = laptop("amina");
    run(&mut a, &mut t);
    record_visits(&mut a, "amina", 40);
    let report = run(&mut a, &mut t);
    assert_eq!((report.accepted, report.pulled), (41, 0));
    let mut b = laptop("amina");
    assert_eq!(run(&mut b, &mut t).pulled, 41);
    assert_holds_the_servers(&a, &b);
}

/// The device header must name a device: anything else is refused, never ignored.
fn a_malformed_device_header_is_a_bad_request(kind: StoreKind) {
    let server = TestServer::new(kind);
    let token = server.add_officer("amina", "north");
    let resp = support::http::client()
        .get(format!("{}/v1/pull", server.url))
        .bearer_auth(&token)
        .header(fieldsync::protocol::HEADER_DEVICE, "my-laptop")
        .send()
        .expect("a response");
    assert_eq!(resp.status().as_u16(), 400);
    let body: Value = serde_json::from_str(&resp.text().expect("a body")).expect("an error body");
    assert_eq!(body["error"]["code"], "bad_request");
}

/// A service over a fresh store of `kind`.
async fn service(kind: &str) -> (fieldsync::server::Service, Option<tempfile::TempDir>) {
    use fieldsync::server::Service;
    match kind {
        "sqlite" => {
            let dir = tempfile::tempdir().expect("dir");
            let p = dir.path().join("s.sqlite3").display().to_string();
            (Service::open(&p).await.expect("open"), Some(dir))
        }
        _ => {
            let url = tokio::task::spawn_blocking(support::pg::fresh_database)
                .await
                .expect("a database");
            (Service::open(&url).await.expect("open"), None)
        }
    }
}

/// `n` household inserts, pushed as one batch by `device` (with or without no echo).
fn households(device: Uuid, n: usize) -> fieldsync::protocol::PushRequest {
    use fieldsync::model::Operation;
    use fieldsync::protocol::{Change, PushRequest};
    let changes = (0..n)
        .map(|i| Change {
            op_id: Uuid::now_v7(),
            entity_type: EntityType::Household,
            entity_id: Uuid::now_v7(),
            operation: Operation::Insert,
            base_version: None,
            fields: fields(json!({ "name": format!("h{i}") })),
        })
        .collect();
    PushRequest {
        device_id: device,
        changes,
        sequence: None,
    }
}

/// Page by page, with pages smaller than the runs of skipped records: the device's pull
/// brings exactly the other device's records, in order, and its last cursor reaches the
/// team's last version; without naming the device, or from scratch, everything comes.
async fn pages_skip_only_the_devices_own_records(kind: &str) {
    use fieldsync::server::push::PushMode;
    let (svc, _dir) = service(kind).await;
    let amina = svc.add_officer("amina", "north").await.expect("officer");
    let brian = svc.add_officer("brian", "north").await.expect("officer");
    let (amina, brian) = (
        svc.authenticate(&amina).await.expect("auth"),
        svc.authenticate(&brian).await.expect("auth"),
    );
    let (mine, theirs) = (Uuid::now_v7(), Uuid::now_v7());
    let start = svc
        .pull(&amina, PullQuery::default())
        .await
        .expect("pull")
        .next_cursor;
    let no_echo = PushMode {
        no_echo: true,
        seqs: None,
    };
    let mut expected = Vec::new();
    for round in 0..4 {
        let req = households(mine, 5 + round);
        let r = svc
            .push_with(&amina, req, None, no_echo)
            .await
            .expect("push");
        assert!(r.results.iter().all(|r| r.stamped.is_some()));
        let req = households(theirs, 2);
        expected.extend(req.changes.iter().map(|c| c.entity_id));
        svc.push_with(&brian, req, None, no_echo)
            .await
            .expect("push");
    }
    let req = households(mine, 3); // the team's last versions are the device's own
    svc.push_with(&amina, req, None, no_echo)
        .await
        .expect("push");
    let last = svc.stats().await.expect("stats").current_version;
    let (mut cursor, mut got, mut pages) = (start.clone(), Vec::new(), 0);
    loop {
        let page = svc
            .pull(
                &amina,
                PullQuery {
                    cursor: Some(&cursor),
                    limit: Some(3),
                    device: Some(mine),
                    ..PullQuery::default()
                },
            )
            .await
            .expect("pull");
        got.extend(page.records.iter().map(|r| r.id));
        cursor = page.next_cursor;
        pages += 1;
        if !page.has_more {
            break;
        }
    }
    assert_eq!(
        got, expected,
        "exactly the other device's records, in order"
    );
    assert_eq!(pages, 3, "pages of 3 over 8 records");
    let end = svc
        .pull(
            &amina,
            PullQuery {
                cursor: Some(&cursor),
                limit: Some(3),
                seen: Some(last),
                ..PullQuery::default()
            },
        )
        .await
        .expect("pull");
    assert!(
        end.records.is_empty(),
        "the cursor reached the last version"
    );
    // Without naming the device, or from scratch naming it, everything comes.
    let all = svc
        .pull(&amina, PullQuery::page(Some(&start), Some(1000)))
        .await
        .expect("pull");
    assert_eq!(all.records.len(), (5 + 6 + 7 + 8) + 4 * 2 + 3);
    let scratch = svc
        .pull(
            &amina,
            PullQuery {
                limit: Some(1000),
                device: Some(mine),
                ..PullQuery::default()
            },
        )
        .await
        .expect("pull");
    assert_eq!(scratch.records.len(), all.records.len());
}

both_stores!(
    over_http_the_pushing_device_pulls_none_of_its_own,
    pages_skip_only_the_devices_own_records,
    a_malformed_device_header_is_a_bad_request
);
