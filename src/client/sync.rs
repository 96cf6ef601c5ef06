//! The sync engine: push the queue in batches, then pull pages behind the cursor.
//!
//! One HTTP request per batch, never one per entry; the next batch is taken while the one
//! before is on the wire (`pipeline.rs`), and the next pull page is fetched while one is
//! stored (`read_ahead.rs`). Every step that changes local state is
//! one local transaction (take a batch, apply its results, store a page with its cursor), so
//! a crash at any point leaves a state the next sync completes from: entries left `sending`
//! are sent again with their op_ids and the server applies each op_id once.
//!
//! The engine talks to the server only through [`Remote`], and must not know HTTP, print
//! anything or decide exit codes.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::Serialize;

use super::error::{Error, Result};
use super::pipeline;
use super::read_ahead::{self, Ask};
use super::remote::{Remote, RemoteError};
use super::store::{meta, PushTally, Reseed, Store};
use crate::model;
use crate::protocol::{
    EntityType, PullResponse, Record, DEFAULT_PULL_LIMIT, MAX_PULL_LIMIT, MAX_PUSH_CHANGES,
};

/// Default changes per push request.
pub const DEFAULT_BATCH: usize = 100;

#[derive(Debug, Clone)]
pub struct SyncOptions {
    pub batch_size: usize,
    pub pull_limit: u32,
    /// How long to wait for another sync on the same database before giving up.
    pub lock_wait: Duration,
    /// Sync with a server database other than the one this device synced with, sending it
    /// every record it lacks (`sync --adopt-server`, issue 11).
    pub adopt_server: bool,
}

impl Default for SyncOptions {
    fn default() -> Self {
        SyncOptions {
            batch_size: DEFAULT_BATCH,
            pull_limit: DEFAULT_PULL_LIMIT,
            lock_wait: Duration::from_secs(3),
            adopt_server: false,
        }
    }
}

impl SyncOptions {
    pub fn validate(&self) -> Result<()> {
        if self.batch_size == 0 || self.batch_size > MAX_PUSH_CHANGES {
            return Err(Error::BadInput(format!(
                "a push batch holds 1 to {MAX_PUSH_CHANGES} changes"
            )));
        }
        if self.pull_limit == 0 || self.pull_limit > MAX_PULL_LIMIT {
            return Err(Error::BadInput(format!(
                "a pull page holds 1 to {MAX_PULL_LIMIT} records"
            )));
        }
        Ok(())
    }
}

/// What a sync did (`sync --json` prints it).
#[derive(Debug, Clone, Default, Serialize)]
pub struct SyncReport {
    pub pushed: u64,
    pub accepted: u64,
    pub merged: u64,
    pub conflicts: u64,
    pub rejected: u64,
    pub pulled: u64,
    pub requests: u64,
    pub bytes_sent: u64,
    pub bytes_received: u64,
    pub duration_ms: u64,
    /// Of `duration_ms`, the time spent pushing and pulling (for benchmarks and logs).
    pub push_ms: u64,
    pub pull_ms: u64,
    /// Conflicts waiting for `fieldsync resolve` after this sync (old ones included).
    pub conflicts_waiting: i64,
    /// Rejected changes waiting for an edit after this sync (old ones included).
    pub rejected_waiting: i64,
    /// What the pull brought, by entity and by the officer who last changed each record
    /// (the server's stamp); most first.
    pub pulled_by: Vec<PulledBy>,
    /// Records removed by the sweep that ends a pull from scratch: the server no longer
    /// holds them for this officer's team (purged tombstones, a team left behind).
    pub removed: u64,
    /// Set when the server named another team than the device held: the officer moved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub moved: Option<TeamMove>,
    /// Set when the server had lost changes this device received (a restore from backup).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restored: Option<Restored>,
    /// Set when this sync adopted another server database (`--adopt-server`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub adopted: Option<Adopted>,
}

/// How many records of one entity, last changed by one officer, a pull brought.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PulledBy {
    pub entity_type: EntityType,
    /// `None`: records the server has no stamp for (written before it kept them).
    pub officer: Option<String>,
    pub count: u64,
}

