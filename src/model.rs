//! Households, visits and their fields: the one definition of what a record is and what
//! makes it valid, shared by the client and the server.
//!
//! On the wire, in the sync queue and in the merge rules a record is a flat [`FieldMap`]:
//!
//! | entity      | key              | JSON value                         | required on insert |
//! |-------------|------------------|------------------------------------|--------------------|
//! | household   | `name`           | non-empty string                   | yes                |
//! | household   | `village`        | string                             | no                 |
//! | both        | `gps`            | `[lat, lon]`                       | no                 |
//! | both        | `notes`          | string                             | no                 |
//! | visit       | `household_id`   | UUID string (immutable)            | yes                |
//! | visit       | `officer_id`     | string (immutable)                 | yes                |
//! | visit       | `visited_at`     | RFC 3339 timestamp                 | yes                |
//! | visit       | `answers.<key>`  | string                             | no                 |
//! | visit       | `form_version`   | integer ≥ 1: the team's form version the answers were filled against (issue 15) | no |
//!
//! In a *change* (a queue payload or a pushed change) `null` clears an optional field or
//! removes an answer. A *full record* never holds `null`: an absent key is an empty field.
//! Each answer is its own field, so two officers answering different questions never collide.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

/// A record's fields (or a change's changed fields), keyed as described in the module docs.
pub type FieldMap = BTreeMap<String, Value>;

/// The visit field naming the form version its answers were filled against (issue 15).
pub const FORM_VERSION: &str = "form_version";

/// Reads a `form_version` value: a whole number from 1 to 2^32 - 1.
pub fn form_version_of(v: &Value) -> Result<u32, ValidationError> {
    v.as_u64()
        .and_then(|n| u32::try_from(n).ok())
        .filter(|n| *n >= 1)
        .ok_or_else(|| {
            ValidationError::new(
                FORM_VERSION,
                format!("{v} is not a form version (a whole number from 1)"),
            )
        })
}

/// Longest household name, in characters.
pub const NAME_MAX: usize = 200;
/// Longest village name, in characters.
pub const VILLAGE_MAX: usize = 200;
/// Longest notes, in characters.
pub const NOTES_MAX: usize = 4000;
/// Longest answer key, in characters. Keys are `[A-Za-z0-9_.-]`.
pub const ANSWER_KEY_MAX: usize = 64;
/// Longest answer value, in characters.
pub const ANSWER_VALUE_MAX: usize = 1000;
/// Most answers one visit may hold.
pub const ANSWERS_MAX: usize = 200;
/// Longest officer id, in characters. Officer ids are `[A-Za-z0-9_.@-]`.
pub const OFFICER_ID_MAX: usize = 64;

/// Prefix of answer keys in a [`FieldMap`].
pub const ANSWER_PREFIX: &str = "answers.";

/// The two kinds of record fieldsync keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntityType {
    Household,
    Visit,
}

impl EntityType {
    pub const ALL: [EntityType; 2] = [EntityType::Household, EntityType::Visit];

    pub fn as_str(self) -> &'static str {
        match self {
            EntityType::Household => "household",
            EntityType::Visit => "visit",
        }
    }
}

impl fmt::Display for EntityType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for EntityType {
    type Err = ValidationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "household" => Ok(EntityType::Household),
            "visit" => Ok(EntityType::Visit),
            other => Err(ValidationError::new(
                "entity_type",
                format!("unknown entity type {other:?} (expected household or visit)"),
            )),
        }
    }
}

/// What a change does to a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Operation {
    Insert,
    Update,
    Delete,
    /// A whole record sent again (issue 11: a server restored from a backup, a server the
    /// device adopts): inserted where the server lacks it, otherwise an update of every field
    /// merged against `base_version` (none: the server's copy stands).
    Upsert,
}

impl Operation {
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Insert => "insert",
            Operation::Update => "update",
            Operation::Delete => "delete",
            Operation::Upsert => "upsert",
        }
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Operation {
    type Err = ValidationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "insert" => Ok(Operation::Insert),
            "update" => Ok(Operation::Update),
            "delete" => Ok(Operation::Delete),
            "upsert" => Ok(Operation::Upsert),
            other => Err(ValidationError::new(
                "operation",
                format!("unknown operation {other:?}"),
            )),
        }
    }
}

/// A field that failed validation, and why. The message is written for the officer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct ValidationError {
    pub field: String,
    pub message: String,
}

impl ValidationError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        ValidationError {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// A GPS position in decimal degrees.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Gps {
    pub lat: f64,
    pub lon: f64,
}

