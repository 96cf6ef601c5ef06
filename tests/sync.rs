//! `fieldsync sync` and `fieldsync resolve` end to end: real `fieldsync serve` processes on
//! 127.0.0.1 (SQLite and PostgreSQL stores), one database per officer, the real client binary.

mod support;

use std::collections::BTreeMap;

use serde_json::{json, Value};
use std::time::{Duration, Instant};

use support::device::Device;
use support::proxy::{Fault, FaultProxy};
use support::{both_stores, StoreKind, TestServer};

both_stores!(
    a_team_sees_each_others_work_and_no_other_team_does,
    a_week_offline_arrives_once_in_few_requests,
    offline_is_exit_75_with_the_queue_untouched,
    a_revoked_token_is_exit_77_and_loses_nothing,
    rejected_changes_wait_for_an_edit,
    the_conflict_walkthrough_with_field_flags,
    keep_theirs_and_keep_mine_settle_every_conflict,
    delete_against_edit_both_ways,
    two_syncs_at_once_never_send_twice,
    kill_9_during_push_and_pull_loses_nothing,
    a_busy_server_is_waited_for,
    an_edit_after_a_merge_whose_pull_failed_still_conflicts,
    watch_mode_syncs_new_work_and_stops_on_sigterm,
    watch_mode_quits_at_once_on_a_second_signal,
);

fn proxy_to(server: &TestServer) -> FaultProxy {
    FaultProxy::start(server.url.trim_start_matches("http://").parse().unwrap())
}

/// An officer whose laptop reaches the server through `proxy`.
fn officer_via(server: &TestServer, proxy: &FaultProxy, id: &str, team: &str) -> Device {
    let token = server.add_officer(id, team);
    Device::for_officer(&proxy.url(), id, &token)
}

fn officer(server: &TestServer, id: &str, team: &str) -> Device {
    let token = server.add_officer(id, team);
    Device::for_officer(&server.url, id, &token)
}

/// The fields that must agree between devices and the server.
fn shared(r: &Value) -> Value {
    json!({
        "id": r["id"], "name": r["name"], "village": r["village"], "notes": r["notes"],
        "gps_lat": r["gps_lat"], "gps_lon": r["gps_lon"], "answers": r["answers"],
        "household_id": r["household_id"], "officer_id": r["officer_id"],
        "visited_at": r["visited_at"], "version": r["version"], "deleted": r["deleted_at"].is_string(),
    })
}

fn shared_all(d: &Device, entity: &str) -> BTreeMap<String, Value> {
    d.records(entity)
        .into_iter()
        .map(|(k, v)| (k, shared(&v)))
        .collect()
}

fn a_team_sees_each_others_work_and_no_other_team_does(kind: StoreKind) {
    let server = TestServer::new(kind);
    let amina = officer(&server, "amina", "north");
    let brian = officer(&server, "brian", "north");
    let chen = officer(&server, "chen", "south");
    let h1 = amina.add_household("Wanjiru");
    amina.ok(&["visit", "add", "--household", &h1, "--answer", "crop=maize"]);
    let h2 = brian.add_household("Otieno");
    brian.ok(&["visit", "add", "--household", &h2, "--notes", "well water"]);
    let south = chen.add_household("Li");

    let r = amina.sync_expect(0);
    assert_eq!(r["pushed"], 2);
    assert_eq!(r["accepted"], 2);
    brian.sync_expect(0);
    amina.sync_expect(0);
    chen.sync_expect(0);

    for d in [&amina, &brian] {
        assert_eq!(d.records("household").len(), 2);
        assert_eq!(d.records("visit").len(), 2);
        let st = d.json(&["status"]);
        assert_eq!(st["queue"]["pending"], 0);
        assert_eq!(st["households"]["synced"], 2);
    }
    assert_eq!(shared_all(&amina, "visit"), shared_all(&brian, "visit"));
    assert_eq!(
        shared_all(&amina, "household"),
        shared_all(&brian, "household")
    );
    let chen_sees: Vec<String> = chen.records("household").into_keys().collect();
    assert_eq!(chen_sees, vec![south]);
    assert!(chen.records("visit").is_empty());
}

