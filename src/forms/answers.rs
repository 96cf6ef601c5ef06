//! Checking a visit's answers against a form: types, choices, constraints, required answers
//! and relevance; one answer at a time for a guided prompt, or all answers of a visit.
//!
//! Owns: [`AnswerProblem`] and the rules of what a valid set of answers is. Relevance is
//! evaluated in form order, and an answer that is not relevant (or is invalid) counts as blank
//! for the questions after it, as in ODK. An answer given to a question that is not relevant is
//! refused ([`ProblemKind::AnsweredButNotRelevant`]), never silently dropped: the officer typed
//! it, so the officer decides. A blank answer (empty or only whitespace) is no answer.
//! This module must not print, prompt or decide exit codes.

use std::collections::BTreeMap;
use std::fmt;

use super::form::{Form, Question, QuestionType};
use super::value;
use crate::model::ANSWER_VALUE_MAX;

/// What is wrong with an answer (or a missing one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProblemKind {
    /// The form has no question of that name.
    UnknownQuestion,
    /// The question is a note, which takes no answer.
    NoteAnswered,
    /// The value is not of the question's type; `expected` says what was expected and why not.
    WrongType { expected: String },
    /// Not a choice (or, for `select_multiple`, one of the names is not, or is repeated).
    InvalidChoice { value: String, allowed: Vec<String> },
    /// The constraint does not hold; `message` is the form's constraint_message or a default.
    ConstraintFailed { message: String },
    /// Required, relevant and not answered.
    MissingRequired,
    /// Answered although its `relevant` condition is false.
    AnsweredButNotRelevant { relevant: String },
}

/// A problem with the answer to one question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnswerProblem {
    pub question: String,
    pub kind: ProblemKind,
}

impl AnswerProblem {
    fn new(question: &str, kind: ProblemKind) -> AnswerProblem {
        AnswerProblem {
            question: question.to_string(),
            kind,
        }
    }

    /// Is this a missing required answer (as opposed to a wrong one)? The CLI reports the two
    /// classes with different exit codes.
    pub fn is_missing_required(&self) -> bool {
        self.kind == ProblemKind::MissingRequired
    }
}

impl fmt::Display for AnswerProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let q = &self.question;
        match &self.kind {
            ProblemKind::UnknownQuestion => write!(f, "{q}: the form has no such question"),
            ProblemKind::NoteAnswered => write!(f, "{q}: is a note and takes no answer"),
            ProblemKind::WrongType { expected } => write!(f, "{q}: {expected}"),
            ProblemKind::InvalidChoice { value, allowed } => {
                write!(f, "{q}: {value:?} is not a choice; choose from {}", allowed.join(", "))
            }
            ProblemKind::ConstraintFailed { message } => write!(f, "{q}: {message}"),
            ProblemKind::MissingRequired => write!(f, "{q}: required but not answered"),
            ProblemKind::AnsweredButNotRelevant { relevant } => write!(
                f,
                "{q}: answered, but the question does not apply because {relevant} is false"
            ),
        }
    }
}

fn is_blank(v: &str) -> bool {
    v.trim().is_empty()
}