impl Gps {
    pub fn new(lat: f64, lon: f64) -> Result<Gps, ValidationError> {
        if !lat.is_finite() || !(-90.0..=90.0).contains(&lat) {
            return Err(ValidationError::new(
                "gps",
                format!("latitude {lat} is out of range (-90 to 90)"),
            ));
        }
        if !lon.is_finite() || !(-180.0..=180.0).contains(&lon) {
            return Err(ValidationError::new(
                "gps",
                format!("longitude {lon} is out of range (-180 to 180)"),
            ));
        }
        Ok(Gps { lat, lon })
    }

    pub fn to_value(self) -> Value {
        serde_json::json!([self.lat, self.lon])
    }

    pub fn from_value(v: &Value) -> Result<Gps, ValidationError> {
        let bad = || ValidationError::new("gps", "expected [latitude, longitude] as two numbers");
        let arr = v.as_array().ok_or_else(bad)?;
        if arr.len() != 2 {
            return Err(bad());
        }
        let lat = arr[0].as_f64().ok_or_else(bad)?;
        let lon = arr[1].as_f64().ok_or_else(bad)?;
        Gps::new(lat, lon)
    }
}

impl FromStr for Gps {
    type Err = ValidationError;
    /// Parses `LAT,LON`, e.g. `-1.2921,36.8219`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (lat, lon) = s.split_once(',').ok_or_else(|| {
            ValidationError::new(
                "gps",
                format!("{s:?} is not LAT,LON (e.g. -1.2921,36.8219)"),
            )
        })?;
        let num = |t: &str| {
            t.trim()
                .parse::<f64>()
                .map_err(|_| ValidationError::new("gps", format!("{t:?} is not a number in {s:?}")))
        };
        Gps::new(num(lat)?, num(lon)?)
    }
}

impl fmt::Display for Gps {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{},{}", self.lat, self.lon)
    }
}

/// Parses a `KEY=VALUE` answer given on the command line or in an import file.
pub fn parse_answer(s: &str) -> Result<(String, String), ValidationError> {
    let (k, v) = s.split_once('=').ok_or_else(|| {
        ValidationError::new(
            "answers",
            format!("answer {s:?} has no '=': write it as KEY=VALUE, e.g. crop=maize"),
        )
    })?;
    validate_answer_key(k)?;
    check_len("answers", v, ANSWER_VALUE_MAX)?;
    Ok((k.to_string(), v.to_string()))
}

/// Checks an answer key: 1 to 64 characters of `[A-Za-z0-9_.-]`.
pub fn validate_answer_key(k: &str) -> Result<(), ValidationError> {
    if k.is_empty() || k.chars().count() > ANSWER_KEY_MAX {
        return Err(ValidationError::new(
            "answers",
            format!("answer key {k:?} must be 1 to {ANSWER_KEY_MAX} characters"),
        ));
    }
    if !k
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
    {
        return Err(ValidationError::new(
            "answers",
            format!("answer key {k:?} may only hold letters, digits, '_', '-' and '.'"),
        ));
    }
    Ok(())
}

/// Checks an officer id: 1 to 64 characters of `[A-Za-z0-9_.@-]`.
pub fn validate_officer_id(id: &str) -> Result<(), ValidationError> {
    if id.is_empty()
        || id.chars().count() > OFFICER_ID_MAX
        || !id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '@'))
    {
        return Err(ValidationError::new(
            "officer_id",
            format!(
                "officer id {id:?} must be 1 to {OFFICER_ID_MAX} letters, digits or '_', '-', '.', '@'"
            ),
        ));
    }
    Ok(())
}

fn check_len(field: &str, s: &str, max: usize) -> Result<(), ValidationError> {
    let n = s.chars().count();
    if n > max {
        return Err(ValidationError::new(
            field,
            format!("is {n} characters long; the limit is {max}"),
        ));
    }
    if s.contains('\0') {
        return Err(ValidationError::new(
            field,
            "must not contain a NUL character",
        ));
    }
    Ok(())
}

/// Parses an RFC 3339 timestamp (`2026-11-25T09:30:00Z`).
pub fn parse_timestamp(s: &str) -> Result<time::OffsetDateTime, ValidationError> {
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).map_err(|_| {
        ValidationError::new(
            "visited_at",
            format!("{s:?} is not an RFC 3339 time such as 2026-11-25T09:30:00Z"),
        )
    })
}

/// Formats a time as RFC 3339 in UTC.
pub fn format_timestamp(t: time::OffsetDateTime) -> String {
    let t = t.replace_nanosecond(0).unwrap_or(t);
    t.to_offset(time::UtcOffset::UTC)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| t.unix_timestamp().to_string())
}

