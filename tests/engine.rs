//! The sync engine (`client::sync`) against the real server rules in the same process,
//! through the in-memory `Remote` of `tests/support/memory.rs`: batching, compaction,
//! conflicts, rejections, pull pages, re-sync, lost answers and refused tokens — each in
//! milliseconds, without HTTP or server processes. `tests/sync.rs` keeps the end-to-end
//! versions with real processes, kill -9 and a faulty network.

mod support;

use fieldsync::client::store::{ListFilter, Store};
use fieldsync::client::sync::{sync, NoProgress, SyncOptions, SyncReport};
use fieldsync::client::Error;
use fieldsync::model::{EntityType, FieldMap};
use serde_json::{json, Value};
use support::memory::{MemoryRemote, MemoryServer};
use uuid::Uuid;

fn fields(v: Value) -> FieldMap {
    serde_json::from_value(v).expect("a field map")
}

/// A laptop: its own in-memory store, claimed by `officer`.
fn laptop(officer: &str) -> Store {
    let store = Store::open_in_memory().expect("an in-memory store");
    store.claim_officer(officer).expect("claim");
    store
}

fn run(
    store: &mut Store,
    remote: &mut MemoryRemote,
    opts: &SyncOptions,
) -> Result<SyncReport, Error> {
    sync(store, remote, opts, &mut NoProgress, &|| false)
}

fn run_ok(store: &mut Store, remote: &mut MemoryRemote) -> SyncReport {
    run(store, remote, &SyncOptions::default()).expect("sync")
}

fn household(store: &mut Store, name: &str) -> Uuid {
    store
        .add(EntityType::Household, fields(json!({ "name": name })))
        .expect("add household")
}

fn visit(store: &mut Store, household: Uuid, officer: &str, notes: &str) -> Uuid {
    store
        .add(
            EntityType::Visit,
            fields(json!({
                "household_id": household.to_string(),
                "officer_id": officer,
                "visited_at": "2026-11-25T09:30:00Z",
                "notes": notes,
            })),
        )
        .expect("add visit")
}

fn names(store: &Store) -> Vec<String> {
    let mut v: Vec<String> = store
        .list(EntityType::Household, &ListFilter::default())
        .expect("list")
        .into_iter()
        .map(|r| r.fields["name"].as_str().unwrap_or_default().to_string())
        .collect();
    v.sort();
    v
}

#[test]
fn batches_split_the_queue_and_every_record_arrives_once() {
    let server = MemoryServer::new();
    let mut remote = server.officer("amina", "north");
    let mut a = laptop("amina");
    for i in 0..250 {
        household(&mut a, &format!("h{i:03}"));
    }
    let report = run_ok(&mut a, &mut remote);
    assert_eq!((report.pushed, report.accepted), (250, 250));
    assert_eq!(remote.pushes, 3, "250 changes in batches of 100");
    assert_eq!(a.queue_counts().unwrap().waiting(), 0);

    let mut b = laptop("brian");
    let mut brian = server.officer("brian", "north");
    let opts = SyncOptions {
        pull_limit: 100,
        ..SyncOptions::default()
    };
    let report = run(&mut b, &mut brian, &opts).unwrap();
    assert_eq!(report.pulled, 250);
    assert_eq!(brian.pulls, 3, "250 records in pages of 100");
    assert_eq!(names(&b), names(&a));
}

#[test]
fn compaction_sends_one_insert_with_the_final_fields() {
    let server = MemoryServer::new();
    let mut remote = server.officer("amina", "north");
    let mut a = laptop("amina");
    let h = household(&mut a, "first");
    for name in ["second", "third", "final"] {
        a.edit(EntityType::Household, h, fields(json!({ "name": name })))
            .unwrap();
    }
    let gone = household(&mut a, "never sent");
    a.delete(EntityType::Household, gone).unwrap();

    let report = run_ok(&mut a, &mut remote);
    assert_eq!(
        report.pushed, 1,
        "insert + 3 updates -> 1 insert; insert + delete -> nothing"
    );
    let mut b = laptop("brian");
    run_ok(&mut b, &mut server.officer("brian", "north"));
    assert_eq!(names(&b), vec!["final".to_string()]);
}

