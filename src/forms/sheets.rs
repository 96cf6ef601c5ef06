//! Reading the sheets of an XLSForm, from an `.xlsx` workbook (calamine) or from a folder of
//! CSV files, into plain rows of trimmed strings with their 1-based spreadsheet row numbers.
//!
//! Owns: file access and cell-to-text conversion. It must not interpret columns or types
//! (that is `xlsform`'s job).

use std::path::Path;

use calamine::{open_workbook, Data, Reader, Xlsx};

use super::error::{FormError, FormProblem};

/// One row: its spreadsheet row number (header = 1) and its trimmed cells.
#[derive(Debug, Clone)]
pub struct Row {
    pub number: u32,
    pub cells: Vec<String>,
}

impl Row {
    pub fn is_blank(&self) -> bool {
        self.cells.iter().all(|c| c.is_empty())
    }

    pub fn cell(&self, column: usize) -> &str {
        self.cells.get(column).map_or("", String::as_str)
    }
}

/// A sheet: its header row and the rows below it (blank rows included; callers skip them).
#[derive(Debug, Clone)]
pub struct Sheet {
    pub name: &'static str,
    pub header: Row,
    pub rows: Vec<Row>,
}

/// The three sheets of an XLSForm; `choices` and `settings` may be absent.
#[derive(Debug, Clone)]
pub struct Sheets {
    pub survey: Sheet,
    pub choices: Option<Sheet>,
    pub settings: Option<Sheet>,
}

/// Reads the `survey`, `choices` and `settings` sheets of a workbook (names matched
/// case-insensitively).
pub fn read_xlsx(path: &Path) -> Result<Sheets, FormError> {
    let mut book: Xlsx<_> = open_workbook(path).map_err(|source| FormError::Workbook {
        path: path.to_path_buf(),
        source,
    })?;
    let names = book.sheet_names();
    let mut read = |wanted: &'static str| -> Result<Option<Sheet>, FormError> {
        let Some(actual) = names.iter().find(|n| n.trim().eq_ignore_ascii_case(wanted)) else {
            return Ok(None);
        };
        let range = book
            .worksheet_range(actual)
            .map_err(|source| FormError::Workbook {
                path: path.to_path_buf(),
                source,
            })?;
        let first_row = range.start().map_or(0, |(r, _)| r);
        let first_col = range.start().map_or(0, |(_, c)| c) as usize;
        let mut rows = Vec::new();
        for (i, cells) in range.rows().enumerate() {
            let number = first_row + i as u32 + 1;
            let mut texts = vec![String::new(); first_col];
            for cell in cells {
                texts.push(cell_text(cell).map_err(|m| invalid(wanted, number, m))?);
            }
            rows.push(Row {
                number,
                cells: texts,
            });
        }
        Ok(Some(into_sheet(wanted, rows)))
    };
    let survey =
        read("survey")?.ok_or_else(|| missing("survey", "the workbook has no 'survey' sheet"))?;
    Ok(Sheets {
        survey,
        choices: read("choices")?,
        settings: read("settings")?,
    })
}

/// Reads `survey.csv`, and `choices.csv` and `settings.csv` if present, from a folder.
pub fn read_csv_dir(dir: &Path) -> Result<Sheets, FormError> {
    let read = |wanted: &'static str| -> Result<Option<Sheet>, FormError> {
        let path = dir.join(format!("{wanted}.csv"));
        if !path.exists() {
            return Ok(None);
        }
        let bytes = std::fs::read(&path).map_err(|source| FormError::Io {
            path: path.clone(),
            source,
        })?;
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(bytes.as_slice());
        let mut rows = Vec::new();
        let (mut line, mut counted) = (1usize, 0usize);
        for record in reader.records() {
            let record = record.map_err(|source| FormError::Csv {
                path: path.clone(),
                source,
            })?;
            // number rows by the line where the record starts: the csv crate skips blank
            // lines (its position is before them), and a spreadsheet shows them as rows
            let mut start = record
                .position()
                .map_or(0, |p| p.byte() as usize)
                .min(bytes.len());
            while matches!(bytes.get(start), Some(b'\n' | b'\r')) {
                start += 1;
            }
            line += bytes[counted..start]
                .iter()
                .filter(|&&b| b == b'\n')
                .count();
            counted = start;
            rows.push(Row {
                number: u32::try_from(line).unwrap_or(u32::MAX),
                cells: record
                    .iter()
                    .map(|c| c.trim_start_matches('\u{feff}').trim().to_string())
                    .collect(),
            });
        }
        Ok(Some(into_sheet(wanted, rows)))
    };
    let survey = read("survey")?
        .ok_or_else(|| missing("survey", &format!("{} has no survey.csv", dir.display())))?;
    Ok(Sheets {
        survey,
        choices: read("choices")?,
        settings: read("settings")?,
    })
}

/// Splits rows into the header (the first non-blank row) and the rest.
fn into_sheet(name: &'static str, rows: Vec<Row>) -> Sheet {
    let mut rows = rows.into_iter().skip_while(Row::is_blank);
    let header = rows.next().unwrap_or(Row {
        number: 1,
        cells: Vec::new(),
    });
    Sheet {
        name,
        header,
        rows: rows.collect(),
    }
}

/// The text of a cell as the author sees it: whole numbers without `.0`, booleans as
/// `true`/`false`. Error cells (`#N/A`, ...) are refused.
fn cell_text(cell: &Data) -> Result<String, String> {
    Ok(match cell {
        Data::Empty => String::new(),
        Data::String(s) => s.trim().to_string(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Error(e) => return Err(format!("a cell holds the spreadsheet error {e}")),
        other => other.to_string().trim().to_string(),
    })
}

fn invalid(sheet: &str, row: u32, message: String) -> FormError {
    FormError::Invalid {
        problems: vec![FormProblem::new(sheet, Some(row), message)],
    }
}

fn missing(sheet: &str, message: &str) -> FormError {
    FormError::Invalid {
        problems: vec![FormProblem::new(sheet, None, message)],
    }
}
