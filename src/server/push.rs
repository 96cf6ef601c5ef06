//! The push planner: a pure function from a batch and a [`Snapshot`] to one result per change
//! and the [`WriteSet`] to store. No I/O: the service hands it to the store's write
//! transaction (see [`crate::server::service`]); stores never call it.
//!
//! [`needed`] says what to load for a batch; [`plan`] walks the changes in order and decides
//! each one:
//!
//! 1. **Dedupe**: an op_id with a stored result returns that first result unchanged (and
//!    changes nothing); the same op_id with different content (see [`change_hash`]) is
//!    rejected `op_id_reused`. A repeated op_id inside one batch behaves the same way.
//!    An op_id with no stored result, numbered at or below its device's mark (op-id retention,
//!    [`PushMode::seqs`], [`crate::server::retention`]), is refused `op_expired` and not stored.
//! 2. **Validation** with the shared [`crate::model::validate_change`].
//! 3. **Permissions**: records of another team are `forbidden`; a visit must name the token's
//!    officer and a household of the officer's team.
//! 4. **The form rule** ([`crate::server::form_rules`]), for changes about to be applied.
//! 5. **The conflict rule** [`crate::merge::decide`], then for a change about to apply the
//!    **orphan rule** [`crate::orphans`] (a household delete meeting live visits is a
//!    conflict; a visit to a deleted household restores it). An update that conflicts on some
//!    fields still merges its other fields (with a new version); the conflict result carries
//!    the record as it stands after that, so only the colliding fields wait for the officer.
//! 6. **Apply** to the in-memory snapshot, so later changes in the batch see earlier ones:
//!    every applied change takes the next version; the record's per-field stamps record
//!    which version and device last wrote each field.
//!
//! Every result (accepted, conflict or rejected) is stored under its op_id, except an
//! `op_id_reused` rejection, which must not replace the first result. A rejected change never
//! blocks the rest of the batch.

use std::borrow::Cow;
use std::collections::HashSet;

use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::form_rules::{check_visit_form, TeamForms};
use super::retention;
use super::store::{Officer, Snapshot, StoredOp, StoredRecord, WriteKeys, WriteSet};
use crate::merge::{decide, stamp_fields, Current, Decision, Stamps, DELETED};
use crate::model::{
    apply_fields, canonicalize_fields, is_canonical, validate_change, EntityType, FieldMap,
    Operation,
};
use crate::orphans::{self, Orphan};
use crate::protocol::{Audit, Change, ChangeResult, ErrorCode, FieldStamp};

/// The content hash that tells a replay from a reused op_id: SHA-256 over the entity type,
/// entity id, operation, base version and canonical (key-sorted) fields JSON.
pub fn change_hash(c: &Change) -> String {
    let mut h = Sha256::new();
    h.update(c.entity_type.as_str().as_bytes());
    h.update([0]);
    h.update(c.entity_id.as_bytes());
    h.update(c.operation.as_str().as_bytes());
    h.update([0]);
    match c.base_version {
        Some(v) => h.update(v.to_be_bytes()),
        None => h.update(b"none"),
    }
    h.update([0]);
    // FieldMap is a BTreeMap and serde_json objects are sorted maps: canonical.
    h.update(serde_json::to_vec(&c.fields).unwrap_or_default());
    hex::encode(h.finalize())
}

/// What a store must load for a batch: its op_ids, and the ids of the records it names plus
/// the households its visit inserts refer to.
pub fn needed(changes: &[Change]) -> WriteKeys {
    let mut ops = Vec::with_capacity(changes.len());
    let mut seen_ops = HashSet::new();
    let mut ids = Vec::with_capacity(changes.len());
    let mut seen = HashSet::new();
    let mut deleted_households = Vec::new();
    for c in changes {
        if c.entity_type == EntityType::Household
            && c.operation == Operation::Delete
            && !deleted_households.contains(&c.entity_id)
        {
            deleted_households.push(c.entity_id);
        }
        if seen_ops.insert(c.op_id) {
            ops.push(c.op_id);
        }
        if seen.insert(c.entity_id) {
            ids.push(c.entity_id);
        }
        if let Some(h) = household_of(c) {
            if seen.insert(h) {
                ids.push(h);
            }
        }
    }
    WriteKeys {
        team: String::new(),
        op_ids: ops,
        ids,
        deleted_households,
        device: None,
    }
}

