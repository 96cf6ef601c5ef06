//! Reading households and visits from spreadsheets (CSV with a header) or JSON lines, for
//! `household import` and `visit import`, and each row's import fingerprint. Parsing only:
//! the store validates, skips rows it has imported before, and writes.
//!
//! Columns (CSV) or keys (JSON lines):
//! - households: `name`, `village`, `notes`, and `gps` or `gps_lat` + `gps_lon`.
//! - visits: `household_id`, `visited_at` (default: now), `notes`, `gps` or `gps_lat` +
//!   `gps_lon`; every other column is an answer (`crop` or `answers.crop`). JSON lines may
//!   also carry `"answers": {"crop": "maize"}`.
//!
//! CSV: header names are trimmed and matched case-insensitively (an answer key keeps its
//! case), an empty cell is an empty field, `gps` is `LAT,LON`. Header problems name line 1.
//! JSON lines are typed strictly: text fields and answer values are strings, `gps` is
//! `[LAT, LON]` and `gps_lat`/`gps_lon` are numbers, `null` is an empty field; a key given
//! twice is an error. A number where a string belongs is an error unless `coerce` is set and
//! the number reads back exactly as written (see [`json::exact_number_text`]). An empty file
//! is an error. Every error names its line and, where there is one, its field.
//!
//! Fingerprints: a row's fingerprint is a SHA-256 of its entity and the fields it gives
//! (before defaults such as the visit time fill in), and of how many identical rows came
//! before it in the same file. Importing the same rows again therefore matches them, and a
//! file that really holds a row twice imports it twice, once.
//!
//! This module must not write anything.

mod json;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::error::{Error, Result};
use crate::model::{validate_answer_key, EntityType, FieldMap, Gps, ANSWER_PREFIX};
use json::Json;

/// The input's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    JsonLines,
}

impl Format {
    /// Guesses from a file name, or from the first byte for stdin (`{` means JSON lines).
    pub fn detect(name: &str, first_byte: Option<u8>) -> Format {
        let lower = name.to_ascii_lowercase();
        if lower.ends_with(".jsonl") || lower.ends_with(".ndjson") || lower.ends_with(".json") {
            Format::JsonLines
        } else if lower.ends_with(".csv") {
            Format::Csv
        } else if first_byte == Some(b'{') {
            Format::JsonLines
        } else {
            Format::Csv
        }
    }
}

/// How strictly JSON-lines values are read.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Accept a number where a string belongs when it reads back exactly as written.
    pub coerce: bool,
}

/// One row to import: its source line, its fields (defaults filled in) and its fingerprint.
#[derive(Debug, Clone)]
pub struct Row {
    pub line: usize,
    pub fields: FieldMap,
    /// Hex SHA-256 (see the module docs).
    pub fingerprint: String,
}

/// One cell as read, before its field decides what it must hold.
#[derive(Debug)]
enum Cell {
    /// A CSV cell: text that a number field may parse.
    Csv(String),
    Json(Json),
}

type RawRow = (usize, Vec<(String, Cell)>);

/// Parses every row into fields with its line number and fingerprint. `defaults` fill the
/// fields a row leaves out (the officer, the visit time); they are not part of the
/// fingerprint.
pub fn parse(
    entity: EntityType,
    format: Format,
    input: impl Read,
    defaults: &FieldMap,
    options: Options,
) -> Result<Vec<Row>> {
    let rows = match format {
        Format::Csv => parse_csv(entity, input)?,
        Format::JsonLines => parse_jsonl(input)?,
    };
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut out = Vec::with_capacity(rows.len());
    for (line, cells) in rows {
        let given = to_fields(entity, cells, defaults, options)
            .map_err(|m| Error::BadInput(format!("line {line}: {m}")))?;
        let content = content_digest(entity, &given);
        let copy = seen.entry(content.clone()).or_insert(0);
        *copy += 1;
        let fingerprint = hex::encode(Sha256::digest(format!("{content}\n{copy}")));
        let mut fields = defaults.clone();
        fields.extend(given);
        out.push(Row {
            line,
            fields,
            fingerprint,
        });
    }
    Ok(out)
}

/// A digest of what a row gives (keys are sorted, so column order does not matter).
fn content_digest(entity: EntityType, given: &FieldMap) -> String {
    let body = serde_json::to_string(given).unwrap_or_default();
    hex::encode(Sha256::digest(format!("{entity}\n{body}")))
}

