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

/// Checks a one-line text field: its length, and no control characters (see [`check_text`]).
fn check_len(field: &str, s: &str, max: usize) -> Result<(), ValidationError> {
    check_text(field, s, max, false)
}

/// Checks a text field: at most `max` characters and nothing that could take over the
/// terminal it is printed on — no control character (C0, DEL, C1: escape sequences, carriage
/// returns, backspaces) and no bidirectional override or isolate (text that displays in
/// another order than it reads). `multiline` fields (notes) may hold newlines and tabs.
/// Client and server both run this on every way in (flags, import, push).
pub fn check_text(
    field: &str,
    s: &str,
    max: usize,
    multiline: bool,
) -> Result<(), ValidationError> {
    let n = s.chars().count();
    if n > max {
        return Err(ValidationError::new(
            field,
            format!("is {n} characters long; the limit is {max}"),
        ));
    }
    let allowed = |c: char| multiline && matches!(c, '\n' | '\t');
    if let Some((at, c)) = s
        .chars()
        .enumerate()
        .find(|&(_, c)| is_unsafe_char(c) && !allowed(c))
    {
        let lines = if multiline {
            " (only line breaks and tabs are allowed)"
        } else {
            ""
        };
        return Err(ValidationError::new(
            field,
            format!(
                "must not contain control characters{lines}: found U+{:04X} at character {}",
                c as u32,
                at + 1
            ),
        ));
    }
    Ok(())
}

