//! The officer's CLI, run as the real binary: every command and every bad input of the
//! local store. No server is involved here (see tests/sync.rs for that).

mod support;

use std::path::Path;

use assert_cmd::Command;
use serde_json::Value;
use support::device::Device;

#[test]
fn record_a_household_and_a_visit_by_id_prefix() {
    let d = Device::initialised();
    let h = d.add_household("Wanjiru");
    assert_eq!(h.len(), 36, "add prints the id alone: {h:?}");
    let v = d
        .ok(&[
            "visit",
            "add",
            "--household",
            &h[..13],
            "--notes",
            "two children",
            "--gps",
            "-1.3133,36.7876",
            "--answer",
            "crop=maize",
            "--answer",
            "water=well",
            "--at",
            "2026-11-25T09:30:00+03:00",
        ])
        .trim()
        .to_string();
    let visits = d.json(&["visit", "list"]);
    let visits = visits.as_array().unwrap();
    assert_eq!(visits.len(), 1);
    let visit = &visits[0];
    assert_eq!(visit["id"], v.as_str());
    assert_eq!(visit["sync_state"], "pending");
    assert_eq!(visit["household_id"], h.as_str());
    assert_eq!(visit["officer_id"], "amina");
    assert_eq!(visit["visited_at"], "2026-11-25T06:30:00Z");
    assert_eq!(visit["gps_lat"], -1.3133);
    assert_eq!(visit["answers"]["crop"], "maize");
    assert!(visit["version"].is_null());
    for key in [
        "server_id",
        "created_at",
        "updated_at",
        "deleted_at",
        "notes",
    ] {
        assert!(visit.get(key).is_some(), "visit list --json lacks {key}");
    }
    let shown = d.json(&["visit", "show", &v[..12]]);
    assert_eq!(&shown, visit);
    let text = d.ok(&["visit", "show", &v]);
    assert!(text.contains("crop=maize"), "{text}");

    let queue = d.json(&["queue"]);
    let entries = queue["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(queue["pending"], 2);
    let ops: Vec<&str> = entries
        .iter()
        .map(|e| e["op_id"].as_str().unwrap())
        .collect();
    assert_ne!(ops[0], ops[1]);
    assert_eq!(entries[0]["operation"], "insert");
    assert_eq!(entries[0]["entity_type"], "household");
    assert_eq!(entries[1]["entity_type"], "visit");
    assert_eq!(entries[1]["payload"]["answers.crop"], "maize");

    let households = d.json(&["household", "list", "--state", "pending"]);
    assert_eq!(households[0]["name"], "Wanjiru");
    assert_eq!(
        d.json(&["household", "list", "--state", "synced"]),
        Value::Array(vec![])
    );
    let listed = d.ok(&["visit", "list", "--household", &h[..10]]);
    let short = d.json(&["visit", "show", &v])["short_id"].clone();
    assert!(listed.starts_with(short.as_str().unwrap()), "{listed}");
}

#[test]
fn edits_queue_only_changed_fields_and_deletes_leave_tombstones() {
    let d = Device::initialised();
    let h = d.add_household("Otieno");
    let v1 = d.ok(&[
        "visit",
        "add",
        "--household",
        &h,
        "--answer",
        "crop=maize",
        "--notes",
        "n",
    ]);
    let v2 = d.ok(&["visit", "add", "--household", &h]);
    let (v1, v2) = (v1.trim(), v2.trim());
    d.ok(&["visit", "edit", v1, "--notes", "second visit"]);
    d.ok(&[
        "visit",
        "edit",
        v1,
        "--answer",
        "crop=rice",
        "--unset-answer",
        "missing",
        "--gps",
        "1,2",
    ]);
    d.ok(&["visit", "delete", v2]);
    let queue = d.json(&["queue"]);
    let entries = queue["entries"].as_array().unwrap();
    let tail: Vec<(String, Value)> = entries[3..]
        .iter()
        .map(|e| {
            (
                e["operation"].as_str().unwrap().to_string(),
                e["payload"].clone(),
            )
        })
        .collect();
    assert_eq!(
        tail,
        vec![
            (
                "update".to_string(),
                serde_json::json!({"notes": "second visit"})
            ),
            (
                "update".to_string(),
                serde_json::json!({"answers.crop": "rice", "gps": [1.0, 2.0]})
            ),
            ("delete".to_string(), serde_json::json!({})),
        ]
    );
    // The delete keeps a tombstone, hidden from list unless asked for.
    assert_eq!(d.json(&["visit", "list"]).as_array().unwrap().len(), 1);
    let all = d.json(&["visit", "list", "--deleted"]);
    let gone = all
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == v2)
        .unwrap();
    assert!(gone["deleted_at"].is_string());
    // A deleted record cannot be edited; an edit with nothing new queues nothing.
    d.fails(65, &["visit", "edit", v2, "--notes", "x"]);
    d.ok(&["visit", "edit", v1, "--notes", "second visit"]);
    assert_eq!(d.json(&["queue"])["entries"].as_array().unwrap().len(), 6);
    // Clearing a field with an empty value.
    d.ok(&["household", "edit", &h, "--village", "Kisumu"]);
    d.ok(&["household", "edit", &h, "--village", ""]);
    assert!(d.json(&["household", "show", &h])["village"].is_null());
}

