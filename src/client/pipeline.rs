//! The push pipeline (issue 14): the device and the server work at the same time. One
//! sender thread owns the [`Remote`] and sends the batches one at a time, in queue order,
//! each as soon as the previous one is answered, so the server applies them in the order a
//! one-at-a-time push would (a household before its visits: the orphan rule). Meanwhile this
//! thread records the answer of the batch before and takes the next batch (read and mark
//! `sending`), both in one local transaction, so at most [`AHEAD`] batches are taken and not
//! yet answered.
//!
//! Crash safety is the queue's: a batch is marked `sending` before it may be sent and its
//! entries leave the queue only in the transaction that records its answer; a crash leaves
//! them `sending` and the next sync sends them again with the same op_ids. A batch taken but
//! never sent (an earlier batch failed) is put back.
//!
//! This module must not decide what an answer means (the store's `apply_push_results`
//! does) or know HTTP.

use std::collections::{HashSet, VecDeque};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};

use super::error::{Error, Result};
use super::remote::{Remote, RemoteError};
use super::store::{NextBatch, PushTally, QueueEntry, Store};
use crate::protocol::{PushRequest, PushResponse};

/// Batches taken and not yet answered: one on the wire, one waiting for its turn.
pub const AHEAD: usize = 2;

/// A batch for the sender, with the `fieldsync-seen` value it had when it was taken.
struct Outgoing {
    req: PushRequest,
    seen: Option<i64>,
}

type Answer = std::result::Result<PushResponse, RemoteError>;

/// What the pipeline reports of each answered batch.
pub trait Answered {
    /// A batch of `sent` changes was answered and recorded, with this tally.
    fn recorded(&mut self, sent: u64, tally: PushTally);
}

/// How to push: batch size, the device id, and how to read `seen` and whether to stop.
pub struct Plan<'a> {
    pub batch_size: usize,
    pub device_id: uuid::Uuid,
    /// The server takes the device's sequence numbers (op-id retention, `/v1/health`'s
    /// `op_sequences`): each request carries its batch's [`crate::protocol::PushSequence`].
    pub numbers_ops: bool,
    /// The `fieldsync-seen` value to send now, if the server takes one.
    pub seen: &'a dyn Fn(&Store) -> Result<Option<i64>>,
    /// Checked before each batch is taken.
    pub stop: &'a dyn Fn() -> bool,
}

/// Pushes the queue through the pipeline until it is empty or `plan.stop` says so. A failed
/// request ends it with the error the caller maps (`Offline` and such leave the failed
/// batch `sending`; a refusal before anything was applied puts it back, see [`refused`]).
pub fn push_all(
    store: &mut Store,
    remote: &mut (dyn Remote + Send),
    plan: &Plan<'_>,
    answered: &mut dyn Answered,
) -> std::result::Result<(), Failure> {
    std::thread::scope(|scope| {
        let (out_tx, out_rx) = sync_channel::<Outgoing>(AHEAD);
        let (ans_tx, ans_rx) = sync_channel::<Answer>(AHEAD);
        scope.spawn(move || send_in_order(remote, out_rx, ans_tx));
        let mut pipe = Pipe {
            store,
            taken: VecDeque::new(),
            out: out_tx,
            answers: ans_rx,
        };
        pipe.run(plan, answered)
        // Dropping the pipe closes the sender's channel; the scope waits for it.
    })
}

/// Why the pipeline stopped early.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    /// A request failed; the batches behind it were put back unsent.
    #[error("{0}")]
    Remote(RemoteError),
    /// The local store failed.
    #[error(transparent)]
    Local(#[from] Error),
}

/// Is this a refusal before anything was applied (the batch goes back untouched)?
pub fn refused(e: &RemoteError) -> bool {
    matches!(
        e,
        RemoteError::Unauthorized(_) | RemoteError::ServerBehind { .. }
    )
}

