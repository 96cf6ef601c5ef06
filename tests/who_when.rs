//! Who and when (issue 12, item 4), on both stores: the server stamps each change with its own
//! receive time and the pushing officer; two laptops show the same created/updated times and
//! officers for one record (not the time each pulled it); `show` says who last changed each
//! field; `sync` says what arrived by whom; exports carry the stamps.

mod support;

use std::time::Duration;

use serde_json::Value;
use support::device::Device;
use support::{add_officer, admin, both_stores, StoreKind, TestServer};

const STAMPS: [&str; 4] = ["created_at", "created_by", "updated_at", "updated_by"];

fn show(d: &Device, entity: &str, id: &str) -> Value {
    d.json(&[entity, "show", id])
}

/// A laptop of a new officer of team north.
fn laptop(server: &TestServer, officer: &str) -> Device {
    let token = add_officer(&server.db, officer, "north");
    Device::for_officer(&server.url, officer, &token)
}

fn two_laptops_show_the_same_who_and_when(kind: StoreKind) {
    let server = TestServer::new(kind);
    let (amina, brian) = (laptop(&server, "amina"), laptop(&server, "brian"));
    let h = amina.add_household("Wanjiru");
    amina.ok(&["household", "edit", &h, "--village", "Kibera"]);
    let v = amina.add_visit(&h, "first visit");
    amina.sync_expect(0);
    amina.sync_expect(0);
    // Brian pulls later: times that were "when this laptop pulled it" would differ.
    std::thread::sleep(Duration::from_millis(1_100));
    brian.sync_expect(0);
    std::thread::sleep(Duration::from_millis(1_100));
    brian.ok(&["household", "edit", &h, "--name", "Wanjiru Njeri"]);
    brian.sync_expect(0);
    let (_, out, _) = amina.sync(&[]);
    assert!(
        out.contains("pulled 1: 1 household by brian"),
        "sync names what arrived by whom: {out}"
    );
    for (entity, id) in [("household", &h), ("visit", &v)] {
        let a = show(&amina, entity, id);
        let b = show(&brian, entity, id);
        for k in STAMPS {
            assert!(a[k].is_string(), "{entity} {k} on amina's laptop: {a}");
            assert_eq!(a[k], b[k], "{entity} {k} differs between the laptops");
        }
        assert_eq!(a["field_stamps"], b["field_stamps"], "{entity}");
        assert_eq!(a["created_by"], "amina");
    }
    let hh = show(&amina, "household", &h);
    assert_eq!(hh["updated_by"], "brian");
    assert!(
        hh["updated_at"].as_str() > hh["created_at"].as_str(),
        "{hh}"
    );
    assert_eq!(hh["field_stamps"]["name"]["by"], "brian");
    assert_eq!(hh["field_stamps"]["village"]["by"], "amina");
    assert_eq!(hh["field_stamps"]["name"]["at"], hh["updated_at"]);
    let visit = show(&brian, "visit", &v);
    assert_eq!(visit["updated_by"], "amina");

    // `show` in words: who last changed each field, and a local edit not synced yet.
    brian.ok(&["household", "edit", &h, "--notes", "new roof"]);
    let text = brian.ok(&["household", "show", &h]);
    let line = |field: &str| {
        text.lines()
            .find(|l| l.trim_start().starts_with(field) && l.starts_with("  "))
            .unwrap_or_else(|| panic!("no history line for {field}: {text}"))
            .to_string()
    };
    assert!(line("name").contains("brian at "), "{text}");
    assert!(line("village").contains("amina at "), "{text}");
    assert!(line("notes").contains("not synced yet"), "{text}");

    // The server's export carries the same stamps.
    let (code, csv, err) = admin(
        &server.db,
        &["export", "--entity", "household", "--format", "jsonl"],
    );
    assert_eq!(code, 0, "{err}");
    let row: Value = serde_json::from_str(csv.lines().next().unwrap()).unwrap();
    for k in STAMPS {
        assert_eq!(row[k], hh[k], "export {k}");
    }
}

/// Settling a conflict with the server's copy leaves the record as a pull would: the server's
/// receive times, the same as on the laptop that made the change (not the time of the
/// resolve). Keeping this laptop's copy shows this laptop's time until it is synced.
fn a_resolved_conflict_shows_the_servers_times(kind: StoreKind) {
    let server = TestServer::new(kind);
    let (amina, brian) = (laptop(&server, "amina"), laptop(&server, "brian"));
    let h = amina.add_household("Wanjiru");
    let other = amina.add_household("Otieno");
    amina.sync_expect(0);
    brian.sync_expect(0);
    for id in [&h, &other] {
        amina.ok(&["household", "edit", id, "--notes", "from amina"]);
        brian.ok(&["household", "edit", id, "--notes", "from brian"]);
    }
    amina.sync_expect(0);
    amina.sync_expect(0);
    // The resolve comes well after amina's change reached the server.
    std::thread::sleep(Duration::from_millis(1_100));
    let (code, _, err) = brian.sync(&[]);
    assert_ne!(code, 0, "brian's edits collide: {err}");
    brian.ok(&["resolve", &h, "--keep", "theirs"]);
    let (a, b) = (show(&amina, "household", &h), show(&brian, "household", &h));
    assert_eq!(b["notes"], "from amina", "{b}");
    for k in STAMPS {
        assert_eq!(a[k], b[k], "{k} after resolving with the server's copy");
    }
    brian.ok(&["resolve", &other, "--keep", "mine"]);
    let b = show(&brian, "household", &other);
    let a = show(&amina, "household", &other);
    assert!(
        b["updated_at"].as_str() > a["updated_at"].as_str(),
        "a kept local edit shows this laptop's time until it is synced: {b} / {a}"
    );
    assert_eq!(b["created_at"], a["created_at"]);
}

both_stores!(
    two_laptops_show_the_same_who_and_when,
    a_resolved_conflict_shows_the_servers_times
);
