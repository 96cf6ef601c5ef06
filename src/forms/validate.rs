//! The rules a form definition must keep, whatever it was read from (a workbook, CSV files or
//! JSON from the wire): valid unique names, labels, choice lists that exist, notes without
//! answers, constraints over `.` only, relevance over earlier questions only, choice literals
//! that are choices of their list.
//!
//! Owns: those rules and the [`Issue`]s that report them, located by question or choice index
//! (the XLSForm reader maps these to sheet rows). It must not read files or answers.

use std::collections::{BTreeMap, HashMap};

use super::expr::Expr;
use super::form::{FormParts, Question, QuestionType};
use crate::model::{validate_answer_key, ANSWERS_MAX};

/// Longest choice name, in characters.
pub const CHOICE_NAME_MAX: usize = 64;
/// Longest form title, in characters.
pub const TITLE_MAX: usize = 200;

/// What part of a form an [`Issue`] is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Site {
    FormId,
    Title,
    /// The form as a whole (e.g. no questions).
    Form,
    /// `questions[i]`.
    Question(usize),
    /// A choice list as a whole.
    List(String),
    /// `choices[list][i]`.
    Choice {
        list: String,
        index: usize,
    },
}

/// One broken rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    pub site: Site,
    pub message: String,
}

impl Issue {
    fn new(site: Site, message: impl Into<String>) -> Issue {
        Issue {
            site,
            message: message.into(),
        }
    }

    /// The issue as a sentence naming its place in the form's JSON.
    pub fn describe_in(&self, parts: &FormParts) -> String {
        let place = match &self.site {
            Site::FormId => "form_id".to_string(),
            Site::Title => "title".to_string(),
            Site::Form => "form".to_string(),
            Site::Question(i) => match parts.questions.get(*i) {
                Some(q) => format!("questions[{i}] ({:?})", q.name),
                None => format!("questions[{i}]"),
            },
            Site::List(list) => format!("choices.{list}"),
            Site::Choice { list, index } => format!("choices.{list}[{index}]"),
        };
        format!("{place}: {}", self.message)
    }
}

/// Checks every rule; returns all issues found, in form order.
pub fn validate(parts: &FormParts) -> Result<(), Vec<Issue>> {
    let mut issues = Vec::new();
    if let Err(e) = validate_answer_key(&parts.form_id) {
        issues.push(Issue::new(Site::FormId, format!("form_id: {}", e.message)));
    }
    let title_len = parts.title.trim().chars().count();
    if title_len == 0 || title_len > TITLE_MAX {
        issues.push(Issue::new(
            Site::Title,
            format!("form_title must be 1 to {TITLE_MAX} characters"),
        ));
    }
    check_lists(parts, &mut issues);
    check_questions(parts, &mut issues);
    if issues.is_empty() {
        Ok(())
    } else {
        Err(issues)
    }
}

fn check_lists(parts: &FormParts, issues: &mut Vec<Issue>) {
    for (list, choices) in &parts.choices {
        if list.is_empty() || list.chars().any(char::is_whitespace) {
            issues.push(Issue::new(
                Site::List(list.clone()),
                format!("list name {list:?} must be one word"),
            ));
        }
        if choices.is_empty() {
            issues.push(Issue::new(
                Site::List(list.clone()),
                "the list has no choices",
            ));
        }
        let mut seen = HashMap::new();
        for (index, c) in choices.iter().enumerate() {
            let site = || Site::Choice {
                list: list.clone(),
                index,
            };
            let len = c.name.chars().count();
            if len == 0 || len > CHOICE_NAME_MAX || c.name.chars().any(char::is_whitespace) {
                issues.push(Issue::new(
                    site(),
                    format!(
                        "choice name {:?} must be 1 to {CHOICE_NAME_MAX} characters without \
                         spaces (select_multiple answers are separated by spaces)",
                        c.name
                    ),
                ));
            }
            if c.label.trim().is_empty() {
                issues.push(Issue::new(
                    site(),
                    format!("choice {:?} has no label", c.name),
                ));
            }
            if let Some(first) = seen.insert(c.name.as_str(), index) {
                issues.push(Issue::new(
                    site(),
                    format!(
                        "choice {:?} appears twice in list {list:?} (first at index {first})",
                        c.name
                    ),
                ));
            }
        }
    }
}