fn a_week_offline_arrives_once_in_few_requests(kind: StoreKind) {
    let server = TestServer::new(kind);
    let proxy = proxy_to(&server);
    let amina = officer_via(&server, &proxy, "amina", "north");
    let h = amina.add_household("Wanjiru");
    // A week of visits through the import fast path, then three edits of half of them
    // through the store, as `visit edit` would make them.
    let visits = 4_000;
    let mut jsonl = String::new();
    for i in 0..visits {
        jsonl.push_str(&format!(
            "{{\"household_id\": \"{h}\", \"notes\": \"visit {i}\", \"crop\": \"maize\"}}\n"
        ));
    }
    amina
        .cmd(&["visit", "import", "-"])
        .write_stdin(jsonl)
        .assert()
        .success();
    let ids: Vec<String> = amina.records("visit").into_keys().collect();
    {
        let mut store = fieldsync::client::store::Store::open(&amina.db).unwrap();
        for round in 0..3 {
            for id in ids.iter().step_by(2) {
                let mut f = fieldsync::model::FieldMap::new();
                f.insert("notes".into(), json!(format!("edit {round} of {id}")));
                f.insert("answers.round".into(), json!(round.to_string()));
                store
                    .edit(
                        fieldsync::model::EntityType::Visit,
                        uuid::Uuid::parse_str(id).unwrap(),
                        f,
                    )
                    .unwrap();
            }
        }
    }
    let queued = amina.json(&["queue"])["pending"].as_i64().unwrap();
    assert_eq!(queued, 1 + visits + 3 * (visits / 2));
    assert!(queued >= 10_000, "a week of work: {queued} changes");

    let r = amina.sync_expect(0);
    let after_compaction = 1 + visits;
    assert_eq!(r["pushed"], after_compaction);
    assert_eq!(r["accepted"], after_compaction);
    // health + pushes + pull pages; pushes are ⌈changes / batch⌉. Her first sync: the pull
    // from scratch brings its first page (500) of what she just pushed, then names her device
    // and the rest is left out (no sweep on a first sync, no echo): one more request.
    let pushes = (after_compaction as u64).div_ceil(100);
    let pulls = 1 + u64::from(after_compaction > 500);
    assert_eq!(r["requests"].as_u64().unwrap(), 1 + pushes + pulls, "{r}");
    assert_eq!(r["pulled"], after_compaction.min(500), "{r}");
    // Counted where the requests reach the server, not by the client.
    assert_eq!(proxy.forwarded_to("/v1/push"), pushes);

    // Another device of the team sees every record once, with its final values.
    let brian = officer(&server, "brian", "north");
    let b = brian.sync_expect(0);
    assert_eq!(b["pulled"], after_compaction);
    let got = brian.records("visit");
    assert_eq!(got.len(), visits as usize);
    for (i, id) in ids.iter().enumerate() {
        let v = &got[id];
        if i % 2 == 0 {
            assert_eq!(v["notes"], format!("edit 2 of {id}"));
            assert_eq!(v["answers"]["round"], "2");
        } else {
            assert!(v["notes"].as_str().unwrap().starts_with("visit "));
        }
        assert_eq!(v["answers"]["crop"], "maize");
    }
    assert_eq!(shared_all(&amina, "visit"), shared_all(&brian, "visit"));
    // Nothing left to do: a second sync pushes and pulls nothing.
    let again = amina.sync_expect(0);
    assert_eq!(again["pushed"], 0);
    assert_eq!(again["pulled"], 0);
}

fn offline_is_exit_75_with_the_queue_untouched(kind: StoreKind) {
    let mut server = TestServer::new(kind);
    let amina = officer(&server, "amina", "north");
    let h = amina.add_household("Wanjiru");
    amina.ok(&["visit", "add", "--household", &h]);
    server.kill9();
    let before = amina.snapshot();
    let (code, out, err) = amina.sync(&[]);
    assert_eq!(code, 75, "{err}");
    assert!(out.is_empty());
    assert!(err.contains("offline: 2 changes waiting"), "{err}");
    assert_eq!(amina.snapshot(), before);
    // Back online (same database, new port): everything arrives.
    server.restart();
    amina.init(&server.url, "amina", &token_of(&amina));
    let r = amina.sync_expect(0);
    assert_eq!(r["accepted"], 2);
}

fn token_of(d: &Device) -> String {
    let config = std::fs::read_to_string(&d.config).unwrap();
    let v: toml::Value = toml::from_str(&config).unwrap();
    v["token"].as_str().unwrap().to_string()
}

fn a_revoked_token_is_exit_77_and_loses_nothing(kind: StoreKind) {
    let server = TestServer::new(kind);
    let amina = officer(&server, "amina", "north");
    amina.add_household("Wanjiru");
    let (code, _, _) = support::admin(&server.db, &["officer", "revoke", "amina"]);
    assert_eq!(code, 0);
    let before = amina.snapshot();
    let (code, _, err) = amina.sync(&[]);
    assert_eq!(code, 77, "{err}");
    assert!(
        err.contains("token") && err.contains("fieldsync init"),
        "{err}"
    );
    assert_eq!(amina.snapshot(), before);
}

