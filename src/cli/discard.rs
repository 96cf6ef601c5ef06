//! `fieldsync queue discard ID… | --rejected [--yes]` (issue 11): removes changes the server
//! rejected, after writing each one (the entry and the record as it was here) to a JSON-lines
//! file next to the database, fsynced before the store removes anything. What a discard
//! removes and refreshes is the store's call ([`crate::client::store::Store::discard`]); this
//! file picks the entries, asks, writes the file and prints. It must not touch the store
//! before the file is safely written.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Args;
use dialoguer::theme::ColorfulTheme;
use dialoguer::Confirm;
use serde_json::json;

use super::format::record_json;
use super::{interactive, print_json, Failure, Globals};
use crate::client::store::{LocalRecord, QueueEntry};
use crate::client::Error;
use crate::exit;

#[derive(Debug, Args)]
pub struct DiscardArgs {
    /// Records (ids or unique prefixes) whose rejected changes to discard.
    #[arg(required_unless_present = "rejected", conflicts_with = "rejected")]
    pub ids: Vec<String>,
    /// Discard every rejected change.
    #[arg(long)]
    pub rejected: bool,
    /// Do not ask (required without a terminal).
    #[arg(long, short)]
    pub yes: bool,
}

pub fn run(g: &Globals, args: DiscardArgs) -> Result<i32, Failure> {
    let db = g.db_path()?;
    let mut store = g.open_existing_store()?;
    let all = store.discardable()?;
    let chosen = if args.rejected {
        all
    } else {
        pick(all, &args.ids)?
    };
    if chosen.is_empty() {
        crate::errln!("no rejected changes to discard (`fieldsync queue --rejected` lists them)");
        return Ok(exit::OK);
    }
    if !args.yes && !confirm(chosen.len())? {
        return Err(Error::Cancelled.into());
    }
    let path = write_file(&db, &chosen)?;
    let entries: Vec<QueueEntry> = chosen.into_iter().map(|(e, _)| e).collect();
    let done = store.discard(&entries)?;
    if g.json {
        print_json(&json!({
            "file": path.display().to_string(),
            "discarded": done.entries,
            "refreshed": done.refreshed,
            "never_on_server": done.never_on_server,
        }))?;
    } else {
        crate::outln!("{}", path.display())?;
        crate::errln!(
            "discarded {} changes (saved in {}); {} records will be refreshed from the server with the next sync{}",
            done.entries,
            path.display(),
            done.refreshed - done.never_on_server,
            match done.never_on_server {
                0 => String::new(),
                n => format!(", {n} the server never had were removed"),
            }
        );
    }
    Ok(exit::OK)
}

/// The rejected entries of the records named by `ids` (unique prefixes of record ids).
fn pick(
    all: Vec<(QueueEntry, Option<LocalRecord>)>,
    ids: &[String],
) -> Result<Vec<(QueueEntry, Option<LocalRecord>)>, Failure> {
    let mut wanted = Vec::new();
    for prefix in ids {
        let p = prefix.to_ascii_lowercase();
        let mut records: Vec<String> = all
            .iter()
            .map(|(e, _)| e.entity_id.to_string())
            .filter(|id| id.starts_with(&p))
            .collect();
        records.dedup();
        match records.len() {
            0 => {
                return Err(Error::NotFound(format!(
                    "no rejected change of a record {prefix:?} (`fieldsync queue --rejected` lists them)"
                ))
                .into())
            }
            1 => wanted.push(records.remove(0)),
            _ => {
                let total = records.len();
                records.truncate(10);
                return Err(Error::Ambiguous {
                    what: "record",
                    prefix: prefix.clone(),
                    candidates: records,
                    total,
                }
                .into())
            }
        }
    }
    Ok(all
        .into_iter()
        .filter(|(e, _)| wanted.contains(&e.entity_id.to_string()))
        .collect())
}

/// Asks before discarding; without a terminal, refuses (exit 2) and names `--yes`. Esc or
/// Ctrl-C is a cancel (130), `n` a plain "no" (also 130: nothing was changed).
fn confirm(n: usize) -> Result<bool, Failure> {
    if !interactive() {
        return Err(Failure::new(
            exit::USAGE,
            "queue discard removes changes for good: pass --yes to confirm without a terminal",
        ));
    }
    Confirm::with_theme(&ColorfulTheme::default())
        .with_prompt(format!(
            "Discard {n} rejected changes? (they are saved to a file first)"
        ))
        .default(false)
        .interact_opt()
        .map(|a| a == Some(true))
        .map_err(|e| Failure::new(exit::SOFTWARE, format!("cannot ask: {e}")))
}

/// Writes one JSON line per entry (the entry, and the record as it is here) to a new file
/// next to the database, and fsyncs it; its path.
fn write_file(db: &Path, chosen: &[(QueueEntry, Option<LocalRecord>)]) -> Result<PathBuf, Failure> {
    let dir = db
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let stamp = time::OffsetDateTime::now_utc()
        .format(&time::macros::format_description!(
            "[year][month][day]T[hour][minute][second]Z"
        ))
        .map_err(|e| Failure::new(exit::SOFTWARE, format!("cannot format the time: {e}")))?;
    let (path, mut file) = create_new(dir, &stamp)?;
    let io = |e: std::io::Error| Error::io(format!("cannot write {}", path.display()), e);
    for (entry, rec) in chosen {
        let line = json!({"entry": entry, "record": rec.as_ref().map(record_json)});
        writeln!(file, "{line}").map_err(io)?;
    }
    file.sync_all().map_err(io)?;
    Ok(path)
}

/// A new owner-only file `discarded-STAMP.jsonl` (or `-2`, `-3`, … when taken).
fn create_new(dir: &Path, stamp: &str) -> Result<(PathBuf, File), Failure> {
    let mut opts = File::options();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    for n in 1..100 {
        let name = match n {
            1 => format!("discarded-{stamp}.jsonl"),
            n => format!("discarded-{stamp}-{n}.jsonl"),
        };
        let path = dir.join(name);
        match opts.open(&path) {
            Ok(f) => return Ok((path, f)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(Error::io(format!("cannot create {}", path.display()), e).into()),
        }
    }
    Err(Failure::new(
        exit::IO,
        format!("cannot create a discard file in {}", dir.display()),
    ))
}
