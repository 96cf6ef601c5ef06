//! Checking a visit's answers against the team's current form before it is written (issue 15,
//! `visit add/edit --answer`). Wrong answers (unknown question, wrong type, invalid choice,
//! broken constraint, answered but not relevant) are exit 65 and missing required answers exit
//! 2, each naming the questions. Without a form on the device answers stay free-form.
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
        Err(problems) => Err(failure(current.version, &problems)),
    }
}

/// Exit 65 listing every wrong answer when there is one; otherwise exit 2 naming the missing
/// required answers.
fn failure(version: u32, problems: &[AnswerProblem]) -> Failure {
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
            "required answers missing: {} (form version {version}); give them with --answer NAME=VALUE",
            names.join(", ")
        ),
    )
}
