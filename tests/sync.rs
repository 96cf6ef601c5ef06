//! `fieldsync sync` and `fieldsync resolve` end to end: real `fieldsync serve` processes on
//! 127.0.0.1 (SQLite and PostgreSQL stores), one database per officer, the real client binary.

mod support;

use std::collections::BTreeMap;

use serde_json::{json, Value};
use support::device::Device;
use support::{StoreKind, TestServer};

/// Writes each test once and runs it against both server stores.
macro_rules! both_stores {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[test] fn $name() { super::$name(super::StoreKind::Sqlite) })*
        }
        mod postgres {
            $(#[test] fn $name() { super::$name(super::StoreKind::Postgres) })*
        }
    };
}

both_stores!(
    a_team_sees_each_others_work_and_no_other_team_does,
    a_week_offline_arrives_once_in_few_requests,
    offline_is_exit_75_with_the_queue_untouched,
    a_revoked_token_is_exit_77_and_loses_nothing,
    rejected_changes_wait_for_an_edit,
    the_conflict_walkthrough_with_field_flags,
    keep_theirs_and_keep_mine_settle_every_conflict,
    delete_against_edit_both_ways,
);

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
    let amina = officer(&server, "amina", "north");
    let h = amina.add_household("Wanjiru");
    // A week of visits through the import fast path, then three edits of half of them
    // through the store, as `visit edit` would make them.
    let visits = 3_000;
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
    assert!(queued >= 7_500);

    let r = amina.sync_expect(0);
    let after_compaction = 1 + visits;
    assert_eq!(r["pushed"], after_compaction);
    assert_eq!(r["accepted"], after_compaction);
    // health + pushes + pull pages; pushes are ⌈changes / batch⌉.
    let pushes = (after_compaction as u64).div_ceil(100);
    let pulls = ((after_compaction as u64) / 500) + 1;
    assert_eq!(r["requests"].as_u64().unwrap(), 1 + pushes + pulls, "{r}");

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
    amina.ok(&[
        "init",
        "--server",
        &server.url,
        "--officer",
        "amina",
        &format!("--token={}", token_of(&amina)),
    ]);
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
    let v1 = amina
        .ok(&["visit", "add", "--household", &h, "--notes", "one"])
        .trim()
        .to_string();
    let v2 = amina
        .ok(&["visit", "add", "--household", &h, "--notes", "two"])
        .trim()
        .to_string();
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
