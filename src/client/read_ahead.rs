//! The pull's read-ahead (phase E): the next page is fetched while this one is applied. One
//! reader thread owns the [`Remote`] and answers one [`Ask`] at a time, in the order asked;
//! the sync engine asks for page N+1 as soon as page N has arrived (its cursor is the one
//! page N ends at), then applies page N in its own local transaction. A device that pulls
//! 100,000 records thus decodes the next page's JSON (and the server reads it) while this
//! thread writes SQLite.
//!
//! The ask for page N+1 is a guess made before page N is applied ([`Ask::after`]): the
//! engine compares it with the ask it would make from the store once page N is stored and,
//! when they differ (the page brought a form version, or named another team), drops the
//! guessed page unread and asks again. So every page the engine applies is exactly the page
//! it would have fetched after the one before, and pages are applied one at a time, in
//! cursor order, each with its cursor in one transaction: a failure or a stop leaves the
//! last committed cursor and the next pull resumes from it. At most one request is in
//! flight, so the server still sees one pull after the other.
//!
//! A stored page goes back to the reader thread ([`ReadAhead::done_with`]), which frees it
//! before its next request: freeing 100,000 decoded records is work too.
//!
//! This module must not apply pages, read the store or decide what an answer means: the
//! sync engine (`sync.rs`) does.

use std::sync::mpsc::{channel, sync_channel, Receiver, Sender, SyncSender};

use uuid::Uuid;

use super::error::{Error, Result};
use super::remote::{PullAsk, Remote, RemoteError};
use crate::protocol::{KnownForms, PullResponse};

/// One pull request, owned so it can cross to the reader thread and be compared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ask {
    pub cursor: Option<String>,
    pub limit: u32,
    pub known: KnownForms,
    pub seen: Option<i64>,
    pub device: Option<Uuid>,
}

impl Ask {
    /// The ask as the [`Remote`] takes it.
    fn as_pull(&self) -> PullAsk<'_> {
        PullAsk {
            cursor: self.cursor.as_deref(),
            limit: self.limit,
            known: Some(&self.known),
            seen: self.seen,
            device: self.device,
        }
    }

    /// The ask that should follow `page` (the answer to `self`) once the page is stored: its
    /// cursor, the highest version seen raised by the page's records, the same forms, and
    /// `device` (named unless a sweep will be under way: the engine knows). Only a guess:
    /// the engine checks it against the store (see the module doc).
    pub fn after(&self, page: &PullResponse, device: Option<Uuid>) -> Ask {
        let highest = page.records.iter().map(|r| r.version).max();
        Ask {
            cursor: Some(page.next_cursor.clone()),
            limit: self.limit,
            known: self.known.clone(),
            seen: self.seen.map(|s| highest.map_or(s, |h| s.max(h))),
            device,
        }
    }
}

type Answer = (Ask, std::result::Result<PullResponse, RemoteError>);

/// The engine's end of the read-ahead: asks go out in order, answers come back in order.
pub struct ReadAhead {
    asks: SyncSender<Ask>,
    answers: Receiver<Answer>,
    /// Pages stored, for the reader thread to free.
    spent: Sender<PullResponse>,
    /// Asks sent and not yet answered (at most one).
    in_flight: usize,
}

impl ReadAhead {
    /// Sends `ask` to the reader thread.
    pub fn ask(&mut self, ask: Ask) -> Result<()> {
        debug_assert_eq!(self.in_flight, 0, "one request in flight at a time");
        self.asks.send(ask).map_err(|_| stopped())?;
        self.in_flight += 1;
        Ok(())
    }

    /// The answer to the ask in flight, with the ask it answers.
    pub fn answer(&mut self) -> Result<Answer> {
        let answer = self.answers.recv().map_err(|_| stopped())?;
        self.in_flight -= 1;
        Ok(answer)
    }

