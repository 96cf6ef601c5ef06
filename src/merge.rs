//! The rules of sync, as pure functions over data: whether a pushed change applies, merges or
//! conflicts ([`decide`]), how queued changes compact before they are sent ([`compact`]),
//! and what settling a conflict writes ([`resolve`]).
//! No I/O here: the server's stores and the client's queue call these and do the writing.
//!
//! Ordering and conflicts use server versions only; device clocks play no part.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use serde_json::Value;

use crate::model::{apply_fields, diff_fields, EntityType, FieldMap, Operation};
use crate::protocol::ErrorCode;

/// Which change last wrote a field: its server version and the device that sent it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stamp {
    #[serde(rename = "v")]
    pub version: i64,
    #[serde(rename = "d")]
    pub device: Uuid,
}

/// Per-field stamps of a record. A removed answer keeps its stamp, so a concurrent edit of it
/// still collides.
pub type Stamps = BTreeMap<String, Stamp>;

/// The server's current copy of a record, as [`decide`] needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct Current<'a> {
    pub version: i64,
    pub deleted: bool,
    /// The device whose change deleted the record (when `deleted`).
    pub deleted_by: Option<Uuid>,
    pub fields: &'a FieldMap,
    pub stamps: &'a Stamps,
}

/// What to do with a pushed change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Apply it. `merged`: other devices changed the record since the change's base, on
    /// fields this change does not touch. `restore`: an update that undeletes the record.
    Apply { merged: bool, restore: bool },
    /// Nothing to do and nothing to record as new (a delete of a record already deleted).
    Noop,
    /// Do not apply: these fields were changed by another device since the change's base.
    /// `deleted` names a delete on either side.
    Conflict(Vec<String>),
}

/// A change the server can never apply as sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reject {
    pub code: ErrorCode,
    pub message: String,
}

/// The field name used in conflicts where one side deleted the record.
pub const DELETED: &str = "deleted";

/// Decides a pushed change against the server's current copy (`None`: no such record).
///
/// - insert: applies when the id is new; an existing id is rejected, and so is a
///   `base_version` (an insert is based on nothing).
/// - update: each changed field collides when another device wrote it after `base_version`
///   and to a different value. No collision: applied (merged if the record moved on).
///   A record deleted after `base_version` by another device is a conflict on `deleted`; a
///   record deleted at or before `base_version` is restored by the update.
/// - delete: a conflict on `deleted` (naming the changed fields) when another device changed
///   the record since `base_version`; deleting a tombstone is a no-op.
pub fn decide(
    operation: Operation,
    base_version: Option<i64>,
    changes: &FieldMap,
    device: Uuid,
    current: Option<&Current<'_>>,
) -> Result<Decision, Reject> {
    if operation == Operation::Insert && base_version.is_some() {
        return Err(Reject {
            code: ErrorCode::InvalidField,
            message: "base_version: an insert is based on no server version (send null)".into(),
        });
    }
    let Some(cur) = current else {
        return match operation {
            Operation::Insert | Operation::Upsert => Ok(Decision::Apply {
                merged: false,
                restore: false,
            }),
            _ => Err(Reject {
                code: ErrorCode::UnknownRecord,
                message: format!("cannot {operation} a record the server does not have"),
            }),
        };
    };
    if operation == Operation::Upsert {
        return Ok(decide_upsert(base_version, changes, device, cur));
    }
    let base = base_version.unwrap_or(0);
    // A base the server never issued would switch conflict detection off (or make every
    // field collide): refuse it.
    if base < 0 || base > cur.version {
        return Err(Reject {
            code: ErrorCode::InvalidField,
            message: format!(
                "base_version {base} is not a version of this record (it is at {})",
                cur.version
            ),
        });
    }
    match operation {
        Operation::Insert => Err(Reject {
            code: ErrorCode::AlreadyExists,
            message: "a record with this id already exists".into(),
        }),
        Operation::Update => Ok(decide_update(base, changes, device, cur)),
        Operation::Delete => Ok(decide_delete(base, device, cur)),
        Operation::Upsert => Ok(decide_upsert(Some(base), changes, device, cur)),
    }
}

/// An upsert of a record the server has: without a base, a no-op (the server's copy stands
/// and the device's next pull brings it); with one, an update of every field merged against
/// that base. The base may lie beyond the record's version (the server lost the history the
/// device saw): then nothing changed on the server since the base it kept, and it is
/// clamped to the record's version.
fn decide_upsert(
    base_version: Option<i64>,
    changes: &FieldMap,
    device: Uuid,
    cur: &Current<'_>,
) -> Decision {
    match base_version {
        None => Decision::Noop,
        Some(b) => decide_update(b.clamp(0, cur.version), changes, device, cur),
    }
}

