//! A raw HTTP/1.1 client: anything can be sent (bytes that are not UTF-8 in headers, chunked
//! bodies of any size, a Content-Length the body does not match). It sends and parses; it
//! judges nothing.

use super::*;

/// How the body is framed on the wire.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Framing {
    /// `Content-Length` of the body.
    Length,
    /// `Transfer-Encoding: chunked` (no length known up front).
    Chunked,
    /// `Content-Length: N` declared, but only the given bytes are sent.
    Declared(u64),
}

#[derive(Clone)]
pub(crate) struct Req {
    pub(crate) method: &'static str,
    pub(crate) path: String,
    pub(crate) headers: Vec<(String, Vec<u8>)>,
    pub(crate) body: Vec<u8>,
    pub(crate) framing: Framing,
}

pub(crate) struct Resp {
    pub(crate) status: u16,
    pub(crate) body: Vec<u8>,
}

impl Resp {
    pub(crate) fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "{} body is not JSON ({e}): {:?}",
                self.status,
                String::from_utf8_lossy(&self.body[..self.body.len().min(300)])
            )
        })
    }

    pub(crate) fn error_code(&self) -> String {
        serde_json::from_slice::<ErrorBody>(&self.body)
            .map(|e| e.error.code.as_str().to_string())
            .unwrap_or_else(|e| {
                panic!(
                    "{} is not an error body ({e}): {:?}",
                    self.status,
                    String::from_utf8_lossy(&self.body[..self.body.len().min(300)])
                )
            })
    }
}

/// Sends one request on a fresh connection. The body is written by another thread while
/// this one reads, so a server that answers early (413) and closes is seen answering.
pub(crate) fn send(addr: &str, req: &Req) -> Resp {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    s.set_write_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut head = format!(
        "{} {} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n",
        req.method, req.path
    )
    .into_bytes();
    for (k, v) in &req.headers {
        head.extend_from_slice(k.as_bytes());
        head.extend_from_slice(b": ");
        head.extend_from_slice(v);
        head.extend_from_slice(b"\r\n");
    }
    match req.framing {
        Framing::Length => {
            head.extend_from_slice(format!("Content-Length: {}\r\n", req.body.len()).as_bytes())
        }
        Framing::Chunked => head.extend_from_slice(b"Transfer-Encoding: chunked\r\n"),
        Framing::Declared(n) => {
            head.extend_from_slice(format!("Content-Length: {n}\r\n").as_bytes())
        }
    }
    head.extend_from_slice(b"\r\n");
    let mut w = s.try_clone().unwrap();
    let (body, framing) = (req.body.clone(), req.framing);
    let writer = std::thread::spawn(move || -> std::io::Result<()> {
        w.write_all(&head)?;
        match framing {
            Framing::Chunked => {
                for chunk in body.chunks(64 * 1024) {
                    w.write_all(format!("{:x}\r\n", chunk.len()).as_bytes())?;
                    w.write_all(chunk)?;
                    w.write_all(b"\r\n")?;
                }
                w.write_all(b"0\r\n\r\n")
            }
            _ => w.write_all(&body),
        }
    });
    let mut buf = Vec::new();
    let mut tmp = [0u8; 16 * 1024];
    let resp = loop {
        match s.read(&mut tmp) {
            Ok(0) => break parse_response(&buf, true),
            Ok(n) => {
                buf.extend_from_slice(&tmp[..n]);
                if let Some(r) = parse_response(&buf, false) {
                    break Some(r);
                }
            }
            Err(e) => {
                let r = parse_response(&buf, true);
                assert!(r.is_some(), "connection failed before an answer: {e}");
                break r;
            }
        }
    };
    let _ = s.shutdown(Shutdown::Both);
    let _ = writer.join();
    resp.unwrap_or_else(|| panic!("no complete answer: {:?}", String::from_utf8_lossy(&buf)))
}

/// A complete response in `buf` (with a Content-Length), or at EOF whatever arrived.
pub(crate) fn parse_response(buf: &[u8], eof: bool) -> Option<Resp> {
    let end = buf.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
    let status: u16 = head.split_whitespace().nth(1)?.parse().ok()?;
    assert!(
        !head.contains("transfer-encoding: chunked"),
        "chunked answer: {head}"
    );
    let body = &buf[end + 4..];
    let len = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok());
    match len {
        Some(n) if body.len() >= n => Some(Resp {
            status,
            body: body[..n].to_vec(),
        }),
        None if eof => Some(Resp {
            status,
            body: body.to_vec(),
        }),
        _ => None,
    }
}

pub(crate) fn bearer(token: &str) -> (String, Vec<u8>) {
    (
        "Authorization".into(),
        format!("Bearer {token}").into_bytes(),
    )
}

pub(crate) fn json_ct() -> (String, Vec<u8>) {
    ("Content-Type".into(), b"application/json".to_vec())
}

pub(crate) fn post(token: &str, body: Vec<u8>) -> Req {
    Req {
        method: "POST",
        path: "/v1/push".into(),
        headers: vec![bearer(token), json_ct()],
        body,
        framing: Framing::Length,
    }
}

pub(crate) fn get(token: &str, query: &str) -> Req {
    Req {
        method: "GET",
        path: format!("/v1/pull{query}"),
        headers: vec![bearer(token)],
        body: Vec::new(),
        framing: Framing::Length,
    }
}

/// `GET /v1/health`: is the server still there?
pub(crate) fn health() -> Req {
    Req {
        method: "GET",
        path: "/v1/health".into(),
        headers: vec![],
        body: vec![],
        framing: Framing::Length,
    }
}

pub(crate) fn with_header(mut r: Req, k: &str, v: &[u8]) -> Req {
    r.headers.retain(|(h, _)| !h.eq_ignore_ascii_case(k));
    r.headers.push((k.into(), v.to_vec()));
    r
}

pub(crate) fn without_header(mut r: Req, k: &str) -> Req {
    r.headers.retain(|(h, _)| !h.eq_ignore_ascii_case(k));
    r
}

pub(crate) trait WithPath {
    fn with_path(self, p: &str) -> Self;
}
impl WithPath for Req {
    fn with_path(mut self, p: &str) -> Req {
        self.path = p.into();
        self
    }
}
