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

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use serde_json::json;

    use super::NextBatch;
    use crate::client::store::{QueueStatus, Store};
    use crate::model::{EntityType, FieldMap};
    use crate::protocol::{ChangeResult, PushResponse};

    fn add(s: &mut Store, name: &str) {
        let f: FieldMap = serde_json::from_value(json!({ "name": name })).unwrap();
        s.add(EntityType::Household, f).unwrap();
    }

    /// The queue's (id, status, seq, retry count) by id, as stored.
    fn queue(s: &Store) -> Vec<(i64, String, Option<i64>, i64)> {
        let mut stmt = s
            .conn
            .prepare("SELECT id, status, seq, retry_count FROM sync_queue ORDER BY id")
            .unwrap();
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .unwrap();
        rows.map(Result::unwrap).collect()
    }

    fn accept_all(batch: &[crate::client::store::QueueEntry]) -> PushResponse {
        PushResponse {
            results: batch
                .iter()
                .map(|q| ChangeResult::accepted(q.op_id, q.id, q.id, false))
                .collect(),
            seq_floor: None,
        }
    }

    /// One step records the answer, raises the counter above a `seq_floor` and then takes
    /// and numbers the next batch: the entries in flight are passed over and keep their
    /// numbers, a re-sent entry keeps its number, the new ones are numbered in order above
    /// the floor, and only the batch is marked.
    #[test]
    fn a_step_records_the_answer_then_takes_and_numbers_the_next_batch() {
        let mut s = Store::open_in_memory().unwrap();
        for i in 0..8 {
            add(&mut s, &format!("h{i}"));
        }
        let first = s.take_batch(2).unwrap(); // ids 1, 2: numbers 1, 2
        let in_flight: HashSet<i64> = s
            .take_batch_besides(2, &first.iter().map(|e| e.id).collect())
            .unwrap()
            .iter()
            .map(|e| e.id)
            .collect(); // ids 3, 4: numbers 3, 4
        assert_eq!(in_flight, HashSet::from([3, 4]));
        let mut answer = accept_all(&first);
        answer.seq_floor = Some(40);
        let next = NextBatch {
            size: 3,
            in_flight: &in_flight,
        };
        let (tally, taken) = s.record_and_take(&first, &answer, Some(next)).unwrap();
        assert_eq!(tally.accepted, 2);
        let taken: Vec<_> = taken.iter().map(|e| (e.id, e.seq)).collect();
        assert_eq!(taken, [(5, Some(41)), (6, Some(42)), (7, Some(43))]);
        let sending = |seq, retries| ("sending".to_string(), Some(seq), retries);
        let rows: Vec<_> = queue(&s)
            .into_iter()
            .map(|(id, st, seq, n)| (id, (st, seq, n)))
            .collect();
        assert_eq!(
            rows,
            [
                (3, sending(3, 0)),
                (4, sending(4, 0)),
                (5, sending(41, 0)),
                (6, sending(42, 0)),
                (7, sending(43, 0)),
                (8, ("pending".to_string(), None, 0)),
            ]
        );
        // The answer to 3 and 4 was lost: the next sync sends them again first, with their
        // numbers, and numbers the one after them next.
        let again = s.take_batch(3).unwrap();
        let again: Vec<_> = again.iter().map(|e| (e.id, e.seq, e.retry_count)).collect();
        assert_eq!(again, [(3, Some(3), 1), (4, Some(4), 1), (5, Some(41), 1)]);
        let last = s
            .take_batch_besides(3, &HashSet::from([3, 4, 5, 6, 7]))
            .unwrap();
        assert_eq!(
            last.iter().map(|e| (e.id, e.seq)).collect::<Vec<_>>(),
            [(8, Some(44))]
        );
    }

    /// A step without a next batch records the answer and marks nothing; a step whose answer
    /// does not match its batch records nothing and takes nothing (one transaction).
    #[test]
    fn a_step_is_all_or_nothing() {
        let mut s = Store::open_in_memory().unwrap();
        for i in 0..4 {
            add(&mut s, &format!("h{i}"));
        }
        let batch = s.take_batch(2).unwrap();
        let before = queue(&s);
        let mut wrong = accept_all(&batch);
        wrong.results.pop();
        let none = HashSet::new();
        let next = NextBatch {
            size: 2,
            in_flight: &none,
        };
        assert!(s.record_and_take(&batch, &wrong, Some(next)).is_err());
        assert_eq!(queue(&s), before, "nothing recorded, nothing taken");
        let (_, taken) = s
            .record_and_take(&batch, &accept_all(&batch), None)
            .unwrap();
        assert!(taken.is_empty());
        let left = s.queue_entries(&[]).unwrap();
        assert_eq!(left.len(), 2);
        assert!(left
            .iter()
            .all(|e| e.status == QueueStatus::Pending && e.seq.is_none()));
    }
}
