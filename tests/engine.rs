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

/// Purges every tombstone of `server` (all history so far is forgotten).
fn purge_everything(server: &MemoryServer) {
    let current = server
        .block_on(server.service.stats())
        .unwrap()
        .current_version;
    server
        .block_on(server.service.purge_tombstones(current + 1))
        .unwrap();
}

/// Stops a sync after `pages` pull pages, as a crash between two pages would.
struct StopAfterPages {
    pages: std::rc::Rc<std::cell::Cell<u64>>,
}

impl fieldsync::client::sync::Progress for StopAfterPages {
    fn pulled(&mut self, _n: u64) {
        self.pages.set(self.pages.get() + 1);
    }
}

#[test]
fn a_pull_from_scratch_cut_off_between_pages_still_sweeps_when_it_resumes() {
    let server = MemoryServer::new();
    let (mut ra, mut rb) = (
        server.officer("amina", "north"),
        server.officer("brian", "north"),
    );
    let (mut a, mut b) = (laptop("amina"), laptop("brian"));
    let doomed = household(&mut a, "to be deleted");
    for i in 0..5 {
        household(&mut a, &format!("stays {i}"));
    }
    run_ok(&mut a, &mut ra);
    run_ok(&mut b, &mut rb);
    a.delete(EntityType::Household, doomed).unwrap();
    run_ok(&mut a, &mut ra);
    purge_everything(&server);

    // Brian's re-sync stops after two pages of one record: the sweep has not run yet.
    let pages = std::rc::Rc::new(std::cell::Cell::new(0));
    let mut progress = StopAfterPages {
        pages: pages.clone(),
    };
    let small = SyncOptions {
        pull_limit: 1,
        ..SyncOptions::default()
    };
    let stop = || pages.get() >= 2;
    let report = sync(&mut b, &mut rb, &small, &mut progress, &stop).expect("sync");
    assert_eq!(report.pulled, 2);
    assert!(b.get(EntityType::Household, doomed).unwrap().is_some());

    // Meanwhile brian records a household of his own; the resumed pull sweeps at its end.
    household(&mut b, "brian's own");
    let report = run(&mut b, &mut rb, &small).expect("resumed sync");
    assert_eq!(report.removed, 1, "{report:?}");
    assert!(b.get(EntityType::Household, doomed).unwrap().is_none());
    let mut expected = names(&a);
    expected.push("brian's own".into());
    expected.sort();
    assert_eq!(names(&b), expected);
}

#[test]
fn the_sweep_keeps_records_that_hold_local_work() {
    let server = MemoryServer::new();
    let (mut ra, mut rb) = (
        server.officer("amina", "north"),
        server.officer("brian", "north"),
    );
    let (mut a, mut b) = (laptop("amina"), laptop("brian"));
    let doomed = household(&mut a, "to be deleted");
    run_ok(&mut a, &mut ra);
    run_ok(&mut b, &mut rb);
    a.delete(EntityType::Household, doomed).unwrap();
    run_ok(&mut a, &mut ra);
    purge_everything(&server);
    // Brian, offline, recorded a visit to the household the server no longer has.
    let v = visit(&mut b, doomed, "brian", "seen before the purge");
    let report = run_ok(&mut b, &mut rb);
    assert_eq!(report.rejected, 1, "{report:?}");
    assert_eq!(report.removed, 0, "{report:?}");
    assert!(b.get(EntityType::Visit, v).unwrap().is_some());
    assert!(
        b.get(EntityType::Household, doomed).unwrap().is_some(),
        "the household a kept visit names stays"
    );
}

