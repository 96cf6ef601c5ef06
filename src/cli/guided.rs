//! The guided visit on a terminal (issue 15): `visit add` / `visit edit` walk the officer
//! through the team's current form with dialoguer prompts — text and numbers with validation,
//! a list for one choice, a checklist for several, dates and locations as validated text,
//! notes printed — then show the whole visit and ask "Write this visit?".
//!
//! Keys: Enter answers, Esc steps back to the previous question (at the first question it
//! leaves, as does Esc at a list), Ctrl-C discards the visit. Leaving writes nothing and is
//! exit 130. Which question comes next, relevance and stepping back are
//! [`crate::forms::walk`]'s (pure, unit-tested); the checks are [`crate::forms`]'. This module
//! only asks and shows: it must not decide what is valid nor write anything (the caller
//! writes what [`walk`] hands back, through the same checks as `--answer`).

use std::collections::BTreeMap;
use std::io::{self, IsTerminal};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use console::{style, Key, Term};
use dialoguer::theme::{ColorfulTheme, Theme};
use dialoguer::{Confirm, MultiSelect, Select};

use serde_json::Value;
use uuid::Uuid;

use super::Failure;
use crate::client::store::Store;
use crate::client::Error;
use crate::exit;
use crate::forms::walk::{shown, Step, Walk};
use crate::forms::{PublishedForm, Question, QuestionType};
use crate::model::{answers_of, EntityType, FieldMap, ANSWER_PREFIX};

/// What a guided walk ended with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Walked {
    /// The officer confirmed: the visit's answers (only those that apply, not blank).
    Answers(BTreeMap<String, String>),
    /// The officer left (Esc at the first question, "no" at the end, or an unusable
    /// terminal); nothing may be written.
    Cancelled,
}

/// Is there an officer to walk through a form? Only when stdin, stdout and stderr are all
/// terminals: a script that pipes input or captures the id is never prompted.
pub fn available() -> bool {
    io::stdin().is_terminal() && io::stdout().is_terminal() && io::stderr().is_terminal()
}

/// `visit add` without `--answer`: walks the current form when there is one and a terminal
/// to ask on, and puts the answers in `fields`. `Ok(false)`: the officer left, write nothing.
pub fn fill_new_visit(store: &Store, fields: &mut FieldMap) -> Result<bool, Failure> {
    let Some(form) = guided_form(store)? else {
        return Ok(true);
    };
    match walk(&form, BTreeMap::new(), None) {
        Walked::Cancelled => Ok(false),
        Walked::Answers(answers) => {
            for (k, v) in answers {
                fields.insert(format!("{ANSWER_PREFIX}{k}"), Value::String(v));
            }
            Ok(true)
        }
    }
}

/// `visit edit ID` without flags: walks the current form with the visit's answers as
/// defaults and puts what changed in `change` (answers set, and `null` for answers dropped).
/// `Ok(None)`: no form or no terminal (nothing was asked); `Ok(Some(false))`: the officer
/// left, write nothing.
pub fn fill_edit(
    store: &mut Store,
    id: Uuid,
    change: &mut FieldMap,
) -> Result<Option<bool>, Failure> {
    let Some(form) = guided_form(store)? else {
        return Ok(None);
    };
    // A deleted visit, or one in conflict, cannot be edited: the store says so (an empty edit
    // writes nothing) before the officer answers a single question.
    store.edit(EntityType::Visit, id, FieldMap::new())?;
    let rec = store
        .get(EntityType::Visit, id)?
        .ok_or_else(|| Failure::from(Error::NotFound(format!("no visit with id {id}"))))?;
    let before = answers_of(&rec.fields);
    let Walked::Answers(after) = walk(&form, before.clone(), Some(&before)) else {
        return Ok(Some(false));
    };
    for (k, v) in &after {
        if before.get(k) != Some(v) {
            change.insert(format!("{ANSWER_PREFIX}{k}"), Value::String(v.clone()));
        }
    }
    for k in before.keys().filter(|k| !after.contains_key(*k)) {
        change.insert(format!("{ANSWER_PREFIX}{k}"), Value::Null);
    }
    Ok(Some(true))
}