/// Did another device write field `k` after `base`?
fn changed_by_other(cur: &Current<'_>, base: i64, device: Uuid, k: &str) -> bool {
    cur.stamps
        .get(k)
        .is_some_and(|s| s.version > base && s.device != device)
}

/// An update against an existing record (see [`decide`]).
fn decide_update(base: i64, changes: &FieldMap, device: Uuid, cur: &Current<'_>) -> Decision {
    if cur.deleted {
        if cur.version > base && cur.deleted_by != Some(device) {
            return Decision::Conflict(vec![DELETED.to_string()]);
        }
        return Decision::Apply {
            merged: false,
            restore: true,
        };
    }
    let colliding: Vec<String> = changes
        .iter()
        .filter(|(k, v)| {
            let same = match cur.fields.get(*k) {
                Some(now) => now == *v,
                None => v.is_null(),
            };
            !same && changed_by_other(cur, base, device, k)
        })
        .map(|(k, _)| k.clone())
        .collect();
    if colliding.is_empty() {
        Decision::Apply {
            merged: cur.version > base,
            restore: false,
        }
    } else {
        Decision::Conflict(colliding)
    }
}

/// A delete against an existing record (see [`decide`]).
fn decide_delete(base: i64, device: Uuid, cur: &Current<'_>) -> Decision {
    if cur.deleted {
        return Decision::Noop;
    }
    let mut changed: Vec<String> = cur
        .stamps
        .keys()
        .filter(|k| changed_by_other(cur, base, device, k))
        .cloned()
        .collect();
    if changed.is_empty() {
        Decision::Apply {
            merged: false,
            restore: false,
        }
    } else {
        changed.insert(0, DELETED.to_string());
        Decision::Conflict(changed)
    }
}

/// Stamps every field in `changes` with the change's version and device.
pub fn stamp_fields(stamps: &mut Stamps, changes: &FieldMap, version: i64, device: Uuid) {
    for k in changes.keys() {
        stamps.insert(k.clone(), Stamp { version, device });
    }
}

/// A queued change that has not been sent yet, as [`compact`] sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingOp {
    pub queue_id: i64,
    pub entity_type: EntityType,
    pub entity_id: Uuid,
    pub operation: Operation,
    pub base_version: Option<i64>,
    pub fields: FieldMap,
}

/// What compaction does to the queue: rewrite some entries, delete others.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CompactPlan {
    /// Entries whose operation, base and fields become the merged change of their run.
    pub rewrite: Vec<PendingOp>,
    /// Entries absorbed into an earlier one, or dropped (an insert deleted before it was sent).
    pub delete: Vec<i64>,
}

impl CompactPlan {
    pub fn is_empty(&self) -> bool {
        self.rewrite.is_empty() && self.delete.is_empty()
    }
}

/// Merges two successive changes to one record, or says they cannot be merged.
/// `None` inside `Some` means the pair cancels out (insert then delete).
fn merge_pair(acc: &PendingOp, next: &PendingOp) -> Option<Option<PendingOp>> {
    use Operation::*;
    let mut out = acc.clone();
    match (acc.operation, next.operation) {
        (Insert, Update) => apply_fields(&mut out.fields, &next.fields),
        (Insert, Delete) => return Some(None),
        (Upsert, Update) => apply_fields(&mut out.fields, &next.fields),
        (Update, Update) => out
            .fields
            .extend(next.fields.iter().map(|(k, v)| (k.clone(), v.clone()))),
        (Update, Delete) => {
            out.operation = Delete;
            out.fields.clear();
        }
        _ => return None,
    }
    Some(Some(out))
}

