//! `fieldsync conflicts` and `fieldsync resolve`: showing conflicts side by side and the
//! interactive prompt that settles them. The rules of a resolution live in
//! [`crate::merge::resolve`] and [`crate::client::store`]; this file only asks and shows.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use clap::{Args, ValueEnum};
use dialoguer::theme::ColorfulTheme;
use dialoguer::{Confirm, Input, Select};
use serde_json::Value;

use super::format::{conflict_json, parse_value, show_value};
use super::{interactive, print_json, Failure, Globals};
use crate::client::short_id::IdIndex;
use crate::client::store::Conflict;
use crate::exit;
use crate::merge::{Choice, Resolution};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Side {
    Mine,
    Theirs,
}

#[derive(Debug, Args)]
pub struct ResolveArgs {
    /// The record in conflict (id or unique prefix) [default: every conflict, one by one].
    pub id: Option<String>,
    /// Settle every conflict (with --keep), without prompting.
    #[arg(long, requires = "keep", conflicts_with = "id")]
    pub all: bool,
    /// Keep my side or the server's for every colliding field (and for delete-vs-edit:
    /// mine keeps what this device did, theirs what the server did).
    #[arg(long, value_enum)]
    pub keep: Option<Side>,
    /// Decide one field: FIELD=mine or FIELD=theirs (e.g. notes=mine, answers.crop=theirs).
    /// Fields not named keep --keep, or are required.
    #[arg(long = "field", value_name = "FIELD=mine|theirs", requires = "id")]
    pub fields: Vec<String>,
}

fn choice(side: Side) -> Choice {
    match side {
        Side::Mine => Choice::Mine,
        Side::Theirs => Choice::Theirs,
    }
}

/// The conflict's record by its short id (from `ids`) and full id, and what collides.
fn describe(c: &Conflict, ids: &IdIndex) -> String {
    let what = if c.they_deleted() {
        "deleted on the server, edited here".to_string()
    } else if c.i_deleted() && c.mine.version == Some(c.theirs.version) {
        // Unchanged on the server: the orphan rule kept it (visits refer to it).
        "deleted here; the server keeps it because visits refer to it".to_string()
    } else if c.i_deleted() {
        "deleted here, edited on the server".to_string()
    } else {
        format!("colliding fields: {}", c.field_names().join(", "))
    };
    format!(
        "{} {} ({})\n  {what} (server version {}, found {})",
        c.entity_type,
        ids.short_or_hex(&c.id),
        c.id,
        c.theirs.version,
        c.found_at
    )
}

/// The colliding fields side by side: base / mine / server.
fn table(c: &Conflict) -> String {
    let mut rows = vec![(
        "field".to_string(),
        "base".to_string(),
        "mine".to_string(),
        "server".to_string(),
    )];
    if c.is_delete_conflict() {
        rows.push((
            "record".into(),
            "present".into(),
            if c.i_deleted() { "deleted" } else { "edited" }.into(),
            if c.they_deleted() {
                "deleted"
            } else {
                "edited"
            }
            .into(),
        ));
    }
    let names: Vec<&str> = if c.is_delete_conflict() {
        let mut all: Vec<&str> = c
            .mine
            .fields
            .keys()
            .chain(c.theirs.fields.keys())
            .map(String::as_str)
            .filter(|k| c.my_value(k) != c.their_value(k))
            .collect();
        all.sort_unstable();
        all.dedup();
        all
    } else {
        c.field_names()
    };
    for f in names {
        rows.push((
            f.to_string(),
            if c.mine.base.is_some() {
                show_value(c.base_value(f))
            } else {
                "?".into()
            },
            show_value(c.my_value(f)),
            show_value(c.their_value(f)),
        ));
    }
    let w = |sel: fn(&(String, String, String, String)) -> &String| {
        rows.iter()
            .map(|r| sel(r).chars().count())
            .max()
            .unwrap_or(0)
            .min(40)
    };
    let (w0, w1, w2) = (w(|r| &r.0), w(|r| &r.1), w(|r| &r.2));
    rows.iter()
        .map(|(a, b, c, d)| format!("  {a:<w0$}  {b:<w1$}  {c:<w2$}  {d}"))
        .collect::<Vec<_>>()
        .join("\n")
}

