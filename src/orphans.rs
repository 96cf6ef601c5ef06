//! The orphan rule, shared by the server and the client: **a visit never outlives its
//! household, and a visit wins over a household delete**, whichever reaches the server first.
//!
//! - A household delete that meets live visits (another officer's new visit, synced first)
//!   is a conflict on `deleted` carrying the server's household, so the officer who deleted
//!   it decides in `fieldsync resolve`; keeping the delete stays refused (on the laptop, and
//!   again by the server) while any visit to it lives: restore it, or delete its visits
//!   first.
//! - A visit recorded (or restored) to a household deleted on the server restores the
//!   household (a new version, pulled by everyone, the officer who deleted it too): a fresh
//!   visit says the household is there, and field work is never thrown away.
//!
//! Nothing is ever deleted in cascade: field data is only removed by someone deciding to.
//! Pure functions; the server applies them in `server::push`, the client in its store.

use crate::model::{EntityType, Operation};

/// Why a change would leave an orphan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Orphan {
    /// Deleting a household that live visits still refer to (how many).
    HouseholdHasVisits(i64),
    /// Recording or restoring a visit to a deleted household: the household is restored first.
    HouseholdDeleted,
}

/// What the rule says of one change. `household_deleted`: the (visit's) household is deleted;
/// `live_visits`: how many live visits refer to the (household) record.
pub fn check(
    entity: EntityType,
    operation: Operation,
    restores: bool,
    household_deleted: bool,
    live_visits: i64,
) -> Result<(), Orphan> {
    match (entity, operation) {
        (EntityType::Household, Operation::Delete) if live_visits > 0 => {
            Err(Orphan::HouseholdHasVisits(live_visits))
        }
        (EntityType::Visit, Operation::Insert) if household_deleted => {
            Err(Orphan::HouseholdDeleted)
        }
        (EntityType::Visit, Operation::Update) if restores && household_deleted => {
            Err(Orphan::HouseholdDeleted)
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    /// A small world of households and visits that accepts a change only when [`check`]
    /// does, as the server does.
    #[derive(Default)]
    struct World {
        households: BTreeMap<u8, bool>,
        /// visit → (household, deleted)
        visits: BTreeMap<u8, (u8, bool)>,
    }

    #[derive(Debug, Clone)]
    enum Op {
        AddHousehold(u8),
        DeleteHousehold(u8),
        RestoreHousehold(u8),
        AddVisit(u8, u8),
        DeleteVisit(u8),
        RestoreVisit(u8),
    }

    impl World {
        fn live_visits(&self, h: u8) -> i64 {
            self.visits
                .values()
                .filter(|(vh, deleted)| *vh == h && !deleted)
                .count() as i64
        }

        fn household_deleted(&self, h: u8) -> bool {
            self.households.get(&h).copied().unwrap_or(true)
        }

        fn apply(&mut self, op: &Op) {
            match *op {
                Op::AddHousehold(h) => {
                    self.households.entry(h).or_insert(false);
                }
                Op::DeleteHousehold(h) if self.households.contains_key(&h) => {
                    let verdict = check(
                        EntityType::Household,
                        Operation::Delete,
                        false,
                        false,
                        self.live_visits(h),
                    );
                    if verdict.is_ok() {
                        self.households.insert(h, true);
                    } else {
                        assert!(self.live_visits(h) > 0);
                    }
                }
                Op::RestoreHousehold(h) if self.households.contains_key(&h) => {
                    self.households.insert(h, false);
                }
                // (The server knows no visit to a household it never had.)
                Op::AddVisit(v, h)
                    if !self.visits.contains_key(&v) && self.households.contains_key(&h) =>
                {
                    let deleted = self.household_deleted(h);
                    if check(EntityType::Visit, Operation::Insert, false, deleted, 0).is_err() {
                        self.households.insert(h, false); // the visit restores it
                    }
                    self.visits.insert(v, (h, false));
                }
                Op::DeleteVisit(v) => {
                    if let Some(visit) = self.visits.get_mut(&v) {
                        visit.1 = true;
                    }
                }
                Op::RestoreVisit(v) => {
                    if let Some(&(h, true)) = self.visits.get(&v) {
                        let deleted = self.household_deleted(h);
                        if check(EntityType::Visit, Operation::Update, true, deleted, 0).is_err() {
                            self.households.insert(h, false);
                        }
                        self.visits.insert(v, (h, false));
                    }
                }
                _ => {}
            }
        }
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (0u8..3).prop_map(Op::AddHousehold),
            (0u8..3).prop_map(Op::DeleteHousehold),
            (0u8..3).prop_map(Op::RestoreHousehold),
            (0u8..6, 0u8..4).prop_map(|(v, h)| Op::AddVisit(v, h)),
            (0u8..6).prop_map(Op::DeleteVisit),
            (0u8..6).prop_map(Op::RestoreVisit),
        ]
    }

    proptest! {
        /// Whatever officers do, in whatever order their changes arrive, no live visit ever
        /// refers to a deleted (or missing) household, and no visit is refused.
        #[test]
        fn no_live_visit_ever_refers_to_a_deleted_household(ops in prop::collection::vec(op(), 0..60)) {
            let mut w = World::default();
            for op in &ops {
                w.apply(op);
                for (v, (h, deleted)) in &w.visits {
                    prop_assert!(*deleted || !w.household_deleted(*h), "visit {v} orphaned after {op:?}");
                }
            }
        }

        /// The rule refuses only what would orphan: a household with no live visits can
        /// always be deleted, and a live household always takes visits.
        #[test]
        fn the_rule_refuses_nothing_else(visits in 0i64..5, restores: bool) {
            let h = check(EntityType::Household, Operation::Delete, false, false, visits);
            prop_assert_eq!(h.is_ok(), visits == 0);
            prop_assert!(check(EntityType::Visit, Operation::Insert, false, false, 0).is_ok());
            prop_assert!(check(EntityType::Visit, Operation::Update, restores, false, 0).is_ok());
            prop_assert!(check(EntityType::Household, Operation::Update, restores, true, visits).is_ok());
        }
    }
}
