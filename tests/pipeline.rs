//! The push pipeline (issue 14): the next batch is taken while the one before is on the
//! wire, batches still reach the server in queue order (a household before its visits), and
//! a failure part-way leaves exactly what a one-at-a-time push would: the failed batch
//! `sending` (sent again with its op_ids), the batches behind it back to `pending`.

mod support;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use fieldsync::client::remote::{PullAsk, Remote, RemoteError, Traffic};
use fieldsync::client::store::Store;
use fieldsync::client::sync::{sync, NoProgress, SyncOptions};
use fieldsync::model::{EntityType, FieldMap};
use fieldsync::protocol::{HealthResponse, PullResponse, PushRequest, PushResponse};
use serde_json::json;
use support::memory::{MemoryRemote, MemoryServer};

/// A [`MemoryRemote`] that, during its first push, watches the device's database through a
/// second connection, and can fail one push as an unreachable server would.
struct Watching {
    inner: MemoryRemote,
    db: PathBuf,
    pushes: u32,
    /// `sending` entries seen while the first push was on the wire (its batch plus any
    /// batch taken meanwhile).
    sending_during_first: i64,
    /// Fail this push (1-based) before it reaches the server.
    fail_push: Option<u32>,
}

impl Watching {
    /// Waits (up to 5 s) for the engine to take another batch beside the one in flight.
    fn watch_the_queue(&mut self, batch: usize) {
        let other = Store::open(&self.db).expect("a second connection");
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let sending = other.queue_counts().expect("counts").sending;
            self.sending_during_first = sending;
            if sending > batch as i64 || Instant::now() > deadline {
                return;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

impl Remote for Watching {
    fn health(&mut self) -> Result<HealthResponse, RemoteError> {
        self.inner.health()
    }
    fn push(&mut self, req: &PushRequest, seen: Option<i64>) -> Result<PushResponse, RemoteError> {
        self.pushes += 1;
        if self.pushes == 1 {
            self.watch_the_queue(req.changes.len());
        }
        if self.fail_push == Some(self.pushes) {
            return Err(RemoteError::Offline("cannot connect (test)".into()));
        }
        self.inner.push(req, seen)
    }
    fn pull(&mut self, ask: &PullAsk<'_>) -> Result<PullResponse, RemoteError> {
        self.inner.pull(ask)
    }
    fn traffic(&self) -> Traffic {
        self.inner.traffic()
    }
}

fn fields(v: serde_json::Value) -> FieldMap {
    serde_json::from_value(v).expect("a field map")
}

/// A device database on disk (so a second connection can watch it) with one household and
/// `visits` visits queued, the household first.
fn device_with_visits(dir: &tempfile::TempDir, visits: usize) -> (Store, PathBuf) {
    let db = dir.path().join("device.sqlite3");
    let mut store = Store::open(&db).expect("open");
    store.claim_officer("amina").expect("claim");
    let h = store
        .add(EntityType::Household, fields(json!({"name": "Wanjiru"})))
        .expect("household");
    for i in 0..visits {
        let v = json!({
            "household_id": h.to_string(),
            "officer_id": "amina",
            "visited_at": "2026-11-25T09:30:00Z",
            "notes": format!("visit {i}"),
        });
        store.add(EntityType::Visit, fields(v)).expect("visit");
    }
    (store, db)
}

fn watching(server: &MemoryServer, db: PathBuf, fail_push: Option<u32>) -> Watching {
    Watching {
        inner: server.officer("amina", "north"),
        db,
        pushes: 0,
        sending_during_first: 0,
        fail_push,
    }
}

fn opts(batch_size: usize) -> SyncOptions {
    SyncOptions {
        batch_size,
        ..SyncOptions::default()
    }
}

#[test]
fn the_next_batch_is_taken_while_one_is_on_the_wire_and_order_holds() {
    let dir = tempfile::tempdir().expect("dir");
    let (mut store, db) = device_with_visits(&dir, 9);
    let server = MemoryServer::new();
    let mut remote = watching(&server, db, None);
    // Batches of one: the household alone in the first, each visit after it.
    let report = sync(&mut store, &mut remote, &opts(1), &mut NoProgress, &|| {
        false
    })
    .expect("sync");
    assert_eq!(
        remote.sending_during_first, 2,
        "batch 2 is taken while batch 1 is on the wire"
    );
    assert_eq!((report.pushed, report.accepted), (10, 10));
    assert_eq!(remote.pushes, 10, "one request per batch");
    let q = store.queue_counts().expect("counts");
    assert_eq!((q.pending, q.sending), (0, 0));
}

#[test]
fn a_failure_part_way_leaves_the_failed_batch_sending_and_puts_the_rest_back() {
    let dir = tempfile::tempdir().expect("dir");
    let (mut store, db) = device_with_visits(&dir, 29);
    let server = MemoryServer::new();
    let mut remote = watching(&server, db, Some(2));
    let err = sync(&mut store, &mut remote, &opts(10), &mut NoProgress, &|| {
        false
    })
    .expect_err("the second push fails");
    assert!(err.to_string().contains("offline"), "{err}");
    let q = store.queue_counts().expect("counts");
    assert_eq!(
        (q.pending, q.sending),
        (10, 10),
        "batch 2 stays sending, batch 3 (taken, never sent) is back"
    );
    // The next sync sends everything left once.
    remote.fail_push = None;
    let report = sync(&mut store, &mut remote, &opts(10), &mut NoProgress, &|| {
        false
    })
    .expect("sync");
    assert_eq!((report.pushed, report.accepted), (20, 20));
    let stats = server.block_on(server.service.stats()).expect("stats");
    assert_eq!(stats.records, 30, "every record once");
}
