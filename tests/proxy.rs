//! Tests of the fault-injecting proxy in `tests/support/proxy.rs`, against a tiny upstream
//! HTTP server written here with std only.

#[path = "support/proxy.rs"]
mod proxy;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use proxy::{Fault, FaultKind, FaultProxy};
use reqwest::blocking::Client;

// ---------------------------------------------------------------------------------------
// A tiny upstream server.

#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path: String,
    connection: Option<String>,
    body_len: usize,
}

struct Upstream {
    addr: SocketAddr,
    count: Arc<AtomicU64>,
    seen: Arc<Mutex<Vec<Seen>>>,
    stop: Arc<AtomicBool>,
}

impl Upstream {
    /// Serves one request per connection (it honours `Connection: close`, and closes anyway):
    /// - `/echo`: 200 with the request body as the response body;
    /// - `/chunked`: 200 with a chunked JSON body;
    /// - `/gzip`: 200 with a gzip-encoded JSON body;
    /// - `/status/N`: status N with a JSON body;
    /// - anything else: 200 with `{"server":NAME,"n":COUNT,"path":PATH}`.
    fn start(name: &'static str) -> Upstream {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let count = Arc::new(AtomicU64::new(0));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (c, s, st) = (count.clone(), seen.clone(), stop.clone());
        thread::spawn(move || {
            for conn in listener.incoming() {
                if st.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(conn) = conn else { continue };
                let (c, s) = (c.clone(), s.clone());
                thread::spawn(move || {
                    let _ = serve(conn, name, &c, &s);
                });
            }
        });
        Upstream {
            addr,
            count,
            seen,
            stop,
        }
    }

