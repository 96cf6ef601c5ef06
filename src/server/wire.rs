//! Pulled records as the JSON text of their wire form, built from the stored columns
//! without parsing the record's fields and audit into values.
//!
//! A pull page used to parse every record's `fields` and `audit` columns (JSON text written
//! by the server itself) into maps of values, only to serialise them again for the answer
//! and free them: in the 10,000-officer fleet that round trip was about 40 % of the server's
//! CPU. A [`WireRecord`] holds the record's wire JSON (`protocol::Record`, its audit members
//! flattened) as one string: the stored `fields` are copied through as they are, after a
//! syntax check, and the audit's members are checked and copied one by one. The answer
//! (`PullResponse<WireRecord>`) serialises to the same JSON as a `PullResponse` of typed
//! records; [`typed`] parses a page back for in-process callers.
//!
//! What it checks of the stored text: the entity type and id (as before), that `fields` is a
//! JSON object, and that `audit` is a JSON object whose known members have the right type
//! (`field_stamps` an object, its stamps copied through unchecked). It decides nothing about
//! sync and must not read or change anything but the columns it is given.

use std::borrow::Cow;

use serde::{Deserialize, Serialize, Serializer};
use serde_json::value::RawValue;
use uuid::Uuid;

use super::error::StoreError;
use super::store::{parse_entity, parse_uuid};
use crate::model::EntityType;
use crate::protocol::{PullResponse, Record};

/// One pulled record: its version (for the cursor) and its wire JSON.
#[derive(Debug, Clone)]
pub struct WireRecord {
    /// The record's version (the one in its JSON).
    pub version: i64,
    json: Box<RawValue>,
}

/// The stored columns of one record, as a pull reads them.
#[derive(Debug, Clone, Copy)]
pub struct StoredColumns<'a> {
    pub entity_type: &'a str,
    pub id: &'a str,
    pub server_id: i64,
    pub version: i64,
    pub deleted: bool,
    /// The `fields` column: a JSON object.
    pub fields: &'a str,
    /// The `audit` column: a JSON object (`protocol::Audit`).
    pub audit: &'a str,
}

/// The members of a stored audit, borrowed from its text (see `protocol::Audit`).
#[derive(Deserialize)]
struct StoredAudit<'a> {
    #[serde(default, borrow)]
    created_at: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    created_by: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    updated_at: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    updated_by: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    field_stamps: Option<&'a RawValue>,
}

/// `protocol::Record`'s wire form, member by member in its order, the audit flattened.
#[derive(Serialize)]
struct WireShape<'a> {
    entity_type: EntityType,
    id: Uuid,
    server_id: i64,
    version: i64,
    deleted: bool,
    fields: &'a RawValue,
    #[serde(skip_serializing_if = "Option::is_none")]
    created_at: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    created_by: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    updated_at: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    updated_by: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    field_stamps: Option<&'a RawValue>,
}

/// Is `raw` a JSON object (not an array, string, number, `true`, `false` or `null`)?
fn is_object(raw: &RawValue) -> bool {
    raw.get().trim_start().starts_with('{')
}

impl WireRecord {
    /// The wire record of a stored row; [`StoreError::Corrupt`] when a column does not hold
    /// what the server writes there.
    pub fn from_stored(c: StoredColumns<'_>) -> Result<WireRecord, StoreError> {
        let corrupt = |what: &str, e: &dyn std::fmt::Display| {
            StoreError::Corrupt(format!("record {}: {what}: {e}", c.id))
        };
        let fields: &RawValue =
            serde_json::from_str(c.fields).map_err(|e| corrupt("record fields", &e))?;
        if !is_object(fields) {
            return Err(corrupt("record fields", &"not a JSON object"));
        }
        if !c.audit.trim_start().starts_with('{') {
            return Err(corrupt("record audit", &"not a JSON object"));
        }
        let audit: StoredAudit<'_> =
            serde_json::from_str(c.audit).map_err(|e| corrupt("record audit", &e))?;
        if audit.field_stamps.is_some_and(|s| !is_object(s)) {
            return Err(corrupt(
                "record audit",
                &"field_stamps is not a JSON object",
            ));
        }
        let shape = WireShape {
            entity_type: parse_entity(c.entity_type)?,
            id: parse_uuid("record id", c.id)?,
            server_id: c.server_id,
            version: c.version,
            deleted: c.deleted,
            fields,
            created_at: audit.created_at,
            created_by: audit.created_by,
            updated_at: audit.updated_at,
            updated_by: audit.updated_by,
            field_stamps: audit.field_stamps,
        };
        let json = serde_json::value::to_raw_value(&shape)
            .map_err(|e| corrupt("write the wire record", &e))?;
        Ok(WireRecord {
            version: c.version,
            json,
        })
    }

    /// The record's wire JSON.
    pub fn json(&self) -> &str {
        self.json.get()
    }

    /// The typed record (parsed from the wire JSON).
    pub fn record(&self) -> Result<Record, StoreError> {
        serde_json::from_str(self.json.get())
            .map_err(|e| StoreError::Corrupt(format!("pulled record: {e}")))
    }
}

impl Serialize for WireRecord {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.json.serialize(s)
    }
}

