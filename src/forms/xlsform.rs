//! From XLSForm sheets to a [`Form`]: which columns mean what, which are refused, and how
//! each survey and choices row becomes a question or a choice. Every refusal names the sheet
//! and the spreadsheet row.
//!
//! Owns the mapping of the XLSForm subset (docs/forms.md). It must not read files (`sheets`)
//! nor hold the form rules that also apply to JSON (`validate`).

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use super::error::{FormError, FormProblem};
use super::expr::Expr;
use super::form::{Choice, Form, FormParts, Question, QuestionType};
use super::sheets::{self, Sheet, Sheets};
use super::validate::Site;

const SURVEY_COLUMNS: &[&str] = &[
    "type",
    "name",
    "label",
    "hint",
    "required",
    "constraint",
    "constraint_message",
    "relevant",
];
const CHOICES_COLUMNS: &[&str] = &["list_name", "name", "label"];
const SETTINGS_COLUMNS: &[&str] = &["form_title", "form_id", "version"];
/// Columns that may carry a `::language` suffix; the first such column of each is used.
const LOCALIZED: &[&str] = &["label", "hint", "constraint_message", "guidance_hint"];
/// Columns read and dropped: they change nothing about which answers are valid.
const IGNORED: &[&str] = &["guidance_hint", "default_language", "style"];

impl Form {
    /// Reads an XLSForm workbook (`.xlsx` with `survey`, `choices` and optional `settings`).
    pub fn from_xlsx(path: &Path) -> Result<Form, FormError> {
        build(sheets::read_xlsx(path)?, path)
    }

    /// Reads a folder holding `survey.csv`, `choices.csv` and optional `settings.csv`.
    pub fn from_csv_dir(path: &Path) -> Result<Form, FormError> {
        build(sheets::read_csv_dir(path)?, path)
    }

    /// Reads `path` as a folder of CSV files or an `.xlsx` workbook.
    pub fn load(path: &Path) -> Result<Form, FormError> {
        let is_xlsx = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("xlsx"));
        if path.is_dir() {
            Form::from_csv_dir(path)
        } else if !path.exists() {
            Err(FormError::Io {
                path: path.to_path_buf(),
                source: std::io::Error::from(std::io::ErrorKind::NotFound),
            })
        } else if is_xlsx {
            Form::from_xlsx(path)
        } else {
            Err(FormError::UnknownFormat {
                path: path.to_path_buf(),
            })
        }
    }
}

/// Where each question and choice came from, to put rows on validation issues.
#[derive(Default)]
struct Rows {
    questions: Vec<u32>,
    choices: HashMap<String, Vec<u32>>,
    settings: Option<u32>,
}

fn build(sheets: Sheets, path: &Path) -> Result<Form, FormError> {
    let mut problems = Vec::new();
    let mut rows = Rows::default();
    let choices = match &sheets.choices {
        Some(sheet) => read_choices(sheet, &mut rows, &mut problems),
        None => BTreeMap::new(),
    };
    let questions = read_survey(&sheets.survey, &mut rows, &mut problems);
    let default_id = default_form_id(path);
    let settings = match &sheets.settings {
        Some(sheet) => read_settings(sheet, &mut rows, &mut problems),
        None => HashMap::new(),
    };
    if !problems.is_empty() {
        return Err(FormError::Invalid { problems });
    }
    let form_id = settings.get("form_id").cloned().unwrap_or(default_id);
    let parts = FormParts {
        title: settings
            .get("form_title")
            .cloned()
            .unwrap_or(form_id.clone()),
        form_id,
        author_version: settings.get("version").cloned(),
        questions,
        choices,
    };
    Form::new(parts).map_err(|issues| FormError::Invalid {
        problems: issues
            .into_iter()
            .map(|issue| locate(&issue.site, &rows, issue.message))
            .collect(),
    })
}

