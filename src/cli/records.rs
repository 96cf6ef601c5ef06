//! `fieldsync household …` and `fieldsync visit …`: turns flags into fields, calls the store,
//! prints. Validation and the write-with-queue-entry rule live in the model and the store;
//! this file must not decide them.

use clap::{Args, Subcommand};
use serde_json::{json, Value};
use uuid::Uuid;

use super::format::{field_history, indented, one_line, record_json, FieldHistory};
use super::import::{self, ImportArgs};
use super::{print_json, Failure, Globals};
use crate::client::short_id::IdIndex;
use crate::client::store::{ListFilter, LocalRecord, Store, SyncState};
use crate::client::Error;
use crate::exit;
use crate::model::{self, EntityType, FieldMap, Gps, ANSWER_PREFIX};

#[derive(Debug, Subcommand)]
pub enum HouseholdCommand {
    /// Record a new household; prints its id.
    Add(HouseholdFields),
    /// Change a household's fields (an empty value clears an optional field).
    Edit {
        /// The household: the short id `household list` shows, or its full id.
        id: String,
        #[command(flatten)]
        fields: HouseholdEdit,
    },
    /// Delete a household (it must have no visits left).
    Delete {
        /// The household: the short id `household list` shows, or its full id.
        id: String,
    },
    /// List households.
    List(ListArgs),
    /// Show one household.
    Show {
        /// The household: the short id `household list` shows, or its full id.
        id: String,
    },
    /// Record many households from a CSV (with a header) or JSON-lines file; `-` reads stdin.
    /// Rows imported on this device before are skipped (see --again).
    Import(ImportArgs),
}

#[derive(Debug, Args)]
pub struct HouseholdFields {
    /// The household's name (required, up to 200 characters).
    #[arg(long)]
    pub name: String,
    /// The village or neighbourhood, up to 200 characters.
    #[arg(long)]
    pub village: Option<String>,
    /// Position as LAT,LON in decimal degrees, e.g. -1.2921,36.8219.
    #[arg(long, value_name = "LAT,LON", allow_hyphen_values = true)]
    pub gps: Option<String>,
    /// Free text, up to 4000 characters.
    #[arg(long)]
    pub notes: Option<String>,
}

