//! The guided visit's walk through a form (issue 15): which question comes next, stepping
//! back, relevance, and what the walk hands back — a pure state machine that the terminal
//! prompt (`cli::guided`) drives one step at a time.
//!
//! Owns the order of the walk: questions come in form order, skipping those whose `relevant`
//! does not hold on the answers so far; notes are shown and passed; stepping back returns to
//! the previous question answered (never to a note), keeping later answers as defaults for
//! when the walk comes forward again. What the walk hands back ([`Walk::answers`]) holds only
//! the answers of questions that apply, so it always passes [`Form::check_answers`] (a
//! property test keeps that true). Typed input is normalised here (surrounding whitespace
//! dropped; inner runs of spaces in locations and multiple choices made single).
//!
//! This module must not print, prompt, read a terminal or store anything: the checks are
//! [`Form::check_one`]'s and the I/O is the caller's.

use std::collections::BTreeMap;

use super::answers::AnswerProblem;
use super::form::{Form, Question, QuestionType};
use super::value;

/// Where the walk stands.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Step<'f> {
    /// A note to show; then call [`Walk::pass_note`].
    Note(&'f Question),
    /// A question to ask; its answer so far is [`Walk::current`].
    Ask(&'f Question),
    /// Every question that applies has been through: show [`Walk::summary`] and confirm.
    Review,
}

/// One line of the summary: a question that applies and its answer, as the officer reads it
/// (choice labels rather than names), `None` when left blank.
#[derive(Debug, Clone, PartialEq)]
pub struct SummaryLine<'f> {
    pub question: &'f Question,
    pub shown: Option<String>,
}

/// A walk through `form`, from the first question to the review.
#[derive(Debug, Clone)]
pub struct Walk<'f> {
    form: &'f Form,
    answers: BTreeMap<String, String>,
    /// The index of the question or note the walk is at; `None` at the review.
    at: Option<usize>,
    /// The questions answered on the way here, in order: where stepping back goes.
    trail: Vec<usize>,
}

impl<'f> Walk<'f> {
    /// Starts at the first question that applies. `defaults` are offered as the answers so far
    /// (a visit's current answers when it is edited; empty for a new visit).
    pub fn new(form: &'f Form, defaults: BTreeMap<String, String>) -> Walk<'f> {
        let mut walk = Walk {
            form,
            answers: defaults,
            at: None,
            trail: Vec::new(),
        };
        walk.at = walk.next_after(None);
        walk
    }

    /// The form walked.
    pub fn form(&self) -> &'f Form {
        self.form
    }

