//! Table cases: bodies (size limits, compression, framing), malformed JSON, methods and paths.

use super::*;

pub(crate) fn gzip_bytes(data: &[u8]) -> Vec<u8> {
    support::http::gzip(data)
}

/// 1 GiB of spaces, gzip-compressed to about 1 MiB (built once).
pub(crate) fn gzip_bomb() -> &'static Vec<u8> {
    static BOMB: OnceLock<Vec<u8>> = OnceLock::new();
    BOMB.get_or_init(|| {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        let block = vec![b' '; 1 << 20];
        for _ in 0..1024 {
            e.write_all(&block).unwrap();
        }
        let b = e.finish().unwrap();
        assert!(b.len() < 2 << 20, "{}", b.len());
        b
    })
}

/// One case a line, as in docs/hostile.md.
#[rustfmt::skip]
pub(crate) fn cases(w: &World) -> Vec<Case> {
    let a = w.amina.as_str();
    let dev = w.device;
    vec![
        case(
            "oversize raw body: 17 MiB chunked (no Content-Length)",
            Req { framing: Framing::Chunked, ..post(a, vec![b' '; 17 << 20]) },
            err(413, "payload_too_large"),
        ),
        case("oversize raw body: 17 MiB with its Content-Length", post(a, vec![b' '; 17 << 20]), err(413, "payload_too_large")),
        case(
            "oversize declared: Content-Length 17 MiB, 1 byte sent",
            Req { framing: Framing::Declared(17 << 20), ..post(a, b"{".to_vec()) },
            err(413, "payload_too_large"),
        ),
        case("gzip bomb: 1 GiB of spaces in 1 MiB", with_header(post(a, gzip_bomb().clone()), "Content-Encoding", b"gzip"), err(413, "payload_too_large")),
        case("Content-Encoding: gzip, body not gzip", with_header(post(a, good()), "Content-Encoding", b"gzip"), err(400, "invalid_json")),
        case(
            "Content-Encoding: gzip, a valid push truncated mid-stream",
            with_header(post(a, { let g = gzip_bytes(&good()); g[..g.len() / 2].to_vec() }), "Content-Encoding", b"gzip"),
            err(400, "invalid_json"),
        ),
        case("Content-Encoding: br", with_header(post(a, good()), "Content-Encoding", b"br"), err(415, "unsupported_media_type")),
        case("Content-Encoding: deflate", with_header(post(a, good()), "Content-Encoding", b"deflate"), err(415, "unsupported_media_type")),
        case("Content-Encoding: gzip, gzip", with_header(post(a, gzip_bytes(&gzip_bytes(&good()))), "Content-Encoding", b"gzip, gzip"), err(415, "unsupported_media_type")),
        case("Content-Encoding not UTF-8", with_header(post(a, good()), "Content-Encoding", b"gz\xffip"), err(415, "unsupported_media_type")),
        case("Content-Type: text/plain", with_header(post(a, good()), "Content-Type", b"text/plain"), err(415, "unsupported_media_type")),
        // --- Malformed JSON.
        case("empty body", post(a, Vec::new()), err(400, "invalid_json")),
        case("JSON null", post(a, b"null".to_vec()), err(400, "invalid_json")),
        case("truncated JSON", post(a, { let g = good(); g[..g.len() - 7].to_vec() }), err(400, "invalid_json")),
        case("trailing garbage after the JSON", post(a, [good(), b"}{".to_vec()].concat()), err(400, "invalid_json")),
        case("100k nested [", post(a, vec![b'['; 100_000]), err(400, "invalid_json")),
        case("100k nested {\"a\":", post(a, "{\"a\":".repeat(100_000).into_bytes()), err(400, "invalid_json")),
        case(
            "100k nested arrays inside a field",
            post(a, format!("{{\"device_id\":\"{dev}\",\"changes\":[{{\"op_id\":\"{}\",\"entity_type\":\"household\",\"entity_id\":\"{}\",\"operation\":\"insert\",\"fields\":{{\"name\":\"x\",\"notes\":{}1{}}}}}]}}", uid(), uid(), "[".repeat(100_000), "]".repeat(100_000)).into_bytes()),
            err(400, "invalid_json"),
        ),
        case("invalid UTF-8 body", post(a, vec![0xff, 0xfe, 0xfd, 0x00, 0x80]), err(400, "invalid_json")),
        case(
            "invalid UTF-8 inside the name string",
            post(a, String::from_utf8_lossy(&good()).replace("would be stored", "\u{1}MARK").into_bytes().into_iter().flat_map(|b| if b == 1 { vec![0xc3, 0x28] } else { vec![b] }).collect()),
            err(400, "invalid_json"),
        ),
        case("overlong UTF-8 '/' in a string", post(a, b"{\"device_id\":\"\xc0\xaf\"}".to_vec()), err(400, "invalid_json")),
        case("a lone surrogate escape in the name", post(a, String::from_utf8(good()).unwrap().replace("would be stored", "\\ud800").into_bytes()), err(400, "invalid_json")),
        case("UTF-16 body", post(a, String::from_utf8(good()).unwrap().encode_utf16().flat_map(|u| u.to_le_bytes()).collect()), err(400, "invalid_json")),
        case("a JSON array instead of an object", post(a, b"[]".to_vec()), err(400, "invalid_json")),
        case("missing device_id", post(a, json!({"changes": []}).to_string().into_bytes()), err(400, "invalid_json")),
        case("missing changes", post(a, json!({"device_id": dev}).to_string().into_bytes()), err(400, "invalid_json")),
        case("an unknown top-level field", post(a, json!({"device_id": dev, "changes": [], "admin": true}).to_string().into_bytes()), err(400, "invalid_json")),
        case("a duplicate top-level field", post(a, format!("{{\"device_id\":\"{dev}\",\"device_id\":\"{dev}\",\"changes\":[]}}").into_bytes()), err(400, "invalid_json")),
        case("501 changes", post(a, body(dev, (0..501).map(|_| hh(uid(), json!({"name": "h"}))).collect())), err(413, "batch_too_large")),
        // --- Methods and paths.
        case("PUT /v1/push", Req { method: "PUT", ..post(a, good()) }, err(405, "bad_request")),
        case("GET /v1/push", Req { method: "GET", ..get(a, "") }.with_path("/v1/push"), err(405, "bad_request")),
        case("POST /v1/pull", Req { path: "/v1/pull".into(), ..post(a, good()) }, err(405, "bad_request")),
        case("POST /v1/Push", Req { path: "/v1/Push".into(), ..post(a, good()) }, err(404, "not_found")),
        case("POST /v1/push/..", Req { path: "/v1/push/..".into(), ..post(a, good()) }, err(404, "not_found")),
    ]
}
