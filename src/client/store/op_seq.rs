//! The device's side of op-id retention (issue 17; the rules are in docs/protocol.md, "Op-id
//! retention"): numbering queue entries, and the acknowledgement watermark each push carries.
//!
//! - An entry is numbered when it is first sent (in `take_batch`'s transaction), from the
//!   `op_seq_next` counter, which only grows; it keeps the number as long as it keeps its
//!   op_id. An entry given a new op_id (a rejected entry revived by an edit) loses its number
//!   and is numbered afresh when sent, so a new change is never numbered at or below what
//!   the server forgot. Re-sent and renumbered queue rows (`refill.rs` moves ids) keep it.
//! - The watermark is the lowest number still in the queue (any status): every entry
//!   numbered below it has left the queue — accepted, turned into a conflict, discarded or
//!   replaced by a reseed — and is never sent again with its op_id.
//! - A server answer with `seq_floor` (this device's counter went back, e.g. its database
//!   was restored from a backup) raises the counter above it.
//!
//! This module only numbers; it must not decide what a result means (`apply.rs`).

use rusqlite::{params, Connection};

use super::queue::{json_array, QueueEntry};
use super::sync_state::{get_meta, meta, set_meta};
use super::Store;
use crate::client::error::{Error, Result};
use crate::protocol::PushSequence;

/// The counter's value: the number the next entry gets (numbers start at 1).
fn next(tx: &Connection) -> Result<i64> {
    match get_meta(tx, meta::OP_SEQ_NEXT)? {
        Some(v) => v
            .parse()
            .map_err(|e| Error::corrupt(format_args!("op sequence counter {v:?}"), e)),
        None => Ok(1),
    }
}

/// Numbers the entries of `batch` that have no number yet, in batch order (inside the
/// caller's transaction), with one statement: the `n`-th of them (from 0) gets the counter
/// plus `n`.
pub(super) fn number(tx: &Connection, batch: &mut [QueueEntry]) -> Result<()> {
    let start = next(tx)?;
    let mut counter = start;
    let mut fresh = Vec::new();
    for e in batch.iter_mut().filter(|e| e.seq.is_none()) {
        e.seq = Some(counter);
        fresh.push(serde_json::Value::from(e.id));
        counter += 1;
    }
    if fresh.is_empty() {
        return Ok(());
    }
    tx.prepare_cached(
        "UPDATE sync_queue SET seq = ?2 + j.key FROM json_each(?1) AS j
         WHERE sync_queue.id = j.value",
    )?
    .execute(params![json_array(fresh.into_iter()), start])?;
    set_meta(tx, meta::OP_SEQ_NEXT, &counter.to_string())?;
    Ok(())
}

impl Store {
    /// The sequence of a batch taken by [`Store::take_batch`]: its numbers, and the lowest
    /// number still in the queue (or the counter, when none is) as the watermark.
    pub fn push_sequence(&self, batch: &[QueueEntry]) -> Result<PushSequence> {
        let seqs = batch
            .iter()
            .map(|e| {
                e.seq.ok_or_else(|| {
                    Error::corrupt(
                        format_args!("queue entry {}", e.id),
                        "taken for a push without a sequence number",
                    )
                })
            })
            .collect::<Result<Vec<i64>>>()?;
        let lowest: Option<i64> = self.conn.query_row(
            "SELECT min(seq) FROM sync_queue WHERE seq IS NOT NULL",
            [],
            |r| r.get(0),
        )?;
        let finished_below = match lowest {
            Some(l) => l,
            None => next(&self.conn)?,
        };
        Ok(PushSequence {
            seqs,
            finished_below,
        })
    }

    /// Raises the counter above `floor`, the highest number the server may have forgotten
    /// of this device (a push answer's `seq_floor`).
    pub fn raise_seq_floor(&mut self, floor: i64) -> Result<()> {
        let tx = self.write_tx()?;
        raise_floor(&tx, floor)?;
        tx.commit()?;
        Ok(())
    }
}

/// [`Store::raise_seq_floor`] inside the caller's transaction.
pub(super) fn raise_floor(tx: &Connection, floor: i64) -> Result<()> {
    if next(tx)? <= floor {
        set_meta(tx, meta::OP_SEQ_NEXT, &(floor + 1).to_string())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::client::store::Store;
    use crate::model::{EntityType, FieldMap};

    fn add(s: &mut Store, name: &str) -> uuid::Uuid {
        let f: FieldMap = serde_json::from_value(json!({ "name": name })).unwrap();
        s.add(EntityType::Household, f).unwrap()
    }

    #[test]
    fn entries_are_numbered_once_when_first_sent_and_the_watermark_is_the_lowest_left() {
        let mut s = Store::open_in_memory().unwrap();
        add(&mut s, "a");
        add(&mut s, "b");
        let first = s.take_batch(1).unwrap();
        assert_eq!(first[0].seq, Some(1));
        // Taken again (its answer was lost): the same number.
        let again = s.take_batch(1).unwrap();
        assert_eq!((again[0].op_id, again[0].seq), (first[0].op_id, Some(1)));
        let both = s.take_batch(2).unwrap();
        assert_eq!(
            both.iter().map(|e| e.seq).collect::<Vec<_>>(),
            [Some(1), Some(2)]
        );
        let seq = s.push_sequence(&both).unwrap();
        assert_eq!((seq.seqs, seq.finished_below), (vec![1, 2], 1));
    }

    #[test]
    fn the_counter_rises_above_a_floor_and_never_goes_back() {
        let mut s = Store::open_in_memory().unwrap();
        s.raise_seq_floor(41).unwrap();
        s.raise_seq_floor(7).unwrap();
        add(&mut s, "a");
        assert_eq!(s.take_batch(1).unwrap()[0].seq, Some(42));
        let empty = s.push_sequence(&[]).unwrap();
        assert_eq!(empty.finished_below, 42, "the entry is still queued");
    }
}