impl SyncReport {
    /// Counts pulled `records` into [`SyncReport::pulled_by`].
    fn tally_pulled(&mut self, records: &[Record]) {
        for r in records {
            let officer = r.audit.updated_by.clone();
            match self
                .pulled_by
                .iter_mut()
                .find(|p| p.entity_type == r.entity_type && p.officer == officer)
            {
                Some(p) => p.count += 1,
                None => self.pulled_by.push(PulledBy {
                    entity_type: r.entity_type,
                    officer,
                    count: 1,
                }),
            }
        }
        self.pulled_by.sort_by(|a, b| {
            b.count
                .cmp(&a.count)
                .then_with(|| a.officer.cmp(&b.officer))
        });
    }
}

/// A server restore this sync found and refilled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Restored {
    /// Where the restored server's history ends.
    pub server_version: i64,
    /// Records this device sent again.
    pub resent: u64,
}

/// A server database this sync adopted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Adopted {
    /// The database the device synced with before (none: it never recorded one).
    pub from: Option<String>,
    pub to: String,
    /// Records queued for the new server.
    pub resent: u64,
}

/// A team move completed by this sync (`moved from team north to south: …`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TeamMove {
    pub from: String,
    pub to: String,
    /// The old team's records removed (those without local work).
    pub removed: u64,
    /// The new team's records the pull from scratch delivered.
    pub pulled: u64,
}

/// Progress callbacks; the CLI draws bars on a terminal and nothing elsewhere.
pub trait Progress {
    fn push_started(&mut self, _total: u64) {}
    fn pushed(&mut self, _n: u64) {}
    fn pull_started(&mut self) {}
    fn pulled(&mut self, _n: u64) {}
    fn finished(&mut self) {}
}

/// Progress that shows nothing.
pub struct NoProgress;
impl Progress for NoProgress {}

/// Held for the whole sync: a second sync on the same database waits briefly, then gives up
/// instead of sending anything twice. The OS releases it if the process dies.
pub struct SyncLock {
    _file: File,
}

impl SyncLock {
    pub fn acquire(db: &Path, wait: Duration) -> Result<SyncLock> {
        let path = PathBuf::from(format!("{}.sync-lock", db.display()));
        let mut opts = File::options();
        opts.create(true).truncate(false).write(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let file = opts
            .open(&path)
            .map_err(|e| Error::io(format!("cannot open the sync lock {}", path.display()), e))?;
        let deadline = Instant::now() + wait;
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(SyncLock { _file: file }),
                Err(std::fs::TryLockError::WouldBlock) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(std::fs::TryLockError::WouldBlock) => {
                    return Err(Error::Busy(format!(
                        "another `fieldsync sync` is running on {}; it will send the queue, so nothing is lost. Try again when it is done",
                        db.display()
                    )))
                }
                Err(std::fs::TryLockError::Error(e)) => {
                    return Err(Error::io(format!("cannot lock {}", path.display()), e))
                }
            }
        }
    }
}

/// Is the caller asked to stop (Ctrl-C in `--watch`)? Checked between batches and pages.
pub type StopFlag<'a> = &'a dyn Fn() -> bool;

