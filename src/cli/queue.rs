//! `fieldsync queue` and `fieldsync status`: reads the store and prints. It must not change
//! the queue (`queue discard` lives in `discard.rs`).

use clap::Args;
use serde_json::json;

use super::format::{describe_fields, one_line};
use super::times::show_local;
use super::{print_json, Failure, Globals};
use crate::client::store::QueueStatus;
use crate::exit;

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct QueueArgs {
    /// Only entries the server rejected (with their errors).
    #[arg(long)]
    pub rejected: bool,
    #[command(subcommand)]
    pub action: Option<QueueAction>,
}

#[derive(Debug, clap::Subcommand)]
pub enum QueueAction {
    /// Remove changes the server rejected, after saving them (and the records as they are
    /// here) to a JSON-lines file next to the database; the records are refreshed from the
    /// server with the next sync.
    Discard(super::discard::DiscardArgs),
}

/// How long ago an RFC 3339 time was, for people: `42s`, `5m`, `3h`, `2d`.
pub fn age(ts: &str) -> String {
    let Ok(t) = crate::model::parse_timestamp(ts) else {
        return "?".into();
    };
    let s = (time::OffsetDateTime::now_utc() - t).whole_seconds().max(0);
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m", s / 60),
        3600..=86399 => format!("{}h", s / 3600),
        _ => format!("{}d", s / 86400),
    }
}

pub fn run_queue(g: &Globals, args: QueueArgs) -> Result<i32, Failure> {
    if let Some(QueueAction::Discard(d)) = args.action {
        return super::discard::run(g, d);
    }
    let store = g.open_existing_store()?;
    let only: &[QueueStatus] = if args.rejected {
        &[QueueStatus::Rejected]
    } else {
        &[]
    };
    let entries = store.queue_entries(only)?;
    if g.json {
        let counts = store.queue_counts()?;
        print_json(&json!({
            "pending": counts.pending,
            "sending": counts.sending,
            "rejected": counts.rejected,
            "entries": entries,
        }))?;
        return Ok(exit::OK);
    }
    if entries.is_empty() {
        crate::errln!("{}", empty_queue_note(store.status()?.conflicts));
    }
    let ids = store.id_index()?;
    for e in &entries {
        let fields = describe_fields(&e.payload);
        let mut line = format!(
            "{:<9} {:<6} {:<9} {:<10}  {:<5} retries={}",
            e.status.as_str(),
            e.operation.as_str(),
            e.entity_type.as_str(),
            ids.short_or_hex(&e.entity_id),
            age(&e.enqueued_at),
            e.retry_count,
        );
        if !fields.is_empty() {
            line.push_str(&format!("  fields={fields}"));
        }
        if let Some(err) = &e.last_error {
            line.push_str(&format!("  error: {}", one_line(err)));
        }
        crate::outln!("{line}")?;
    }
    Ok(exit::OK)
}

/// What `queue` says when it lists nothing: the queue is empty, but edits held in conflicts
/// have not reached the server.
fn empty_queue_note(conflicts: i64) -> String {
    match conflicts {
        0 => "the queue is empty: everything recorded here has reached the server".into(),
        n => format!(
            "the queue is empty, but {n} {} hold edits that have not reached the server: settle them with `fieldsync resolve`",
            plural(n, "conflict", "conflicts")
        ),
    }
}

/// `one` or `many` by `n`.
pub fn plural<'a>(n: i64, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 {
        one
    } else {
        many
    }
}

/// A change waiting longer than this is worth a warning in `status`.
const OLD_CHANGE: time::Duration = time::Duration::hours(24);
/// No sync for longer than this is worth a warning in `status`.
const OLD_SYNC: time::Duration = time::Duration::days(7);

