//! Form definitions (issue 15): which questions a team asks, of which types, which are
//! required, which choices are valid, and when a question applies — written by authors as
//! XLSForm spreadsheets, carried to devices as JSON, and used to check a visit's answers.
//!
//! - [`form`]: the types and their stable JSON (docs/forms.md), the content hash, the export
//!   column order.
//! - [`xlsform`] and `sheets`: reading an `.xlsx` workbook or a folder of CSV files; every
//!   refusal names the sheet and row.
//! - [`validate`]: the rules every form keeps, whatever it was read from.
//! - [`expr`]: the `constraint` / `relevant` expression subset: parser and evaluator.
//! - [`value`]: how each type writes its answer as a string.
//! - [`answers`]: checking answers against a form.
//! - [`walk`]: the guided visit's walk through a form (next question, stepping back), pure.
//!
//! This module is pure apart from reading the form files: it must not touch stores, the network,
//! the terminal or exit codes; the CLI, the sync client and the server build on it.

pub mod answers;
pub mod error;
pub mod expr;
pub mod form;
mod sheets;
pub mod validate;
pub mod value;
pub mod walk;
pub mod xlsform;

pub use answers::{AnswerProblem, ProblemKind};
pub use error::{FormError, FormProblem};
pub use expr::{Expr, ExprError};
pub use form::{AnswerColumn, Choice, Form, FormParts, PublishedForm, Question, QuestionType};
pub use walk::{Step, Walk};
