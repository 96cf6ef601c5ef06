//! Who has gone quiet: the pure rules behind `admin officer list --silent-for`. It parses a
//! duration (`7d`, `12h`, `30m`) and decides from an officer's recorded activity whether they
//! have not synced for that long. No I/O, no clock: the caller passes "now".

use time::{Duration, OffsetDateTime};

use super::store::OfficerSummary;

/// Parses `Nd`, `Nh` or `Nm` (days, hours, minutes; N a whole number ≥ 1).
pub fn parse_silence(s: &str) -> Result<Duration, String> {
    let bad = || format!("{s:?} is not a duration such as 7d, 12h or 30m");
    let unit_at = s.char_indices().last().map_or(0, |(i, _)| i);
    let (digits, unit) = s.split_at(unit_at);
    let n: i64 = digits
        .parse()
        .ok()
        .filter(|n| *n >= 1 && *n <= 100_000)
        .ok_or_else(bad)?;
    match unit {
        "d" => Ok(Duration::days(n)),
        "h" => Ok(Duration::hours(n)),
        "m" => Ok(Duration::minutes(n)),
        _ => Err(bad()),
    }
}

/// When the officer last synced (the later of their last push and last pull), if ever.
fn last_sync(o: &OfficerSummary) -> Option<OffsetDateTime> {
    let parse = |t: &Option<String>| {
        t.as_deref()
            .and_then(|t| crate::model::parse_timestamp(t).ok())
    };
    parse(&o.last_push_at).max(parse(&o.last_pull_at))
}

/// Has `o` not synced (neither pushed nor pulled) for `silence` before `now`? An officer who
/// never synced counts from when they were added, so a new officer is not silent at once.
pub fn is_silent(o: &OfficerSummary, now: OffsetDateTime, silence: Duration) -> bool {
    let since = last_sync(o).or_else(|| crate::model::parse_timestamp(&o.officer.created_at).ok());
    match since {
        Some(t) => now - t >= silence,
        // An unreadable creation time and no sync: better listed than hidden.
        None => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::store::Officer;
    use time::macros::datetime;

    fn officer(created: &str, push: Option<&str>, pull: Option<&str>) -> OfficerSummary {
        OfficerSummary {
            officer: Officer {
                id: "amina".into(),
                team: "north".into(),
                created_at: created.into(),
                revoked: false,
            },
            last_push_at: push.map(String::from),
            last_pull_at: pull.map(String::from),
            changes_pushed: 0,
        }
    }

    #[test]
    fn durations_parse_in_days_hours_and_minutes() {
        assert_eq!(parse_silence("7d"), Ok(Duration::days(7)));
        assert_eq!(parse_silence("12h"), Ok(Duration::hours(12)));
        assert_eq!(parse_silence("30m"), Ok(Duration::minutes(30)));
        for bad in ["", "d", "7", "7w", "0d", "-1d", "1.5d", "7 d", "h7", "7é"] {
            assert!(parse_silence(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn silence_counts_from_the_last_push_or_pull_or_from_creation() {
        let now = datetime!(2026-11-27 12:00 UTC);
        let week = Duration::days(7);
        let old = "2026-01-01T00:00:00Z";
        let recent = "2026-11-26T12:00:00Z";
        assert!(is_silent(&officer(old, None, None), now, week));
        assert!(!is_silent(&officer(recent, None, None), now, week));
        assert!(!is_silent(&officer(old, Some(recent), None), now, week));
        assert!(!is_silent(&officer(old, None, Some(recent)), now, week));
        assert!(is_silent(&officer(old, Some(old), Some(old)), now, week));
        // Exactly the duration ago is silent for that long.
        let week_ago = "2026-11-20T12:00:00Z";
        assert!(is_silent(&officer(old, Some(week_ago), None), now, week));
    }
}