    /// Hands a stored page to the reader thread, which frees it.
    pub fn done_with(&mut self, page: PullResponse) {
        // A reader that is gone (only a panic does that) leaves the page to be freed here.
        let _ = self.spent.send(page);
    }

    /// Waits for the ask in flight, if any, and drops its answer unread (a guess that turned
    /// out wrong, see [`Ask::after`]).
    pub fn discard(&mut self) -> Result<()> {
        if self.in_flight > 0 {
            let (_, _unread) = self.answer()?;
        }
        Ok(())
    }
}

/// The reader thread ended before answering: only a panic in the [`Remote`] does that.
fn stopped() -> Error {
    Error::Protocol("the pull's reader thread stopped before answering".into())
}

/// Runs `body` with a reader thread that owns `remote`. When `body` returns, the reader
/// finishes the request it is making (if any), drops its answer and ends; this returns after
/// it has.
pub fn with_read_ahead<T>(
    remote: &mut (dyn Remote + Send),
    body: impl FnOnce(&mut ReadAhead) -> Result<T>,
) -> Result<T> {
    std::thread::scope(|scope| {
        let (ask_tx, ask_rx) = sync_channel::<Ask>(1);
        let (answer_tx, answer_rx) = sync_channel::<Answer>(1);
        let (spent_tx, spent_rx) = channel::<PullResponse>();
        scope.spawn(move || read_in_order(remote, ask_rx, answer_tx, spent_rx));
        let mut ahead = ReadAhead {
            asks: ask_tx,
            answers: answer_rx,
            spent: spent_tx,
            in_flight: 0,
        };
        body(&mut ahead)
        // Dropping `ahead` closes both channels; the scope waits for the reader.
    })
}

/// The reader thread: one request at a time, in the order asked, until the engine hangs up;
/// between requests it frees the pages the engine has stored.
fn read_in_order(
    remote: &mut (dyn Remote + Send),
    asks: Receiver<Ask>,
    answers: SyncSender<Answer>,
    spent: Receiver<PullResponse>,
) {
    while let Ok(ask) = asks.recv() {
        spent.try_iter().for_each(drop);
        let page = remote.pull(&ask.as_pull());
        if answers.send((ask, page)).is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{EntityType, FieldMap};
    use crate::protocol::{Audit, Record};

    fn page(versions: &[i64], cursor: &str) -> PullResponse {
        PullResponse {
            records: versions
                .iter()
                .map(|&version| Record {
                    entity_type: EntityType::Household,
                    id: Uuid::now_v7(),
                    server_id: version,
                    version,
                    deleted: false,
                    fields: FieldMap::new(),
                    audit: Audit::default(),
                })
                .collect(),
            next_cursor: cursor.into(),
            has_more: true,
            forms: None,
            team: None,
            server_id: None,
        }
    }

    fn first() -> Ask {
        Ask {
            cursor: None,
            limit: 2,
            known: KnownForms::default(),
            seen: Some(5),
            device: None,
        }
    }

    #[test]
    fn the_guess_takes_the_pages_cursor_and_highest_version() {
        let device = Some(Uuid::from_u128(7));
        let next = first().after(&page(&[7, 9], "c1"), device);
        assert_eq!(next.cursor.as_deref(), Some("c1"));
        assert_eq!(next.seen, Some(9));
        assert_eq!(next.limit, 2);
        // The device is the engine's to say (named unless a sweep will be under way).
        assert_eq!(next.device, device);
        assert_eq!(first().after(&page(&[7], "c1"), None).device, None);
        // A page of versions below what was seen, or none, leaves `seen` where it was.
        assert_eq!(first().after(&page(&[3], "c2"), None).seen, Some(5));
        assert_eq!(first().after(&page(&[], "c3"), None).seen, Some(5));
        // A server that is not told `seen` is not told one later either.
        let quiet = Ask {
            seen: None,
            ..first()
        };
        assert_eq!(quiet.after(&page(&[7], "c4"), None).seen, None);
    }
}