pub fn run_conflicts(g: &Globals) -> Result<i32, Failure> {
    let store = g.open_existing_store()?;
    let conflicts = store.conflicts()?;
    let ids = store.id_index()?;
    if g.json {
        let v: Vec<Value> = conflicts
            .iter()
            .map(|c| {
                let mut v = conflict_json(c);
                v["short_id"] = Value::from(ids.short_or_hex(&c.id));
                v
            })
            .collect();
        print_json(&v)?;
        return Ok(exit::OK);
    }
    if conflicts.is_empty() {
        crate::errln!("no conflicts");
    }
    for c in &conflicts {
        crate::outln!("{}\n{}\n", describe(c, &ids), table(c))?;
    }
    Ok(exit::OK)
}

fn parse_field_flags(flags: &[String]) -> Result<BTreeMap<String, Choice>, Failure> {
    let mut out = BTreeMap::new();
    for f in flags {
        let (k, v) = f.split_once('=').ok_or_else(|| {
            Failure::new(
                exit::USAGE,
                format!("--field {f:?}: write FIELD=mine or FIELD=theirs"),
            )
        })?;
        let c = match v {
            "mine" => Choice::Mine,
            "theirs" => Choice::Theirs,
            _ => {
                return Err(Failure::new(
                    exit::USAGE,
                    format!("--field {f:?}: the side must be mine or theirs"),
                ))
            }
        };
        out.insert(k.to_string(), c);
    }
    Ok(out)
}

/// Turns flags into a resolution for one conflict, or explains what is missing.
fn from_flags(
    c: &Conflict,
    ids: &IdIndex,
    keep: Option<Side>,
    fields: &BTreeMap<String, Choice>,
) -> Result<Resolution, Failure> {
    if c.is_delete_conflict() {
        let side = keep.ok_or_else(|| {
            Failure::new(
                exit::USAGE,
                format!(
                    "{} {} is a delete against an edit: use --keep mine (keep what this device did) or --keep theirs",
                    c.entity_type,
                    ids.short_or_hex(&c.id)
                ),
            )
        })?;
        // "mine" keeps this device's action: its edit (restore) or its delete.
        let keep_record = (side == Side::Mine) == c.they_deleted();
        return Ok(if keep_record {
            Resolution::KeepRecord
        } else {
            Resolution::AcceptDelete
        });
    }
    for k in fields.keys() {
        if !c.field_names().contains(&k.as_str()) {
            return Err(Failure::new(
                exit::USAGE,
                format!(
                    "--field {k}: not a colliding field of {} {} (colliding: {})",
                    c.entity_type,
                    c.id,
                    c.field_names().join(", ")
                ),
            ));
        }
    }
    let default = match keep {
        Some(side) => choice(side),
        None => {
            let missing: Vec<&str> = c
                .field_names()
                .into_iter()
                .filter(|f| !fields.contains_key(*f))
                .collect();
            if !missing.is_empty() {
                return Err(Failure::new(
                    exit::USAGE,
                    format!(
                        "no decision for {}: add --field FIELD=mine|theirs for each, or --keep mine|theirs",
                        missing.join(", ")
                    ),
                ));
            }
            Choice::Theirs
        }
    };
    Ok(Resolution::Fields {
        choices: fields.clone(),
        default,
    })
}

