//! `fieldsync sync [--watch]`: output, progress bars and the watch loop around
//! [`crate::client::sync`]. When to sync next is [`crate::client::watch::Schedule`]'s call;
//! this file only waits, watches the queue and catches signals. It must not decide anything
//! about sync itself.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Args;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

use super::waiting::Spinner;
use super::{print_json, Failure, Globals};
use crate::client::config::Config;
use crate::client::power;
use crate::client::store::{meta, Store};
use crate::client::sync::{
    sync, NoProgress, Progress, SyncLock, SyncOptions, SyncReport, DEFAULT_BATCH,
};
use crate::client::tls::load_ca_copy;
use crate::client::transport::{RetryPolicy, Transport};
use crate::client::watch::{Schedule, CHECK_EVERY, SOON_AFTER_CHANGES};
use crate::client::Error;
use crate::exit;
use crate::protocol::{DEFAULT_PULL_LIMIT, MAX_PULL_LIMIT, MAX_PUSH_CHANGES};

#[derive(Debug, Args)]
pub struct SyncArgs {
    /// Changes per push request (1 to 500).
    #[arg(long, default_value_t = DEFAULT_BATCH, value_parser = parse_batch_size)]
    pub batch_size: usize,
    /// Records per pull page (1 to 1000).
    #[arg(long, default_value_t = DEFAULT_PULL_LIMIT,
          value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_PULL_LIMIT)))]
    pub page_size: u32,
    /// Keep running: sync every --interval (with jitter), soon after local changes, and back
    /// off while offline. Ctrl-C or SIGTERM stops after the current batch; a second one quits
    /// at once (exit 130, nothing is lost).
    #[arg(long)]
    pub watch: bool,
    /// Time between syncs in --watch mode, e.g. 30s, 15m, 1h [default: 15m]; needs --watch.
    #[arg(long, requires = "watch", value_parser = parse_duration)]
    pub interval: Option<Duration>,
    /// Print nothing on success.
    #[arg(long, short)]
    pub quiet: bool,
    /// Allow plain http:// to a server that is not on this machine.
    #[arg(long)]
    pub allow_insecure_http: bool,
    /// Sync with a server database other than the one this device synced with (a rebuilt
    /// or new server): send it every local record it lacks, then pull the rest from scratch.
    #[arg(long)]
    pub adopt_server: bool,
    /// Attempts per request before giving up on a transient failure.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=20))]
    pub retries: u32,
}

/// `--watch` without `--interval`.
const DEFAULT_INTERVAL: Duration = Duration::from_secs(15 * 60);

/// Parses `90`, `90s`, `15m`, `2h`.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = num
        .parse()
        .map_err(|_| format!("{s:?} is not a duration such as 30s, 15m or 1h"))?;
    let secs = match unit {
        "" | "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        _ => return Err(format!("{s:?}: unknown unit {unit:?} (use s, m or h)")),
    };
    if secs == 0 {
        return Err("a duration must be at least 1s".into());
    }
    Ok(Duration::from_secs(secs))
}

/// Progress bars on stderr, for a person at a terminal.
struct Bars {
    /// Shared with the spinner of requests in flight ([`super::waiting`]).
    multi: MultiProgress,
    push: Option<ProgressBar>,
    pull: Option<ProgressBar>,
}

/// A `{rate}` key: whole items per second (indicatif's `{per_sec}` prints every decimal,
/// e.g. "11,709.6774/s").
fn with_rate(style: ProgressStyle) -> ProgressStyle {
    style.with_key(
        "rate",
        |state: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
            let _ = write!(w, "{}/s", indicatif::HumanCount(state.per_sec() as u64));
        },
    )
}