fn household_of(c: &Change) -> Option<Uuid> {
    if c.entity_type != EntityType::Visit
        || !matches!(c.operation, Operation::Insert | Operation::Upsert)
    {
        return None;
    }
    c.fields
        .get("household_id")
        .and_then(|v| v.as_str())
        .and_then(|s| Uuid::parse_str(s).ok())
}

/// Decides every change of a batch against `snap` (which it updates) and returns one result
/// per change, in order, and what to write.
pub fn plan(
    officer: &Officer,
    device: Uuid,
    changes: &[Change],
    snap: &mut Snapshot,
) -> (Vec<ChangeResult>, WriteSet) {
    let at = crate::model::now_timestamp();
    plan_with_forms(officer, device, changes, snap, &TeamForms::new(), &at)
}

/// What a push asks of the planner beyond its changes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PushMode<'a> {
    /// The device applies the stamp of each accepted change it can rebuild exactly
    /// ([`ChangeResult::stamped`]) and names itself in its pulls, which then leave those
    /// records out (no echo, issue 14). Off for clients that do not say so.
    pub no_echo: bool,
    /// The device's sequence numbers of the changes, one per change (op-id retention): an
    /// op_id without a stored result numbered at or below [`Snapshot::forgotten_upto`] is
    /// refused `op_expired` and not stored ([`crate::server::retention`]). `None` from
    /// clients that send no numbers.
    pub seqs: Option<&'a [i64]>,
}

/// Who pushes a batch, from which device, received when (server time): what accepted
/// changes are stamped with.
#[derive(Clone, Copy)]
struct Pusher<'a> {
    officer: &'a Officer,
    device: Uuid,
    at: &'a str,
    mode: PushMode<'a>,
}

/// [`plan`], also refusing visits whose answers break the form version they name (issue 15;
/// see [`crate::server::form_rules`]); `forms` are the officer's team's published forms,
/// `at` the server's receive time that accepted changes are stamped with.
pub fn plan_with_forms(
    officer: &Officer,
    device: Uuid,
    changes: &[Change],
    snap: &mut Snapshot,
    forms: &TeamForms,
    at: &str,
) -> (Vec<ChangeResult>, WriteSet) {
    let mode = PushMode::default();
    plan_with_mode(officer, device, changes, snap, forms, at, mode)
}

/// [`plan_with_forms`] in `mode` (see [`PushMode`]).
pub fn plan_with_mode(
    officer: &Officer,
    device: Uuid,
    changes: &[Change],
    snap: &mut Snapshot,
    forms: &TeamForms,
    at: &str,
    mode: PushMode<'_>,
) -> (Vec<ChangeResult>, WriteSet) {
    let who = Pusher {
        officer,
        device,
        at,
        mode,
    };
    let mut results = Vec::with_capacity(changes.len());
    let mut write = WriteSet::default();
    let mut touched: Vec<Uuid> = Vec::new();
    let mut touched_set: HashSet<Uuid> = HashSet::new();
    for (i, raw) in changes.iter().enumerate() {
        let spelled = canonical(raw);
        // Only a change stored as sent can be rebuilt exactly by its device (no echo).
        let as_sent = matches!(spelled, Cow::Borrowed(_));
        let c = &*spelled;
        let hash = change_hash(c);
        if let Some(prev) = snap.ops.get(&c.op_id) {
            if prev.hash == hash {
                results.push(prev.result.clone());
            } else {
                results.push(ChangeResult::rejected(
                    c.op_id,
                    ErrorCode::OpIdReused,
                    "this op_id was used before for a different change",
                ));
            }
            continue;
        }
        let seq = who.mode.seqs.and_then(|s| s.get(i).copied());
        if let Some(refused) = retention::expired(c.op_id, seq, snap.forgotten_upto) {
            results.push(refused);
            continue;
        }
        let result = decide_one(who, c, as_sent, snap, forms, &mut |id| {
            if touched_set.insert(id) {
                touched.push(id);
            }
        });
        snap.ops.insert(
            c.op_id,
            StoredOp {
                hash: hash.clone(),
                result: result.clone(),
            },
        );
        write.ops.push((c.op_id, hash, result.clone()));
        results.push(result);
    }
    write.records = touched
        .iter()
        .filter_map(|id| snap.records.get(id).cloned())
        .collect();
    write.version = snap.version;
    write.server_id = snap.server_id;
    (results, write)
}