fn parse_csv(entity: EntityType, input: impl Read) -> Result<Vec<RawRow>> {
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(false)
        .trim(csv::Trim::Headers)
        .from_reader(input);
    let header = rdr
        .headers()
        .map_err(|e| Error::BadInput(format!("line 1: cannot read the CSV header: {e}")))?
        .clone();
    if header.is_empty()
        || (header.len() == 1 && header[0].trim_start_matches('\u{feff}').is_empty())
    {
        return Err(Error::BadInput(
            "line 1: the file is empty (a CSV import starts with a header line naming its columns)"
                .into(),
        ));
    }
    let names =
        csv_columns(entity, &header).map_err(|m| Error::BadInput(format!("line 1: {m}")))?;
    let mut out = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| {
            let line = e.position().map_or(0, |p| p.line());
            Error::BadInput(format!("line {line}: {e}"))
        })?;
        let line = rec.position().map_or(0, |p| p.line() as usize);
        let cells = names
            .iter()
            .zip(rec.iter())
            .filter(|(_, v)| !v.is_empty())
            .map(|(h, v)| (h.clone(), Cell::Csv(v.to_string())))
            .collect();
        out.push((line, cells));
    }
    if out.is_empty() {
        return Err(Error::BadInput(
            "line 1: the file has a header but no rows: nothing to import".into(),
        ));
    }
    Ok(out)
}

/// The header's column names as fields take them (trimmed; known names and the `answers.`
/// prefix lower-cased), checked once for the whole file.
fn csv_columns(
    entity: EntityType,
    header: &csv::StringRecord,
) -> std::result::Result<Vec<String>, String> {
    let mut names: Vec<String> = Vec::with_capacity(header.len());
    for (i, h) in header.iter().enumerate() {
        let h = if i == 0 {
            h.trim_start_matches('\u{feff}').trim()
        } else {
            h
        };
        if h.is_empty() {
            return Err(format!("column {} has no name", i + 1));
        }
        let lower = h.to_ascii_lowercase();
        let name = if is_column(entity, &lower) {
            lower
        } else if let Some(key) = lower
            .strip_prefix(ANSWER_PREFIX)
            .map(|_| &h[ANSWER_PREFIX.len()..])
        {
            format!("{ANSWER_PREFIX}{key}")
        } else {
            h.to_string()
        };
        if name == "answers" {
            return Err("an answers column cannot hold several answers: give each answer its own column (crop or answers.crop)".into());
        }
        if names.iter().any(|n| n.eq_ignore_ascii_case(&name)) {
            return Err(format!("column {h:?} appears twice"));
        }
        names.push(name);
    }
    let cells: Vec<_> = names
        .iter()
        .map(|n| (n.clone(), Cell::Csv(String::new())))
        .collect();
    check_keys(entity, &cells)?;
    Ok(names)
}

/// A known (non-answer) column of `entity`.
fn is_column(entity: EntityType, lower: &str) -> bool {
    match lower {
        "name" | "village" => entity == EntityType::Household,
        "household_id" | "visited_at" | "officer_id" => entity == EntityType::Visit,
        "notes" | "gps" | "gps_lat" | "gps_lon" | "answers" => true,
        _ => false,
    }
}

/// Which keys a row may hold together: no unknown household column, no answer with a bad
/// key, `gps` alone or `gps_lat` with `gps_lon`.
fn check_keys(entity: EntityType, cells: &[(String, Cell)]) -> std::result::Result<(), String> {
    let has = |k: &str| cells.iter().any(|(n, _)| n == k);
    for (k, _) in cells {
        if is_column(entity, k) {
            continue;
        }
        if entity == EntityType::Household {
            return Err(format!(
                "{k}: unknown column (households have name, village, notes, gps or gps_lat/gps_lon)"
            ));
        }
        let key = k.strip_prefix(ANSWER_PREFIX).unwrap_or(k);
        validate_answer_key(key).map_err(|e| format!("{k}: {}", e.message))?;
    }
    if has("gps") && (has("gps_lat") || has("gps_lon")) {
        return Err("give gps or gps_lat/gps_lon, not both".into());
    }
    if has("gps_lat") != has("gps_lon") {
        return Err("gps_lat and gps_lon must be given together".into());
    }
    Ok(())
}

fn parse_jsonl(input: impl Read) -> Result<Vec<RawRow>> {
    let mut out = Vec::new();
    for (i, line) in BufReader::new(input).lines().enumerate() {
        let n = i + 1;
        let line = line.map_err(|e| Error::BadInput(format!("line {n}: cannot read: {e}")))?;
        if line.trim().is_empty() {
            continue;
        }
        let members =
            json::parse_object(&line).map_err(|m| Error::BadInput(format!("line {n}: {m}")))?;
        let cells = members
            .into_iter()
            .map(|(k, v)| (k, Cell::Json(v)))
            .collect();
        out.push((n, cells));
    }
    if out.is_empty() {
        return Err(Error::BadInput(
            "the file is empty: nothing to import".into(),
        ));
    }
    Ok(out)
}