/// Compacts unsent changes: per record, an insert followed by updates becomes one insert with
/// the final fields; successive updates become one update (based on the first one's base); an
/// update followed by a delete becomes the delete; an insert later deleted disappears.
///
/// `ops` must be every unsent entry, in queue order, with none of these records' changes in
/// flight. The merged change takes the place (and op_id) of the first entry of its run, so a
/// record's insert still precedes the visits that refer to it.
pub fn compact(ops: &[PendingOp]) -> CompactPlan {
    let mut runs: HashMap<(EntityType, Uuid), Vec<&PendingOp>> = HashMap::new();
    let mut order: Vec<(EntityType, Uuid)> = Vec::new();
    for op in ops {
        let key = (op.entity_type, op.entity_id);
        let run = runs.entry(key).or_default();
        if run.is_empty() {
            order.push(key);
        }
        run.push(op);
    }
    let mut plan = CompactPlan::default();
    for key in order {
        let run = &runs[&key];
        if run.len() < 2 {
            continue;
        }
        // Fold the run into merged segments; each segment is anchored at its first entry.
        let mut acc: Option<PendingOp> = None;
        let mut anchor_changed = false;
        for op in run {
            match acc.take() {
                None => {
                    acc = Some((*op).clone());
                    anchor_changed = false;
                }
                Some(a) => match merge_pair(&a, op) {
                    Some(Some(m)) => {
                        plan.delete.push(op.queue_id);
                        acc = Some(m);
                        anchor_changed = true;
                    }
                    Some(None) => {
                        plan.delete.push(a.queue_id);
                        plan.delete.push(op.queue_id);
                        acc = None;
                    }
                    None => {
                        if anchor_changed {
                            plan.rewrite.push(a);
                        }
                        acc = Some((*op).clone());
                        anchor_changed = false;
                    }
                },
            }
        }
        if let Some(a) = acc {
            if anchor_changed {
                plan.rewrite.push(a);
            }
        }
    }
    plan.delete.sort_unstable();
    plan
}

/// A decision for one colliding field.
#[derive(Debug, Clone, PartialEq)]
pub enum Choice {
    Mine,
    Theirs,
    /// A new value (`null` clears the field).
    Value(Value),
}

/// How to settle one conflict.
#[derive(Debug, Clone, PartialEq)]
pub enum Resolution {
    /// Decide each colliding field; a field not named keeps `default`.
    Fields {
        choices: BTreeMap<String, Choice>,
        default: Choice,
    },
    /// Delete versus edit: keep the record (restore it, or keep my edits).
    KeepRecord,
    /// Delete versus edit: let it be deleted.
    AcceptDelete,
}

/// The copies a conflict holds: the *base* (the server's fields this device's edit started
/// from, where known), *mine* (the local record) and *theirs* (the server's newest copy).
#[derive(Debug, Clone, Copy)]
pub struct Sides<'a> {
    pub base: Option<&'a FieldMap>,
    pub mine: &'a FieldMap,
    /// This device sent a delete.
    pub i_deleted: bool,
    pub theirs: &'a FieldMap,
    /// The server's copy is deleted.
    pub they_deleted: bool,
    /// The colliding fields (with [`DELETED`] when one side deleted the record).
    pub colliding: &'a [String],
}

/// What a resolution writes: the record's fields and whether it is deleted, standing on the
/// server's version, and the change to queue for the server (none: the server already holds
/// the result).
#[derive(Debug, Clone, PartialEq)]
pub struct Settlement {
    pub fields: FieldMap,
    pub deleted: bool,
    pub send: Option<(Operation, FieldMap)>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    #[error("this conflict is a delete against an edit: keep the record or accept the delete")]
    FieldsOnDeleteConflict,
}

/// Fields a restore never sends: the server keeps who a visit belongs to.
const FIXED_FIELDS: [&str; 2] = ["household_id", "officer_id"];

