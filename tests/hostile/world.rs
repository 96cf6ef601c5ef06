//! The server under attack (three teams, a revoked officer, a first push and cursors) and its
//! fingerprint: every team's full pull, `admin officer list --json` and a dump of every table.

use super::*;

pub(crate) struct World {
    pub(crate) s: TestServer,
    pub(crate) addr: String,
    pub(crate) amina: String,
    pub(crate) brian: String,
    pub(crate) chen: String,
    pub(crate) dora_revoked: String,
    pub(crate) device: Uuid,
    pub(crate) h_north: Uuid,
    pub(crate) h_south: Uuid,
    pub(crate) v_north: Uuid,
    /// amina's insert of `h_north` and its (first) result.
    pub(crate) first_change: Value,
    pub(crate) first_result: Value,
    pub(crate) cursor_amina: String,
    pub(crate) cursor_brian: String,
    pub(crate) cursor_chen: String,
}

/// A household insert with `base_version: null` written out.
pub(crate) fn hh(id: Uuid, fields: Value) -> Value {
    change("household", id, "insert", Value::Null, fields)
}

pub(crate) fn push_ok(w_addr: &str, token: &str, device: Uuid, changes: Vec<Value>) -> Vec<Value> {
    let r = send(w_addr, &post(token, body(device, changes)));
    assert_eq!(r.status, 200, "{:?}", r.json());
    let v = r.json();
    serde_json::from_value::<PushResponse>(v.clone()).expect("a push response");
    v["results"].as_array().unwrap().clone()
}

pub(crate) fn pull_all_raw(addr: &str, token: &str) -> (Vec<Value>, String) {
    let mut out = Vec::new();
    let mut q = "?limit=1000".to_string();
    loop {
        let r = send(addr, &get(token, &q));
        assert_eq!(r.status, 200, "{:?}", r.json());
        let page: PullResponse = serde_json::from_slice(&r.body).unwrap();
        out.extend(
            page.records
                .iter()
                .map(|r| serde_json::to_value(r).unwrap()),
        );
        if !page.has_more {
            return (out, page.next_cursor);
        }
        q = format!("?limit=1000&cursor={}", page.next_cursor);
    }
}

impl World {
    pub(crate) fn new(kind: StoreKind) -> World {
        let s = TestServer::new(kind);
        let addr = s.url.strip_prefix("http://").unwrap().to_string();
        let amina = s.add_officer("amina", "north");
        let brian = s.add_officer("brian", "north");
        let chen = s.add_officer("chen", "south");
        let dora_revoked = s.add_officer("dora", "north");
        let (code, _, err) = admin(&s.db, &["officer", "revoke", "dora"]);
        assert_eq!(code, 0, "{err}");
        let device = uid();
        let (h_north, h_south, v_north) = (uid(), uid(), uid());
        let first_change = hh(
            h_north,
            json!({"name": "Wanjiru", "village": "Kibera", "notes": "n"}),
        );
        let r = push_ok(
            &addr,
            &amina,
            device,
            vec![
                first_change.clone(),
                visit(v_north, h_north, "amina", json!({"answers.crop": "maize"})),
            ],
        );
        assert!(r.iter().all(|x| x["status"] == "accepted"), "{r:?}");
        let first_result = r[0].clone();
        let r = push_ok(
            &addr,
            &chen,
            uid(),
            vec![hh(h_south, json!({"name": "Otieno"}))],
        );
        assert_eq!(r[0]["status"], "accepted");
        let cursor_amina = pull_all_raw(&addr, &amina).1;
        let cursor_brian = pull_all_raw(&addr, &brian).1;
        let cursor_chen = pull_all_raw(&addr, &chen).1;
        World {
            s,
            addr,
            amina,
            brian,
            chen,
            dora_revoked,
            device,
            h_north,
            h_south,
            v_north,
            first_change,
            first_result,
            cursor_amina,
            cursor_brian,
            cursor_chen,
        }
    }
}

/// Each team's full pull: (team, records).
pub(crate) type Pulls = Vec<(String, Vec<Value>)>;

/// Everything the server holds.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Fingerprint {
    /// A full pull from cursor zero by an officer of each team: (team, records).
    pub(crate) pulls: Pulls,
    /// `admin officer list --json`.
    pub(crate) officers: String,
    /// Every table, row by row (ops keyed by op_id).
    pub(crate) counters: Vec<String>,
    pub(crate) records: BTreeMap<String, String>,
    pub(crate) ops: BTreeMap<String, String>,
    pub(crate) officer_rows: Vec<String>,
    pub(crate) meta: Vec<String>,
}

