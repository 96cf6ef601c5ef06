//! Forms on the server and on devices (issue 15), against real `fieldsync serve` processes on
//! both stores: `admin form publish | list | show` (new immutable versions per team, refusals
//! naming sheet and row), and forms reaching devices with the pull (`fieldsync form show`).

mod support;

use std::path::Path;

use fieldsync::protocol::{ChangeStatus, ErrorCode};
use serde_json::{json, Value};
use support::body::{self, uid};
use support::device::Device;
use support::http;
use support::{admin, both_stores, StoreKind, TestServer};

const SAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/forms/household-visit");

/// Copies the sample form into `dir` with `edit` applied to survey.csv; returns the folder.
fn sample_with(dir: &Path, name: &str, edit: impl Fn(String) -> String) -> String {
    let out = dir.join(name);
    std::fs::create_dir_all(&out).unwrap();
    for file in ["survey.csv", "choices.csv", "settings.csv"] {
        let text = std::fs::read_to_string(Path::new(SAMPLE).join(file)).unwrap();
        let text = if file == "survey.csv" {
            edit(text)
        } else {
            text
        };
        std::fs::write(out.join(file), text).unwrap();
    }
    out.display().to_string()
}

fn publish(db: &str, team: &str, form: &str) -> String {
    let (code, out, err) = admin(db, &["form", "publish", "--team", team, form]);
    assert_eq!(code, 0, "publish failed: {err}");
    out.trim().to_string()
}

fn admin_json(db: &str, args: &[&str]) -> Value {
    let (code, out, err) = admin(db, args);
    assert_eq!(code, 0, "admin {args:?}: {err}");
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"))
}

fn publishing_makes_immutable_versions_per_team(kind: StoreKind) {
    let server = TestServer::new(kind);
    let db = &server.db;
    let tmp = tempfile::tempdir().unwrap();
    assert_eq!(publish(db, "north", SAMPLE), "1");
    let v2 = sample_with(tmp.path(), "v2", |s| {
        s + "integer,goats,How many goats?,,no,. >= 0,,,Chèvres\n"
    });
    assert_eq!(publish(db, "north", &v2), "2");
    assert_eq!(publish(db, "south", SAMPLE), "1", "versions count per team");

    let all = admin_json(db, &["form", "list", "--json"]);
    let rows: Vec<(String, u64)> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["team"].as_str().unwrap().to_string(),
                r["version"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("north".into(), 1),
            ("north".into(), 2),
            ("south".into(), 1)
        ]
    );
    let north = admin_json(db, &["form", "list", "--team", "north", "--json"]);
    assert_eq!(north.as_array().unwrap().len(), 2);

    // The current version is the newest; version 1 is unchanged by the second publish.
    let current = admin_json(db, &["form", "show", "--team", "north", "--json"]);
    assert_eq!(current["version"], 2);
    assert!(current["form"]["questions"].to_string().contains("goats"));
    let first = admin_json(
        db,
        &[
            "form",
            "show",
            "--team",
            "north",
            "--version",
            "1",
            "--json",
        ],
    );
    assert!(!first["form"]["questions"].to_string().contains("goats"));
    assert_ne!(first["content_hash"], current["content_hash"]);

    let (code, text, _) = admin(db, &["form", "show", "--team", "north"]);
    assert_eq!(code, 0);
    assert!(
        text.contains("Household visit") || text.contains("version 2"),
        "{text}"
    );
    assert!(text.contains("crop [select_one crops, required]"), "{text}");

    let (code, _, err) = admin(db, &["form", "show", "--team", "north", "--version", "9"]);
    assert_eq!(code, 66, "{err}");
    assert!(err.contains("no form version 9"), "{err}");
}

