//! How each question type writes its answer as a string: the one place that parses answer
//! values, so the prompt, the checks, the expressions and the exports agree.
//!
//! Encodings are strict, with exactly one spelling of whitespace, so that an accepted value is
//! already the stored value: integers are decimal digits with an optional sign (an `i64`);
//! decimals are digits with an optional sign and one optional `.` (no exponent, no `inf`);
//! dates are `YYYY-MM-DD`; geopoints are `lat lon [alt [accuracy]]` separated by single spaces,
//! as ODK writes them; `select_multiple` answers are choice names separated by single spaces.
//! This module must not know about forms or questions.

use time::{Date, Month};

/// Parses an integer answer: optional `+`/`-`, then ASCII digits, fitting in an `i64`.
pub fn parse_integer(s: &str) -> Result<i64, String> {
    s.parse::<i64>().map_err(|_| {
        let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
        if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
            "is too large".to_string()
        } else {
            "is not a whole number".to_string()
        }
    })
}

/// Parses a decimal answer: optional sign, digits with at most one `.`, at least one digit.
pub fn parse_decimal(s: &str) -> Result<f64, String> {
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    let digits = body.bytes().filter(u8::is_ascii_digit).count();
    let dots = body.bytes().filter(|&b| b == b'.').count();
    if digits == 0 || dots > 1 || digits + dots != body.len() {
        return Err("is not a decimal number".to_string());
    }
    match s.parse::<f64>() {
        Ok(n) if n.is_finite() => Ok(n),
        _ => Err("is out of range".to_string()),
    }
}

/// Parses a date answer written `YYYY-MM-DD` (a real calendar date).
pub fn parse_date(s: &str) -> Result<Date, String> {
    let b = s.as_bytes();
    let shape = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if !shape {
        return Err("is not a date written YYYY-MM-DD".to_string());
    }
    let num = |r: std::ops::Range<usize>| s[r].parse::<u16>().unwrap_or(0);
    let month = Month::try_from(num(5..7) as u8).map_err(|_| "has no such month".to_string())?;
    Date::from_calendar_date(i32::from(num(0..4)), month, num(8..10) as u8)
        .map_err(|_| "is not a day of the calendar".to_string())
}

/// A location answer, as ODK writes it: `lat lon [alt [accuracy]]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GeoPoint {
    pub lat: f64,
    pub lon: f64,
    pub alt: Option<f64>,
    pub accuracy: Option<f64>,
}

/// Parses a geopoint answer: 2 to 4 decimals separated by single spaces; latitude within
/// -90..=90, longitude within -180..=180, accuracy (metres) not negative.
pub fn parse_geopoint(s: &str) -> Result<GeoPoint, String> {
    let parts: Vec<&str> = s.split(' ').collect();
    if !(2..=4).contains(&parts.len()) {
        return Err("is not 'latitude longitude [altitude [accuracy]]' separated by spaces".into());
    }
    let mut nums = Vec::with_capacity(4);
    for (part, what) in parts
        .iter()
        .zip(["latitude", "longitude", "altitude", "accuracy"])
    {
        nums.push(parse_decimal(part).map_err(|e| format!("has a {what} that {e}"))?);
    }
    let (lat, lon) = (nums[0], nums[1]);
    if !(-90.0..=90.0).contains(&lat) {
        return Err(format!("has latitude {lat}, outside -90 to 90"));
    }
    if !(-180.0..=180.0).contains(&lon) {
        return Err(format!("has longitude {lon}, outside -180 to 180"));
    }
    let accuracy = nums.get(3).copied();
    if accuracy.is_some_and(|a| a < 0.0) {
        return Err("has a negative accuracy".into());
    }
    Ok(GeoPoint {
        lat,
        lon,
        alt: nums.get(2).copied(),
        accuracy,
    })
}

/// The choice names of a `select_multiple` answer, in the order written.
pub fn split_multiple(s: &str) -> impl Iterator<Item = &str> {
    s.split(' ')
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn integers_are_digits_with_an_optional_sign() {
        assert_eq!(parse_integer("42"), Ok(42));
        assert_eq!(parse_integer("-7"), Ok(-7));
        assert_eq!(parse_integer("+7"), Ok(7));
        for bad in ["", " 4", "4 ", "4.0", "1e3", "four", "--1", "+"] {
            assert!(parse_integer(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            parse_integer("99999999999999999999").unwrap_err(),
            "is too large"
        );
    }

    #[test]
    fn decimals_have_no_exponent_and_no_infinity() {
        assert_eq!(parse_decimal("1.5"), Ok(1.5));
        assert_eq!(parse_decimal("-.5"), Ok(-0.5));
        assert_eq!(parse_decimal("3."), Ok(3.0));
        for bad in ["", ".", "-", "1e3", "inf", "NaN", "1.2.3", " 1", "1,5"] {
            assert!(parse_decimal(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn dates_are_real_calendar_days() {
        assert!(parse_date("2024-02-29").is_ok());
        for bad in [
            "2023-02-29",
            "2024-13-01",
            "2024-00-10",
            "24-01-01",
            "2024/01/01",
            "2024-1-01",
        ] {
            assert!(parse_date(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn geopoints_check_ranges_and_spacing() {
        let p = parse_geopoint("-1.2921 36.8219 1795 4.5").unwrap();
        assert_eq!(
            (p.lat, p.lon, p.alt, p.accuracy),
            (-1.2921, 36.8219, Some(1795.0), Some(4.5))
        );
        assert!(parse_geopoint("10 20").is_ok());
        for bad in [
            "10",
            "91 0",
            "0 181",
            "0 0 0 -1",
            "10  20",
            "10,20",
            "0 0 0 0 0",
            " 0 0",
        ] {
            assert!(parse_geopoint(bad).is_err(), "{bad:?}");
        }
    }

    proptest! {
        #[test]
        fn integer_rule_is_rusts_i64_parse(s in "[+-]?[0-9]{0,20}|\\PC{0,8}") {
            prop_assert_eq!(parse_integer(&s).ok(), s.parse::<i64>().ok());
        }

        #[test]
        fn decimal_rule_agrees_with_rust_on_plain_numbers(s in "[+-]?[0-9]{0,6}\\.?[0-9]{0,6}") {
            let rust = s.parse::<f64>().ok();
            prop_assert_eq!(parse_decimal(&s).ok(), rust);
        }

        #[test]
        fn accepted_decimals_are_finite_rust_floats(s in "\\PC{0,12}") {
            if let Ok(n) = parse_decimal(&s) {
                prop_assert!(n.is_finite());
                prop_assert_eq!(s.parse::<f64>().ok(), Some(n));
            }
        }

        #[test]
        fn every_day_round_trips(julian in 1_721_426i32..5_373_484) {
            let d = Date::from_julian_day(julian).unwrap();
            let s = format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day());
            prop_assert_eq!(parse_date(&s), Ok(d));
        }

        #[test]
        fn geopoints_in_range_round_trip(lat in -90.0f64..=90.0, lon in -180.0f64..=180.0,
                                          alt in -500.0f64..9000.0, acc in 0.0f64..1000.0) {
            let s = format!("{lat} {lon} {alt} {acc}");
            let p = parse_geopoint(&s).unwrap();
            prop_assert_eq!(p, GeoPoint { lat, lon, alt: Some(alt), accuracy: Some(acc) });
        }
    }
}
