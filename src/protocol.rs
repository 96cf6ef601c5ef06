//! The wire protocol of `/v1`: every request and response body the client and the server
//! exchange. Both halves use these types; nothing here is written twice.
//! `docs/protocol.md` documents them for people, and a test checks its examples against them.

use std::fmt;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use crate::model::{EntityType, FieldMap, Operation};

/// Most changes in one push.
pub const MAX_PUSH_CHANGES: usize = 500;
/// Most records in one pull page.
pub const MAX_PULL_LIMIT: u32 = 1000;
/// Pull page size when the client names none.
pub const DEFAULT_PULL_LIMIT: u32 = 500;
/// Largest request body, after gzip decompression.
pub const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

pub const PATH_PUSH: &str = "/v1/push";
pub const PATH_PULL: &str = "/v1/pull";
pub const PATH_HEALTH: &str = "/v1/health";

/// `POST /v1/push` body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PushRequest {
    /// The pushing device. Edits from the same device never conflict with each other.
    pub device_id: Uuid,
    pub changes: Vec<Change>,
    /// The device's sequence numbers of `changes` and its acknowledgement watermark (op-id
    /// retention, issue 17). Sent only to a server whose `/v1/health` says
    /// `op_sequences: true` (this type refuses unknown fields, so an older server would
    /// refuse the whole push); `None` from older clients. See [`PushSequence`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequence: Option<PushSequence>,
}

/// Where a push's changes stand in the device's own order (op-id retention, issue 17).
///
/// A device numbers each op_id once, when it first sends it, from a counter that only grows;
/// an op_id is always sent again with the same number. The server keeps a stored result
/// only as long as it may be asked for: the device says which it will never ask for again
/// (`finished_below`), and the server trims the rest after its retention, remembering per
/// device the highest number it forgot. An op_id it does not know, with a number at or below
/// that mark, may have been applied before: it is refused `op_expired`, never applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PushSequence {
    /// One number per change, in the order of `changes`.
    pub seqs: Vec<i64>,
    /// Every op_id of this device numbered below this is finished: the device holds its
    /// result and will never send it again, so the server may forget it at once.
    pub finished_below: i64,
}

/// One queued change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Change {
    /// Idempotency key: the server applies an op_id at most once.
    pub op_id: Uuid,
    pub entity_type: EntityType,
    pub entity_id: Uuid,
    pub operation: Operation,
    /// The server version the device's copy was based on; `null` for an insert.
    #[serde(default)]
    pub base_version: Option<i64>,
    /// Changed fields only (see [`crate::model`]); empty for a delete.
    #[serde(default)]
    pub fields: FieldMap,
}

/// `POST /v1/push` response: one result per change, in the order sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PushResponse {
    pub results: Vec<ChangeResult>,
    /// Set when a change was refused `op_expired`: the highest sequence number of the
    /// device whose op_id the server may have forgotten. A device numbers what it sends next
    /// above it (its counter went back, e.g. its database was restored from a backup).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq_floor: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeStatus {
    /// Applied (or applied before: the first result is returned again).
    Accepted,
    /// Collides with a change made on the server since `base_version`; nothing applied.
    Conflict,
    /// Can never be applied as sent; nothing applied. Resend only after editing the record.
    Rejected,
}

/// The outcome of one change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChangeResult {
    pub op_id: Uuid,
    pub status: ChangeStatus,
    /// On accepted: the record's version after this change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<i64>,
    /// On accepted: the server's numeric id of the record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_id: Option<i64>,
    /// On accepted: true when other devices changed the record since `base_version` and the
    /// change was merged with their (non-colliding) edits.
    #[serde(default, skip_serializing_if = "is_false")]
    pub merged: bool,
    /// On conflict: the record as the server holds it now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_record: Option<Record>,
    /// On conflict: the fields that collide (`deleted` when one side deleted the record).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conflicting_fields: Vec<String>,
    /// On rejected: why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ApiError>,
    /// On accepted, to a device that pushed with [`HEADER_NO_ECHO`] (issue 14): who and
    /// when the server stamped this change. Sent only when the record as the server holds it
    /// is exactly the device's copy with the change applied and its audit stamped by
    /// [`Audit::stamp`] with these (`created` for an insert): the device applies that, and its
    /// pulls naming it ([`HEADER_DEVICE`]) leave the record out until someone else changes it.
    /// Absent: the device's next pull brings the record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stamped: Option<FieldStamp>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl ChangeResult {
    pub fn accepted(op_id: Uuid, version: i64, server_id: i64, merged: bool) -> Self {
        ChangeResult {
            op_id,
            status: ChangeStatus::Accepted,
            version: Some(version),
            server_id: Some(server_id),
            merged,
            server_record: None,
            conflicting_fields: Vec::new(),
            error: None,

            stamped: None,
        }
    }

    pub fn conflict(op_id: Uuid, server_record: Record, fields: Vec<String>) -> Self {
        ChangeResult {
            op_id,
            status: ChangeStatus::Conflict,
            version: None,
            server_id: None,
            merged: false,
            server_record: Some(server_record),
            conflicting_fields: fields,
            error: None,

            stamped: None,
        }
    }

    pub fn rejected(op_id: Uuid, code: ErrorCode, message: impl Into<String>) -> Self {
        ChangeResult {
            op_id,
            status: ChangeStatus::Rejected,
            version: None,
            server_id: None,
            merged: false,
            server_record: None,
            conflicting_fields: Vec::new(),
            error: Some(ApiError::new(code, message)),

            stamped: None,
        }
    }
}

