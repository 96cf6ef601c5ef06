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
        write!(f, "{}: {}", self.question, self.kind)
    }
}

/// The reason alone, without the question's name (a prompt shows it under the question).
impl fmt::Display for ProblemKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProblemKind::UnknownQuestion => write!(f, "the form has no such question"),
            ProblemKind::NoteAnswered => write!(f, "is a note and takes no answer"),
            ProblemKind::WrongType { expected } => write!(f, "{expected}"),
            ProblemKind::InvalidChoice { value, allowed } => {
                write!(
                    f,
                    "{value:?} is not a choice; choose from {}",
                    allowed.join(", ")
                )
            }
            ProblemKind::ConstraintFailed { message } => write!(f, "{message}"),
            ProblemKind::MissingRequired => write!(f, "required but not answered"),
            ProblemKind::AnsweredButNotRelevant { relevant } => write!(
                f,
                "answered, but the question does not apply because {relevant} is false"
            ),
        }
    }
}

fn is_blank(v: &str) -> bool {
    v.trim().is_empty()
}

impl Form {
    /// Checks all answers of a visit. Problems come in form order, then unknown questions.
    pub fn check_answers(
        &self,
        answers: &BTreeMap<String, String>,
    ) -> Result<(), Vec<AnswerProblem>> {
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
                (None, _) if q.required => {
                    problems.push(AnswerProblem::new(&q.name, ProblemKind::MissingRequired))
                }
                (None, _) => {}
                (Some(_), false) => {
                    problems.push(AnswerProblem::new(&q.name, ProblemKind::NoteAnswered))
                }
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
    let relevant = q
        .relevant
        .as_ref()
        .map(|r| r.source().to_string())
        .unwrap_or_default();
    AnswerProblem::new(&q.name, ProblemKind::AnsweredButNotRelevant { relevant })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::forms::{Choice, Expr, FormParts};
    use proptest::prelude::*;

    fn q(name: &str, kind: QuestionType) -> Question {
        Question {
            name: name.into(),
            kind,
            label: format!("{name}?"),
            hint: None,
            required: false,
            constraint: None,
            constraint_message: None,
            relevant: None,
        }
    }

    fn expr(s: &str) -> Option<Expr> {
        Some(Expr::parse(s).unwrap())
    }

    fn form() -> Form {
        let list = |l: &str| l.to_string();
        let mut size = q("size", QuestionType::Integer);
        size.required = true;
        size.constraint = expr(". > 0");
        let mut water = q("water", QuestionType::SelectOne { list: list("yn") });
        water.required = true;
        let mut source = q("source", QuestionType::Text);
        source.required = true;
        source.relevant = expr("${water} = 'yes'");
        let mut depth = q("depth", QuestionType::Decimal);
        depth.relevant = expr("${source} = 'well'");
        let choices = [
            ("yn", vec!["yes", "no"]),
            ("crops", vec!["rice", "maize", "none"]),
        ];
        Form::new(FormParts {
            form_id: "t".into(),
            title: "T".into(),
            author_version: None,
            questions: vec![
                q("intro", QuestionType::Note),
                size,
                water,
                source,
                depth,
                q(
                    "crops",
                    QuestionType::SelectMultiple {
                        list: list("crops"),
                    },
                ),
                q("when", QuestionType::Date),
                q("gps", QuestionType::Geopoint),
            ],
            choices: choices
                .into_iter()
                .map(|(l, names)| {
                    let cs = names
                        .into_iter()
                        .map(|n| Choice {
                            name: n.into(),
                            label: n.to_uppercase(),
                        })
                        .collect();
                    (l.to_string(), cs)
                })
                .collect(),
        })
        .unwrap()
    }

    fn answers(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn kinds(r: Result<(), Vec<AnswerProblem>>) -> Vec<(String, ProblemKind)> {
        r.err()
            .unwrap_or_default()
            .into_iter()
            .map(|p| (p.question, p.kind))
            .collect()
    }

    #[test]
    fn each_type_checks_its_encoding() {
        let f = form();
        assert!(f.check_one("size", "4").is_ok());
        assert!(matches!(
            f.check_one("size", "4.5").unwrap_err().kind,
            ProblemKind::WrongType { .. }
        ));
        assert!(matches!(
            f.check_one("size", "-3").unwrap_err().kind,
            ProblemKind::ConstraintFailed { .. }
        ));
        assert!(f.check_one("depth", "2.5").is_ok());
        assert!(f.check_one("when", "2024-02-29").is_ok());
        assert!(f.check_one("when", "2023-02-29").is_err());
        assert!(f.check_one("gps", "1.5 2.5").is_ok());
        assert!(f.check_one("gps", "100 2.5").is_err());
        assert!(f.check_one("crops", "rice maize").is_ok());
        assert!(matches!(
            f.check_one("crops", "rice rice").unwrap_err().kind,
            ProblemKind::InvalidChoice { .. }
        ));
        assert!(matches!(f.check_one("water", "maybe").unwrap_err().kind,
            ProblemKind::InvalidChoice { ref allowed, .. } if allowed == &["yes", "no"]));
        assert_eq!(
            f.check_one("intro", "x").unwrap_err().kind,
            ProblemKind::NoteAnswered
        );
        assert_eq!(
            f.check_one("nope", "x").unwrap_err().kind,
            ProblemKind::UnknownQuestion
        );
        assert_eq!(
            f.check_one("size", " ").unwrap_err().kind,
            ProblemKind::MissingRequired
        );
        assert!(f.check_one("depth", "").is_ok());
        let long = "x".repeat(ANSWER_VALUE_MAX + 1);
        assert!(matches!(
            f.check_one("source", &long).unwrap_err().kind,
            ProblemKind::WrongType { .. }
        ));
    }

    #[test]
    fn constraint_messages_default_to_the_expression() {
        let p = form().check_one("size", "0").unwrap_err();
        assert_eq!(p.to_string(), "size: the answer must satisfy . > 0");
    }

    #[test]
    fn required_answers_only_count_when_relevant() {
        let f = form();
        assert_eq!(
            f.check_answers(&answers(&[("size", "3"), ("water", "no")])),
            Ok(())
        );
        assert_eq!(
            kinds(f.check_answers(&answers(&[("size", "3"), ("water", "yes")]))),
            [("source".to_string(), ProblemKind::MissingRequired)]
        );
        let missing = f.check_answers(&answers(&[])).unwrap_err();
        assert!(missing.iter().all(AnswerProblem::is_missing_required));
        assert_eq!(missing.len(), 2);
    }

    #[test]
    fn answers_to_questions_that_do_not_apply_are_refused() {
        let f = form();
        let got = kinds(f.check_answers(&answers(&[
            ("size", "3"),
            ("water", "no"),
            ("source", "well"),
        ])));
        assert_eq!(got.len(), 1);
        assert!(
            matches!(&got[0], (q, ProblemKind::AnsweredButNotRelevant { relevant }) if q == "source" && relevant == "${water} = 'yes'")
        );
        // depth hangs on source, which does not apply: it is blank for depth, so depth is off too
        let got = kinds(f.check_answers(&answers(&[
            ("size", "3"),
            ("water", "no"),
            ("source", "well"),
            ("depth", "3"),
        ])));
        assert_eq!(got.len(), 2);
    }

    #[test]
    fn relevant_questions_walk_the_form_in_order() {
        let f = form();
        let names = |a: &[(&str, &str)]| -> Vec<String> {
            f.relevant_questions(&answers(a))
                .iter()
                .map(|q| q.name.clone())
                .collect()
        };
        assert_eq!(
            names(&[]),
            ["intro", "size", "water", "crops", "when", "gps"]
        );
        assert_eq!(
            names(&[("water", "yes")]),
            ["intro", "size", "water", "source", "crops", "when", "gps"]
        );
        assert_eq!(names(&[("water", "yes"), ("source", "well")]).len(), 8);
        assert_eq!(names(&[("water", "no"), ("source", "well")]).len(), 6);
    }

    #[test]
    fn unknown_questions_come_last() {
        let got =
            kinds(form().check_answers(&answers(&[("aaa", "1"), ("size", "x"), ("water", "no")])));
        assert!(matches!(got[0].1, ProblemKind::WrongType { .. }));
        assert_eq!(got[1], ("aaa".to_string(), ProblemKind::UnknownQuestion));
    }

    proptest! {
        #[test]
        fn accepted_integers_and_decimals_round_trip(n in any::<i64>(), x in -1e9f64..1e9) {
            let f = form();
            prop_assert!(f.check_one("size", &n.to_string()).is_ok() == (n > 0));
            prop_assert!(f.check_one("depth", &x.to_string()).is_ok());
            prop_assert_eq!(value::parse_decimal(&x.to_string()), Ok(x));
        }

        #[test]
        fn any_subset_of_choices_is_a_valid_multiple_answer(mask in 1u8..8) {
            let names: Vec<&str> = ["rice", "maize", "none"].into_iter().enumerate()
                .filter(|(i, _)| mask & (1 << i) != 0).map(|(_, n)| n).collect();
            let v = names.join(" ");
            prop_assert!(form().check_one("crops", &v).is_ok());
            prop_assert_eq!(value::split_multiple(&v).collect::<Vec<_>>(), names);
        }

        #[test]
        fn check_one_never_panics_and_agrees_with_check_answers(v in "\\PC{0,30}") {
            let f = form();
            for name in ["size", "depth", "crops", "when", "gps"] {
                let one = f.check_one(name, &v).is_ok();
                let mut a = answers(&[("size", "1"), ("water", "yes"), ("source", "well")]);
                a.insert(name.to_string(), v.clone());
                let all = f.check_answers(&a).is_ok();
                prop_assert_eq!(one, all, "{} = {:?}", name, v);
            }
        }
    }
}