#[derive(Debug, Args)]
pub struct HouseholdEdit {
    /// A new name (up to 200 characters).
    #[arg(long)]
    pub name: Option<String>,
    /// A new village; "" clears it.
    #[arg(long)]
    pub village: Option<String>,
    /// A new position as LAT,LON; "" clears it.
    #[arg(long, value_name = "LAT,LON", allow_hyphen_values = true)]
    pub gps: Option<String>,
    /// New notes (line breaks allowed); "" clears them.
    #[arg(long)]
    pub notes: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum VisitCommand {
    /// Record a visit to a household; prints its id. On a terminal, without --answer, walks
    /// through the team's form question by question (Esc steps back, Ctrl-C discards).
    Add {
        /// The household: the short id `household list` shows, or its full id.
        #[arg(long)]
        household: String,
        /// Free text, up to 4000 characters (line breaks allowed).
        #[arg(long)]
        notes: Option<String>,
        /// Position as LAT,LON in decimal degrees, e.g. -1.2921,36.8219.
        #[arg(long, value_name = "LAT,LON", allow_hyphen_values = true)]
        gps: Option<String>,
        /// An answer as KEY=VALUE; repeat for more.
        #[arg(long = "answer", value_name = "KEY=VALUE")]
        answers: Vec<String>,
        /// When the visit happened: 2026-11-25T09:30 in this laptop's zone, or with an offset [default: now].
        #[arg(long, value_name = "TIME")]
        at: Option<String>,
    },
    /// Change a visit (an empty value clears notes or gps). On a terminal, without flags,
    /// walks through the team's form with the visit's answers as defaults.
    Edit {
        /// The visit: the short id `visit list` shows, or its full id.
        id: String,
        /// New notes (line breaks allowed); "" clears them.
        #[arg(long)]
        notes: Option<String>,
        /// A new position as LAT,LON; "" clears it.
        #[arg(long, value_name = "LAT,LON", allow_hyphen_values = true)]
        gps: Option<String>,
        /// Set an answer as KEY=VALUE; repeat for more.
        #[arg(long = "answer", value_name = "KEY=VALUE")]
        answers: Vec<String>,
        /// Remove an answer; repeat for more.
        #[arg(long = "unset-answer", value_name = "KEY")]
        unset: Vec<String>,
        /// A new time for the visit: 2026-11-25T09:30 in this laptop's zone, or with an offset.
        #[arg(long, value_name = "TIME")]
        at: Option<String>,
    },
    /// Delete a visit.
    Delete {
        /// The visit: the short id `visit list` shows, or its full id.
        id: String,
    },
    /// List visits.
    List {
        /// Only visits to this household (its short id or full id).
        #[arg(long)]
        household: Option<String>,
        #[command(flatten)]
        list: ListArgs,
    },
    /// Show one visit.
    Show {
        /// The visit: the short id `visit list` shows, or its full id.
        id: String,
    },
    /// Record many visits from a CSV (with a header) or JSON-lines file; `-` reads stdin.
    /// Rows imported on this device before are skipped (see --again).
    Import(ImportArgs),
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only records in this sync state: pending, syncing, synced or conflict.
    #[arg(long, value_parser = parse_state)]
    pub state: Option<SyncState>,
    /// Include deleted records (tombstones).
    #[arg(long)]
    pub deleted: bool,
}

fn parse_state(s: &str) -> Result<SyncState, String> {
    s.parse()
}

fn text_field(f: &mut FieldMap, key: &str, v: Option<String>, clear_on_empty: bool) {
    if let Some(v) = v {
        if v.is_empty() && clear_on_empty {
            f.insert(key.into(), Value::Null);
        } else {
            f.insert(key.into(), Value::String(v));
        }
    }
}

fn gps_field(f: &mut FieldMap, v: Option<String>) -> Result<(), Error> {
    if let Some(v) = v {
        if v.is_empty() {
            f.insert("gps".into(), Value::Null);
        } else {
            f.insert("gps".into(), v.parse::<Gps>()?.to_value());
        }
    }
    Ok(())
}

fn answers_field(f: &mut FieldMap, answers: &[String], unset: &[String]) -> Result<(), Error> {
    for a in answers {
        let (k, v) = model::parse_answer(a)?;
        f.insert(format!("{ANSWER_PREFIX}{k}"), Value::String(v));
    }
    for k in unset {
        model::validate_answer_key(k)?;
        f.insert(format!("{ANSWER_PREFIX}{k}"), Value::Null);
    }
    Ok(())
}

fn visited_at(at: Option<String>) -> Result<Option<String>, Error> {
    at.map(|t| super::times::parse_at_here(&t))
        .transpose()
        .map_err(Error::from)
}

/// The officer visits are recorded as: from the config, and the database must agree.
fn officer(g: &Globals, store: &Store) -> Result<String, Error> {
    let config = g.load_config()?;
    store.claim_officer(&config.officer)?;
    Ok(config.officer)
}

/// Opens the store: commands that record something may create it, every other command needs
/// it to exist already (a typo in `--db` must not look like lost data).
fn open_for(g: &Globals, records_new: bool) -> Result<Store, Failure> {
    if records_new {
        Ok(g.open_store()?)
    } else {
        g.open_existing_store()
    }
}

pub fn run_household(g: &Globals, cmd: HouseholdCommand) -> Result<i32, Failure> {
    let entity = EntityType::Household;
    let records_new = matches!(cmd, HouseholdCommand::Add(_) | HouseholdCommand::Import(_));
    let mut store = open_for(g, records_new)?;
    match cmd {
        HouseholdCommand::Add(h) => {
            let mut f = FieldMap::new();
            text_field(&mut f, "name", Some(h.name), false);
            text_field(&mut f, "village", h.village, true);
            text_field(&mut f, "notes", h.notes, true);
            gps_field(&mut f, h.gps)?;
            let id = store.add(entity, f)?;
            print_id(g, id)
        }
        HouseholdCommand::Edit { id, fields: h } => {
            let id = store.resolve_id(entity, &id)?;
            let mut f = FieldMap::new();
            text_field(&mut f, "name", h.name, false);
            text_field(&mut f, "village", h.village, true);
            text_field(&mut f, "notes", h.notes, true);
            gps_field(&mut f, h.gps)?;
            edit(g, &mut store, entity, id, f)
        }
        HouseholdCommand::Delete { id } => delete(g, &mut store, entity, &id),
        HouseholdCommand::List(l) => list(g, &store, entity, l, None),
        HouseholdCommand::Show { id } => show(g, &store, entity, &id),
        HouseholdCommand::Import(a) => import::run(g, &mut store, entity, &a, FieldMap::new()),
    }
}

pub fn run_visit(g: &Globals, cmd: VisitCommand) -> Result<i32, Failure> {
    let entity = EntityType::Visit;
    let records_new = matches!(cmd, VisitCommand::Add { .. } | VisitCommand::Import(_));
    let mut store = open_for(g, records_new)?;
    match cmd {
        VisitCommand::Add {
            household,
            notes,
            gps,
            answers,
            at,
        } => {
            let household = store.resolve_id(EntityType::Household, &household)?;
            let mut f = FieldMap::new();
            f.insert("household_id".into(), json!(household.to_string()));
            f.insert(
                "visited_at".into(),
                json!(visited_at(at)?.unwrap_or_else(model::now_timestamp)),
            );
            text_field(&mut f, "notes", notes, true);
            gps_field(&mut f, gps)?;
            answers_field(&mut f, &answers, &[])?;
            f.insert("officer_id".into(), json!(officer(g, &store)?));
            if answers.is_empty() && !super::guided::fill_new_visit(&store, &mut f)? {
                return Ok(exit::CANCELLED);
            }
            super::form_check::check_new_visit(&store, &mut f)?;
            let id = store.add(entity, f)?;
            print_id(g, id)
        }
        VisitCommand::Edit {
            id,
            notes,
            gps,
            answers,
            unset,
            at,
        } => {
            let id = store.resolve_id(entity, &id)?;
            let mut f = FieldMap::new();
            text_field(&mut f, "notes", notes, true);
            gps_field(&mut f, gps)?;
            answers_field(&mut f, &answers, &unset)?;
            if let Some(t) = visited_at(at)? {
                f.insert("visited_at".into(), json!(t));
            }
            if f.is_empty() {
                match super::guided::fill_edit(&mut store, id, &mut f)? {
                    Some(false) => return Ok(exit::CANCELLED),
                    Some(true) if f.is_empty() => {
                        crate::errln!("visit {id}: nothing changed");
                        return Ok(exit::OK);
                    }
                    _ => {}
                }
            }
            super::form_check::check_edited_visit(&store, id, &mut f)?;
            edit(g, &mut store, entity, id, f)
        }
        VisitCommand::Delete { id } => delete(g, &mut store, entity, &id),
        VisitCommand::List { household, list: l } => {
            let h = household
                .map(|h| store.resolve_id(EntityType::Household, &h))
                .transpose()?;
            list(g, &store, entity, l, h)
        }
        VisitCommand::Show { id } => show(g, &store, entity, &id),
        VisitCommand::Import(a) => {
            let mut defaults = FieldMap::new();
            defaults.insert("officer_id".into(), json!(officer(g, &store)?));
            defaults.insert("visited_at".into(), json!(model::now_timestamp()));
            import::run(g, &mut store, entity, &a, defaults)
        }
    }
}

fn print_id(g: &Globals, id: Uuid) -> Result<i32, Failure> {
    if g.json {
        print_json(&json!({ "id": id.to_string() }))?;
    } else {
        crate::outln!("{id}")?;
    }
    Ok(exit::OK)
}

fn edit(
    g: &Globals,
    store: &mut Store,
    entity: EntityType,
    id: Uuid,
    f: FieldMap,
) -> Result<i32, Failure> {
    if f.is_empty() {
        return Err(Failure::new(
            exit::USAGE,
            format!("nothing to change: give at least one field, e.g. `fieldsync {entity} edit {id} --notes TEXT`"),
        ));
    }
    let changed = store.edit(entity, id, f)?;
    if g.json {
        print_json(
            &json!({ "id": id.to_string(), "changed": changed.keys().collect::<Vec<_>>() }),
        )?;
    } else if changed.is_empty() {
        crate::errln!("{entity} {id}: nothing changed");
    }
    Ok(exit::OK)
}

fn delete(g: &Globals, store: &mut Store, entity: EntityType, id: &str) -> Result<i32, Failure> {
    let id = store.resolve_id(entity, id)?;
    store.delete(entity, id)?;
    if g.json {
        print_json(&json!({ "id": id.to_string(), "deleted": true }))?;
    }
    Ok(exit::OK)
}

fn list(
    g: &Globals,
    store: &Store,
    entity: EntityType,
    l: ListArgs,
    household: Option<Uuid>,
) -> Result<i32, Failure> {
    let recs = store.list(
        entity,
        &ListFilter {
            state: l.state,
            household,
            deleted: l.deleted,
        },
    )?;
    let ids = store.id_index()?;
    if g.json {
        let out: Vec<Value> = recs.iter().map(|r| with_short_id(&ids, r)).collect();
        print_json(&out)?;
        return Ok(exit::OK);
    }
    let width = recs
        .iter()
        .filter_map(|r| ids.short(&r.id).map(str::len))
        .max()
        .unwrap_or(0);
    for r in &recs {
        let f = &r.fields;
        let s = |k: &str| one_line(f.get(k).and_then(Value::as_str).unwrap_or(""));
        let what = match entity {
            EntityType::Household => format!("{}  {}", s("name"), s("village")),
            EntityType::Visit => {
                let household = Uuid::parse_str(&s("household_id"))
                    .map(|h| ids.short_or_hex(&h))
                    .unwrap_or_default();
                let at = super::times::show_local(&s("visited_at"));
                format!("{at}  household {household}  {}", s("notes"))
            }
        };
        let gone = if r.is_deleted() { "  (deleted)" } else { "" };
        let short = ids.short_or_hex(&r.id);
        crate::outln!(
            "{short:<width$}  {:<8}  {}{gone}",
            r.sync_state,
            what.trim_end()
        )?;
    }
    if recs.is_empty() {
        crate::errln!("no {entity}s");
    }
    Ok(exit::OK)
}

fn show(g: &Globals, store: &Store, entity: EntityType, id: &str) -> Result<i32, Failure> {
    let id = store.resolve_id(entity, id)?;
    let rec = store
        .get(entity, id)?
        .ok_or_else(|| Failure::new(exit::NO_INPUT, format!("no {entity} {id}")))?;
    let v = with_short_id(&store.id_index()?, &rec);
    if g.json {
        print_json(&v)?;
        return Ok(exit::OK);
    }
    if let Value::Object(map) = v {
        for (k, v) in map {
            let shown = match v {
                Value::Null => continue,
                // Shown per field in the "last changed" section below.
                _ if k == "field_stamps" => continue,
                Value::String(s) if k.ends_with("_at") => super::times::show_local(&s),
                Value::String(s) => indented(&s, 14),
                Value::Object(m) if m.is_empty() => continue,
                Value::Object(m) => m
                    .iter()
                    .map(|(k, v)| format!("{k}={}", one_line(v.as_str().unwrap_or_default())))
                    .collect::<Vec<_>>()
                    .join(", "),
                other => other.to_string(),
            };
            crate::outln!("{k:<13} {shown}")?;
        }
    }
    show_history(&rec)
}

/// A record's JSON with its short id.
fn with_short_id(ids: &IdIndex, rec: &LocalRecord) -> Value {
    let mut v = record_json(rec);
    v["short_id"] = json!(ids.short_or_hex(&rec.id));
    v
}

/// `show`'s last section: who last changed each field and when (server time).
fn show_history(rec: &crate::client::store::LocalRecord) -> Result<i32, Failure> {
    crate::outln!("last changed")?;
    for (field, history) in field_history(rec) {
        match history {
            FieldHistory::Stamped { by, at } => {
                let at = super::times::show_local(&at);
                crate::outln!("  {field:<24} {by} at {at}")?
            }
            FieldHistory::Local => crate::outln!("  {field:<24} on this laptop, not synced yet")?,
            FieldHistory::Unknown => crate::outln!("  {field:<24} (no server stamp)")?,
        }
    }
    Ok(exit::OK)
}
