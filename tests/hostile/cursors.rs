//! Table cases: pull limits and forged cursors.

use super::*;

/// One case a line, as in docs/hostile.md.
#[rustfmt::skip]
pub(crate) fn cases(w: &World) -> Vec<Case> {
    let a = w.amina.as_str();
    let mut t = vec![
        case("pull limit=0", get(a, "?limit=0"), err(400, "bad_request")),
        case("pull limit=-1", get(a, "?limit=-1"), err(400, "bad_request")),
        case("pull limit=1001", get(a, "?limit=1001"), err(400, "bad_request")),
        case("pull limit=2^32+1", get(a, "?limit=4294967297"), err(400, "bad_request")),
        case("pull limit=i64::MIN", get(a, "?limit=-9223372036854775808"), err(400, "bad_request")),
        case("pull limit=10^30", get(a, "?limit=1000000000000000000000000000000"), err(400, "bad_request")),
        case("pull limit=abc", get(a, "?limit=abc"), err(400, "bad_request")),
        case("pull limit=1.5", get(a, "?limit=1.5"), err(400, "bad_request")),
        case("pull limit=1e3", get(a, "?limit=1e3"), err(400, "bad_request")),
        case("pull limit=NaN", get(a, "?limit=NaN"), err(400, "bad_request")),
        case("pull limit= (empty)", get(a, "?limit="), err(400, "bad_request")),
        case("pull limit=%00", get(a, "?limit=%00"), err(400, "bad_request")),
        case("pull limit=1 (fine)", get(a, "?limit=1"), Want::PullOk),
        case("pull: an unknown parameter", get(a, "?team=south"), err(400, "bad_request")),
        case("pull: an unknown parameter of SQL", get(a, "?limit=1&'%3B%20DROP%20TABLE%20records%3B--=1"), err(400, "bad_request")),
    ];
    // --- Pull: forged cursors.
    let real = w.cursor_amina.clone();
    let (payload, tag) = real.split_once('.').unwrap();
    let flip = |s: &str, i: usize| {
        let mut b = URL_SAFE_NO_PAD.decode(s).unwrap();
        let n = b.len();
        b[i % n] ^= 0x01;
        URL_SAFE_NO_PAD.encode(b)
    };
    let other_secret: [u8; 32] = rand::random();
    let cursors: Vec<(&str, String)> = vec![
        (
            "random base64",
            URL_SAFE_NO_PAD.encode((0..48).map(|_| rand::random::<u8>()).collect::<Vec<u8>>()),
        ),
        (
            "random base64 with a dot",
            format!(
                "{}.{}",
                URL_SAFE_NO_PAD.encode(rand::random::<[u8; 12]>()),
                URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>())
            ),
        ),
        ("truncated", real[..real.len() - 3].to_string()),
        ("its tag dropped", format!("{payload}.")),
        ("bit-flipped tag", format!("{payload}.{}", flip(tag, 5))),
        ("bit-flipped payload", format!("{}.{tag}", flip(payload, 0))),
        (
            "version 0 with the real tag",
            format!("{}.{tag}", URL_SAFE_NO_PAD.encode("0.north")),
        ),
        (
            "another team with the real tag",
            format!("{}.{tag}", URL_SAFE_NO_PAD.encode(format!("{}.south", 3))),
        ),
        (
            "a negative version with the real tag",
            format!("{}.{tag}", URL_SAFE_NO_PAD.encode("-1.north")),
        ),
        (
            "another officer's cursor, same team",
            w.cursor_brian.clone(),
        ),
        (
            "another officer's cursor, another team",
            w.cursor_chen.clone(),
        ),
        (
            "from another server's database",
            encode_cursor(&other_secret, "amina", "north", 3),
        ),
        (
            "from another server, version 0",
            encode_cursor(&other_secret, "amina", "north", 0),
        ),
        (
            "600 characters",
            format!("{real}{}", "A".repeat(600 - real.len())),
        ),
        ("a NUL byte", format!("{payload}%00.{tag}")),
        ("bytes that are not UTF-8", format!("{payload}.{tag}%FF%FE")),
        ("SQL", "'%20OR%20'1'%3D'1".to_string()),
        ("a lone %", "%".to_string()),
        ("three dots", "...".to_string()),
    ];
    for (name, c) in cursors {
        t.push(case(
            format!("pull cursor: {name}"),
            get(a, &format!("?cursor={c}")),
            err(400, "invalid_cursor"),
        ));
    }
    t.push(case(
        "pull cursor: the real one (fine)",
        get(a, &format!("?cursor={real}")),
        Want::PullOk,
    ));
    t
}