/// A page of wire records as a page of typed records (for in-process callers).
pub fn typed(page: PullResponse<WireRecord>) -> Result<PullResponse, StoreError> {
    let records = page
        .records
        .iter()
        .map(WireRecord::record)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(PullResponse {
        records,
        next_cursor: page.next_cursor,
        has_more: page.has_more,
        forms: page.forms,
        team: page.team,
        server_id: page.server_id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{Audit, FieldStamp};
    use serde_json::json;

    fn full_audit() -> Audit {
        // Every member named (no `..Default::default()`): a new audit member fails to
        // compile here until the wire shape above carries it.
        Audit {
            created_at: Some("2026-11-27T10:00:00Z".into()),
            created_by: Some("amina".into()),
            updated_at: Some("2026-11-27T11:00:00.5Z".into()),
            updated_by: Some("b\"o\\b é".into()),
            field_stamps: [
                (
                    "name".to_string(),
                    FieldStamp {
                        by: "amina".into(),
                        at: "2026-11-27T10:00:00Z".into(),
                    },
                ),
                (
                    "answers.crop".to_string(),
                    FieldStamp {
                        by: "bob".into(),
                        at: "2026-11-27T11:00:00.5Z".into(),
                    },
                ),
            ]
            .into_iter()
            .collect(),
        }
    }

    fn typed_record(audit: Audit, deleted: bool) -> Record {
        let fields = json!({"name": "Ama \"K\"\n", "n": 3, "x": 1.5, "tags": ["a", null],
                            "nested": {"k": true}, "ü": "ß"});
        Record {
            entity_type: EntityType::Visit,
            id: Uuid::new_v4(),
            server_id: 42,
            version: 7,
            deleted,
            fields: serde_json::from_value(fields).unwrap(),
            audit,
        }
    }

    /// The wire record of `r` as the stores build it from its stored columns.
    fn wire_of(r: &Record, audit_text: &str) -> WireRecord {
        let fields = serde_json::to_string(&r.fields).unwrap();
        let id = r.id.to_string();
        WireRecord::from_stored(StoredColumns {
            entity_type: r.entity_type.as_str(),
            id: &id,
            server_id: r.server_id,
            version: r.version,
            deleted: r.deleted,
            fields: &fields,
            audit: audit_text,
        })
        .unwrap()
    }

    #[test]
    fn wire_json_is_the_typed_records_json() {
        for (audit, deleted) in [
            (full_audit(), false),
            (Audit::default(), true),
            (
                Audit {
                    updated_at: Some("t".into()),
                    ..Audit::default()
                },
                false,
            ),
        ] {
            let r = typed_record(audit, deleted);
            let stored_audit = serde_json::to_string(&r.audit).unwrap();
            let w = wire_of(&r, &stored_audit);
            assert_eq!(w.json(), serde_json::to_string(&r).unwrap());
            assert_eq!(w.record().unwrap(), r);
            assert_eq!(w.version, r.version);
        }
    }

    #[test]
    fn a_page_serialises_like_the_typed_page_and_parses_back() {
        let records = vec![
            typed_record(full_audit(), false),
            typed_record(Audit::default(), true),
        ];
        let wire: Vec<WireRecord> = records
            .iter()
            .map(|r| wire_of(r, &serde_json::to_string(&r.audit).unwrap()))
            .collect();
        fn page<R>(records: Vec<R>) -> PullResponse<R> {
            PullResponse {
                records,
                next_cursor: "c".into(),
                has_more: true,
                forms: None,
                team: Some("north".into()),
                server_id: Some("s".into()),
            }
        }
        let wire_page = page(wire);
        let typed_page = page(records);
        assert_eq!(
            serde_json::to_string(&wire_page).unwrap(),
            serde_json::to_string(&typed_page).unwrap()
        );
        assert_eq!(typed(wire_page).unwrap(), typed_page);
    }

    #[test]
    fn stored_text_with_whitespace_or_old_defaults_still_reads() {
        let r = typed_record(Audit::default(), false);
        // Schema step 4 filled the audit of older rows with '{}'; PostgreSQL or a hand
        // repair may leave whitespace.
        let fields = " { \"a\" : 1 } ";
        let id = r.id.to_string();
        let w = WireRecord::from_stored(StoredColumns {
            entity_type: "household",
            id: &id,
            server_id: 1,
            version: 2,
            deleted: false,
            fields,
            audit: " { } ",
        })
        .unwrap();
        let back = w.record().unwrap();
        assert_eq!(back.fields.get("a"), Some(&json!(1)));
        assert_eq!(back.audit, Audit::default());
    }

    #[test]
    fn corrupt_columns_are_refused() {
        let id = Uuid::new_v4().to_string();
        let cols = |fields: &'static str, audit: &'static str, et: &'static str| StoredColumns {
            entity_type: et,
            id: "",
            server_id: 1,
            version: 1,
            deleted: false,
            fields,
            audit,
        };
        for (fields, audit, et) in [
            ("{\"a\":", "{}", "visit"),
            ("[1]", "{}", "visit"),
            ("null", "{}", "visit"),
            ("{}", "[]", "visit"),
            ("{}", "{\"created_at\": 5}", "visit"),
            ("{}", "{\"field_stamps\": [1]}", "visit"),
            ("{}", "{}", "tractor"),
        ] {
            let c = StoredColumns {
                id: &id,
                ..cols(fields, audit, et)
            };
            let err = WireRecord::from_stored(c).unwrap_err();
            assert!(
                matches!(err, StoreError::Corrupt(_)),
                "{fields} {audit}: {err}"
            );
        }
        let bad_id = cols("{}", "{}", "visit");
        assert!(WireRecord::from_stored(StoredColumns {
            id: "not-a-uuid",
            ..bad_id
        })
        .is_err());
    }
}
