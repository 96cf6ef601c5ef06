//! `fieldsync queue` and `fieldsync status`: reads the store and prints. It must not change
//! the queue (`queue discard` lives in `discard.rs`).

use clap::Args;
use serde_json::json;

use super::format::describe_fields;
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
        eprintln!("the queue is empty: everything recorded here has reached the server");
    }
    for e in &entries {
        let fields = describe_fields(&e.payload);
        let mut line = format!(
            "{:<9} {:<6} {:<9} {}  {:<5} retries={}",
            e.status.as_str(),
            e.operation.as_str(),
            e.entity_type.as_str(),
            e.entity_id,
            age(&e.enqueued_at),
            e.retry_count,
        );
        if !fields.is_empty() {
            line.push_str(&format!("  fields={fields}"));
        }
        if let Some(err) = &e.last_error {
            line.push_str(&format!("  error: {err}"));
        }
        crate::outln!("{line}")?;
    }
    Ok(exit::OK)
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
        crate::outln!("oldest       {t} ({} ago)", age(t))?;
    }
    match &st.last_sync_at {
        Some(t) => crate::outln!("last sync    {t} ({} ago)", age(t))?,
        None => crate::outln!("last sync    never")?,
    }
    crate::outln!(
        "server       {}",
        st.server.as_deref().unwrap_or("(not synced yet)")
    )?;
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
    Ok(exit::OK)
}
