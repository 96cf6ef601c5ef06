//! Checking a visit's answers against the team's current form before it is written (issue 15,
//! `visit add/edit --answer`). Wrong answers (unknown question, wrong type, invalid choice,
//! broken constraint, answered but not relevant) are exit 65 and missing required answers exit
//! 2, each naming the questions. Without a form on the device answers stay free-form.
//!
//! Imports (`visit import`) check every row the same way; the first row that does not fit
//! fails the whole import (which is all or nothing anyway), naming its line.
//!
//! The rules are `crate::forms::Form::check_answers`; this module only gathers the visit's
//! answers, picks the exit code and words the message. It must not write anything.

use std::collections::BTreeMap;

use super::Failure;
use crate::client::store::Store;
use crate::exit;
use crate::forms::AnswerProblem;
use serde_json::json;

use crate::model::{answers_of, apply_fields, EntityType, FieldMap, ANSWER_PREFIX, FORM_VERSION};

/// Checks the answers of a new visit with fields `fields` against the current form, and
/// records that form's version in `fields`.
pub fn check_new_visit(store: &Store, fields: &mut FieldMap) -> Result<(), Failure> {
    if let Some(version) = check(store, &answers_of(fields))? {
        fields.insert(FORM_VERSION.into(), json!(version));
    }
    Ok(())
}

/// Checks the answers visit `id` will have after `change`, when `change` touches answers
/// (an edit of notes or GPS alone does not re-check a visit recorded before the form), and
/// records the current form's version in `change`: the answers now fit it.
pub fn check_edited_visit(
    store: &Store,
    id: uuid::Uuid,
    change: &mut FieldMap,
) -> Result<(), Failure> {
    if !change.keys().any(|k| k.starts_with(ANSWER_PREFIX)) {
        return Ok(());
    }
    let mut fields = store
        .get(EntityType::Visit, id)
        .map_err(Failure::from)?
        .map(|r| r.fields)
        .unwrap_or_default();
    apply_fields(&mut fields, change);
    if let Some(version) = check(store, &answers_of(&fields))? {
        if named_version(&fields) != Some(version) {
            change.insert(FORM_VERSION.into(), json!(version));
        }
    }
    Ok(())
}

/// Checks the answers of every visit row of an import against the current form and records
/// its version in each row. Households (and devices without a form) pass untouched. The
/// first row that does not fit fails the import as `--answer` would (65 or 2), its message
/// starting with the row's line and saying how many other rows do not fit either.
pub fn check_import_rows(
    store: &Store,
    entity: EntityType,
    rows: &mut [crate::client::import::Row],
) -> Result<(), Failure> {
    if entity != EntityType::Visit {
        return Ok(());
    }
    let Some(current) = store.current_form().map_err(Failure::from)? else {
        return Ok(());
    };
    let mut first: Option<Failure> = None;
    let mut others = 0usize;
    for row in rows.iter_mut() {
        let line = row.line;
        match current.form.check_answers(&answers_of(&row.fields)) {
            Ok(()) => {
                row.fields
                    .insert(FORM_VERSION.into(), json!(current.version));
            }
            Err(_) if first.is_some() => others += 1,
            Err(problems) => {
                let f = failure(current.version, &problems, IMPORT_COLUMNS);
                first = Some(Failure::new(f.code, format!("line {line}: {}", f.message)));
            }
        }
    }
    match first {
        None => Ok(()),
        Some(mut f) => {
            if others > 0 {
                f.message
                    .push_str(&format!(" ({others} more rows do not fit the form either)"));
            }
            Err(f)
        }
    }
}

/// The form version a visit's fields name.
fn named_version(fields: &FieldMap) -> Option<u32> {
    fields
        .get(FORM_VERSION)
        .and_then(|v| v.as_u64())
        .and_then(|v| u32::try_from(v).ok())
}

/// The current form's version when the answers fit it; `None` without a form.
fn check(store: &Store, answers: &BTreeMap<String, String>) -> Result<Option<u32>, Failure> {
    let Some(current) = store.current_form().map_err(Failure::from)? else {
        return Ok(None);
    };
    match current.form.check_answers(answers) {
        Ok(()) => Ok(Some(current.version)),
        Err(problems) => Err(failure(current.version, &problems, ANSWER_FLAGS)),
    }
}

/// How to give missing answers: on the command line, or in an import file.
const ANSWER_FLAGS: &str = "give them with --answer NAME=VALUE";
const IMPORT_COLUMNS: &str = "give them as columns named after the questions";

/// Exit 65 listing every wrong answer when there is one; otherwise exit 2 naming the missing
/// required answers and saying `how` to give them.
fn failure(version: u32, problems: &[AnswerProblem], how: &str) -> Failure {
    let (missing, wrong): (Vec<&AnswerProblem>, Vec<&AnswerProblem>) =
        problems.iter().partition(|p| p.is_missing_required());
    if !wrong.is_empty() {
        let lines: Vec<String> = wrong.iter().map(|p| p.to_string()).collect();
        return Failure::new(
            exit::DATA,
            format!(
                "answers do not fit form version {version} (see `fieldsync form show`): {}",
                lines.join("; ")
            ),
        );
    }
    let names: Vec<&str> = missing.iter().map(|p| p.question.as_str()).collect();
    Failure::new(
        exit::USAGE,
        format!(
            "required answers missing: {} (form version {version}); {how}",
            names.join(", ")
        ),
    )
}
