//! The form types and their JSON: what a form definition is once parsed, as devices and the
//! server store it and send it to each other (the shape is documented in docs/forms.md).
//!
//! Owns: [`Form`], [`Question`], [`QuestionType`], [`Choice`], [`PublishedForm`], the content
//! hash and the export column order. A [`Form`] is valid by construction: it comes from
//! [`Form::new`] or from JSON, and both run the validator. This module must not read files
//! (see `xlsform`) nor check answers (see `answers`).

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::expr::Expr;
use super::validate::{validate, Issue};

/// A question's type, written in JSON exactly as in the XLSForm `type` column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum QuestionType {
    Text,
    Integer,
    Decimal,
    SelectOne { list: String },
    SelectMultiple { list: String },
    Date,
    Geopoint,
    Note,
}

impl QuestionType {
    /// The choice list of a select question.
    pub fn list(&self) -> Option<&str> {
        match self {
            QuestionType::SelectOne { list } | QuestionType::SelectMultiple { list } => Some(list),
            _ => None,
        }
    }

    /// Does a question of this type take an answer? (Notes do not.)
    pub fn takes_answer(&self) -> bool {
        *self != QuestionType::Note
    }
}

impl fmt::Display for QuestionType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            QuestionType::Text => f.write_str("text"),
            QuestionType::Integer => f.write_str("integer"),
            QuestionType::Decimal => f.write_str("decimal"),
            QuestionType::SelectOne { list } => write!(f, "select_one {list}"),
            QuestionType::SelectMultiple { list } => write!(f, "select_multiple {list}"),
            QuestionType::Date => f.write_str("date"),
            QuestionType::Geopoint => f.write_str("geopoint"),
            QuestionType::Note => f.write_str("note"),
        }
    }
}

impl FromStr for QuestionType {
    type Err = String;

    /// Parses an XLSForm type cell of the supported subset; the error says why a type is refused.
    fn from_str(s: &str) -> Result<Self, String> {
        let words: Vec<&str> = s.split_whitespace().collect();
        let keyword = words
            .first()
            .map(|w| w.to_ascii_lowercase())
            .unwrap_or_default();
        let simple = match keyword.as_str() {
            "text" => Some(QuestionType::Text),
            "integer" => Some(QuestionType::Integer),
            "decimal" => Some(QuestionType::Decimal),
            "date" => Some(QuestionType::Date),
            "geopoint" => Some(QuestionType::Geopoint),
            "note" => Some(QuestionType::Note),
            _ => None,
        };
        match (simple, keyword.as_str(), &words[..]) {
            (Some(t), _, [_]) => Ok(t),
            (Some(_), _, _) => Err(format!("type {s:?}: '{keyword}' takes no list name")),
            (None, "select_one", [_, list]) => Ok(QuestionType::SelectOne {
                list: list.to_string(),
            }),
            (None, "select_multiple", [_, list]) => Ok(QuestionType::SelectMultiple {
                list: list.to_string(),
            }),
            (None, "select_one" | "select_multiple", [_]) => Err(format!(
                "type {s:?} needs a choice list: write '{keyword} LIST'"
            )),
            (None, "select_one" | "select_multiple", [_, _, "or_other"]) => Err(format!(
                "type {s:?}: 'or_other' is not supported; add an 'other' choice and a text question"
            )),
            (None, "select_one" | "select_multiple", _) => Err(format!(
                "type {s:?}: write '{keyword} LIST' with one list name"
            )),
            _ => Err(refused_type(s, &keyword)),
        }
    }
}

/// Why a type outside the subset is refused.
fn refused_type(s: &str, keyword: &str) -> String {
    const SUPPORTED: &str = "text, integer, decimal, select_one LIST, select_multiple LIST, \
                             date, geopoint, note";
    let why = match keyword {
        "" => return "the type is empty".to_string(),
        "begin" | "end" | "begin_group" | "end_group" | "begin_repeat" | "end_repeat" => {
            "groups and repeats are not supported; list the questions one after another"
        }
        "calculate" | "hidden" => "calculations are not supported",
        "start" | "today" | "deviceid" | "username" | "phonenumber" | "simserial"
        | "subscriberid" | "email" | "audit" | "start-geopoint" => {
            "metadata questions are not supported; fieldsync records the visit time and \
             officer itself"
        }
        "int" => "write 'integer'",
        "string" => "write 'text'",
        "select1" | "select" => "write 'select_one LIST' or 'select_multiple LIST'",
        _ => "it is not in the supported subset",
    };
    format!("type {s:?} is not supported: {why} (supported: {SUPPORTED})")
}

