//! Op-id retention (issue 17): how long the server keeps each change's stored result (the
//! `ops` table, what makes a retried batch apply once), and why forgetting one never lets a
//! change apply twice.
//!
//! The rules (docs/protocol.md, "Op-id retention", says them for client authors):
//!
//! 1. **Numbering.** A device that sends a [`PushSequence`] numbers each op_id once, from a
//!    counter that only grows, and always sends an op_id again with the same number.
//! 2. **Acknowledgement.** `finished_below = X` says every op_id of the device numbered below
//!    X is finished (the device holds its result and never sends it again): the push's own
//!    transaction deletes those results and raises the device's mark to X − 1.
//! 3. **Age.** Results stored more than the retention ago are deleted by [`trim`]; in the
//!    same transaction each device's mark rises to the highest number among them.
//! 4. **Refusal.** An op_id with no stored result whose number is at or below its device's
//!    mark may have been applied and forgotten: it is refused `op_expired` ([`expired`]),
//!    nothing is applied and nothing is stored. The push's answer carries the mark
//!    (`seq_floor`), so a device whose counter went back numbers what it sends next above it.
//! 5. **Unnumbered results** (older clients, and every result stored before this rule) are
//!    trimmed by age too, with no mark: an older client that replays a batch unanswered for
//!    longer than the retention applies it again. That is the retention's premise (no device
//!    stays offline that long); upgraded clients do not depend on it.
//!
//! This module decides; stores only load the mark and write what it says. It must not talk
//! HTTP or parse flags.

use std::collections::HashMap;
use std::time::Duration;

use uuid::Uuid;

use super::error::{ServiceError, StoreError};
use super::service::Service;
use super::store::{OpOrigin, Store};
use crate::protocol::{ChangeResult, ErrorCode, PushRequest, PushSequence};

/// How long stored results are kept by default: longer than any device stays offline.
pub const DEFAULT_RETENTION: Duration = Duration::from_secs(30 * 24 * 3600);

/// How often `serve` trims.
pub const TRIM_INTERVAL: Duration = Duration::from_secs(3600);

/// Results deleted per write transaction of a trim, so pushes wait at most one chunk.
pub const TRIM_CHUNK: u32 = 5000;

/// Checks a push's sequence against its changes: one number per change, each at least 1,
/// and a watermark of at least 0.
pub fn check(req: &PushRequest) -> Result<(), ServiceError> {
    let Some(seq) = &req.sequence else {
        return Ok(());
    };
    if seq.seqs.len() != req.changes.len() {
        return Err(ServiceError::BadSequence(format!(
            "sequence.seqs has {} numbers for {} changes",
            seq.seqs.len(),
            req.changes.len()
        )));
    }
    if seq.seqs.iter().any(|s| *s < 1) || seq.finished_below < 0 {
        return Err(ServiceError::BadSequence(
            "sequence numbers start at 1 and finished_below is at least 0".into(),
        ));
    }
    Ok(())
}

/// The device's mark as this push sees it: what the store remembers, raised by the push's
/// own watermark (a change numbered below it contradicts the device's own word).
pub fn effective_mark(stored: i64, seq: Option<&PushSequence>) -> i64 {
    seq.map_or(stored, |s| stored.max(s.finished_below - 1))
}

/// Rule 4: the refusal of an op_id the server does not know, numbered `seq`, when the
/// device's mark is `mark`; `None` when it may be applied.
pub fn expired(op_id: Uuid, seq: Option<i64>, mark: i64) -> Option<ChangeResult> {
    let seq = seq?;
    (seq <= mark).then(|| {
        ChangeResult::rejected(
            op_id,
            ErrorCode::OpExpired,
            format!(
                "this change (number {seq} of its device) is older than the results the server keeps (up to number {mark} forgotten): it may have been applied long ago, so it was not applied again; check the record and edit it to send the change again"
            ),
        )
    })
}

