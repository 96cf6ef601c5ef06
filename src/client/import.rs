//! Reading households and visits from spreadsheets (CSV with a header) or JSON lines, for
//! `household import` and `visit import`. Parsing only: the store validates and writes.
//!
//! Columns (CSV) or keys (JSON lines):
//! - households: `name`, `village`, `notes`, and `gps` (`LAT,LON`) or `gps_lat` + `gps_lon`.
//! - visits: `household_id`, `visited_at` (default: now), `notes`, `gps` or `gps_lat` +
//!   `gps_lon`; every other column is an answer (`crop` or `answers.crop`). JSON lines may
//!   also carry `"answers": {"crop": "maize"}`.
//!
//! Empty cells are empty fields. Errors name the line they come from.
//!
//! This module must not write anything: the store validates and writes, all or nothing.

use std::io::{BufRead, BufReader, Read};

use serde_json::{Map, Value};

use super::error::{Error, Result};
use crate::model::{validate_answer_key, EntityType, FieldMap, Gps, ANSWER_PREFIX};

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

/// Parses every row into fields, with its line number. `defaults` fill fields a row leaves
/// out (the officer, the visit time).
pub fn parse(
    entity: EntityType,
    format: Format,
    input: impl Read,
    defaults: &FieldMap,
) -> Result<Vec<(usize, FieldMap)>> {
    let rows = match format {
        Format::Csv => parse_csv(input)?,
        Format::JsonLines => parse_jsonl(input)?,
    };
    let mut out = Vec::with_capacity(rows.len());
    for (line, obj) in rows {
        let fields = to_fields(entity, obj, defaults)
            .map_err(|m| Error::BadInput(format!("line {line}: {m}")))?;
        out.push((line, fields));
    }
    Ok(out)
}

fn parse_csv(input: impl Read) -> Result<Vec<(usize, Map<String, Value>)>> {
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(false)
        .trim(csv::Trim::Headers)
        .from_reader(input);
    let headers = rdr
        .headers()
        .map_err(|e| Error::BadInput(format!("line 1: cannot read the CSV header: {e}")))?
        .clone();
    let mut out = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| {
            let line = e.position().map_or(0, |p| p.line());
            Error::BadInput(format!("line {line}: {e}"))
        })?;
        let line = rec.position().map_or(0, |p| p.line() as usize);
        let mut obj = Map::new();
        for (h, v) in headers.iter().zip(rec.iter()) {
            if !v.is_empty() {
                obj.insert(h.to_string(), Value::String(v.to_string()));
            }
        }
        out.push((line, obj));
    }
    Ok(out)
}

fn parse_jsonl(input: impl Read) -> Result<Vec<(usize, Map<String, Value>)>> {
    let mut out = Vec::new();
    for (i, line) in BufReader::new(input).lines().enumerate() {
        let n = i + 1;
        let line = line.map_err(|e| Error::BadInput(format!("line {n}: cannot read: {e}")))?;
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Value>(&line) {
            Ok(Value::Object(obj)) => out.push((n, obj)),
            Ok(_) => return Err(Error::BadInput(format!("line {n}: expected a JSON object"))),
            Err(e) => return Err(Error::BadInput(format!("line {n}: not valid JSON: {e}"))),
        }
    }
    Ok(out)
}

fn number(k: &str, v: &Value) -> std::result::Result<f64, String> {
    match v {
        Value::Number(n) => n.as_f64().ok_or_else(|| format!("{k}: not a number")),
        Value::String(s) => s
            .trim()
            .parse()
            .map_err(|_| format!("{k}: {s:?} is not a number")),
        _ => Err(format!("{k}: expected a number")),
    }
}

fn string(k: &str, v: Value) -> std::result::Result<Value, String> {
    match v {
        Value::String(_) => Ok(v),
        Value::Number(n) => Ok(Value::String(n.to_string())),
        Value::Bool(b) => Ok(Value::String(b.to_string())),
        Value::Null => Ok(Value::Null),
        _ => Err(format!("{k}: expected text")),
    }
}