fn check_questions(parts: &FormParts, issues: &mut Vec<Issue>) {
    let mut index_of: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, q) in parts.questions.iter().enumerate() {
        let mut push = |m: String| issues.push(Issue::new(Site::Question(i), m));
        if let Err(e) = validate_answer_key(&q.name) {
            push(format!("name: {}", e.message));
        }
        if let Some(&first) = index_of.get(q.name.as_str()) {
            push(format!(
                "name {:?} is already used by question {}",
                q.name,
                first + 1
            ));
        } else {
            index_of.insert(&q.name, i);
        }
        for m in question_rules(parts, q) {
            push(m);
        }
        for m in expression_rules(parts, q, i, &index_of) {
            push(m);
        }
    }
    let answerable = parts
        .questions
        .iter()
        .filter(|q| q.kind.takes_answer())
        .count();
    if answerable == 0 {
        issues.push(Issue::new(Site::Form, "the form has no questions"));
    }
    if answerable > ANSWERS_MAX {
        issues.push(Issue::new(
            Site::Form,
            format!("{answerable} questions; a visit holds at most {ANSWERS_MAX} answers"),
        ));
    }
}

/// Rules about one question on its own.
fn question_rules(parts: &FormParts, q: &Question) -> Vec<String> {
    let mut out = Vec::new();
    if q.label.trim().is_empty() {
        out.push(format!("question {:?} has no label", q.name));
    }
    if let Some(list) = q.kind.list() {
        if !parts.choices.contains_key(list) {
            out.push(format!("list {list:?} is not in the choices sheet"));
        }
    }
    if q.kind == QuestionType::Note {
        if q.required {
            out.push("a note takes no answer, so it cannot be required".into());
        }
        if q.constraint.is_some() {
            out.push("a note takes no answer, so it cannot have a constraint".into());
        }
    }
    if q.constraint_message.is_some() && q.constraint.is_none() {
        out.push("constraint_message without a constraint".into());
    }
    out
}

/// Rules about a question's constraint and relevant expressions.
fn expression_rules(
    parts: &FormParts,
    q: &Question,
    index: usize,
    index_of: &BTreeMap<&str, usize>,
) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(c) = &q.constraint {
        if let Some(r) = c.references().first() {
            out.push(format!(
                "constraint {:?}: refers to ${{{r}}}; constraints check the answer itself ('.') \
                 and cannot use other answers",
                c.source()
            ));
        }
        out.extend(choice_rules(parts, c, "constraint", Some(q)));
    }
    if let Some(r) = &q.relevant {
        let src = r.source();
        if r.uses_current() {
            out.push(format!(
                "relevant {src:?}: '.' has no meaning here; use ${{name}}"
            ));
        }
        for name in r.references() {
            let problem = match index_of.get(name) {
                _ if name == q.name => Some("the question cannot depend on itself".to_string()),
                Some(&j) if j < index && !parts.questions[j].kind.takes_answer() => {
                    Some(format!("${{{name}}} is a note and has no answer"))
                }
                Some(&j) if j < index => None,
                _ if parts.questions.iter().any(|o| o.name == name) => Some(format!(
                    "${{{name}}} comes later in the form; relevance may only use earlier answers"
                )),
                _ => Some(format!("there is no question named {name:?}")),
            };
            if let Some(p) = problem {
                out.push(format!("relevant {src:?}: {p}"));
            }
        }
        out.extend(choice_rules(parts, r, "relevant", None));
    }
    out
}

/// Choice literals (`${q} = 'x'`, `selected(${q}, 'x')`) must be choices of `q`'s list.
fn choice_rules(parts: &FormParts, e: &Expr, column: &str, this: Option<&Question>) -> Vec<String> {
    let mut out = Vec::new();
    for test in e.choice_tests() {
        let subject = match test.question {
            None => this,
            Some(name) => parts.questions.iter().find(|o| o.name == name),
        };
        let Some(subject) = subject else { continue };
        let src = e.source();
        match subject.kind.list() {
            Some(list) => {
                let known = parts
                    .choices
                    .get(list)
                    .is_none_or(|cs| cs.iter().any(|c| c.name == test.choice));
                if !known {
                    out.push(format!(
                        "{column} {src:?}: {:?} is not a choice of list {list:?}",
                        test.choice
                    ));
                }
            }
            None if test.selected => out.push(format!(
                "{column} {src:?}: selected() needs a select question; {:?} is {}",
                subject.name, subject.kind
            )),
            None => {}
        }
    }
    out
}