/// The form to walk: the current one, when there is a terminal to ask on.
fn guided_form(store: &Store) -> Result<Option<PublishedForm>, Failure> {
    if !available() {
        return Ok(None);
    }
    Ok(store.current_form()?)
}

/// Walks `form` on stderr, starting from `defaults` (a visit's answers when it is edited);
/// `before`, when given, are the answers the visit has now, to mark what changes.
pub fn walk(
    form: &PublishedForm,
    defaults: BTreeMap<String, String>,
    before: Option<&BTreeMap<String, String>>,
) -> Walked {
    let guard = CtrlC::arm();
    let term = Term::stderr();
    let theme = ColorfulTheme::default();
    let outcome = run(&term, &theme, form, defaults, before);
    guard.disarm();
    match outcome {
        Ok(Some(answers)) => Walked::Answers(answers),
        Ok(None) => {
            say_cancelled(&term);
            Walked::Cancelled
        }
        Err(e) => {
            let _ = term.show_cursor();
            if e.kind() != io::ErrorKind::Interrupted {
                crate::errln!("the prompt failed: {e}");
            }
            say_cancelled(&term);
            Walked::Cancelled
        }
    }
}

/// The walk's loop: one step at a time until the officer confirms (`Some`) or leaves.
fn run(
    term: &Term,
    theme: &ColorfulTheme,
    form: &PublishedForm,
    defaults: BTreeMap<String, String>,
    before: Option<&BTreeMap<String, String>>,
) -> io::Result<Option<BTreeMap<String, String>>> {
    term.write_line(&format!(
        "{} (form version {}). Enter answers, Esc steps back, Ctrl-C discards the visit.",
        style(form.form.title()).bold(),
        form.version
    ))?;
    let mut walk = Walk::new(&form.form, defaults);
    loop {
        match walk.step() {
            Step::Note(q) => {
                term.write_line(&note_text(q))?;
                walk.pass_note();
            }
            Step::Ask(q) => match ask(term, theme, &walk, q)? {
                // A refusal is shown under the question, which is asked again.
                Some(value) => {
                    if let Err(problem) = walk.answer(&value) {
                        term.write_line(&error_text(theme, &problem.kind.to_string()))?;
                    }
                }
                None if walk.back() => {}
                None => return Ok(None),
            },
            Step::Review => {
                term.write_line(&summary(&walk, before))?;
                let ok = Confirm::with_theme(theme)
                    .with_prompt("Write this visit?")
                    .default(true)
                    .interact_on_opt(term)
                    .map_err(io_error)?;
                match ok {
                    Some(true) => return Ok(Some(walk.answers())),
                    Some(false) => return Ok(None),
                    None => {
                        walk.back();
                    }
                }
            }
        }
    }
}

/// Asks one question with the prompt its type needs; `None` when the officer pressed Esc.
fn ask(
    term: &Term,
    theme: &ColorfulTheme,
    walk: &Walk<'_>,
    q: &Question,
) -> io::Result<Option<String>> {
    let (n, total) = walk.progress();
    let mut prompt = format!("[{n}/{total}] {}", q.label);
    if q.required {
        prompt.push_str(" *");
    }
    let help = help_text(q);
    if let Some(help) = &help {
        term.write_line(&format!("  {}", style(help).dim()))?;
    }
    let answer = prompt_for(term, theme, walk, q, prompt)?;
    if answer.is_none() && help.is_some() {
        // Stepping back: the hint goes with its question.
        term.clear_last_lines(1)?;
    }
    Ok(answer)
}