/// The change with its fields in canonical spelling (ids lower-case hyphenated, times in
/// UTC with `T` and `Z`), so that what is stored, compared and hashed never depends on how a
/// client spelled it. Values that are not valid stay as sent; validation refuses them.
fn canonical(c: &Change) -> Cow<'_, Change> {
    if is_canonical(&c.fields) {
        return Cow::Borrowed(c);
    }
    let mut owned = c.clone();
    canonicalize_fields(&mut owned.fields);
    Cow::Owned(owned)
}

/// Decides one change that is not a replay, applying it to `snap` when it is accepted.
fn decide_one(
    who: Pusher<'_>,
    c: &Change,
    as_sent: bool,
    snap: &mut Snapshot,
    forms: &TeamForms,
    touch: &mut dyn FnMut(Uuid),
) -> ChangeResult {
    let op = c.op_id;
    if let Err(e) = validate_change(c.entity_type, c.operation, &c.fields) {
        return ChangeResult::rejected(op, ErrorCode::InvalidField, e.to_string());
    }
    let (officer, device) = (who.officer, who.device);
    let team = match check_access(officer, c, snap) {
        Ok(team) => team,
        Err((code, message)) => return ChangeResult::rejected(op, code, message),
    };
    let existing = snap.records.get(&c.entity_id);
    let current = existing.map(|r| Current {
        version: r.version,
        deleted: r.deleted,
        deleted_by: r.deleted_by,
        fields: &r.fields,
        stamps: &r.stamps,
    });
    let decision = decide(
        c.operation,
        c.base_version,
        &c.fields,
        device,
        current.as_ref(),
    );
    match decision {
        Err(rej) => ChangeResult::rejected(op, rej.code, rej.message),
        Ok(Decision::Noop) => match snap.records.get_mut(&c.entity_id) {
            Some(r) => {
                // The device sent its own copy, which the server's stands against: its next
                // pull must bring the server's.
                if r.echo_device.take().is_some() {
                    touch(c.entity_id);
                }
                ChangeResult::accepted(op, r.version, r.server_id, false)
            }
            None => ChangeResult::rejected(op, ErrorCode::UnknownRecord, "no such record"),
        },
        Ok(Decision::Conflict(fields)) => merge_around_conflict(c, who, fields, snap, touch),
        Ok(Decision::Apply { merged, restore }) => {
            if let Err((code, message)) = check_visit_form(c, existing.map(|r| &r.fields), forms) {
                return ChangeResult::rejected(op, code, message);
            }
            if let Some(result) = orphan_rule(c, who, snap, touch) {
                return result;
            }
            let was_live = live_visit(c, snap);
            let echo = who.mode.no_echo
                && as_sent
                && echo_free(
                    c,
                    who.device,
                    merged || restore,
                    snap.records.get(&c.entity_id),
                );
            let (version, server_id) = apply(c, who, team, restore, snap);
            count_visits(c, was_live, snap);
            touch(c.entity_id);
            let result = ChangeResult::accepted(op, version, server_id, merged);
            mark_echo(result, c.entity_id, who, echo, snap)
        }
    }
}

/// Records on the record just applied whether its device holds it exactly (`echo`), and
/// then tells the device the stamp it needs for that ([`ChangeResult::stamped`]).
fn mark_echo(
    mut result: ChangeResult,
    id: Uuid,
    who: Pusher<'_>,
    echo: bool,
    snap: &mut Snapshot,
) -> ChangeResult {
    if let Some(rec) = snap.records.get_mut(&id) {
        rec.echo_device = echo.then_some(who.device);
    }
    if echo {
        result.stamped = Some(FieldStamp {
            by: who.officer.id.clone(),
            at: who.at.to_string(),
        });
    }
    result
}