#[test]
fn concurrent_edits_merge_disjoint_fields_and_file_a_conflict_for_the_same_field() {
    let server = MemoryServer::new();
    let (mut ra, mut rb) = (
        server.officer("amina", "north"),
        server.officer("brian", "north"),
    );
    let (mut a, mut b) = (laptop("amina"), laptop("brian"));
    let h = household(&mut a, "Wanjiru");
    run_ok(&mut a, &mut ra);
    run_ok(&mut b, &mut rb);

    // Disjoint fields: merged on the server, nothing to resolve.
    a.edit(
        EntityType::Household,
        h,
        fields(json!({ "village": "Kibera" })),
    )
    .unwrap();
    b.edit(
        EntityType::Household,
        h,
        fields(json!({ "notes": "two children" })),
    )
    .unwrap();
    run_ok(&mut a, &mut ra);
    let report = run_ok(&mut b, &mut rb);
    assert_eq!((report.merged, report.conflicts), (1, 0));
    run_ok(&mut a, &mut ra);
    let (ha, hb) = (
        a.get(EntityType::Household, h).unwrap().unwrap(),
        b.get(EntityType::Household, h).unwrap().unwrap(),
    );
    assert_eq!(
        ha.fields, hb.fields,
        "both laptops converge on the merged record"
    );
    assert_eq!(ha.fields["village"], "Kibera");
    assert_eq!(ha.fields["notes"], "two children");

    // The same field: a conflict naming it, filed for `resolve`; nothing overwritten.
    a.edit(
        EntityType::Household,
        h,
        fields(json!({ "name": "Amina's spelling" })),
    )
    .unwrap();
    b.edit(
        EntityType::Household,
        h,
        fields(json!({ "name": "Brian's spelling" })),
    )
    .unwrap();
    run_ok(&mut a, &mut ra);
    let report = run_ok(&mut b, &mut rb);
    assert_eq!(report.conflicts, 1);
    let conflicts = b.conflicts().unwrap();
    assert_eq!(conflicts.len(), 1);
    assert_eq!(conflicts[0].field_names(), vec!["name"]);
    assert_eq!(report.conflicts_waiting, 1);
}

#[test]
fn a_rejected_change_stays_in_the_queue_and_the_rest_of_the_batch_lands() {
    let server = MemoryServer::new();
    let mut ra = server.officer("amina", "north");
    let mut a = laptop("amina");
    let h = household(&mut a, "Wanjiru");
    visit(&mut a, h, "amina", "mine");
    // A visit recorded in another officer's name is refused by the server's rules.
    visit(&mut a, h, "brian", "not mine");
    let report = run_ok(&mut a, &mut ra);
    assert_eq!((report.accepted, report.rejected), (2, 1));
    let counts = a.queue_counts().unwrap();
    assert_eq!((counts.waiting(), counts.rejected), (0, 1));
    // Not retried by the next sync until the record is edited.
    let before = ra.pushes;
    run_ok(&mut a, &mut ra);
    assert_eq!(ra.pushes, before);
}

#[test]
fn a_lost_answer_is_sent_again_and_applied_once() {
    let server = MemoryServer::new();
    let mut ra = server.officer("amina", "north");
    let mut a = laptop("amina");
    for i in 0..5 {
        household(&mut a, &format!("h{i}"));
    }
    ra.lose_next_answer = true;
    let err = run(&mut a, &mut ra, &SyncOptions::default()).unwrap_err();
    assert!(matches!(err, Error::Offline(_)), "{err:?}");
    assert_eq!(
        a.queue_counts().unwrap().waiting(),
        5,
        "nothing lost locally"
    );

    let report = run_ok(&mut a, &mut ra);
    assert_eq!(
        report.accepted, 5,
        "the same op_ids get their first results back"
    );
    let mut b = laptop("brian");
    run_ok(&mut b, &mut server.officer("brian", "north"));
    assert_eq!(names(&b).len(), 5, "applied once, not twice");
}

#[test]
fn offline_leaves_the_queue_untouched() {
    let server = MemoryServer::new();
    let mut ra = server.officer("amina", "north");
    let mut a = laptop("amina");
    household(&mut a, "Wanjiru");
    ra.offline = true;
    let err = run(&mut a, &mut ra, &SyncOptions::default()).unwrap_err();
    assert!(err.to_string().contains("1 change waiting"), "{err}");
    assert_eq!((ra.pushes, ra.pulls), (0, 0));
    assert_eq!(a.queue_counts().unwrap().pending, 1);
}

