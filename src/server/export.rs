//! Server exports: which records an `admin export` reads and in what order, streamed page by
//! page so memory stays bounded however many records there are.
//!
//! Versions are per team (see [`crate::server::store`]), so an export works team by team: it
//! is fixed when it starts, reading each exported team's versions in `(since, upto]`, where
//! `upto` is the team's last version handed out at that moment (all read in one consistent
//! read, and every record of a team up to its counter is committed). The answer-key pass and
//! the record pass thus see the same set, and the next incremental export starts where this
//! one ended without missing or repeating a change (a record changed meanwhile gets a
//! version above its team's `upto` and comes in the next export).
//!
//! Where it ended is a [`Since`]: for one team (`--team T`) a plain version; for every team a
//! [`Watermark`], one version per team (`north:120,south:88`), because one number no longer
//! orders all teams. A team a watermark does not name (a team that wrote first after it)
//! is exported from its start. A plain number for every team means "after that version in
//! each team": exact only for a number that came from that same team; the next watermark never
//! names a version above a team's counter. It must not format records (see [`crate::export`])
//! or print.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;

use super::error::ServiceError;
use super::store::{validate_team, ExportFilter, Store, StoredRecord};
use crate::export::PAGE_SIZE;
use crate::model::EntityType;

/// Where an incremental export starts (and where an export ended).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Since {
    /// After this version in every exported team (0: everything).
    Version(i64),
    /// After each named team's version; a team not named from its start.
    Teams(Watermark),
}

/// One version per team: where an all-team export ended. Written `team:version` pairs
/// joined by commas, by team (team names hold neither `:` nor `,`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Watermark(pub BTreeMap<String, i64>);

impl fmt::Display for Watermark {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            // No team has written yet: everything after 0.
            return f.write_str("0");
        }
        let mut first = true;
        for (team, version) in &self.0 {
            if !first {
                f.write_str(",")?;
            }
            first = false;
            write!(f, "{team}:{version}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Since {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Since::Version(v) => write!(f, "{v}"),
            Since::Teams(w) => w.fmt(f),
        }
    }
}

impl std::str::FromStr for Since {
    type Err = String;

    /// A version (`48211`) or a watermark (`north:120,south:88`).
    fn from_str(s: &str) -> Result<Since, String> {
        let s = s.trim();
        if !s.contains(':') {
            return match s.parse::<i64>() {
                Ok(v) if v >= 0 => Ok(Since::Version(v)),
                _ => Err(format!(
                    "--since must be a version (0 or more) or a watermark like north:120,south:88, not {s:?}"
                )),
            };
        }
        let mut teams = BTreeMap::new();
        for pair in s.split(',') {
            let (team, version) = pair
                .split_once(':')
                .ok_or_else(|| format!("{pair:?} in --since is not team:version"))?;
            validate_team(team).map_err(|e| e.to_string())?;
            let version = version
                .parse::<i64>()
                .ok()
                .filter(|v| *v >= 0)
                .ok_or_else(|| format!("{pair:?} in --since: the version must be 0 or more"))?;
            if teams.insert(team.to_string(), version).is_some() {
                return Err(format!("--since names team {team:?} twice"));
            }
        }
        Ok(Since::Teams(Watermark(teams)))
    }
}

/// What to export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportQuery {
    pub entity: EntityType,
    pub team: Option<String>,
    /// Only records changed after this.
    pub since: Since,
    pub include_deleted: bool,
}

/// A running export: its answer keys, each team's range, and the pages still to read.
pub struct Export {
    store: Arc<dyn Store>,
    /// One filter per exported team, by team; the first is the one being read.
    filters: Vec<ExportFilter>,
    /// Where the export ends: the next one starts with `--since` this.
    next: Since,
    answer_keys: Vec<String>,
}

impl Export {
    /// Fixes each team's version range and reads the answer keys.
    pub(super) async fn start(
        store: Arc<dyn Store>,
        query: ExportQuery,
    ) -> Result<Export, ServiceError> {
        let ranges = ranges(store.as_ref(), &query).await?;
        let next = match &query.team {
            Some(_) => Since::Version(ranges.first().map_or(0, |r| r.2)),
            None => Since::Teams(Watermark(
                ranges
                    .iter()
                    .map(|(t, _, upto)| (t.clone(), *upto))
                    .collect(),
            )),
        };
        let filters: Vec<ExportFilter> = ranges
            .into_iter()
            .filter(|(_, after, upto)| after < upto)
            .map(|(team, after, upto)| ExportFilter {
                entity: query.entity,
                team: Some(team),
                after,
                upto,
                include_deleted: query.include_deleted,
            })
            .collect();
        let mut keys = BTreeSet::new();
        if query.entity == EntityType::Visit {
            for f in &filters {
                keys.extend(store.export_answer_keys(f).await?);
            }
        }
        Ok(Export {
            store,
            filters,
            next,
            answer_keys: keys.into_iter().collect(),
        })
    }

    /// Every answer key of the exported records, sorted (empty for households).
    pub fn answer_keys(&self) -> &[String] {
        &self.answer_keys
    }

    /// Where this export ends: the next one starts with `--since` this (a version with
    /// `--team`, a [`Watermark`] for every team).
    pub fn next_since(&self) -> &Since {
        &self.next
    }

    /// The next page of records (team by team, by version), or `None` when all were read.
    pub async fn next_page(&mut self) -> Result<Option<Vec<StoredRecord>>, ServiceError> {
        while let Some(filter) = self.filters.first_mut() {
            let page = self.store.export_page(filter, PAGE_SIZE).await?;
            match page.last() {
                Some(last) if page.len() == PAGE_SIZE as usize => filter.after = last.version,
                _ => {
                    self.filters.remove(0);
                }
            }
            if !page.is_empty() {
                return Ok(Some(page));
            }
        }
        Ok(None)
    }
}

/// Each exported team with the versions `(after, upto]` to read, by team. One team's counter
/// for `--team`; otherwise every team's, read at once.
///
/// `upto` is the team's counter even when `after` is above it (a made-up number, a plain
/// number meant for another team, or a server restored from an older backup): the range is
/// then empty, and the next export starts at the counter, so the team's next versions are
/// exported rather than skipped until they pass a number the team never reached.
async fn ranges(
    store: &dyn Store,
    query: &ExportQuery,
) -> Result<Vec<(String, i64, i64)>, ServiceError> {
    let after = |team: &str| match &query.since {
        Since::Version(v) => *v,
        Since::Teams(w) => w.0.get(team).copied().unwrap_or(0),
    };
    if let Some(team) = &query.team {
        validate_team(team)?;
        let since = after(team);
        let upto = store.team_version(team).await?;
        return Ok(vec![(team.clone(), since, upto)]);
    }
    Ok(store
        .team_versions()
        .await?
        .into_iter()
        .map(|(team, upto)| {
            let since = after(&team);
            (team, since, upto)
        })
        .collect())
}