#[test]
fn bad_input_fails_clearly_and_changes_nothing() {
    let d = Device::initialised();
    let h = d.add_household("Achieng");
    let v = d.ok(&["visit", "add", "--household", &h]);
    let v = v.trim();
    let before = d.snapshot();
    let long = "x".repeat(4001);
    let cases: Vec<(i32, Vec<&str>, &str)> = vec![
        (
            66,
            vec!["visit", "add", "--household", "ffffffff"],
            "no household",
        ),
        (
            65,
            vec!["visit", "add", "--household", "xyz!"],
            "not a household id",
        ),
        (
            65,
            vec!["household", "add", "--name", "A", "--gps", "91,0"],
            "latitude",
        ),
        (
            65,
            vec!["household", "add", "--name", "A", "--gps", "0,200"],
            "longitude",
        ),
        (
            65,
            vec!["household", "add", "--name", "A", "--gps", "north"],
            "LAT,LON",
        ),
        (65, vec!["household", "add", "--name", ""], "empty"),
        (65, vec!["household", "add", "--name", "   "], "empty"),
        (
            65,
            vec!["visit", "add", "--household", &h, "--answer", "crop"],
            "KEY=VALUE",
        ),
        (
            65,
            vec!["visit", "add", "--household", &h, "--answer", "bad key=x"],
            "answer key",
        ),
        (
            65,
            vec!["visit", "add", "--household", &h, "--notes", &long],
            "limit is 4000",
        ),
        (
            65,
            vec!["visit", "add", "--household", &h, "--at", "yesterday"],
            "2026-11-25T09:30",
        ),
        (
            65,
            vec!["visit", "edit", v, "--notes", &long],
            "limit is 4000",
        ),
        (66, vec!["visit", "show", "abcdef12"], "no visit"),
        (
            66,
            vec!["household", "edit", "abcdef12", "--name", "B"],
            "no household",
        ),
        (66, vec!["visit", "delete", "abcdef12"], "no visit"),
        (65, vec!["household", "delete", &h], "still has 1 visit"),
        (2, vec!["household", "edit", &h], "nothing to change"),
        (
            2,
            vec!["visit", "list", "--state", "lost"],
            "unknown sync state",
        ),
        (2, vec!["household", "add"], "--name"),
    ];
    for (code, args, needle) in &cases {
        let err = d.fails(*code, args);
        assert!(
            err.contains(needle),
            "{args:?}: expected {needle:?} in {err:?}"
        );
        if *code != 2 {
            assert_eq!(err.trim().lines().count(), 1, "{args:?}: {err}");
        }
    }
    assert_eq!(d.snapshot(), before, "a bad input changed stored data");
}