/// The prompt of `q`'s type; `None` on Esc.
fn prompt_for(
    term: &Term,
    theme: &ColorfulTheme,
    walk: &Walk<'_>,
    q: &Question,
    prompt: String,
) -> io::Result<Option<String>> {
    let current = walk.current().unwrap_or_default();
    let choices = walk.form().choices(q).unwrap_or_default();
    match &q.kind {
        QuestionType::SelectOne { .. } => {
            let mut items: Vec<String> = choices.iter().map(|c| c.label.clone()).collect();
            if !q.required {
                items.push("(no answer)".into());
            }
            let default = choices.iter().position(|c| c.name == current).unwrap_or(
                if current.is_empty() && !q.required {
                    choices.len()
                } else {
                    0
                },
            );
            let picked = Select::with_theme(theme)
                .with_prompt(prompt)
                .items(&items)
                .default(default)
                .interact_on_opt(term)
                .map_err(io_error)?;
            Ok(picked.map(|i| choices.get(i).map(|c| c.name.clone()).unwrap_or_default()))
        }
        QuestionType::SelectMultiple { .. } => {
            let held: Vec<&str> = current.split(' ').collect();
            let items: Vec<(String, bool)> = choices
                .iter()
                .map(|c| (c.label.clone(), held.contains(&c.name.as_str())))
                .collect();
            let picked = MultiSelect::with_theme(theme)
                .with_prompt(prompt)
                .items_checked(&items)
                .interact_on_opt(term)
                .map_err(io_error)?;
            Ok(picked.map(|is| {
                let names: Vec<&str> = is.iter().map(|&i| choices[i].name.as_str()).collect();
                names.join(" ")
            }))
        }
        _ => read_line(term, theme, &prompt, current, |s| {
            walk.check(s).map(drop).map_err(|p| p.kind.to_string())
        }),
    }
}

/// dialoguer's error is an I/O error.
fn io_error(e: dialoguer::Error) -> io::Error {
    match e {
        dialoguer::Error::IO(e) => e,
    }
}

/// The hint line under a question: the form's hint and what the type expects.
fn help_text(q: &Question) -> Option<String> {
    let format = match q.kind {
        QuestionType::Integer => Some("a whole number"),
        QuestionType::Decimal => Some("a number, e.g. 2.5"),
        QuestionType::Date => Some("a date, YYYY-MM-DD"),
        QuestionType::Geopoint => Some("latitude longitude, e.g. -1.2921 36.8219"),
        QuestionType::Text if !q.required => Some("Enter alone leaves it blank"),
        QuestionType::SelectMultiple { .. } => Some("Space marks a choice, Enter goes on"),
        _ => None,
    };
    let parts: Vec<&str> = q.hint.as_deref().into_iter().chain(format).collect();
    (!parts.is_empty()).then(|| parts.join(" · "))
}

fn note_text(q: &Question) -> String {
    let mut s = format!("{} {}", style("i").cyan().bold(), q.label);
    if let Some(h) = &q.hint {
        s.push_str(&format!("\n  {}", style(h).dim()));
    }
    s
}

fn error_text(theme: &ColorfulTheme, message: &str) -> String {
    let mut s = String::new();
    // Writing into a String cannot fail.
    let _ = theme.format_error(&mut s, message);
    s
}

/// The whole visit before it is written; with `before`, changed answers are marked.
fn summary(walk: &Walk<'_>, before: Option<&BTreeMap<String, String>>) -> String {
    let lines = walk.summary();
    let width = lines
        .iter()
        .map(|l| console::measure_text_width(&l.question.label))
        .max()
        .unwrap_or(0)
        .min(48);
    let mut out = format!("{}", style("The visit:").bold());
    let now = walk.answers();
    for l in &lines {
        let name = &l.question.name;
        let changed = before.is_some_and(|b| b.get(name) != now.get(name));
        out.push_str(&format!(
            "\n  {:<width$}  {}{}",
            l.question.label,
            l.shown.as_deref().unwrap_or("—"),
            if changed { "  (changed)" } else { "" },
        ));
    }
    if let Some(b) = before {
        let form = walk.form();
        for (k, v) in b.iter().filter(|(k, _)| !now.contains_key(*k)) {
            let shown_v = form.question(k).map_or(v.clone(), |q| shown(form, q, v));
            out.push_str(&format!("\n  removed: {k} = {shown_v}"));
        }
    }
    out
}