fn locate(site: &Site, rows: &Rows, message: String) -> FormProblem {
    match site {
        Site::FormId | Site::Title => FormProblem::new("settings", rows.settings, message),
        Site::Form => FormProblem::new("survey", None, message),
        Site::Question(i) => FormProblem::new("survey", rows.questions.get(*i).copied(), message),
        Site::List(list) => {
            let row = rows.choices.get(list).and_then(|r| r.first().copied());
            FormProblem::new("choices", row, message)
        }
        Site::Choice { list, index } => {
            let row = rows.choices.get(list).and_then(|r| r.get(*index).copied());
            FormProblem::new("choices", row, message)
        }
    }
}

/// The file or folder name, made into a valid form id.
fn default_form_id(path: &Path) -> String {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let id: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.') {
                c
            } else {
                '_'
            }
        })
        .take(crate::model::ANSWER_KEY_MAX)
        .collect();
    if id.is_empty() {
        "form".to_string()
    } else {
        id
    }
}

/// Column positions of a sheet's known columns; other columns are checked per row.
struct Columns {
    known: HashMap<&'static str, usize>,
    /// Columns refused when a row has a value in them: (position, header, why).
    refused: Vec<(usize, String, String)>,
}

impl Columns {
    fn read(sheet: &Sheet, known: &[&'static str], problems: &mut Vec<FormProblem>) -> Columns {
        let mut cols = Columns {
            known: HashMap::new(),
            refused: Vec::new(),
        };
        let mut localized_seen: Vec<&str> = Vec::new();
        for (i, raw) in sheet.header.cells.iter().enumerate() {
            let header = raw.trim().to_lowercase().replace(' ', "_");
            let (base, language) = match header.split_once("::") {
                Some((b, _)) => (b.to_string(), true),
                None => (header.clone(), false),
            };
            if header.is_empty() {
                continue;
            }
            if let Some(&name) = LOCALIZED.iter().find(|l| **l == base) {
                if localized_seen.contains(&name) {
                    continue; // a further language of a column already taken
                }
                localized_seen.push(name);
            } else if language {
                cols.refused.push((i, raw.clone(), refusal(&base)));
                continue;
            }
            match known.iter().find(|k| **k == base) {
                Some(&k) if cols.known.contains_key(k) => problems.push(FormProblem::new(
                    sheet.name,
                    Some(sheet.header.number),
                    format!("column {k:?} appears twice"),
                )),
                Some(&k) => {
                    cols.known.insert(k, i);
                }
                None if IGNORED.contains(&base.as_str()) => {}
                None => cols.refused.push((i, raw.clone(), refusal(&base))),
            }
        }
        cols
    }

    fn get<'r>(&self, row: &'r sheets::Row, column: &str) -> &'r str {
        self.known.get(column).map_or("", |&i| row.cell(i))
    }

    fn opt(&self, row: &sheets::Row, column: &str) -> Option<String> {
        Some(self.get(row, column).to_string()).filter(|s| !s.is_empty())
    }

    /// Problems for values in refused columns, each column reported at its first such row.
    fn check_refused(&mut self, sheet: &str, row: &sheets::Row, problems: &mut Vec<FormProblem>) {
        self.refused.retain(|(i, header, why)| {
            let value = row.cell(*i);
            if value.is_empty() {
                return true;
            }
            problems.push(FormProblem::new(
                sheet,
                Some(row.number),
                format!("column {header:?} (value {value:?}): {why}"),
            ));
            false
        });
    }
}

fn refusal(column: &str) -> String {
    let why = match column {
        "calculation" => "calculations are not supported",
        "choice_filter" => "cascading selects (choice_filter) are not supported",
        "repeat_count" => "repeats are not supported",
        "default" => "default answers are not supported; officers give every answer",
        "read_only" => "read-only questions are not supported",
        "appearance" => "appearance changes how a question is asked and is not supported",
        "required_message" => "required_message is not supported",
        "media" | "image" | "audio" | "video" | "big-image" => "media are not supported",
        _ => "the column is not in the supported subset of XLSForm (see docs/forms.md)",
    };
    why.to_string()
}