#[test]
fn ambiguous_prefixes_list_the_candidates() {
    let d = Device::initialised();
    let a = d.add_household("A");
    let b = d.add_household("B");
    let common: String = a
        .chars()
        .zip(b.chars())
        .take_while(|(x, y)| x == y)
        .map(|(x, _)| x)
        .collect();
    assert!(
        common.len() >= 8,
        "UUID v7 ids made together share a prefix"
    );
    let err = d.fails(2, &["household", "show", &common]);
    // The candidates are named by the short ids `list` shows.
    let short = |id: &str| {
        d.json(&["household", "show", id])["short_id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert!(
        err.contains("ambiguous") && err.contains(&short(&a)) && err.contains(&short(&b)),
        "{err}"
    );
}

#[test]
fn visits_need_a_config_naming_the_officer() {
    let d = Device::new();
    let h = d.add_household("Kamau");
    let before = d.snapshot();
    let err = d.fails(78, &["visit", "add", "--household", &h]);
    assert!(err.contains("fieldsync init"), "{err}");
    std::fs::write(&d.config, "server = 3\n").unwrap();
    let err = d.fails(78, &["visit", "add", "--household", &h]);
    assert!(err.contains("not valid"), "{err}");
    assert_eq!(d.snapshot(), before);
    // A database belongs to one officer.
    d.init("http://127.0.0.1:9", "amina", "t");
    d.ok(&["visit", "add", "--household", &h]);
    // `init` for another officer is refused before the config is written (issue 11).
    let err = d.fails(
        78,
        &[
            "init",
            "--server",
            "http://127.0.0.1:9",
            "--officer",
            "brian",
            "--token=t",
        ],
    );
    assert!(err.contains("belongs to officer \"amina\""), "{err}");
    d.ok(&["visit", "add", "--household", &h]);
}

#[test]
fn files_are_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let d = Device::initialised();
    d.add_household("A");
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&d.db), 0o600);
    assert_eq!(mode(&d.config), 0o600);
    let config = std::fs::read_to_string(&d.config).unwrap();
    assert!(config.contains("officer = \"amina\""), "{config}");
}

#[test]
fn init_reads_the_token_from_stdin() {
    let d = Device::new();
    d.cmd(&[
        "init",
        "--server",
        "https://sync.example.org",
        "--officer",
        "amina",
        "--token-stdin",
    ])
    .write_stdin("s3cret\n")
    .assert()
    .success();
    let config = std::fs::read_to_string(&d.config).unwrap();
    assert!(config.contains("token = \"s3cret\""), "{config}");
    d.fails(2, &["init", "--server", "not a url", "--officer", "amina"]);
    d.fails(2, &["init", "--server", "https://x", "--officer", "a b"]);
}

#[test]
fn a_file_that_is_not_a_database_is_refused_untouched() {
    let d = Device::new();
    std::fs::write(
        &d.db,
        b"these are my field notes, not a database\n".repeat(100),
    )
    .unwrap();
    let before = std::fs::read(&d.db).unwrap();
    let err = d.fails(74, &["household", "list"]);
    assert!(err.contains("not a fieldsync database"), "{err}");
    assert_eq!(std::fs::read(&d.db).unwrap(), before);
}

#[test]
fn a_database_from_a_newer_fieldsync_is_refused_untouched() {
    let d = Device::new();
    d.add_household("A");
    {
        let c = rusqlite::Connection::open(&d.db).unwrap();
        c.pragma_update(None, "user_version", 99).unwrap();
        c.pragma_update(None, "journal_mode", "DELETE").unwrap();
    }
    let before = std::fs::read(&d.db).unwrap();
    let err = d.fails(74, &["household", "list"]);
    assert!(err.contains("newer fieldsync"), "{err}");
    assert_eq!(std::fs::read(&d.db).unwrap(), before);
}