/// A line of text, checked by `check` on Enter (a refusal is shown and the line kept for
/// correcting); `None` when the officer pressed Esc. dialoguer's `Input` has no Esc, which
/// the walk needs to step back, hence this small editor: typing, Backspace, Enter, Esc.
fn read_line(
    term: &Term,
    theme: &ColorfulTheme,
    prompt: &str,
    initial: &str,
    check: impl Fn(&str) -> Result<(), String>,
) -> io::Result<Option<String>> {
    let mut text = initial.to_string();
    let mut head = String::new();
    let _ = theme.format_input_prompt(&mut head, prompt, None);
    let mut error_shown = false;
    loop {
        term.write_str(&head)?;
        term.write_str(&text)?;
        term.flush()?;
        let key = loop {
            match term.read_key()? {
                Key::Char(c) if !c.is_control() => {
                    text.push(c);
                    term.write_str(c.encode_utf8(&mut [0; 4]))?;
                }
                Key::Backspace if text.pop().is_some() => term.clear_chars(1)?,
                k @ (Key::Enter | Key::Escape) => break k,
                _ => {}
            }
        };
        clear_input(term, &head, &text, error_shown)?;
        if key == Key::Escape {
            return Ok(None);
        }
        match check(&text) {
            Ok(()) => {
                let mut done = String::new();
                let _ = theme.format_input_prompt_selection(&mut done, prompt, text.trim());
                term.write_line(&done)?;
                return Ok(Some(text));
            }
            Err(message) => {
                term.write_line(&error_text(theme, &message))?;
                error_shown = true;
            }
        }
    }
}

/// Clears the input line (and its wrapped rows, and the error above it when one is shown).
fn clear_input(term: &Term, head: &str, text: &str, error_shown: bool) -> io::Result<()> {
    let cols = usize::from(term.size().1).max(1);
    let width = console::measure_text_width(head) + console::measure_text_width(text);
    term.clear_line()?;
    let above = width.saturating_sub(1) / cols + usize::from(error_shown);
    if above > 0 {
        term.clear_last_lines(above)?;
    }
    Ok(())
}

/// Prints the one "nothing was written" line, once, whichever of the prompt and the signal
/// handler gets there first.
fn say_cancelled(term: &Term) {
    static SAID: AtomicBool = AtomicBool::new(false);
    if !SAID.swap(true, Ordering::SeqCst) {
        let _ = term.show_cursor();
        crate::errln!("\nCancelled: nothing was written.");
    }
}

/// Ctrl-C while the walk runs: leave at once with exit 130 (nothing is written before the
/// officer confirms). Once disarmed (the visit is being written), Ctrl-C is ignored until the
/// write's one transaction is done, so exit 130 never hides a written visit.
struct CtrlC {
    armed: Arc<AtomicBool>,
}

impl CtrlC {
    fn arm() -> CtrlC {
        let armed = Arc::new(AtomicBool::new(true));
        let flag = armed.clone();
        if let Ok(mut signals) = signal_hook::iterator::Signals::new([signal_hook::consts::SIGINT])
        {
            std::thread::spawn(move || {
                for _ in signals.forever() {
                    if flag.load(Ordering::SeqCst) {
                        say_cancelled(&Term::stderr());
                        std::process::exit(exit::CANCELLED);
                    }
                }
            });
        }
        CtrlC { armed }
    }

    fn disarm(self) {
        self.armed.store(false, Ordering::SeqCst);
    }
}