/// The sender thread: one request at a time, in order, until the channel closes or a
/// request fails (then nothing behind it is sent). A device that received versions in an
/// answer names them in the next request's `seen`, as it would after recording the answer.
fn send_in_order(
    remote: &mut (dyn Remote + Send),
    batches: Receiver<Outgoing>,
    answers: SyncSender<Answer>,
) {
    let mut received = 0;
    while let Ok(out) = batches.recv() {
        let seen = out.seen.map(|s| s.max(received));
        let answer = remote.push(&out.req, seen);
        let failed = answer.is_err();
        if let Ok(resp) = &answer {
            received = received.max(highest_version(resp));
        }
        if answers.send(answer).is_err() || failed {
            return;
        }
    }
}

/// The highest server version an answer tells the device about (as the store records it).
fn highest_version(resp: &PushResponse) -> i64 {
    resp.results
        .iter()
        .filter_map(|r| {
            r.version
                .or_else(|| r.server_record.as_ref().map(|s| s.version))
        })
        .max()
        .unwrap_or(0)
}

/// This thread's half: the batches taken and not yet answered, oldest first.
struct Pipe<'s> {
    store: &'s mut Store,
    taken: VecDeque<Vec<QueueEntry>>,
    out: SyncSender<Outgoing>,
    answers: Receiver<Answer>,
}

impl Pipe<'_> {
    fn run(
        &mut self,
        plan: &Plan<'_>,
        answered: &mut dyn Answered,
    ) -> std::result::Result<(), Failure> {
        let mut drained = false;
        loop {
            while !drained && self.taken.len() < AHEAD && !(plan.stop)() {
                let batch = self
                    .store
                    .take_batch_besides(plan.batch_size, &self.in_flight())?;
                drained = !self.send(plan, batch)?;
            }
            let Some(batch) = self.taken.pop_front() else {
                return Ok(());
            };
            let answer = self.answers.recv().map_err(|_| {
                Failure::Remote(RemoteError::Protocol("the push sender stopped".into()))
            })?;
            match answer {
                Ok(resp) => {
                    // The answer is recorded and the next batch taken in one transaction
                    // (one fsync, not two: `store/push_step.rs` says why that is as safe).
                    let in_flight = self.in_flight();
                    let next = (!drained && !(plan.stop)()).then_some(NextBatch {
                        size: plan.batch_size,
                        in_flight: &in_flight,
                    });
                    let (tally, taken) = self.store.record_and_take(&batch, &resp, next)?;
                    answered.recorded(batch.len() as u64, tally);
                    if next.is_some() {
                        drained = !self.send(plan, taken)?;
                    }
                }
                Err(e) => return Err(self.failed(&batch, e)),
            }
        }
    }

    /// The queue ids of the batches taken and not yet answered.
    fn in_flight(&self) -> HashSet<i64> {
        self.taken.iter().flatten().map(|e| e.id).collect()
    }

    /// Hands a batch just taken to the sender; false when it is empty (the queue is).
    fn send(
        &mut self,
        plan: &Plan<'_>,
        batch: Vec<QueueEntry>,
    ) -> std::result::Result<bool, Failure> {
        if batch.is_empty() {
            return Ok(false);
        }
        let req = PushRequest {
            device_id: plan.device_id,
            changes: batch.iter().map(QueueEntry::to_change).collect(),
            sequence: match plan.numbers_ops {
                true => Some(self.store.push_sequence(&batch)?),
                false => None,
            },
        };
        let seen = (plan.seen)(self.store)?;
        if self.out.send(Outgoing { req, seen }).is_err() {
            // The sender stopped after a failure it is about to report: never sent.
            self.store.release_batch(&batch)?;
            return Ok(false);
        }
        self.taken.push_back(batch);
        Ok(true)
    }

    /// A request failed: the batches behind it were never sent and go back; the failed one
    /// goes back too when the server refused it before applying anything.
    fn failed(&mut self, batch: &[QueueEntry], e: RemoteError) -> Failure {
        let mut unsent: Vec<Vec<QueueEntry>> = self.taken.drain(..).collect();
        if refused(&e) {
            unsent.push(batch.to_vec());
        }
        for b in &unsent {
            if let Err(local) = self.store.release_batch(b) {
                return Failure::Local(local);
            }
        }
        Failure::Remote(e)
    }
}