/// Each team's version counter (versions are per team), by team.
pub(crate) const SQL_COUNTERS: &str =
    "SELECT team || '|' || CAST(version AS TEXT) FROM team_versions ORDER BY team";
pub(crate) const SQL_RECORDS: &str = "SELECT id || '|' || CAST(server_id AS TEXT) || '|' || entity_type || '|' || team || '|' || CAST(version AS TEXT) || '|' || CAST(deleted AS TEXT) || '|' || COALESCE(deleted_by, '-') || '|' || fields || '|' || stamps FROM records ORDER BY id";
pub(crate) const SQL_OPS: &str =
    "SELECT op_id || '|' || hash || '|' || result FROM ops ORDER BY op_id";
pub(crate) const SQL_OFFICERS: &str = "SELECT id || '|' || team || '|' || token_hash || '|' || created_at || '|' || COALESCE(revoked_at, '-') FROM officers ORDER BY id";
pub(crate) const SQL_META: &str = "SELECT key || '|' || value FROM meta ORDER BY key";

/// Rows of one text column, read straight from the store's database.
pub(crate) fn rows(db: &str, sql: &str) -> Vec<String> {
    rows_of(db, &[sql]).remove(0)
}

/// The rows of several one-column queries (one psql process for PostgreSQL).
pub(crate) fn rows_of(db: &str, queries: &[&str]) -> Vec<Vec<String>> {
    if db.starts_with("postgres") {
        // Each query's rows end with a marker row; rows are separated by U+001E.
        let mut args: Vec<String> = ["-v", "ON_ERROR_STOP=1", "-qAt", "-R", "\u{1e}"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        for q in queries {
            args.extend(["-c".to_string(), q.to_string()]);
            args.extend(["-c".to_string(), "SELECT '@@end@@'".to_string()]);
        }
        let out = std::process::Command::new("/usr/lib/postgresql/15/bin/psql")
            .arg(db)
            .args(&args)
            .output()
            .expect("psql");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let s = String::from_utf8(out.stdout).unwrap();
        let mut all = vec![Vec::new()];
        for r in s.split(['\u{1e}', '\n']).filter(|r| !r.is_empty()) {
            if r == "@@end@@" {
                all.push(Vec::new());
            } else {
                all.last_mut().unwrap().push(r.to_string());
            }
        }
        all.pop();
        assert_eq!(all.len(), queries.len());
        all
    } else {
        let c =
            rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
                .expect("open the server's database");
        c.busy_timeout(Duration::from_secs(10)).unwrap();
        queries
            .iter()
            .map(|q| {
                let mut st = c.prepare(q).unwrap();
                let r = st.query_map([], |r| r.get::<_, String>(0)).unwrap();
                r.map(Result::unwrap).collect()
            })
            .collect()
    }
}

pub(crate) fn keyed(rows: Vec<String>) -> BTreeMap<String, String> {
    rows.into_iter()
        .map(|r| {
            let (k, v) = r.split_once('|').unwrap();
            (k.to_string(), v.to_string())
        })
        .collect()
}

pub(crate) fn fingerprint(w: &World) -> Fingerprint {
    let mut db = rows_of(
        &w.s.db,
        &[SQL_COUNTERS, SQL_RECORDS, SQL_OPS, SQL_OFFICERS, SQL_META],
    );
    let (code, officers, err) = admin(&w.s.db, &["officer", "list", "--json"]);
    assert_eq!(code, 0, "{err}");
    // Supervision (last push, last pull, changes pushed) records that an officer tried: it is
    // not data a hostile request may change, so it is left out of the fingerprint.
    let mut officers: serde_json::Value = serde_json::from_str(&officers).expect("officer list");
    for o in officers.as_array_mut().expect("an array of officers") {
        if let Some(o) = o.as_object_mut() {
            for k in ["last_push_at", "last_pull_at", "changes_pushed"] {
                o.remove(k);
            }
        }
    }
    let officers = officers.to_string();
    Fingerprint {
        pulls: vec![
            ("north".into(), pull_all_raw(&w.addr, &w.amina).0),
            ("south".into(), pull_all_raw(&w.addr, &w.chen).0),
        ],
        officers,
        counters: db.remove(0),
        records: keyed(db.remove(0)),
        ops: keyed(db.remove(0)),
        officer_rows: db.remove(0),
        meta: db.remove(0),
    }
}

/// Team north's version counter (0 before its first write).
pub(crate) fn north_version(fp: &Fingerprint) -> i64 {
    fp.counters
        .iter()
        .filter_map(|row| row.split_once('|'))
        .find(|(team, _)| *team == "north")
        .map_or(0, |(_, v)| v.parse().unwrap())
}
