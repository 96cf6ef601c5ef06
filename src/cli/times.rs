//! Times as an officer types and reads them: `--at` in the laptop's own zone (or with an
//! offset), and stored UTC times shown in local time in text output. JSON and the store keep
//! RFC 3339 in UTC; which times are acceptable for a visit is [`crate::model`]'s rule.
//!
//! This module must not read or write the store.

use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime, UtcOffset};

use crate::model::{format_timestamp, ValidationError};

/// How to write a time, for error messages.
const HOW: &str = "write it as 2026-11-25T09:30 (this laptop's time), 2026-11-25 09:30, or with \
an offset such as 2026-11-25T09:30:00+03:00 or 2026-11-25T06:30:00Z";

/// The laptop's offset from UTC at `t` (`None` when the system cannot say).
pub fn local_offset(t: OffsetDateTime) -> Option<UtcOffset> {
    UtcOffset::local_offset_at(t).ok()
}

/// Parses `--at`: RFC 3339 with an offset, or a date and time without one, taken in the zone
/// `offset_of` gives for it (the laptop's). Returns the RFC 3339 UTC string to store.
pub fn parse_at(
    input: &str,
    offset_of: impl Fn(PrimitiveDateTime) -> Option<UtcOffset>,
) -> Result<String, ValidationError> {
    let s = input.trim();
    if let Ok(t) = OffsetDateTime::parse(s, &Rfc3339) {
        return Ok(format_timestamp(t));
    }
    let normalised = s.replacen(' ', "T", 1);
    let local = PrimitiveDateTime::parse(
        &normalised,
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]"),
    )
    .or_else(|_| {
        PrimitiveDateTime::parse(
            &normalised,
            format_description!("[year]-[month]-[day]T[hour]:[minute]"),
        )
    })
    .map_err(|_| ValidationError::new("visited_at", format!("{input:?} is not a time: {HOW}")))?;
    let offset = offset_of(local).ok_or_else(|| {
        ValidationError::new(
            "visited_at",
            format!("this laptop's time zone is unknown, so {input:?} needs an offset: {HOW}"),
        )
    })?;
    Ok(format_timestamp(local.assume_offset(offset)))
}

/// `--at` in the laptop's zone.
pub fn parse_at_here(input: &str) -> Result<String, ValidationError> {
    parse_at(input, |local| {
        local_offset(local.assume_utc()).and_then(|guess| {
            // The offset at the local time itself (around a DST change the first guess is
            // off by the change).
            local_offset(local.assume_offset(guess))
        })
    })
}

/// A stored RFC 3339 time as this laptop's local time (`2026-11-25 09:30:00 +03:00`), or as
/// it is when it does not parse or the zone is unknown.
pub fn show_local(stored: &str) -> String {
    let Ok(t) = OffsetDateTime::parse(stored, &Rfc3339) else {
        return stored.to_string();
    };
    match local_offset(t) {
        Some(offset) => in_offset(t, offset),
        None => stored.to_string(),
    }
}

/// `t` at `offset`, as text output shows times.
pub fn in_offset(t: OffsetDateTime, offset: UtcOffset) -> String {
    t.to_offset(offset)
        .format(format_description!(
            "[year]-[month]-[day] [hour]:[minute]:[second] [offset_hour sign:mandatory]:[offset_minute]"
        ))
        .unwrap_or_else(|_| format_timestamp(t))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{datetime, offset};

    fn nairobi(_: PrimitiveDateTime) -> Option<UtcOffset> {
        Some(offset!(+3))
    }

    #[test]
    fn times_without_an_offset_are_the_laptop_s() {
        assert_eq!(
            parse_at("2026-11-25T09:30", nairobi).unwrap(),
            "2026-11-25T06:30:00Z"
        );
        assert_eq!(
            parse_at("2026-11-25 09:30:15", nairobi).unwrap(),
            "2026-11-25T06:30:15Z"
        );
        assert_eq!(
            parse_at("2026-11-25T09:30:00+01:00", nairobi).unwrap(),
            "2026-11-25T08:30:00Z"
        );
        assert_eq!(
            parse_at("2026-11-25T09:30:00Z", |_| None).unwrap(),
            "2026-11-25T09:30:00Z"
        );
    }

    #[test]
    fn unparsable_times_say_how_to_write_one() {
        for bad in ["yesterday", "25/11/2026 09:30", "2026-11-25"] {
            let e = parse_at(bad, nairobi).unwrap_err();
            assert!(e.message.contains("2026-11-25T09:30"), "{e}");
        }
        let e = parse_at("2026-11-25T09:30", |_| None).unwrap_err();
        assert!(e.message.contains("offset"), "{e}");
    }

    #[test]
    fn stored_times_show_in_the_given_zone() {
        assert_eq!(
            in_offset(datetime!(2026-11-25 06:30 UTC), offset!(+3)),
            "2026-11-25 09:30:00 +03:00"
        );
        assert_eq!(show_local("not a time"), "not a time");
    }
}