/// What a push's new results are stored with (rules 1-2), received at `stored_at` (seconds
/// since 1970, the server's clock).
pub fn origin(req: &PushRequest, stored_at: i64) -> OpOrigin {
    let seqs: HashMap<Uuid, i64> = match &req.sequence {
        Some(s) => req
            .changes
            .iter()
            .zip(&s.seqs)
            .map(|(c, n)| (c.op_id, *n))
            .collect(),
        None => HashMap::new(),
    };
    OpOrigin {
        device: req.device_id,
        stored_at,
        seqs,
        finished_below: req.sequence.as_ref().map(|s| s.finished_below),
    }
}

/// Now, in seconds since 1970 (0 if the clock is before it).
pub fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// Rule 3: deletes every result stored at least `retention` ago, in chunks of
/// [`TRIM_CHUNK`] (each its own write transaction); how many were deleted.
pub async fn trim(store: &dyn Store, retention: Duration) -> Result<u64, StoreError> {
    let upto = now_secs().saturating_sub(i64::try_from(retention.as_secs()).unwrap_or(i64::MAX));
    let mut total = 0;
    loop {
        let n = store.trim_ops(upto, TRIM_CHUNK).await?;
        total += n;
        if n < u64::from(TRIM_CHUNK) {
            return Ok(total);
        }
    }
}

/// `serve`'s trimmer: trims at once, then every [`TRIM_INTERVAL`], for as long as the
/// process runs. A failed trim is logged and tried again next time; it never stops serving.
pub fn spawn_trimmer(service: Service, retention: Duration) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(TRIM_INTERVAL);
        loop {
            tick.tick().await;
            match service.trim_ops(retention).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(
                    forgotten = n,
                    retention_days = retention.as_secs() / 86_400,
                    "op-id retention: forgot old push results"
                ),
                Err(e) => tracing::warn!("op-id retention: the trim failed: {e}"),
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::Change;

    fn req(seqs: Option<Vec<i64>>, n: usize) -> PushRequest {
        let change = |_| Change {
            op_id: Uuid::new_v4(),
            entity_type: crate::model::EntityType::Household,
            entity_id: Uuid::new_v4(),
            operation: crate::model::Operation::Insert,
            base_version: None,
            fields: Default::default(),
        };
        PushRequest {
            device_id: Uuid::new_v4(),
            changes: (0..n).map(change).collect(),
            sequence: seqs.map(|seqs| PushSequence {
                seqs,
                finished_below: 1,
            }),
        }
    }

    #[test]
    fn a_number_at_or_below_the_mark_is_refused_and_above_it_is_not() {
        let op = Uuid::new_v4();
        assert!(expired(op, Some(7), 7).is_some());
        assert!(expired(op, Some(3), 7).is_some());
        assert!(expired(op, Some(8), 7).is_none());
        assert!(expired(op, None, 7).is_none(), "unnumbered: never refused");
    }

    #[test]
    fn the_push_watermark_raises_the_mark() {
        let seq = PushSequence {
            seqs: vec![],
            finished_below: 10,
        };
        assert_eq!(effective_mark(3, Some(&seq)), 9);
        assert_eq!(effective_mark(30, Some(&seq)), 30);
        assert_eq!(effective_mark(3, None), 3);
    }

    #[test]
    fn a_sequence_must_number_every_change() {
        assert!(check(&req(Some(vec![1, 2]), 2)).is_ok());
        assert!(check(&req(None, 2)).is_ok());
        assert!(check(&req(Some(vec![1]), 2)).is_err());
        assert!(check(&req(Some(vec![0, 1]), 2)).is_err());
    }

    #[test]
    fn the_origin_numbers_each_op_id() {
        let r = req(Some(vec![4, 5]), 2);
        let o = origin(&r, 99);
        assert_eq!(o.seqs.get(&r.changes[1].op_id), Some(&5));
        assert_eq!((o.stored_at, o.finished_below), (99, Some(1)));
    }
}
