//! Imports that never duplicate and read their input strictly (issue 12, item 3), through the
//! real binary: importing the same rows twice creates nothing new, every wrong-type JSON-lines
//! value is exit 65 naming its line and field with the database byte-identical, CSV headers
//! are matched case-insensitively, and header problems name line 1.

mod support;

use std::path::{Path, PathBuf};

use serde_json::Value;
use support::device::Device;

/// Writes `text` to a file named `name` in `dir`.
fn file(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// `household import` / `visit import` of `path` with `extra` flags: the JSON report.
fn import(d: &Device, entity: &str, path: &Path, extra: &[&str]) -> Value {
    let mut args = vec![entity, "import", path.to_str().unwrap()];
    args.extend_from_slice(extra);
    d.json(&args)
}

/// The database file's bytes once its write-ahead log is folded in, as a short digest (a
/// failed comparison prints two lines, not the file) with the length.
fn db_bytes(d: &Device) -> String {
    use sha2::Digest;
    let c = rusqlite::Connection::open(&d.db).unwrap();
    c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .unwrap();
    drop(c);
    let bytes = std::fs::read(&d.db).unwrap();
    format!(
        "{} bytes, sha256 {}",
        bytes.len(),
        hex::encode(sha2::Sha256::digest(&bytes))
    )
}

fn count(d: &Device, entity: &str) -> usize {
    d.json(&[entity, "list", "--deleted"])
        .as_array()
        .unwrap()
        .len()
}

#[test]
fn importing_the_same_rows_again_creates_nothing_new() {
    let d = Device::initialised();
    let dir = tempfile::tempdir().unwrap();
    let three = "name,village,gps\nWanjiru,Kibera,\"-1.31,36.78\"\nOtieno,Kisumu,\nAchieng,,\n";
    let first = file(dir.path(), "a.csv", three);
    assert_eq!(
        import(&d, "household", &first, &[]),
        serde_json::json!({"imported": 3, "skipped": 0})
    );
    // The same file again, and the same rows as JSON lines in another order: nothing new.
    assert_eq!(import(&d, "household", &first, &[])["imported"], 0);
    let jsonl = file(
        dir.path(),
        "b.jsonl",
        "{\"name\": \"Otieno\", \"village\": \"Kisumu\"}\n{\"village\": \"Kibera\", \"gps\": [-1.31, 36.78], \"name\": \"Wanjiru\"}\n",
    );
    assert_eq!(
        import(&d, "household", &jsonl, &[]),
        serde_json::json!({"imported": 0, "skipped": 2})
    );
    assert_eq!(count(&d, "household"), 3);
    assert_eq!(d.json(&["queue"])["entries"].as_array().unwrap().len(), 3);

    // A file with some new rows imports only those, and says so in words.
    let more = file(
        dir.path(),
        "c.csv",
        &format!("{three}Kamau,Nyeri,\nKamau,Nyeri,\n"),
    );
    let out = d.run(&["household", "import", more.to_str().unwrap()]);
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    // A row really given twice in one file is two records (the second copy is its own row).
    assert!(
        err.contains("imported 2, skipped 3 already imported"),
        "{err}"
    );
    assert_eq!(count(&d, "household"), 5);
    assert_eq!(import(&d, "household", &more, &[])["imported"], 0);

    // --again forces new records.
    assert_eq!(
        import(&d, "household", &first, &["--again"]),
        serde_json::json!({"imported": 3, "skipped": 0})
    );
    assert_eq!(count(&d, "household"), 8);
}

#[test]
fn visits_without_a_time_are_recognised_again() {
    let d = Device::initialised();
    let h = d.add_household("Wanjiru");
    let dir = tempfile::tempdir().unwrap();
    // No visited_at: the import time fills it in, and is not part of what makes a row the same.
    let rows = format!("household_id,notes,crop\n{h},first,maize\n{h},second,rice\n");
    let f = file(dir.path(), "v.csv", &rows);
    assert_eq!(import(&d, "visit", &f, &[])["imported"], 2);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    assert_eq!(
        import(&d, "visit", &f, &[]),
        serde_json::json!({"imported": 0, "skipped": 2})
    );
    assert_eq!(count(&d, "visit"), 2);
}

/// Household rows, each with a wrong type on line 2, and the field the error must name.
const HOUSEHOLD_CASES: &[(&str, &str, &[&str])] = &[
    (r#"{"name": true}"#, "name", &[]),
    (r#"{"name": 42}"#, "name", &[]),
    (r#"{"name": null}"#, "name", &[]),
    (r#"{"name": ["a"]}"#, "name", &[]),
    (r#"{"name": {"a": "b"}}"#, "name", &[]),
    (
        r#"{"name": "a", "notes": 12345678901234567890123}"#,
        "notes",
        &["--coerce"],
    ),
    (r#"{"name": "a", "village": 1e3}"#, "village", &["--coerce"]),
    (
        r#"{"name": "a", "village": 1.50}"#,
        "village",
        &["--coerce"],
    ),
    (
        r#"{"name": "a", "village": false}"#,
        "village",
        &["--coerce"],
    ),
    (r#"{"name": "a", "gps": "1,2"}"#, "gps", &[]),
    (r#"{"name": "a", "gps": [1, "2"]}"#, "gps", &[]),
    (r#"{"name": "a", "gps": [1]}"#, "gps", &[]),
    (
        r#"{"name": "a", "gps_lat": "1", "gps_lon": 2}"#,
        "gps_lat",
        &[],
    ),
    (
        r#"{"name": "a", "gps_lat": 1, "gps_lon": true}"#,
        "gps_lon",
        &[],
    ),
    (r#"{"name": "a", "name": "b"}"#, "name", &[]),
    (r#"{"name": "a", "colour": "red"}"#, "colour", &[]),
];

/// Visit rows (`H` is replaced by a household id), as above.
const VISIT_CASES: &[(&str, &str, &[&str])] = &[
    (r#"{"household_id": "H", "crop": 7}"#, "crop", &[]),
    (
        r#"{"household_id": "H", "answers.crop": 7}"#,
        "answers.crop",
        &[],
    ),
    (
        r#"{"household_id": "H", "answers": {"crop": true}}"#,
        "answers.crop",
        &["--coerce"],
    ),
    (
        r#"{"household_id": "H", "answers": {"crop": "a", "crop": "b"}}"#,
        "answers.crop",
        &[],
    ),
    (
        r#"{"household_id": "H", "crop": "a", "answers": {"crop": "b"}}"#,
        "answers.crop",
        &[],
    ),
    (
        r#"{"household_id": "H", "answers": ["maize"]}"#,
        "answers",
        &[],
    ),
    (r#"{"household_id": 5}"#, "household_id", &[]),
    (
        r#"{"household_id": "H", "visited_at": 1700000000}"#,
        "visited_at",
        &[],
    ),
    (
        r#"{"household_id": "H", "notes": 1.0}"#,
        "notes",
        &["--coerce"],
    ),
    (
        r#"{"household_id": "H", "household_id": "H"}"#,
        "household_id",
        &[],
    ),
];

#[test]
fn every_wrong_type_is_exit_65_naming_line_and_field_and_changes_nothing() {
    let d = Device::initialised();
    let h = d.add_household("Wanjiru");
    // The first visit binds the database to its officer; that write is not the import's.
    d.add_visit(&h, "first");
    let before = db_bytes(&d);
    let good_h = r#"{"name": "fine"}"#;
    let good_v = format!(r#"{{"household_id": "{h}"}}"#);
    let cases = HOUSEHOLD_CASES
        .iter()
        .map(|(row, field, flags)| {
            (
                "household",
                good_h.to_string(),
                row.to_string(),
                field,
                flags,
            )
        })
        .chain(VISIT_CASES.iter().map(|(row, field, flags)| {
            (
                "visit",
                good_v.clone(),
                row.replace("\"H\"", &format!("\"{h}\"")),
                field,
                flags,
            )
        }));
    for (entity, good, row, field, flags) in cases {
        let mut args = vec![entity, "import", "-"];
        args.extend_from_slice(flags);
        let out = d
            .cmd(&args)
            .write_stdin(format!("{good}\n{row}\n"))
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(65), "{row}: {err}");
        assert!(
            err.contains(&format!("line 2: {field}")),
            "{row}: the error must name line 2 and {field}: {err}"
        );
        assert!(out.stdout.is_empty(), "{row}");
    }
    assert_eq!(
        db_bytes(&d),
        before,
        "a refused import changed the database"
    );
}

#[test]
fn ids_and_times_are_stored_in_their_canonical_spelling() {
    let d = Device::initialised();
    let h = d.add_household("Wanjiru");
    let row = format!(
        "{{\"household_id\": \"{{{}}}\", \"visited_at\": \"2026-11-25t12:30:00+03:00\"}}\n",
        h.to_uppercase()
    );
    d.cmd(&["visit", "import", "-"])
        .write_stdin(row)
        .assert()
        .success();
    let v = &d.json(&["visit", "list"])[0];
    assert_eq!(v["household_id"], h.as_str());
    assert_eq!(v["visited_at"], "2026-11-25T09:30:00Z");
    let bad = format!("{{\"household_id\": \"{h}\", \"visited_at\": \"2026-11-25X09:30:00z\"}}\n");
    let out = d
        .cmd(&["visit", "import", "-"])
        .write_stdin(bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(65));
    assert!(String::from_utf8_lossy(&out.stderr).contains("line 1: visited_at"));
}

#[test]
fn coerce_accepts_numbers_that_read_back_exactly() {
    let d = Device::initialised();
    let h = d.add_household("Wanjiru");
    let rows = format!(
        "{{\"household_id\": \"{h}\", \"notes\": 42, \"answers\": {{\"children\": 3, \"ha\": 2.5}}}}\n"
    );
    d.cmd(&["visit", "import", "-", "--coerce"])
        .write_stdin(rows)
        .assert()
        .success();
    let v = &d.json(&["visit", "list"])[0];
    assert_eq!(v["notes"], "42");
    assert_eq!(v["answers"]["children"], "3");
    assert_eq!(v["answers"]["ha"], "2.5");
}

#[test]
fn csv_headers_are_trimmed_and_case_insensitive() {
    let d = Device::initialised();
    let h = d.add_household("Wanjiru");
    let dir = tempfile::tempdir().unwrap();
    let hh = file(
        dir.path(),
        "h.csv",
        "\u{feff} Name ,VILLAGE, Gps_Lat ,GPS_LON\nOtieno,Kisumu,-0.1,34.7\n",
    );
    assert_eq!(import(&d, "household", &hh, &[])["imported"], 1);
    let list = d.json(&["household", "list"]);
    let otieno = list
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "Otieno")
        .unwrap();
    assert_eq!(otieno["village"], "Kisumu");
    assert_eq!(otieno["gps_lat"], -0.1);
    let v = file(
        dir.path(),
        "v.csv",
        &format!("Household_ID,NOTES,ANSWERS.crop,Water\n{h},n,maize,well\n"),
    );
    assert_eq!(import(&d, "visit", &v, &[])["imported"], 1);
    let visit = &d.json(&["visit", "list"])[0];
    assert_eq!(visit["notes"], "n");
    assert_eq!(visit["answers"]["crop"], "maize");
    // An answer key keeps its case.
    assert_eq!(visit["answers"]["Water"], "well");
}

#[test]
fn header_problems_name_line_1_and_an_empty_file_is_an_error() {
    let d = Device::initialised();
    let dir = tempfile::tempdir().unwrap();
    let before = db_bytes(&d);
    let cases = [
        ("name,Name\na,b\n", "appears twice"),
        ("name,colour\na,red\n", "colour: unknown column"),
        ("name,gps_lat\na,1\n", "gps_lat and gps_lon"),
        ("name,gps,gps_lat,gps_lon\na,,,\n", "not both"),
        ("name,,village\na,,b\n", "no name"),
        ("name\n", "no rows"),
        ("", "empty"),
        ("  \n\n", "empty"),
    ];
    for (i, (text, says)) in cases.iter().enumerate() {
        let f = file(dir.path(), &format!("{i}.csv"), text);
        let err = d.fails(65, &["household", "import", f.to_str().unwrap()]);
        assert!(err.contains(says), "{text:?}: {err}");
        if !text.trim().is_empty() {
            assert!(err.contains("line 1:"), "{text:?}: {err}");
        }
    }
    let empty = file(dir.path(), "e.jsonl", "\n\n");
    let err = d.fails(65, &["household", "import", empty.to_str().unwrap()]);
    assert!(err.contains("empty"), "{err}");
    assert_eq!(db_bytes(&d), before);
}
