//! PostgreSQL push speed from the first minute (issue 14): a push's lookups must use the
//! primary-key indexes once the tables have grown, in a fresh database that autovacuum has
//! not analysed yet.
//!
//! The failure this guards against: a pooled connection's prepared `ops` lookup switched to
//! a generic plan after five pushes, planned while `ops` was nearly empty (a sequential
//! scan), and kept it while the table grew, so every push read the whole `ops` table (a
//! 100,000-visit push at batch 100 went from 13 to 60 ms per request). The store now plans
//! every execution for its parameters (`plan_cache_mode = force_custom_plan` on each pooled
//! connection). The proof is PostgreSQL's own counter of rows read by sequential scans.
//!
//! And the planner's statistics must exist within seconds, not after autovacuum's first
//! visit (a minute): without them a pull read every record after its cursor for each page.

mod support;

use fieldsync::model::{EntityType, FieldMap, Operation};
use fieldsync::protocol::{Change, ChangeStatus, PushRequest};
use fieldsync::server::store::{self, Officer};
use fieldsync::server::Service;
use serde_json::json;
use std::time::{Duration, Instant};
use uuid::Uuid;

const BATCH: usize = 100;
const BATCHES: usize = 200;

fn change(entity_type: EntityType, fields: FieldMap) -> Change {
    Change {
        op_id: Uuid::now_v7(),
        entity_type,
        entity_id: fieldsync::model::new_id(),
        operation: Operation::Insert,
        base_version: None,
        fields,
    }
}

fn fields(v: serde_json::Value) -> FieldMap {
    serde_json::from_value(v).expect("a field map")
}

/// Pushes `batches` batches of `BATCH` changes (a household, then visits) through the
/// service, each accepted; the service (its store and pool stay open while it lives).
async fn push_all(url: &str, batches: usize) -> Service {
    let store = store::open(url).await.expect("open the store");
    store
        .add_officer("amina", "north", "hash-of-amina")
        .await
        .expect("add officer");
    let service = Service::new(store).await.expect("service");
    let amina = Officer {
        id: "amina".into(),
        team: "north".into(),
        created_at: String::new(),
        revoked: false,
    };
    let household = change(EntityType::Household, fields(json!({"name": "Farm"})));
    let hid = household.entity_id.to_string();
    let mut changes = vec![household];
    changes.extend((1..BATCH * batches).map(|i| {
        let v = json!({"household_id": hid, "officer_id": "amina", "visited_at": "2026-11-20T09:30:00Z", "notes": format!("visit {i}")});
        change(EntityType::Visit, fields(v))
    }));
    for batch in changes.chunks(BATCH) {
        let req = PushRequest {
            device_id: Uuid::new_v4(),
            changes: batch.to_vec(),
            sequence: None,
        };
        let res = service.push(&amina, req).await.expect("push");
        let refused = res
            .results
            .iter()
            .find(|r| r.status != ChangeStatus::Accepted);
        assert!(refused.is_none(), "{refused:?}");
    }
    service
}

/// `ops`' (rows inserted, rows read by sequential scans), once the statistics of every
/// closed connection have arrived.
async fn ops_counters(url: &str, inserted: i64) -> (i64, i64) {
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .expect("connect");
    tokio::spawn(conn);
    let started = Instant::now();
    loop {
        let row = client
            .query_one(
                "SELECT n_tup_ins, COALESCE(seq_tup_read, 0) FROM pg_stat_user_tables WHERE relname = 'ops'",
                &[],
            )
            .await
            .expect("read table statistics");
        let (ins, seq): (i64, i64) = (row.get(0), row.get(1));
        // Backends report their counters when they go idle or exit: wait for all of them.
        if ins >= inserted || started.elapsed() > Duration::from_secs(20) {
            return (ins, seq);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[test]
fn pushes_into_a_fresh_database_do_not_scan_the_ops_table_as_it_grows() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let url = support::pg::fresh_database();
    drop(rt.block_on(push_all(&url, BATCHES)));
    let total = (BATCH * BATCHES) as i64;
    let (inserted, seq_read) = rt.block_on(ops_counters(&url, total));
    assert_eq!(inserted, total, "every op_id stored");
    // One sequential scan per push would read about total² / (2 × BATCH) rows (2,000,000
    // here). A plan made for the table's current size scans only while the table is small
    // (a few thousand rows), then uses the primary key.
    let scan_per_push = total * total / (2 * BATCH as i64);
    assert!(
        seq_read < scan_per_push / 4,
        "{seq_read} ops rows read by sequential scans (one scan per push would read {scan_per_push}): \
         the op_id lookup is not using its index as the table grows"
    );
}

#[test]
fn the_growing_tables_are_analysed_within_seconds_of_a_push() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let url = support::pg::fresh_database();
    rt.block_on(async {
        let service = push_all(&url, 20).await;
        let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
            .await
            .expect("connect");
        tokio::spawn(conn);
        let started = Instant::now();
        // `last_analyze` is a manual ANALYZE's (autovacuum's is `last_autoanalyze`).
        let analysed = loop {
            let n: i64 = client
                .query_one(
                    "SELECT count(*) FROM pg_stat_user_tables \
                     WHERE relname IN ('records', 'ops') AND last_analyze IS NOT NULL",
                    &[],
                )
                .await
                .expect("read table statistics")
                .get(0);
            if n == 2 || started.elapsed() > Duration::from_secs(15) {
                break n;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        assert_eq!(
            analysed, 2,
            "records and ops analysed while the server runs"
        );
        drop(service);
    });
}