#[test]
fn a_read_only_database_refuses_writes_and_keeps_its_data() {
    use std::os::unix::fs::PermissionsExt;
    let d = Device::initialised();
    d.add_household("A");
    let before = d.snapshot();
    // Root ignores file modes, so as root the write is attempted as the user `nobody`.
    let dir = d.db.parent().unwrap();
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(&d.db, std::fs::Permissions::from_mode(0o444)).unwrap();
    let bin = support::bin();
    let mut cmd = if support::sys::is_root() {
        let mut c = std::process::Command::new("runuser");
        c.args(["-u", "nobody", "--"]).arg(&bin);
        c
    } else {
        std::process::Command::new(&bin)
    };
    let out = cmd
        .arg("--db")
        .arg(&d.db)
        .args(["household", "add", "--name", "B"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(74), "{err}");
    assert!(
        err.contains("read-only") || err.contains("permission"),
        "{err}"
    );
    std::fs::set_permissions(&d.db, std::fs::Permissions::from_mode(0o600)).unwrap();
    assert_eq!(d.snapshot(), before);
}

#[test]
fn import_is_all_or_nothing_with_line_numbers() {
    let d = Device::initialised();
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("households.csv");
    std::fs::write(
        &csv,
        "name,village,gps_lat,gps_lon,notes\nWanjiru,Kibera,-1.31,36.78,\nOtieno,Kisumu,,,\"has, comma\"\n",
    )
    .unwrap();
    let out = d.json(&["household", "import", csv.to_str().unwrap()]);
    assert_eq!(out["imported"], 2);
    let hs = d.json(&["household", "list"]);
    let h = hs[0]["id"].as_str().unwrap().to_string();
    assert_eq!(d.json(&["queue"])["entries"].as_array().unwrap().len(), 2);

    // Visits from JSON lines on stdin, extra keys become answers.
    let jsonl = format!(
        "{{\"household_id\": \"{h}\", \"notes\": \"a\", \"crop\": \"maize\"}}\n{{\"household_id\": \"{h}\", \"answers\": {{\"water\": \"well\"}}, \"gps\": [1, 2]}}\n"
    );
    d.cmd(&["visit", "import", "-"])
        .write_stdin(jsonl)
        .assert()
        .success();
    let visits = d.json(&["visit", "list"]);
    assert_eq!(visits.as_array().unwrap().len(), 2);
    assert!(visits
        .as_array()
        .unwrap()
        .iter()
        .any(|v| v["answers"]["crop"] == "maize"));

    // One bad row anywhere: nothing imported, and the error names its line.
    let before = d.snapshot();
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "name,gps\nA,\"1,2\"\nB,\"95,2\"\nC,\n").unwrap();
    let err = d.fails(65, &["household", "import", bad.to_str().unwrap()]);
    assert!(err.contains("line 3") && err.contains("latitude"), "{err}");
    let bad_visit = format!("{{\"household_id\": \"{h}\"}}\n{{\"household_id\": \"ffffffff-0000-7000-8000-000000000000\"}}\n");
    let out = d
        .cmd(&["visit", "import", "-"])
        .write_stdin(bad_visit)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(65));
    assert!(String::from_utf8_lossy(&out.stderr).contains("line 2"));
    let out = d
        .cmd(&["visit", "import", "-"])
        .write_stdin("{not json\n")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(65));
    d.fails(66, &["household", "import", "/no/such/file.csv"]);
    assert_eq!(d.snapshot(), before);
}

#[test]
fn status_reports_counts_and_the_queue() {
    let d = Device::initialised();
    let h = d.add_household("A");
    d.ok(&["visit", "add", "--household", &h]);
    let st = d.json(&["status"]);
    assert_eq!(st["households"]["pending"], 1);
    assert_eq!(st["visits"]["pending"], 1);
    assert_eq!(st["queue"]["pending"], 2);
    assert_eq!(st["conflicts"], 0);
    assert!(st["last_sync_at"].is_null());
    assert!(st["oldest_pending"].is_string());
    let text = d.ok(&["status"]);
    assert!(
        text.contains("2 waiting") && text.contains("never"),
        "{text}"
    );
    let q = d.ok(&["queue"]);
    assert_eq!(q.lines().count(), 2, "{q}");
    assert!(q.contains("insert") && q.contains("fields=name"), "{q}");
}

#[test]
fn completions_in_the_repository_are_fresh() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("completions");
    let update = std::env::var_os("FIELDSYNC_UPDATE_COMPLETIONS").is_some();
    for (shell, file) in [
        ("bash", "fieldsync.bash"),
        ("zsh", "_fieldsync"),
        ("fish", "fieldsync.fish"),
        ("elvish", "fieldsync.elv"),
        ("powershell", "_fieldsync.ps1"),
    ] {
        let out = Command::cargo_bin("fieldsync")
            .unwrap()
            .args(["completions", shell])
            .output()
            .unwrap();
        assert!(out.status.success());
        let path = root.join(file);
        if update {
            std::fs::write(&path, &out.stdout).unwrap();
            continue;
        }
        let stored = std::fs::read(&path).unwrap_or_default();
        assert!(
            stored == out.stdout,
            "completions/{file} is stale: run `FIELDSYNC_UPDATE_COMPLETIONS=1 cargo test --test cli completions`"
        );
    }
}
