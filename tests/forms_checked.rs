//! Forms beyond the visit prompt (issue 15): `visit import` checks each row's answers against
//! the form the device holds (errors name the line and the question; 65, or 2 for missing
//! required answers; nothing imported), and both exports order answer columns by the form
//! (`--labels` heads them with the question labels), on both stores for `admin export`.

mod support;

use support::device::Device;
use support::{admin, both_stores, StoreKind, TestServer};

const SAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/forms/household-visit");

fn publish(db: &str, team: &str) {
    let (code, _, err) = admin(db, &["form", "publish", "--team", team, SAMPLE]);
    assert_eq!(code, 0, "publish: {err}");
}

/// A server with the sample form for team north, and amina's synced device.
fn officer_with_form(kind: StoreKind) -> (TestServer, Device) {
    let server = TestServer::new(kind);
    let token = server.add_officer("amina", "north");
    publish(&server.db, "north");
    let d = Device::for_officer(&server.url, "amina", &token);
    d.sync_expect(0);
    (server, d)
}

/// Writes `text` to a file in a temporary folder; returns the folder and the file's path.
fn file(name: &str, text: &str) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    let p = path.display().to_string();
    (dir, p)
}

#[test]
fn imports_check_every_row_against_the_form() {
    let (_server, d) = officer_with_form(StoreKind::Sqlite);
    let h = d.add_household("Wanjiru");
    let before = d.snapshot();
    // `gps` alone is the visit's own position: the form's gps question is `answers.gps`.
    let header = "household_id,crop,household_size,has_water,answers.gps\n";
    let good = format!("{h},maize,4,no,-1.31 36.78\n");

    // A wrong answer on line 3 (and another on line 4): 65, naming the line and the question.
    let csv = format!("{header}{good}{h},banana,4,no,1 2\n{h},rice,0,no,1 2\n");
    let (_dir, path) = file("visits.csv", &csv);
    let err = d.fails(65, &["visit", "import", &path]);
    assert!(err.contains("line 3: "), "{err}");
    assert!(err.contains("crop: \"banana\" is not a choice"), "{err}");
    assert!(err.contains("1 more rows"), "{err}");
    assert_eq!(d.snapshot(), before, "nothing imported");

    // A missing required answer: 2, naming the line and the question.
    let csv = format!("{header}{good}{h},maize,4,no,\n");
    let (_dir, path) = file("visits.csv", &csv);
    let err = d.fails(2, &["visit", "import", &path]);
    assert!(
        err.contains("line 3: required answers missing: gps"),
        "{err}"
    );
    assert!(err.contains("columns"), "{err}");

    // JSON lines: an unknown question on line 2.
    let jsonl = format!(
        "{{\"household_id\": \"{h}\", \"answers\": {{\"crop\": \"maize\", \"household_size\": \"3\", \"has_water\": \"no\", \"gps\": \"1 2\"}}}}\n\
         {{\"household_id\": \"{h}\", \"crop\": \"maize\", \"household_size\": \"3\", \"has_water\": \"no\", \"answers.gps\": \"1 2\", \"colour\": \"red\"}}\n"
    );
    let (_dir, path) = file("visits.jsonl", &jsonl);
    let err = d.fails(65, &["visit", "import", &path]);
    assert!(err.contains("line 2: "), "{err}");
    assert!(
        err.contains("colour: the form has no such question"),
        "{err}"
    );
    assert_eq!(d.snapshot(), before, "nothing imported");

    // Rows that fit are imported, each naming the form version it was checked against.
    let csv = format!("{header}{good}{good}");
    let (_dir, path) = file("visits.csv", &csv);
    d.ok(&["visit", "import", &path]);
    let visits = d.json(&["visit", "list"]);
    let visits = visits.as_array().unwrap();
    assert_eq!(visits.len(), 2);
    assert!(visits.iter().all(|v| v["form_version"] == 1), "{visits:?}");
    // Households carry no answers: their import is as before.
    let (_dir, path) = file("households.csv", "name,village\nAmani,Kibera\n");
    d.ok(&["household", "import", &path]);
}