fn to_fields(
    entity: EntityType,
    obj: Map<String, Value>,
    defaults: &FieldMap,
) -> std::result::Result<FieldMap, String> {
    let mut f = defaults.clone();
    let (mut lat, mut lon) = (None, None);
    for (k, v) in obj {
        match k.as_str() {
            "gps" => {
                let gps = match &v {
                    Value::String(s) => s.parse::<Gps>().map_err(|e| e.to_string())?,
                    other => Gps::from_value(other).map_err(|e| e.to_string())?,
                };
                f.insert("gps".into(), gps.to_value());
            }
            "gps_lat" => lat = Some(number(&k, &v)?),
            "gps_lon" => lon = Some(number(&k, &v)?),
            "name" | "village" | "notes" => {
                f.insert(k.clone(), string(&k, v)?);
            }
            "household_id" | "visited_at" | "officer_id" if entity == EntityType::Visit => {
                let v = string(&k, v)?;
                if k == "officer_id" && defaults.get("officer_id").is_some_and(|d| *d != v) {
                    return Err(format!(
                        "officer_id {v} is not this device's officer; visits are recorded as the configured officer"
                    ));
                }
                f.insert(k.clone(), v);
            }
            "answers" if entity == EntityType::Visit => {
                let Value::Object(map) = v else {
                    return Err("answers: expected an object of key: value".into());
                };
                for (ak, av) in map {
                    validate_answer_key(&ak).map_err(|e| e.to_string())?;
                    f.insert(format!("{ANSWER_PREFIX}{ak}"), string(&ak, av)?);
                }
            }
            _ if entity == EntityType::Visit => {
                let key = k.strip_prefix(ANSWER_PREFIX).unwrap_or(&k);
                validate_answer_key(key).map_err(|e| e.to_string())?;
                f.insert(format!("{ANSWER_PREFIX}{key}"), string(&k, v)?);
            }
            _ => {
                return Err(format!(
                    "unknown column {k:?} (households have name, village, notes, gps or gps_lat/gps_lon)"
                ))
            }
        }
    }
    match (lat, lon) {
        (Some(lat), Some(lon)) => {
            f.insert(
                "gps".into(),
                Gps::new(lat, lon).map_err(|e| e.to_string())?.to_value(),
            );
        }
        (None, None) => {}
        _ => return Err("gps_lat and gps_lon must be given together".into()),
    }
    Ok(f)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn csv_rows_become_fields_with_answers() {
        let csv = "household_id,visited_at,notes,gps_lat,gps_lon,crop\n\
                   0192f0a0-0000-7000-8000-000000000000,2026-01-01T00:00:00Z,hello,1.5,2.5,maize\n";
        let rows = parse(
            EntityType::Visit,
            Format::Csv,
            csv.as_bytes(),
            &FieldMap::new(),
        )
        .unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].0, 2);
        assert_eq!(rows[0].1["answers.crop"], json!("maize"));
        assert_eq!(rows[0].1["gps"], json!([1.5, 2.5]));
    }

    #[test]
    fn errors_name_their_line() {
        let jsonl = "{\"name\": \"a\"}\n\n{\"name\": \"b\", \"colour\": \"red\"}\n";
        let err = parse(
            EntityType::Household,
            Format::JsonLines,
            jsonl.as_bytes(),
            &FieldMap::new(),
        )
        .unwrap_err();
        assert!(err.to_string().starts_with("line 3:"), "{err}");
        let bad = "name,gps\nx,91;2\n";
        let err = parse(
            EntityType::Household,
            Format::Csv,
            bad.as_bytes(),
            &FieldMap::new(),
        )
        .unwrap_err();
        assert!(err.to_string().starts_with("line 2:"), "{err}");
    }
}
