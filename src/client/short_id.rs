//! Short ids: what an officer reads in listings and types back, instead of a 36-character
//! UUID.
//!
//! Record ids are UUIDv7, so records made in the same millisecond share their first twelve
//! hex digits, and an id generator's counter can make the rest sequential: no prefix of the
//! id itself stays short. Instead every id has a **key**: SHA-256 of its 16 bytes, written
//! as one letter from [`FIRST`] (4 bits) and then [`REST`] (Crockford's base 32, 5 bits a
//! character). A record's **short id** is the shortest prefix of its key, at least
//! [`MIN_LEN`] characters, that no other record on this laptop (households and visits
//! together) starts with, as jj and git show commits. The hash spreads keys uniformly
//! whatever made the ids: among 100,000 records about 83% of short ids have 4 characters,
//! 17% have 5 and the longest has 7 (measured); one over 10 has a probability below 10⁻⁵.
//!
//! A key starts with a letter that is never a hex digit, so an input names exactly one kind
//! of thing: one starting with `0-9a-f` is a prefix of a full id (hyphens optional), one
//! starting with a letter of [`FIRST`] is a prefix of a key. A short id stays valid until a
//! new record (from a sync, say) shares it; it then grows by a character and the old one
//! is reported as ambiguous, listing the candidates.
//!
//! This module is pure: it must not read the store or print anything.

use std::collections::HashMap;

use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::client::error::{Error, Result};
use crate::model::EntityType;

/// The first character of a key: letters that are not hex digits (nor i, l, o, u).
pub const FIRST: &[u8; 16] = b"ghjkmnpqrstvwxyz";
/// Every later character: Crockford's base 32 in lower case (no i, l, o, u).
pub const REST: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";
/// The shortest short id shown.
pub const MIN_LEN: usize = 4;
/// Characters of a key (4 + 5 × 15 = 79 bits of the hash).
pub const KEY_LEN: usize = 16;
/// How many candidates an ambiguity error lists.
pub const MAX_CANDIDATES: usize = 10;

/// The key of an id: the string every short id of it is a prefix of.
pub fn key(id: &Uuid) -> String {
    let digest = Sha256::digest(id.as_bytes());
    let mut bits = u128::from_be_bytes(digest[..16].try_into().expect("32-byte digest"));
    let mut out = String::with_capacity(KEY_LEN);
    out.push(FIRST[(bits >> 124) as usize] as char);
    bits <<= 4;
    for _ in 1..KEY_LEN {
        out.push(REST[(bits >> 123) as usize] as char);
        bits <<= 5;
    }
    out
}

/// What an officer typed where an id is taken, once normalised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdInput {
    /// A prefix of a full id's 32 hex digits (hyphens removed, lower case).
    Hex(String),
    /// A prefix of a key (lower case).
    Short(String),
}

impl IdInput {
    /// Normalises `input`; `None` when it can be neither a full id nor a short id.
    pub fn parse(input: &str) -> Option<IdInput> {
        let s: String = input
            .trim()
            .chars()
            .filter(|c| *c != '-')
            .map(|c| c.to_ascii_lowercase())
            .collect();
        let first = *s.as_bytes().first()?;
        if s.len() <= 32 && s.bytes().all(|b| b.is_ascii_hexdigit()) {
            Some(IdInput::Hex(s))
        } else if FIRST.contains(&first)
            && s.len() <= KEY_LEN
            && s.bytes().all(|b| REST.contains(&b))
        {
            Some(IdInput::Short(s))
        } else {
            None
        }
    }

    /// Does `id` (with `key`) match this input?
    fn matches(&self, id: &Uuid, key: &str) -> bool {
        match self {
            IdInput::Hex(p) => id.simple().to_string().starts_with(p.as_str()),
            IdInput::Short(p) => key.starts_with(p.as_str()),
        }
    }
}

/// One record in an [`IdIndex`].
#[derive(Debug, Clone)]
struct Entry {
    key: String,
    id: Uuid,
    entity: EntityType,
    /// Length of the record's short id.
    short_len: usize,
}

/// The short ids of every record on the laptop, and look-up by what an officer types.
#[derive(Debug, Default)]
pub struct IdIndex {
    /// Sorted by key.
    entries: Vec<Entry>,
    by_id: HashMap<Uuid, usize>,
}

/// What an input matched in an [`IdIndex`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    None,
    One(Uuid),
    /// The first [`MAX_CANDIDATES`] matches' short ids, and how many matched in all.
    Many {
        shown: Vec<String>,
        total: usize,
    },
}

impl IdIndex {
    /// Builds the index of `records` (ids of any entity; each id once).
    pub fn new(records: impl IntoIterator<Item = (EntityType, Uuid)>) -> IdIndex {
        let mut entries: Vec<Entry> = records
            .into_iter()
            .map(|(entity, id)| Entry {
                key: key(&id),
                id,
                entity,
                short_len: MIN_LEN,
            })
            .collect();
        entries.sort_unstable_by(|a, b| a.key.cmp(&b.key));
        let common: Vec<usize> = entries
            .windows(2)
            .map(|w| common_prefix(&w[0].key, &w[1].key))
            .collect();
        for (i, e) in entries.iter_mut().enumerate() {
            let before = if i > 0 { common[i - 1] } else { 0 };
            let after = common.get(i).copied().unwrap_or(0);
            e.short_len = (before.max(after) + 1).clamp(MIN_LEN, KEY_LEN);
        }
        let by_id = entries.iter().enumerate().map(|(i, e)| (e.id, i)).collect();
        IdIndex { entries, by_id }
    }

    /// The short id of `id`; `None` for an id the index does not hold.
    pub fn short(&self, id: &Uuid) -> Option<&str> {
        let e = &self.entries[*self.by_id.get(id)?];
        Some(&e.key[..e.short_len])
    }

