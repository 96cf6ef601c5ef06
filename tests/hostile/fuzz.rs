//! Fuzzing a live server with proptest: arbitrary bytes, arbitrary JSON and near-valid push
//! requests at `POST /v1/push`, random query strings at `GET /v1/pull`. Never a 5xx, always
//! the JSON error shape, and the server stays healthy.

use super::*;

fn arb_json() -> BoxedStrategy<Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        ".{0,24}".prop_map(Value::String),
        prop_oneof![
            Just("household"),
            Just("visit"),
            Just("insert"),
            Just("update"),
            Just("delete"),
            Just("'; DROP TABLE ops; --"),
            Just("%_\\")
        ]
        .prop_map(|s| Value::String(s.into())),
        any::<u128>().prop_map(|u| Value::String(Uuid::from_u128(u).to_string())),
    ];
    leaf.prop_recursive(6, 64, 8, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::btree_map("[a-z_.]{0,12}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
    .boxed()
}

const KEYS: &[&str] = &[
    "op_id",
    "entity_type",
    "entity_id",
    "operation",
    "base_version",
    "fields",
];

/// A change whose every field is either valid or arbitrary, with random extra or missing keys.
fn arb_change(households: Vec<Uuid>) -> impl Strategy<Value = Value> {
    let hs = households.clone();
    let id = prop_oneof![
        3 => any::<u128>().prop_map(|u| json!(Uuid::from_u128(u))),
        2 => proptest::sample::select(hs).prop_map(|u| json!(u)),
        1 => arb_json(),
    ]
    .boxed();
    let fields = prop_oneof![
        2 => (".{0,30}", proptest::option::of(".{0,30}"), proptest::option::of((-100.0f64..100.0, -200.0f64..200.0))).prop_map(|(n, v, g)| {
            let mut f = json!({"name": n});
            if let Some(v) = v { f["notes"] = json!(v); }
            if let Some((a, b)) = g { f["gps"] = json!([a, b]); }
            f
        }),
        2 => (proptest::sample::select(households), proptest::sample::select(vec!["amina", "brian", "x"]), "[a-z_.%-]{1,8}", ".{0,20}").prop_map(|(h, o, k, v)| json!({"household_id": h, "officer_id": o, "visited_at": "2026-11-25T09:30:00Z", format!("answers.{k}"): v})),
        1 => proptest::collection::btree_map("[a-z_.]{0,12}", arb_json(), 0..5).prop_map(|m| Value::Object(m.into_iter().collect())),
        1 => arb_json(),
    ];
    (
        id.clone(),
        prop_oneof![4 => proptest::sample::select(vec!["household", "visit"]).prop_map(|s| json!(s)), 1 => arb_json()],
        id,
        prop_oneof![4 => proptest::sample::select(vec!["insert", "update", "delete"]).prop_map(|s| json!(s)), 1 => arb_json()],
        prop_oneof![2 => Just(Value::Null), 2 => (-3i64..20).prop_map(Value::from), 1 => any::<i64>().prop_map(Value::from), 1 => arb_json()],
        fields,
        proptest::collection::vec(proptest::sample::select(KEYS.to_vec()), 0..2),
        proptest::option::of(("[a-z_]{1,8}", arb_json())),
    )
        .prop_map(|(op, et, eid, oper, base, fields, drop, extra)| {
            let mut c = json!({"op_id": op, "entity_type": et, "entity_id": eid, "operation": oper, "base_version": base, "fields": fields});
            for k in drop {
                c.as_object_mut().unwrap().remove(k);
            }
            if let Some((k, v)) = extra {
                c[k] = v;
            }
            c
        })
}

fn fuzz_cases() -> u32 {
    std::env::var("FIELDSYNC_FUZZ_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_000)
}

fn check_live(addr: &str, req: &Req) -> Result<(), String> {
    let r = send(addr, req);
    if r.status >= 500 {
        return Err(format!(
            "{} {:?}",
            r.status,
            String::from_utf8_lossy(&r.body)
        ));
    }
    if r.status != 200 && serde_json::from_slice::<ErrorBody>(&r.body).is_err() {
        return Err(format!(
            "{} not an error body: {:?}",
            r.status,
            String::from_utf8_lossy(&r.body)
        ));
    }
    Ok(())
}

/// Draws inputs from `strat` and sends each, for `cases` inputs or until `budget` is spent.
/// A failure panics with the input, the generator and the seed.
fn fuzz_with<S: Strategy>(
    name: &str,
    seed: u64,
    strat: S,
    budget: Duration,
    mut send_one: impl FnMut(&S::Value) -> Result<(), String>,
) -> u64
where
    S::Value: std::fmt::Debug,
{
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    let config = Config {
        cases: fuzz_cases(),
        failure_persistence: None,
        ..Config::default()
    };
    let mut runner =
        TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &bytes));
    let start = Instant::now();
    let mut n = 0u64;
    while n < u64::from(fuzz_cases()) && start.elapsed() < budget {
        let value = strat.new_tree(&mut runner).expect("generate").current();
        if let Err(e) = send_one(&value) {
            panic!("{name} (FIELDSYNC_FUZZ_SEED={seed}): {e}\ninput: {value:?}");
        }
        n += 1;
    }
    println!(
        "{name}: {n} requests in {:.1} s",
        start.elapsed().as_secs_f64()
    );
    n
}

