//! The server process's metrics, in the Prometheus text format (`GET /metrics`).
//!
//! A handful of series, kept by hand rather than through a metrics crate: requests by route
//! and status, request latency by route (histogram), pushed changes by outcome, requests
//! abandoned by their client, store failures, the push lock wait (histogram) and two of its
//! parts on PostgreSQL (the wait for a pooled connection and for the team's row lock), and,
//! at scrape time, the PostgreSQL pool (size, in use, waiting).
//!
//! One registry per process ([`global`]), like the Prometheus client libraries' default
//! registry: every layer records into it without threading a handle through, and `/metrics`
//! renders it. Labels are bounded: a route is one of the API's paths or `other`, so a
//! scanner cannot grow the series without limit. Nothing here holds record content.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use crate::protocol::{PATH_HEALTH, PATH_PULL, PATH_PUSH};

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The routes requests are counted under; anything else is `other`.
const ROUTES: [&str; 5] = [PATH_PUSH, PATH_PULL, PATH_HEALTH, "/v1/ready", "/metrics"];

/// A cumulative histogram over [`BUCKETS`].
#[derive(Debug, Clone, Default)]
struct Histogram {
    /// Observations at or below each bucket's bound (not yet cumulative).
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

impl Histogram {
    fn observe(&mut self, seconds: f64) {
        if let Some(i) = BUCKETS.iter().position(|b| seconds <= *b) {
            self.counts[i] += 1;
        }
        self.count += 1;
        self.sum += seconds;
    }

    /// The `_bucket`, `_sum` and `_count` lines of `name` with `labels` (`k="v",` or empty).
    fn render(&self, out: &mut String, name: &str, labels: &str) {
        let mut cumulative = 0;
        for (bound, n) in BUCKETS.iter().zip(self.counts) {
            cumulative += n;
            let _ = writeln!(out, "{name}_bucket{{{labels}le=\"{bound}\"}} {cumulative}");
        }
        let _ = writeln!(out, "{name}_bucket{{{labels}le=\"+Inf\"}} {}", self.count);
        let bare = labels.trim_end_matches(',');
        let _ = writeln!(out, "{name}_sum{{{bare}}} {}", self.sum);
        let _ = writeln!(out, "{name}_count{{{bare}}} {}", self.count);
    }
}

/// How a push's changes ended (accepted, merged, conflict, rejected).
pub const OUTCOMES: [&str; 4] = ["accepted", "merged", "conflict", "rejected"];

/// The PostgreSQL pool at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStatus {
    /// The most connections the pool opens (`--pool-size`).
    pub max: usize,
    /// Connections open now.
    pub open: usize,
    /// Open connections lent to requests.
    pub in_use: usize,
    /// Requests waiting for a connection.
    pub waiting: usize,
}

/// The registry. See the module docs.
#[derive(Debug, Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(&'static str, u16), u64>>,
    latency: Mutex<BTreeMap<&'static str, Histogram>>,
    lock_wait: Mutex<Histogram>,
    pool_wait: Mutex<Histogram>,
    team_lock: Mutex<Histogram>,
    changes: [AtomicU64; 4],
    abandoned: AtomicU64,
    store_errors: AtomicU64,
}

/// This process's registry.
pub fn global() -> &'static Metrics {
    static METRICS: OnceLock<Metrics> = OnceLock::new();
    METRICS.get_or_init(Metrics::default)
}