/// Pushes the queue, then pulls. Call with the [`SyncLock`] held.
pub fn sync(
    store: &mut Store,
    remote: &mut (dyn Remote + Send),
    opts: &SyncOptions,
    progress: &mut dyn Progress,
    stop: StopFlag<'_>,
) -> Result<SyncReport> {
    opts.validate()?;
    let started = Instant::now();
    let mut report = SyncReport::default();
    // One cheap request first: if the server cannot be reached the queue stays untouched.
    let health = remote.health().map_err(|e| failed(store, e))?;
    check_server(
        store,
        health.server_id.as_deref(),
        opts.adopt_server,
        &mut report,
    )?;
    // Servers without an id know nothing of restores; they are not told what we saw.
    let mut exchange = Exchange {
        opts,
        tells_seen: health.server_id.is_some(),
        numbers_ops: health.op_sequences,
        first_sync: !store.holds_server_records()?,
    };
    loop {
        match exchange.push_then_pull(store, remote, progress, stop, &mut report) {
            Err(Error::ServerBehind(server_version)) if report.restored.is_none() => {
                // The server was restored and lost what this device received after
                // `server_version`: queue it again, then push and pull from scratch.
                exchange.first_sync = false;
                let resent = store.reseed(Reseed::AfterRestore(server_version), None)?;
                report.restored = Some(Restored {
                    server_version,
                    resent: resent as u64,
                });
            }
            other => break other?,
        }
    }
    progress.finished();
    // What waits for the officer (not `status()`: it counts every record, a scan of the
    // whole local database on every sync).
    report.conflicts_waiting = store.conflict_count()?;
    report.rejected_waiting = store.queue_counts()?.rejected;
    let traffic = remote.traffic();
    report.requests = traffic.requests;
    report.bytes_sent = traffic.bytes_sent;
    report.bytes_received = traffic.bytes_received;
    report.duration_ms = started.elapsed().as_millis() as u64;
    Ok(report)
}

/// Is the server the database this device synced with (issue 11)? A device that never
/// recorded one remembers this one; another one is refused unless `adopt`, which queues
/// every record the device knows for the new server (in the transaction that remembers it).
fn check_server(
    store: &mut Store,
    theirs: Option<&str>,
    adopt: bool,
    report: &mut SyncReport,
) -> Result<()> {
    let Some(theirs) = theirs else {
        return Ok(()); // an older server, without an id
    };
    let mine = store.meta(meta::SERVER_ID)?;
    if mine.as_deref() == Some(theirs) {
        return Ok(());
    }
    match (mine, adopt) {
        (Some(mine), false) => Err(Error::OtherServer {
            url: store.meta(meta::SERVER_URL)?.unwrap_or_default(),
            mine,
            theirs: theirs.to_string(),
        }),
        (None, false) => store.set_meta(meta::SERVER_ID, theirs),
        (from, true) => {
            let resent = store.reseed(Reseed::Adopt, Some(theirs))?;
            report.adopted = Some(Adopted {
                from,
                to: theirs.to_string(),
                resent: resent as u64,
            });
            Ok(())
        }
    }
}

/// One push-then-pull exchange with the server.
struct Exchange<'a> {
    opts: &'a SyncOptions,
    /// Name the highest version received in every request (the server knows restores).
    tells_seen: bool,
    /// Send each push's sequence numbers and watermark (the server keeps op-ids for a
    /// retention; older servers refuse the field, so it is sent only when health says so).
    numbers_ops: bool,
    /// The device held no record from the server when this sync began: a laptop's first
    /// sync, however much (or little) it recorded offline. Whatever it holds after its push
    /// is its own work, queued or just accepted into the officer's team, so its pull from
    /// scratch needs no sweep (nothing the server dropped can be on it), and leaves out what
    /// the push sent (no echo) from the second page on. The one place that decides it: it
    /// must be read before the push, which gives the device records from the server.
    first_sync: bool,
}

impl Exchange<'_> {
    fn push_then_pull(
        &self,
        store: &mut Store,
        remote: &mut (dyn Remote + Send),
        progress: &mut dyn Progress,
        stop: StopFlag<'_>,
        report: &mut SyncReport,
    ) -> Result<()> {
        let pushing = Instant::now();
        push(store, remote, self, progress, stop, report)?;
        report.push_ms += pushing.elapsed().as_millis() as u64;
        if !stop() {
            let pulling = Instant::now();
            pull(store, remote, self, progress, stop, report)?;
            report.pull_ms += pulling.elapsed().as_millis() as u64;
            store.set_meta(meta::LAST_SYNC_AT, &model::now_timestamp())?;
        }
        Ok(())
    }

    /// What to name in the `fieldsync-seen` header of the next request.
    fn seen(&self, store: &Store) -> Result<Option<i64>> {
        Ok(match self.tells_seen {
            true => Some(store.seen_version()?),
            false => None,
        })
    }
}

