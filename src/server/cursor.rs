//! Pull cursors: opaque, authenticated (HMAC-SHA-256) and bound to one officer. This module
//! only encodes and checks them; what a cursor means for a pull (team moves, the history
//! floor) is decided in [`crate::server::service`].

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// A decoded, authenticated cursor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    /// Everything of `team` up to this version was delivered.
    pub version: i64,
    /// The officer's team when the cursor was issued.
    pub team: String,
    /// The history floor when the cursor was issued (0 for cursors issued before any purge,
    /// and for cursors of older servers): a pull that started from scratch under this floor
    /// may go on below it (issue 11).
    pub floor: i64,
}

fn cursor_mac(secret: &[u8], officer: &str, team: &str, version: i64, floor: i64) -> Hmac<Sha256> {
    // Hmac accepts keys of any length; new_from_slice cannot fail for HMAC.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret)
        .unwrap_or_else(|_| <Hmac<Sha256> as Mac>::new_from_slice(b"").expect("HMAC key"));
    mac.update(officer.as_bytes());
    mac.update(&[0]);
    mac.update(team.as_bytes());
    mac.update(&[0]);
    mac.update(&version.to_be_bytes());
    if floor != 0 {
        // Only cursors with a floor hash it, so cursors issued before floors existed verify.
        mac.update(&[0]);
        mac.update(&floor.to_be_bytes());
    }
    mac
}

/// `base64url("VERSION.TEAM") "." base64url(HMAC(secret, officer, team, version))`.
pub fn encode_cursor(secret: &[u8], officer: &str, team: &str, version: i64) -> String {
    encode_cursor_at(secret, officer, team, version, 0)
}

/// [`encode_cursor`] for a cursor issued under history floor `floor`: the payload is
/// `"VERSION:FLOOR.TEAM"` when `floor` is not 0.
pub fn encode_cursor_at(
    secret: &[u8],
    officer: &str,
    team: &str,
    version: i64,
    floor: i64,
) -> String {
    let payload = if floor == 0 {
        URL_SAFE_NO_PAD.encode(format!("{version}.{team}"))
    } else {
        URL_SAFE_NO_PAD.encode(format!("{version}:{floor}.{team}"))
    };
    let tag = cursor_mac(secret, officer, team, version, floor)
        .finalize()
        .into_bytes();
    format!("{payload}.{}", URL_SAFE_NO_PAD.encode(tag))
}

/// Decodes a cursor issued to `officer`; `None` if it is malformed or forged.
pub fn decode_cursor(secret: &[u8], officer: &str, cursor: &str) -> Option<Cursor> {
    if cursor.len() > 512 {
        return None;
    }
    let (payload, tag) = cursor.split_once('.')?;
    let payload = String::from_utf8(URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
    let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
    let (numbers, team) = payload.split_once('.')?;
    let (version, floor) = match numbers.split_once(':') {
        Some((v, f)) => (v, f.parse().ok().filter(|f| *f > 0)?),
        None => (numbers, 0),
    };
    let version: i64 = version.parse().ok().filter(|v| *v >= 0)?;
    cursor_mac(secret, officer, team, version, floor)
        .verify_slice(&tag)
        .ok()?;
    Some(Cursor {
        version,
        team: team.to_string(),
        floor,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_refuse_forgery() {
        let s = b"secret";
        let c = encode_cursor(s, "amina", "north", 42);
        assert_eq!(
            decode_cursor(s, "amina", &c),
            Some(Cursor {
                version: 42,
                team: "north".into(),
                floor: 0,
            })
        );
        let f = encode_cursor_at(s, "amina", "north", 42, 7);
        assert_eq!(decode_cursor(s, "amina", &f).map(|c| c.floor), Some(7));
        let (_, tag) = f.split_once('.').unwrap();
        let lowered = format!("{}.{tag}", URL_SAFE_NO_PAD.encode("42:9.north"));
        assert_eq!(
            decode_cursor(s, "amina", &lowered),
            None,
            "the floor is signed"
        );
        assert_eq!(decode_cursor(s, "bob", &c), None);
        assert_eq!(decode_cursor(b"other", "amina", &c), None);
        let (_, tag) = c.split_once('.').unwrap();
        let forged = format!("{}.{tag}", URL_SAFE_NO_PAD.encode("43.north"));
        assert_eq!(decode_cursor(s, "amina", &forged), None);
        assert_eq!(decode_cursor(s, "amina", "garbage"), None);
        assert_eq!(decode_cursor(s, "amina", ""), None);
    }
}
