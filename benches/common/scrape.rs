//! Reads a server process's `/metrics` (Prometheus text) for the benchmark: the push lock
//! wait histogram's sum and count (`fieldsync_push_lock_wait_seconds`), i.e. the time pushes
//! spent between entering the store's write and holding the write lock with their snapshot,
//! and two of its parts on PostgreSQL: the wait for a pooled connection
//! (`fieldsync_push_pool_wait_seconds`) and for the team's row lock
//! (`fieldsync_push_team_lock_seconds`).

use super::{fail, Result};

/// One histogram's `(seconds in total, observations)` since the process started.
pub type Sum = (f64, f64);

/// The push lock wait and its parts; a part is `None` when the server does not report it
/// (an older build).
pub struct PushWait {
    pub total: Sum,
    pub pool: Option<Sum>,
    pub team_lock: Option<Sum>,
}

/// The push wait series of the server at `base`.
pub fn push_wait(http: &reqwest::blocking::Client, base: &str) -> Result<PushWait> {
    let resp = http.get(format!("{base}/metrics")).send()?;
    if !resp.status().is_success() {
        return fail(format!("GET {base}/metrics: HTTP {}", resp.status()));
    }
    let text = resp.text()?;
    let value = |name: &str| -> Result<Option<f64>> {
        let Some(line) = text
            .lines()
            .find(|l| l.starts_with(name) && l[name.len()..].starts_with(['{', ' ']))
        else {
            return Ok(None);
        };
        let v = line.rsplit(' ').next().unwrap_or_default();
        Ok(Some(v.parse().map_err(|e| format!("{name} {v:?}: {e}"))?))
    };
    let sum = |name: &str| -> Result<Option<Sum>> {
        Ok(value(&format!("{name}_sum"))?.zip(value(&format!("{name}_count"))?))
    };
    let total = sum("fieldsync_push_lock_wait_seconds")?
        .ok_or("/metrics has no fieldsync_push_lock_wait_seconds")?;
    Ok(PushWait {
        total,
        pool: sum("fieldsync_push_pool_wait_seconds")?,
        team_lock: sum("fieldsync_push_team_lock_seconds")?,
    })
}