    fn count(&self) -> u64 {
        self.count.load(Ordering::SeqCst)
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

impl Drop for Upstream {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
    }
}

fn serve(
    conn: TcpStream,
    name: &str,
    count: &AtomicU64,
    seen: &Mutex<Vec<Seen>>,
) -> std::io::Result<()> {
    conn.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut r = BufReader::new(conn.try_clone()?);
    let mut line = String::new();
    if r.read_line(&mut line)? == 0 {
        return Ok(());
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or("").to_string();
    let path = parts.next().unwrap_or("").to_string();
    let mut headers = HashMap::new();
    loop {
        let mut h = String::new();
        r.read_line(&mut h)?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (n, v) = h.split_once(':').unwrap();
        headers.insert(n.trim().to_ascii_lowercase(), v.trim().to_string());
    }
    let mut body = Vec::new();
    if headers
        .get("transfer-encoding")
        .is_some_and(|v| v.contains("chunked"))
    {
        loop {
            let mut size = String::new();
            r.read_line(&mut size)?;
            let size = usize::from_str_radix(size.trim(), 16).unwrap();
            if size == 0 {
                let mut end = String::new();
                r.read_line(&mut end)?;
                break;
            }
            let mut chunk = vec![0; size + 2];
            r.read_exact(&mut chunk)?;
            body.extend_from_slice(&chunk[..size]);
        }
    } else if let Some(len) = headers.get("content-length") {
        body.resize(len.parse().unwrap(), 0);
        r.read_exact(&mut body)?;
    }
    let n = count.fetch_add(1, Ordering::SeqCst) + 1;
    seen.lock().unwrap().push(Seen {
        method,
        path: path.clone(),
        connection: headers.get("connection").cloned(),
        body_len: body.len(),
    });

    let mut w = conn;
    let json = |status: u16, extra: &str| {
        let b = format!(r#"{{"server":"{name}","n":{n},"path":"{path}"}}"#);
        format!(
            "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\n{extra}Connection: keep-alive\r\n\r\n{b}",
            b.len()
        )
        .into_bytes()
    };
    if path == "/echo" {
        let mut out = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes();
        out.extend_from_slice(&body);
        w.write_all(&out)?;
    } else if path == "/chunked" {
        let b = format!(r#"{{"server":"{name}","chunked":true}}"#);
        let (a, z) = b.split_at(10);
        let out = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n{a}\r\n{:x};ext=1\r\n{z}\r\n0\r\n\r\n",
            a.len(),
            z.len()
        );
        w.write_all(out.as_bytes())?;
    } else if path == "/gzip" {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(format!(r#"{{"server":"{name}","gzip":true}}"#).as_bytes())?;
        let gz = enc.finish()?;
        let mut out = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\nContent-Length: {}\r\n\r\n",
            gz.len()
        )
        .into_bytes();
        out.extend_from_slice(&gz);
        w.write_all(&out)?;
    } else if let Some(code) = path.strip_prefix("/status/") {
        w.write_all(&json(code.parse().unwrap(), ""))?;
    } else {
        w.write_all(&json(200, "X-Upstream: yes\r\n"))?;
    }
    w.flush()?;
    let _ = w.shutdown(Shutdown::Write);
    Ok(())
}

// ---------------------------------------------------------------------------------------

fn client() -> Client {
    Client::builder()
        .timeout(Duration::from_secs(5))
        .no_gzip()
        .build()
        .unwrap()
}

fn get_json(c: &Client, url: &str) -> serde_json::Value {
    let resp = c.get(url).send().unwrap();
    assert_eq!(resp.status(), 200);
    json(resp)
}

fn json(resp: reqwest::blocking::Response) -> serde_json::Value {
    serde_json::from_slice(&resp.bytes().unwrap()).unwrap()
}

/// Pseudo-random bytes, so a corrupted or shifted body cannot pass by accident.
fn noise(len: usize) -> Vec<u8> {
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

#[test]
fn forwards_status_body_and_headers_and_forces_connection_close() {
    let up = Upstream::start("a");
    let p = FaultProxy::start(up.addr);
    assert!(p.url().starts_with("http://127.0.0.1:"));
    assert_eq!(p.url(), format!("http://{}", p.addr()));
    let c = client();

    let resp = c.get(format!("{}/v1/health?x=1", p.url())).send().unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["x-upstream"], "yes");
    assert_eq!(resp.headers()["connection"], "close");
    let v = json(resp);
    assert_eq!(v["server"], "a");
    assert_eq!(v["path"], "/v1/health?x=1");

    let resp = c.get(format!("{}/status/404", p.url())).send().unwrap();
    assert_eq!(resp.status(), 404);
    assert_eq!(json(resp)["n"], 2);

    let seen = up.seen();
    assert_eq!(seen.len(), 2);
    assert!(seen
        .iter()
        .all(|s| s.connection.as_deref() == Some("close")));
    assert_eq!(p.requests_seen(), 2);
    assert_eq!(p.forwarded(), 2);
    assert_eq!(p.forwarded_to("/v1/health"), 1);
    assert_eq!(p.forwarded_to("/status"), 1);
    assert_eq!(p.forwarded_to("/v1/push"), 0);
    assert_eq!(p.faults_injected(), 0);
}

#[test]
fn large_bodies_both_ways_are_intact() {
    let up = Upstream::start("a");
    let p = FaultProxy::start(up.addr);
    let body = noise(12 * 1024 * 1024);
    let started = Instant::now();
    let resp = client()
        .post(format!("{}/echo", p.url()))
        .header("Content-Encoding", "gzip")
        .body(body.clone())
        .send()
        .unwrap();
    assert_eq!(resp.status(), 200);
    let back = resp.bytes().unwrap();
    assert!(back[..] == body[..], "the echoed body differs");
    assert_eq!(up.seen()[0].body_len, body.len());
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "12 MB each way took {:?}",
        started.elapsed()
    );
}

#[test]
fn chunked_request_and_response_and_gzip_pass_through() {
    let up = Upstream::start("a");
    let p = FaultProxy::start(up.addr);
    let c = client();

    // A body of unknown length goes out chunked.
    let data = noise(300_000);
    let resp = c
        .post(format!("{}/echo", p.url()))
        .body(reqwest::blocking::Body::new(std::io::Cursor::new(
            data.clone(),
        )))
        .send()
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.bytes().unwrap()[..] == data[..]);

    let v = get_json(&c, &format!("{}/chunked", p.url()));
    assert_eq!(v["chunked"], true);

    // With gzip decoding on, the client decodes the upstream's gzip body.
    let gz = Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let v = get_json(&gz, &format!("{}/gzip", p.url()));
    assert_eq!(v["gzip"], true);
    assert_eq!(p.forwarded(), 3);
}

#[test]
fn one_client_many_requests_and_concurrent_clients() {
    let up = Upstream::start("a");
    let p = Arc::new(FaultProxy::start(up.addr));
    let c = client();
    for i in 1..=5 {
        assert_eq!(get_json(&c, &format!("{}/seq", p.url()))["n"], i);
    }
    let handles: Vec<_> = (0..8)
        .map(|_| {
            let url = format!("{}/par", p.url());
            thread::spawn(move || {
                let c = client();
                for _ in 0..5 {
                    get_json(&c, &url);
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(up.count(), 45);
    assert_eq!(p.forwarded_to("/par"), 40);
}

#[test]
fn drop_before_upstream_never_reaches_the_server() {
    let up = Upstream::start("a");
    let p = FaultProxy::start(up.addr);
    let c = client();
    p.push_fault(Fault::DropBeforeUpstream);
    let err = c
        .post(format!("{}/v1/push", p.url()))
        .body(noise(10_000))
        .send()
        .unwrap_err();
    assert!(!err.is_timeout(), "{err}");
    assert_eq!(up.count(), 0);
    assert_eq!(p.forwarded(), 0);
    assert_eq!((p.requests_seen(), p.faults_injected()), (1, 1));
    // One-shot: the next request goes through.
    assert_eq!(get_json(&c, &format!("{}/v1/push", p.url()))["n"], 1);
    assert_eq!(p.forwarded_to("/v1/push"), 1);
}

#[test]
fn drop_after_upstream_reaches_the_server_but_not_the_client() {
    let up = Upstream::start("a");
    let p = FaultProxy::start(up.addr);
    p.push_fault(Fault::DropAfterUpstream);
    let err = client()
        .post(format!("{}/v1/push", p.url()))
        .body("{}")
        .send()
        .unwrap_err();
    assert!(!err.is_timeout(), "{err}");
    assert_eq!(up.count(), 1);
    assert_eq!(up.seen()[0].method, "POST");
    assert_eq!(up.seen()[0].path, "/v1/push");
    assert_eq!(p.forwarded_to("/v1/push"), 1);
    assert_eq!(p.faults_injected(), 1);
}

#[test]
fn cut_response_breaks_the_body_or_the_head() {
    let up = Upstream::start("a");
    let p = FaultProxy::start(up.addr);
    let c = client();
    let body = noise(100_000);

    // Cut inside the body: the head arrives, reading the body fails.
    p.push_fault(Fault::CutResponse { after_bytes: 500 });
    let resp = c
        .post(format!("{}/echo", p.url()))
        .body(body.clone())
        .send()
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(
        resp.bytes().is_err(),
        "a cut body must not read as complete"
    );

    // Cut inside the head: the request itself fails.
    p.push_fault(Fault::CutResponse { after_bytes: 10 });
    assert!(c
        .post(format!("{}/echo", p.url()))
        .body(body)
        .send()
        .is_err());
    assert_eq!(up.count(), 2);
    assert_eq!(p.faults_injected(), 2);
}

#[test]
fn status_fault_answers_without_the_server() {
    let up = Upstream::start("a");
    let p = FaultProxy::start(up.addr);
    let c = client();
    p.push_fault(Fault::Status {
        code: 503,
        retry_after: Some(7),
    });
    p.push_fault(Fault::Status {
        code: 500,
        retry_after: None,
    });
    let resp = c
        .post(format!("{}/v1/push", p.url()))
        .body("{}")
        .send()
        .unwrap();
    assert_eq!(resp.status(), 503);
    assert_eq!(resp.headers()["retry-after"], "7");
    assert_eq!(resp.headers()["content-type"], "application/json");
    let v = json(resp);
    assert_eq!(v["error"]["code"], "overloaded");
    assert_eq!(v["error"]["message"], "injected by the fault proxy");

    let resp = c.get(format!("{}/v1/pull", p.url())).send().unwrap();
    assert_eq!(resp.status(), 500);
    assert!(resp.headers().get("retry-after").is_none());
    assert_eq!(json(resp)["error"]["code"], "internal");
    assert_eq!(up.count(), 0);
    assert_eq!(p.forwarded(), 0);
    assert_eq!(
        p.fault_log(),
        vec![
            ("/v1/push".to_string(), FaultKind::Status503),
            ("/v1/pull".to_string(), FaultKind::Status500)
        ]
    );
}

#[test]
fn delay_is_applied_before_forwarding() {
    let up = Upstream::start("a");
    let p = FaultProxy::start(up.addr);
    let c = client();
    p.push_fault(Fault::Delay(Duration::from_millis(300)));
    let t = Instant::now();
    get_json(&c, &format!("{}/slow", p.url()));
    let slow = t.elapsed();
    get_json(&c, &format!("{}/fast", p.url()));
    assert!(slow >= Duration::from_millis(300), "{slow:?}");
    // One-shot: the second request was not delayed.
    assert_eq!(p.fault_log(), vec![("/slow".to_string(), FaultKind::Delay)]);
    assert_eq!(up.count(), 2);
}

#[test]
fn blackhole_holds_until_the_client_gives_up_and_is_released_on_drop() {
    let up = Upstream::start("a");
    let p = FaultProxy::start(up.addr);
    p.push_fault(Fault::Blackhole);
    let impatient = Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let err = impatient
        .get(format!("{}/v1/pull", p.url()))
        .send()
        .unwrap_err();
    assert!(err.is_timeout(), "{err}");
    assert_eq!(up.count(), 0);

    // A raw connection held in the blackhole gets EOF once the proxy is dropped.
    p.push_fault(Fault::Blackhole);
    let mut raw = TcpStream::connect(p.addr()).unwrap();
    raw.write_all(b"GET /held HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    raw.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let mut buf = [0u8; 64];
    assert!(
        raw.read(&mut buf).is_err(),
        "nothing must arrive while held"
    );
    while p.pending_faults() > 0 {
        thread::sleep(Duration::from_millis(5));
    }
    let addr = p.addr();
    let t = Instant::now();
    drop(p);
    assert!(
        t.elapsed() < Duration::from_secs(1),
        "drop took {:?}",
        t.elapsed()
    );
    raw.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    assert!(matches!(raw.read(&mut buf), Ok(0) | Err(_)));
    // The listener is gone too.
    assert!(TcpStream::connect(addr).is_err());
}

#[test]
fn offline_refuses_connections_until_back_online() {
    let up = Upstream::start("a");
    let p = FaultProxy::start(up.addr);
    let c = client();
    p.set_offline(true);
    let err = c.get(format!("{}/v1/health", p.url())).send().unwrap_err();
    assert!(!err.is_timeout(), "{err}");
    assert_eq!(up.count(), 0);
    assert_eq!(p.requests_seen(), 0);
    assert!(p.refused() >= 1);
    p.set_offline(false);
    get_json(&c, &format!("{}/v1/health", p.url()));
    assert_eq!(up.count(), 1);
}

#[test]
fn path_filtered_faults_wait_for_their_path_and_keep_their_order() {
    let up = Upstream::start("a");
    let p = FaultProxy::start(up.addr);
    let c = client();
    p.push_fault_for("/v1/push", Fault::DropBeforeUpstream);
    p.push_fault_for(
        "/v1/push",
        Fault::Status {
            code: 503,
            retry_after: Some(1),
        },
    );
    for _ in 0..3 {
        get_json(&c, &format!("{}/v1/pull?limit=5", p.url()));
    }
    assert_eq!(p.pending_faults(), 2);
    assert!(c
        .post(format!("{}/v1/push", p.url()))
        .body("{}")
        .send()
        .is_err());
    let resp = c
        .post(format!("{}/v1/push", p.url()))
        .body("{}")
        .send()
        .unwrap();
    assert_eq!(resp.status(), 503);
    let resp = c
        .post(format!("{}/v1/push", p.url()))
        .body("{}")
        .send()
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(p.forwarded_to("/v1/pull"), 3);
    assert_eq!(p.forwarded_to("/v1/push"), 1);
    assert_eq!(p.seen_to("/v1/push"), 3);
    assert_eq!(p.seen_to("/v1/pull"), 3);
    assert_eq!(p.faults_injected(), 2);

    // clear() drops what is still queued.
    p.push_fault(Fault::DropBeforeUpstream);
    p.clear();
    get_json(&c, &format!("{}/v1/pull", p.url()));
}

#[test]
fn upstream_can_be_switched_and_a_dead_upstream_gives_502() {
    let a = Upstream::start("a");
    let b = Upstream::start("b");
    let p = FaultProxy::start(a.addr);
    let c = client();
    assert_eq!(get_json(&c, &format!("{}/x", p.url()))["server"], "a");
    p.set_upstream(b.addr);
    assert_eq!(p.upstream(), b.addr);
    assert_eq!(get_json(&c, &format!("{}/x", p.url()))["server"], "b");
    assert_eq!((a.count(), b.count()), (1, 1));

    // Nothing listens there any more.
    let dead = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    p.set_upstream(dead);
    let resp = c.get(format!("{}/x", p.url())).send().unwrap();
    assert_eq!(resp.status(), 502);
    assert_eq!(p.upstream_failures(), 1);
    p.set_upstream(a.addr);
    assert_eq!(get_json(&c, &format!("{}/x", p.url()))["server"], "a");
}

/// Runs `n` sequential requests alternating push and pull; returns what each one got.
fn random_run(seed: u64) -> (Vec<String>, Vec<(String, FaultKind)>, u64) {
    let up = Upstream::start("a");
    let p = FaultProxy::start(up.addr);
    let kinds = [
        FaultKind::DropBeforeUpstream,
        FaultKind::DropAfterUpstream,
        FaultKind::CutResponse,
        FaultKind::Status500,
        FaultKind::Status503,
        FaultKind::Delay,
    ];
    p.set_random(seed, 0.5, &kinds);
    let c = client();
    let mut outcomes = Vec::new();
    for i in 0..40 {
        let path = if i % 2 == 0 { "/v1/push" } else { "/v1/pull" };
        let got = match c
            .post(format!("{}{path}", p.url()))
            .body(noise(2000))
            .send()
        {
            Ok(r) => {
                let status = r.status().as_u16();
                match r.bytes() {
                    Ok(_) => format!("{status}"),
                    Err(_) => format!("{status} cut"),
                }
            }
            Err(_) => "error".to_string(),
        };
        outcomes.push(got);
    }
    assert_eq!(p.requests_seen(), 40);
    (outcomes, p.fault_log(), up.count())
}

#[test]
fn random_mode_is_deterministic_for_a_seed() {
    let (o1, log1, n1) = random_run(42);
    let (o2, log2, n2) = random_run(42);
    assert_eq!(o1, o2);
    assert_eq!(log1, log2);
    assert_eq!(n1, n2);
    assert!(
        (8..=32).contains(&log1.len()),
        "{} faults in 40 requests at p=0.5",
        log1.len()
    );
    assert!(o1.iter().any(|o| o == "200"));
    assert!(o1.iter().any(|o| o != "200"));
    let (_, log3, _) = random_run(43);
    assert_ne!(log1, log3, "another seed, another schedule");

    // A prefix-limited random plan leaves other paths alone.
    let up = Upstream::start("a");
    let p = FaultProxy::start(up.addr);
    p.set_random_for("/v1/push", 1, 1.0, &[FaultKind::DropBeforeUpstream]);
    let c = client();
    get_json(&c, &format!("{}/v1/pull", p.url()));
    assert!(c.post(format!("{}/v1/push", p.url())).send().is_err());
    p.clear();
    get_json(&c, &format!("{}/v1/push", p.url()));
}

#[test]
fn garbage_input_gets_an_error_and_the_proxy_survives() {
    let up = Upstream::start("a");
    let p = FaultProxy::start(up.addr);
    let send_raw = |bytes: &[u8]| -> String {
        let mut s = TcpStream::connect(p.addr()).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        let _ = s.write_all(bytes);
        let _ = s.shutdown(Shutdown::Write);
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out);
        String::from_utf8_lossy(&out).into_owned()
    };
    assert!(send_raw(b"garbage\r\n\r\n").starts_with("HTTP/1.1 400"));
    assert!(send_raw(b"\xff\xfe\x00\x01 / HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 400"));
    assert!(send_raw(b"GET / HTTP/1.1\r\nno colon here\r\n\r\n").starts_with("HTTP/1.1 400"));
    assert!(send_raw(b"POST / HTTP/1.1\r\nContent-Length: -5\r\n\r\n").starts_with("HTTP/1.1 400"));
    assert!(
        send_raw(b"POST / HTTP/1.1\r\nContent-Length: 99999999999999\r\n\r\n")
            .starts_with("HTTP/1.1 413")
    );
    assert!(
        send_raw(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")
            .starts_with("HTTP/1.1 400")
    );
    let mut huge = b"GET / HTTP/1.1\r\nX: ".to_vec();
    huge.extend(std::iter::repeat_n(b'a', 100_000));
    assert!(send_raw(&huge).starts_with("HTTP/1.1 431"));
    // Truncated request and an immediate close: no answer, no crash.
    assert_eq!(
        send_raw(b"POST /x HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc"),
        ""
    );
    assert_eq!(send_raw(b""), "");
    assert_eq!(up.count(), 0);
    get_json(&client(), &format!("{}/still-alive", p.url()));
}

/// Threads of this process whose name mentions the proxy's port.
#[cfg(target_os = "linux")]
fn proxy_threads(port: u16) -> usize {
    let tag = format!("fproxy-{port}-");
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
        .filter(|name| name.starts_with(&tag))
        .count()
}

#[cfg(target_os = "linux")]
#[test]
fn drop_ends_every_proxy_thread() {
    let up = Upstream::start("a");
    let p = FaultProxy::start(up.addr);
    let port = p.addr().port();
    // Held connections of every sort: blackholed, delayed, idle before sending a byte.
    p.push_fault(Fault::Blackhole);
    p.push_fault(Fault::Delay(Duration::from_secs(60)));
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut s = TcpStream::connect(p.addr()).unwrap();
        s.write_all(b"GET /x HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        held.push(s);
    }
    held.push(TcpStream::connect(p.addr()).unwrap());
    let deadline = Instant::now() + Duration::from_secs(2);
    while (p.pending_faults() > 0 || proxy_threads(port) < 4) && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(proxy_threads(port), 4, "one listener and three connections");
    let t = Instant::now();
    drop(p);
    assert!(
        t.elapsed() < Duration::from_secs(1),
        "drop took {:?}",
        t.elapsed()
    );
    assert_eq!(proxy_threads(port), 0);
    assert_eq!(up.count(), 0);
}