/// A full record as the server holds it: in pull pages and in conflict results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(from = "RecordOnWire")]
pub struct Record {
    pub entity_type: EntityType,
    pub id: Uuid,
    pub server_id: i64,
    /// The version of the last change to this record. Pull pages are ordered by it.
    pub version: i64,
    /// A tombstone: the record was deleted at `version`; `fields` holds its last values.
    pub deleted: bool,
    /// Every field the record has (no nulls).
    pub fields: FieldMap,
    /// Who made and last changed the record, and when, by the server's clock (issue 12).
    /// Optional on the wire: older servers send none, older clients ignore it.
    #[serde(flatten)]
    pub audit: Audit,
}

/// A [`Record`] as it is read: the same members, the audit's read in place. (A
/// `#[serde(flatten)]` member, as [`Record`] serialises its audit, makes serde buffer every
/// member of every record before reading any: about a third of the time to decode a pull
/// page.) Unknown members are ignored, as before.
#[derive(Deserialize)]
struct RecordOnWire {
    entity_type: EntityType,
    id: Uuid,
    server_id: i64,
    version: i64,
    deleted: bool,
    fields: FieldMap,
    #[serde(default)]
    created_at: Option<String>,
    #[serde(default)]
    created_by: Option<String>,
    #[serde(default)]
    updated_at: Option<String>,
    #[serde(default)]
    updated_by: Option<String>,
    #[serde(default)]
    field_stamps: std::collections::BTreeMap<String, FieldStamp>,
}

impl From<RecordOnWire> for Record {
    fn from(r: RecordOnWire) -> Record {
        Record {
            entity_type: r.entity_type,
            id: r.id,
            server_id: r.server_id,
            version: r.version,
            deleted: r.deleted,
            fields: r.fields,
            audit: Audit {
                created_at: r.created_at,
                created_by: r.created_by,
                updated_at: r.updated_at,
                updated_by: r.updated_by,
                field_stamps: r.field_stamps,
            },
        }
    }
}

/// Who created and last changed a record and each of its fields, stamped by the server with
/// its own receive time and the pushing officer; the officer's device clock decides nothing.
/// Every member is optional on the wire (records written before servers stamped them have
/// none).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Audit {
    /// When the server received the insert (RFC 3339, UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    /// The officer who pushed the insert.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    /// When the server received the record's last change (insert, update or delete).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
    /// The officer who pushed the record's last change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_by: Option<String>,
    /// Per field (per answer key, `answers.crop`): who last set it and when.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub field_stamps: std::collections::BTreeMap<String, FieldStamp>,
}

/// Who last set one field, and when (server time).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldStamp {
    pub by: String,
    pub at: String,
}

impl Audit {
    /// Records that `officer` changed the record at `at`, setting `fields` (a `null` value
    /// removes the field, and its stamp with it); `created` for an insert.
    pub fn stamp(&mut self, officer: &str, at: &str, fields: &FieldMap, created: bool) {
        if created {
            self.created_at = Some(at.to_string());
            self.created_by = Some(officer.to_string());
        }
        self.updated_at = Some(at.to_string());
        self.updated_by = Some(officer.to_string());
        for (k, v) in fields {
            if v.is_null() {
                self.field_stamps.remove(k);
            } else {
                let stamp = FieldStamp {
                    by: officer.to_string(),
                    at: at.to_string(),
                };
                self.field_stamps.insert(k.clone(), stamp);
            }
        }
    }
}

