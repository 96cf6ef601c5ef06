//! Issue 13 item 1: short ids. 100,000 households whose ids share one millisecond: every
//! short id `household list` shows is at most 10 characters, unique, and resolves to its
//! record (all of them through the store's own look-up, a few through the real binary);
//! full ids work with or without hyphens; ambiguity lists 10 candidates and "and N more".

mod support;

use std::collections::HashMap;

use fieldsync::client::store::Store;
use fieldsync::model::EntityType;
use support::device::Device;
use uuid::Uuid;

const N: usize = 100_000;
const MILLISECOND: u64 = 1_764_000_000_000;

/// Writes `N` households with ids of one millisecond, in one transaction, straight into the
/// device's database (as a pull of a big team's records would leave them); returns id → name.
fn same_millisecond_households(d: &Device) -> HashMap<Uuid, String> {
    let mut conn = rusqlite::Connection::open(&d.db).unwrap();
    let tx = conn.transaction().unwrap();
    let mut made = HashMap::with_capacity(N);
    {
        let mut insert = tx
            .prepare(
                "INSERT INTO household (id, name, sync_state, version, created_at, updated_at)
                 VALUES (?1, ?2, 'synced', 1, '2026-11-24T16:00:00Z', '2026-11-24T16:00:00Z')",
            )
            .unwrap();
        while made.len() < N {
            let id =
                uuid::Builder::from_unix_timestamp_millis(MILLISECOND, &rand::random()).into_uuid();
            let name = format!("h{:06}", made.len());
            insert.execute((id.to_string(), &name)).unwrap();
            made.insert(id, name);
        }
    }
    tx.commit().unwrap();
    made
}

#[test]
fn a_hundred_thousand_ids_of_one_millisecond_have_short_ids_that_resolve() {
    let d = Device::initialised();
    let made = same_millisecond_households(&d);
    let full: Vec<&Uuid> = made.keys().collect();
    assert!(
        full.iter()
            .all(|id| id.to_string()[..13] == full[0].to_string()[..13]),
        "the ids share their timestamp"
    );

    // What `household list` shows.
    let listed = d.ok(&["household", "list"]);
    let mut shown: HashMap<String, String> = HashMap::with_capacity(N);
    for line in listed.lines() {
        let mut cols = line.split_whitespace();
        let (short, _state, name) = (
            cols.next().unwrap(),
            cols.next().unwrap(),
            cols.next().unwrap(),
        );
        assert!(short.len() <= 10, "{short} is longer than 10 characters");
        assert!(
            shown.insert(short.to_string(), name.to_string()).is_none(),
            "{short} shown twice"
        );
    }
    assert_eq!(shown.len(), N);

    // Every one resolves to its record through the store's look-up.
    let store = Store::open(&d.db).unwrap();
    let index = store.id_index().unwrap();
    for (short, name) in &shown {
        let id = index
            .resolve(Some(EntityType::Household), "household", "list", short)
            .unwrap_or_else(|e| panic!("{short}: {e}"));
        assert_eq!(&made[&id], name, "{short}");
        assert_eq!(index.short(&id), Some(short.as_str()));
    }
    drop(store);

    // A few through the real binary, as an officer types them: short ids in upper case too,
    // full ids with and without hyphens.
    for (short, name) in shown.iter().take(3) {
        for typed in [short.clone(), short.to_uppercase()] {
            let rec = d.json(&["household", "show", &typed]);
            assert_eq!(rec["name"], name.as_str(), "{typed}");
            assert_eq!(rec["short_id"], short.as_str());
        }
        let id = Uuid::parse_str(rec_id(&d, short).as_str()).unwrap();
        let rec = d.json(&["household", "show", &id.simple().to_string()]);
        assert_eq!(rec["name"], name.as_str());
        let rec = d.json(&["household", "show", &id.to_string()[..23]]);
        assert_eq!(rec["name"], name.as_str());
    }

    // The shared timestamp is ambiguous: ten candidates, then how many more.
    let err = d.fails(2, &["household", "show", &full[0].to_string()[..13]]);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains(&format!("and {} more", N - 10)), "{err}");
    let listed = err
        .split("matches ")
        .nth(1)
        .unwrap()
        .split(" and")
        .next()
        .unwrap();
    assert_eq!(listed.split(", ").count(), 10, "{err}");
}

fn rec_id(d: &Device, short: &str) -> String {
    d.json(&["household", "show", short])["id"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn visits_name_their_household_by_its_short_id_and_bad_ids_are_explained() {
    let d = Device::initialised();
    let h = d.add_household("Wanjiru");
    let v = d.add_visit(&h, "first");
    let households = d.json(&["household", "list"]);
    let short_h = households[0]["short_id"].as_str().unwrap().to_string();
    assert!(short_h.len() >= 4 && short_h.len() <= 10, "{short_h}");
    let visits = d.ok(&["visit", "list"]);
    assert!(visits.contains(&format!("household {short_h}")), "{visits}");
    let short_v = visits.split_whitespace().next().unwrap();
    assert_eq!(d.json(&["visit", "show", short_v])["id"], v.as_str());
    // Short ids work wherever an id is taken.
    d.ok(&["visit", "add", "--household", &short_h, "--notes", "second"]);
    d.ok(&["visit", "edit", short_v, "--notes", "first, again"]);
    let of_h = d.json(&["visit", "list", "--household", &short_h]);
    assert_eq!(of_h.as_array().unwrap().len(), 2);
    let queue = d.ok(&["queue"]);
    assert!(queue.contains(short_v), "{queue}");
    // An import file may name the household by its short id too.
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("v.csv");
    std::fs::write(&csv, format!("household_id,notes\n{short_h},imported\n")).unwrap();
    d.ok(&["visit", "import", csv.to_str().unwrap()]);
    let of_h = d.json(&["visit", "list", "--household", &short_h]);
    assert_eq!(of_h.as_array().unwrap().len(), 3);
    std::fs::write(&csv, "household_id,notes\nzzzz,nobody\n").unwrap();
    let err = d.fails(65, &["visit", "import", csv.to_str().unwrap()]);
    assert!(err.contains("line 2"), "{err}");
    // Neither kind of id: said so, with what to type.
    let err = d.fails(65, &["household", "show", "i!"]);
    assert!(err.contains("short id"), "{err}");
    // A household's short id is not a visit's.
    d.fails(66, &["visit", "show", &short_h]);
}