pub fn run_resolve(g: &Globals, args: ResolveArgs) -> Result<i32, Failure> {
    let mut store = g.open_existing_store()?;
    let targets: Vec<Conflict> = match &args.id {
        Some(id) => vec![store.find_conflict(id)?],
        None => store.conflicts()?,
    };
    if targets.is_empty() {
        crate::errln!("no conflicts");
        return Ok(exit::OK);
    }
    let fields = parse_field_flags(&args.fields)?;
    let ids = store.id_index()?;
    let scripted = args.all || args.keep.is_some() || !fields.is_empty();
    if scripted {
        // Check every conflict's flags before writing any, so a script error changes nothing.
        let plans: Vec<(Conflict, Resolution)> = targets
            .into_iter()
            .map(|c| from_flags(&c, &ids, args.keep, &fields).map(|r| (c, r)))
            .collect::<Result<_, _>>()?;
        for (c, r) in &plans {
            store.resolve(c, r)?;
            if !g.json {
                crate::errln!("resolved {} {}", c.entity_type, c.id);
            }
        }
        if g.json {
            let ids: Vec<String> = plans.iter().map(|(c, _)| c.id.to_string()).collect();
            print_json(&serde_json::json!({ "resolved": ids }))?;
        }
        return Ok(exit::OK);
    }
    if !interactive() {
        return Err(Failure::new(
            exit::USAGE,
            "resolve needs a terminal to ask; in scripts use `fieldsync resolve --all --keep mine|theirs` or `fieldsync resolve ID --field FIELD=mine|theirs`",
        ));
    }
    let settled = Arc::new(AtomicUsize::new(0));
    let total = targets.len();
    exit_cleanly_on_ctrl_c(settled.clone(), total);
    for (i, c) in targets.into_iter().enumerate() {
        crate::errln!(
            "\nConflict {} of {total}: {}\n{}\n",
            i + 1,
            describe(&c, &ids),
            table(&c)
        );
        let visits = match c.entity_type {
            crate::model::EntityType::Household if c.i_deleted() => store.live_visits(c.id)?,
            _ => 0,
        };
        match prompt(&c, visits) {
            Ok(Some(r)) => {
                let queued = store.resolve(&c, &r)?;
                settled.fetch_add(1, Ordering::SeqCst);
                match queued {
                    true => crate::errln!(
                        "Resolved. It goes to the server with the next `fieldsync sync`."
                    ),
                    false => {
                        crate::errln!("Resolved: the record is the server's copy, nothing to send.")
                    }
                }
            }
            Ok(None) => {
                let _ = console::Term::stderr().show_cursor();
                crate::errln!("{}", cancelled(settled.load(Ordering::SeqCst), total));
                return Ok(exit::CANCELLED);
            }
            Err(e) => {
                let _ = console::Term::stderr().show_cursor();
                let dialoguer::Error::IO(io) = &e;
                if io.kind() != std::io::ErrorKind::Interrupted {
                    crate::errln!("The prompt failed: {e}.");
                }
                crate::errln!("{}", cancelled(settled.load(Ordering::SeqCst), total));
                return Ok(exit::CANCELLED);
            }
        }
    }
    Ok(exit::OK)
}

/// What leaving the prompt early changed: the conflicts settled before it were written.
fn cancelled(settled: usize, total: usize) -> String {
    match settled {
        0 => "Cancelled: nothing was changed.".into(),
        n => format!(
            "Cancelled: {n} of {total} conflicts {} settled and written (sent with the next `fieldsync sync`); the rest are unchanged.",
            if n == 1 { "was" } else { "were" },
        ),
    }
}

/// Ctrl-C during a prompt: show the cursor again, say what was written (the `settled`
/// conflicts before this one), exit 130. Nothing is written before the officer confirms, and
/// a write in progress is one SQLite transaction, so leaving at any moment is safe.
fn exit_cleanly_on_ctrl_c(settled: Arc<AtomicUsize>, total: usize) {
    let Ok(mut signals) = signal_hook::iterator::Signals::new([signal_hook::consts::SIGINT]) else {
        return;
    };
    std::thread::spawn(move || {
        if signals.forever().next().is_some() {
            let _ = console::Term::stderr().show_cursor();
            crate::errln!("\n{}", cancelled(settled.load(Ordering::SeqCst), total));
            std::process::exit(exit::CANCELLED);
        }
    });
}

type Asked<T> = Result<Option<T>, dialoguer::Error>;

/// Asks how to settle one conflict. `None`: the officer backed out (Esc, q or Ctrl-C).
/// `visits`: live visits on this laptop to the household this device deleted.
fn prompt(c: &Conflict, visits: i64) -> Asked<Resolution> {
    let theme = ColorfulTheme::default();
    let asked = if c.is_delete_conflict() {
        ask_delete(&theme, c, visits)?
    } else {
        ask_fields(&theme, c)?
    };
    let Some(resolution) = asked else {
        return Ok(None);
    };
    crate::errln!("{}", preview(c, &resolution));
    let ok = Confirm::with_theme(&theme)
        .with_prompt("Write this resolution?")
        .default(true)
        .interact_opt()?;
    Ok(if ok == Some(true) {
        Some(resolution)
    } else {
        None
    })
}