    /// The short id of `id`, or its first 8 hex digits for an id the index does not hold
    /// (a visit's household that has not arrived yet).
    pub fn short_or_hex(&self, id: &Uuid) -> String {
        match self.short(id) {
            Some(s) => s.to_string(),
            None => id.simple().to_string()[..8].to_string(),
        }
    }

    /// The records of `entity` (any entity: `None`) that `input` names.
    pub fn lookup(&self, entity: Option<EntityType>, input: &IdInput) -> Lookup {
        let of_entity = |e: &&Entry| entity.is_none_or(|want| e.entity == want);
        let found: Vec<&Entry> = match input {
            IdInput::Short(p) => {
                let start = self
                    .entries
                    .partition_point(|e| e.key.as_str() < p.as_str());
                self.entries[start..]
                    .iter()
                    .take_while(|e| e.key.starts_with(p.as_str()))
                    .filter(of_entity)
                    .collect()
            }
            IdInput::Hex(_) => self
                .entries
                .iter()
                .filter(of_entity)
                .filter(|e| input.matches(&e.id, &e.key))
                .collect(),
        };
        match found.as_slice() {
            [] => Lookup::None,
            [one] => Lookup::One(one.id),
            many => Lookup::Many {
                shown: many
                    .iter()
                    .take(MAX_CANDIDATES)
                    .map(|e| e.key[..e.short_len].to_string())
                    .collect(),
                total: many.len(),
            },
        }
    }

    /// The one record of `entity` (any: `None`) that `input` names, or an error for the
    /// officer: `what` names the kind of record and `listing` the command that lists them.
    pub fn resolve(
        &self,
        entity: Option<EntityType>,
        what: &'static str,
        listing: &str,
        input: &str,
    ) -> Result<Uuid> {
        let parsed = IdInput::parse(input).ok_or_else(|| {
            Error::BadInput(format!(
                "{input:?} is not a {what} id: give the short id `{listing}` shows (e.g. k3x9), or the start of the full id"
            ))
        })?;
        match self.lookup(entity, &parsed) {
            Lookup::None => Err(Error::NotFound(format!(
                "no {what} has the id {input:?}; see `{listing}`"
            ))),
            Lookup::One(id) => Ok(id),
            Lookup::Many { shown, total } => Err(Error::Ambiguous {
                what,
                prefix: input.to_string(),
                candidates: shown,
                total,
            }),
        }
    }

    /// How many records the index holds.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

fn common_prefix(a: &str, b: &str) -> usize {
    a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn same_millisecond(n: usize) -> Vec<Uuid> {
        (0..n)
            .map(|_| {
                uuid::Builder::from_unix_timestamp_millis(1_764_000_000_000, &rand::random())
                    .into_uuid()
            })
            .collect()
    }

    #[test]
    fn keys_start_with_a_non_hex_letter_and_use_the_alphabet() {
        for id in same_millisecond(200) {
            let k = key(&id);
            assert_eq!(k.len(), KEY_LEN);
            assert!(FIRST.contains(&k.as_bytes()[0]), "{k}");
            assert!(!k.as_bytes()[0].is_ascii_hexdigit(), "{k}");
            assert!(k.bytes().all(|b| REST.contains(&b)), "{k}");
            assert_eq!(key(&id), k, "keys are stable");
        }
    }

    #[test]
    fn short_ids_are_unique_minimal_and_resolve() {
        let ids = same_millisecond(5_000);
        let index = IdIndex::new(ids.iter().map(|id| (EntityType::Household, *id)));
        let mut seen = std::collections::HashSet::new();
        for id in &ids {
            let s = index.short(id).unwrap();
            assert!(s.len() >= MIN_LEN && s.len() <= 10, "{s}");
            assert!(seen.insert(s.to_string()), "{s} shown twice");
            let input = IdInput::parse(&s.to_uppercase()).unwrap();
            assert_eq!(index.lookup(None, &input), Lookup::One(*id));
            // One character less is ambiguous or names the same record.
            if s.len() > MIN_LEN {
                let shorter = IdInput::parse(&s[..s.len() - 1]).unwrap();
                assert!(matches!(index.lookup(None, &shorter), Lookup::Many { .. }));
            }
        }
    }

    #[test]
    fn full_ids_resolve_with_or_without_hyphens_and_ambiguity_is_capped() {
        let ids = same_millisecond(30);
        let index = IdIndex::new(ids.iter().map(|id| (EntityType::Visit, *id)));
        for id in &ids {
            for text in [id.to_string(), id.simple().to_string()] {
                let input = IdInput::parse(&text).unwrap();
                assert_eq!(
                    index.lookup(Some(EntityType::Visit), &input),
                    Lookup::One(*id)
                );
                assert_eq!(
                    index.lookup(Some(EntityType::Household), &input),
                    Lookup::None
                );
            }
        }
        // The twelve timestamp digits are shared by all 30.
        let shared = IdInput::parse(&ids[0].to_string()[..13]).unwrap();
        match index.lookup(None, &shared) {
            Lookup::Many { shown, total } => {
                assert_eq!(total, 30);
                assert_eq!(shown.len(), MAX_CANDIDATES);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn inputs_that_are_neither_kind_are_refused() {
        for bad in ["", "-", "zz!", "0193-xyz", "i123", "gggggggggggggggggg"] {
            assert_eq!(IdInput::parse(bad), None, "{bad}");
        }
        assert_eq!(
            IdInput::parse(" K3X9 "),
            Some(IdInput::Short("k3x9".into()))
        );
        assert_eq!(IdInput::parse("01A2-b"), Some(IdInput::Hex("01a2b".into())));
    }
}
