//! `household import` and `visit import`: opens the input, asks `client::import` to parse it
//! and the store to record what is new, and prints `imported 3, skipped 5 already imported`.
//! The parsing rules and the fingerprint live in `client::import`; this file must not decide
//! them.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use clap::Args;
use serde_json::json;

use super::{print_json, Failure, Globals};
use crate::client::import::{self, Format, Options};
use crate::client::store::Store;
use crate::exit;
use crate::model::{EntityType, FieldMap};

/// The file and how to read it.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// A CSV file with a header, or JSON lines (`.jsonl`; `-` reads stdin).
    pub file: PathBuf,
    /// Import every row as a new record, even rows this device imported before.
    #[arg(long)]
    pub again: bool,
    /// JSON lines: accept a number where a string belongs when it reads back exactly as
    /// written (`42`, `2.5`; never `1e3` or a number too long to keep exactly).
    #[arg(long)]
    pub coerce: bool,
}

/// Imports `args.file` as `entity` records; `defaults` fill the fields a row leaves out.
pub fn run(
    g: &Globals,
    store: &mut Store,
    entity: EntityType,
    args: &ImportArgs,
    defaults: FieldMap,
) -> Result<i32, Failure> {
    let name = args.file.display().to_string();
    let mut input = open(&args.file)?;
    let first = input
        .fill_buf()
        .map_err(|e| Failure::new(exit::IO, format!("cannot read {name}: {e}")))?
        .iter()
        .copied()
        .find(|b| !b.is_ascii_whitespace());
    if first.is_none() {
        return Err(Failure::new(
            exit::DATA,
            format!("{name} is empty: nothing to import"),
        ));
    }
    let format = Format::detect(&name, first);
    let options = Options {
        coerce: args.coerce,
    };
    let mut rows = import::parse(entity, format, &mut input, &defaults, options)?;
    super::form_check::check_import_rows(store, entity, &mut rows)?;
    let done = store.import(entity, rows, args.again)?;
    if g.json {
        print_json(&json!({ "imported": done.imported, "skipped": done.skipped }))?;
    } else if done.imported > 0 {
        crate::errln!(
            "imported {}, skipped {} already imported; the new {entity}s sync with the next `fieldsync sync`",
            done.imported, done.skipped
        );
    } else {
        crate::errln!(
            "imported 0, skipped {} already imported: every row was imported on this device before (--again imports them as new {entity}s)",
            done.skipped
        );
    }
    Ok(exit::OK)
}

fn open(file: &Path) -> Result<Box<dyn BufRead>, Failure> {
    if file.as_os_str() == "-" {
        return Ok(Box::new(BufReader::new(std::io::stdin().lock())));
    }
    let f = File::open(file).map_err(|e| {
        let code = if e.kind() == std::io::ErrorKind::NotFound {
            exit::NO_INPUT
        } else {
            exit::IO
        };
        Failure::new(code, format!("cannot open {}: {e}", file.display()))
    })?;
    Ok(Box::new(BufReader::with_capacity(1 << 16, f)))
}