/// Settles a conflict. Per colliding field it takes mine, theirs or a new value; this
/// device's edits of fields that do not collide are kept without asking. The queued change
/// is based on the server's version, so if the server moved on again the next sync reports a
/// new conflict rather than overwriting anything.
pub fn resolve(sides: &Sides<'_>, resolution: &Resolution) -> Result<Settlement, ResolveError> {
    let (fields, deleted, op) = match resolution {
        // They deleted: accept it, nothing to send. I deleted: keep my delete on their version.
        Resolution::AcceptDelete if sides.they_deleted => (sides.theirs.clone(), true, None),
        Resolution::AcceptDelete => (sides.mine.clone(), true, Some(Operation::Delete)),
        // They deleted: restore my copy. I deleted, they edited: take their record back.
        Resolution::KeepRecord if sides.they_deleted => {
            (sides.mine.clone(), false, Some(Operation::Update))
        }
        Resolution::KeepRecord => (sides.theirs.clone(), false, None),
        Resolution::Fields { choices, default } => {
            if sides.they_deleted || sides.i_deleted {
                return Err(ResolveError::FieldsOnDeleteConflict);
            }
            let out = choose_fields(sides, choices, default);
            (out, false, Some(Operation::Update))
        }
    };
    let send = match op {
        // A restore sends every field the server may take (the tombstone kept the rest).
        Some(Operation::Update) if sides.they_deleted => {
            let all: FieldMap = fields
                .iter()
                .filter(|(k, _)| !FIXED_FIELDS.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            Some((Operation::Update, all))
        }
        Some(Operation::Update) => Some(diff_fields(sides.theirs, &fields))
            .filter(|d| !d.is_empty())
            .map(|d| (Operation::Update, d)),
        Some(op) => Some((op, FieldMap::new())),
        None => None,
    };
    Ok(Settlement {
        fields,
        deleted,
        send,
    })
}

/// Their record, with my non-colliding edits and the chosen value of each colliding field.
fn choose_fields(
    sides: &Sides<'_>,
    choices: &BTreeMap<String, Choice>,
    default: &Choice,
) -> FieldMap {
    let mut out = sides.theirs.clone();
    let base = sides.base.unwrap_or(sides.theirs);
    for (k, v) in diff_fields(base, sides.mine) {
        if !sides.colliding.contains(&k) {
            set_field(&mut out, &k, v);
        }
    }
    for f in sides.colliding.iter().filter(|f| *f != DELETED) {
        let v = match choices.get(f).unwrap_or(default) {
            Choice::Mine => sides.mine.get(f).cloned().unwrap_or(Value::Null),
            Choice::Theirs => sides.theirs.get(f).cloned().unwrap_or(Value::Null),
            Choice::Value(v) => v.clone(),
        };
        set_field(&mut out, f, v);
    }
    out
}

/// Sets a field; `null` removes it.
fn set_field(out: &mut FieldMap, k: &str, v: Value) {
    if v.is_null() {
        out.remove(k);
    } else {
        out.insert(k.to_string(), v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn fm(v: Value) -> FieldMap {
        serde_json::from_value(v).unwrap()
    }

    const ME: Uuid = Uuid::from_u128(1);
    const OTHER: Uuid = Uuid::from_u128(2);

    fn stamps(entries: &[(&str, i64, Uuid)]) -> Stamps {
        entries
            .iter()
            .map(|(k, v, d)| {
                (
                    k.to_string(),
                    Stamp {
                        version: *v,
                        device: *d,
                    },
                )
            })
            .collect()
    }

    #[test]
    fn update_on_fresh_base_applies_without_merge() {
        let f = fm(json!({"notes": "a"}));
        let s = stamps(&[("notes", 5, OTHER)]);
        let cur = Current {
            version: 5,
            deleted: false,
            deleted_by: None,
            fields: &f,
            stamps: &s,
        };
        let d = decide(
            Operation::Update,
            Some(5),
            &fm(json!({"notes": "b"})),
            ME,
            Some(&cur),
        );
        assert_eq!(
            d,
            Ok(Decision::Apply {
                merged: false,
                restore: false
            })
        );
    }

    #[test]
    fn disjoint_fields_merge_and_same_field_conflicts() {
        let f = fm(json!({"notes": "theirs", "answers.crop": "maize", "gps": [1.0, 2.0]}));
        let s = stamps(&[
            ("notes", 7, OTHER),
            ("gps", 3, OTHER),
            ("answers.crop", 3, ME),
        ]);
        let cur = Current {
            version: 7,
            deleted: false,
            deleted_by: None,
            fields: &f,
            stamps: &s,
        };
        let merged = decide(
            Operation::Update,
            Some(5),
            &fm(json!({"gps": [3.0, 4.0], "answers.crop": "rice"})),
            ME,
            Some(&cur),
        );
        assert_eq!(
            merged,
            Ok(Decision::Apply {
                merged: true,
                restore: false
            })
        );
        let conflict = decide(
            Operation::Update,
            Some(5),
            &fm(json!({"notes": "mine", "gps": [3.0, 4.0]})),
            ME,
            Some(&cur),
        );
        assert_eq!(conflict, Ok(Decision::Conflict(vec!["notes".into()])));
        // The same value on both sides is no collision.
        let same = decide(
            Operation::Update,
            Some(5),
            &fm(json!({"notes": "theirs"})),
            ME,
            Some(&cur),
        );
        assert!(matches!(same, Ok(Decision::Apply { .. })));
    }

    #[test]
    fn my_own_later_edits_never_conflict_with_my_earlier_ones() {
        let f = fm(json!({"notes": "first"}));
        let s = stamps(&[("notes", 9, ME)]);
        let cur = Current {
            version: 9,
            deleted: false,
            deleted_by: None,
            fields: &f,
            stamps: &s,
        };
        let d = decide(
            Operation::Update,
            Some(4),
            &fm(json!({"notes": "second"})),
            ME,
            Some(&cur),
        );
        assert!(matches!(d, Ok(Decision::Apply { .. })));
    }

    #[test]
    fn deletes_conflict_with_edits_since_base() {
        let f = fm(json!({"notes": "x"}));
        let s = stamps(&[("notes", 8, OTHER)]);
        let cur = Current {
            version: 8,
            deleted: false,
            deleted_by: None,
            fields: &f,
            stamps: &s,
        };
        assert_eq!(
            decide(Operation::Delete, Some(6), &FieldMap::new(), ME, Some(&cur)),
            Ok(Decision::Conflict(vec!["deleted".into(), "notes".into()]))
        );
        assert_eq!(
            decide(Operation::Delete, Some(8), &FieldMap::new(), ME, Some(&cur)),
            Ok(Decision::Apply {
                merged: false,
                restore: false
            })
        );
        let dead = Current {
            deleted: true,
            deleted_by: Some(OTHER),
            ..cur.clone()
        };
        assert_eq!(
            decide(
                Operation::Update,
                Some(6),
                &fm(json!({"notes": "y"})),
                ME,
                Some(&dead)
            ),
            Ok(Decision::Conflict(vec!["deleted".into()]))
        );
        // Seen the delete (base at the tombstone) and still editing: a restore.
        assert_eq!(
            decide(
                Operation::Update,
                Some(8),
                &fm(json!({"notes": "y"})),
                ME,
                Some(&dead)
            ),
            Ok(Decision::Apply {
                merged: false,
                restore: true
            })
        );
        assert_eq!(
            decide(
                Operation::Delete,
                Some(1),
                &FieldMap::new(),
                ME,
                Some(&dead)
            ),
            Ok(Decision::Noop)
        );
    }

    #[test]
    fn bases_the_server_never_issued_are_rejected() {
        let f = FieldMap::new();
        let s = Stamps::new();
        let cur = Current {
            version: 5,
            deleted: false,
            deleted_by: None,
            fields: &f,
            stamps: &s,
        };
        for base in [-1, 6, i64::MAX] {
            let d = decide(Operation::Update, Some(base), &f, ME, Some(&cur));
            assert_eq!(d.unwrap_err().code, ErrorCode::InvalidField, "{base}");
        }
    }

    #[test]
    fn inserts_of_existing_ids_and_updates_of_missing_records_are_rejected() {
        let f = FieldMap::new();
        let s = Stamps::new();
        let cur = Current {
            version: 1,
            deleted: false,
            deleted_by: None,
            fields: &f,
            stamps: &s,
        };
        assert_eq!(
            decide(Operation::Insert, None, &f, ME, Some(&cur))
                .unwrap_err()
                .code,
            ErrorCode::AlreadyExists
        );
        assert_eq!(
            decide(Operation::Update, Some(1), &f, ME, None)
                .unwrap_err()
                .code,
            ErrorCode::UnknownRecord
        );
    }

    fn op(id: i64, entity: u128, operation: Operation, fields: Value) -> PendingOp {
        PendingOp {
            queue_id: id,
            entity_type: EntityType::Household,
            entity_id: Uuid::from_u128(entity),
            operation,
            base_version: if operation == Operation::Insert {
                None
            } else {
                Some(3)
            },
            fields: fm(fields),
        }
    }

    #[test]
    fn compaction_examples() {
        use Operation::*;
        let ops = vec![
            op(1, 1, Insert, json!({"name": "a", "notes": "n"})),
            op(2, 2, Update, json!({"notes": "x"})),
            op(3, 1, Update, json!({"name": "b", "notes": null})),
            op(4, 2, Update, json!({"village": "v"})),
            op(5, 3, Insert, json!({"name": "gone"})),
            op(6, 3, Delete, json!({})),
            op(7, 4, Update, json!({"notes": "z"})),
            op(8, 4, Delete, json!({})),
        ];
        let plan = compact(&ops);
        assert_eq!(plan.delete, vec![3, 4, 5, 6, 8]);
        let rewritten: BTreeMap<i64, (Operation, FieldMap)> = plan
            .rewrite
            .iter()
            .map(|o| (o.queue_id, (o.operation, o.fields.clone())))
            .collect();
        assert_eq!(rewritten[&1], (Insert, fm(json!({"name": "b"}))));
        assert_eq!(
            rewritten[&2],
            (Update, fm(json!({"notes": "x", "village": "v"})))
        );
        assert_eq!(rewritten[&7], (Delete, FieldMap::new()));
    }

    /// A record as a device sees it: absent, live with fields, or a tombstone.
    #[derive(Debug, Clone, PartialEq)]
    enum State {
        Absent,
        Live(FieldMap),
        Gone,
    }

    fn replay(ops: &[PendingOp]) -> HashMap<Uuid, State> {
        let mut out: HashMap<Uuid, State> = HashMap::new();
        let mut born_here = std::collections::HashSet::new();
        for o in ops {
            if !out.contains_key(&o.entity_id) && o.operation == Operation::Insert {
                born_here.insert(o.entity_id);
            }
            let st = out.entry(o.entity_id).or_insert(State::Absent);
            *st = match (o.operation, st.clone()) {
                (Operation::Insert | Operation::Upsert, _) => {
                    let mut f = FieldMap::new();
                    apply_fields(&mut f, &o.fields);
                    State::Live(f)
                }
                (Operation::Update, State::Live(mut f)) => {
                    apply_fields(&mut f, &o.fields);
                    State::Live(f)
                }
                (Operation::Update, s) => s,
                (Operation::Delete, State::Absent) => State::Absent,
                (Operation::Delete, _) => State::Gone,
            };
        }
        // A record inserted and deleted without ever being sent is the same as never existing.
        out.retain(|id, s| *s != State::Absent && !(*s == State::Gone && born_here.contains(id)));
        out
    }

    /// Generates a plausible local history: per record an optional insert (new records) or
    /// edits of an already synced record, then edits, then maybe a delete.
    fn history() -> impl Strategy<Value = Vec<PendingOp>> {
        let field = prop_oneof![
            Just("name"),
            Just("notes"),
            Just("village"),
            Just("answers.a"),
            Just("answers.b")
        ];
        let value = prop_oneof![Just(Value::Null), "[a-c]{1,2}".prop_map(Value::from)];
        let edit = proptest::collection::btree_map(field.prop_map(String::from), value, 1..4);
        let record = (
            any::<bool>(),
            proptest::collection::vec(edit, 0..5),
            any::<bool>(),
        );
        proptest::collection::vec(record, 1..6)
            .prop_flat_map(|records| {
                let n: usize = records
                    .iter()
                    .map(|(new, e, d)| *new as usize + e.len() + *d as usize)
                    .sum();
                (Just(records), Just(n).prop_shuffle_indices())
            })
            .prop_map(|(records, order)| {
                let mut per_record: Vec<Vec<(Operation, FieldMap)>> = records
                    .into_iter()
                    .map(|(new, edits, del)| {
                        let mut ops = Vec::new();
                        if new {
                            ops.push((Operation::Insert, fm(json!({"name": "start"}))));
                        }
                        for e in edits {
                            ops.push((Operation::Update, e));
                        }
                        if del {
                            ops.push((Operation::Delete, FieldMap::new()));
                        }
                        ops
                    })
                    .collect();
                // Interleave records' histories in a random order, keeping each in order.
                let mut out = Vec::new();
                for (i, pick) in order.into_iter().enumerate() {
                    let live: Vec<usize> = (0..per_record.len())
                        .filter(|i| !per_record[*i].is_empty())
                        .collect();
                    let r = live[pick % live.len()];
                    let (operation, fields) = per_record[r].remove(0);
                    out.push(PendingOp {
                        queue_id: i as i64 + 1,
                        entity_type: EntityType::Household,
                        entity_id: Uuid::from_u128(r as u128 + 1),
                        operation,
                        base_version: Some(1),
                        fields,
                    });
                }
                out
            })
    }

    trait ShuffleIndices {
        fn prop_shuffle_indices(self) -> BoxedStrategy<Vec<usize>>;
    }
    impl ShuffleIndices for Just<usize> {
        fn prop_shuffle_indices(self) -> BoxedStrategy<Vec<usize>> {
            proptest::collection::vec(any::<usize>(), self.0).boxed()
        }
    }

    fn apply_plan(ops: &[PendingOp], plan: &CompactPlan) -> Vec<PendingOp> {
        let rewrites: HashMap<i64, &PendingOp> =
            plan.rewrite.iter().map(|o| (o.queue_id, o)).collect();
        ops.iter()
            .filter(|o| !plan.delete.contains(&o.queue_id))
            .map(|o| {
                rewrites
                    .get(&o.queue_id)
                    .map_or(o.clone(), |r| (*r).clone())
            })
            .collect()
    }

    proptest! {
        /// Compaction never changes what the queue means: replaying the compacted queue gives
        /// the same records as replaying the original one, with at most one entry per record.
        #[test]
        fn compaction_preserves_the_outcome(ops in history()) {
            let plan = compact(&ops);
            let compacted = apply_plan(&ops, &plan);
            prop_assert_eq!(replay(&ops), replay(&compacted));
            let mut seen = std::collections::HashSet::new();
            for o in &compacted {
                prop_assert!(seen.insert(o.entity_id), "two entries left for one record");
            }
            // Compacting again changes nothing.
            prop_assert!(compact(&compacted).is_empty());
        }

        /// A change whose base is the record's current version never conflicts, and a change
        /// from the same device as every stamp never conflicts.
        #[test]
        fn no_conflict_without_another_devices_newer_edit(
            version in 1i64..100,
            keys in proptest::collection::btree_set("[a-d]", 1..4),
            mine_only in any::<bool>(),
        ) {
            let fields: FieldMap = keys.iter().map(|k| (k.clone(), json!("server"))).collect();
            let device = if mine_only { ME } else { OTHER };
            let st: Stamps = keys.iter().map(|k| (k.clone(), Stamp { version, device })).collect();
            let cur = Current { version, deleted: false, deleted_by: None, fields: &fields, stamps: &st };
            let change: FieldMap = keys.iter().map(|k| (k.clone(), json!("mine"))).collect();
            let base = if mine_only { Some(0) } else { Some(version) };
            let d = decide(Operation::Update, base, &change, ME, Some(&cur));
            prop_assert!(matches!(d, Ok(Decision::Apply { .. })), "{:?}", d);
        }

        /// Conflicting fields are exactly the changed keys another device wrote after the base
        /// with a different value.
        #[test]
        fn conflicts_name_exactly_the_colliding_fields(
            server in proptest::collection::btree_map("[a-e]", (1i64..10, any::<bool>()), 0..5),
            change in proptest::collection::btree_map("[a-e]", "[xy]", 1..4),
            base in 0i64..10,
        ) {
            let fields: FieldMap = server.keys().map(|k| (k.clone(), json!("x"))).collect();
            let st: Stamps = server.iter().map(|(k, (v, other))| {
                (k.clone(), Stamp { version: *v, device: if *other { OTHER } else { ME } })
            }).collect();
            // The record has moved on at least to every stamp and to the change's base.
            let top = server.values().map(|(v, _)| *v).max().unwrap_or(1).max(base);
            let cur = Current { version: top, deleted: false, deleted_by: None, fields: &fields, stamps: &st };
            let change_fm: FieldMap = change.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
            let expected: Vec<String> = change.iter().filter(|(k, v)| {
                server.get(*k).is_some_and(|(ver, other)| *other && *ver > base && v.as_str() != "x")
            }).map(|(k, _)| k.clone()).collect();
            let d = decide(Operation::Update, Some(base), &change_fm, ME, Some(&cur)).unwrap();
            if expected.is_empty() {
                prop_assert!(matches!(d, Decision::Apply { .. }), "{:?}", d);
            } else {
                prop_assert_eq!(d, Decision::Conflict(expected));
            }
        }
    }

    mod resolution {
        use super::*;

        const KEYS: [&str; 4] = ["name", "village", "notes", "gps"];

        fn field_map() -> impl Strategy<Value = FieldMap> {
            proptest::collection::btree_map(
                proptest::sample::select(KEYS.to_vec()).prop_map(str::to_string),
                "[a-c]{1,2}".prop_map(Value::from),
                0..4,
            )
            .prop_map(|m| m.into_iter().collect())
        }

        fn colliding() -> impl Strategy<Value = Vec<String>> {
            proptest::sample::subsequence(KEYS.to_vec(), 0..=KEYS.len())
                .prop_map(|v| v.into_iter().map(str::to_string).collect())
        }

        fn choice() -> impl Strategy<Value = Choice> {
            prop_oneof![
                Just(Choice::Mine),
                Just(Choice::Theirs),
                "[x-z]{1,2}".prop_map(|s| Choice::Value(Value::from(s))),
                Just(Choice::Value(Value::Null)),
            ]
        }

        fn sides<'a>(
            base: &'a FieldMap,
            mine: &'a FieldMap,
            theirs: &'a FieldMap,
            colliding: &'a [String],
        ) -> Sides<'a> {
            Sides {
                base: Some(base),
                mine,
                i_deleted: false,
                theirs,
                they_deleted: false,
                colliding,
            }
        }

        proptest! {
            /// Per field: a colliding field takes the chosen side (or the new value); a field
            /// only this device edited keeps the edit; every other field is the server's.
            /// The queued update is exactly the difference from the server's copy.
            #[test]
            fn a_field_resolution_writes_what_was_chosen_and_keeps_my_other_edits(
                base in field_map(), mine in field_map(), theirs in field_map(),
                colliding in colliding(),
                choices in proptest::collection::btree_map(
                    proptest::sample::select(KEYS.to_vec()).prop_map(str::to_string), choice(), 0..4),
                default in choice(),
            ) {
                let s = sides(&base, &mine, &theirs, &colliding);
                let r = Resolution::Fields { choices: choices.clone(), default: default.clone() };
                let out = resolve(&s, &r).unwrap();
                prop_assert!(!out.deleted);
                for k in KEYS {
                    let expected = if colliding.iter().any(|c| c == k) {
                        match choices.get(k).unwrap_or(&default) {
                            Choice::Mine => mine.get(k),
                            Choice::Theirs => theirs.get(k),
                            Choice::Value(v) => Some(v).filter(|v| !v.is_null()),
                        }
                    } else if mine.get(k) != base.get(k) {
                        mine.get(k)
                    } else {
                        theirs.get(k)
                    };
                    prop_assert_eq!(out.fields.get(k), expected, "field {}", k);
                }
                match &out.send {
                    None => prop_assert_eq!(&out.fields, &theirs),
                    Some((op, payload)) => {
                        prop_assert_eq!(*op, Operation::Update);
                        prop_assert!(!payload.is_empty());
                        let mut applied = theirs.clone();
                        apply_fields(&mut applied, payload);
                        prop_assert_eq!(&applied, &out.fields);
                    }
                }
            }

            /// Choosing theirs everywhere with no other local edits writes the server's copy
            /// and sends nothing.
            #[test]
            fn taking_theirs_without_other_edits_sends_nothing(
                base in field_map(), theirs in field_map(),
            ) {
                let all: Vec<String> = KEYS.iter().map(|k| k.to_string()).collect();
                let s = sides(&base, &base, &theirs, &all);
                let r = Resolution::Fields { choices: BTreeMap::new(), default: Choice::Theirs };
                let out = resolve(&s, &r).unwrap();
                prop_assert_eq!(&out.fields, &theirs);
                prop_assert_eq!(out.send, None);
            }

            /// Delete against edit: accepting the delete deletes, keeping the record keeps it;
            /// what is sent depends on who deleted; per-field choices are refused.
            #[test]
            fn delete_conflicts_keep_or_delete_the_whole_record(
                mine in field_map(), theirs in field_map(), they_deleted in any::<bool>(),
            ) {
                let deleted = vec![DELETED.to_string()];
                let s = Sides {
                    base: None,
                    mine: &mine,
                    i_deleted: !they_deleted,
                    theirs: &theirs,
                    they_deleted,
                    colliding: &deleted,
                };
                let accept = resolve(&s, &Resolution::AcceptDelete).unwrap();
                prop_assert!(accept.deleted);
                let keep = resolve(&s, &Resolution::KeepRecord).unwrap();
                prop_assert!(!keep.deleted);
                if they_deleted {
                    prop_assert_eq!(accept.send, None);
                    // A restore sends every field, so the server revives the whole record.
                    prop_assert_eq!(&keep.fields, &mine);
                    prop_assert_eq!(keep.send, Some((Operation::Update, mine.clone())));
                } else {
                    prop_assert_eq!(accept.send, Some((Operation::Delete, FieldMap::new())));
                    prop_assert_eq!(&keep.fields, &theirs);
                    prop_assert_eq!(keep.send, None);
                }
                let fields = Resolution::Fields { choices: BTreeMap::new(), default: Choice::Mine };
                prop_assert_eq!(resolve(&s, &fields), Err(ResolveError::FieldsOnDeleteConflict));
            }
        }

        #[test]
        fn a_restore_does_not_send_who_a_visit_belongs_to() {
            let mine: FieldMap = serde_json::from_value(json!({
                "household_id": "h", "officer_id": "o", "notes": "n"
            }))
            .unwrap();
            let deleted = vec![DELETED.to_string()];
            let s = Sides {
                base: None,
                mine: &mine,
                i_deleted: false,
                theirs: &FieldMap::new(),
                they_deleted: true,
                colliding: &deleted,
            };
            let keep = resolve(&s, &Resolution::KeepRecord).unwrap();
            let sent = keep.send.unwrap().1;
            assert_eq!(sent.keys().collect::<Vec<_>>(), vec!["notes"]);
        }
    }
}