/// `GET /v1/pull?cursor=C&limit=N` response. `R` is the record: a typed [`Record`], or on the
/// server the same record's wire JSON, built without parsing what it stored
/// (`server::wire::WireRecord`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PullResponse<R = Record> {
    pub records: Vec<R>,
    /// Opaque; send it back as `cursor` for the next page.
    pub next_cursor: String,
    pub has_more: bool,
    /// The team's form versions the device does not hold yet (issue 15). Sent only to a
    /// client that names what it holds in the [`HEADER_FORMS`] header, and only when there
    /// is something new; older peers neither send the header nor see the field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forms: Option<TeamForms>,
    /// The officer's team now (issue 11): a device that held another team's records learns
    /// of a move, and the server answers a moved officer's cursor from the start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    /// The server database's stable id (issue 11; see [`HealthResponse::server_id`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_id: Option<String>,
}

/// The request header in which a pull names the form versions the device holds: `TEAM
/// VERSION` (its team's highest version it holds), or `none`. Older servers ignore it.
pub const HEADER_FORMS: &str = "fieldsync-forms";

/// The request header (push and pull) in which a device names the highest server version it
/// has received (issue 11), so a server restored from a backup can say it lost it before it
/// applies or answers anything (`409 server_behind`). Older servers ignore it.
pub const HEADER_SEEN: &str = "fieldsync-seen";

/// The push request header (value `1`) in which a device says it applies the stamps of its
/// accepted changes ([`ChangeResult::stamped`]) and names itself in its pulls (issue 14).
/// Older servers ignore it; without it a server stamps nothing and marks nothing.
pub const HEADER_NO_ECHO: &str = "fieldsync-no-echo";

/// The pull request header naming the pulling device (its `device_id`, issue 14): a pull that
/// continues a cursor leaves out the records this device's own pushes made and holds exactly
/// (see [`ChangeResult::stamped`]); its cursor still moves past them. A pull from scratch
/// ignores it. Optional: without it a pull brings everything; older servers ignore it (a
/// header, not a query parameter: those refuse parameters they do not know).
pub const HEADER_DEVICE: &str = "fieldsync-device";

/// Parses a [`HEADER_SEEN`] value: a version (a whole number ≥ 0).
pub fn parse_seen(s: &str) -> Option<i64> {
    s.trim().parse::<i64>().ok().filter(|v| *v >= 0)
}

/// What a device holds of its team's forms, as sent in [`HEADER_FORMS`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct KnownForms {
    /// The team and the highest version held; `None` when the device holds no form.
    pub held: Option<(String, u32)>,
}

impl KnownForms {
    /// The header value.
    pub fn to_header(&self) -> String {
        match &self.held {
            Some((team, v)) => format!("{team} {v}"),
            None => "none".to_string(),
        }
    }

    /// Parses a header value; `None` when it is malformed.
    pub fn from_header(s: &str) -> Option<KnownForms> {
        if s.trim() == "none" {
            return Some(KnownForms::default());
        }
        let (team, v) = s.trim().split_once(' ')?;
        let v = v.trim().parse().ok()?;
        Some(KnownForms {
            held: Some((team.to_string(), v)),
        })
    }

    /// The versions of `team` the device still needs: those above what it holds of that team
    /// (all of them when it holds another team's forms).
    pub fn needs_after(&self, team: &str) -> u32 {
        match &self.held {
            Some((t, v)) if t == team => *v,
            _ => 0,
        }
    }
}

/// Form versions of one team, in a pull response, by version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TeamForms {
    pub team: String,
    pub versions: Vec<crate::forms::PublishedForm>,
}

/// `GET /v1/health` response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HealthResponse {
    pub status: String,
    pub version: String,
    pub store: String,
    /// The server database's stable id, made with it (issue 11). A device remembers it and
    /// refuses to sync with another database unless told to adopt it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_id: Option<String>,
    /// The server takes [`PushRequest::sequence`] (op-id retention, issue 17). Older
    /// servers send nothing (false): a client then sends no sequence.
    #[serde(default, skip_serializing_if = "is_false")]
    pub op_sequences: bool,
}

/// Every error body: `{"error": {"code": "...", "message": "..."}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: ApiError,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    /// With `server_behind` (issue 11): the last version the server's history holds before
    /// what it lost. Everything a device saw beyond it must be sent again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_version: Option<i64>,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError {
            code,
            message: message.into(),
            server_version: None,
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.message, self.code.as_str())
    }
}

