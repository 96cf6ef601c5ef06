//! The guided visit (issue 15) through the real binary in a pseudo-terminal: `visit add` walks
//! the team's form (every question type, relevance, constraint messages, stepping back with
//! Esc, the summary and "Write this visit?"), Ctrl-C and Esc leave with exit 130 and nothing
//! written, and `visit edit` walks the same form with the visit's answers as defaults.

mod support;

use expectrl::Session;
use serde_json::{json, Value};
use support::device::Device;
use support::pty::{self, wait_for, BACKSPACE, CTRL_C, DOWN, ENTER, ESC, SPACE};
use support::{admin, StoreKind, TestServer};

const SAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/forms/household-visit");

/// A device of team north holding the sample form (version 1), and one household.
struct Officer {
    _server: TestServer,
    device: Device,
    household: String,
}

fn officer_with_form() -> Officer {
    let server = TestServer::new(StoreKind::Sqlite);
    let token = server.add_officer("amina", "north");
    let (code, _, err) = admin(&server.db, &["form", "publish", "--team", "north", SAMPLE]);
    assert_eq!(code, 0, "publish: {err}");
    let device = Device::for_officer(&server.url, "amina", &token);
    device.sync_expect(0);
    let household = device.add_household("Wanjiru");
    Officer {
        _server: server,
        device,
        household,
    }
}

fn add_visit(o: &Officer) -> Session {
    pty::spawn(&o.device, &["visit", "add", "--household", &o.household])
}

/// Types `text` at a text prompt and presses Enter.
fn type_line(s: &mut Session, text: &str) {
    s.send(text).unwrap();
    s.send(ENTER).unwrap();
}

/// The answers of the only visit recorded, and its form version.
fn the_visit(d: &Device) -> Value {
    let visits = d.json(&["visit", "list"]);
    let all = visits.as_array().unwrap();
    assert_eq!(all.len(), 1, "{visits}");
    all[0].clone()
}

/// From the crop question to has_water, answering crop = Maize, crops_grown = Rice + Maize
/// and household size 4 (after a refused 99, which shows the form's constraint message).
fn first_answers(s: &mut Session) {
    wait_for(s, "Main crop this season");
    s.send(DOWN).unwrap();
    s.send(ENTER).unwrap();
    wait_for(s, "All crops grown");
    s.send(SPACE).unwrap();
    s.send(DOWN).unwrap();
    s.send(SPACE).unwrap();
    s.send(ENTER).unwrap();
    wait_for(s, "How many people live in the household?");
    type_line(s, "99");
    wait_for(s, "Between 1 and 60 people");
    s.send(BACKSPACE.repeat(2)).unwrap();
    type_line(s, "4");
}

#[test]
fn every_question_type_relevance_and_a_constraint_message() {
    let o = officer_with_form();
    let mut s = add_visit(&o);
    wait_for(&mut s, "Household visit");
    wait_for(&mut s, "(form version 1)");
    wait_for(&mut s, "Greet the household and explain the visit."); // the note
    wait_for(&mut s, "The crop on the largest plot"); // a hint
    first_answers(&mut s);
    wait_for(&mut s, "Does the household have a water source?");
    s.send(ENTER).unwrap(); // Yes
                            // Relevant because has_water = yes.
    wait_for(&mut s, "Main water source");
    for _ in 0..3 {
        s.send(DOWN).unwrap();
    }
    s.send(ENTER).unwrap(); // Other
                            // Relevant because selected(water_source, 'other').
    wait_for(&mut s, "Describe the water source");
    type_line(&mut s, "rain tank");
    wait_for(&mut s, "Date of the last vaccination");
    type_line(&mut s, "2024-02-30");
    wait_for(&mut s, "is not a day of the calendar");
    s.send(BACKSPACE.repeat(2)).unwrap();
    type_line(&mut s, "29");
    wait_for(&mut s, "Enumerator code");
    type_line(&mut s, "ab1");
    wait_for(&mut s, "Two capital letters followed by digits");
    s.send(BACKSPACE.repeat(3)).unwrap();
    type_line(&mut s, "AB12");
    wait_for(&mut s, "Location of the homestead");
    type_line(&mut s, "-1.31 200");
    wait_for(&mut s, "outside -180 to 180");
    s.send(BACKSPACE.repeat(3)).unwrap();
    type_line(&mut s, "36.78");
    wait_for(&mut s, "The visit:");
    wait_for(&mut s, "Rice, Maize");
    wait_for(&mut s, "rain tank");
    wait_for(&mut s, "Write this visit?");
    s.send("y").unwrap();
    let (code, out) = pty::finish(s);
    assert_eq!(code, 0, "{out}");

    let v = the_visit(&o.device);
    assert_eq!(
        v["answers"],
        json!({"crop": "maize", "crops_grown": "rice maize", "household_size": "4",
               "has_water": "yes", "water_source": "other", "water_source_other": "rain tank",
               "last_vaccination": "2024-02-29", "officer_code": "AB12", "gps": "-1.31 36.78"})
    );
    assert_eq!(v["form_version"], 1, "{v}");
}

