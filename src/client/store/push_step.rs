//! The push pipeline's step (issue 14): recording the answer to one batch and taking the
//! batch after the next, in one local transaction.
//!
//! Why one transaction is enough where a batch used to cost two (one to record its answer,
//! one to take the next batch), each fsync'd: the two durable facts the push needs keep
//! their order and neither can be seen without the other.
//!
//! - A taken batch is durably `sending` before its request leaves: the request is handed to
//!   the sender only after this transaction commits. (Compaction rewrites only entries never
//!   sent; were a sent entry still `pending` after a crash, it could be folded with later
//!   edits though the server may already hold it, and a change would be lost or repeated.)
//! - An answer is recorded all or nothing, and only once: a crash before the commit leaves
//!   the answered batch `sending` (it is sent again with the same op_ids; the server answers
//!   from its dedupe) and the next batch untaken and unsent, exactly as a crash between the
//!   two transactions or before the first did. Nothing outside the device saw the new
//!   batch before the commit, so nothing depends on it having been taken.
//!
//! This module only joins the queue's and the answers' steps: it must not decide what a
//! result means (`apply.rs`) or what a batch holds (`queue.rs`).

use std::collections::HashSet;

use super::apply::record_push_results;
use super::queue::{take_in, QueueEntry};
use super::{op_seq, PushTally, Store};
use crate::client::error::Result;
use crate::model;
use crate::protocol::PushResponse;

/// The batch to take after recording an answer: its size, and the entries of batches still
/// on the wire to pass over (queue ids).
#[derive(Debug, Clone, Copy)]
pub struct NextBatch<'a> {
    pub size: usize,
    pub in_flight: &'a HashSet<i64>,
}

impl Store {
    /// Records the server's answer to `batch` (its results and any `seq_floor`) and, with
    /// `next`, takes the next batch and marks it `sending` (see [`Store::take_batch_besides`]),
    /// in one transaction: see the module's documentation for why that is as safe as two.
    /// The batch taken is empty when the queue has nothing more to send.
    pub fn record_and_take(
        &mut self,
        batch: &[QueueEntry],
        answer: &PushResponse,
        next: Option<NextBatch<'_>>,
    ) -> Result<(PushTally, Vec<QueueEntry>)> {
        let now = model::now_timestamp();
        let tx = self.write_tx()?;
        let tally = record_push_results(&tx, batch, &answer.results, &now)?;
        if let Some(floor) = answer.seq_floor {
            // Before the next batch is numbered: it must be numbered above the floor.
            op_seq::raise_floor(&tx, floor)?;
        }
        let taken = match next {
            Some(n) => take_in(&tx, n.size, n.in_flight)?,
            None => Vec::new(),
        };
        tx.commit()?;
        Ok((tally, taken))
    }
}