/// Can `device` rebuild exactly what applying `c` makes of the record (`existing` before
/// it), given the stamp? An insert: its fields are the change's. An update: only when the
/// device's copy is exactly the server's already, i.e. the record's current version is the
/// device's own echo-free change (any other change clears that mark). Never when the change
/// is merged with others' edits or restores a deleted record, nor for a delete or an upsert
/// (their pulls bring the server's copy).
fn echo_free(
    c: &Change,
    device: Uuid,
    merged_or_restored: bool,
    existing: Option<&StoredRecord>,
) -> bool {
    if merged_or_restored {
        return false;
    }
    match (c.operation, existing) {
        (Operation::Insert, None) => true,
        (Operation::Update, Some(r)) => r.echo_device == Some(device) && !r.deleted,
        _ => false,
    }
}

/// The orphan rule ([`crate::orphans`]): a household delete that meets live visits is a
/// conflict on `deleted` (with the server's household); a visit recorded (or restored) to a
/// deleted household restores the household first. `Some`: the change's result.
fn orphan_rule(
    c: &Change,
    who: Pusher<'_>,
    snap: &mut Snapshot,
    touch: &mut dyn FnMut(Uuid),
) -> Option<ChangeResult> {
    let existing = snap.records.get(&c.entity_id);
    let household = match c.entity_type {
        EntityType::Household => Some(c.entity_id),
        EntityType::Visit => household_id(c, existing),
    };
    // An upsert (a record sent again to a restored server) creates or updates.
    let operation = match c.operation {
        Operation::Upsert if existing.is_none() => Operation::Insert,
        Operation::Upsert => Operation::Update,
        other => other,
    };
    let restores = existing.is_some_and(|r| r.deleted) && operation == Operation::Update;
    let live_visits = match (c.entity_type, existing) {
        (EntityType::Household, Some(h)) if !h.deleted => {
            snap.live_visits.get(&c.entity_id).copied().unwrap_or(0)
        }
        _ => 0,
    };
    let household_deleted = c.entity_type == EntityType::Visit
        && household
            .and_then(|h| snap.records.get(&h))
            .is_some_and(|h| h.deleted);
    match orphans::check(
        c.entity_type,
        operation,
        restores,
        household_deleted,
        live_visits,
    ) {
        Ok(()) => None,
        Err(Orphan::HouseholdHasVisits(_)) => Some(merge_around_conflict(
            c,
            who,
            vec![DELETED.to_string()],
            snap,
            touch,
        )),
        Err(Orphan::HouseholdDeleted) => {
            let h = household.and_then(|h| snap.records.get_mut(&h))?;
            snap.version += 1;
            h.version = snap.version;
            h.deleted = false;
            h.deleted_by = None;
            h.echo_device = None;
            h.audit
                .stamp(&who.officer.id, who.at, &FieldMap::new(), false);
            touch(h.id);
            None
        }
    }
}

/// The household a visit change is about: from its fields (an insert) or its record.
fn household_id(c: &Change, existing: Option<&StoredRecord>) -> Option<Uuid> {
    household_of(c).or_else(|| {
        existing
            .and_then(|r| r.fields.get("household_id"))
            .and_then(|v| v.as_str())
            .and_then(|s| Uuid::parse_str(s).ok())
    })
}

/// Is `c` about a visit that is live (stored and not deleted) in `snap`?
fn live_visit(c: &Change, snap: &Snapshot) -> bool {
    c.entity_type == EntityType::Visit && snap.records.get(&c.entity_id).is_some_and(|r| !r.deleted)
}

/// Keeps [`Snapshot::live_visits`] right as the batch records, deletes, restores and sends
/// again (upserts) visits: the change of liveness of the visit `c` was applied to.
fn count_visits(c: &Change, was_live: bool, snap: &mut Snapshot) {
    if c.entity_type != EntityType::Visit {
        return;
    }
    let delta = match (was_live, live_visit(c, snap)) {
        (false, true) => 1,
        (true, false) => -1,
        _ => return,
    };
    let h = household_id(c, snap.records.get(&c.entity_id));
    if let Some(n) = h.and_then(|h| snap.live_visits.get_mut(&h)) {
        *n += delta;
    }
}