impl TryFrom<String> for QuestionType {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

impl From<QuestionType> for String {
    fn from(t: QuestionType) -> String {
        t.to_string()
    }
}

/// One question (or note) of a form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Question {
    /// The answer key: 1 to 64 of `[A-Za-z0-9_.-]`, unique in the form.
    pub name: String,
    #[serde(rename = "type")]
    pub kind: QuestionType,
    pub label: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    #[serde(default)]
    pub required: bool,
    /// Checked against each non-blank answer; uses `.` only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub constraint: Option<Expr>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub constraint_message: Option<String>,
    /// When present, the question is asked only if it holds; refers to earlier questions only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relevant: Option<Expr>,
}

/// One choice of a choice list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Choice {
    /// What is stored: non-empty, no whitespace, at most 64 characters, unique in its list.
    pub name: String,
    pub label: String,
}

/// Everything a form is made of, before validation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FormParts {
    pub form_id: String,
    pub title: String,
    /// The `version` of the XLSForm settings sheet, kept verbatim and informative only: the
    /// version that counts is the one the server assigns ([`PublishedForm::version`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author_version: Option<String>,
    pub questions: Vec<Question>,
    #[serde(default)]
    pub choices: BTreeMap<String, Vec<Choice>>,
}

/// A valid form definition. Its JSON is the JSON of [`FormParts`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "FormParts", into = "FormParts")]
pub struct Form {
    parts: FormParts,
}

/// A form as published for a team: the server assigns `version`, 1, 2, 3… per team, and never
/// changes a published version. `content_hash` is [`Form::content_hash`] of `form`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublishedForm {
    pub version: u32,
    pub content_hash: String,
    pub form: Form,
}

impl PublishedForm {
    pub fn new(version: u32, form: Form) -> PublishedForm {
        PublishedForm {
            version,
            content_hash: form.content_hash(),
            form,
        }
    }

    /// Does `content_hash` match the form (i.e. did it arrive intact)?
    pub fn hash_matches(&self) -> bool {
        self.content_hash == self.form.content_hash()
    }
}

/// An answer column for exports: the question name and its label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AnswerColumn<'a> {
    pub name: &'a str,
    pub label: &'a str,
}

impl Form {
    /// Validates `parts` into a form. Issues name the question or choice they are about; the
    /// XLSForm reader maps them to sheet rows.
    pub fn new(parts: FormParts) -> Result<Form, Vec<Issue>> {
        validate(&parts)?;
        Ok(Form { parts })
    }

    pub fn form_id(&self) -> &str {
        &self.parts.form_id
    }

    pub fn title(&self) -> &str {
        &self.parts.title
    }

    pub fn author_version(&self) -> Option<&str> {
        self.parts.author_version.as_deref()
    }

    /// The questions and notes, in form order.
    pub fn questions(&self) -> &[Question] {
        &self.parts.questions
    }

    /// The question named `name`.
    pub fn question(&self, name: &str) -> Option<&Question> {
        self.parts.questions.iter().find(|q| q.name == name)
    }

    /// All choice lists, by list name.
    pub fn choice_lists(&self) -> &BTreeMap<String, Vec<Choice>> {
        &self.parts.choices
    }

    /// The choices of a select question (`None` for other types).
    pub fn choices(&self, question: &Question) -> Option<&[Choice]> {
        let list = question.kind.list()?;
        self.parts.choices.get(list).map(Vec::as_slice)
    }

    /// The parts the form was made of.
    pub fn parts(&self) -> &FormParts {
        &self.parts
    }

    /// `sha256:` and the hex SHA-256 of the form's JSON: equal forms have equal hashes.
    pub fn content_hash(&self) -> String {
        let json = serde_json::to_vec(&self.parts).expect("form JSON has only string keys");
        format!("sha256:{}", hex::encode(Sha256::digest(json)))
    }

    /// The columns of answers for exports, in form order with labels (notes have none).
    pub fn answer_columns(&self) -> Vec<AnswerColumn<'_>> {
        self.parts
            .questions
            .iter()
            .filter(|q| q.kind.takes_answer())
            .map(|q| AnswerColumn {
                name: &q.name,
                label: &q.label,
            })
            .collect()
    }
}

impl TryFrom<FormParts> for Form {
    type Error = String;
    fn try_from(parts: FormParts) -> Result<Self, String> {
        let describe = |issue: &Issue| issue.describe_in(&parts);
        match validate(&parts) {
            Ok(()) => Ok(Form { parts }),
            Err(issues) => Err(issues.iter().map(describe).collect::<Vec<_>>().join("; ")),
        }
    }
}

impl From<Form> for FormParts {
    fn from(f: Form) -> FormParts {
        f.parts
    }
}
