//! The PostgreSQL store's write transaction (a push): what it loads, what it writes, and in
//! how few round trips.
//!
//! A write is four round trips: `BEGIN`; every load, pipelined behind the team's lock (the
//! lock, the op_id and record lookups, the device's op mark, server ids for the new records,
//! live visits of deleted households); every write, pipelined (the device's acknowledgement,
//! the records, the op results, the team's counter, the officer's activity); `COMMIT`. The
//! statements are prepared once per connection (`prepare_cached`) and then sent together:
//! PostgreSQL runs a connection's statements one after another, in the order they were sent,
//! each with its own snapshot (READ COMMITTED), so a pipelined statement behaves as if it had
//! been awaited before the next was sent. That order is what the rules below rely on.
//!
//! It decides nothing: what to write is the caller's [`Decide`]. It must not be used for
//! anything but [`super::PgStore::write`] and the team lock other writes share.

use std::future::Future;

use deadpool_postgres::Transaction;
use tokio_postgres::Statement;
use uuid::Uuid;

use super::{activity_sql, to_record, Param, RECORD_COLS};
use crate::server::error::StoreError;
use crate::server::store::{
    check_one_team, finished, from_json, parse_uuid, to_json, Decide, Finished, Snapshot, StoredOp,
    StoredRecord, WriteKeys, WriteSet,
};

/// The team's write lock (see the parent module's docs).
const LOCK: &str = "SELECT version FROM team_versions WHERE team = $1 FOR UPDATE";

/// Server ids for the records the push may create: one per id it names that is not stored.
/// Counted in the same statement, after the record lookup sent before it (so under the
/// team's lock it counts exactly the rows that lookup found).
const SERVER_IDS: &str = "SELECT nextval('record_server_ids') FROM generate_series(1,
     $1::int8 - (SELECT count(*) FROM records WHERE id = ANY($2)))";

/// Live visits of the households a push deletes (the orphan rule).
const LIVE_VISITS: &str = "SELECT fields::jsonb->>'household_id', count(*) FROM records
     WHERE entity_type = 'visit' AND NOT deleted
       AND fields::jsonb->>'household_id' = ANY($1)
     GROUP BY 1";

/// One write transaction: begin, load `keys` under the team's lock, decide, write, commit.
pub(super) async fn write(
    c: &mut deadpool_postgres::Object,
    keys: &WriteKeys,
    decide: Decide,
) -> Result<(), StoreError> {
    let tx = c
        .transaction()
        .await
        .map_err(StoreError::pg("begin push"))?;
    let asked = std::time::Instant::now();
    let mut snap = load(&tx, keys).await?;
    // The lock's wait with the loads pipelined behind it (one round trip when no other
    // write of the team holds the lock).
    crate::server::metrics::global().team_lock(asked.elapsed());
    // The mark as stored, before the decision raises it by the push's own watermark.
    let loaded_mark = snap.forgotten_upto;
    let writes = decide(&mut snap);
    let ack = finished(keys, loaded_mark, writes.origin.as_ref());
    store_writes(&tx, &keys.team, ack.as_ref(), &writes).await?;
    tx.commit().await.map_err(StoreError::pg("commit push"))
}

/// Runs `f` only when `run` (an unpolled statement future is never sent); `None` otherwise.
async fn only_if<T, E>(run: bool, f: impl Future<Output = Result<T, E>>) -> Result<Option<T>, E> {
    match run {
        true => f.await.map(Some),
        false => Ok(None),
    }
}

/// Takes the team's write lock and loads the snapshot, creating the team's counter row
/// first when the team never wrote.
async fn load(tx: &Transaction<'_>, keys: &WriteKeys) -> Result<Snapshot, StoreError> {
    if let Some(snap) = try_load(tx, keys).await? {
        return Ok(snap);
    }
    // The loads ran without the lock: thrown away, and run again under it.
    create_team(tx, &keys.team).await?;
    try_load(tx, keys).await?.ok_or_else(|| {
        StoreError::Corrupt(format!("team {:?}'s version counter is missing", keys.team))
    })
}

/// The statements of [`try_load`], prepared (once per connection).
struct Loads {
    lock: Statement,
    ops: Statement,
    records: Statement,
    mark: Statement,
    server_ids: Statement,
    live_visits: Statement,
}