/// Why a change is refused: its error code and message.
type Refusal = (ErrorCode, String);

/// The permission rules: the team a new record would belong to, or the rejection. Records
/// of another team are `forbidden`; a visit insert must name the token's officer and a
/// household of the officer's team.
fn check_access(officer: &Officer, c: &Change, snap: &Snapshot) -> Result<String, Refusal> {
    match snap.records.get(&c.entity_id) {
        Some(rec) if c.operation != Operation::Insert => {
            if rec.entity_type != c.entity_type {
                let msg = format!(
                    "{} is a {}, not a {}",
                    c.entity_id, rec.entity_type, c.entity_type
                );
                return Err((ErrorCode::UnknownRecord, msg));
            }
            if rec.team != officer.team {
                let msg = format!(
                    "{} {} belongs to another team",
                    rec.entity_type, c.entity_id
                );
                return Err((ErrorCode::Forbidden, msg));
            }
            if c.operation == Operation::Upsert {
                fixed_fields_unchanged(c, rec)?;
            }
            Ok(officer.team.clone())
        }
        // An insert of an existing id: decide() rejects it.
        Some(_) => Ok(officer.team.clone()),
        None if c.entity_type == EntityType::Visit
            && matches!(c.operation, Operation::Insert | Operation::Upsert) =>
        {
            visit_team(officer, c, snap)
        }
        None => Ok(officer.team.clone()),
    }
}

/// An upsert of an existing visit carries its household and officer (the whole record):
/// they must be the ones it has, as an update may not change them.
fn fixed_fields_unchanged(c: &Change, rec: &StoredRecord) -> Result<(), Refusal> {
    for k in ["household_id", "officer_id"] {
        if let Some(v) = c.fields.get(k) {
            if rec.fields.get(k) != Some(v) {
                let msg = format!("{k} cannot be changed once the visit is recorded");
                return Err((ErrorCode::InvalidField, msg));
            }
        }
    }
    Ok(())
}

/// The team of a new visit: its household's, which must be the officer's.
fn visit_team(officer: &Officer, c: &Change, snap: &Snapshot) -> Result<String, Refusal> {
    if c.fields.get("officer_id").and_then(|v| v.as_str()) != Some(officer.id.as_str()) {
        let msg = format!(
            "a visit's officer_id must be the signed-in officer {:?}",
            officer.id
        );
        return Err((ErrorCode::Forbidden, msg));
    }
    match household_of(c).and_then(|h| snap.records.get(&h)) {
        Some(h) if h.entity_type == EntityType::Household => {
            if h.team != officer.team {
                let msg = format!("household {} belongs to another team", h.id);
                return Err((ErrorCode::Forbidden, msg));
            }
            Ok(h.team.clone())
        }
        _ => Err((
            ErrorCode::UnknownRecord,
            "the visit's household does not exist on the server".into(),
        )),
    }
}