impl Form {
    /// Checks all answers of a visit. Problems come in form order, then unknown questions.
    pub fn check_answers(&self, answers: &BTreeMap<String, String>) -> Result<(), Vec<AnswerProblem>> {
        let mut problems = Vec::new();
        let mut effective = BTreeMap::new();
        for q in self.questions() {
            let value = answers.get(&q.name).filter(|v| !is_blank(v));
            if !self.is_relevant_given(q, &effective) {
                if value.is_some() {
                    problems.push(not_relevant(q));
                }
                continue;
            }
            match (value, q.kind.takes_answer()) {
                (None, _) if q.required => problems.push(AnswerProblem::new(&q.name, ProblemKind::MissingRequired)),
                (None, _) => {}
                (Some(_), false) => problems.push(AnswerProblem::new(&q.name, ProblemKind::NoteAnswered)),
                (Some(v), true) => match self.check_value(q, v) {
                    Ok(()) => {
                        effective.insert(q.name.clone(), v.clone());
                    }
                    Err(kind) => problems.push(AnswerProblem::new(&q.name, kind)),
                },
            }
        }
        for key in answers.keys().filter(|k| self.question(k).is_none()) {
            problems.push(AnswerProblem::new(key, ProblemKind::UnknownQuestion));
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }

    /// Checks one answer as a prompt receives it, without looking at relevance (the prompt
    /// only asks relevant questions). A blank value is fine unless the question is required.
    pub fn check_one(&self, name: &str, value: &str) -> Result<(), AnswerProblem> {
        let q = self
            .question(name)
            .ok_or_else(|| AnswerProblem::new(name, ProblemKind::UnknownQuestion))?;
        let kind = match (is_blank(value), q.kind.takes_answer()) {
            (true, _) if q.required => ProblemKind::MissingRequired,
            (true, _) => return Ok(()),
            (false, false) => ProblemKind::NoteAnswered,
            (false, true) => match self.check_value(q, value) {
                Ok(()) => return Ok(()),
                Err(kind) => kind,
            },
        };
        Err(AnswerProblem::new(name, kind))
    }

    /// The questions (and notes) to ask, in form order, given the answers so far. Walking the
    /// form, call it after each answer: a question's relevance depends only on earlier ones.
    pub fn relevant_questions(&self, answers: &BTreeMap<String, String>) -> Vec<&Question> {
        let mut effective = BTreeMap::new();
        let mut out = Vec::new();
        for q in self.questions() {
            if !self.is_relevant_given(q, &effective) {
                continue;
            }
            if let Some(v) = answers.get(&q.name).filter(|v| !is_blank(v)) {
                if q.kind.takes_answer() && self.check_value(q, v).is_ok() {
                    effective.insert(q.name.clone(), v.clone());
                }
            }
            out.push(q);
        }
        out
    }

    fn is_relevant_given(&self, q: &Question, effective: &BTreeMap<String, String>) -> bool {
        q.relevant.as_ref().is_none_or(|r| r.eval("", effective))
    }

    /// Type, choices, length and constraint of a non-blank answer to a question that takes one.
    fn check_value(&self, q: &Question, v: &str) -> Result<(), ProblemKind> {
        if v.chars().count() > ANSWER_VALUE_MAX {
            return Err(ProblemKind::WrongType {
                expected: format!("answers are at most {ANSWER_VALUE_MAX} characters"),
            });
        }
        self.check_type(q, v)?;
        match &q.constraint {
            Some(c) if !c.eval(v, &BTreeMap::new()) => Err(ProblemKind::ConstraintFailed {
                message: q
                    .constraint_message
                    .clone()
                    .unwrap_or_else(|| format!("the answer must satisfy {}", c.source())),
            }),
            _ => Ok(()),
        }
    }

    fn check_type(&self, q: &Question, v: &str) -> Result<(), ProblemKind> {
        let wrong = |what: &str, why: String| ProblemKind::WrongType {
            expected: format!("expected {what}; {v:?} {why}"),
        };
        match &q.kind {
            QuestionType::Text | QuestionType::Note => Ok(()),
            QuestionType::Integer => value::parse_integer(v)
                .map(drop)
                .map_err(|e| wrong("a whole number such as 4 or -2", e)),
            QuestionType::Decimal => value::parse_decimal(v)
                .map(drop)
                .map_err(|e| wrong("a decimal number such as 2.5", e)),
            QuestionType::Date => value::parse_date(v)
                .map(drop)
                .map_err(|e| wrong("a date written YYYY-MM-DD", e)),
            QuestionType::Geopoint => value::parse_geopoint(v)
                .map(drop)
                .map_err(|e| wrong("a location 'latitude longitude [altitude [accuracy]]'", e)),
            QuestionType::SelectOne { .. } => self.check_choices(q, std::iter::once(v)),
            QuestionType::SelectMultiple { .. } => self.check_choices(q, value::split_multiple(v)),
        }
    }

    fn check_choices<'v>(
        &self,
        q: &Question,
        names: impl Iterator<Item = &'v str>,
    ) -> Result<(), ProblemKind> {
        let choices = self.choices(q).unwrap_or_default();
        let mut seen = Vec::new();
        for name in names {
            if seen.contains(&name) || !choices.iter().any(|c| c.name == name) {
                return Err(ProblemKind::InvalidChoice {
                    value: name.to_string(),
                    allowed: choices.iter().map(|c| c.name.clone()).collect(),
                });
            }
            seen.push(name);
        }
        Ok(())
    }
}

fn not_relevant(q: &Question) -> AnswerProblem {
    let relevant = q.relevant.as_ref().map(|r| r.source().to_string()).unwrap_or_default();
    AnswerProblem::new(&q.name, ProblemKind::AnsweredButNotRelevant { relevant })
}