/// The bounded label for a request path.
pub fn route(path: &str) -> &'static str {
    ROUTES
        .iter()
        .find(|r| **r == path)
        .copied()
        .unwrap_or("other")
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // Only counters are written under these locks: a poisoned one is still consistent.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Metrics {
    /// A request answered with `status` after `took`.
    pub fn request(&self, path: &str, status: u16, took: Duration) {
        let r = route(path);
        *lock(&self.requests).entry((r, status)).or_default() += 1;
        lock(&self.latency)
            .entry(r)
            .or_default()
            .observe(took.as_secs_f64());
    }

    /// A request whose client went away before its answer.
    pub fn abandoned(&self) {
        self.abandoned.fetch_add(1, Ordering::Relaxed);
    }

    /// A store failure answered as 5xx.
    pub fn store_error(&self) {
        self.store_errors.fetch_add(1, Ordering::Relaxed);
    }

    /// A push's changes by outcome, in [`OUTCOMES`] order.
    pub fn changes(&self, by_outcome: [usize; 4]) {
        for (c, n) in self.changes.iter().zip(by_outcome) {
            c.fetch_add(n as u64, Ordering::Relaxed);
        }
    }

    /// How long a push waited for the write lock (with its snapshot loaded).
    pub fn lock_wait(&self, took: Duration) {
        lock(&self.lock_wait).observe(took.as_secs_f64());
    }

    /// Part of a push's lock wait: how long its write waited for a pooled connection.
    pub fn pool_wait(&self, took: Duration) {
        lock(&self.pool_wait).observe(took.as_secs_f64());
    }

    /// Part of a push's lock wait: how long its write took to hold its team's row lock
    /// (one round trip when no other write of the team holds it).
    pub fn team_lock(&self, took: Duration) {
        lock(&self.team_lock).observe(took.as_secs_f64());
    }

    /// The exposition text, with the pool's status when the store has a pool.
    pub fn render(&self, pool: Option<PoolStatus>) -> String {
        let mut out = String::new();
        out.push_str("# HELP fieldsync_requests_total Requests answered, by route and status.\n");
        out.push_str("# TYPE fieldsync_requests_total counter\n");
        for ((route, status), n) in lock(&self.requests).iter() {
            let _ = writeln!(
                out,
                "fieldsync_requests_total{{route=\"{route}\",status=\"{status}\"}} {n}"
            );
        }
        out.push_str(
            "# HELP fieldsync_request_duration_seconds Time to answer a request, by route.\n",
        );
        out.push_str("# TYPE fieldsync_request_duration_seconds histogram\n");
        for (route, h) in lock(&self.latency).iter() {
            h.render(
                &mut out,
                "fieldsync_request_duration_seconds",
                &format!("route=\"{route}\","),
            );
        }
        out.push_str("# HELP fieldsync_changes_total Pushed changes, by outcome.\n");
        out.push_str("# TYPE fieldsync_changes_total counter\n");
        for (name, c) in OUTCOMES.iter().zip(&self.changes) {
            let n = c.load(Ordering::Relaxed);
            let _ = writeln!(out, "fieldsync_changes_total{{outcome=\"{name}\"}} {n}");
        }
        let counters = [
            (
                "fieldsync_requests_abandoned_total",
                "Requests whose client went away before the answer.",
                &self.abandoned,
            ),
            (
                "fieldsync_store_errors_total",
                "Store failures answered as 5xx.",
                &self.store_errors,
            ),
        ];
        for (name, help, c) in counters {
            let n = c.load(Ordering::Relaxed);
            let _ = write!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {n}\n"
            );
        }
        out.push_str("# HELP fieldsync_push_lock_wait_seconds Time a push waited for the write lock and its snapshot.\n");
        out.push_str("# TYPE fieldsync_push_lock_wait_seconds histogram\n");
        lock(&self.lock_wait).render(&mut out, "fieldsync_push_lock_wait_seconds", "");
        for (name, help, h) in [
            (
                "fieldsync_push_pool_wait_seconds",
                "Part of the push lock wait: waiting for a pooled connection (PostgreSQL).",
                &self.pool_wait,
            ),
            (
                "fieldsync_push_team_lock_seconds",
                "Part of the push lock wait: taking the team's row lock (PostgreSQL).",
                &self.team_lock,
            ),
        ] {
            let _ = write!(out, "# HELP {name} {help}\n# TYPE {name} histogram\n");
            lock(h).render(&mut out, name, "");
        }
        if let Some(p) = pool {
            for (name, help, v) in [
                (
                    "fieldsync_pool_max_connections",
                    "The pool's size limit (--pool-size).",
                    p.max,
                ),
                (
                    "fieldsync_pool_open_connections",
                    "Open pooled connections.",
                    p.open,
                ),
                (
                    "fieldsync_pool_in_use_connections",
                    "Pooled connections lent to requests.",
                    p.in_use,
                ),
                (
                    "fieldsync_pool_waiting_requests",
                    "Requests waiting for a pooled connection.",
                    p.waiting,
                ),
            ] {
                let _ = write!(
                    out,
                    "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {v}\n"
                );
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histograms_are_cumulative_and_routes_bounded() {
        let m = Metrics::default();
        m.request("/v1/push", 200, Duration::from_millis(3));
        m.request("/v1/push", 200, Duration::from_millis(300));
        m.request("/wp-admin.php", 404, Duration::from_millis(1));
        m.changes([2, 1, 0, 3]);
        let text = m.render(None);
        assert!(text.contains("fieldsync_requests_total{route=\"/v1/push\",status=\"200\"} 2"));
        assert!(text.contains("fieldsync_requests_total{route=\"other\",status=\"404\"} 1"));
        assert!(text.contains(
            "fieldsync_request_duration_seconds_bucket{route=\"/v1/push\",le=\"0.005\"} 1"
        ));
        assert!(text.contains(
            "fieldsync_request_duration_seconds_bucket{route=\"/v1/push\",le=\"0.5\"} 2"
        ));
        assert!(text.contains("fieldsync_request_duration_seconds_count{route=\"/v1/push\"} 2"));
        assert!(text.contains("fieldsync_changes_total{outcome=\"rejected\"} 3"));
        assert!(!text.contains("wp-admin"));
        assert!(!text.contains("fieldsync_pool_"));
        m.pool_wait(Duration::from_millis(20));
        m.team_lock(Duration::from_millis(2));
        let text = m.render(None);
        assert!(text.contains("fieldsync_push_pool_wait_seconds_sum{} 0.02"));
        assert!(text.contains("fieldsync_push_pool_wait_seconds_count{} 1"));
        assert!(text.contains("fieldsync_push_team_lock_seconds_bucket{le=\"0.005\"} 1"));
        assert!(text.contains("fieldsync_push_lock_wait_seconds_count{} 0"));
        assert!(m
            .render(Some(PoolStatus {
                max: 16,
                open: 3,
                in_use: 2,
                waiting: 0
            }))
            .contains("fieldsync_pool_in_use_connections 2"));
    }
}