/// A character that must never reach a terminal as it is: controls (C0, DEL, C1) and the
/// bidirectional embedding, override and isolate marks.
pub fn is_unsafe_char(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// `s` made safe to print: every character [`is_unsafe_char`] refuses, apart from those in
/// `keep`, is written as a visible escape (`\u{1b}`). For text stored before the rule (or
/// pulled from an older server): the rule is applied at validation, this at printing.
pub fn escape_unsafe<'a>(s: &'a str, keep: &[char]) -> std::borrow::Cow<'a, str> {
    if !s.chars().any(|c| is_unsafe_char(c) && !keep.contains(&c)) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if is_unsafe_char(c) && !keep.contains(&c) {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Parses an RFC 3339 timestamp (`2026-11-25T09:30:00Z`), strictly: `YYYY-MM-DD`, `T` (or
/// `t`), `hh:mm:ss`, an optional fraction, and `Z` (or `z`) or an offset `±hh:mm`. Anything
/// else (a space or another letter for `T`, a missing offset) is refused, even where the
/// `time` crate alone would be lenient.
pub fn parse_timestamp(s: &str) -> Result<time::OffsetDateTime, ValidationError> {
    let bad = || {
        ValidationError::new(
            "visited_at",
            format!("{s:?} is not an RFC 3339 time such as 2026-11-25T09:30:00Z"),
        )
    };
    if !is_rfc3339_shape(s) {
        return Err(bad());
    }
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .map_err(|_| bad())
}

/// Is `s` shaped as RFC 3339's `date-time` (digits in place, `T`, a zone)? Ranges are left
/// to the parser.
fn is_rfc3339_shape(s: &str) -> bool {
    let b = s.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    let at = |i: usize, c: &[u8]| b.get(i).is_some_and(|x| c.contains(x));
    if !(digits(0..4) && at(4, b"-") && digits(5..7) && at(7, b"-") && digits(8..10))
        || !(at(10, b"Tt") && digits(11..13) && at(13, b":") && digits(14..16))
        || !(at(16, b":") && digits(17..19))
    {
        return false;
    }
    let mut i = 19;
    if at(i, b".") {
        let n = b[i + 1..].iter().take_while(|d| d.is_ascii_digit()).count();
        if n == 0 {
            return false;
        }
        i += 1 + n;
    }
    match b.get(i) {
        Some(b'Z' | b'z') => i + 1 == b.len(),
        Some(b'+' | b'-') => {
            i + 6 == b.len() && digits(i + 1..i + 3) && at(i + 3, b":") && digits(i + 4..i + 6)
        }
        _ => false,
    }
}

/// The canonical spelling of a time: RFC 3339 in UTC with `T` and `Z`, whole seconds unless
/// the time has a fraction (`2026-11-25t12:30:00+03:00` → `2026-11-25T09:30:00Z`).
pub fn canonical_timestamp(s: &str) -> Result<String, ValidationError> {
    let t = parse_timestamp(s)?.to_offset(time::UtcOffset::UTC);
    t.format(&time::format_description::well_known::Rfc3339)
        .map_err(|e| {
            ValidationError::new(
                "visited_at",
                format!("{s:?} cannot be written as RFC 3339: {e}"),
            )
        })
}

/// The canonical spelling of a UUID: lower-case and hyphenated. Braced (`{…}`), `urn:uuid:`,
/// upper-case and unhyphenated spellings are accepted; anything else is `None`.
pub fn canonical_uuid(s: &str) -> Option<String> {
    Uuid::parse_str(s).ok().map(|u| u.hyphenated().to_string())
}

/// Rewrites the fields that have one canonical spelling (`household_id`, `visited_at`) into
/// it, leaving values that are not valid as they are (validation refuses them). Both the
/// client and the server store and send only canonical values.
pub fn canonicalize_fields(fields: &mut FieldMap) {
    if let Some(Value::String(s)) = fields.get_mut("household_id") {
        if let Some(c) = canonical_uuid(s) {
            *s = c;
        }
    }
    if let Some(Value::String(s)) = fields.get_mut("visited_at") {
        if let Ok(c) = canonical_timestamp(s) {
            *s = c;
        }
    }
}

/// Are `fields` already in canonical spelling (see [`canonicalize_fields`])?
pub fn is_canonical(fields: &FieldMap) -> bool {
    // The two fields `canonicalize_fields` may respell, checked in place (no copy of the map:
    // this runs for every change a server receives).
    let kept = |key: &str, canonical: &dyn Fn(&str) -> Option<String>| match fields.get(key) {
        Some(Value::String(s)) => canonical(s).is_none_or(|c| c == *s),
        _ => true,
    };
    kept("household_id", &canonical_uuid) && kept("visited_at", &|s| canonical_timestamp(s).ok())
}

/// The earliest visit time accepted.
pub const VISITS_FROM: time::OffsetDateTime = time::macros::datetime!(2000-01-01 00:00 UTC);
/// How far past `now` a visit time may be (clocks and zones differ a little).
pub const VISITS_AHEAD: time::Duration = time::Duration::days(1);

/// A visit happened between 2000 and a day from `now` (a year 0000 or 2030 is a typo or a
/// wrong clock, and would sort every listing wrong).
pub fn check_visit_time(
    t: time::OffsetDateTime,
    now: time::OffsetDateTime,
) -> Result<(), ValidationError> {
    if t < VISITS_FROM {
        return Err(ValidationError::new(
            "visited_at",
            format!("{} is before 2000: check the date", format_timestamp(t)),
        ));
    }
    if t > now + VISITS_AHEAD {
        return Err(ValidationError::new(
            "visited_at",
            format!(
                "{} is more than a day in the future: check the date (and this computer's clock)",
                format_timestamp(t)
            ),
        ));
    }
    Ok(())
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
        "notes" => check_text(key, expect_string(key, v)?, NOTES_MAX, true),
        "gps" => Gps::from_value(v).map(|_| ()),
        "household_id" => {
            let s = expect_string(key, v)?;
            Uuid::parse_str(s)
                .map(|_| ())
                .map_err(|_| ValidationError::new(key, format!("{s:?} is not a UUID")))
        }
        "officer_id" => validate_officer_id(expect_string(key, v)?),
        "visited_at" => check_visit_time(
            parse_timestamp(expect_string(key, v)?)?,
            time::OffsetDateTime::now_utc(),
        ),
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
    fn control_characters_are_refused_except_line_breaks_and_tabs_in_notes() {
        let change = |k: &str, v: &str| {
            validate_change(
                EntityType::Household,
                Operation::Update,
                &fm(serde_json::json!({ k: v })),
            )
        };
        for bad in [
            "\u{1b}[31mred",
            "a\rb",
            "a\u{8}",
            "\u{7f}",
            "\u{9b}31m",
            "a\u{202e}b",
            "\0",
        ] {
            for field in ["name", "village", "notes"] {
                let e = change(field, bad).unwrap_err();
                assert_eq!(e.field, field);
                assert!(e.message.contains("control characters"), "{e}");
            }
        }
        assert!(change("notes", "two lines\n\tand a tab").is_ok());
        assert!(change("name", "two\nlines").is_err());
        assert!(change("village", "a\tb").is_err());
        let visit = |v: &str| {
            validate_change(
                EntityType::Visit,
                Operation::Update,
                &fm(serde_json::json!({ "answers.crop": v })),
            )
        };
        assert!(visit("maize").is_ok());
        assert!(visit("mai\u{1b}ze").is_err());
        assert!(parse_answer("crop=\u{1b}]0;title\u{7}").is_err());
    }

    #[test]
    fn visits_before_2000_or_over_a_day_ahead_are_refused() {
        use time::macros::datetime;
        let now = datetime!(2026-11-27 12:00 UTC);
        assert!(check_visit_time(datetime!(2026-11-27 08:00 UTC), now).is_ok());
        assert!(check_visit_time(datetime!(2026-11-28 11:59 UTC), now).is_ok());
        assert!(check_visit_time(datetime!(2000-01-01 00:00 UTC), now).is_ok());
        assert!(check_visit_time(datetime!(2026-11-28 12:01 UTC), now).is_err());
        assert!(check_visit_time(datetime!(1999-12-31 23:59 UTC), now).is_err());
        let year_0 = serde_json::json!({"visited_at": "0000-01-01T00:00:00Z"});
        assert!(validate_change(EntityType::Visit, Operation::Update, &fm(year_0)).is_err());
        let year_2030 = serde_json::json!({"visited_at": "2030-01-01T00:00:00Z"});
        assert!(validate_change(EntityType::Visit, Operation::Update, &fm(year_2030)).is_err());
    }

    #[test]
    fn printing_escapes_what_validation_would_refuse() {
        assert_eq!(escape_unsafe("plain ünïcode", &[]), "plain ünïcode");
        assert_eq!(escape_unsafe("\u{1b}[31mred", &[]), "\\u{1b}[31mred");
        assert_eq!(escape_unsafe("a\nb\tc", &['\n', '\t']), "a\nb\tc");
        assert_eq!(escape_unsafe("a\nb", &[]), "a\\u{a}b");
        assert_eq!(escape_unsafe("x\u{202e}y", &[]), "x\\u{202e}y");
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
    fn times_are_strict_rfc_3339_and_canonical_in_utc() {
        for (given, canonical) in [
            ("2026-11-25T09:30:00Z", "2026-11-25T09:30:00Z"),
            ("2026-11-25t09:30:00z", "2026-11-25T09:30:00Z"),
            ("2026-11-25T12:30:00+03:00", "2026-11-25T09:30:00Z"),
            ("2026-11-25T09:30:00.250Z", "2026-11-25T09:30:00.25Z"),
        ] {
            assert_eq!(canonical_timestamp(given).unwrap(), canonical, "{given}");
        }
        for bad in [
            "2026-11-25X09:30:00z",
            "2026-11-25 09:30:00Z",
            "2026-11-25T09:30:00",
            "2026-11-25T09:30Z",
            "2026-11-25T09:30:00.Z",
            "2026-11-25T09:30:00+0300",
            "2026-13-25T09:30:00Z",
            "2026-11-25T09:30:00Z ",
            "",
        ] {
            assert!(parse_timestamp(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn uuids_have_one_spelling() {
        let c = "0192f0a0-0000-7000-8000-0000000000a1";
        for given in [
            c,
            "0192F0A0-0000-7000-8000-0000000000A1",
            "{0192f0a0-0000-7000-8000-0000000000a1}",
            "urn:uuid:0192F0A0-0000-7000-8000-0000000000A1",
            "0192f0a0000070008000 0000000000a1"
                .replace(' ', "")
                .as_str(),
        ] {
            assert_eq!(canonical_uuid(given).as_deref(), Some(c), "{given}");
        }
        assert_eq!(canonical_uuid("0192f0a0-0000-7000-8000-0000000000a"), None);
        let mut f = fm(
            json!({"household_id": "{0192F0A0-0000-7000-8000-0000000000A1}", "visited_at": "2026-11-25t09:30:00z", "notes": "{X}"}),
        );
        assert!(!is_canonical(&f));
        canonicalize_fields(&mut f);
        assert_eq!(
            f,
            fm(json!({"household_id": c, "visited_at": "2026-11-25T09:30:00Z", "notes": "{X}"}))
        );
        assert!(is_canonical(&f));
    }

    proptest::proptest! {
        /// The in-place check agrees with respelling a copy and comparing, for ids and times
        /// spelled every which way (and values that are not ids or times at all).
        #[test]
        fn is_canonical_is_canonicalize_changing_nothing(
            id in proptest::prop_oneof![
                proptest::strategy::Just("0192f0a0-0000-7000-8000-0000000000a1".to_string()),
                proptest::strategy::Just("{0192F0A0-0000-7000-8000-0000000000A1}".to_string()),
                "[0-9a-fA-F{}-]{0,40}",
            ],
            at in proptest::prop_oneof![
                proptest::strategy::Just("2026-11-25T09:30:00Z".to_string()),
                proptest::strategy::Just("2026-11-25t09:30:00+03:00".to_string()),
                "20[0-9]{2}-[01][0-9]-[0-3][0-9][Tt ][0-2][0-9]:[0-5][0-9]:[0-5][0-9](Z|z|[+-][01][0-9]:00)?",
            ],
            keep_id: bool,
            keep_at: bool,
        ) {
            let mut f = FieldMap::new();
            f.insert("notes".into(), Value::String("{X}".into()));
            if keep_id {
                f.insert("household_id".into(), Value::String(id));
            }
            if keep_at {
                f.insert("visited_at".into(), Value::String(at));
            }
            let mut respelled = f.clone();
            canonicalize_fields(&mut respelled);
            proptest::prop_assert_eq!(is_canonical(&f), respelled == f);
        }
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