/// The error for a failed request; an unreachable server is reported with the number of
/// changes waiting.
fn failed(store: &Store, e: RemoteError) -> Error {
    match e {
        RemoteError::Offline(why) => {
            let waiting = store.queue_counts().map(|c| c.waiting()).unwrap_or(0);
            let changes = if waiting == 1 { "change" } else { "changes" };
            Error::Offline(format!("offline: {waiting} {changes} waiting ({why})"))
        }
        other => other.into(),
    }
}

fn push(
    store: &mut Store,
    remote: &mut (dyn Remote + Send),
    ex: &Exchange<'_>,
    progress: &mut dyn Progress,
    stop: StopFlag<'_>,
    report: &mut SyncReport,
) -> Result<()> {
    store.compact_queue()?;
    let total = store.queue_counts()?.waiting();
    progress.push_started(total as u64);
    let plan = pipeline::Plan {
        batch_size: ex.opts.batch_size,
        device_id: store.device_id()?,
        numbers_ops: ex.numbers_ops,
        seen: &|s: &Store| ex.seen(s),
        stop,
    };
    let mut tallies = Tallies { report, progress };
    match pipeline::push_all(store, remote, &plan, &mut tallies) {
        Ok(()) => Ok(()),
        Err(pipeline::Failure::Local(e)) => Err(e),
        // Refused before anything was applied (the batch went back untouched).
        Err(pipeline::Failure::Remote(e)) if pipeline::refused(&e) => Err(e.into()),
        Err(pipeline::Failure::Remote(e)) => Err(failed(store, e)),
    }
}

/// Counts each answered batch into the report and the progress bar.
struct Tallies<'a> {
    report: &'a mut SyncReport,
    progress: &'a mut dyn Progress,
}

impl pipeline::Answered for Tallies<'_> {
    fn recorded(&mut self, sent: u64, tally: PushTally) {
        self.report.pushed += sent;
        self.report.accepted += tally.accepted;
        self.report.merged += tally.merged;
        self.report.conflicts += tally.conflicts;
        self.report.rejected += tally.rejected;
        self.progress.pushed(sent);
    }
}

/// Pulls pages until the server has no more, each stored with its cursor in one local
/// transaction; the next page is fetched while one is stored (`read_ahead.rs`).
fn pull(
    store: &mut Store,
    remote: &mut (dyn Remote + Send),
    ex: &Exchange<'_>,
    progress: &mut dyn Progress,
    stop: StopFlag<'_>,
    report: &mut SyncReport,
) -> Result<()> {
    progress.pull_started();
    if stop() {
        return Ok(());
    }
    let device_id = store.device_id()?;
    store.with_background_checkpoints(|store| {
        read_ahead::with_read_ahead(remote, |ahead| {
            pull_pages(store, ahead, ex, device_id, progress, stop, report)
        })
    })
}

/// The pull's loop: ask, store, ask again, until the last page.
fn pull_pages(
    store: &mut Store,
    ahead: &mut read_ahead::ReadAhead,
    ex: &Exchange<'_>,
    device_id: uuid::Uuid,
    progress: &mut dyn Progress,
    stop: StopFlag<'_>,
    report: &mut SyncReport,
) -> Result<()> {
    ahead.ask(next_ask(store, ex, device_id)?)?;
    let mut restarted = false;
    loop {
        let (asked, answer) = ahead.answer()?;
        let page = match answer {
            Ok(p) => p,
            Err(RemoteError::ResyncRequired) if !restarted => {
                // The server forgot the history behind our cursor: start over. Records
                // with local work are protected by apply_pull; the sweep at the end of
                // the pull from scratch removes what the server no longer holds.
                store.reset_cursor()?;
                restarted = true;
                ahead.ask(next_ask(store, ex, device_id)?)?;
                continue;
            }
            Err(e) => return Err(failed(store, e)),
        };
        check_forms(store, &page)?;
        // Read ahead: the page after this one travels and is decoded while this one is
        // stored. A guess: checked below against what the store says once it is.
        let guess = match page.has_more {
            true => Some(asked.after(
                &page,
                (!sweeping_after(store, ex, &asked)?).then_some(device_id),
            )),
            false => None,
        };
        if let Some(guess) = &guess {
            ahead.ask(guess.clone())?;
        }
        store_page(store, &page, sweeps(ex, &asked), report)?;
        progress.pulled(page.records.len() as u64);
        let has_more = page.has_more;
        ahead.done_with(page);
        if !has_more || stop() {
            return Ok(());
        }
        let ask = next_ask(store, ex, device_id)?;
        if guess.as_ref() != Some(&ask) {
            ahead.discard()?;
            ahead.ask(ask)?;
        }
    }
}