/// Stable error codes. Clients match on these, never on messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    // Request-level (HTTP status in brackets).
    /// (401) Missing, unknown or revoked token.
    Unauthorized,
    /// (400) The body is not valid JSON of the expected shape.
    InvalidJson,
    /// (400) A query parameter or header is malformed.
    BadRequest,
    /// (400) The cursor was not issued by this server for this officer.
    InvalidCursor,
    /// (410) The cursor points into history the server no longer keeps: pull from scratch.
    ResyncRequired,
    /// (409) The device saw versions this server database never handed out or no longer
    /// holds (it was restored from a backup): `server_version` says where its history ends.
    ServerBehind,
    /// (413) The body (after decompression) is over the limit.
    PayloadTooLarge,
    /// (413) More than 500 changes in one push.
    BatchTooLarge,
    /// (404) No such endpoint.
    NotFound,
    /// (415) Unsupported Content-Encoding or Content-Type.
    UnsupportedMediaType,
    /// (429/503) The server is busy: retry after `Retry-After` seconds.
    Overloaded,
    /// (500) A bug or a store failure; nothing was applied.
    Internal,
    /// (503) The store is unreachable; nothing was applied.
    Unavailable,
    // Per-change rejections (in a ChangeResult).
    /// A field failed validation.
    InvalidField,
    /// The record names a household outside the officer's team, or a visit claims another officer.
    Forbidden,
    /// An update or delete of a record the server does not have (or the visit's household).
    UnknownRecord,
    /// An insert of an id that already exists.
    AlreadyExists,
    /// This op_id was applied before with different content.
    OpIdReused,
    /// An op_id the server no longer knows, numbered at or below what it forgot of this
    /// device (op-id retention): it may have been applied long ago, so it is not applied now.
    OpExpired,
    /// A code this client does not know (sent by a newer server).
    #[serde(other)]
    Unknown,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::InvalidJson => "invalid_json",
            ErrorCode::BadRequest => "bad_request",
            ErrorCode::InvalidCursor => "invalid_cursor",
            ErrorCode::ResyncRequired => "resync_required",
            ErrorCode::ServerBehind => "server_behind",
            ErrorCode::PayloadTooLarge => "payload_too_large",
            ErrorCode::BatchTooLarge => "batch_too_large",
            ErrorCode::NotFound => "not_found",
            ErrorCode::UnsupportedMediaType => "unsupported_media_type",
            ErrorCode::Overloaded => "overloaded",
            ErrorCode::Internal => "internal",
            ErrorCode::Unavailable => "unavailable",
            ErrorCode::InvalidField => "invalid_field",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::UnknownRecord => "unknown_record",
            ErrorCode::AlreadyExists => "already_exists",
            ErrorCode::OpIdReused => "op_id_reused",
            ErrorCode::OpExpired => "op_expired",
            ErrorCode::Unknown => "unknown",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A record reads its audit members in place: all, some or none of them, unknown
    /// members ignored, and what it writes reads back the same.
    #[test]
    fn a_record_reads_its_audit_members_in_place() {
        let id = "0b7a3c1e-58f4-4c1d-9c61-2a4f1e6b3d20";
        let bare = format!(
            r#"{{"entity_type":"household","id":"{id}","server_id":7,"version":9,
                "deleted":false,"fields":{{"name":"Wanjiru"}},"from_the_future":[1]}}"#
        );
        let r: Record = serde_json::from_str(&bare).unwrap();
        assert_eq!((r.server_id, r.version, r.deleted), (7, 9, false));
        assert_eq!(r.fields["name"], "Wanjiru");
        assert_eq!(r.audit, Audit::default());
        let stamped = format!(
            r#"{{"entity_type":"visit","id":"{id}","server_id":1,"version":2,"deleted":true,
                "fields":{{}},"created_by":"amina","updated_at":"2026-11-27T10:00:00Z",
                "field_stamps":{{"notes":{{"by":"brian","at":"2026-11-27T10:00:00Z"}}}}}}"#
        );
        let r: Record = serde_json::from_str(&stamped).unwrap();
        assert_eq!(r.audit.created_by.as_deref(), Some("amina"));
        assert_eq!(r.audit.created_at, None);
        assert_eq!(r.audit.updated_at.as_deref(), Some("2026-11-27T10:00:00Z"));
        assert_eq!(r.audit.field_stamps["notes"].by, "brian");
        let again: Record = serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
        assert_eq!(again, r);
        let missing = bare.replace(r#""server_id":7,"#, "");
        assert!(serde_json::from_str::<Record>(&missing).is_err());
    }

    #[test]
    fn unknown_error_codes_from_a_newer_server_still_parse() {
        let e: ApiError = serde_json::from_str(r#"{"code":"brand_new","message":"m"}"#).unwrap();
        assert_eq!(e.code, ErrorCode::Unknown);
    }

    #[test]
    fn error_code_strings_match_serde() {
        for code in [
            ErrorCode::Unauthorized,
            ErrorCode::InvalidCursor,
            ErrorCode::ResyncRequired,
            ErrorCode::OpIdReused,
            ErrorCode::OpExpired,
            ErrorCode::UnsupportedMediaType,
        ] {
            assert_eq!(
                serde_json::to_value(code).unwrap(),
                serde_json::Value::String(code.as_str().into())
            );
        }
    }
}
