//! The hostile-request table: each case sent to a real server over SQLite and PostgreSQL,
//! with its exact status and error code, the server healthy afterwards and nothing stored but
//! what the case says. The cases live by concern in sibling modules; this module runs them.

use super::*;

/// One change's expected result in a 200 push.
#[derive(Debug, Clone)]
pub(crate) enum R {
    Rejected(&'static str),
    /// Exactly this result (a replay returns the first result).
    Same(Value),
}

#[derive(Debug, Clone)]
pub(crate) enum Want {
    /// The whole request fails with this status and error code.
    Error(u16, &'static str),
    /// 200 with these per-change results; `ops` new op_id results stored, nothing else.
    Results(Vec<R>, usize),
    /// 200, every change accepted, and only these records (id → the fields sent) are new
    /// and pulled back byte-exactly.
    Stored(Vec<(Uuid, Value)>),
    /// 200 for a pull (the query is fine).
    PullOk,
    /// hyper refuses the request itself, before any handler: this status with an empty body
    /// (not the JSON error shape; see docs/hostile.md).
    Bare(u16),
}

pub(crate) struct Case {
    name: String,
    req: Req,
    want: Want,
}

pub(crate) fn case(name: impl Into<String>, req: Req, want: Want) -> Case {
    Case {
        name: name.into(),
        req,
        want,
    }
}

pub(crate) fn err(status: u16, code: &'static str) -> Want {
    Want::Error(status, code)
}

/// Asserts the response's status, showing the body when it is not.
fn assert_status(name: &str, r: &Resp, status: u16) {
    assert_eq!(
        r.status,
        status,
        "{name}: {:?}",
        String::from_utf8_lossy(&r.body)
    );
}

/// Every case, in the order they are sent (later cases rely on what earlier ones stored).
fn table(w: &World) -> Vec<Case> {
    let mut t = auth::cases(w);
    t.extend(bodies::cases(w));
    t.extend(replay::cases(w));
    t.extend(fields::per_change_cases(w));
    t.extend(cursors::cases(w));
    let base = hh(uid(), json!({"name": "x"}));
    t.extend(fields::request_cases(w, &base));
    t.extend(injection::cases(w, &base));
    t
}

/// A push body that WOULD be accepted: so an auth or framing failure that let it through
/// would show up in the fingerprint.
pub(crate) fn good() -> Vec<u8> {
    body(uid(), vec![hh(uid(), json!({"name": "would be stored"}))])
}

pub(crate) fn model_valid_officer(s: &str) -> bool {
    fieldsync::model::validate_officer_id(s).is_ok()
}

/// Sends one case and checks everything it promises: the answer, the server still healthy,
/// and nothing stored but what the case says. Returns the new fingerprint.
fn run_case(w: &World, c: &Case, before: &Fingerprint) -> Fingerprint {
    let r = send(&w.addr, &c.req);
    let name = &c.name;
    assert!(
        r.status < 500,
        "{name}: {} {:?}",
        r.status,
        String::from_utf8_lossy(&r.body)
    );
    let (new_ops, stored) = check_response(name, &r, &c.want);
    // The server is still there.
    let h = send(&w.addr, &health());
    assert_eq!(h.status, 200, "{name}: health after the case");
    let after = fingerprint(w);
    // Nothing stored but what the case says.
    assert_eq!(after.officers, before.officers, "{name}: officers");
    assert_eq!(
        after.officer_rows, before.officer_rows,
        "{name}: officer rows"
    );
    assert_eq!(after.meta, before.meta, "{name}: meta");
    for (k, v) in &before.ops {
        assert_eq!(after.ops.get(k), Some(v), "{name}: a stored result changed");
    }
    assert_eq!(
        after.ops.len(),
        before.ops.len() + new_ops,
        "{name}: results stored under op_ids"
    );
    assert_unchanged_but(name, before, &after, &stored);
    if stored.is_empty() {
        assert_eq!(
            after.counters, before.counters,
            "{name}: version counters moved"
        );
    } else {
        assert_stored(name, before, &after, new_ops, &stored);
    }
    after
}

/// Checks the answer against what the case wants: (op results it stores, records it stores).
fn check_response(name: &str, r: &Resp, want: &Want) -> (usize, Vec<(Uuid, Value)>) {
    match want {
        Want::Error(status, code) => {
            assert_status(name, r, *status);
            assert_eq!(r.error_code(), *code, "{name}");
            (0, Vec::new())
        }
        Want::Bare(status) => {
            assert_status(name, r, *status);
            assert!(
                r.body.is_empty(),
                "{name}: {:?}",
                String::from_utf8_lossy(&r.body)
            );
            (0, Vec::new())
        }
        Want::PullOk => {
            assert_status(name, r, 200);
            serde_json::from_slice::<PullResponse>(&r.body).expect("a pull page");
            (0, Vec::new())
        }
        Want::Results(want, ops) => {
            assert_status(name, r, 200);
            let v = r.json();
            serde_json::from_value::<PushResponse>(v.clone()).expect("a push response");
            let got = v["results"].as_array().unwrap();
            assert_eq!(got.len(), want.len(), "{name}: {got:?}");
            for (g, w) in got.iter().zip(want) {
                match w {
                    R::Rejected(code) => {
                        assert_eq!(g["status"], "rejected", "{name}: {g}");
                        assert_eq!(g["error"]["code"], *code, "{name}: {g}");
                    }
                    R::Same(x) => assert_eq!(g, x, "{name}"),
                }
            }
            (*ops, Vec::new())
        }
        Want::Stored(recs) => {
            assert_status(name, r, 200);
            let v = r.json();
            let got = v["results"].as_array().unwrap();
            assert!(
                got.iter().all(|g| g["status"] == "accepted"),
                "{name}: {got:?}"
            );
            (got.len(), recs.clone())
        }
    }
}

/// Records and pulls are the same before and after, but for the records the case stores.
fn assert_unchanged_but(
    name: &str,
    before: &Fingerprint,
    after: &Fingerprint,
    stored: &[(Uuid, Value)],
) {
    let ids: Vec<String> = stored.iter().map(|(id, _)| id.to_string()).collect();
    let strip = |fp: &Fingerprint| -> (Pulls, BTreeMap<String, String>) {
        let pulls = fp
            .pulls
            .iter()
            .map(|(t, rs)| {
                (
                    t.clone(),
                    rs.iter()
                        .filter(|r| !ids.iter().any(|i| r["id"] == *i))
                        .cloned()
                        .collect(),
                )
            })
            .collect();
        let recs = fp
            .records
            .iter()
            .filter(|(k, _)| !ids.contains(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        (pulls, recs)
    };
    assert_eq!(strip(after), strip(before), "{name}: records changed");
}

/// The records the case stores took one version each, round-trip byte-exactly and are seen
/// by their team only.
fn assert_stored(
    name: &str,
    before: &Fingerprint,
    after: &Fingerprint,
    new_ops: usize,
    stored: &[(Uuid, Value)],
) {
    let v0 = north_version(before);
    let v1 = north_version(after);
    assert_eq!(v1, v0 + new_ops as i64, "{name}: versions taken");
    let north = &after.pulls[0].1;
    for (id, fields) in stored {
        let rec = north
            .iter()
            .find(|r| r["id"] == id.to_string())
            .unwrap_or_else(|| panic!("{name}: {id} not pulled"));
        assert_eq!(&rec["fields"], fields, "{name}: fields do not round-trip");
        // Byte-exact: the JSON text of each string is the same.
        for (k, v) in fields.as_object().unwrap() {
            assert_eq!(
                rec["fields"][k].as_str().map(str::as_bytes),
                v.as_str().map(str::as_bytes),
                "{name}: {k}"
            );
        }
        assert!(
            !after.pulls[1].1.iter().any(|r| r["id"] == id.to_string()),
            "{name}: another team sees {id}"
        );
    }
}

fn hostile_requests_table(kind: StoreKind) {
    let w = World::new(kind);
    let mut fp = fingerprint(&w);
    // Each team pulls only its own records.
    let north: Vec<&Value> = fp.pulls[0].1.iter().collect();
    let south: Vec<&Value> = fp.pulls[1].1.iter().collect();
    assert_eq!(north.len(), 2);
    assert_eq!(south.len(), 1);
    assert!(south.iter().all(|r| r["id"] == w.h_south.to_string()));
    let cases = table(&w);
    if let Ok(path) = std::env::var("FIELDSYNC_HOSTILE_TABLE") {
        write_table(&path, &cases);
    }
    let start = Instant::now();
    for c in &cases {
        fp = run_case(&w, c, &fp);
    }
    println!(
        "{kind:?}: {} hostile requests in {:.1} s",
        cases.len(),
        start.elapsed().as_secs_f64()
    );
    // The first result is intact after every replay attempt.
    let r = push_ok(&w.addr, &w.amina, w.device, vec![w.first_change.clone()]);
    assert_eq!(r[0], w.first_result);
    assert!(cases.len() >= 150, "{}", cases.len());
}

/// Writes the table as Markdown (for docs/hostile.md): the variants of one case (`#N`, one
/// per SQL metacharacter string) on one row.
fn write_table(path: &str, cases: &[Case]) {
    let mut rows: Vec<(String, String, usize)> = Vec::new();
    for c in cases {
        let name = match c.name.find(" #") {
            Some(i) => c.name[..i].to_string(),
            None => c.name.clone(),
        };
        let want = match &c.want {
            Want::Error(st, code) => format!("{st} `{code}`"),
            Want::Results(rs, ops) => {
                let rs: Vec<String> = rs
                    .iter()
                    .map(|r| match r {
                        R::Rejected(code) => format!("rejected `{code}`"),
                        R::Same(_) => "the first result again".into(),
                    })
                    .collect();
                format!(
                    "200: [{}]; {ops} op result(s) stored, nothing else",
                    rs.join(", ")
                )
            }
            Want::Stored(_) => "200, accepted as data, round-trips byte-exactly".into(),
            Want::PullOk => "200".into(),
            Want::Bare(st) => format!("{st} from hyper, empty body"),
        };
        match rows.iter_mut().find(|(n, w, _)| *n == name && *w == want) {
            Some((_, _, k)) => *k += 1,
            None => rows.push((name, want, 1)),
        }
    }
    let mut out = String::from("| # | hostile request | expected |\n|---|---|---|\n");
    for (i, (n, w, k)) in rows.iter().enumerate() {
        let n = n.replace('|', "\\|");
        let n = if *k > 1 { format!("{n} (×{k})") } else { n };
        out.push_str(&format!(
            "| {} | {n} | {} |\n",
            i + 1,
            w.replace('|', "\\|")
        ));
    }
    std::fs::write(path, out).unwrap();
}

#[test]
fn sqlite_hostile_requests_table() {
    hostile_requests_table(StoreKind::Sqlite);
}

#[test]
fn postgres_hostile_requests_table() {
    hostile_requests_table(StoreKind::Postgres);
}
