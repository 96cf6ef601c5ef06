//! Errors of reading a form definition: I/O and format failures, and [`FormProblem`]s that
//! name the sheet and the spreadsheet row (1-based, as the author sees it) of what is refused.
//! Owns only the error types; it must not decide what is refused.

use std::fmt;
use std::path::PathBuf;

/// Why a form definition was not read.
#[derive(Debug, thiserror::Error)]
pub enum FormError {
    #[error("cannot read {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot read workbook {}: {source}", path.display())]
    Workbook {
        path: PathBuf,
        #[source]
        source: calamine::XlsxError,
    },
    #[error("cannot read {}: {source}", path.display())]
    Csv {
        path: PathBuf,
        #[source]
        source: csv::Error,
    },
    #[error(
        "{}: expected an XLSForm .xlsx workbook or a folder holding survey.csv and choices.csv",
        path.display()
    )]
    UnknownFormat { path: PathBuf },
    #[error("{}", Problems(problems))]
    Invalid { problems: Vec<FormProblem> },
}

impl FormError {
    /// The problems of a refused form (empty for I/O and format errors).
    pub fn problems(&self) -> &[FormProblem] {
        match self {
            FormError::Invalid { problems } => problems,
            _ => &[],
        }
    }
}

/// One refused part of a form: where it is and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormProblem {
    /// `survey`, `choices` or `settings`.
    pub sheet: String,
    /// The 1-based spreadsheet row (the header is row 1); `None` for the sheet as a whole.
    pub row: Option<u32>,
    pub message: String,
}

impl FormProblem {
    pub fn new(sheet: &str, row: Option<u32>, message: impl Into<String>) -> FormProblem {
        FormProblem {
            sheet: sheet.to_string(),
            row,
            message: message.into(),
        }
    }
}

impl fmt::Display for FormProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.row {
            Some(row) => write!(f, "{} sheet, row {row}: {}", self.sheet, self.message),
            None => write!(f, "{} sheet: {}", self.sheet, self.message),
        }
    }
}

struct Problems<'a>(&'a [FormProblem]);

impl fmt::Display for Problems<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0.len();
        write!(
            f,
            "form refused ({n} problem{}):",
            if n == 1 { "" } else { "s" }
        )?;
        for p in self.0 {
            write!(f, "\n  {p}")?;
        }
        Ok(())
    }
}