fn refused_forms_name_every_problem_and_store_nothing(kind: StoreKind) {
    let server = TestServer::new(kind);
    let db = &server.db;
    let tmp = tempfile::tempdir().unwrap();
    let bad = sample_with(tmp.path(), "bad", |s| {
        s + "begin group,g1,A group,,,,,,\ninteger,size2,Size,,maybe,,,,\n"
    });
    let (code, out, err) = admin(db, &["form", "publish", "--team", "north", &bad]);
    assert_eq!(code, 65, "{err}");
    assert!(out.is_empty(), "{out}");
    assert!(err.contains("survey sheet, row 12"), "{err}");
    assert!(err.contains("survey sheet, row 13"), "{err}");
    assert!(
        err.contains("groups and repeats are not supported"),
        "{err}"
    );

    let (code, _, err) = admin(
        db,
        &[
            "form",
            "publish",
            "--team",
            "north",
            "/nonexistent/form.xlsx",
        ],
    );
    assert_eq!(code, 66, "{err}");
    let (code, _, err) = admin(db, &["form", "publish", "--team", "no team!", SAMPLE]);
    assert_eq!(code, 65, "{err}");
    let (code, out, err) = admin(db, &["form", "list", "--json"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        serde_json::from_str::<Value>(&out).unwrap(),
        serde_json::json!([])
    );
}

fn forms_reach_devices_with_the_pull(kind: StoreKind) {
    let server = TestServer::new(kind);
    let token = server.add_officer("amina", "north");
    let other = server.add_officer("otieno", "south");
    let amina = Device::for_officer(&server.url, "amina", &token);
    let otieno = Device::for_officer(&server.url, "otieno", &other);

    // Before any form: free-form, and `form show` says so.
    amina.sync_expect(0);
    let err = amina.fails(66, &["form", "show"]);
    assert!(err.contains("no form yet"), "{err}");

    publish(&server.db, "north", SAMPLE);
    amina.sync_expect(0);
    otieno.sync_expect(0);
    let held = amina.json(&["form", "show"]);
    assert_eq!(held["version"], 1);
    assert_eq!(held["form"]["form_id"], "household_visit");
    otieno.fails(66, &["form", "show"]);

    // A second version arrives with the next sync; the first is still held.
    let tmp = tempfile::tempdir().unwrap();
    let v2 = sample_with(tmp.path(), "v2", |s| s + "integer,goats,Goats?,,no,,,,\n");
    publish(&server.db, "north", &v2);
    amina.sync_expect(0);
    assert_eq!(amina.json(&["form", "show"])["version"], 2);
    assert_eq!(
        amina.json(&["form", "show", "--version", "1"])["version"],
        1
    );
    let text = amina.ok(&["form", "show"]);
    assert!(text.contains("goats [integer]"), "{text}");

    // Moving team replaces the forms held with the new team's.
    publish(&server.db, "south", SAMPLE);
    let (code, _, err) = admin(&server.db, &["officer", "move", "amina", "--team", "south"]);
    assert_eq!(code, 0, "{err}");
    amina.sync_expect(0);
    assert_eq!(amina.json(&["form", "show"])["version"], 1);
    amina.fails(66, &["form", "show", "--version", "2"]);
}

/// `visit add/edit --answer` against the form the device holds: wrong answers exit 65 naming
/// the question, missing required ones exit 2 naming them, nothing is written on refusal; a
/// device without a form keeps free-form answers.
#[test]
fn answers_are_checked_against_the_form_on_the_device() {
    let server = TestServer::new(StoreKind::Sqlite);
    let token = server.add_officer("amina", "north");
    let amina = Device::for_officer(&server.url, "amina", &token);
    let hh = amina.add_household("Wanjiru");
    // No form yet: anything goes.
    amina.ok(&[
        "visit",
        "add",
        "--household",
        &hh,
        "--answer",
        "anything=at all",
    ]);

    publish(&server.db, "north", SAMPLE);
    amina.sync_expect(0);
    let before = amina.snapshot();
    let add = |extra: &[&str]| {
        let mut a = vec!["visit", "add", "--household", hh.as_str()];
        a.extend_from_slice(extra);
        a.iter().map(|s| s.to_string()).collect::<Vec<_>>()
    };
    let run = |args: Vec<String>, code: i32| {
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        amina.fails(code, &refs)
    };
    let full = [
        "--answer",
        "crop=maize",
        "--answer",
        "household_size=4",
        "--answer",
        "has_water=yes",
        "--answer",
        "water_source=well",
        "--answer",
        "gps=-1.31 36.78",
    ];
    for (bad, question, why) in [
        ("crop=banana", "crop", "is not a choice"),
        ("household_size=four", "household_size", ""),
        (
            "household_size=99",
            "household_size",
            "Between 1 and 60 people",
        ),
        ("colour=blue", "colour", "no such question"),
        ("officer_code=abc", "officer_code", "Two capital letters"),
    ] {
        let mut args = add(&full);
        args.extend(["--answer".to_string(), bad.to_string()]);
        let err = run(args, 65);
        assert!(err.contains(&format!("{question}:")), "{bad}: {err}");
        assert!(err.contains(why), "{bad}: {err}");
    }
    let err = run(add(&["--answer", "crop=rice"]), 2);
    assert!(err.contains("required answers missing"), "{err}");
    for q in ["household_size", "has_water", "gps"] {
        assert!(err.contains(q), "{q}: {err}");
    }
    assert_eq!(amina.snapshot(), before, "a refused visit writes nothing");

    let id = amina.ok(&add(&full).iter().map(String::as_str).collect::<Vec<_>>());
    let id = id.trim();
    let err = amina.fails(65, &["visit", "edit", id, "--answer", "household_size=0"]);
    assert!(
        err.contains("household_size: Between 1 and 60 people"),
        "{err}"
    );
    let err = amina.fails(2, &["visit", "edit", id, "--unset-answer", "crop"]);
    assert!(err.contains("crop"), "{err}");
    amina.ok(&["visit", "edit", id, "--answer", "household_size=5"]);
    // Notes alone do not re-check an old free-form visit.
    let old = amina.json(&["visit", "list"]);
    let free = old
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["answers"]["anything"].is_string())
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    amina.ok(&["visit", "edit", &free, "--notes", "revisited"]);
}

/// Valid answers for the sample form, as `answers.*` fields.
fn good_answers() -> Value {
    json!({"answers.crop": "maize", "answers.household_size": "4", "answers.has_water": "no",
           "answers.gps": "-1.31 36.78"})
}

