//! Issue 13 item 2: another officer cannot write to your terminal. Control characters (other
//! than line breaks and tabs in notes) are refused on every way in — flags, import, a push
//! to the server (both stores) — and text stored before the rule is printed escaped.
//! Multi-line notes print indented in `show` and `⏎`-joined in `list`.

mod support;

use fieldsync::protocol::ChangeStatus;
use support::body::{household, insert, uid};
use support::device::Device;
use support::{StoreKind, TestServer};

const ESCAPES: &[&str] = &[
    "\u{1b}[31mred",
    "a\rb",
    "bell\u{7}",
    "\u{9b}2J",
    "rev\u{202e}txt",
];

#[test]
fn flags_and_imports_refuse_control_characters() {
    let d = Device::initialised();
    let h = d.add_household("Wanjiru");
    for bad in ESCAPES {
        let err = d.fails(65, &["household", "add", "--name", bad]);
        assert!(err.contains("control characters"), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        d.fails(65, &["household", "edit", &h, "--village", bad]);
        d.fails(65, &["household", "add", "--name", "ok", "--notes", bad]);
        d.fails(
            65,
            &[
                "visit",
                "add",
                "--household",
                &h,
                "--answer",
                &format!("crop={bad}"),
            ],
        );
    }
    // Newlines and tabs are for notes only.
    d.fails(65, &["household", "add", "--name", "two\nlines"]);
    d.ok(&[
        "household",
        "add",
        "--name",
        "Otieno",
        "--notes",
        "first line\n\tsecond line",
    ]);

    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("h.csv");
    std::fs::write(
        &csv,
        "name,village\nfine,Kibera\n\"esc\u{1b}]0;owned\u{7}\",Kibera\n",
    )
    .unwrap();
    let before = d.snapshot();
    let err = d.fails(65, &["household", "import", csv.to_str().unwrap()]);
    assert!(
        err.contains("line 3") && err.contains("control characters"),
        "{err}"
    );
    assert_eq!(d.snapshot(), before, "a refused import changes nothing");
}

/// What an older fieldsync (or an older server's pull) may have stored: written straight
/// into the database, so only printing stands between it and the terminal.
fn stored_unsafely(d: &Device, name: &str, notes: &str) {
    let conn = rusqlite::Connection::open(&d.db).unwrap();
    conn.execute(
        "INSERT INTO household (id, name, notes, sync_state, version, created_at, updated_at)
         VALUES (?1, ?2, ?3, 'synced', 1, '2026-11-24T16:00:00Z', '2026-11-24T16:00:00Z')",
        (uid().to_string(), name, notes),
    )
    .unwrap();
}

#[test]
fn stored_control_characters_print_escaped_and_notes_keep_their_lines() {
    let d = Device::initialised();
    stored_unsafely(
        &d,
        "\u{1b}]0;owned\u{7}Mwangi",
        "line one\nline two\u{1b}[2J",
    );
    let list = d.ok(&["household", "list"]);
    let show_id = list.split_whitespace().next().unwrap().to_string();
    let show = d.ok(&["household", "show", &show_id]);
    for out in [&list, &show] {
        assert!(!out.contains('\u{1b}') && !out.contains('\u{7}'), "{out:?}");
        assert!(out.contains("\\u{1b}]0;owned\\u{7}Mwangi"), "{out}");
    }
    // `list`: one line a record, the notes' lines joined by ⏎.
    assert_eq!(list.lines().count(), 1, "{list}");
    let h = d.add_household("Kamau");
    d.ok(&["household", "edit", &h, "--notes", "goats\nchickens"]);
    let list = d.ok(&["household", "list"]);
    assert_eq!(list.lines().count(), 2, "{list}");
    // `show`: the second line of the notes sits under the first.
    let show = d.ok(&["household", "show", &h]);
    let notes_at = show.lines().position(|l| l.starts_with("notes")).unwrap();
    let lines: Vec<&str> = show.lines().collect();
    let first = lines[notes_at];
    let column = first.find("goats").unwrap();
    assert_eq!(
        lines[notes_at + 1],
        format!("{:column$}chickens", ""),
        "{show}"
    );
    // JSON keeps the text exactly.
    assert_eq!(
        d.json(&["household", "show", &h])["notes"],
        "goats\nchickens"
    );
}

fn the_server_refuses_control_characters(kind: StoreKind) {
    let server = TestServer::new(kind);
    let token = server.add_officer("amina", "north");
    let device = uuid::Uuid::new_v4();
    let mut changes = Vec::new();
    for bad in ESCAPES {
        let mut h = household(uid(), "ok");
        h["fields"]["name"] = (*bad).into();
        changes.push(h);
        changes.push(insert(
            "household",
            uid(),
            serde_json::json!({ "name": "ok", "notes": bad }),
        ));
    }
    changes.push(insert(
        "household",
        uid(),
        serde_json::json!({ "name": "ok", "notes": "two\nlines\tand a tab" }),
    ));
    let results = support::http::push(&server.url, &token, device, changes);
    let (last, refused) = results.split_last().unwrap();
    for r in refused {
        assert_eq!(r.status, ChangeStatus::Rejected, "{r:?}");
        let message = format!("{r:?}");
        assert!(message.contains("control characters"), "{message}");
    }
    assert_eq!(last.status, ChangeStatus::Accepted, "{last:?}");
}

support::both_stores!(the_server_refuses_control_characters);