#[test]
fn esc_steps_back_and_answers_that_stop_applying_are_dropped() {
    let o = officer_with_form();
    let mut s = add_visit(&o);
    first_answers(&mut s);
    wait_for(&mut s, "Does the household have a water source?");
    s.send(ENTER).unwrap(); // Yes
    wait_for(&mut s, "Main water source");
    s.send(ENTER).unwrap(); // Well: the description does not apply
    wait_for(&mut s, "Date of the last vaccination");
    s.send(ESC).unwrap();
    wait_for(&mut s, "Main water source");
    s.send(ESC).unwrap();
    wait_for(&mut s, "Does the household have a water source?");
    s.send(DOWN).unwrap();
    s.send(ENTER).unwrap(); // No: the water source stops applying
    wait_for(&mut s, "Date of the last vaccination");
    s.send(ENTER).unwrap();
    wait_for(&mut s, "Enumerator code");
    s.send(ENTER).unwrap();
    wait_for(&mut s, "Location of the homestead");
    s.send(ESC).unwrap(); // back to the code, then forward again
    wait_for(&mut s, "Enumerator code");
    s.send(ENTER).unwrap();
    wait_for(&mut s, "Location of the homestead");
    type_line(&mut s, "-1.31 36.78");
    wait_for(&mut s, "Write this visit?");
    s.send(ESC).unwrap(); // Esc at the confirmation steps back to the last question
    wait_for(&mut s, "Location of the homestead");
    s.send(ENTER).unwrap(); // keeps the answer it shows
    wait_for(&mut s, "Write this visit?");
    s.send("y").unwrap();
    let (code, out) = pty::finish(s);
    assert_eq!(code, 0, "{out}");
    let v = the_visit(&o.device);
    assert_eq!(
        v["answers"],
        json!({"crop": "maize", "crops_grown": "rice maize", "household_size": "4",
               "has_water": "no", "gps": "-1.31 36.78"})
    );
}

#[test]
fn ctrl_c_esc_and_no_write_nothing_and_exit_130() {
    let o = officer_with_form();
    let before = o.device.snapshot();
    // Ctrl-C in the middle of the walk, at a text prompt and at a list.
    for at_list in [false, true] {
        let mut s = add_visit(&o);
        first_answers(&mut s);
        if at_list {
            wait_for(&mut s, "Does the household have a water source?");
        }
        s.send(CTRL_C).unwrap();
        let (code, out) = pty::finish(s);
        assert_eq!(code, 130, "{out}");
        assert!(out.contains("nothing was written"), "{out}");
        assert_eq!(o.device.snapshot(), before);
    }
    // Esc at the first question leaves.
    let mut s = add_visit(&o);
    wait_for(&mut s, "Main crop this season");
    s.send(ESC).unwrap();
    let (code, out) = pty::finish(s);
    assert_eq!(code, 130, "{out}");
    // "No" at the end.
    let mut s = add_visit(&o);
    first_answers(&mut s);
    wait_for(&mut s, "Does the household have a water source?");
    s.send(DOWN).unwrap();
    s.send(ENTER).unwrap();
    for _ in 0..2 {
        wait_for(&mut s, "›");
        s.send(ENTER).unwrap();
    }
    wait_for(&mut s, "Location of the homestead");
    type_line(&mut s, "1 2");
    wait_for(&mut s, "Write this visit?");
    s.send("n").unwrap();
    let (code, out) = pty::finish(s);
    assert_eq!(code, 130, "{out}");
    assert_eq!(o.device.snapshot(), before);
}