async fn prepare_loads(tx: &Transaction<'_>) -> Result<Loads, StoreError> {
    let records = format!("SELECT {RECORD_COLS} FROM records WHERE id = ANY($1)");
    let (lock, ops, records, mark, server_ids, live_visits) = tokio::try_join!(
        tx.prepare_cached(LOCK),
        tx.prepare_cached("SELECT op_id, hash, result FROM ops WHERE op_id = ANY($1)"),
        tx.prepare_cached(&records),
        tx.prepare_cached("SELECT forgotten_upto FROM device_ops WHERE device_id = $1"),
        tx.prepare_cached(SERVER_IDS),
        tx.prepare_cached(LIVE_VISITS),
    )
    .map_err(StoreError::pg("prepare push lookups"))?;
    Ok(Loads {
        lock,
        ops,
        records,
        mark,
        server_ids,
        live_visits,
    })
}

/// The team's lock and every load, pipelined in this order: the lock first (everything
/// after it sees what the team's earlier writes committed), the op_id lookup before the
/// device's mark (a lookup that missed a result a trim deleted then sees the mark that trim
/// raised, same commit), the record lookup before the server-id count. `None` when the team
/// has no counter row yet.
async fn try_load(tx: &Transaction<'_>, keys: &WriteKeys) -> Result<Option<Snapshot>, StoreError> {
    let st = prepare_loads(tx).await?;
    let strings = |v: &[Uuid]| v.iter().map(Uuid::to_string).collect::<Vec<String>>();
    let (op_ids, ids) = (strings(&keys.op_ids), strings(&keys.ids));
    let households = strings(&keys.deleted_households);
    let device = keys.device.map(|d| d.to_string());
    let wanted = keys.ids.len() as i64;
    let team: [Param<'_>; 1] = [&keys.team];
    let (op_ids, ids_only): ([Param<'_>; 1], [Param<'_>; 1]) = ([&op_ids], [&ids]);
    let device: [Param<'_>; 1] = [&device];
    let new_ids: [Param<'_>; 2] = [&wanted, &ids];
    let households: [Param<'_>; 1] = [&households];
    let (lock, op_rows, rec_rows, mark, new_ids, visits) = tokio::try_join!(
        only_if(!keys.team.is_empty(), tx.query_opt(&st.lock, &team)),
        tx.query(&st.ops, &op_ids),
        tx.query(&st.records, &ids_only),
        only_if(keys.device.is_some(), tx.query_opt(&st.mark, &device)),
        tx.query(&st.server_ids, &new_ids),
        only_if(
            !keys.deleted_households.is_empty(),
            tx.query(&st.live_visits, &households)
        ),
    )
    .map_err(StoreError::pg("lock the team and load the push's rows"))?;
    let version = match lock {
        None => 0,
        Some(None) => return Ok(None),
        Some(Some(row)) => row
            .try_get(0)
            .map_err(StoreError::pg("read the team's version"))?,
    };
    let mut snap = Snapshot {
        version,
        ..Snapshot::default()
    };
    for r in op_rows {
        let op: String = r.try_get(0).map_err(StoreError::pg("read op_id"))?;
        let hash: String = r.try_get(1).map_err(StoreError::pg("read op hash"))?;
        let result: String = r.try_get(2).map_err(StoreError::pg("read op result"))?;
        let result = from_json("stored result", &result)?;
        snap.ops
            .insert(parse_uuid("op_id", &op)?, StoredOp { hash, result });
    }
    for r in &rec_rows {
        let rec = to_record(r)?;
        snap.records.insert(rec.id, rec);
    }
    if let Some(row) = mark.flatten() {
        snap.forgotten_upto = row.try_get(0).map_err(StoreError::pg("read op mark"))?;
    }
    snap.server_ids = new_ids
        .iter()
        .map(|r| r.try_get(0))
        .collect::<Result<Vec<i64>, _>>()
        .map_err(StoreError::pg("read a server id"))?;
    snap.server_ids.sort_unstable();
    if let Some(rows) = visits {
        snap.live_visits = live_visits(&keys.deleted_households, &rows)?;
    }
    Ok(Some(snap))
}

/// Live visits per deleted household (0 for those without any).
fn live_visits(
    households: &[Uuid],
    rows: &[tokio_postgres::Row],
) -> Result<std::collections::HashMap<Uuid, i64>, StoreError> {
    let mut counts: std::collections::HashMap<Uuid, i64> =
        households.iter().map(|h| (*h, 0)).collect();
    for r in rows {
        let h: String = r.try_get(0).map_err(StoreError::pg("read household id"))?;
        let n: i64 = r.try_get(1).map_err(StoreError::pg("read visit count"))?;
        counts.insert(parse_uuid("household_id", &h)?, n);
    }
    Ok(counts)
}

/// Locks `team`'s counter row (see the parent module's docs) and returns its version,
/// creating the row first when the team never wrote (see [`create_team`]).
pub(super) async fn lock_team(tx: &Transaction<'_>, team: &str) -> Result<i64, StoreError> {
    let lock = tx
        .prepare_cached(LOCK)
        .await
        .map_err(StoreError::pg("prepare the team lock"))?;
    let row = match tx
        .query_opt(&lock, &[&team])
        .await
        .map_err(StoreError::pg("lock the team's version counter"))?
    {
        Some(row) => row,
        None => {
            create_team(tx, team).await?;
            tx.query_one(&lock, &[&team])
                .await
                .map_err(StoreError::pg("lock the team's version counter"))?
        }
    };
    row.try_get(0)
        .map_err(StoreError::pg("read the team's version"))
}

/// Creates `team`'s counter row when it has none: at `version_base`, with (0, base]
/// recorded as skipped (no version up to it was ever handed out in this team). The base is
/// read under a share lock, so a `serve` start raising it concurrently is waited for; two
/// processes creating the same team's row at once create it once (`ON CONFLICT`).
async fn create_team(tx: &Transaction<'_>, team: &str) -> Result<(), StoreError> {
    let base: i64 = tx
        .query_one(
            "SELECT value::bigint FROM meta WHERE key = 'version_base' FOR SHARE",
            &[],
        )
        .await
        .and_then(|r| r.try_get(0))
        .map_err(StoreError::pg("read the version base"))?;
    let created = tx
        .execute(
            "INSERT INTO team_versions (team, version) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            &[&team, &base],
        )
        .await
        .map_err(StoreError::pg("create the team's version counter"))?;
    if created == 1 && base > 0 {
        tx.execute(
            "INSERT INTO team_version_gaps (team, after, upto) VALUES ($1, 0, $2)",
            &[&team, &base],
        )
        .await
        .map_err(StoreError::pg("record the team's skipped versions"))?;
    }
    Ok(())
}

/// The columns of a [`WriteSet`]'s records, as arrays for one `UNNEST` statement.
#[derive(Default)]
struct RecordColumns {
    id: Vec<String>,
    sid: Vec<i64>,
    et: Vec<String>,
    team: Vec<String>,
    ver: Vec<i64>,
    del: Vec<bool>,
    del_by: Vec<Option<String>>,
    fields: Vec<String>,
    stamps: Vec<String>,
    audit: Vec<String>,
    echo: Vec<Option<String>>,
}

impl RecordColumns {
    fn of(records: &[StoredRecord]) -> Result<RecordColumns, StoreError> {
        let mut c = RecordColumns::default();
        for r in records {
            c.id.push(r.id.to_string());
            c.sid.push(r.server_id);
            c.et.push(r.entity_type.as_str().to_string());
            c.team.push(r.team.clone());
            c.ver.push(r.version);
            c.del.push(r.deleted);
            c.del_by.push(r.deleted_by.map(|d| d.to_string()));
            c.fields.push(to_json(&r.fields)?);
            c.stamps.push(to_json(&r.stamps)?);
            c.audit.push(to_json(&r.audit)?);
            c.echo.push(r.echo_device.map(|d| d.to_string()));
        }
        Ok(c)
    }
}

/// The columns of a [`WriteSet`]'s new op results, as arrays for one `UNNEST` statement.
#[derive(Default)]
struct OpColumns {
    op: Vec<String>,
    hash: Vec<String>,
    result: Vec<String>,
    device: Vec<Option<String>>,
    seq: Vec<Option<i64>>,
    stored_at: Vec<Option<i64>>,
}

impl OpColumns {
    fn of(write: &WriteSet) -> Result<OpColumns, StoreError> {
        let mut c = OpColumns::default();
        let origin = write.origin.as_ref();
        let device = origin.map(|x| x.device.to_string());
        for (o, h, r) in &write.ops {
            c.op.push(o.to_string());
            c.hash.push(h.clone());
            c.result.push(to_json(r)?);
            c.device.push(device.clone());
            c.seq.push(origin.and_then(|x| x.seqs.get(o).copied()));
            c.stored_at.push(origin.map(|x| x.stored_at));
        }
        Ok(c)
    }
}

/// The statements of [`store_writes`], prepared (once per connection).
struct Writes {
    raise_mark: Statement,
    forget: Statement,
    records: Statement,
    ops: Statement,
    counter: Statement,
}

async fn prepare_writes(tx: &Transaction<'_>) -> Result<Writes, StoreError> {
    let (raise_mark, forget, records, ops, counter) = tokio::try_join!(
        tx.prepare_cached(
            "INSERT INTO device_ops (device_id, forgotten_upto) VALUES ($1, $2)
             ON CONFLICT (device_id) DO UPDATE
                 SET forgotten_upto = GREATEST(device_ops.forgotten_upto, EXCLUDED.forgotten_upto)",
        ),
        tx.prepare_cached("DELETE FROM ops WHERE device_id = $1 AND seq > $2 AND seq < $3"),
        tx.prepare_cached(
            "INSERT INTO records (id, server_id, entity_type, team, version, deleted, deleted_by, fields, stamps, audit, echo_device)
             SELECT * FROM UNNEST($1::text[], $2::int8[], $3::text[], $4::text[], $5::int8[], $6::bool[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[])
             ON CONFLICT (id) DO UPDATE SET version = EXCLUDED.version, deleted = EXCLUDED.deleted,
               deleted_by = EXCLUDED.deleted_by, fields = EXCLUDED.fields, stamps = EXCLUDED.stamps,
               audit = EXCLUDED.audit, echo_device = EXCLUDED.echo_device",
        ),
        tx.prepare_cached(
            "INSERT INTO ops (op_id, hash, result, device_id, seq, stored_at)
             SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::int8[], $6::int8[])",
        ),
        // (No row matches the empty team of a write that takes no version.)
        tx.prepare_cached("UPDATE team_versions SET version = $2 WHERE team = $1"),
    )
    .map_err(StoreError::pg("prepare push writes"))?;
    Ok(Writes {
        raise_mark,
        forget,
        records,
        ops,
        counter,
    })
}

/// Writes a decided [`WriteSet`], every statement pipelined in this order: the device's
/// acknowledgement (its mark raised, then its finished results deleted: the device row
/// first, as the age trim takes them, so the two never wait on each other in opposite
/// orders), the records, the new op results, the team's counter, the officer's activity.
async fn store_writes(
    tx: &Transaction<'_>,
    team: &str,
    ack: Option<&Finished>,
    write: &WriteSet,
) -> Result<(), StoreError> {
    check_one_team(team, &write.records)?;
    let st = prepare_writes(tx).await?;
    let activity = match &write.activity {
        Some(a) => {
            let (sql, params) = activity_sql(a);
            let st = tx
                .prepare_cached(sql)
                .await
                .map_err(StoreError::pg("prepare the activity record"))?;
            Some((st, params))
        }
        None => None,
    };
    let rc = RecordColumns::of(&write.records)?;
    let oc = OpColumns::of(write)?;
    let rec_params: [Param<'_>; 11] = [
        &rc.id, &rc.sid, &rc.et, &rc.team, &rc.ver, &rc.del, &rc.del_by, &rc.fields, &rc.stamps,
        &rc.audit, &rc.echo,
    ];
    let op_params: [Param<'_>; 6] = [
        &oc.op,
        &oc.hash,
        &oc.result,
        &oc.device,
        &oc.seq,
        &oc.stored_at,
    ];
    let ack = ack.map(|a| (a, a.below - 1));
    let (mark_params, forget_params): (Vec<Param<'_>>, Vec<Param<'_>>) = match &ack {
        Some((a, mark)) => (vec![&a.device, mark], vec![&a.device, &a.above, &a.below]),
        None => (Vec::new(), Vec::new()),
    };
    let ctr_params: [Param<'_>; 2] = [&team, &write.version];
    tokio::try_join!(
        only_if(ack.is_some(), tx.execute(&st.raise_mark, &mark_params)),
        only_if(ack.is_some(), tx.execute(&st.forget, &forget_params)),
        tx.execute(&st.records, &rec_params),
        tx.execute(&st.ops, &op_params),
        tx.execute(&st.counter, &ctr_params),
        only_if(activity.is_some(), async {
            match &activity {
                Some((st, params)) => tx.execute(st, params).await,
                None => Ok(0),
            }
        }),
    )
    .map_err(StoreError::pg("write push results"))?;
    Ok(())
}