#[test]
fn without_a_form_imports_stay_free_form() {
    let d = Device::initialised();
    let h = d.add_household("Wanjiru");
    let (_dir, path) = file(
        "visits.csv",
        &format!("household_id,anything\n{h},at all\n"),
    );
    d.ok(&["visit", "import", &path]);
}

/// The header row of a CSV export.
fn header(csv: &str) -> Vec<String> {
    let mut r = csv::Reader::from_reader(csv.as_bytes());
    r.headers().unwrap().iter().map(String::from).collect()
}

/// The answer columns of a header (those after `notes`).
fn answer_headers(csv: &str) -> Vec<String> {
    let h = header(csv);
    let notes = h.iter().position(|c| c == "notes").unwrap();
    h[notes + 1..].to_vec()
}

/// A visit filled against the sample form.
fn visit_with_answers(d: &Device) {
    let h = d.add_household("Wanjiru");
    d.ok(&[
        "visit",
        "add",
        "--household",
        &h,
        "--answer",
        "gps=1 2",
        "--answer",
        "has_water=no",
        "--answer",
        "household_size=3",
        "--answer",
        "crop=rice",
    ]);
}

const FORM_ORDER: [&str; 9] = [
    "answers.crop",
    "answers.crops_grown",
    "answers.household_size",
    "answers.has_water",
    "answers.water_source",
    "answers.water_source_other",
    "answers.last_vaccination",
    "answers.officer_code",
    "answers.gps",
];

fn exports_follow_the_form(kind: StoreKind) {
    let server = TestServer::new(kind);
    let token = server.add_officer("amina", "north");
    let d = Device::for_officer(&server.url, "amina", &token);
    // A visit from before the form, with a key the form does not ask.
    let h = d.add_household("Otieno");
    d.ok(&["visit", "add", "--household", &h, "--answer", "aaa_old=1"]);
    d.sync_expect(0);
    publish(&server.db, "north");
    d.sync_expect(0);
    visit_with_answers(&d);
    d.sync_expect(0);

    let mut want: Vec<String> = FORM_ORDER.iter().map(|s| s.to_string()).collect();
    want.push("answers.aaa_old".into());
    let server_export = |extra: &[&str]| {
        let mut args = vec!["export", "--entity", "visit"];
        args.extend_from_slice(extra);
        let (code, out, err) = admin(&server.db, &args);
        assert_eq!(code, 0, "{err}");
        out
    };
    assert_eq!(answer_headers(&server_export(&[])), want);
    assert_eq!(answer_headers(&server_export(&["--team", "north"])), want);
    let local = d.ok(&["export", "--entity", "visit"]);
    assert_eq!(answer_headers(&local), want);

    // --labels: the question labels; keys the form does not ask keep their names.
    let labelled = server_export(&["--labels"]);
    let got = answer_headers(&labelled);
    assert_eq!(got[0], "Main crop this season");
    assert_eq!(got[2], "How many people live in the household?");
    assert_eq!(got[9], "answers.aaa_old");
    let mut r = csv::Reader::from_reader(labelled.as_bytes());
    let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    let crop_col = header(&labelled)
        .iter()
        .position(|c| c == "Main crop this season")
        .unwrap();
    assert!(
        rows.iter().any(|row| &row[crop_col] == "rice"),
        "{labelled}"
    );
    let local = d.ok(&["export", "--entity", "visit", "--labels"]);
    assert_eq!(answer_headers(&local), got);

    // --labels with JSON lines is refused, never ignored.
    let (code, _, err) = admin(
        &server.db,
        &[
            "export", "--entity", "visit", "--format", "jsonl", "--labels",
        ],
    );
    assert_eq!(code, 2, "{err}");
    d.fails(
        2,
        &[
            "export", "--entity", "visit", "--format", "jsonl", "--labels",
        ],
    );
    // Another team without a form: its export keeps the sorted keys.
    let (code, out, err) = admin(
        &server.db,
        &["export", "--entity", "visit", "--team", "south"],
    );
    assert_eq!(code, 0, "{err}");
    assert!(answer_headers(&out).is_empty(), "{out}");
}

both_stores!(exports_follow_the_form);
