//! Issue 13 item 10: times. `--at` without an offset is the laptop's local time (stored in
//! UTC) and an unreadable one says how to write it; text output shows local times while
//! JSON stays UTC; a visit before 2000 or over a day ahead is refused by the client and by
//! the server (both stores).

mod support;

use fieldsync::protocol::ChangeStatus;
use support::body::{uid, visit};
use support::device::Device;
use support::{StoreKind, TestServer};

/// Runs `fieldsync ARGS` on `d` in Nairobi (UTC+3, no daylight saving).
fn in_nairobi(d: &Device, args: &[&str]) -> std::process::Output {
    d.cmd(args).env("TZ", "Africa/Nairobi").output().unwrap()
}

fn stdout(out: &std::process::Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).to_string()
}

#[test]
fn at_without_an_offset_is_local_and_text_shows_local_times() {
    let d = Device::initialised();
    let h = d.add_household("Wanjiru");
    let v = stdout(&in_nairobi(
        &d,
        &[
            "visit",
            "add",
            "--household",
            &h,
            "--at",
            "2026-11-25T09:30",
        ],
    ));
    let v = v.trim();
    let json = d.json(&["visit", "show", v]);
    assert_eq!(json["visited_at"], "2026-11-25T06:30:00Z", "stored in UTC");
    let list = stdout(&in_nairobi(&d, &["visit", "list"]));
    assert!(list.contains("2026-11-25 09:30:00 +03:00"), "{list}");
    let show = stdout(&in_nairobi(&d, &["visit", "show", v]));
    assert!(show.contains("2026-11-25 09:30:00 +03:00"), "{show}");
    // With an offset, and with a space.
    stdout(&in_nairobi(
        &d,
        &["visit", "edit", v, "--at", "2026-11-25 10:00"],
    ));
    assert_eq!(
        d.json(&["visit", "show", v])["visited_at"],
        "2026-11-25T07:00:00Z"
    );
    stdout(&in_nairobi(
        &d,
        &["visit", "edit", v, "--at", "2026-11-25T10:00:00+01:00"],
    ));
    assert_eq!(
        d.json(&["visit", "show", v])["visited_at"],
        "2026-11-25T09:00:00Z"
    );
}

#[test]
fn unreadable_and_implausible_times_are_refused_with_advice() {
    let d = Device::initialised();
    let h = d.add_household("Wanjiru");
    let err = d.fails(
        65,
        &[
            "visit",
            "add",
            "--household",
            &h,
            "--at",
            "25/11/2026 09:30",
        ],
    );
    assert!(err.contains("write it as 2026-11-25T09:30"), "{err}");
    for far in [
        "0000-01-01T00:00:00Z",
        "1999-12-31T23:00:00Z",
        "2030-01-01T00:00:00Z",
    ] {
        let err = d.fails(65, &["visit", "add", "--household", &h, "--at", far]);
        assert!(err.contains("visited_at"), "{err}");
    }
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("v.csv");
    std::fs::write(
        &csv,
        format!(
            "household_id,visited_at\n{h_full},2031-05-01T00:00:00Z\n",
            h_full = full_id(&d, &h)
        ),
    )
    .unwrap();
    let err = d.fails(65, &["visit", "import", csv.to_str().unwrap()]);
    assert!(err.contains("line 2") && err.contains("future"), "{err}");
}

fn full_id(d: &Device, short: &str) -> String {
    d.json(&["household", "show", short])["id"]
        .as_str()
        .unwrap()
        .to_string()
}

fn the_server_refuses_implausible_visit_times(kind: StoreKind) {
    let server = TestServer::new(kind);
    let token = server.add_officer("amina", "north");
    let h = uid();
    let mut changes = vec![support::body::household(h, "Wanjiru")];
    for at in [
        "0000-01-01T00:00:00Z",
        "1999-12-31T23:59:59Z",
        "2099-01-01T00:00:00Z",
    ] {
        changes.push(visit(
            uid(),
            h,
            "amina",
            serde_json::json!({ "visited_at": at }),
        ));
    }
    changes.push(visit(
        uid(),
        h,
        "amina",
        serde_json::json!({ "visited_at": "2026-01-01T00:00:00Z" }),
    ));
    let results = support::http::push(&server.url, &token, uuid::Uuid::new_v4(), changes);
    let statuses: Vec<ChangeStatus> = results.iter().map(|r| r.status).collect();
    assert_eq!(
        statuses,
        [
            ChangeStatus::Accepted,
            ChangeStatus::Rejected,
            ChangeStatus::Rejected,
            ChangeStatus::Rejected,
            ChangeStatus::Accepted
        ],
        "{results:?}"
    );
}

support::both_stores!(the_server_refuses_implausible_visit_times);