/// The fields one row gives (without defaults).
fn to_fields(
    entity: EntityType,
    cells: Vec<(String, Cell)>,
    defaults: &FieldMap,
    options: Options,
) -> std::result::Result<FieldMap, String> {
    check_keys(entity, &cells)?;
    let mut f = FieldMap::new();
    let (mut lat, mut lon) = (None, None);
    for (k, cell) in cells {
        match k.as_str() {
            "gps" => {
                if let Some(gps) = gps(cell)? {
                    f.insert("gps".into(), gps.to_value());
                }
            }
            "gps_lat" => lat = number(&k, cell)?,
            "gps_lon" => lon = number(&k, cell)?,
            "answers" => answers(cell, options, &mut f)?,
            "officer_id" => {
                let v = string(&k, cell, options)?;
                if let (Some(v), Some(d)) = (&v, defaults.get("officer_id")) {
                    if d.as_str() != Some(v.as_str()) {
                        return Err(format!(
                            "officer_id {v} is not this device's officer; visits are recorded as the configured officer"
                        ));
                    }
                }
                insert_text(&mut f, k, v);
            }
            _ if is_column(entity, &k) => {
                let v = string(&k, cell, options)?;
                insert_text(&mut f, k, v);
            }
            _ => {
                let path = format!(
                    "{ANSWER_PREFIX}{}",
                    k.strip_prefix(ANSWER_PREFIX).unwrap_or(&k)
                );
                if f.contains_key(&path) {
                    return Err(format!("{path}: the answer is given twice"));
                }
                let v = string(&k, cell, options)?;
                insert_text(&mut f, path, v);
            }
        }
    }
    if let (Some(lat), Some(lon)) = (lat, lon) {
        let gps = Gps::new(lat, lon).map_err(|e| e.to_string())?;
        f.insert("gps".into(), gps.to_value());
    }
    Ok(f)
}

fn insert_text(f: &mut FieldMap, k: String, v: Option<String>) {
    if let Some(v) = v {
        f.insert(k, Value::String(v));
    }
}

/// A text field: a string (`None` for an empty field).
fn string(k: &str, cell: Cell, options: Options) -> std::result::Result<Option<String>, String> {
    match cell {
        Cell::Csv(s) | Cell::Json(Json::Text(s)) => Ok(Some(s)),
        Cell::Json(Json::Null) => Ok(None),
        Cell::Json(Json::Number(n)) => match (options.coerce, json::exact_number_text(&n)) {
            (true, Some(t)) => Ok(Some(t.to_string())),
            (true, None) => Err(format!(
                "{k}: expected a string, found the number {n}, which does not read back exactly as text: quote it"
            )),
            (false, _) => Err(format!(
                "{k}: expected a string, found the number {n}: quote it (or pass --coerce to accept numbers that read back exactly)"
            )),
        },
        Cell::Json(other) => Err(format!("{k}: expected a string, found {}", other.describe())),
    }
}

/// `gps_lat` / `gps_lon`: a JSON number, or CSV text that reads as one.
fn number(k: &str, cell: Cell) -> std::result::Result<Option<f64>, String> {
    let text = match cell {
        Cell::Json(Json::Null) => return Ok(None),
        Cell::Csv(s) => s,
        Cell::Json(Json::Number(n)) => n,
        Cell::Json(other) => {
            return Err(format!(
                "{k}: expected a number, found {}",
                other.describe()
            ))
        }
    };
    text.trim()
        .parse()
        .map(Some)
        .map_err(|_| format!("{k}: {text:?} is not a number"))
}

/// `gps`: CSV text `LAT,LON`, or a JSON list of two numbers.
fn gps(cell: Cell) -> std::result::Result<Option<Gps>, String> {
    let expected = "gps: expected [latitude, longitude] as two numbers";
    match cell {
        Cell::Csv(s) => s.parse::<Gps>().map(Some).map_err(|e| e.to_string()),
        Cell::Json(Json::Null) => Ok(None),
        Cell::Json(Json::Array(items)) => match items.as_slice() {
            [Json::Number(lat), Json::Number(lon)] => {
                let (lat, lon) = (lat.parse(), lon.parse());
                match (lat, lon) {
                    (Ok(lat), Ok(lon)) => Gps::new(lat, lon).map(Some).map_err(|e| e.to_string()),
                    _ => Err(expected.into()),
                }
            }
            _ => Err(format!("{expected}, found a list of something else")),
        },
        Cell::Json(other) => Err(format!("{expected}, found {}", other.describe())),
    }
}

/// `"answers": {"crop": "maize"}` (JSON lines): each value a string.
fn answers(cell: Cell, options: Options, f: &mut FieldMap) -> std::result::Result<(), String> {
    let members = match cell {
        Cell::Json(Json::Object(m)) => m,
        Cell::Json(Json::Null) => return Ok(()),
        Cell::Json(other) => {
            return Err(format!(
                "answers: expected an object of key: value, found {}",
                other.describe()
            ))
        }
        Cell::Csv(_) => {
            return Err("answers: name each answer's column instead (crop or answers.crop)".into())
        }
    };
    for (ak, av) in members {
        let path = format!("{ANSWER_PREFIX}{ak}");
        validate_answer_key(&ak).map_err(|e| format!("{path}: {}", e.message))?;
        if f.contains_key(&path) {
            return Err(format!("{path}: the answer is given twice"));
        }
        let v = string(&path, Cell::Json(av), options)?;
        insert_text(f, path, v);
    }
    Ok(())
}
