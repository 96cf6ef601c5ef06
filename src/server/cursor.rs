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
}

fn cursor_mac(secret: &[u8], officer: &str, team: &str, version: i64) -> Hmac<Sha256> {
    // Hmac accepts keys of any length; new_from_slice cannot fail for HMAC.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret)
        .unwrap_or_else(|_| <Hmac<Sha256> as Mac>::new_from_slice(b"").expect("HMAC key"));
    mac.update(officer.as_bytes());
    mac.update(&[0]);
    mac.update(team.as_bytes());
    mac.update(&[0]);
    mac.update(&version.to_be_bytes());
    mac
}

/// `base64url("VERSION.TEAM") "." base64url(HMAC(secret, officer, team, version))`.
pub fn encode_cursor(secret: &[u8], officer: &str, team: &str, version: i64) -> String {
    let payload = URL_SAFE_NO_PAD.encode(format!("{version}.{team}"));
    let tag = cursor_mac(secret, officer, team, version)
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
    let (version, team) = payload.split_once('.')?;
    let version: i64 = version.parse().ok().filter(|v| *v >= 0)?;
    cursor_mac(secret, officer, team, version)
        .verify_slice(&tag)
        .ok()?;
    Some(Cursor {
        version,
        team: team.to_string(),
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
                team: "north".into()
            })
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