fn rejected_changes_wait_for_an_edit(kind: StoreKind) {
    let server = TestServer::new(kind);
    let amina = officer(&server, "amina", "north");
    let h = amina.add_household("Wanjiru");
    amina.sync_expect(0);
    // Recorded offline against a north household; then amina is moved to team south.
    let v = amina.ok(&["visit", "add", "--household", &h]);
    let v = v.trim();
    let (code, _, _) = support::admin(&server.db, &["officer", "move", "amina", "--team", "south"]);
    assert_eq!(code, 0);
    let r = amina.sync_expect(4);
    assert_eq!(r["rejected"], 1);
    let q = amina.json(&["queue", "--rejected"]);
    let entries = q["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["entity_id"], v);
    assert!(entries[0]["last_error"]
        .as_str()
        .unwrap()
        .contains("forbidden"));
    let text = amina.ok(&["status"]);
    assert!(text.contains("rejected     1"), "{text}");
    // Not retried by the next sync.
    let r = amina.sync_expect(4);
    assert_eq!(r["pushed"], 0);
}

/// Two officers edit one visit offline: both change notes, amina answers.crop, brian gps.
fn edit_the_same_visit(kind: StoreKind) -> (TestServer, Device, Device, String) {
    let server = TestServer::new(kind);
    let amina = officer(&server, "amina", "north");
    let brian = officer(&server, "brian", "north");
    let h = amina.add_household("Wanjiru");
    let v = amina
        .ok(&[
            "visit",
            "add",
            "--household",
            &h,
            "--notes",
            "first",
            "--answer",
            "crop=maize",
        ])
        .trim()
        .to_string();
    amina.sync_expect(0);
    brian.sync_expect(0);
    amina.ok(&[
        "visit",
        "edit",
        &v,
        "--notes",
        "amina's notes",
        "--answer",
        "crop=rice",
    ]);
    brian.ok(&[
        "visit",
        "edit",
        &v,
        "--notes",
        "brian's notes",
        "--gps",
        "1.5,2.5",
    ]);
    amina.sync_expect(0);
    let r = brian.sync_expect(3);
    assert_eq!(r["conflicts"], 1);
    (server, amina, brian, v)
}

fn converged(server: &TestServer, a: &Device, b: &Device) -> BTreeMap<String, Value> {
    a.sync_expect(0);
    b.sync_expect(0);
    a.sync_expect(0);
    static AUDITORS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = AUDITORS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let fresh = officer(server, &format!("auditor{n}"), "north");
    fresh.sync_expect(0);
    let on_server = shared_all(&fresh, "visit");
    assert_eq!(shared_all(a, "visit"), on_server);
    assert_eq!(shared_all(b, "visit"), on_server);
    assert_eq!(shared_all(a, "household"), shared_all(&fresh, "household"));
    on_server
}

fn the_conflict_walkthrough_with_field_flags(kind: StoreKind) {
    let (server, amina, brian, v) = edit_the_same_visit(kind);
    let conflicts = brian.json(&["conflicts"]);
    let c = &conflicts[0];
    assert_eq!(c["id"], v.as_str());
    // The listing's short id names the conflict as well as the full id does.
    let short = c["short_id"]
        .as_str()
        .expect("short_id in conflicts --json")
        .to_string();
    assert!(short.len() >= 4 && short.len() < 36, "{short}");
    assert!(brian.ok(&["visit", "show", &short]).contains(&short));
    let fields: Vec<&Value> = c["fields"].as_array().unwrap().iter().collect();
    assert_eq!(fields.len(), 1, "only notes collides: {c}");
    assert_eq!(fields[0]["field"], "notes");
    assert_eq!(fields[0]["base"], "first");
    assert_eq!(fields[0]["mine"], "brian's notes");
    assert_eq!(fields[0]["theirs"], "amina's notes");
    // status and sync keep pointing at it.
    assert!(brian.ok(&["status"]).contains("conflicts    1"));
    // Scripts never get a prompt: without flags, exit 2 naming them.
    let err = brian.fails(2, &["resolve"]);
    assert!(err.contains("--keep") && err.contains("--field"), "{err}");
    brian.fails(2, &["resolve", &v, "--field", "gps=mine"]);
    brian.ok(&["resolve", &v[..10], "--field", "notes=mine"]);
    assert_eq!(brian.json(&["conflicts"]), json!([]));
    let visits = converged(&server, &amina, &brian);
    let final_visit = &visits[&v];
    assert_eq!(final_visit["notes"], "brian's notes");
    assert_eq!(final_visit["answers"]["crop"], "rice");
    assert_eq!(final_visit["gps_lat"], 1.5);
}

fn keep_theirs_and_keep_mine_settle_every_conflict(kind: StoreKind) {
    let (server, amina, brian, v) = edit_the_same_visit(kind);
    brian.ok(&["resolve", "--all", "--keep", "theirs"]);
    let visits = converged(&server, &amina, &brian);
    assert_eq!(visits[&v]["notes"], "amina's notes");
    assert_eq!(visits[&v]["gps_lat"], 1.5, "brian's gps was merged");

    // Again, the other way round.
    amina.ok(&["visit", "edit", &v, "--notes", "amina again"]);
    brian.ok(&["visit", "edit", &v, "--notes", "brian again"]);
    amina.sync_expect(0);
    brian.sync_expect(3);
    brian.ok(&["resolve", "--all", "--keep", "mine"]);
    let visits = converged(&server, &amina, &brian);
    assert_eq!(visits[&v]["notes"], "brian again");
}

fn delete_against_edit_both_ways(kind: StoreKind) {
    let server = TestServer::new(kind);
    let amina = officer(&server, "amina", "north");
    let brian = officer(&server, "brian", "north");
    let h = amina.add_household("Wanjiru");
    let v1 = amina.add_visit(&h, "one");
    let v2 = amina.add_visit(&h, "two");
    amina.sync_expect(0);
    brian.sync_expect(0);
    // v1: amina deletes, brian edits (brian syncs second: the server deleted it).
    // v2: amina edits, brian deletes (brian's delete collides with the edit).
    amina.ok(&["visit", "delete", &v1]);
    amina.ok(&["visit", "edit", &v2, "--notes", "two, edited"]);
    brian.ok(&["visit", "edit", &v1, "--notes", "one, edited"]);
    brian.ok(&["visit", "delete", &v2]);
    amina.sync_expect(0);
    let r = brian.sync_expect(3);
    assert_eq!(r["conflicts"], 2);
    // Restore v1 with brian's edit; keep brian's delete of v2.
    brian.ok(&["resolve", &v1, "--keep", "mine"]);
    brian.ok(&["resolve", &v2, "--keep", "mine"]);
    let visits = converged(&server, &amina, &brian);
    assert_eq!(visits[&v1]["notes"], "one, edited");
    assert_eq!(visits[&v1]["deleted"], false);
    assert_eq!(visits[&v2]["deleted"], true);

    // And accepting the other side: amina deletes again, brian edits; brian accepts it.
    amina.ok(&["visit", "delete", &v1]);
    brian.ok(&["visit", "edit", &v1, "--notes", "too late"]);
    amina.sync_expect(0);
    brian.sync_expect(3);
    brian.ok(&["resolve", &v1, "--keep", "theirs"]);
    let visits = converged(&server, &amina, &brian);
    assert_eq!(visits[&v1]["deleted"], true);
}

fn import_visits(d: &Device, household: &str, n: usize) {
    let mut jsonl = String::new();
    for i in 0..n {
        jsonl.push_str(&format!(
            "{{\"household_id\": \"{household}\", \"notes\": \"v{i}\"}}\n"
        ));
    }
    d.cmd(&["visit", "import", "-"])
        .write_stdin(jsonl)
        .assert()
        .success();
}

fn two_syncs_at_once_never_send_twice(kind: StoreKind) {
    let server = TestServer::new(kind);
    let amina = officer(&server, "amina", "north");
    let h = amina.add_household("Wanjiru");
    import_visits(&amina, &h, 2_000);
    let spawn = || {
        amina
            .spawn_cmd(&["sync", "--json", "--batch-size", "50"])
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn(), spawn());
    let outs = [a.wait_with_output().unwrap(), b.wait_with_output().unwrap()];
    let mut pushed = 0;
    for o in &outs {
        match o.status.code() {
            Some(0) => {
                let r: Value = serde_json::from_slice(&o.stdout).unwrap();
                pushed += r["pushed"].as_u64().unwrap();
            }
            Some(75) => {
                let err = String::from_utf8_lossy(&o.stderr);
                assert!(err.contains("another `fieldsync sync` is running"), "{err}");
            }
            other => panic!(
                "sync ended with {other:?}: {}",
                String::from_utf8_lossy(&o.stderr)
            ),
        }
    }
    assert_eq!(pushed, 2_001, "every change pushed exactly once");
    let brian = officer(&server, "brian", "north");
    assert_eq!(brian.sync_expect(0)["pulled"], 2_001);

    // A sync that finds the lock held waits briefly, then says so and exits 75.
    let lock = std::fs::File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(format!("{}.sync-lock", amina.db.display()))
        .unwrap();
    lock.lock().unwrap();
    amina.ok(&["visit", "add", "--household", &h]);
    let before = amina.snapshot();
    let started = std::time::Instant::now();
    let (code, _, err) = amina.sync(&[]);
    assert_eq!(code, 75, "{err}");
    assert!(err.contains("another `fieldsync sync` is running"), "{err}");
    assert!(
        started.elapsed() >= std::time::Duration::from_secs(2),
        "it waited briefly first"
    );
    assert_eq!(amina.snapshot(), before);
    drop(lock);
    assert_eq!(amina.sync_expect(0)["pushed"], 1);
}

fn watch_mode_syncs_new_work_and_stops_on_sigterm(kind: StoreKind) {
    let server = TestServer::new(kind);
    let amina = officer(&server, "amina", "north");
    let brian = officer(&server, "brian", "north");
    let h = amina.add_household("Wanjiru");
    let mut watch = amina
        .spawn_cmd(&["sync", "--watch", "--interval", "1h", "--quiet"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let wait_for = |what: &str, f: &dyn Fn() -> bool| {
        let start = std::time::Instant::now();
        while !f() {
            assert!(
                start.elapsed() < std::time::Duration::from_secs(40),
                "timed out waiting for {what}"
            );
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
    };
    // The first sync happens at start.
    wait_for("the first sync", &|| {
        amina.json(&["queue"])["pending"] == 0 && amina.json(&["queue"])["sending"] == 0
    });
    // New local work is synced soon after it appears, long before the 1 h interval.
    amina.ok(&[
        "visit",
        "add",
        "--household",
        &h,
        "--notes",
        "seen by the watcher",
    ]);
    wait_for("the watcher to push the visit", &|| {
        brian.sync_expect(0);
        brian.records("visit").len() == 1
    });
    // Idle, it sleeps: little CPU over two seconds.
    let ticks = || -> u64 {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", watch.id())).unwrap();
        let after = &stat[stat.rfind(')').unwrap() + 2..];
        let f: Vec<&str> = after.split(' ').collect();
        f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap()
    };
    let t0 = ticks();
    std::thread::sleep(std::time::Duration::from_secs(2));
    assert!(ticks() - t0 < 20, "the watcher is busy while idle");
    // SIGTERM: a clean exit.
    std::process::Command::new("kill")
        .args(["-TERM", &watch.id().to_string()])
        .status()
        .unwrap();
    let start = std::time::Instant::now();
    let status = loop {
        if let Some(st) = watch.try_wait().unwrap() {
            break st;
        }
        assert!(
            start.elapsed() < std::time::Duration::from_secs(10),
            "watch did not stop on SIGTERM"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(0));
}

fn wait_until(what: &str, limit: Duration, f: impl Fn() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn kill_9(child: &mut std::process::Child) {
    child.kill().unwrap();
    child.wait().unwrap();
}

fn kill_9_during_push_and_pull_loses_nothing(kind: StoreKind) {
    let server = TestServer::new(kind);
    let proxy = proxy_to(&server);
    let amina = officer_via(&server, &proxy, "amina", "north");
    let brian = officer_via(&server, &proxy, "brian", "north");
    let h = amina.add_household("Wanjiru");
    import_visits(&amina, &h, 1_000);
    let queue_len = |d: &Device| {
        let q = d.json(&["queue"]);
        (
            q["pending"].as_i64().unwrap(),
            q["sending"].as_i64().unwrap(),
        )
    };

    // 1. Killed while its third batch waits in the network, before the server saw it.
    for _ in 0..2 {
        proxy.push_fault_for("/v1/push", Fault::Delay(Duration::ZERO));
    }
    proxy.push_fault_for("/v1/push", Fault::Delay(Duration::from_secs(30)));
    let mut sync = amina
        .spawn_cmd(&["sync", "--batch-size", "100"])
        .spawn()
        .unwrap();
    wait_until("the third push", Duration::from_secs(30), || {
        proxy.seen_to("/v1/push") == 3
    });
    kill_9(&mut sync);
    assert_eq!(proxy.forwarded_to("/v1/push"), 2);
    // The push pipeline (issue 14) sends batch 3 as soon as batch 2 is answered, while it
    // records that answer and takes batch 4: the kill finds batch 3 in flight, batch 2's
    // answer recorded or not, batch 4 taken or not. Entries leave the queue only with their
    // recorded answer; every `sending` one goes again with its op_id.
    let left = queue_len(&amina);
    assert!(
        matches!(left, (701, 100) | (701, 200) | (601, 200)),
        "one or two batches sending, the rest pending: {left:?}"
    );
    proxy.clear();

    // 2. Killed after the server applied a batch, before the answer arrived.
    proxy.push_fault_for("/v1/push", Fault::DropAfterUpstream);
    proxy.push_fault_for("/v1/push", Fault::Delay(Duration::from_secs(30)));
    let mut sync = amina
        .spawn_cmd(&["sync", "--batch-size", "100"])
        .spawn()
        .unwrap();
    wait_until("the retried push", Duration::from_secs(30), || {
        proxy.seen_to("/v1/push") == 5
    });
    kill_9(&mut sync);
    assert_eq!(
        proxy.forwarded_to("/v1/push"),
        3,
        "the server applied the resent batch"
    );
    proxy.clear();

    // The next sync completes: entries left `sending` go again and apply once.
    let (pending, sending) = queue_len(&amina);
    assert!(
        pending + sending >= 801,
        "nothing left the queue unanswered"
    );
    let r = amina.sync_expect(0);
    assert_eq!(r["pushed"], pending + sending);
    assert_eq!(queue_len(&amina), (0, 0));

    // 3. Killed during a pull, after two whole pages.
    let pulls_before = proxy.seen_to("/v1/pull");
    for _ in 0..2 {
        proxy.push_fault_for("/v1/pull", Fault::Delay(Duration::ZERO));
    }
    proxy.push_fault_for("/v1/pull", Fault::Delay(Duration::from_secs(30)));
    let mut sync = brian
        .spawn_cmd(&["sync", "--page-size", "100"])
        .spawn()
        .unwrap();
    wait_until("the third page", Duration::from_secs(30), || {
        proxy.seen_to("/v1/pull") == pulls_before + 3
    });
    // Read-ahead (issue 14) asks for page 3 while page 2 is still being stored, so the
    // third request can arrive before page 2 commits: wait for the store, not the wire.
    let held = |d: &Device| d.records("visit").len() + d.records("household").len();
    wait_until("the second page stored", Duration::from_secs(30), || {
        held(&brian) == 200
    });
    kill_9(&mut sync);
    proxy.clear();
    assert_eq!(held(&brian), 200, "exactly the two whole pages");
    let r = brian.sync_expect(0);
    assert_eq!(
        r["pulled"],
        1_001 - 200,
        "the pull resumed after the last whole page"
    );

    // Nothing lost, nothing duplicated: both hold the same 1,001 records as the server.
    let auditor = officer(&server, "auditor", "north");
    assert_eq!(auditor.sync_expect(0)["pulled"], 1_001);
    for d in [&amina, &brian] {
        assert_eq!(shared_all(d, "visit"), shared_all(&auditor, "visit"));
        assert_eq!(
            shared_all(d, "household"),
            shared_all(&auditor, "household")
        );
    }
}

fn a_busy_server_is_waited_for(kind: StoreKind) {
    let server = TestServer::new(kind);
    let proxy = proxy_to(&server);
    let amina = officer_via(&server, &proxy, "amina", "north");
    amina.add_household("Wanjiru");
    proxy.push_fault_for(
        "/v1/push",
        Fault::Status {
            code: 503,
            retry_after: Some(2),
        },
    );
    let started = Instant::now();
    let r = amina.sync_expect(0);
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "Retry-After was not honoured"
    );
    assert_eq!(r["accepted"], 1);
    assert_eq!(proxy.seen_to("/v1/push"), 2);
    assert_eq!(proxy.forwarded_to("/v1/push"), 1);
    // Five answers of 500 in a row: the sync gives up with 75 and loses nothing.
    amina.add_household("Otieno");
    for _ in 0..5 {
        proxy.push_fault_for(
            "/v1/push",
            Fault::Status {
                code: 500,
                retry_after: None,
            },
        );
    }
    let out = amina.run(&["sync", "--retries", "5"]);
    assert_eq!(
        out.status.code(),
        Some(75),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    proxy.clear();
    assert_eq!(amina.sync_expect(0)["accepted"], 1);
}

/// Found by the convergence soak (seed 90): brian's push is merged with amina's rename, his
/// pull then fails, and he renames the household having never seen amina's name. That must
/// be a conflict, not a silent overwrite.
fn an_edit_after_a_merge_whose_pull_failed_still_conflicts(kind: StoreKind) {
    let server = TestServer::new(kind);
    let proxy = proxy_to(&server);
    let amina = officer_via(&server, &proxy, "amina", "north");
    let brian = officer_via(&server, &proxy, "brian", "north");
    let h = amina.add_household("Wanjiru");
    amina.sync_expect(0);
    brian.sync_expect(0);
    amina.ok(&["household", "edit", &h, "--name", "Wanjiru Achieng"]);
    amina.sync_expect(0);
    brian.ok(&["household", "edit", &h, "--village", "Kibera"]);
    for _ in 0..3 {
        proxy.push_fault_for("/v1/pull", Fault::DropBeforeUpstream);
    }
    let out = brian.run(&["sync", "--retries", "1"]);
    assert_eq!(out.status.code(), Some(75), "the pull failed");
    proxy.clear();
    assert_eq!(
        brian.json(&["queue"])["pending"],
        0,
        "the village was pushed (merged)"
    );
    brian.ok(&["household", "edit", &h, "--name", "Otieno"]);
    let r = brian.sync_expect(3);
    assert_eq!(r["conflicts"], 1);
    let c = brian.json(&["conflicts"]);
    assert_eq!(c[0]["fields"][0]["field"], "name");
    assert_eq!(c[0]["fields"][0]["theirs"], "Wanjiru Achieng");
}

#[test]
fn plain_http_to_another_machine_is_refused() {
    let d = Device::for_officer("http://sync.example.org", "amina", "t");
    d.add_household("A");
    let before = d.snapshot();
    let (code, _, err) = d.sync(&[]);
    assert_eq!(code, 78, "{err}");
    assert!(
        err.contains("--allow-insecure-http") && err.contains("https://"),
        "{err}"
    );
    assert_eq!(d.snapshot(), before);
}

#[test]
fn the_demo_runs_to_completion() {
    let out = std::process::Command::new(support::bin())
        .arg("demo")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("fieldsync sync") && text.contains("Done"),
        "{text}"
    );
}

/// The interactive prompt, driven through a pseudo-terminal as an officer would use it.
mod prompt {
    use expectrl::Session;
    use support::pty::{self, DOWN, ENTER};

    use super::*;

    fn resolve_in_pty(d: &Device, args: &[&str]) -> Session {
        pty::spawn(d, &[&["resolve"], args].concat())
    }

    fn finish(s: Session) -> (i32, String) {
        pty::finish(s)
    }

    /// Answers yes to the confirmation; the prompt must then end successfully.
    fn confirm(mut s: Session) {
        s.expect("Write this resolution?").unwrap();
        s.send("y").unwrap();
        assert_eq!(finish(s).0, 0);
    }

    fn notes_of(d: &Device, id: &str) -> Value {
        d.json(&["visit", "show", id])["notes"].clone()
    }

    #[test]
    fn keep_mine_shows_the_fields_side_by_side_and_confirms() {
        let (server, amina, brian, v) = edit_the_same_visit(StoreKind::Sqlite);
        let mut s = resolve_in_pty(&brian, &[]);
        s.expect("Conflict 1 of 1").unwrap();
        s.expect("notes").unwrap();
        s.expect("first").unwrap();
        s.expect("brian's notes").unwrap();
        s.expect("amina's notes").unwrap();
        s.expect("How do you want to settle it?").unwrap();
        s.send(ENTER).unwrap();
        s.expect("Write this resolution?").unwrap();
        s.send("y").unwrap();
        let (code, out) = finish(s);
        assert_eq!(code, 0, "{out}");
        assert_eq!(brian.json(&["conflicts"]), json!([]));
        let visits = converged(&server, &amina, &brian);
        assert_eq!(visits[&v]["notes"], "brian's notes");
        assert_eq!(visits[&v]["answers"]["crop"], "rice");
    }

    #[test]
    fn take_the_servers_value() {
        let (server, amina, brian, v) = edit_the_same_visit(StoreKind::Sqlite);
        let mut s = resolve_in_pty(&brian, &[&v[..8]]);
        s.expect("How do you want to settle it?").unwrap();
        s.send(DOWN).unwrap();
        s.send(ENTER).unwrap();
        confirm(s);
        let visits = converged(&server, &amina, &brian);
        assert_eq!(visits[&v]["notes"], "amina's notes");
        assert_eq!(visits[&v]["gps_lat"], 1.5);
    }

    #[test]
    fn choose_field_by_field_and_type_a_new_value() {
        let (server, amina, brian, v) = edit_the_same_visit(StoreKind::Sqlite);
        let mut s = resolve_in_pty(&brian, &[]);
        s.expect("How do you want to settle it?").unwrap();
        s.send(DOWN).unwrap();
        s.send(DOWN).unwrap();
        s.send(ENTER).unwrap();
        s.expect("type a new value").unwrap();
        s.send(DOWN).unwrap();
        s.send(DOWN).unwrap();
        s.send(ENTER).unwrap();
        s.expect("new value for notes").unwrap();
        // The input starts with my value; erase it and type the agreed one.
        s.send("\x7f".repeat("brian's notes".len())).unwrap();
        s.send("agreed after a call").unwrap();
        s.send(ENTER).unwrap();
        confirm(s);
        let visits = converged(&server, &amina, &brian);
        assert_eq!(visits[&v]["notes"], "agreed after a call");
    }

    #[test]
    fn type_new_values_for_every_colliding_field() {
        let (server, amina, brian, v) = edit_the_same_visit(StoreKind::Sqlite);
        let mut s = resolve_in_pty(&brian, &[]);
        s.expect("How do you want to settle it?").unwrap();
        for _ in 0..3 {
            s.send(DOWN).unwrap();
        }
        s.send(ENTER).unwrap();
        s.expect("new value for notes").unwrap();
        s.send("\x7f".repeat("brian's notes".len())).unwrap();
        s.send("both visited").unwrap();
        s.send(ENTER).unwrap();
        confirm(s);
        let visits = converged(&server, &amina, &brian);
        assert_eq!(visits[&v]["notes"], "both visited");
    }

    #[test]
    fn ctrl_c_escape_and_no_leave_everything_as_it_was() {
        let (_server, _amina, brian, v) = edit_the_same_visit(StoreKind::Sqlite);
        let before = (brian.snapshot(), brian.json(&["conflicts"]));
        // Ctrl-C at the first question.
        let mut s = resolve_in_pty(&brian, &[]);
        s.expect("How do you want to settle it?").unwrap();
        s.send("\x03").unwrap();
        let (code, out) = finish(s);
        assert_eq!(code, 130, "{out}");
        assert!(out.contains("nothing was changed"), "{out}");
        assert_eq!((brian.snapshot(), brian.json(&["conflicts"])), before);
        // Esc at the first question.
        let mut s = resolve_in_pty(&brian, &[]);
        s.expect("How do you want to settle it?").unwrap();
        s.send("\x1b").unwrap();
        let (code, out) = finish(s);
        assert_eq!(code, 130, "{out}");
        assert_eq!((brian.snapshot(), brian.json(&["conflicts"])), before);
        // Declining the confirmation.
        let mut s = resolve_in_pty(&brian, &[]);
        s.expect("How do you want to settle it?").unwrap();
        s.send(ENTER).unwrap();
        s.expect("Write this resolution?").unwrap();
        s.send("n").unwrap();
        let (code, _) = finish(s);
        assert_eq!(code, 130);
        assert_eq!((brian.snapshot(), brian.json(&["conflicts"])), before);
        assert_eq!(notes_of(&brian, &v), "brian's notes");
    }

    #[test]
    fn delete_against_edit_offers_restore_or_accept() {
        let server = TestServer::new(StoreKind::Sqlite);
        let amina = officer(&server, "amina", "north");
        let brian = officer(&server, "brian", "north");
        let h = amina.add_household("Wanjiru");
        let v = amina.add_visit(&h, "one");
        amina.sync_expect(0);
        brian.sync_expect(0);
        amina.ok(&["visit", "delete", &v]);
        brian.ok(&["visit", "edit", &v, "--notes", "still here"]);
        amina.sync_expect(0);
        brian.sync_expect(3);
        let mut s = resolve_in_pty(&brian, &[]);
        s.expect("deleted on the server, edited here").unwrap();
        s.expect("Restore the record (with my edits)").unwrap();
        s.expect("Accept the delete").unwrap();
        s.send(ENTER).unwrap();
        confirm(s);
        let visits = converged(&server, &amina, &brian);
        assert_eq!(visits[&v]["deleted"], false);
        assert_eq!(visits[&v]["notes"], "still here");

        // Now accept a delete through the prompt.
        amina.ok(&["visit", "delete", &v]);
        brian.ok(&["visit", "edit", &v, "--notes", "again"]);
        amina.sync_expect(0);
        brian.sync_expect(3);
        let mut s = resolve_in_pty(&brian, &[]);
        s.expect("Accept the delete").unwrap();
        s.send(DOWN).unwrap();
        s.send(ENTER).unwrap();
        confirm(s);
        let visits = converged(&server, &amina, &brian);
        assert_eq!(visits[&v]["deleted"], true);
    }
}

/// `--watch` stops after the current batch on a signal; when that batch hangs on a stalled
/// server, a second signal quits at once (exit 130) and loses nothing: the change in flight
/// goes with the next sync, once.
fn watch_mode_quits_at_once_on_a_second_signal(kind: StoreKind) {
    let server = TestServer::new(kind);
    let proxy = proxy_to(&server);
    let amina = officer_via(&server, &proxy, "amina", "north");
    let brian = officer(&server, "brian", "north");
    amina.add_household("Wanjiru");
    proxy.push_fault_for("/v1/push", Fault::Delay(Duration::from_secs(120)));
    let mut watch = amina
        .spawn_cmd(&["sync", "--watch", "--interval", "1h"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    wait_until("the stalled push", Duration::from_secs(30), || {
        proxy.seen_to("/v1/push") == 1
    });
    let pid = watch.id().to_string();
    let signal = |sig: &str| {
        std::process::Command::new("kill")
            .args([sig, &pid])
            .status()
            .unwrap();
    };
    signal("-TERM");
    std::thread::sleep(Duration::from_millis(800));
    assert!(
        watch.try_wait().unwrap().is_none(),
        "the first signal waits for the batch in flight"
    );
    signal("-INT");
    let start = Instant::now();
    let status = loop {
        if let Some(st) = watch.try_wait().unwrap() {
            break st;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "watch did not quit on the second signal"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(130));
    let mut err = String::new();
    std::io::Read::read_to_string(&mut watch.stderr.take().unwrap(), &mut err).unwrap();
    assert!(err.contains("press Ctrl-C again to quit now"), "{err}");
    assert!(err.contains("the next sync sends again"), "{err}");

    proxy.clear();
    let q = amina.json(&["queue"]);
    assert_eq!(
        q["pending"].as_i64().unwrap() + q["sending"].as_i64().unwrap(),
        1,
        "the change in flight is still queued: {q}"
    );
    let r = amina.sync_expect(0);
    assert_eq!(r["accepted"], 1);
    brian.sync_expect(0);
    assert_eq!(brian.records("household").len(), 1, "applied once");
}
