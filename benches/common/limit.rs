//! The durable-store limit of a push (issue 14): the very rows a push stored (read back from
//! the server database it went into) and one stored result per row, written again into a fresh database of
//! the same kind and schema, durably, in transactions of the push's batch size. No HTTP, no
//! client, no planning: what a push of that size cannot go below on this machine.
//!
//! SQLite: one `BEGIN IMMEDIATE … COMMIT` per batch, WAL and `synchronous=FULL` as the server
//! opens it. PostgreSQL: one transaction per batch with the store's two `UNNEST` inserts
//! pipelined, under the cluster's durable settings.

use std::time::{Duration, Instant};

use rusqlite::types::Value as SqlValue;

use super::{runtime, Env, Kind, Result};

/// One stored push result per record, as the push stores it (op_id, content hash, result).
/// Made up rather than read back: the device acknowledges the results it holds, so the
/// server has already forgotten most of them when the push ends (op-id retention).
fn op_row(version: i64, server_id: i64) -> [String; 3] {
    let op_id = uuid::Uuid::new_v4();
    let hash = format!(
        "{:032x}{:032x}",
        op_id.as_u128(),
        op_id.as_u128().rotate_left(7)
    );
    let result = format!(
        r#"{{"op_id":"{op_id}","status":"accepted","version":{version},"server_id":{server_id}}}"#
    );
    [op_id.to_string(), hash, result]
}

/// The records' columns, as both stores name them.
const RECORD_COLS: &str =
    "id, server_id, entity_type, team, version, deleted, deleted_by, fields, stamps, audit";

/// Rewrites the records and op-ids stored in `source` into a fresh database of `kind`, in
/// transactions of `batch` rows of each: the time of the writes alone.
pub fn durable_limit(env: &Env, kind: Kind, source: &str, batch: usize) -> Result<Duration> {
    let target = env.database(kind)?;
    let rt = runtime()?;
    // The server's own schema, made by the server's own code.
    rt.block_on(async { fieldsync::server::store::open(&target).await.map(drop) })?;
    match kind {
        Kind::Sqlite => sqlite_limit(source, &target, batch.max(1)),
        Kind::Postgres => rt.block_on(pg_limit(source, &target, batch.max(1))),
    }
}

fn sqlite_rows(conn: &rusqlite::Connection, sql: &str) -> Result<Vec<Vec<SqlValue>>> {
    let mut st = conn.prepare(sql)?;
    let n = st.column_count();
    let rows = st.query_map([], |r| (0..n).map(|i| r.get(i)).collect())?;
    Ok(rows.collect::<std::result::Result<_, _>>()?)
}

fn sqlite_limit(source: &str, target: &str, batch: usize) -> Result<Duration> {
    let src = rusqlite::Connection::open(source)?;
    let records = sqlite_rows(
        &src,
        &format!("SELECT {RECORD_COLS} FROM records ORDER BY version"),
    )?;
    drop(src);
    let ops: Vec<Vec<SqlValue>> = records
        .iter()
        .map(|r| {
            let num = |i: usize| match r.get(i) {
                Some(SqlValue::Integer(n)) => *n,
                _ => 0,
            };
            op_row(num(4), num(1))
                .into_iter()
                .map(SqlValue::Text)
                .collect()
        })
        .collect();
    let mut dst = rusqlite::Connection::open(target)?;
    dst.pragma_update(None, "journal_mode", "WAL")?;
    dst.pragma_update(None, "synchronous", "FULL")?;
    let started = Instant::now();
    for (recs, ops) in records.chunks(batch).zip(ops.chunks(batch)) {
        let tx = dst.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        {
            let mut rec = tx.prepare_cached(&format!(
                "INSERT INTO records ({RECORD_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
            ))?;
            for r in recs {
                rec.execute(rusqlite::params_from_iter(r))?;
            }
            let mut op =
                tx.prepare_cached("INSERT INTO ops (op_id, hash, result) VALUES (?1, ?2, ?3)")?;
            for o in ops {
                op.execute(rusqlite::params_from_iter(o))?;
            }
        }
        tx.commit()?;
    }
    Ok(started.elapsed())
}

/// The records' columns as arrays, in the store's types.
#[derive(Default)]
struct Columns {
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
}

impl Columns {
    fn of(rows: &[tokio_postgres::Row]) -> Result<Columns> {
        let mut c = Columns::default();
        for r in rows {
            c.id.push(r.try_get(0)?);
            c.sid.push(r.try_get(1)?);
            c.et.push(r.try_get(2)?);
            c.team.push(r.try_get(3)?);
            c.ver.push(r.try_get(4)?);
            c.del.push(r.try_get(5)?);
            c.del_by.push(r.try_get(6)?);
            c.fields.push(r.try_get(7)?);
            c.stamps.push(r.try_get(8)?);
            c.audit.push(r.try_get(9)?);
        }
        Ok(c)
    }
}

async fn pg_connect(url: &str) -> Result<tokio_postgres::Client> {
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
    tokio::spawn(async move {
        if let Err(e) = conn.await {
            eprintln!("bench: limit connection: {e}");
        }
    });
    Ok(client)
}

async fn pg_limit(source: &str, target: &str, batch: usize) -> Result<Duration> {
    let src = pg_connect(source).await?;
    let records = src
        .query(
            &format!("SELECT {RECORD_COLS} FROM records ORDER BY version"),
            &[],
        )
        .await?;
    drop(src);
    let ops: Vec<[String; 3]> = records
        .iter()
        .map(|r| Ok(op_row(r.try_get(4)?, r.try_get(1)?)))
        .collect::<Result<_>>()?;
    let mut dst = pg_connect(target).await?;
    let rec_sql = format!(
        "INSERT INTO records ({RECORD_COLS}) SELECT * FROM UNNEST($1::text[], $2::int8[], \
         $3::text[], $4::text[], $5::int8[], $6::bool[], $7::text[], $8::text[], $9::text[], $10::text[])"
    );
    let op_sql = "INSERT INTO ops (op_id, hash, result) SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[])";
    let (rec_st, op_st) = (dst.prepare(&rec_sql).await?, dst.prepare(op_sql).await?);
    // The arrays are built before the clock starts: the limit is the database's writes.
    let mut work = Vec::new();
    for (recs, ops) in records.chunks(batch).zip(ops.chunks(batch)) {
        let c = Columns::of(recs)?;
        let mut o: [Vec<String>; 3] = Default::default();
        for row in ops {
            for (col, v) in o.iter_mut().zip(row) {
                col.push(v.clone());
            }
        }
        work.push((c, o));
    }
    let started = Instant::now();
    for (c, [op, hash, result]) in &work {
        let tx = dst.transaction().await?;
        type P<'a> = &'a (dyn tokio_postgres::types::ToSql + Sync);
        let rec_params: [P<'_>; 10] = [
            &c.id, &c.sid, &c.et, &c.team, &c.ver, &c.del, &c.del_by, &c.fields, &c.stamps,
            &c.audit,
        ];
        let op_params: [P<'_>; 3] = [op, hash, result];
        tokio::try_join!(
            tx.execute(&rec_st, &rec_params),
            tx.execute(&op_st, &op_params),
        )?;
        tx.commit().await?;
    }
    Ok(started.elapsed())
}
