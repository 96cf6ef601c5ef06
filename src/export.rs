//! Export formats: how records are written as CSV or JSON lines for analysis, shared by the
//! server's `admin export` and the laptop's `export` so the two are never written twice.
//!
//! It owns the column layout (meta columns, then the entity's fields, then one column per
//! answer key), the cell encoding and the RFC 4180 quoting (through the `csv` crate). It
//! writes one record at a time and holds none: callers stream pages of records through a
//! [`RecordWriter`]. It must not read a database or decide which records are exported.
//!
//! Layout of a row, in order:
//! 1. the caller's meta columns (`id`, `server_id`, `version`, `team`, …), values as given;
//! 2. the entity's fields: households `name, village, gps_lat, gps_lon, notes`; visits
//!    `household_id, officer_id, visited_at, gps_lat, gps_lon, notes`;
//! 3. CSV: one column per answer key named up front (visits only): `answers.<key>`, or the
//!    question's label (see [`answer_columns`]: the team's form decides the order); JSON
//!    lines: one `answers` object holding the record's own answers.
//!
//! Empty fields are empty CSV cells and `null` in JSON lines.
//!
//! Spreadsheet formulas: CSV cells are written verbatim by default, because the export is
//! data for analysis tools and warehouses (pandas, R, `COPY`), which never evaluate a cell,
//! and a default that rewrote text (`-3 goats` → `'-3 goats`) would corrupt every load. With
//! [`RecordWriter::excel_safe`] (`--excel-safe`), a text cell beginning with `=`, `+`, `-`,
//! `@`, a tab or a carriage return gets a leading `'`, so a spreadsheet shows it as text
//! instead of running it as a formula (the OWASP "CSV injection" advice). Numbers, booleans
//! and JSON lines are never changed.

use std::io::Write;

use serde_json::{Map, Value};

use crate::forms::Form;
use crate::model::{answers_of, EntityType, FieldMap, Gps, ANSWER_PREFIX};

/// Records exported per page by callers that stream from a database.
pub const PAGE_SIZE: u32 = 1000;

/// The output format of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    /// CSV with a header row (RFC 4180, UTF-8).
    Csv,
    /// One JSON object per line.
    Jsonl,
}