#[test]
fn a_moved_officer_holds_exactly_the_new_teams_records_and_their_local_work() {
    let server = MemoryServer::new();
    let mut ra = server.officer("amina", "north");
    let mut rc = server.officer("chidi", "south");
    let mut rb = server.officer("brian", "north");
    let (mut a, mut b, mut c) = (laptop("amina"), laptop("brian"), laptop("chidi"));
    let north: Vec<Uuid> = (0..3)
        .map(|i| household(&mut a, &format!("north {i}")))
        .collect();
    visit(&mut a, north[0], "amina", "a north visit");
    for i in 0..2 {
        household(&mut c, &format!("south {i}"));
    }
    run_ok(&mut a, &mut ra);
    run_ok(&mut c, &mut rc);
    assert_eq!(run_ok(&mut b, &mut rb).pulled, 4);
    // Brian edits a north household offline; then the administrator moves him.
    b.edit(
        EntityType::Household,
        north[1],
        fields(json!({ "notes": "brian's edit" })),
    )
    .unwrap();
    server
        .block_on(server.service.move_officer("brian", "south"))
        .unwrap();
    let report = run_ok(&mut b, &mut rb);
    let moved = report.moved.clone().expect("a move reported");
    assert_eq!((moved.from.as_str(), moved.to.as_str()), ("north", "south"));
    assert_eq!((moved.removed, moved.pulled), (3, 2), "{report:?}");
    assert_eq!(report.rejected, 1, "the north edit is refused, not dropped");
    assert_eq!(
        names(&b),
        vec!["north 1".to_string(), "south 0".into(), "south 1".into()]
    );
    let kept = b.get(EntityType::Household, north[1]).unwrap().unwrap();
    assert_eq!(kept.fields["notes"], json!("brian's edit"));
    assert_eq!(b.queue_counts().unwrap().rejected, 1);
    // The next sync is an ordinary one: no move, nothing removed.
    let again = run(&mut b, &mut rb, &SyncOptions::default()).expect("sync");
    assert!(again.moved.is_none() && again.removed == 0, "{again:?}");
}

#[test]
fn a_rejected_record_follows_the_server_and_a_discard_brings_back_the_servers_copy() {
    let server = MemoryServer::new();
    let mut ra = server.officer("amina", "north");
    let mut rb = server.officer("brian", "north");
    let (mut a, mut b) = (laptop("amina"), laptop("brian"));
    let h = household(&mut a, "Wanjiru");
    run_ok(&mut a, &mut ra);
    run_ok(&mut b, &mut rb);
    b.edit(
        EntityType::Household,
        h,
        fields(json!({ "notes": "brian's note" })),
    )
    .unwrap();
    let mv = |team: &str| {
        server
            .block_on(server.service.move_officer("brian", team))
            .unwrap()
    };
    mv("south");
    assert_eq!(run_ok(&mut b, &mut rb).rejected, 1);
    a.edit(
        EntityType::Household,
        h,
        fields(json!({ "village": "Kibera" })),
    )
    .unwrap();
    run_ok(&mut a, &mut ra);
    // Back in north: the pull refreshes the record under the rejected edit.
    mv("north");
    run_ok(&mut b, &mut rb);
    let rec = b.get(EntityType::Household, h).unwrap().unwrap();
    assert_eq!(
        rec.fields["village"],
        json!("Kibera"),
        "the server's change arrived"
    );
    assert_eq!(
        rec.fields["notes"],
        json!("brian's note"),
        "the rejected edit shows"
    );
    assert_eq!(b.queue_counts().unwrap().rejected, 1);

    let rejected = b.discardable().unwrap();
    assert_eq!(rejected.len(), 1);
    let entries: Vec<_> = rejected.into_iter().map(|(e, _)| e).collect();
    let done = b.discard(&entries).unwrap();
    assert_eq!((done.entries, done.refreshed), (1, 1));
    assert!(b.get(EntityType::Household, h).unwrap().is_none());
    run_ok(&mut b, &mut rb);
    let rec = b.get(EntityType::Household, h).unwrap().unwrap();
    assert_eq!(rec.fields["village"], json!("Kibera"));
    assert!(
        rec.fields.get("notes").is_none_or(|n| n.is_null()),
        "{rec:?}"
    );
    assert_eq!(
        b.queue_counts().unwrap().waiting() + b.queue_counts().unwrap().rejected,
        0
    );
}

