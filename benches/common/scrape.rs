//! Reads a server process's `/metrics` (Prometheus text) for the benchmark: the push lock
//! wait histogram's sum and count (`fieldsync_push_lock_wait_seconds`), i.e. the time pushes
//! spent between entering the store's write and holding the write lock with their snapshot.

use super::{fail, Result};

/// `(seconds waited in total, pushes)` since the process started.
pub fn push_lock_wait(http: &reqwest::blocking::Client, base: &str) -> Result<(f64, f64)> {
    let resp = http.get(format!("{base}/metrics")).send()?;
    if !resp.status().is_success() {
        return fail(format!("GET {base}/metrics: HTTP {}", resp.status()));
    }
    let text = resp.text()?;
    let value = |name: &str| -> Result<f64> {
        let line = text
            .lines()
            .find(|l| l.starts_with(name) && l[name.len()..].starts_with(['{', ' ']))
            .ok_or_else(|| format!("/metrics has no {name}"))?;
        let v = line.rsplit(' ').next().unwrap_or_default();
        Ok(v.parse().map_err(|e| format!("{name} {v:?}: {e}"))?)
    };
    Ok((
        value("fieldsync_push_lock_wait_seconds_sum")?,
        value("fieldsync_push_lock_wait_seconds_count")?,
    ))
}