impl Progress for Bars {
    fn push_started(&mut self, total: u64) {
        if total == 0 {
            return;
        }
        let bar = self.multi.add(ProgressBar::new(total));
        bar.set_style(
            ProgressStyle::with_template("push {bar:30} {pos}/{len} changes  {rate}  {eta}")
                .map(with_rate)
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        self.push = Some(bar);
    }
    fn pushed(&mut self, n: u64) {
        if let Some(b) = &self.push {
            b.inc(n);
        }
    }
    fn pull_started(&mut self) {
        if let Some(b) = self.push.take() {
            b.finish();
        }
        let bar = self.multi.add(ProgressBar::new_spinner());
        bar.set_style(
            ProgressStyle::with_template("pull {spinner} {pos} records  {rate}")
                .map(with_rate)
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        self.pull = Some(bar);
    }
    fn pulled(&mut self, n: u64) {
        if let Some(b) = &self.pull {
            b.inc(n);
        }
    }
    fn finished(&mut self) {
        for b in [self.push.take(), self.pull.take()].into_iter().flatten() {
            b.finish_and_clear();
        }
    }
}

struct Session {
    config: Config,
    token: String,
    /// The organisation's certificate authority (PEM), when the config names one.
    ca_pem: Option<Vec<u8>>,
    opts: SyncOptions,
    policy: RetryPolicy,
}

fn session(g: &Globals, args: &SyncArgs) -> Result<Session, Error> {
    let config = g.load_config()?;
    let token = config.token.clone().ok_or_else(|| {
        Error::Config(
            "the config has no token: run `fieldsync init --server URL --officer ID --token-stdin`"
                .into(),
        )
    })?;
    let opts = SyncOptions {
        batch_size: args.batch_size,
        pull_limit: args.page_size,
        adopt_server: args.adopt_server,
        ..SyncOptions::default()
    };
    if opts.validate().is_err() {
        return Err(Error::BadInput(format!(
            "--batch-size must be 1 to {MAX_PUSH_CHANGES} and --page-size 1 to {MAX_PULL_LIMIT}"
        )));
    }
    let ca_pem = match config.ca_cert_path(&g.config_path()?) {
        Some(path) => Some(load_ca_copy(&path)?),
        None => None,
    };
    Ok(Session {
        config,
        token,
        ca_pem,
        opts,
        policy: RetryPolicy::new(args.retries, g.timeout),
    })
}

/// One sync under the database's sync lock.
fn sync_once(
    g: &Globals,
    s: &Session,
    args: &SyncArgs,
    bars: bool,
    stop: &dyn Fn() -> bool,
) -> Result<SyncReport, Error> {
    let db = g.db_path()?;
    let mut store = Store::open(&db)?;
    store.claim_officer(&s.config.officer)?;
    store.set_meta(meta::SERVER_URL, &s.config.server)?;
    let _lock = SyncLock::acquire(&db, s.opts.lock_wait)?;
    let mut transport = Transport::with_ca(
        &s.config.server,
        &s.token,
        args.allow_insecure_http,
        s.policy.clone(),
        s.ca_pem.as_deref(),
    )?;
    let multi = MultiProgress::new();
    if std::io::stderr().is_terminal() && !args.quiet && !g.json {
        transport = transport.with_waiting(Box::new(Spinner::new(multi.clone())));
    }
    if bars {
        let mut p = Bars {
            multi,
            push: None,
            pull: None,
        };
        sync(&mut store, &mut transport, &s.opts, &mut p, stop)
    } else {
        sync(&mut store, &mut transport, &s.opts, &mut NoProgress, stop)
    }
}

fn exit_code(r: &SyncReport) -> i32 {
    if r.conflicts_waiting > 0 {
        exit::CONFLICTS
    } else if r.rejected_waiting > 0 {
        exit::REJECTED
    } else {
        exit::OK
    }
}

fn summary(r: &SyncReport) -> String {
    let mut s = format!(
        "pushed {} ({} accepted, {} merged, {} conflicts, {} rejected), pulled {}, {} requests, {} ms",
        r.pushed, r.accepted, r.merged, r.conflicts, r.rejected, r.pulled, r.requests, r.duration_ms
    );
    if r.pulled > 0 && !r.pulled_by.is_empty() {
        s.push_str(&format!("\npulled {}: {}", r.pulled, pulled_by(r)));
    }
    if let Some(a) = &r.adopted {
        s.push_str(&format!(
            "\nadopted server database {} (was {}): {} records sent again",
            a.to,
            a.from.as_deref().unwrap_or("none recorded"),
            a.resent
        ));
    }
    if let Some(x) = &r.restored {
        s.push_str(&format!(
            "\nthe server was restored from a backup (its history ends at version {}): {} records sent again",
            x.server_version, x.resent
        ));
    }
    match &r.moved {
        Some(m) => s.push_str(&format!(
            "\nmoved from team {} to {}: {} records removed, {} pulled",
            m.from, m.to, m.removed, m.pulled
        )),
        None if r.removed > 0 => s.push_str(&format!(
            "\n{} records removed: the server no longer holds them (pulled from scratch)",
            r.removed
        )),
        None => {}
    }
    if r.conflicts_waiting > 0 {
        s.push_str(&format!(
            "\n{} {}: settle with `fieldsync resolve`",
            r.conflicts_waiting,
            super::queue::plural(r.conflicts_waiting, "conflict waits", "conflicts wait")
        ));
    }
    if r.rejected_waiting > 0 {
        s.push_str(&format!(
            "\n{} {} rejected: see `fieldsync queue --rejected`",
            r.rejected_waiting,
            super::queue::plural(r.rejected_waiting, "change was", "changes were")
        ));
    }
    s
}

/// `2 visits by brian, 1 household by amina`: what the pull brought, by whom.
fn pulled_by(r: &SyncReport) -> String {
    r.pulled_by
        .iter()
        .map(|p| {
            let what = if p.count == 1 {
                p.entity_type.to_string()
            } else {
                format!("{}s", p.entity_type)
            };
            match &p.officer {
                Some(o) => format!("{} {what} by {o}", p.count),
                None => format!("{} {what} (no server stamp)", p.count),
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The result of a sync, on stdout: JSON, or the summary (unless `--quiet` and all went well).
fn report(g: &Globals, args: &SyncArgs, r: &SyncReport) -> Result<(), Failure> {
    if g.json {
        print_json(r)?;
    } else if !args.quiet || exit_code(r) != exit::OK {
        crate::outln!("{}", summary(r))?;
    }
    Ok(())
}

/// A stable name for an exit code, for `{"error": {"code": …}}`.
fn error_code_name(code: i32) -> &'static str {
    match code {
        exit::USAGE => "usage",
        exit::DATA => "bad_data",
        exit::NO_INPUT => "not_found",
        exit::IO => "store_unavailable",
        exit::TEMPFAIL => "offline",
        exit::PROTOCOL => "protocol",
        exit::NO_PERM => "unauthorized",
        exit::CONFIG => "config",
        exit::CANCELLED => "cancelled",
        _ => "internal",
    }
}

/// The one JSON object `sync --json` prints when it fails (the message also goes to stderr).
fn error_json(f: &Failure) -> serde_json::Value {
    serde_json::json!({
        "error": { "code": error_code_name(f.code), "message": f.message, "exit": f.code },
        "exit_code": f.code,
    })
}

/// `fieldsync sync`: with `--json`, exactly one JSON object on stdout per sync, a failure
/// included; the exit code is the same either way.
pub fn run(g: &Globals, args: SyncArgs) -> Result<i32, Failure> {
    let s = session(g, &args).map_err(|e| failure(g, e))?;
    if args.watch {
        return watch(g, &args, &s);
    }
    let bars = std::io::stderr().is_terminal() && !args.quiet && !g.json;
    let r = sync_once(g, &s, &args, bars, &|| false).map_err(|e| failure(g, e))?;
    report(g, &args, &r)?;
    Ok(exit_code(&r))
}

/// A failed sync: with `--json`, also reported on stdout as `{"error": {...}}`.
fn failure(g: &Globals, e: Error) -> Failure {
    if g.json {
        // The one-line message still goes to stderr; a broken stdout must not hide it.
        let _ = print_json(&super::errors::json_report(&e));
    }
    e.into()
}

/// `--watch`: sleeps between syncs (waking only to check the queue every few seconds and for
/// signals), syncs soon after new local changes, backs off while offline, and stops cleanly
/// on Ctrl-C or SIGTERM once the current batch is safe (a second one quits at once).
fn watch(g: &Globals, args: &SyncArgs, s: &Session) -> Result<i32, Failure> {
    let stop = Arc::new(AtomicBool::new(false));
    let wake = catch_signals(stop.clone(), !args.quiet)?;
    let stopped = || stop.load(Ordering::SeqCst);
    let mut schedule = Schedule::new(args.interval.unwrap_or(DEFAULT_INTERVAL));
    let mut last_code = exit::OK;
    while !stopped() {
        match sync_once(g, s, args, false, &stopped) {
            Ok(r) => {
                schedule.synced();
                last_code = exit_code(&r);
                report(g, args, &r)?;
            }
            Err(e @ (Error::Offline(_) | Error::Busy(_))) => {
                schedule.unreachable();
                let f = Failure::from(e);
                if g.json {
                    print_json(&error_json(&f))?;
                } else if !args.quiet {
                    crate::errln!("{}", f.message);
                }
            }
            Err(e) => return Err(failure(g, e)),
        }
        let power = power::read(std::path::Path::new(power::SYSFS_POWER_SUPPLY));
        let wait = power::stretch(schedule.next_wait(&mut rand::thread_rng()), power);
        if power.is_low_battery() && !args.quiet && !g.json {
            crate::errln!(
                "low battery: next sync in {} min (every interval ×{})",
                wait.as_secs() / 60,
                power::LOW_BATTERY_FACTOR
            );
        }
        idle(g, &schedule, wait, &wake, &stopped, power.is_low_battery());
    }
    Ok(last_code)
}

/// `--batch-size`: 1 to [`MAX_PUSH_CHANGES`] (what the server takes in one request); out of
/// range is a usage error (exit 2) naming the range.
fn parse_batch_size(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n) if (1..=MAX_PUSH_CHANGES).contains(&n) => Ok(n),
        Ok(_) => Err(format!("{s} is not in 1..={MAX_PUSH_CHANGES}")),
        Err(e) => Err(e.to_string()),
    }
}

/// Sets `stop` on SIGINT or SIGTERM and wakes the returned channel (and, when `say`, tells
/// the officer on stderr). A second signal ends the process at once (exit 130): the current
/// batch may be waiting on a slow network for its request's timeout and retries, and
/// quitting mid-batch loses nothing (what was in flight stays `sending` and the next sync
/// sends it again with the same op_ids; a page not yet committed is asked again).
fn catch_signals(stop: Arc<AtomicBool>, say: bool) -> Result<mpsc::Receiver<()>, Failure> {
    let (wake_tx, wake_rx) = mpsc::channel::<()>();
    let mut signals = signal_hook::iterator::Signals::new([
        signal_hook::consts::SIGINT,
        signal_hook::consts::SIGTERM,
    ])
    .map_err(|e| Failure::new(exit::SOFTWARE, format!("cannot catch signals: {e}")))?;
    std::thread::spawn(move || {
        let mut caught = signals.forever();
        if caught.next().is_some() {
            stop.store(true, Ordering::SeqCst);
            let _ = wake_tx.send(());
            if say {
                crate::errln!(
                    "stopping once the current batch is safe; press Ctrl-C again to quit now (nothing is lost)"
                );
            }
        }
        if caught.next().is_some() {
            crate::errln!("quit at once; the next sync sends again whatever was in flight");
            std::process::exit(exit::CANCELLED);
        }
    });
    Ok(wake_rx)
}

/// Waits `wait`, or less: until a signal, or soon after the queue grows (when the schedule
/// wants that, and not on a low battery). One connection for the idle checks, rather than opening the database every
/// few seconds.
fn idle(
    g: &Globals,
    schedule: &Schedule,
    wait: Duration,
    wake: &mpsc::Receiver<()>,
    stopped: &dyn Fn() -> bool,
    low_battery: bool,
) {
    let watcher = g.open_store().ok();
    let waiting_before = queue_waiting(watcher.as_ref());
    let deadline = Instant::now() + wait;
    let mut soon: Option<Instant> = None;
    loop {
        let now = Instant::now();
        let until = soon.map_or(deadline, |t| t.min(deadline));
        if now >= until || stopped() {
            return;
        }
        let _ = wake.recv_timeout((until - now).min(CHECK_EVERY));
        if soon.is_none()
            && schedule.wakes_for_changes()
            && !low_battery
            && queue_waiting(watcher.as_ref()) > waiting_before
        {
            soon = Some(Instant::now() + SOON_AFTER_CHANGES);
        }
    }
}

/// Changes waiting to be sent (0 when the database cannot be read right now).
fn queue_waiting(store: Option<&Store>) -> i64 {
    store
        .and_then(|s| s.queue_counts().ok())
        .map_or(0, |c| c.waiting())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse() {
        assert_eq!(parse_duration("15m"), Ok(Duration::from_secs(900)));
        assert_eq!(parse_duration("30"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("2h"), Ok(Duration::from_secs(7200)));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("5 parsecs").is_err());
        assert!(parse_duration("m").is_err());
    }
}
