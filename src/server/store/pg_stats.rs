//! Planner statistics for the PostgreSQL store's growing tables, from the first minute.
//!
//! A new deployment's `records` and `ops` start empty and grow by thousands of rows a second
//! during a backlog push. Autovacuum analyses a table once it has changed by 10% (plus 50
//! rows), but looks at each database only once per `autovacuum_naptime` (a minute by
//! default): until then the planner has no statistics, under-estimates how many of a team's
//! records follow a pull cursor, and reads and sorts every one of them for each page (a pull
//! of 20,000 records took 11 ms per page instead of under 1). This keeper applies
//! autovacuum's rule every few seconds instead: a table that changed by at least
//! [`MIN_CHANGES`] rows and 10% since its last analysis is analysed.
//!
//! It analyses only tables the server's role may analyse (it owns them, through membership
//! of the owner role or as superuser): a least-privilege role leaves the tables to
//! autovacuum, and nothing is logged as an error. It must not change any row, and it takes
//! a pooled connection only for the check and the `ANALYZE`, and only for a few checks after
//! a write ([`Written`]): an idle server sends the database nothing, and its pool can close
//! every idle connection.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use deadpool_postgres::Pool;

/// How often the keeper checks the tables.
pub(super) const EVERY: Duration = Duration::from_secs(2);

/// Checks made after the last write: table statistics reach `pg_stat_user_tables` up to a
/// second or so after a transaction, so the check right after a burst may not see all of it.
const CHECKS_AFTER_A_WRITE: usize = 3;

/// Changed rows since the last analysis below which a table is never analysed here.
const MIN_CHANGES: i64 = 500;

/// The statistics target of the keeper's `ANALYZE` (PostgreSQL's default is 100): it reads
/// 300 × this many rows. Enough for what the push, pull and export statements filter on
/// (a team, a version range, an id); autovacuum's own analysis, which follows within a minute
/// or so, uses the database's full target. At 100,000 records a full `ANALYZE records` took
/// ~0.6 s of the database's CPU, run every few seconds during a backlog push on a machine
/// where the server and its devices share the cores; at this target it takes ~25 ms.
const SAMPLE_TARGET: u32 = 10;

/// The tables that grow with every push (and that pushes and pulls look rows up in).
const TABLES: [&str; 2] = ["records", "ops"];

/// The grown tables this role may analyse.
const GROWN: &str = "SELECT s.relname::text FROM pg_stat_user_tables s
     JOIN pg_class c ON c.oid = s.relid
     WHERE s.schemaname = current_schema() AND s.relname::text = ANY($1)
       AND s.n_mod_since_analyze >= $2
       AND s.n_mod_since_analyze >= s.n_live_tup / 10
       AND pg_has_role(c.relowner, 'USAGE')";

/// Tells the keeper that a write happened (one relaxed atomic store per push).
#[derive(Clone, Default)]
pub(super) struct Written(Arc<AtomicUsize>);

impl Written {
    pub(super) fn mark(&self) {
        self.0.store(CHECKS_AFTER_A_WRITE, Ordering::Relaxed);
    }

    /// Whether a check is due: a write happened within the last few checks.
    fn due(&self) -> bool {
        self.0
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
            .is_ok()
    }
}

/// Checks every [`EVERY`] while writes happen and analyses the tables that grew, until the
/// pool is closed. The store marks its writes on the returned [`Written`].
pub(super) fn spawn_statistics_keeper(pool: Pool) -> Written {
    let written = Written::default();
    let marks = written.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if pool.is_closed() {
                return;
            }
            if !marks.due() {
                continue;
            }
            if let Err(e) = analyze_grown(&pool).await {
                tracing::debug!("statistics keeper: {e}");
            }
        }
    });
    written
}

/// One check: analyses the tables that grew; their names.
async fn analyze_grown(pool: &Pool) -> Result<Vec<&'static str>, String> {
    let mut client = pool.get().await.map_err(|e| e.to_string())?;
    let tables: Vec<String> = TABLES.iter().map(|t| t.to_string()).collect();
    let rows = client
        .query(GROWN, &[&tables, &MIN_CHANGES])
        .await
        .map_err(|e| format!("look for grown tables: {e}"))?;
    let mut analysed = Vec::new();
    for row in rows {
        let name: String = row.try_get(0).map_err(|e| e.to_string())?;
        // Only our own table names reach the statement, never text from the database.
        if let Some(table) = TABLES.into_iter().find(|t| *t == name) {
            // `SET LOCAL`: the pooled connection's own setting is back after the commit.
            let tx = client.transaction().await.map_err(|e| e.to_string())?;
            tx.batch_execute(&format!(
                "SET LOCAL default_statistics_target = {SAMPLE_TARGET}; ANALYZE {table}"
            ))
            .await
            .map_err(|e| format!("analyse {table}: {e}"))?;
            tx.commit().await.map_err(|e| e.to_string())?;
            tracing::debug!("statistics keeper: analysed {table}");
            analysed.push(table);
        }
    }
    Ok(analysed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_are_due_only_for_a_few_ticks_after_a_write() {
        let w = Written::default();
        assert!(!w.due(), "no write, no check");
        w.mark();
        let due: Vec<bool> = (0..CHECKS_AFTER_A_WRITE + 2).map(|_| w.due()).collect();
        let mut expected = vec![true; CHECKS_AFTER_A_WRITE];
        expected.extend([false, false]);
        assert_eq!(due, expected);
        w.mark();
        assert!(w.due(), "a new write makes checks due again");
    }
}