/// The current time as RFC 3339 in UTC. Stored for people to read, never used to order changes.
pub fn now_timestamp() -> String {
    format_timestamp(time::OffsetDateTime::now_utc())
}

/// Makes a new record id: a UUID v7, so ids made on one device sort by creation.
pub fn new_id() -> Uuid {
    Uuid::now_v7()
}

fn expect_string<'a>(field: &str, v: &'a Value) -> Result<&'a str, ValidationError> {
    v.as_str()
        .ok_or_else(|| ValidationError::new(field, "expected a string"))
}

/// Is `key` a field of `entity`? (Answer keys are checked by [`validate_answer_key`].)
pub fn is_known_field(entity: EntityType, key: &str) -> bool {
    match entity {
        EntityType::Household => matches!(key, "name" | "village" | "gps" | "notes"),
        EntityType::Visit => {
            matches!(
                key,
                "household_id" | "officer_id" | "visited_at" | "notes" | "gps" | FORM_VERSION
            ) || key.starts_with(ANSWER_PREFIX)
        }
    }
}

/// Validates one field's value. `null` is accepted where the field may be cleared.
fn validate_field(entity: EntityType, key: &str, v: &Value) -> Result<(), ValidationError> {
    if !is_known_field(entity, key) {
        return Err(ValidationError::new(
            key,
            format!("{entity} has no field {key:?}"),
        ));
    }
    let required = matches!(
        (entity, key),
        (EntityType::Household, "name")
            | (
                EntityType::Visit,
                "household_id" | "officer_id" | "visited_at"
            )
    );
    if v.is_null() {
        if required {
            return Err(ValidationError::new(
                key,
                "is required and cannot be cleared",
            ));
        }
        if let Some(k) = key.strip_prefix(ANSWER_PREFIX) {
            validate_answer_key(k)?;
        }
        return Ok(());
    }
    match key {
        "name" => {
            let s = expect_string(key, v)?;
            if s.trim().is_empty() {
                return Err(ValidationError::new("name", "must not be empty"));
            }
            check_len(key, s, NAME_MAX)
        }
        "village" => check_len(key, expect_string(key, v)?, VILLAGE_MAX),
        "notes" => check_len(key, expect_string(key, v)?, NOTES_MAX),
        "gps" => Gps::from_value(v).map(|_| ()),
        "household_id" => {
            let s = expect_string(key, v)?;
            Uuid::parse_str(s)
                .map(|_| ())
                .map_err(|_| ValidationError::new(key, format!("{s:?} is not a UUID")))
        }
        "officer_id" => validate_officer_id(expect_string(key, v)?),
        "visited_at" => parse_timestamp(expect_string(key, v)?).map(|_| ()),
        FORM_VERSION => form_version_of(v).map(|_| ()),
        _ => {
            // answers.<key>
            let k = &key[ANSWER_PREFIX.len()..];
            validate_answer_key(k)?;
            check_len("answers", expect_string(key, v)?, ANSWER_VALUE_MAX)
        }
    }
}

/// Validates the fields of a change for `op` on `entity`.
///
/// An insert must carry every required field; an update may carry any subset but never the
/// immutable `household_id` / `officer_id`; a delete carries no fields.
pub fn validate_change(
    entity: EntityType,
    op: Operation,
    fields: &FieldMap,
) -> Result<(), ValidationError> {
    match op {
        Operation::Delete => {
            if let Some(k) = fields.keys().next() {
                return Err(ValidationError::new(
                    k.as_str(),
                    "a delete carries no fields",
                ));
            }
            return Ok(());
        }
        Operation::Insert | Operation::Upsert => {
            let required: &[&str] = match entity {
                EntityType::Household => &["name"],
                EntityType::Visit => &["household_id", "officer_id", "visited_at"],
            };
            for r in required {
                if fields.get(*r).is_none_or(Value::is_null) {
                    return Err(ValidationError::new(*r, "is required"));
                }
            }
        }
        Operation::Update => {
            if entity == EntityType::Visit {
                for k in ["household_id", "officer_id"] {
                    if fields.contains_key(k) {
                        return Err(ValidationError::new(
                            k,
                            "cannot be changed once the visit is recorded",
                        ));
                    }
                }
            }
        }
    }
    for (k, v) in fields {
        validate_field(entity, k, v)?;
    }
    let answers = fields
        .iter()
        .filter(|(k, v)| k.starts_with(ANSWER_PREFIX) && !v.is_null())
        .count();
    if answers > ANSWERS_MAX {
        return Err(ValidationError::new(
            "answers",
            format!("{answers} answers; a visit holds at most {ANSWERS_MAX}"),
        ));
    }
    Ok(())
}

