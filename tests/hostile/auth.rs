//! Table cases: authentication (missing, malformed, oversize, unknown and revoked tokens).

use super::*;

/// One case a line, as in docs/hostile.md.
#[rustfmt::skip]
pub(crate) fn cases(w: &World) -> Vec<Case> {
    let a = w.amina.as_str();
    vec![
        case("push without Authorization", without_header(post(a, good()), "Authorization"), err(401, "unauthorized")),
        case("pull without Authorization", without_header(get(a, ""), "Authorization"), err(401, "unauthorized")),
        case("Authorization: Bearer (no token)", with_header(post(a, good()), "Authorization", b"Bearer"), err(401, "unauthorized")),
        case("Authorization: Bearer and spaces", with_header(post(a, good()), "Authorization", b"Bearer    "), err(401, "unauthorized")),
        case("Authorization: Basic x", with_header(post(a, good()), "Authorization", b"Basic x"), err(401, "unauthorized")),
        case("Authorization: Basic with a valid token", with_header(post(a, good()), "Authorization", format!("Basic {a}").as_bytes()), err(401, "unauthorized")),
        case("Authorization: token with no scheme", with_header(post(a, good()), "Authorization", a.as_bytes()), err(401, "unauthorized")),
        case("a 64 KiB token", with_header(post(a, good()), "Authorization", format!("Bearer {}", "A".repeat(64 << 10)).as_bytes()), err(401, "unauthorized")),
        case("a 1 MiB Authorization header (hyper refuses it)", with_header(post(a, good()), "Authorization", format!("Bearer {}", "A".repeat(1 << 20)).as_bytes()), Want::Bare(431)),
        case("200 headers (hyper refuses them)", { let mut r = post(a, good()); r.headers.extend((0..200).map(|i| (format!("X-H{i}"), b"1".to_vec()))); r }, Want::Bare(431)),
        case("a request target with '\"<>' (hyper refuses it)", get(a, "?limit=\"<>"), Want::Bare(400)),
        case("Authorization: lowercase bearer (the scheme is case-insensitive)", with_header(post(&w.brian, b"{\"device_id\": \"00000000-0000-0000-0000-0000000000b1\", \"changes\": []}".to_vec()), "Authorization", format!("bearer {}", w.brian).as_bytes()), Want::Results(vec![], 0)),
        case("two Authorization headers, Basic first", { let mut r = with_header(post(a, good()), "Authorization", b"Basic x"); r.headers.push(bearer(a)); r }, err(401, "unauthorized")),
        case("a 4 KiB token", with_header(post(a, good()), "Authorization", format!("Bearer {}", "A".repeat(4096)).as_bytes()), err(401, "unauthorized")),
        case("a 257-byte token", with_header(post(a, good()), "Authorization", format!("Bearer {}", "A".repeat(257)).as_bytes()), err(401, "unauthorized")),
        case("a valid token with 300 trailing bytes", with_header(post(a, good()), "Authorization", format!("Bearer {a}{}", "x".repeat(300)).as_bytes()), err(401, "unauthorized")),
        case("an unknown token", with_header(post(a, good()), "Authorization", b"Bearer AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"), err(401, "unauthorized")),
        case("a token of SQL", with_header(post(a, good()), "Authorization", b"Bearer ' OR '1'='1"), err(401, "unauthorized")),
        case("a token that is not UTF-8", with_header(post(a, good()), "Authorization", b"Bearer \xff\xfe\xc3\x28"), err(401, "unauthorized")),
        case("a revoked token pushing", post(&w.dora_revoked, good()), err(401, "unauthorized")),
        case("a revoked token pulling", get(&w.dora_revoked, ""), err(401, "unauthorized")),
    ]
}