/// A conflict: what does not collide is merged now (with a new version); only the colliding
/// `fields` wait for the officer. Nothing is merged into a deleted record, nor from a delete.
fn merge_around_conflict(
    c: &Change,
    who: Pusher<'_>,
    fields: Vec<String>,
    snap: &mut Snapshot,
    touch: &mut dyn FnMut(Uuid),
) -> ChangeResult {
    let Some(r) = snap.records.get_mut(&c.entity_id) else {
        return ChangeResult::rejected(c.op_id, ErrorCode::UnknownRecord, "no such record");
    };
    let rest: FieldMap = c
        .fields
        .iter()
        .filter(|(k, v)| !fields.contains(k) && r.fields.get(*k) != Some(*v))
        .filter(|(k, v)| !v.is_null() || r.fields.contains_key(*k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let updates = matches!(c.operation, Operation::Update | Operation::Upsert);
    if updates && !r.deleted && !rest.is_empty() {
        snap.version += 1;
        r.version = snap.version;
        r.echo_device = None;
        apply_fields(&mut r.fields, &rest);
        stamp_fields(&mut r.stamps, &rest, snap.version, who.device);
        r.audit.stamp(&who.officer.id, who.at, &rest, false);
        touch(c.entity_id);
    }
    ChangeResult::conflict(c.op_id, r.to_wire(), fields)
}

/// Applies an accepted change to `snap` with the next version; its (version, server id).
fn apply(
    c: &Change,
    who: Pusher<'_>,
    team: String,
    restore: bool,
    snap: &mut Snapshot,
) -> (i64, i64) {
    let device = who.device;
    snap.version += 1;
    let version = snap.version;
    let rec = match snap.records.get_mut(&c.entity_id) {
        Some(r) if c.operation != Operation::Insert => r,
        _ => {
            let server_id = snap.next_server_id();
            let rec = new_record(c, who, team, version, server_id);
            snap.records.insert(c.entity_id, rec);
            return (version, server_id);
        }
    };
    rec.version = version;
    if c.operation == Operation::Delete {
        rec.deleted = true;
        rec.deleted_by = Some(device);
    } else {
        if restore {
            rec.deleted = false;
            rec.deleted_by = None;
        }
        apply_fields(&mut rec.fields, &c.fields);
        stamp_fields(&mut rec.stamps, &c.fields, version, device);
    }
    rec.audit.stamp(&who.officer.id, who.at, &c.fields, false);
    (version, rec.server_id)
}

/// The record an accepted insert creates.
fn new_record(
    c: &Change,
    who: Pusher<'_>,
    team: String,
    version: i64,
    server_id: i64,
) -> StoredRecord {
    let mut fields = FieldMap::new();
    apply_fields(&mut fields, &c.fields);
    let mut stamps = Stamps::new();
    stamp_fields(&mut stamps, &c.fields, version, who.device);
    let mut audit = Audit::default();
    audit.stamp(&who.officer.id, who.at, &c.fields, true);
    StoredRecord {
        server_id,
        entity_type: c.entity_type,
        id: c.entity_id,
        team,
        version,
        deleted: false,
        deleted_by: None,
        fields,
        stamps,
        audit,
        echo_device: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn officer() -> Officer {
        Officer {
            id: "amina".into(),
            team: "north".into(),
            created_at: String::new(),
            revoked: false,
        }
    }

    fn change(
        op: u128,
        id: u128,
        operation: Operation,
        base: Option<i64>,
        f: serde_json::Value,
    ) -> Change {
        Change {
            op_id: Uuid::from_u128(op),
            entity_type: EntityType::Household,
            entity_id: Uuid::from_u128(id),
            operation,
            base_version: base,
            fields: serde_json::from_value(f).unwrap(),
        }
    }

    #[test]
    fn later_changes_see_earlier_ones_and_replays_return_the_first_result() {
        let dev = Uuid::from_u128(9);
        let mut snap = Snapshot::default();
        let batch = vec![
            change(1, 100, Operation::Insert, None, json!({"name": "A"})),
            change(2, 100, Operation::Update, Some(1), json!({"notes": "n"})),
            change(1, 100, Operation::Insert, None, json!({"name": "A"})),
            change(1, 100, Operation::Insert, None, json!({"name": "B"})),
            change(3, 101, Operation::Update, Some(1), json!({"notes": "n"})),
        ];
        let (res, w) = plan(&officer(), dev, &batch, &mut snap);
        assert_eq!(res[0].version, Some(1));
        assert_eq!(res[1].version, Some(2));
        assert_eq!(res[2], res[0]);
        assert_eq!(res[3].error.as_ref().unwrap().code, ErrorCode::OpIdReused);
        assert_eq!(
            res[4].error.as_ref().unwrap().code,
            ErrorCode::UnknownRecord
        );
        assert_eq!(w.records.len(), 1);
        assert_eq!(w.records[0].fields.len(), 2);
        assert_eq!(w.ops.len(), 3);
        assert_eq!(w.version, 2);
    }

    #[test]
    fn a_conflicting_update_still_merges_its_other_fields() {
        let (amina, brian) = (Uuid::from_u128(9), Uuid::from_u128(10));
        let mut snap = Snapshot::default();
        let insert = change(
            1,
            100,
            Operation::Insert,
            None,
            json!({"name": "A", "notes": "n"}),
        );
        plan(&officer(), amina, &[insert], &mut snap);
        let edit = change(
            2,
            100,
            Operation::Update,
            Some(1),
            json!({"notes": "amina"}),
        );
        plan(&officer(), amina, &[edit], &mut snap);
        let both = change(
            3,
            100,
            Operation::Update,
            Some(1),
            json!({"notes": "brian", "village": "V"}),
        );
        let (res, w) = plan(&officer(), brian, &[both], &mut snap);
        assert_eq!(res[0].status, crate::protocol::ChangeStatus::Conflict);
        assert_eq!(res[0].conflicting_fields, vec!["notes".to_string()]);
        let server = res[0].server_record.as_ref().unwrap();
        assert_eq!(server.fields["village"], json!("V"));
        assert_eq!(server.fields["notes"], json!("amina"));
        assert_eq!(server.version, 3);
        assert_eq!(w.records.len(), 1);
    }

    #[test]
    fn only_changes_the_device_can_rebuild_exactly_are_stamped_and_marked() {
        let (amina, brian) = (Uuid::from_u128(9), Uuid::from_u128(10));
        let mode = PushMode {
            no_echo: true,
            seqs: None,
        };
        let forms = TeamForms::new();
        let at = "2026-11-27T10:00:00.000Z";
        let mut snap = Snapshot::default();
        let push = |dev: Uuid, c: Change, snap: &mut Snapshot| {
            plan_with_mode(&officer(), dev, &[c], snap, &forms, at, mode).0[0].clone()
        };
        let echo = |snap: &Snapshot, id: u128| snap.records[&Uuid::from_u128(id)].echo_device;
        // An insert as sent: stamped and marked.
        let r = push(
            amina,
            change(1, 100, Operation::Insert, None, json!({"name": "A"})),
            &mut snap,
        );
        assert_eq!(
            r.stamped.as_ref().map(|s| (s.by.as_str(), s.at.as_str())),
            Some(("amina", at))
        );
        assert_eq!(echo(&snap, 100), Some(amina));
        // The same device's update of its own marked record: still exact.
        let r = push(
            amina,
            change(2, 100, Operation::Update, Some(1), json!({"notes": "n"})),
            &mut snap,
        );
        assert!(r.stamped.is_some() && !r.merged);
        // Another device's change clears the mark; the first device's next update is merged.
        let r = push(
            brian,
            change(3, 100, Operation::Update, Some(2), json!({"village": "V"})),
            &mut snap,
        );
        assert!(
            r.stamped.is_none(),
            "brian does not hold amina's record exactly"
        );
        assert_eq!(echo(&snap, 100), None);
        let r = push(
            amina,
            change(4, 100, Operation::Update, Some(2), json!({"notes": "m"})),
            &mut snap,
        );
        assert!(r.merged && r.stamped.is_none());
        assert_eq!(echo(&snap, 100), None);
        // An insert spelled otherwise than stored: the device's copy is not the server's.
        let h = change(8, 0xabc, Operation::Insert, None, json!({"name": "H"}));
        push(amina, h, &mut snap);
        let household = Uuid::from_u128(0xabc).to_string().to_uppercase();
        let visit = |household: String| {
            json!({"household_id": household, "officer_id": "amina",
                   "visited_at": "2026-11-25T09:30:00Z"})
        };
        let mut odd = change(5, 101, Operation::Insert, None, visit(household.clone()));
        odd.entity_type = EntityType::Visit;
        let r = push(amina, odd, &mut snap);
        assert_eq!(r.status, crate::protocol::ChangeStatus::Accepted);
        assert!(r.stamped.is_none() && echo(&snap, 101).is_none());
        let mut as_stored = change(
            7,
            103,
            Operation::Insert,
            None,
            visit(household.to_lowercase()),
        );
        as_stored.entity_type = EntityType::Visit;
        assert!(push(amina, as_stored, &mut snap).stamped.is_some());
        // Without no echo (an older client) nothing is stamped or marked.
        let plain = plan_with_forms(
            &officer(),
            amina,
            &[change(
                6,
                102,
                Operation::Insert,
                None,
                json!({"name": "C"}),
            )],
            &mut snap,
            &forms,
            at,
        );
        assert!(plain.0[0].stamped.is_none() && echo(&snap, 102).is_none());
    }
}
