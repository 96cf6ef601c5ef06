//! Strict reading of one JSON-lines object for imports: every value keeps the JSON type it
//! was written with, numbers keep the exact text they were written as, and a key given twice
//! in one object is reported instead of silently keeping the last (as `serde_json::Value`
//! would).
//!
//! This module only reads JSON; what each key must hold is decided by the caller.

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;

/// One JSON value as written.
#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    /// A number, as the exact text it was written with (`1e3`, `12345678901234567890123`).
    Number(String),
    Text(String),
    Array(Vec<Json>),
    /// Members in the order written; a key appears once (see [`parse_object`]).
    Object(Vec<(String, Json)>),
}

impl Json {
    /// What kind of value this is, for error messages (`found the number 42`).
    pub fn describe(&self) -> String {
        match self {
            Json::Null => "null".into(),
            Json::Bool(b) => format!("{b}"),
            Json::Number(n) => format!("the number {n}"),
            Json::Text(_) => "a string".into(),
            Json::Array(_) => "a list".into(),
            Json::Object(_) => "an object".into(),
        }
    }
}

/// Members of one JSON object, each value still unparsed.
struct Members(Vec<(String, Box<RawValue>)>);

impl<'de> Deserialize<'de> for Members {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Members;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Members, A::Error> {
                let mut out = Vec::new();
                while let Some(k) = map.next_key::<String>()? {
                    out.push((k, map.next_value::<Box<RawValue>>()?));
                }
                Ok(Members(out))
            }
        }
        d.deserialize_map(V)
    }
}

/// Parses one line that must hold a JSON object. Errors are plain sentences without a
/// position (the caller names the line); a duplicate key names its path (`answers.crop`).
pub fn parse_object(line: &str) -> Result<Vec<(String, Json)>, String> {
    let raw: Box<RawValue> =
        serde_json::from_str(line).map_err(|e| format!("not valid JSON: {e}"))?;
    match value(&raw, "")? {
        Json::Object(members) => Ok(members),
        other => Err(format!(
            "expected a JSON object, found {}",
            other.describe()
        )),
    }
}

/// Reads one raw value; `path` is where it sits, for the duplicate-key message.
fn value(raw: &RawValue, path: &str) -> Result<Json, String> {
    let text = raw.get().trim();
    let bad = |e: serde_json::Error| format!("not valid JSON: {e}");
    Ok(match text.as_bytes().first() {
        Some(b'{') => {
            let Members(members) = serde_json::from_str(text).map_err(bad)?;
            let mut out: Vec<(String, Json)> = Vec::with_capacity(members.len());
            for (k, v) in members {
                let at = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                if out.iter().any(|(seen, _)| *seen == k) {
                    return Err(format!("{at}: the key is given twice"));
                }
                let parsed = value(&v, &at)?;
                out.push((k, parsed));
            }
            Json::Object(out)
        }
        Some(b'[') => {
            let items: Vec<Box<RawValue>> = serde_json::from_str(text).map_err(bad)?;
            let items = items.iter().map(|v| value(v, path));
            Json::Array(items.collect::<Result<_, _>>()?)
        }
        Some(b'"') => Json::Text(serde_json::from_str(text).map_err(bad)?),
        Some(b't') => Json::Bool(true),
        Some(b'f') => Json::Bool(false),
        Some(b'n') => Json::Null,
        _ => Json::Number(text.to_string()),
    })
}

/// The number's text when it reads back exactly as written (`42`, `-7`, `2.5`): it can be
/// kept as text without changing what the file said. `1e3`, `1.50`, `-0` and
/// `12345678901234567890123` (which a double would round) cannot.
pub fn exact_number_text(n: &str) -> Option<&str> {
    if let Ok(i) = n.parse::<i64>() {
        return (i.to_string() == n).then_some(n);
    }
    if let Ok(u) = n.parse::<u64>() {
        return (u.to_string() == n).then_some(n);
    }
    let f: f64 = n.parse().ok()?;
    (f.is_finite() && f.to_string() == n).then_some(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_keep_their_text_and_types_stay_apart() {
        let m = parse_object(
            r#"{"a": 12345678901234567890123, "b": "x", "c": true, "d": null, "e": [1.5, -2]}"#,
        )
        .unwrap();
        assert_eq!(m[0].1, Json::Number("12345678901234567890123".into()));
        assert_eq!(m[1].1, Json::Text("x".into()));
        assert_eq!(m[2].1, Json::Bool(true));
        assert_eq!(m[3].1, Json::Null);
        assert_eq!(
            m[4].1,
            Json::Array(vec![Json::Number("1.5".into()), Json::Number("-2".into())])
        );
    }

    #[test]
    fn duplicate_keys_are_errors_at_any_depth() {
        let e = parse_object(r#"{"name": "a", "name": "b"}"#).unwrap_err();
        assert_eq!(e, "name: the key is given twice");
        let e = parse_object(r#"{"answers": {"crop": "a", "crop": "b"}}"#).unwrap_err();
        assert_eq!(e, "answers.crop: the key is given twice");
        assert!(parse_object(r#"{"a": {"b": 1}, "b": {"a": 1}}"#).is_ok());
    }

    #[test]
    fn only_objects_and_valid_json() {
        assert!(parse_object("[1]")
            .unwrap_err()
            .contains("expected a JSON object"));
        assert!(parse_object("{\"a\": }")
            .unwrap_err()
            .starts_with("not valid JSON"));
        assert!(parse_object("{\"a\": 1} x")
            .unwrap_err()
            .starts_with("not valid JSON"));
    }

    #[test]
    fn exact_numbers() {
        for ok in ["0", "42", "-7", "2.5", "18446744073709551615", "0.1"] {
            assert_eq!(exact_number_text(ok), Some(ok), "{ok}");
        }
        for no in [
            "1e3",
            "1.50",
            "-0",
            "12345678901234567890123",
            "1E400",
            "00",
        ] {
            assert_eq!(exact_number_text(no), None, "{no}");
        }
    }
}