#[test]
fn a_revoked_token_puts_the_batch_back_untouched() {
    let server = MemoryServer::new();
    let mut ra = server.officer("amina", "north");
    let mut a = laptop("amina");
    household(&mut a, "Wanjiru");
    server
        .block_on(server.service.revoke_officer("amina"))
        .unwrap();
    let err = run(&mut a, &mut ra, &SyncOptions::default()).unwrap_err();
    assert!(matches!(err, Error::Unauthorized(_)), "{err:?}");
    let counts = a.queue_counts().unwrap();
    assert_eq!((counts.pending, counts.sending), (1, 0));
}

/// Two laptops in sync; then amina deletes one household, adds three, and the server purges
/// every tombstone, so brian's cursor points into history the server has forgotten.
fn purged_behind_brian() -> (Store, Store, Uuid) {
    let server = MemoryServer::new();
    let (mut ra, mut rb) = (
        server.officer("amina", "north"),
        server.officer("brian", "north"),
    );
    let (mut a, mut b) = (laptop("amina"), laptop("brian"));
    let doomed = household(&mut a, "to be deleted");
    household(&mut a, "stays");
    run_ok(&mut a, &mut ra);
    run_ok(&mut b, &mut rb);
    a.delete(EntityType::Household, doomed).unwrap();
    for i in 0..3 {
        household(&mut a, &format!("later {i}"));
    }
    run_ok(&mut a, &mut ra);
    let current = server
        .block_on(server.service.stats())
        .unwrap()
        .current_version;
    server
        .block_on(server.service.purge_tombstones(current + 1))
        .unwrap();
    let report = run_ok(&mut b, &mut rb);
    assert!(report.pulled >= 4, "pulled from scratch: {report:?}");
    (a, b, doomed)
}

#[test]
fn a_cursor_behind_the_history_floor_pulls_from_scratch() {
    let (a, b, _) = purged_behind_brian();
    // Every live record of the server arrived in the pull from scratch.
    for name in names(&a) {
        assert!(
            names(&b).contains(&name),
            "{name} missing on brian's laptop"
        );
    }
}

#[test]
#[ignore = "known bug, not fixed: a pull from scratch leaves records whose tombstones were purged alive on the laptop"]
fn a_pull_from_scratch_removes_records_the_server_no_longer_has() {
    let (a, b, doomed) = purged_behind_brian();
    // A pull from scratch cannot deliver a tombstone the server purged: a record that is
    // gone from the server and holds no local work must go from the laptop too.
    assert_eq!(names(&b), names(&a));
    assert!(b
        .get(EntityType::Household, doomed)
        .unwrap()
        .is_none_or(|r| r.is_deleted()));
}

#[test]
fn another_team_sees_nothing() {
    let server = MemoryServer::new();
    let mut ra = server.officer("amina", "north");
    let mut rc = server.officer("chidi", "south");
    let mut a = laptop("amina");
    household(&mut a, "north only");
    run_ok(&mut a, &mut ra);
    let mut c = laptop("chidi");
    let report = run_ok(&mut c, &mut rc);
    assert_eq!(report.pulled, 0);
    assert!(names(&c).is_empty());
}

/// Forms travel with the pull through the in-memory remote as over HTTP (issue 15): the
/// team's versions arrive, a new version arrives with the next sync, other teams get none.
#[test]
fn forms_arrive_with_the_pull() {
    let sample =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/forms/household-visit");
    let form = fieldsync::forms::Form::load(&sample).expect("the sample form");
    let server = MemoryServer::new();
    let mut ra = server.officer("amina", "north");
    let mut rc = server.officer("chidi", "south");
    let mut a = laptop("amina");
    let mut c = laptop("chidi");
    run_ok(&mut a, &mut ra);
    assert!(a.current_form().unwrap().is_none());

    server
        .block_on(server.service.publish_form("north", &form))
        .expect("publish");
    run_ok(&mut a, &mut ra);
    run_ok(&mut c, &mut rc);
    let held = a.current_form().unwrap().expect("north's form arrived");
    assert_eq!((held.version, held.form.form_id()), (1, "household_visit"));
    assert!(held.hash_matches());
    assert!(c.current_form().unwrap().is_none(), "south has no form");

    server
        .block_on(server.service.publish_form("north", &form))
        .expect("publish again");
    run_ok(&mut a, &mut ra);
    assert_eq!(a.current_form().unwrap().map(|f| f.version), Some(2));
    assert_eq!(a.form_version(1).unwrap().map(|f| f.version), Some(1));
}