#[test]
fn edit_walks_the_form_with_the_current_answers_as_defaults() {
    let o = officer_with_form();
    let id = o
        .device
        .ok(&[
            "visit",
            "add",
            "--household",
            &o.household,
            "--answer",
            "crop=rice",
            "--answer",
            "household_size=4",
            "--answer",
            "has_water=no",
            "--answer",
            "gps=1 2",
            "--answer",
            "officer_code=AB1",
        ])
        .trim()
        .to_string();
    let queued = |d: &Device| d.json(&["queue"])["entries"].as_array().unwrap().len();
    let before = queued(&o.device);
    let mut s = pty::spawn(&o.device, &["visit", "edit", &id]);
    wait_for(&mut s, "Main crop this season");
    s.send(ENTER).unwrap(); // the default: rice
    wait_for(&mut s, "All crops grown");
    s.send(ENTER).unwrap();
    wait_for(&mut s, "How many people live in the household?");
    wait_for(&mut s, "4"); // the current answer, ready to edit
    s.send(BACKSPACE).unwrap();
    type_line(&mut s, "5");
    wait_for(&mut s, "Does the household have a water source?");
    s.send(ENTER).unwrap(); // the default: No
    wait_for(&mut s, "Date of the last vaccination");
    s.send(ENTER).unwrap();
    wait_for(&mut s, "Enumerator code");
    s.send(BACKSPACE.repeat(3)).unwrap();
    s.send(ENTER).unwrap(); // cleared
    wait_for(&mut s, "Location of the homestead");
    s.send(ENTER).unwrap();
    wait_for(&mut s, "The visit:");
    wait_for(&mut s, "5  (changed)");
    wait_for(&mut s, "Write this visit?");
    s.send("y").unwrap();
    let (code, out) = pty::finish(s);
    assert_eq!(code, 0, "{out}");
    let v = the_visit(&o.device);
    assert_eq!(
        v["answers"],
        json!({"crop": "rice", "household_size": "5", "has_water": "no", "gps": "1 2"})
    );
    // The edit queued only what changed.
    let q = o.device.json(&["queue"]);
    let last = q["entries"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(queued(&o.device), before + 1, "{q}");
    let changed: Vec<&String> = last["payload"].as_object().unwrap().keys().collect();
    assert!(
        changed.contains(&&"answers.household_size".to_string())
            && changed.contains(&&"answers.officer_code".to_string())
            && !changed.contains(&&"answers.crop".to_string()),
        "{last}"
    );
    // With a flag, an edit on a terminal asks nothing.
    let s = pty::spawn(&o.device, &["visit", "edit", &id, "--notes", "seen again"]);
    let (code, out) = pty::finish(s);
    assert_eq!(code, 0, "{out}");
    assert!(!out.contains("Main crop"), "{out}");
    assert_eq!(the_visit(&o.device)["notes"], "seen again");
}

#[test]
fn without_a_form_a_terminal_records_the_visit_as_before() {
    let d = Device::initialised();
    let h = d.add_household("Wanjiru");
    let s = pty::spawn(&d, &["visit", "add", "--household", &h, "--notes", "hello"]);
    let (code, out) = pty::finish(s);
    assert_eq!(code, 0, "{out}");
    assert!(!out.contains('?'), "no prompt without a form: {out}");
    assert_eq!(the_visit(&d)["notes"], "hello");
}

/// The sample form has no decimal question: a small form of its own, with a constraint.
#[test]
fn a_decimal_question_checks_its_number_and_constraint() {
    let server = TestServer::new(StoreKind::Sqlite);
    let token = server.add_officer("amina", "north");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("survey.csv"),
        "type,name,label,required,constraint,constraint_message\n\
         decimal,plot_size,Plot size in hectares,yes,. > 0 and . < 1000,Between 0 and 1000 hectares\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("choices.csv"), "list_name,name,label\n").unwrap();
    let form = dir.path().display().to_string();
    let (code, _, err) = admin(&server.db, &["form", "publish", "--team", "north", &form]);
    assert_eq!(code, 0, "publish: {err}");
    let d = Device::for_officer(&server.url, "amina", &token);
    d.sync_expect(0);
    let h = d.add_household("Wanjiru");

    let mut s = pty::spawn(&d, &["visit", "add", "--household", &h]);
    wait_for(&mut s, "Plot size in hectares");
    type_line(&mut s, "2,5");
    wait_for(&mut s, "expected a decimal number");
    s.send(BACKSPACE.repeat(3)).unwrap();
    type_line(&mut s, "1e3");
    wait_for(&mut s, "is not a decimal number");
    s.send(BACKSPACE.repeat(3)).unwrap();
    type_line(&mut s, "1500.5");
    wait_for(&mut s, "Between 0 and 1000 hectares");
    s.send(BACKSPACE.repeat(6)).unwrap();
    type_line(&mut s, "2.5");
    wait_for(&mut s, "Write this visit?");
    s.send("y").unwrap();
    let (code, out) = pty::finish(s);
    assert_eq!(code, 0, "{out}");
    assert_eq!(the_visit(&d)["answers"], json!({"plot_size": "2.5"}));
}
