//! Where the time of one push goes in the server's store: pushes `N` visits (and their
//! household) through the service in batches of `B` into a fresh database and prints the
//! time of every 10% of the run, so growth with the table shows. No HTTP, no client. The
//! batches come as a real device sends them: one device, numbered (each push acknowledges
//! the batches before it, op-id retention) and naming the highest version it holds
//! (`fieldsync-seen`). It prints wall and CPU milliseconds per push (this process's CPU:
//! the service and store; PostgreSQL's own CPU is the database server's).
//!
//! ```text
//! cargo run --example push_profile -- postgres://postgres@127.0.0.1:5432/db 20000 100
//! cargo run --example push_profile -- /tmp/server.sqlite3 20000 100
//! ```
//!
//! For per-statement times, run it against a PostgreSQL with `pg_stat_statements` loaded.

use std::time::Instant;

use fieldsync::model::{EntityType, FieldMap, Operation};
use fieldsync::protocol::{Change, ChangeStatus, PushRequest, PushSequence};
use fieldsync::server::store::Officer;
use fieldsync::server::tokens::{new_token, token_hash};
use fieldsync::server::Service;
use serde_json::json;
use uuid::Uuid;

type Error = Box<dyn std::error::Error + Send + Sync>;

fn visit(household: Uuid, i: usize) -> FieldMap {
    let v = json!({
        "household_id": household.to_string(),
        "officer_id": "profile",
        "visited_at": "2026-11-20T09:30:00Z",
        "notes": format!("visit {i}: follow-up on the water point"),
        "gps": [-1.2921 + (i % 1000) as f64 * 1e-5, 36.8219],
        "answers.crop": "maize",
    });
    serde_json::from_value(v).unwrap_or_default()
}

/// This process's CPU time (user + system) so far, in milliseconds (Linux; 0 elsewhere).
fn cpu_ms() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // The fields after the command name, which is in parentheses and may hold spaces:
    // utime and stime are the 12th and 13th, in clock ticks (100 a second).
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) * 10.0
}

fn change(entity_type: EntityType, fields: FieldMap) -> Change {
    Change {
        op_id: Uuid::now_v7(),
        entity_type,
        entity_id: fieldsync::model::new_id(),
        operation: Operation::Insert,
        base_version: None,
        fields,
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(db), Some(n), Some(b)) = (args.first(), args.get(1), args.get(2)) else {
        return Err("usage: push_profile DATABASE VISITS BATCH".into());
    };
    let (n, b): (usize, usize) = (n.parse()?, b.parse()?);
    let store = fieldsync::server::store::open(db).await?;
    store
        .add_officer("profile", "t1", &token_hash(&new_token()))
        .await?;
    let service = Service::new(store).await?;
    let officer = Officer {
        id: "profile".into(),
        team: "t1".into(),
        created_at: String::new(),
        revoked: false,
    };
    let household = change(
        EntityType::Household,
        serde_json::from_value(json!({"name": "Profile farm"}))?,
    );
    let hid = household.entity_id;
    let mut changes = vec![household];
    changes.extend((0..n).map(|i| change(EntityType::Visit, visit(hid, i))));
    let batches: Vec<Vec<Change>> = changes.chunks(b).map(<[Change]>::to_vec).collect();
    let tenth = (batches.len() / 10).max(1);
    let (started, mut lap, mut lap_cpu) = (Instant::now(), Instant::now(), cpu_ms());
    let (device, mut next_seq, mut seen) = (Uuid::new_v4(), 1_i64, None);
    let cpu_start = lap_cpu;
    for (i, batch) in batches.into_iter().enumerate() {
        let seqs: Vec<i64> = (next_seq..next_seq + batch.len() as i64).collect();
        let sequence = Some(PushSequence {
            seqs,
            finished_below: next_seq,
        });
        next_seq += batch.len() as i64;
        let req = PushRequest {
            device_id: device,
            changes: batch,
            sequence,
        };
        let res = service.push_seen(&officer, req, seen).await?;
        seen = res.results.iter().filter_map(|r| r.version).max().or(seen);
        if let Some(r) = res
            .results
            .iter()
            .find(|r| r.status != ChangeStatus::Accepted)
        {
            return Err(format!("not accepted: {r:?}").into());
        }
        if (i + 1) % tenth == 0 {
            let ms = lap.elapsed().as_secs_f64() * 1000.0;
            let cpu = cpu_ms() - lap_cpu;
            println!(
                "pushes {:>5}..{:>5}: {:>7.2} ms/push wall, {:>6.2} ms/push CPU",
                i + 1 - tenth,
                i + 1,
                ms / tenth as f64,
                cpu / tenth as f64
            );
            (lap, lap_cpu) = (Instant::now(), cpu_ms());
        }
    }
    println!(
        "total {:.2} s wall, {:.2} s CPU",
        started.elapsed().as_secs_f64(),
        (cpu_ms() - cpu_start) / 1000.0
    );
    Ok(())
}