#[test]
fn fuzz_push_and_pull_never_5xx() {
    let w = World::new(StoreKind::Sqlite);
    let (addr, token) = (w.addr.clone(), w.amina.clone());
    // By default each of the four generators runs for at most 5 s (about 20 s in all); with
    // FIELDSYNC_FUZZ_CASES set, every case runs whatever it takes.
    let budget = Duration::from_secs(if std::env::var("FIELDSYNC_FUZZ_CASES").is_ok() {
        86_400
    } else {
        5
    });
    let seed: u64 = std::env::var("FIELDSYNC_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random);
    let start = Instant::now();
    let mut total = 0;
    total += fuzz_with(
        "arbitrary bytes",
        seed,
        (
            proptest::collection::vec(any::<u8>(), 0..4096),
            any::<bool>(),
        ),
        budget,
        |(b, gz)| {
            let mut req = post(&token, if *gz { gzip_bytes(b) } else { b.clone() });
            if *gz {
                req = with_header(req, "Content-Encoding", b"gzip");
            }
            check_live(&addr, &req)
        },
    );
    total += fuzz_with("arbitrary JSON", seed, arb_json(), budget, |v| {
        check_live(&addr, &post(&token, serde_json::to_vec(v).unwrap()))
    });
    let households = vec![w.h_north, w.h_south, w.v_north, uid()];
    let near_valid = (
        prop_oneof![4 => any::<u128>().prop_map(|u| json!(Uuid::from_u128(u))), 1 => arb_json()],
        proptest::collection::vec(arb_change(households), 0..12),
        proptest::option::of(("[a-z_]{1,8}", arb_json())),
    );
    total += fuzz_with(
        "near-valid push requests",
        seed,
        near_valid,
        budget,
        |(dev, changes, extra)| {
            let mut b = json!({"device_id": dev, "changes": changes});
            if let Some((k, v)) = extra {
                b[k] = v.clone();
            }
            check_live(&addr, &post(&token, serde_json::to_vec(&b).unwrap()))
        },
    );
    let cursor = w.cursor_amina.clone();
    let queries = prop_oneof![
        "[ -~]{0,80}",
        (
            "-?[0-9]{0,25}(\\.[0-9])?",
            proptest::option::of("[A-Za-z0-9_.%=-]{0,90}")
        )
            .prop_map(|(l, c)| match c {
                Some(c) => format!("limit={l}&cursor={c}"),
                None => format!("limit={l}"),
            }),
        (0usize..200, any::<u8>()).prop_map(move |(i, b)| {
            let mut c = cursor.clone().into_bytes();
            let n = c.len();
            c[i % n] = b;
            format!(
                "cursor={}",
                c.iter().map(|b| format!("%{b:02X}")).collect::<String>()
            )
        }),
    ];
    total += fuzz_with("random pull query strings", seed, queries, budget, |q| {
        // Raw where a request-target allows it (so '%' stays raw), escaped elsewhere.
        let q: String = q
            .bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b"-._~=&%+!$'()*,;:@/?".contains(&b) {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect();
        check_live(&addr, &get(&token, &format!("?{q}")))
    });
    let h = send(&addr, &health());
    assert_eq!(h.status, 200);
    println!(
        "fuzz: {total} requests in {:.1} s, none 5xx, seed {seed}",
        start.elapsed().as_secs_f64()
    );
}
