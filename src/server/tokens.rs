//! Officer tokens: minting and hashing, in one place for the service and `fieldsync admin`.
//! The server stores only a token's hash; this module must not store or log a token.

use sha2::{Digest, Sha256};

/// SHA-256 (hex) of a token: all the server stores of it.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Makes a new random token: 32 bytes, as 64 hex digits (never starting with `-`, so it
/// can follow a command-line flag; safe in headers, URLs and shells).
pub fn new_token() -> String {
    hex::encode(rand::random::<[u8; 32]>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_fresh_hex_and_hash_to_sha256() {
        let (a, b) = (new_token(), new_token());
        assert_ne!(a, b);
        assert_eq!(a.len(), 64);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(
            token_hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