fn server_checks_answers_against_the_version_named(kind: StoreKind) {
    let server = TestServer::new(kind);
    let token = server.add_officer("amina", "north");
    let tmp = tempfile::tempdir().unwrap();
    publish(&server.db, "north", SAMPLE);
    let v2 = sample_with(tmp.path(), "v2", |s| s + "integer,goats,Goats?,,yes,,,,\n");
    publish(&server.db, "north", &v2);
    let device = uid();
    let hh = uid();
    let r = http::push(&server.url, &token, device, vec![body::household(hh, "W")]);
    assert_eq!(r[0].status, ChangeStatus::Accepted);

    let with_id = |id: uuid::Uuid, extra: Value| {
        let mut f = good_answers();
        for (k, v) in extra.as_object().unwrap() {
            f[k] = v.clone();
        }
        body::visit(id, hh, "amina", f)
    };
    let with = |extra: Value| with_id(uid(), extra);
    let id = uid();
    let cases = vec![
        (with_id(id, json!({"form_version": 1})), None),
        (with(json!({})), None), // names no version: free-form
        (with(json!({"form_version": 2})), Some("goats: required")),
        (
            with(json!({"form_version": 1, "answers.crop": "banana"})),
            Some("answers.crop"),
        ),
        (
            with(json!({"form_version": 1, "answers.household_size": "0"})),
            Some("Between 1 and 60"),
        ),
        (with(json!({"form_version": 7})), Some("no form version 7")),
        (with(json!({"form_version": 0})), Some("form_version")),
    ];
    let (changes, expected): (Vec<Value>, Vec<Option<&str>>) = cases.into_iter().unzip();
    let results = http::push(&server.url, &token, device, changes);
    for (r, want) in results.iter().zip(expected) {
        match want {
            None => assert_eq!(r.status, ChangeStatus::Accepted, "{r:?}"),
            Some(text) => {
                assert_eq!(r.status, ChangeStatus::Rejected, "{text}: {r:?}");
                let e = r.error.as_ref().unwrap();
                assert_eq!(e.code, ErrorCode::InvalidField);
                assert!(e.message.contains(text), "{text}: {}", e.message);
            }
        }
    }
    // An update that breaks the named version is refused; notes alone are not re-checked.
    let v = results[0].version.unwrap();
    let r = http::push(
        &server.url,
        &token,
        device,
        vec![body::update("visit", id, v, json!({"answers.crop": null}))],
    );
    assert_eq!(r[0].status, ChangeStatus::Rejected, "{r:?}");
    assert!(r[0]
        .error
        .as_ref()
        .unwrap()
        .message
        .contains("crop: required"));
    let r = http::push(
        &server.url,
        &token,
        device,
        vec![body::update("visit", id, v, json!({"notes": "fine"}))],
    );
    assert_eq!(r[0].status, ChangeStatus::Accepted, "{r:?}");
}

/// Publish, sync, fill offline, publish a new version, sync: the visits of both versions are
/// on the server, each naming the version it was filled against.
fn visits_of_both_versions_reach_the_server(kind: StoreKind) {
    let mut server = TestServer::new(kind);
    let token = server.add_officer("amina", "north");
    let amina = Device::for_officer(&server.url, "amina", &token);
    publish(&server.db, "north", SAMPLE);
    amina.sync_expect(0);
    let hh = amina.add_household("Wanjiru");
    let answers = [
        "--answer",
        "crop=maize",
        "--answer",
        "household_size=4",
        "--answer",
        "has_water=no",
        "--answer",
        "gps=-1.31 36.78",
    ];
    let mut args = vec!["visit", "add", "--household", hh.as_str()];
    args.extend_from_slice(&answers);
    server.kill9(); // offline
    let first = amina.ok(&args).trim().to_string();
    let tmp = tempfile::tempdir().unwrap();
    let v2 = sample_with(tmp.path(), "v2", |s| s + "integer,goats,Goats?,,yes,,,,\n");
    publish(&server.db, "north", &v2); // while the device is offline
    server.start_again();
    amina.sync_expect(0); // pushes the v1 visit, pulls v2
    assert_eq!(amina.json(&["form", "show"])["version"], 2);
    let err = amina.fails(2, &args);
    assert!(err.contains("goats"), "{err}");
    args.extend_from_slice(&["--answer", "goats=3"]);
    let second = amina.ok(&args).trim().to_string();
    amina.sync_expect(0);

    let (records, _) = http::pull_all(&server.url, &token, None);
    let version_of = |id: &str| {
        records
            .iter()
            .find(|r| r.id.to_string() == id)
            .map(|r| r.fields["form_version"].clone())
            .unwrap_or_else(|| panic!("visit {id} is not on the server"))
    };
    assert_eq!(version_of(&first), json!(1));
    assert_eq!(version_of(&second), json!(2));
    let listed = amina.json(&["visit", "show", &first]);
    assert_eq!(listed["form_version"], 1);
}

both_stores!(
    server_checks_answers_against_the_version_named,
    visits_of_both_versions_reach_the_server,
    publishing_makes_immutable_versions_per_team,
    refused_forms_name_every_problem_and_store_nothing,
    forms_reach_devices_with_the_pull,
);