/// What `status` warns about, given the oldest waiting change and the last sync (RFC 3339).
pub fn status_warnings(
    oldest_pending: Option<&str>,
    last_sync: Option<&str>,
    now: time::OffsetDateTime,
) -> Vec<String> {
    let older_than = |t: Option<&str>, limit: time::Duration| {
        t.and_then(|t| crate::model::parse_timestamp(t).ok())
            .filter(|t| now - *t > limit)
    };
    let mut out = Vec::new();
    if let Some(t) = older_than(oldest_pending, OLD_CHANGE) {
        out.push(format!(
            "warning: a change has waited {} to be sent: sync when you are in range (`fieldsync sync`)",
            age_between(t, now)
        ));
    }
    if let Some(t) = older_than(last_sync, OLD_SYNC) {
        out.push(format!(
            "warning: the last sync was {} ago: your team has not seen your work, nor you theirs",
            age_between(t, now)
        ));
    }
    out
}

fn age_between(then: time::OffsetDateTime, now: time::OffsetDateTime) -> String {
    let s = (now - then).whole_seconds().max(0);
    match s {
        0..=172_799 => format!("{}h", s / 3600),
        _ => format!("{} days", s / 86400),
    }
}

pub fn run_status(g: &Globals) -> Result<i32, Failure> {
    let store = g.open_existing_store()?;
    let st = store.status()?;
    if g.json {
        print_json(&st)?;
        return Ok(exit::OK);
    }
    let fmt_counts = |m: &std::collections::BTreeMap<crate::client::store::SyncState, i64>| {
        m.iter()
            .map(|(s, n)| format!("{n} {s}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    crate::outln!("households   {}", fmt_counts(&st.households))?;
    crate::outln!("visits       {}", fmt_counts(&st.visits))?;
    crate::outln!(
        "queue        {} waiting ({} pending, {} sending), {} rejected",
        st.queue.waiting(),
        st.queue.pending,
        st.queue.sending,
        st.queue.rejected
    )?;
    if let Some(t) = &st.oldest_pending {
        crate::outln!("oldest       {} ({} ago)", show_local(t), age(t))?;
    }
    match &st.last_sync_at {
        Some(t) => crate::outln!("last sync    {} ({} ago)", show_local(t), age(t))?,
        None => crate::outln!("last sync    never")?,
    }
    match (&st.server, g.load_config().ok()) {
        (Some(server), _) => crate::outln!("server       {server}")?,
        (None, Some(config)) => crate::outln!("server       {} (not synced yet)", config.server)?,
        (None, None) => crate::outln!("server       none: run `fieldsync init`")?,
    }
    if st.conflicts > 0 {
        crate::outln!(
            "conflicts    {}: settle them with `fieldsync resolve`",
            st.conflicts
        )?;
    }
    if st.queue.rejected > 0 {
        crate::outln!(
            "rejected     {}: see `fieldsync queue --rejected`, then edit the records to send them again",
            st.queue.rejected
        )?;
    }
    let now = time::OffsetDateTime::now_utc();
    for w in status_warnings(
        st.oldest_pending.as_deref(),
        st.last_sync_at.as_deref(),
        now,
    ) {
        crate::errln!("{w}");
    }
    Ok(exit::OK)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn status_warns_about_old_changes_and_old_syncs_only() {
        let now = datetime!(2026-11-27 12:00 UTC);
        assert!(status_warnings(None, None, now).is_empty());
        let fresh = status_warnings(
            Some("2026-11-26T13:00:00Z"),
            Some("2026-11-21T12:00:00Z"),
            now,
        );
        assert!(fresh.is_empty(), "{fresh:?}");
        let old = status_warnings(
            Some("2026-11-26T11:00:00Z"),
            Some("2026-11-19T12:00:00Z"),
            now,
        );
        assert_eq!(old.len(), 2, "{old:?}");
        assert!(old[0].contains("25h"), "{old:?}");
        assert!(old[1].contains("8 days"), "{old:?}");
    }

    #[test]
    fn an_empty_queue_with_conflicts_does_not_claim_everything_reached_the_server() {
        assert!(empty_queue_note(0).contains("everything recorded here has reached"));
        let n = empty_queue_note(1);
        assert!(
            n.contains("1 conflict hold") || n.contains("1 conflict "),
            "{n}"
        );
        assert!(!n.contains("everything"), "{n}");
        assert!(empty_queue_note(3).contains("3 conflicts"));
    }
}