/// The record as the resolution would write it, for the officer to check before confirming.
fn preview(c: &Conflict, resolution: &Resolution) -> String {
    let settled = match crate::merge::resolve(&c.sides(), resolution) {
        Ok(s) => s,
        Err(e) => return format!("This resolution cannot be written: {e}"),
    };
    if settled.deleted {
        return format!("The {} will be deleted.", c.entity_type);
    }
    let mut out = format!("The {} will be:", c.entity_type);
    for (k, v) in &settled.fields {
        out.push_str(&format!("\n  {k:<14} {}", show_value(Some(v))));
    }
    out
}

/// Delete against edit: keep the record or let it be deleted. A household with live visits
/// cannot be deleted (the orphan rule): then restoring it is the only choice offered.
fn ask_delete(theme: &ColorfulTheme, c: &Conflict, visits: i64) -> Asked<Resolution> {
    if visits > 0 {
        crate::errln!(
            "This household has {visits} visit(s) on this laptop (other officers' too): a household is never deleted under live visits. Restore it, or leave with Esc and delete its visits first."
        );
        let restore = ["Restore the record (with the server's edits)"];
        let picked = Select::with_theme(theme)
            .with_prompt("How do you want to settle it?")
            .items(&restore)
            .default(0)
            .interact_opt()?;
        return Ok(picked.map(|_| Resolution::KeepRecord));
    }
    // The labels the README documents: "Restore the record" or "Accept the delete".
    let items: [&str; 2] = if c.they_deleted() {
        [
            "Restore the record (with my edits)",
            "Accept the delete (the server's)",
        ]
    } else {
        [
            "Accept the delete (mine)",
            "Restore the record (with the server's edits)",
        ]
    };
    let Some(pick) = Select::with_theme(theme)
        .with_prompt("How do you want to settle it?")
        .items(&items)
        .default(0)
        .interact_opt()?
    else {
        return Ok(None);
    };
    let keep_record = (pick == 0) == c.they_deleted();
    Ok(Some(if keep_record {
        Resolution::KeepRecord
    } else {
        Resolution::AcceptDelete
    }))
}

/// Colliding fields: mine, theirs, field by field, or new values.
fn ask_fields(theme: &ColorfulTheme, c: &Conflict) -> Asked<Resolution> {
    let items = [
        "Keep mine",
        "Take the server's",
        "Choose field by field",
        "Type new values",
    ];
    let Some(pick) = Select::with_theme(theme)
        .with_prompt("How do you want to settle it? (my edits to other fields are kept)")
        .items(&items)
        .default(0)
        .interact_opt()?
    else {
        return Ok(None);
    };
    let mut choices = BTreeMap::new();
    for f in c.field_names() {
        let choice = match pick {
            0 | 1 => break,
            2 => ask_field(theme, c, f)?,
            _ => ask_value(theme, c, f)?.map(Choice::Value),
        };
        let Some(choice) = choice else {
            return Ok(None);
        };
        choices.insert(f.to_string(), choice);
    }
    let default = if pick == 1 {
        Choice::Theirs
    } else {
        Choice::Mine
    };
    Ok(Some(Resolution::Fields { choices, default }))
}

/// One colliding field: mine, the server's, or a new value.
fn ask_field(theme: &ColorfulTheme, c: &Conflict, f: &str) -> Asked<Choice> {
    let items = [
        format!("mine:   {}", show_value(c.my_value(f))),
        format!("server: {}", show_value(c.their_value(f))),
        "type a new value".to_string(),
    ];
    let Some(p) = Select::with_theme(theme)
        .with_prompt(f.to_string())
        .items(&items)
        .default(0)
        .interact_opt()?
    else {
        return Ok(None);
    };
    Ok(match p {
        0 => Some(Choice::Mine),
        1 => Some(Choice::Theirs),
        _ => ask_value(theme, c, f)?.map(Choice::Value),
    })
}

/// Asks for a new value of one field (empty clears it), re-asking until it is valid.
fn ask_value(theme: &ColorfulTheme, c: &Conflict, f: &str) -> Asked<Value> {
    let f_owned = f.to_string();
    let text: String = Input::with_theme(theme)
        .with_prompt(format!("new value for {f} (empty clears it)"))
        .with_initial_text(match c.my_value(f) {
            Some(Value::String(s)) => s.clone(),
            Some(v) => show_value(Some(v)),
            None => String::new(),
        })
        .allow_empty(true)
        .validate_with(move |s: &String| {
            parse_value(&f_owned, s)
                .map(|_| ())
                .map_err(|e| e.to_string())
        })
        .interact_text()?;
    Ok(parse_value(f, &text).ok())
}