    /// What to do now.
    pub fn step(&self) -> Step<'f> {
        match self.at.map(|i| &self.form.questions()[i]) {
            None => Step::Review,
            Some(q) if q.kind.takes_answer() => Step::Ask(q),
            Some(q) => Step::Note(q),
        }
    }

    /// The answer so far of the question being asked (the default to offer), if any.
    pub fn current(&self) -> Option<&str> {
        let q = &self.form.questions()[self.at?];
        self.answers
            .get(&q.name)
            .map(String::as_str)
            .filter(|v| !v.trim().is_empty())
    }

    /// Which question this is among those that apply now, and how many there are (notes
    /// not counted): `(3, 9)` for "3 of 9". At the review, `(n + 1, n)`.
    pub fn progress(&self) -> (usize, usize) {
        let asked: Vec<usize> = self
            .applicable()
            .into_iter()
            .filter(|&i| self.form.questions()[i].kind.takes_answer())
            .collect();
        let here = match self.at {
            Some(at) => asked.iter().filter(|&&i| i < at).count() + 1,
            None => asked.len() + 1,
        };
        (here, asked.len())
    }

    /// Checks `input` as the answer to the question being asked, without moving: the value
    /// that would be stored (normalised; empty for no answer), or why it is refused.
    pub fn check(&self, input: &str) -> Result<String, AnswerProblem> {
        let Step::Ask(q) = self.step() else {
            return Err(AnswerProblem {
                question: String::new(),
                kind: super::ProblemKind::NoteAnswered,
            });
        };
        let value = normalise(&q.kind, input);
        self.form.check_one(&q.name, &value)?;
        Ok(value)
    }

    /// Answers the question being asked and moves to the next one that applies (or the
    /// review). A refused answer leaves the walk where it was.
    pub fn answer(&mut self, input: &str) -> Result<(), AnswerProblem> {
        let value = self.check(input)?;
        let (Some(at), Step::Ask(q)) = (self.at, self.step()) else {
            return Ok(());
        };
        if value.is_empty() {
            self.answers.remove(&q.name);
        } else {
            self.answers.insert(q.name.clone(), value);
        }
        self.trail.push(at);
        self.at = self.next_after(Some(at));
        Ok(())
    }

    /// Moves past the note being shown (does nothing elsewhere).
    pub fn pass_note(&mut self) {
        if let Step::Note(_) = self.step() {
            self.at = self.next_after(self.at);
        }
    }

    /// Steps back to the previous question answered. `false` when there is none: the officer
    /// backed out of the first question.
    pub fn back(&mut self) -> bool {
        match self.trail.pop() {
            Some(i) => {
                self.at = Some(i);
                true
            }
            None => false,
        }
    }

    /// Every question that applies, with its answer, in form order (notes left out).
    pub fn summary(&self) -> Vec<SummaryLine<'f>> {
        let kept = self.answers();
        self.applicable()
            .into_iter()
            .map(|i| &self.form.questions()[i])
            .filter(|q| q.kind.takes_answer())
            .map(|q| SummaryLine {
                question: q,
                shown: kept.get(&q.name).map(|v| shown(self.form, q, v)),
            })
            .collect()
    }

    /// The answers of the visit: those of questions that apply, not blank. Answers given to
    /// questions that stopped applying (an earlier answer changed) are dropped.
    pub fn answers(&self) -> BTreeMap<String, String> {
        let qs = self.form.questions();
        self.applicable()
            .into_iter()
            .filter(|&i| qs[i].kind.takes_answer())
            .filter_map(|i| {
                let name = &qs[i].name;
                let v = self.answers.get(name).filter(|v| !v.trim().is_empty())?;
                Some((name.clone(), v.clone()))
            })
            .collect()
    }

    /// The indices of the questions and notes that apply, given the answers so far.
    fn applicable(&self) -> Vec<usize> {
        let relevant = self.form.relevant_questions(&self.answers);
        let qs = self.form.questions();
        (0..qs.len())
            .filter(|&i| relevant.iter().any(|r| std::ptr::eq(*r, &qs[i])))
            .collect()
    }

    /// The first question or note after `from` (from the start for `None`) that applies. A
    /// question's relevance depends only on earlier answers, which are settled by then.
    fn next_after(&self, from: Option<usize>) -> Option<usize> {
        self.applicable()
            .into_iter()
            .find(|&i| from.is_none_or(|f| i > f))
    }
}

/// Typed input as it would be stored: surrounding whitespace dropped; in a location or a
/// multiple choice, runs of whitespace become single spaces (the stored spelling).
pub fn normalise(kind: &QuestionType, input: &str) -> String {
    match kind {
        QuestionType::Geopoint | QuestionType::SelectMultiple { .. } => {
            input.split_whitespace().collect::<Vec<_>>().join(" ")
        }
        _ => input.trim().to_string(),
    }
}

