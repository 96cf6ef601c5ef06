//! The server's form rule (issue 15): a visit that names a `form_version` must have answers
//! valid for that version of its team's form, as the visit stands after the change. A pure
//! function over the change, the stored record and the team's forms; the push planner calls
//! it for changes it is about to apply. It must not load or write anything.
//!
//! A visit that names no form version is free-form, as before forms existed (older clients,
//! visits recorded before the device received a form). An update that touches neither answers
//! nor `form_version` is not re-checked, so notes and GPS can always be corrected.

use std::collections::HashMap;

use crate::forms::Form;
use crate::model::{
    answers_of, apply_fields, form_version_of, EntityType, FieldMap, Operation, ANSWER_PREFIX,
    FORM_VERSION,
};
use crate::protocol::{Change, ErrorCode};

/// A team's published forms, by version.
pub type TeamForms = HashMap<u32, Form>;

/// Checks `c` (applied to `existing`, the stored fields) against the form version it names.
pub fn check_visit_form(
    c: &Change,
    existing: Option<&FieldMap>,
    forms: &TeamForms,
) -> Result<(), (ErrorCode, String)> {
    let checked_op = matches!(
        c.operation,
        Operation::Insert | Operation::Update | Operation::Upsert
    );
    if c.entity_type != EntityType::Visit || !checked_op {
        return Ok(());
    }
    let touches = c
        .fields
        .keys()
        .any(|k| k == FORM_VERSION || k.starts_with(ANSWER_PREFIX));
    if c.operation == Operation::Update && !touches {
        return Ok(());
    }
    let mut full = existing.cloned().unwrap_or_default();
    apply_fields(&mut full, &c.fields);
    let Some(v) = full.get(FORM_VERSION) else {
        return Ok(());
    };
    let invalid = |m: String| (ErrorCode::InvalidField, m);
    let version = form_version_of(v).map_err(|e| invalid(e.to_string()))?;
    let form = forms.get(&version).ok_or_else(|| {
        invalid(format!(
            "{FORM_VERSION}: the team has no form version {version}"
        ))
    })?;
    form.check_answers(&answers_of(&full)).map_err(|problems| {
        let each: Vec<String> = problems
            .iter()
            .map(|p| format!("{ANSWER_PREFIX}{p}"))
            .collect();
        invalid(format!(
            "answers do not fit form version {version}: {}",
            each.join("; ")
        ))
    })
}