/// May the answer to `asked` start a sweep (`sweep.rs`)? A page asked for from scratch may,
/// except on a first sync (see [`Exchange::first_sync`]).
fn sweeps(ex: &Exchange<'_>, asked: &Ask) -> bool {
    asked.cursor.is_none() && !ex.first_sync
}

/// Will a sweep be under way once the answer to `asked` is stored? (The ask after it then
/// names no device, see [`next_ask`].)
fn sweeping_after(store: &Store, ex: &Exchange<'_>, asked: &Ask) -> Result<bool> {
    store.sweeping_after_page(sweeps(ex, asked))
}

/// The next page to ask for, from what the store holds now.
fn next_ask(store: &Store, ex: &Exchange<'_>, device_id: uuid::Uuid) -> Result<Ask> {
    let cursor = store.meta(meta::PULL_CURSOR)?;
    // No echo (issue 14): a page continuing a cursor may leave out what this device's own
    // pushes made (it applied their stamps); a pull from scratch brings everything.
    let device = match cursor.is_some() && !store.sweeping()? {
        true => Some(device_id),
        false => None,
    };
    Ok(Ask {
        cursor,
        limit: ex.opts.pull_limit,
        known: store.known_forms()?,
        seen: ex.seen(store)?,
        device,
    })
}

/// Refuses a page whose form versions arrived damaged (before anything of it is stored).
fn check_forms(store: &Store, page: &PullResponse) -> Result<()> {
    let Some(forms) = &page.forms else {
        return Ok(());
    };
    match forms.versions.iter().find(|f| !f.hash_matches()) {
        Some(bad) => Err(failed(
            store,
            RemoteError::Protocol(format!(
                "form version {} arrived damaged (its content hash does not match)",
                bad.version
            )),
        )),
        None => Ok(()),
    }
}

/// Stores one page with its cursor (one local transaction) and counts it into the report.
fn store_page(
    store: &mut Store,
    page: &PullResponse,
    from_scratch: bool,
    report: &mut SyncReport,
) -> Result<()> {
    let applied = store.apply_pull(page, from_scratch)?;
    if let Some(swept) = applied.swept {
        report.removed += swept.removed;
        if let Some(from) = swept.moved_from {
            report.moved = Some(TeamMove {
                from,
                to: store.meta(meta::TEAM)?.unwrap_or_default(),
                removed: swept.removed,
                pulled: swept.delivered,
            });
        }
    }
    report.pulled += page.records.len() as u64;
    report.tally_pulled(&page.records);
    Ok(())
}

#[cfg(test)]
mod tests {
    //! The engine against a scripted [`Remote`]: what it does with each kind of failure.
    use std::collections::VecDeque;

    use serde_json::json;

    use super::*;
    use crate::client::remote::{PullAsk, Traffic};
    use crate::model::{EntityType, FieldMap};
    use crate::protocol::{HealthResponse, PullResponse, PushRequest, PushResponse};

    /// Answers from queues; records the pull cursors it was asked for.
    #[derive(Default)]
    struct Scripted {
        offline: bool,
        pushes: VecDeque<Result<PushResponse, RemoteError>>,
        pulls: VecDeque<Result<PullResponse, RemoteError>>,
        cursors: Vec<Option<String>>,
    }