/// Applies a change's fields to a full record: `null` removes the key, anything else sets it.
pub fn apply_fields(record: &mut FieldMap, changes: &FieldMap) {
    for (k, v) in changes {
        if v.is_null() {
            record.remove(k);
        } else {
            record.insert(k.clone(), v.clone());
        }
    }
}

/// The change that turns `from` into `to`: changed and new keys with their new values,
/// removed keys as `null`.
pub fn diff_fields(from: &FieldMap, to: &FieldMap) -> FieldMap {
    let mut out = FieldMap::new();
    for (k, v) in to {
        if from.get(k) != Some(v) {
            out.insert(k.clone(), v.clone());
        }
    }
    for k in from.keys() {
        if !to.contains_key(k) {
            out.insert(k.clone(), Value::Null);
        }
    }
    out
}

/// The answers of a full visit record, as a map from answer key to value.
pub fn answers_of(fields: &FieldMap) -> BTreeMap<String, String> {
    fields
        .iter()
        .filter_map(|(k, v)| {
            let key = k.strip_prefix(ANSWER_PREFIX)?;
            Some((key.to_string(), v.as_str()?.to_string()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fm(v: Value) -> FieldMap {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn gps_parses_and_checks_range() {
        assert_eq!(
            "-1.5,36.8".parse::<Gps>().unwrap(),
            Gps {
                lat: -1.5,
                lon: 36.8
            }
        );
        assert!("91,0".parse::<Gps>().is_err());
        assert!("0,181".parse::<Gps>().is_err());
        assert!("0;1".parse::<Gps>().is_err());
        assert!("NaN,1".parse::<Gps>().is_err());
    }

    #[test]
    fn answers_need_an_equals_sign_and_a_clean_key() {
        assert_eq!(
            parse_answer("crop=maize").unwrap(),
            ("crop".into(), "maize".into())
        );
        assert_eq!(parse_answer("a=b=c").unwrap(), ("a".into(), "b=c".into()));
        assert!(parse_answer("crop").is_err());
        assert!(parse_answer("=x").is_err());
        assert!(parse_answer("bad key=x").is_err());
    }

    #[test]
    fn inserts_need_required_fields() {
        assert!(validate_change(EntityType::Household, Operation::Insert, &fm(json!({}))).is_err());
        assert!(validate_change(
            EntityType::Household,
            Operation::Insert,
            &fm(json!({"name": "  "}))
        )
        .is_err());
        assert!(validate_change(
            EntityType::Household,
            Operation::Insert,
            &fm(json!({"name": "Achieng", "gps": [1.0, 2.0]}))
        )
        .is_ok());
        let visit = fm(json!({
            "household_id": "0192f0a0-0000-7000-8000-000000000000",
            "officer_id": "amina",
            "visited_at": "2026-11-25T09:30:00Z",
            "answers.crop": "maize"
        }));
        assert!(validate_change(EntityType::Visit, Operation::Insert, &visit).is_ok());
    }

    #[test]
    fn updates_cannot_touch_immutable_or_unknown_fields() {
        assert!(validate_change(
            EntityType::Visit,
            Operation::Update,
            &fm(json!({"officer_id": "x"}))
        )
        .is_err());
        assert!(validate_change(
            EntityType::Household,
            Operation::Update,
            &fm(json!({"colour": "red"}))
        )
        .is_err());
        assert!(validate_change(
            EntityType::Household,
            Operation::Update,
            &fm(json!({"name": null}))
        )
        .is_err());
        assert!(validate_change(
            EntityType::Visit,
            Operation::Update,
            &fm(json!({"answers.crop": null, "notes": null}))
        )
        .is_ok());
    }

    #[test]
    fn notes_over_the_limit_are_refused() {
        let long = "x".repeat(NOTES_MAX + 1);
        assert!(validate_change(
            EntityType::Household,
            Operation::Update,
            &fm(json!({ "notes": long }))
        )
        .is_err());
    }

    #[test]
    fn diff_then_apply_round_trips() {
        let a = fm(json!({"name": "A", "notes": "n", "answers.x": "1"}));
        let b = fm(json!({"name": "B", "answers.y": "2"}));
        let d = diff_fields(&a, &b);
        let mut c = a.clone();
        apply_fields(&mut c, &d);
        assert_eq!(c, b);
    }
}