fn read_survey(sheet: &Sheet, rows: &mut Rows, problems: &mut Vec<FormProblem>) -> Vec<Question> {
    let mut cols = Columns::read(sheet, SURVEY_COLUMNS, problems);
    for needed in ["type", "name"] {
        if !cols.known.contains_key(needed) {
            problems.push(FormProblem::new(
                sheet.name,
                Some(sheet.header.number),
                format!("the survey sheet has no {needed:?} column"),
            ));
        }
    }
    let mut questions = Vec::new();
    for row in sheet.rows.iter().filter(|r| !r.is_blank()) {
        cols.check_refused(sheet.name, row, problems);
        let mut refuse =
            |m: String| problems.push(FormProblem::new(sheet.name, Some(row.number), m));
        let kind = match cols.get(row, "type") {
            "" => Err("the row has no type".to_string()),
            t => t.parse::<QuestionType>(),
        };
        let required = parse_required(cols.get(row, "required"));
        let constraint = parse_expr(&cols, row, "constraint");
        let relevant = parse_expr(&cols, row, "relevant");
        let (Ok(kind), Ok(required), Ok(constraint), Ok(relevant)) = (
            kind.map_err(&mut refuse),
            required.map_err(&mut refuse),
            constraint.map_err(&mut refuse),
            relevant.map_err(&mut refuse),
        ) else {
            continue;
        };
        rows.questions.push(row.number);
        questions.push(Question {
            name: cols.get(row, "name").to_string(),
            kind,
            label: cols.get(row, "label").to_string(),
            hint: cols.opt(row, "hint"),
            required,
            constraint,
            constraint_message: cols.opt(row, "constraint_message"),
            relevant,
        });
    }
    questions
}

fn parse_required(cell: &str) -> Result<bool, String> {
    match cell.to_ascii_lowercase().as_str() {
        "yes" | "true" | "1" | "true()" => Ok(true),
        "" | "no" | "false" | "0" | "false()" => Ok(false),
        _ => Err(format!(
            "required {cell:?}: write yes or no (conditional required is not supported)"
        )),
    }
}

fn parse_expr(cols: &Columns, row: &sheets::Row, column: &str) -> Result<Option<Expr>, String> {
    match cols.get(row, column) {
        "" => Ok(None),
        src => Expr::parse(src)
            .map(Some)
            .map_err(|e| format!("{column} {src:?}: {e}")),
    }
}

fn read_choices(
    sheet: &Sheet,
    rows: &mut Rows,
    problems: &mut Vec<FormProblem>,
) -> BTreeMap<String, Vec<Choice>> {
    let mut cols = Columns::read(sheet, CHOICES_COLUMNS, problems);
    for needed in CHOICES_COLUMNS {
        if !cols.known.contains_key(needed) {
            problems.push(FormProblem::new(
                sheet.name,
                Some(sheet.header.number),
                format!("the choices sheet has no {needed:?} column"),
            ));
        }
    }
    let mut lists: BTreeMap<String, Vec<Choice>> = BTreeMap::new();
    for row in sheet.rows.iter().filter(|r| !r.is_blank()) {
        cols.check_refused(sheet.name, row, problems);
        let list = cols.get(row, "list_name");
        if list.is_empty() {
            problems.push(FormProblem::new(
                sheet.name,
                Some(row.number),
                "the row has no list_name",
            ));
            continue;
        }
        lists.entry(list.to_string()).or_default().push(Choice {
            name: cols.get(row, "name").to_string(),
            label: cols.get(row, "label").to_string(),
        });
        rows.choices
            .entry(list.to_string())
            .or_default()
            .push(row.number);
    }
    lists
}

fn read_settings(
    sheet: &Sheet,
    rows: &mut Rows,
    problems: &mut Vec<FormProblem>,
) -> HashMap<&'static str, String> {
    let mut cols = Columns::read(sheet, SETTINGS_COLUMNS, problems);
    let mut values = HashMap::new();
    let mut data = sheet.rows.iter().filter(|r| !r.is_blank());
    if let Some(row) = data.next() {
        cols.check_refused(sheet.name, row, problems);
        rows.settings = Some(row.number);
        for column in SETTINGS_COLUMNS {
            if let Some(v) = cols.opt(row, column) {
                values.insert(*column, v);
            }
        }
    }
    if let Some(extra) = data.next() {
        problems.push(FormProblem::new(
            sheet.name,
            Some(extra.number),
            "the settings sheet has one row of values under its header",
        ));
    }
    values
}