    impl Remote for Scripted {
        fn health(&mut self) -> Result<HealthResponse, RemoteError> {
            if self.offline {
                return Err(RemoteError::Offline("cannot connect".into()));
            }
            Ok(HealthResponse {
                status: "ok".into(),
                version: "test".into(),
                store: "none".into(),
                server_id: None,
                op_sequences: false,
            })
        }
        fn push(&mut self, _: &PushRequest, _: Option<i64>) -> Result<PushResponse, RemoteError> {
            self.pushes.pop_front().expect("an unexpected push")
        }
        fn pull(&mut self, ask: &PullAsk<'_>) -> Result<PullResponse, RemoteError> {
            self.cursors.push(ask.cursor.map(str::to_string));
            self.pulls.pop_front().expect("an unexpected pull")
        }
        fn traffic(&self) -> Traffic {
            Traffic {
                requests: 7,
                ..Traffic::default()
            }
        }
    }

    fn page(cursor: &str) -> Result<PullResponse, RemoteError> {
        Ok(PullResponse {
            records: Vec::new(),
            next_cursor: cursor.into(),
            has_more: false,
            forms: None,
            team: None,
            server_id: None,
        })
    }

    fn store_with_one_change() -> Store {
        let mut s = Store::open_in_memory().unwrap();
        let f: FieldMap = serde_json::from_value(json!({"name": "Wanjiru"})).unwrap();
        s.add(EntityType::Household, f).unwrap();
        s
    }

    fn run(store: &mut Store, remote: &mut (dyn Remote + Send)) -> Result<SyncReport> {
        sync(
            store,
            remote,
            &SyncOptions::default(),
            &mut NoProgress,
            &|| false,
        )
    }

    #[test]
    fn an_unreachable_server_leaves_the_queue_untouched() {
        let mut s = store_with_one_change();
        let mut r = Scripted {
            offline: true,
            ..Scripted::default()
        };
        let err = run(&mut s, &mut r).unwrap_err();
        assert!(
            matches!(&err, Error::Offline(m) if m.contains("1 change waiting")),
            "{err}"
        );
        let q = s.queue_counts().unwrap();
        assert_eq!((q.pending, q.sending), (1, 0));
    }

    #[test]
    fn a_refused_token_puts_the_batch_back() {
        let mut s = store_with_one_change();
        let mut r = Scripted::default();
        r.pushes
            .push_back(Err(RemoteError::Unauthorized("no".into())));
        let err = run(&mut s, &mut r).unwrap_err();
        assert!(matches!(err, Error::Unauthorized(_)), "{err}");
        let q = s.queue_counts().unwrap();
        assert_eq!((q.pending, q.sending), (1, 0));
    }

    #[test]
    fn resync_restarts_the_pull_from_scratch_once() {
        let mut s = Store::open_in_memory().unwrap();
        s.set_meta(meta::PULL_CURSOR, "old").unwrap();
        let mut r = Scripted::default();
        r.pulls.push_back(Err(RemoteError::ResyncRequired));
        r.pulls.push_back(page("fresh"));
        let report = run(&mut s, &mut r).unwrap();
        assert_eq!(r.cursors, vec![Some("old".to_string()), None]);
        assert_eq!(s.meta(meta::PULL_CURSOR).unwrap().as_deref(), Some("fresh"));
        assert_eq!(report.requests, 7, "traffic comes from the remote");
    }

    #[test]
    fn a_second_resync_in_one_sync_is_an_error() {
        let mut s = Store::open_in_memory().unwrap();
        let mut r = Scripted::default();
        r.pulls.push_back(Err(RemoteError::ResyncRequired));
        r.pulls.push_back(Err(RemoteError::ResyncRequired));
        let err = run(&mut s, &mut r).unwrap_err();
        assert!(matches!(err, Error::ResyncRequired), "{err}");
    }

    #[test]
    fn a_request_refused_as_a_whole_keeps_its_status_and_code() {
        let mut s = Store::open_in_memory().unwrap();
        let mut r = Scripted::default();
        r.pulls.push_back(Err(RemoteError::Rejected {
            status: 400,
            code: Some(crate::protocol::ErrorCode::InvalidCursor),
            message: "bad cursor".into(),
        }));
        let err = run(&mut s, &mut r).unwrap_err();
        assert!(matches!(err, Error::Rejected { status: 400, .. }), "{err}");
    }
}