/// An answer as the officer reads it: choice labels for selects (comma-separated for a
/// multiple choice), the value itself otherwise.
pub fn shown(form: &Form, q: &Question, value: &str) -> String {
    let Some(choices) = form.choices(q) else {
        return value.to_string();
    };
    let label = |name: &str| {
        choices
            .iter()
            .find(|c| c.name == name)
            .map_or_else(|| name.to_string(), |c| c.label.clone())
    };
    match q.kind {
        QuestionType::SelectMultiple { .. } => value::split_multiple(value)
            .map(label)
            .collect::<Vec<_>>()
            .join(", "),
        _ => label(value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::forms::{Choice, Expr, FormParts, ProblemKind};
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

    /// intro (note), size (required integer > 0), water (required yes/no), source (when water
    /// is yes), depth (when source is 'well'), crops (multiple), when (date), gps.
    fn form() -> Form {
        let mut size = q("size", QuestionType::Integer);
        size.required = true;
        size.constraint = Some(Expr::parse(". > 0").unwrap());
        size.constraint_message = Some("at least one person".into());
        let mut water = q("water", QuestionType::SelectOne { list: "yn".into() });
        water.required = true;
        let mut source = q("source", QuestionType::Text);
        source.relevant = Some(Expr::parse("${water} = 'yes'").unwrap());
        let mut depth = q("depth", QuestionType::Decimal);
        depth.relevant = Some(Expr::parse("${source} = 'well'").unwrap());
        let choice = |n: &str, l: &str| Choice {
            name: n.into(),
            label: l.into(),
        };
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
                        list: "crops".into(),
                    },
                ),
                q("when", QuestionType::Date),
                q("gps", QuestionType::Geopoint),
            ],
            choices: [
                ("yn".into(), vec![choice("yes", "Yes"), choice("no", "No")]),
                (
                    "crops".into(),
                    vec![choice("rice", "Rice"), choice("maize", "Maize")],
                ),
            ]
            .into_iter()
            .collect(),
        })
        .unwrap()
    }

    fn at(w: &Walk<'_>) -> String {
        match w.step() {
            Step::Note(q) => format!("note {}", q.name),
            Step::Ask(q) => q.name.clone(),
            Step::Review => "review".into(),
        }
    }

    #[test]
    fn a_walk_passes_notes_and_skips_what_does_not_apply() {
        let f = form();
        let mut w = Walk::new(&f, BTreeMap::new());
        assert_eq!(at(&w), "note intro");
        w.pass_note();
        assert_eq!(at(&w), "size");
        assert_eq!(w.progress(), (1, 5));
        w.answer(" 4 ").unwrap();
        w.answer("no").unwrap();
        assert_eq!(at(&w), "crops", "source and depth do not apply");
        w.answer("rice   maize").unwrap();
        w.answer("").unwrap();
        w.answer("-1.5  36.8").unwrap();
        assert_eq!(at(&w), "review");
        let got = w.answers();
        assert_eq!(got["size"], "4");
        assert_eq!(got["crops"], "rice maize");
        assert_eq!(got["gps"], "-1.5 36.8");
        assert!(!got.contains_key("when"));
        assert_eq!(f.check_answers(&got), Ok(()));
    }

    #[test]
    fn relevance_follows_earlier_answers() {
        let f = form();
        let mut w = Walk::new(&f, BTreeMap::new());
        w.pass_note();
        w.answer("2").unwrap();
        w.answer("yes").unwrap();
        assert_eq!(at(&w), "source");
        assert_eq!(w.progress(), (3, 6));
        w.answer("well").unwrap();
        assert_eq!(at(&w), "depth");
        assert_eq!(w.progress(), (4, 7));
    }

    #[test]
    fn a_refused_answer_leaves_the_walk_where_it_was() {
        let f = form();
        let mut w = Walk::new(&f, BTreeMap::new());
        w.pass_note();
        let e = w.answer("0").unwrap_err();
        assert_eq!(e.kind.to_string(), "at least one person");
        let e = w.answer("").unwrap_err();
        assert_eq!(e.kind, ProblemKind::MissingRequired);
        assert!(matches!(
            w.answer("four").unwrap_err().kind,
            ProblemKind::WrongType { .. }
        ));
        assert_eq!(at(&w), "size");
        w.answer("3").unwrap();
        assert!(matches!(
            w.answer("maybe").unwrap_err().kind,
            ProblemKind::InvalidChoice { .. }
        ));
        assert_eq!(at(&w), "water");
    }

    #[test]
    fn stepping_back_returns_to_the_previous_answer_and_keeps_later_ones() {
        let f = form();
        let mut w = Walk::new(&f, BTreeMap::new());
        w.pass_note();
        assert!(!w.back(), "nothing to step back to before the first answer");
        w.answer("3").unwrap();
        w.answer("yes").unwrap();
        w.answer("well").unwrap();
        assert_eq!(at(&w), "depth");
        assert!(w.back());
        assert_eq!(at(&w), "source");
        assert_eq!(w.current(), Some("well"));
        assert!(w.back());
        assert_eq!(at(&w), "water");
        // Changing water makes source (and so depth) stop applying: they are dropped.
        w.answer("no").unwrap();
        assert_eq!(at(&w), "crops");
        assert!(!w.answers().contains_key("source"));
        // Back from crops goes to water, then size; the note before size is never a stop.
        assert!(w.back());
        assert_eq!(at(&w), "water");
        assert!(w.back());
        assert_eq!(at(&w), "size");
        assert_eq!(w.current(), Some("3"));
        assert!(!w.back());
    }

    #[test]
    fn defaults_are_offered_and_the_review_can_step_back() {
        let f = form();
        let start: BTreeMap<String, String> = [("size", "5"), ("water", "no"), ("source", "x")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let mut w = Walk::new(&f, start);
        w.pass_note();
        assert_eq!(w.current(), Some("5"));
        w.answer("5").unwrap();
        assert_eq!(w.current(), Some("no"));
        w.answer("no").unwrap();
        for _ in 0..3 {
            w.answer("").unwrap();
        }
        assert_eq!(at(&w), "review");
        let lines = w.summary();
        assert_eq!(lines.len(), 5);
        assert_eq!(lines[1].shown.as_deref(), Some("No"));
        assert!(w.back());
        assert_eq!(at(&w), "gps");
        // source does not apply with water = no: not handed back although it was a default.
        assert!(!w.answers().contains_key("source"));
    }

    #[test]
    fn shown_values_use_choice_labels() {
        let f = form();
        let crops = f.question("crops").unwrap();
        assert_eq!(shown(&f, crops, "rice maize"), "Rice, Maize");
        assert_eq!(shown(&f, f.question("size").unwrap(), "4"), "4");
    }

    /// One officer action: answer the question with one of a few candidate inputs (valid or
    /// not), pass a note, or step back.
    #[derive(Debug, Clone)]
    enum Action {
        Answer(usize),
        Back,
    }

    fn candidates(kind: &QuestionType) -> &'static [&'static str] {
        match kind {
            QuestionType::Integer => &["3", "0", "x", ""],
            QuestionType::SelectOne { .. } => &["yes", "no", "maybe", ""],
            QuestionType::Text => &["well", "river", ""],
            QuestionType::Decimal => &["2.5", "1e3", ""],
            QuestionType::SelectMultiple { .. } => &["rice", "rice maize", "rice rice", ""],
            QuestionType::Date => &["2024-02-29", "2023-02-29", ""],
            QuestionType::Geopoint => &["1 2", "91 0", ""],
            QuestionType::Note => &[""],
        }
    }

    proptest! {
        #[test]
        fn whatever_the_officer_does_the_walk_hands_back_valid_answers(
            actions in proptest::collection::vec(
                prop_oneof![3 => (0usize..4).prop_map(Action::Answer), 1 => Just(Action::Back)],
                0..60,
            )
        ) {
            let f = form();
            let mut w = Walk::new(&f, BTreeMap::new());
            for a in actions {
                match (w.step(), a) {
                    (Step::Note(_), _) => w.pass_note(),
                    (Step::Ask(q), Action::Answer(n)) => {
                        let c = candidates(&q.kind);
                        let before = at(&w);
                        if w.answer(c[n % c.len()]).is_err() {
                            prop_assert_eq!(at(&w), before);
                        }
                    }
                    (_, Action::Back) => { w.back(); }
                    (Step::Review, _) => {}
                }
                let (here, total) = w.progress();
                prop_assert!(here >= 1 && here <= total + 1);
            }
            if w.step() == Step::Review {
                prop_assert_eq!(f.check_answers(&w.answers()), Ok(()));
            }
            // Whatever the state, the answers handed back never break a rule other than a
            // missing required one (still to be asked).
            if let Err(problems) = f.check_answers(&w.answers()) {
                prop_assert!(problems.iter().all(AnswerProblem::is_missing_required));
            }
        }
    }
}