#[test]
fn a_rebuilt_server_is_refused_until_adopted_and_then_holds_every_local_record_once() {
    let old = MemoryServer::new();
    let mut ra = old.officer("amina", "north");
    let mut a = laptop("amina");
    let h: Vec<Uuid> = (0..3)
        .map(|i| household(&mut a, &format!("h{i}")))
        .collect();
    let v = visit(&mut a, h[0], "amina", "synced visit");
    run_ok(&mut a, &mut ra);
    let gone = household(&mut a, "deleted before the rebuild");
    run_ok(&mut a, &mut ra);
    a.delete(EntityType::Household, gone).unwrap();
    run_ok(&mut a, &mut ra);
    // Offline work waits: an edit of a synced record and a new household.
    a.edit(
        EntityType::Visit,
        v,
        fields(json!({ "notes": "edited later" })),
    )
    .unwrap();
    household(&mut a, "new since");

    let rebuilt = MemoryServer::new();
    let mut rn = rebuilt.officer("amina", "north");
    let err = run(&mut a, &mut rn, &SyncOptions::default()).unwrap_err();
    assert!(matches!(err, Error::OtherServer { .. }), "{err:?}");
    assert_eq!(
        rn.pushes + rn.pulls,
        0,
        "nothing was sent to the other server"
    );

    let adopt = SyncOptions {
        adopt_server: true,
        ..SyncOptions::default()
    };
    let report = run(&mut a, &mut rn, &adopt).expect("adopt");
    let adopted = report.adopted.clone().expect("adopted");
    assert_eq!(
        adopted.resent, 4,
        "three households and the visit: {report:?}"
    );
    // A second device of the new server sees every live record exactly once.
    let mut rb = rebuilt.officer("brian", "north");
    let mut b = laptop("brian");
    run_ok(&mut b, &mut rb);
    assert_eq!(names(&b), names(&a));
    assert_eq!(names(&a), vec!["h0", "h1", "h2", "new since"]);
    let seen = b.get(EntityType::Visit, v).unwrap().expect("the visit");
    assert_eq!(seen.fields["notes"], json!("edited later"));
    let stats = rebuilt.block_on(rebuilt.service.stats()).unwrap();
    assert_eq!(stats.records, 5, "{stats:?}");
    // The adoption is remembered: the next sync is an ordinary one, and the old server is
    // now the stranger.
    let again = run_ok(&mut a, &mut rn);
    assert!(again.adopted.is_none() && again.pushed == 0, "{again:?}");
    let err = run(&mut a, &mut ra, &SyncOptions::default()).unwrap_err();
    assert!(matches!(err, Error::OtherServer { .. }), "{err:?}");
}

#[test]
fn a_record_kept_for_local_work_goes_once_that_work_is_gone() {
    let server = MemoryServer::new();
    let mut ra = server.officer("amina", "north");
    let mut rb = server.officer("brian", "north");
    let (mut a, mut b) = (laptop("amina"), laptop("brian"));
    let h = household(&mut a, "north");
    run_ok(&mut a, &mut ra);
    run_ok(&mut b, &mut rb);
    // Offline, brian visits the north household; then he is moved to south.
    let v = visit(&mut b, h, "brian", "before the move");
    server
        .block_on(server.service.move_officer("brian", "south"))
        .unwrap();
    let report = run_ok(&mut b, &mut rb);
    assert_eq!(report.rejected, 1, "{report:?}");
    assert!(
        b.get(EntityType::Household, h).unwrap().is_some(),
        "kept for the visit"
    );
    // He deletes the visit the server refused: nothing of it is left to send ...
    b.delete(EntityType::Visit, v).unwrap();
    let report = run_ok(&mut b, &mut rb);
    // ... so the ordinary pull that follows removes the household it kept.
    assert!(
        b.get(EntityType::Household, h).unwrap().is_none(),
        "{report:?}"
    );
    assert!(names(&b).is_empty());
    assert_eq!(b.queue_counts().unwrap().waiting(), 0);
}