/// Why an export could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("cannot write the export: {0}")]
    Io(#[from] std::io::Error),
    #[error("cannot write the export: {0}")]
    Csv(#[from] csv::Error),
    #[error("cannot encode a record: {0}")]
    Json(#[from] serde_json::Error),
    #[error("a row has {got} meta values for {want} meta columns")]
    MetaCount { got: usize, want: usize },
}

/// The entity's own columns, between the meta columns and the answers.
pub fn field_columns(entity: EntityType) -> &'static [&'static str] {
    match entity {
        EntityType::Household => &["name", "village", "gps_lat", "gps_lon", "notes"],
        EntityType::Visit => &[
            "household_id",
            "officer_id",
            "visited_at",
            "gps_lat",
            "gps_lon",
            "notes",
        ],
    }
}

/// The value of one of [`field_columns`] in a full record (`Null` when empty).
fn field_value(fields: &FieldMap, column: &str) -> Value {
    let gps = || fields.get("gps").and_then(|v| Gps::from_value(v).ok());
    match column {
        "gps_lat" => gps().map_or(Value::Null, |g| Value::from(g.lat)),
        "gps_lon" => gps().map_or(Value::Null, |g| Value::from(g.lon)),
        _ => fields.get(column).cloned().unwrap_or(Value::Null),
    }
}

/// A cell's text: strings as they are, numbers and booleans as JSON prints them, empty for
/// `null`.
fn cell(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// One answer column of a CSV export: the answer key and the column's header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportColumn {
    pub key: String,
    pub header: String,
}

impl ExportColumn {
    /// The column of `key` headed `answers.<key>`.
    pub fn keyed(key: &str) -> ExportColumn {
        ExportColumn {
            key: key.to_string(),
            header: format!("{ANSWER_PREFIX}{key}"),
        }
    }
}

/// The answer columns of a visit export (issue 15): the questions of `forms` first, in form
/// order (a question only a later form has comes after the earlier form's), then every other
/// key of `keys` (answers the forms do not ask, e.g. from before the form), sorted. Headers are
/// `answers.<key>`; with `labels`, a question's label instead — followed by ` (<key>)` when
/// another column has the same header, so that every header stays unique.
pub fn answer_columns(keys: &[String], forms: &[&Form], labels: bool) -> Vec<ExportColumn> {
    let mut asked: Vec<(&str, &str)> = Vec::new();
    for c in forms.iter().flat_map(|f| f.answer_columns()) {
        if !asked.iter().any(|(name, _)| *name == c.name) {
            asked.push((c.name, c.label));
        }
    }
    let mut others: Vec<&str> = keys
        .iter()
        .map(String::as_str)
        .filter(|k| !asked.iter().any(|(name, _)| name == k))
        .collect();
    others.sort_unstable();
    others.dedup();
    let mut columns: Vec<ExportColumn> = asked
        .iter()
        .map(|(name, label)| ExportColumn {
            key: name.to_string(),
            header: if labels {
                label.to_string()
            } else {
                format!("{ANSWER_PREFIX}{name}")
            },
        })
        .chain(others.into_iter().map(ExportColumn::keyed))
        .collect();
    let headers: Vec<String> = columns.iter().map(|c| c.header.clone()).collect();
    for c in &mut columns {
        if headers.iter().filter(|h| **h == c.header).count() > 1 {
            c.header = format!("{} ({})", c.header, c.key);
        }
    }
    columns
}

/// [`cell`], with text a spreadsheet would run as a formula prefixed with `'`.
fn excel_safe_cell(v: &Value) -> String {
    match v {
        Value::String(s) if s.starts_with(['=', '+', '-', '@', '\t', '\r']) => format!("'{s}"),
        other => cell(other),
    }
}

enum Sink<W: Write> {
    Csv(Box<csv::Writer<W>>),
    Jsonl(std::io::BufWriter<W>),
}

/// Writes records one at a time in one [`ExportFormat`].
pub struct RecordWriter<W: Write> {
    sink: Sink<W>,
    entity: EntityType,
    meta_columns: Vec<String>,
    answer_keys: Vec<String>,
    written: u64,
    /// CSV text cells that would run as formulas get a leading `'` (see the module docs).
    excel_safe: bool,
}

impl<W: Write> RecordWriter<W> {
    /// A writer of `entity` records with the given meta columns; `answer_keys` (without the
    /// `answers.` prefix) become CSV columns `answers.<key>` in the order given. Writes the CSV
    /// header.
    pub fn new(
        out: W,
        format: ExportFormat,
        entity: EntityType,
        meta_columns: &[&str],
        answer_keys: Vec<String>,
    ) -> Result<Self, ExportError> {
        let columns = answer_keys.iter().map(|k| ExportColumn::keyed(k)).collect();
        Self::with_columns(out, format, entity, meta_columns, columns)
    }

    /// [`RecordWriter::new`] with answer columns of any header (see [`answer_columns`]).
    pub fn with_columns(
        out: W,
        format: ExportFormat,
        entity: EntityType,
        meta_columns: &[&str],
        answer_columns: Vec<ExportColumn>,
    ) -> Result<Self, ExportError> {
        let meta_columns: Vec<String> = meta_columns.iter().map(|c| c.to_string()).collect();
        let sink = match format {
            ExportFormat::Csv => {
                let mut w = csv::WriterBuilder::new()
                    .terminator(csv::Terminator::CRLF)
                    .from_writer(out);
                let mut header: Vec<String> = meta_columns.clone();
                header.extend(field_columns(entity).iter().map(|c| c.to_string()));
                if entity == EntityType::Visit {
                    header.extend(answer_columns.iter().map(|c| c.header.clone()));
                }
                w.write_record(&header)?;
                Sink::Csv(Box::new(w))
            }
            ExportFormat::Jsonl => Sink::Jsonl(std::io::BufWriter::new(out)),
        };
        Ok(RecordWriter {
            sink,
            entity,
            meta_columns,
            answer_keys: answer_columns.into_iter().map(|c| c.key).collect(),
            written: 0,
            excel_safe: false,
        })
    }

    /// Prefixes CSV text cells a spreadsheet would run as a formula with `'` (see the module
    /// docs). JSON lines are unaffected.
    pub fn excel_safe(mut self, on: bool) -> Self {
        self.excel_safe = on;
        self
    }

    /// Writes one record: `meta` holds one value per meta column, `fields` is the full record.
    pub fn write(&mut self, meta: &[Value], fields: &FieldMap) -> Result<(), ExportError> {
        if meta.len() != self.meta_columns.len() {
            return Err(ExportError::MetaCount {
                got: meta.len(),
                want: self.meta_columns.len(),
            });
        }
        let columns = field_columns(self.entity);
        match &mut self.sink {
            Sink::Csv(w) => {
                let cell = if self.excel_safe {
                    excel_safe_cell
                } else {
                    cell
                };
                let mut row: Vec<String> = meta.iter().map(cell).collect();
                row.extend(columns.iter().map(|c| cell(&field_value(fields, c))));
                if self.entity == EntityType::Visit {
                    row.extend(self.answer_keys.iter().map(|k| {
                        cell(
                            fields
                                .get(&format!("{ANSWER_PREFIX}{k}"))
                                .unwrap_or(&Value::Null),
                        )
                    }));
                }
                w.write_record(&row)?;
            }
            Sink::Jsonl(w) => {
                let mut obj = Map::new();
                for (name, v) in self.meta_columns.iter().zip(meta) {
                    obj.insert(name.clone(), v.clone());
                }
                for c in columns {
                    obj.insert((*c).to_string(), field_value(fields, c));
                }
                if self.entity == EntityType::Visit {
                    let answers: Map<String, Value> = answers_of(fields)
                        .into_iter()
                        .map(|(k, v)| (k, Value::String(v)))
                        .collect();
                    obj.insert("answers".into(), Value::Object(answers));
                }
                serde_json::to_writer(&mut *w, &Value::Object(obj))?;
                w.write_all(b"\n")?;
            }
        }
        self.written += 1;
        Ok(())
    }

    /// Records written so far.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// Flushes everything and hands back the output; the number of records written.
    pub fn finish(self) -> Result<(u64, W), ExportError> {
        let out = match self.sink {
            Sink::Csv(w) => w.into_inner().map_err(|e| e.into_error())?,
            Sink::Jsonl(w) => w.into_inner().map_err(|e| e.into_error())?,
        };
        Ok((self.written, out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn visit() -> FieldMap {
        let mut f = FieldMap::new();
        f.insert(
            "household_id".into(),
            json!("0190a0e4-0000-7000-8000-000000000001"),
        );
        f.insert("officer_id".into(), json!("amina"));
        f.insert("visited_at".into(), json!("2026-11-25T09:30:00Z"));
        f.insert("notes".into(), json!("said \"hello\", left\nearly"));
        f.insert("gps".into(), json!([-1.5, 36.25]));
        f.insert("answers.crop".into(), json!("maize"));
        f
    }

    #[test]
    fn csv_quotes_and_orders_columns() {
        let mut w = RecordWriter::new(
            Vec::new(),
            ExportFormat::Csv,
            EntityType::Visit,
            &["id", "deleted"],
            vec!["crop".into(), "water".into()],
        )
        .unwrap();
        w.write(&[json!("x"), json!(false)], &visit()).unwrap();
        let (n, out) = w.finish().unwrap();
        assert_eq!(n, 1);
        let text = String::from_utf8(out).unwrap();
        let mut r = csv::Reader::from_reader(text.as_bytes());
        let header: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
        assert_eq!(
            header,
            [
                "id",
                "deleted",
                "household_id",
                "officer_id",
                "visited_at",
                "gps_lat",
                "gps_lon",
                "notes",
                "answers.crop",
                "answers.water"
            ]
        );
        let row = r.records().next().unwrap().unwrap();
        assert_eq!(&row[1], "false");
        assert_eq!(&row[5], "-1.5");
        assert_eq!(&row[7], "said \"hello\", left\nearly");
        assert_eq!(&row[8], "maize");
        assert_eq!(&row[9], "");
        assert!(text.ends_with("\r\n"));
    }

    #[test]
    fn excel_safe_prefixes_only_text_that_would_run() {
        let mut f = visit();
        f.insert("notes".into(), json!("=HYPERLINK(\"x\")"));
        f.insert("answers.crop".into(), json!("-maize"));
        f.insert("gps".into(), json!([-1.5, 36.8]));
        let keys = vec!["crop".to_string()];
        let write = |safe: bool| {
            let mut w = RecordWriter::new(
                Vec::new(),
                ExportFormat::Csv,
                EntityType::Visit,
                &["id"],
                keys.clone(),
            )
            .unwrap()
            .excel_safe(safe);
            w.write(&[json!("@id")], &f).unwrap();
            String::from_utf8(w.finish().unwrap().1).unwrap()
        };
        let safe = write(true);
        let row = safe.lines().nth(1).unwrap();
        assert!(row.starts_with("'@id,"), "{row}");
        assert!(row.contains("\"'=HYPERLINK(\"\"x\"\")\""), "{row}");
        assert!(row.contains(",'-maize"), "{row}");
        assert!(row.contains(",-1.5,36.8,"), "numbers stay numbers: {row}");
        let plain = write(false);
        assert!(plain.lines().nth(1).unwrap().starts_with("@id,"));
    }

    #[test]
    fn jsonl_is_one_object_a_line() {
        let mut w = RecordWriter::new(
            Vec::new(),
            ExportFormat::Jsonl,
            EntityType::Visit,
            &["id"],
            Vec::new(),
        )
        .unwrap();
        w.write(&[json!("a")], &visit()).unwrap();
        w.write(&[json!("b")], &FieldMap::new()).unwrap();
        let (_, out) = w.finish().unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["answers"], json!({"crop": "maize"}));
        assert_eq!(lines[0]["gps_lat"], json!(-1.5));
        assert_eq!(lines[1]["notes"], Value::Null);
    }

    fn form(questions: &[(&str, &str)]) -> Form {
        let qs: Vec<Value> = questions
            .iter()
            .map(|(name, label)| json!({"name": name, "type": "text", "label": label}))
            .collect();
        serde_json::from_value(json!({"form_id": "f", "title": "F", "questions": qs})).unwrap()
    }

    #[test]
    fn answer_columns_follow_the_form_then_the_other_keys_sorted() {
        let v1 = form(&[("size", "People"), ("crop", "Crop")]);
        let v2 = form(&[("crop", "Main crop"), ("goats", "Goats")]);
        let keys: Vec<String> = ["zebra", "crop", "apple", "size"]
            .iter()
            .map(|k| k.to_string())
            .collect();
        let cols = answer_columns(&keys, &[&v1, &v2], false);
        let headers: Vec<&str> = cols.iter().map(|c| c.header.as_str()).collect();
        assert_eq!(
            headers,
            [
                "answers.size",
                "answers.crop",
                "answers.goats",
                "answers.apple",
                "answers.zebra"
            ]
        );
        let cols = answer_columns(&keys, &[&v1], true);
        let headers: Vec<&str> = cols.iter().map(|c| c.header.as_str()).collect();
        assert_eq!(
            headers,
            ["People", "Crop", "answers.apple", "answers.zebra"]
        );
        // Without a form: the keys, sorted, as before.
        let cols = answer_columns(&keys, &[], true);
        assert_eq!(cols[0], ExportColumn::keyed("apple"));
    }

    #[test]
    fn labelled_headers_stay_unique() {
        let f = form(&[("a", "Name"), ("b", "Name"), ("c", "answers.x")]);
        let keys = vec!["x".to_string()];
        let cols = answer_columns(&keys, &[&f], true);
        let headers: Vec<&str> = cols.iter().map(|c| c.header.as_str()).collect();
        assert_eq!(
            headers,
            ["Name (a)", "Name (b)", "answers.x (c)", "answers.x (x)"]
        );
        let mut w = RecordWriter::with_columns(
            Vec::new(),
            ExportFormat::Csv,
            EntityType::Visit,
            &["id"],
            cols,
        )
        .unwrap();
        let mut v = visit();
        v.insert("answers.b".into(), json!("bee"));
        w.write(&[json!("r")], &v).unwrap();
        let text = String::from_utf8(w.finish().unwrap().1).unwrap();
        assert!(text.starts_with("id,household_id,"), "{text}");
        assert!(text.contains(",Name (a),Name (b),"), "{text}");
        assert!(text.trim_end().ends_with(",,bee,,"), "{text}");
    }

    #[test]
    fn wrong_meta_count_is_an_error() {
        let mut w = RecordWriter::new(
            Vec::new(),
            ExportFormat::Csv,
            EntityType::Household,
            &["id"],
            Vec::new(),
        )
        .unwrap();
        assert!(matches!(
            w.write(&[], &FieldMap::new()),
            Err(ExportError::MetaCount { got: 0, want: 1 })
        ));
    }
}
