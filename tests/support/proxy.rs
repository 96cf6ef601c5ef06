//! A fault-injecting HTTP/1.1 proxy for the integration tests.
//!
//! It sits between a client and the sync server on 127.0.0.1 and, per request, either
//! forwards faithfully or injects one [`Fault`]: drop the connection before the request
//! reaches the server, drop it after the server answered (so the server applied the
//! request but the client never learns it), cut the response after N bytes, delay, answer
//! an error status itself, or hold the connection without answering.
//!
//! Design: std threads only. One listener thread, one thread per client connection. Every
//! connection carries exactly one request: the proxy forces `Connection: close` both
//! upstream (so the server closes after its answer) and towards the client (so the client
//! reconnects for its next request). Requests and responses are buffered whole in memory,
//! which is fine for test-sized bodies (tens of MB).
//!
//! This file has no dependency on the fieldsync crate; include it with
//! `#[path = "support/proxy.rs"] mod proxy;` or as `support::proxy`.
#![allow(dead_code)]

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// How long a client or upstream read may stay idle before the connection is dropped.
const IDLE_TIMEOUT: Duration = Duration::from_secs(30);
/// How long the proxy waits for the server's answer once the request was sent.
const UPSTREAM_TIMEOUT: Duration = Duration::from_secs(60);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Largest request line or header line, and largest header block.
const MAX_LINE: usize = 16 * 1024;
const MAX_HEAD: usize = 64 * 1024;
/// Largest body the proxy buffers.
const MAX_BODY: u64 = 512 * 1024 * 1024;
/// Granularity at which sleeping or blackholed connections notice that the proxy stops.
const TICK: Duration = Duration::from_millis(20);
/// Upper bound of a random [`FaultKind::Delay`].
const RANDOM_DELAY_MAX_MS: u64 = 100;

/// One fault, applied to one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Read the client's full request, then close the connection without forwarding.
    DropBeforeUpstream,
    /// Forward, read the server's full response (so the server applied the request), then
    /// close the client connection without sending a byte.
    DropAfterUpstream,
    /// Forward, then send only the first `after_bytes` bytes of the response (status line
    /// and headers included) and close.
    CutResponse { after_bytes: usize },
    /// Wait this long before forwarding.
    Delay(Duration),
    /// Answer with this status and a small JSON error body, without forwarding. With
    /// `retry_after`, a `Retry-After: N` header is added.
    Status { code: u16, retry_after: Option<u32> },
    /// Read the request and never answer; the connection is held until the client gives
    /// up or the proxy is dropped.
    Blackhole,
}

impl Fault {
    pub fn kind(&self) -> FaultKind {
        match self {
            Fault::DropBeforeUpstream => FaultKind::DropBeforeUpstream,
            Fault::DropAfterUpstream => FaultKind::DropAfterUpstream,
            Fault::CutResponse { .. } => FaultKind::CutResponse,
            Fault::Delay(_) => FaultKind::Delay,
            Fault::Status { code: 503, .. } => FaultKind::Status503,
            Fault::Status { .. } => FaultKind::Status500,
            Fault::Blackhole => FaultKind::Blackhole,
        }
    }
}

/// The kinds of fault the random mode chooses from. Parameters are drawn from the seed:
/// a cut falls uniformly within the response, a delay is 0..=100 ms, `Status503` carries
/// `Retry-After: 0`. (`Status500` in [`Fault::kind`] stands for any non-503 status.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FaultKind {
    DropBeforeUpstream,
    DropAfterUpstream,
    CutResponse,
    Delay,
    Status500,
    Status503,
    Blackhole,
}

impl FaultKind {
    /// Every kind a client recovers from by itself through retries and timeouts: all but
    /// [`FaultKind::Blackhole`], which costs the client its full request timeout.
    pub const TRANSIENT: &'static [FaultKind] = &[
        FaultKind::DropBeforeUpstream,
        FaultKind::DropAfterUpstream,
        FaultKind::CutResponse,
        FaultKind::Delay,
        FaultKind::Status500,
        FaultKind::Status503,
    ];
}

/// A fault chosen for one request; a random cut is placed once the response length is known.
#[derive(Debug, Clone)]
enum Planned {
    Fixed(Fault),
    CutFraction(f64),
}

struct Queued {
    prefix: Option<String>,
    fault: Fault,
}

struct RandomPlan {
    rng: SplitMix64,
    probability: f64,
    kinds: Vec<FaultKind>,
    prefix: Option<String>,
}

#[derive(Default)]
struct Plan {
    queue: VecDeque<Queued>,
    random: Option<RandomPlan>,
    log: Vec<(String, FaultKind)>,
}

impl Plan {
    fn choose(&mut self, path: &str) -> Option<Planned> {
        let matches =
            |prefix: &Option<String>| prefix.as_deref().is_none_or(|p| path.starts_with(p));
        if let Some(i) = self.queue.iter().position(|q| matches(&q.prefix)) {
            let q = self.queue.remove(i).expect("index from position");
            self.log.push((path.to_string(), q.fault.kind()));
            return Some(Planned::Fixed(q.fault));
        }
        let r = self.random.as_mut()?;
        if !matches(&r.prefix) || r.kinds.is_empty() {
            return None;
        }
        // Always three draws per eligible request, so the sequence depends only on the
        // order of requests.
        let hit = r.rng.next_f64() < r.probability;
        let kind = r.kinds[(r.rng.next_u64() % r.kinds.len() as u64) as usize];
        let param = r.rng.next_f64();
        if !hit {
            return None;
        }
        self.log.push((path.to_string(), kind));
        Some(match kind {
            FaultKind::DropBeforeUpstream => Planned::Fixed(Fault::DropBeforeUpstream),
            FaultKind::DropAfterUpstream => Planned::Fixed(Fault::DropAfterUpstream),
            FaultKind::CutResponse => Planned::CutFraction(param),
            FaultKind::Delay => Planned::Fixed(Fault::Delay(Duration::from_millis(
                (param * (RANDOM_DELAY_MAX_MS + 1) as f64) as u64,
            ))),
            FaultKind::Status500 => Planned::Fixed(Fault::Status {
                code: 500,
                retry_after: None,
            }),
            FaultKind::Status503 => Planned::Fixed(Fault::Status {
                code: 503,
                retry_after: Some(0),
            }),
            FaultKind::Blackhole => Planned::Fixed(Fault::Blackhole),
        })
    }
}

/// A small, stable PRNG (SplitMix64), so a seed means the same thing across dependency
/// upgrades.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[derive(Default)]
struct Registry {
    next_id: u64,
    streams: HashMap<u64, TcpStream>,
    threads: Vec<JoinHandle<()>>,
}

struct Shared {
    upstream: Mutex<SocketAddr>,
    plan: Mutex<Plan>,
    offline: AtomicBool,
    stop: AtomicBool,
    requests_seen: AtomicU64,
    forwarded: AtomicU64,
    faults_injected: AtomicU64,
    refused: AtomicU64,
    upstream_failures: AtomicU64,
    seen_paths: Mutex<HashMap<String, u64>>,
    forwarded_paths: Mutex<HashMap<String, u64>>,
    registry: Mutex<Registry>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panicking connection thread must not take the whole proxy down with it.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Shared {
    /// Registers a socket so that dropping the proxy shuts it down (which unblocks any
    /// read or write on it). Fails once the proxy is stopping.
    fn track(&self, stream: &TcpStream) -> io::Result<Tracked<'_>> {
        let mut reg = lock(&self.registry);
        if self.stop.load(Ordering::SeqCst) {
            return Err(io::Error::other("the proxy is stopping"));
        }
        let id = reg.next_id;
        reg.next_id += 1;
        reg.streams.insert(id, stream.try_clone()?);
        Ok(Tracked { shared: self, id })
    }

    fn stopping(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    /// Sleeps, waking early if the proxy stops. Returns false if it stopped.
    fn sleep(&self, d: Duration) -> bool {
        let until = Instant::now() + d;
        loop {
            if self.stopping() {
                return false;
            }
            let now = Instant::now();
            if now >= until {
                return true;
            }
            thread::sleep((until - now).min(TICK));
        }
    }
}

struct Tracked<'a> {
    shared: &'a Shared,
    id: u64,
}

impl Drop for Tracked<'_> {
    fn drop(&mut self) {
        lock(&self.shared.registry).streams.remove(&self.id);
    }
}

/// The proxy. Dropping it stops the listener and closes every connection it holds.
pub struct FaultProxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
    listener: Option<JoinHandle<()>>,
}

impl FaultProxy {
    /// Listens on `127.0.0.1:0` and forwards to `upstream`.
    pub fn start(upstream: SocketAddr) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the fault proxy");
        let addr = listener.local_addr().expect("fault proxy address");
        let shared = Arc::new(Shared {
            upstream: Mutex::new(upstream),
            plan: Mutex::new(Plan::default()),
            offline: AtomicBool::new(false),
            stop: AtomicBool::new(false),
            requests_seen: AtomicU64::new(0),
            forwarded: AtomicU64::new(0),
            faults_injected: AtomicU64::new(0),
            refused: AtomicU64::new(0),
            upstream_failures: AtomicU64::new(0),
            seen_paths: Mutex::new(HashMap::new()),
            forwarded_paths: Mutex::new(HashMap::new()),
            registry: Mutex::new(Registry::default()),
        });
        let s = Arc::clone(&shared);
        let handle = thread::Builder::new()
            .name(format!("fproxy-{}-a", addr.port()))
            .spawn(move || accept_loop(listener, s))
            .expect("spawn the fault proxy");
        FaultProxy {
            addr,
            shared,
            listener: Some(handle),
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Where requests go from now on (connections already forwarding are not moved).
    pub fn set_upstream(&self, addr: SocketAddr) {
        *lock(&self.shared.upstream) = addr;
    }

    pub fn upstream(&self) -> SocketAddr {
        *lock(&self.shared.upstream)
    }

    /// Queues a one-shot fault for the next request.
    pub fn push_fault(&self, fault: Fault) {
        lock(&self.shared.plan).queue.push_back(Queued {
            prefix: None,
            fault,
        });
    }

    /// Queues a one-shot fault for the next request whose path starts with `prefix`.
    /// Queued faults are consumed in order: each request takes the first one that matches.
    pub fn push_fault_for(&self, prefix: &str, fault: Fault) {
        lock(&self.shared.plan).queue.push_back(Queued {
            prefix: Some(prefix.to_string()),
            fault,
        });
    }

    /// One-shot faults not yet consumed.
    pub fn pending_faults(&self) -> usize {
        lock(&self.shared.plan).queue.len()
    }

    /// Random mode: each request that no queued fault claims gets, with `probability`, a
    /// fault of one of `kinds`. Deterministic for a seed given the same order of requests
    /// (the order in which the proxy finished reading them).
    pub fn set_random(&self, seed: u64, probability: f64, kinds: &[FaultKind]) {
        self.set_random_inner(seed, probability, kinds, None);
    }

    /// Random mode limited to requests whose path starts with `prefix`; other requests do
    /// not advance the random sequence.
    pub fn set_random_for(&self, prefix: &str, seed: u64, probability: f64, kinds: &[FaultKind]) {
        self.set_random_inner(seed, probability, kinds, Some(prefix.to_string()));
    }

    fn set_random_inner(
        &self,
        seed: u64,
        probability: f64,
        kinds: &[FaultKind],
        prefix: Option<String>,
    ) {
        lock(&self.shared.plan).random = Some(RandomPlan {
            rng: SplitMix64(seed),
            probability: probability.clamp(0.0, 1.0),
            kinds: kinds.to_vec(),
            prefix,
        });
    }

    /// Drops queued faults and random mode: from now on every request is forwarded
    /// faithfully. Counters, the fault log and the offline switch are kept.
    pub fn clear(&self) {
        let mut plan = lock(&self.shared.plan);
        plan.queue.clear();
        plan.random = None;
    }

    /// While offline, every new connection is closed as soon as it is accepted.
    pub fn set_offline(&self, offline: bool) {
        self.shared.offline.store(offline, Ordering::SeqCst);
    }

    /// Requests read in full from clients (faulted or not).
    pub fn requests_seen(&self) -> u64 {
        self.shared.requests_seen.load(Ordering::SeqCst)
    }

    /// Requests written in full to the server.
    pub fn forwarded(&self) -> u64 {
        self.shared.forwarded.load(Ordering::SeqCst)
    }

    /// Requests read in full whose path (query excluded) starts with `prefix`, faulted or
    /// not: e.g. every push attempt a client made, `seen_to("/v1/push")`.
    pub fn seen_to(&self, prefix: &str) -> u64 {
        count_prefix(&self.shared.seen_paths, prefix)
    }

    /// Requests written in full to the server whose path (query excluded) starts with
    /// `prefix`, e.g. `forwarded_to("/v1/push")`.
    pub fn forwarded_to(&self, prefix: &str) -> u64 {
        count_prefix(&self.shared.forwarded_paths, prefix)
    }

    /// Faults applied (queued or random).
    pub fn faults_injected(&self) -> u64 {
        self.shared.faults_injected.load(Ordering::SeqCst)
    }

    /// Connections closed at accept because the proxy was offline.
    pub fn refused(&self) -> u64 {
        self.shared.refused.load(Ordering::SeqCst)
    }

    /// Requests the server could not be reached for (answered 502) or that broke while
    /// talking to it (client connection closed without an answer).
    pub fn upstream_failures(&self) -> u64 {
        self.shared.upstream_failures.load(Ordering::SeqCst)
    }

    /// Every fault chosen so far, in order, with the path (query excluded) it hit.
    pub fn fault_log(&self) -> Vec<(String, FaultKind)> {
        lock(&self.shared.plan).log.clone()
    }
}

impl fmt::Debug for FaultProxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FaultProxy")
            .field("addr", &self.addr)
            .field("upstream", &self.upstream())
            .field("requests_seen", &self.requests_seen())
            .field("forwarded", &self.forwarded())
            .field("faults_injected", &self.faults_injected())
            .finish()
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        let threads = {
            let mut reg = lock(&self.shared.registry);
            self.shared.stop.store(true, Ordering::SeqCst);
            for s in reg.streams.values() {
                let _ = s.shutdown(Shutdown::Both);
            }
            std::mem::take(&mut reg.threads)
        };
        // Wake the blocking accept.
        let woke = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1)).is_ok();
        if let Some(h) = self.listener.take() {
            if woke || h.is_finished() {
                let _ = h.join();
            }
        }
        let mut threads = threads;
        threads.append(&mut lock(&self.shared.registry).threads);
        // Every socket is shut down and every sleep checks the flag, so these end at once;
        // bound the wait anyway rather than hang a test.
        let deadline = Instant::now() + Duration::from_secs(5);
        for h in threads {
            while !h.is_finished() && Instant::now() < deadline {
                thread::sleep(Duration::from_millis(2));
            }
            if h.is_finished() {
                let _ = h.join();
            }
        }
    }
}

fn count_prefix(map: &Mutex<HashMap<String, u64>>, prefix: &str) -> u64 {
    lock(map)
        .iter()
        .filter(|(p, _)| p.starts_with(prefix))
        .map(|(_, n)| n)
        .sum()
}

/// Threads are named `fproxy-PORT-a` (listener) and `fproxy-PORT-c` (connections), short
/// enough for Linux's 15-byte thread names, so a test can look for leftovers.
fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
    loop {
        let accepted = listener.accept();
        if shared.stopping() {
            return;
        }
        let stream = match accepted {
            Ok((s, _)) => s,
            Err(_) => {
                // EMFILE and friends: back off instead of spinning.
                thread::sleep(Duration::from_millis(10));
                continue;
            }
        };
        if shared.offline.load(Ordering::SeqCst) {
            shared.refused.fetch_add(1, Ordering::SeqCst);
            let _ = stream.shutdown(Shutdown::Both);
            drop(stream);
            continue;
        }
        let s = Arc::clone(&shared);
        let spawned = thread::Builder::new()
            .name(format!("fproxy-{}-c", port))
            .spawn(move || {
                let _ = handle_connection(stream, &s);
            });
        if let Ok(h) = spawned {
            let mut reg = lock(&shared.registry);
            reg.threads.retain(|t| !t.is_finished());
            reg.threads.push(h);
        }
    }
}

/// A parsed HTTP message head plus its raw body bytes (still in their transfer encoding).
struct Message {
    /// Request line or status line, without the line ending.
    start: String,
    /// Header lines as (name, value), in order.
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Message {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn is_chunked(&self) -> bool {
        self.headers.iter().any(|(n, v)| {
            n.eq_ignore_ascii_case("transfer-encoding")
                && v.split(',')
                    .any(|t| t.trim().eq_ignore_ascii_case("chunked"))
        })
    }

    /// Serialises with every hop-by-hop header in `drop` removed and `Connection: close` added.
    fn to_bytes(&self, drop: &[&str]) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.body.len() + 512);
        out.extend_from_slice(self.start.as_bytes());
        out.extend_from_slice(b"\r\n");
        for (n, v) in &self.headers {
            if drop.iter().any(|d| n.eq_ignore_ascii_case(d)) {
                continue;
            }
            out.extend_from_slice(n.as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(v.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"Connection: close\r\n\r\n");
        out.extend_from_slice(&self.body);
        out
    }
}

const HOP_BY_HOP: &[&str] = &["connection", "keep-alive", "proxy-connection", "expect"];

#[derive(Debug)]
enum BadInput {
    Io(io::Error),
    /// Malformed or oversized; answer with this status.
    Reject(u16),
}

impl From<io::Error> for BadInput {
    fn from(e: io::Error) -> Self {
        BadInput::Io(e)
    }
}

/// Reads one line ending in `\n` (the ending excluded, a trailing `\r` too), at most `max`
/// bytes. `Ok(None)` at EOF before any byte.
fn read_line(r: &mut impl BufRead, max: usize) -> Result<Option<Vec<u8>>, BadInput> {
    let mut line = Vec::new();
    loop {
        let buf = r.fill_buf()?;
        if buf.is_empty() {
            if line.is_empty() {
                return Ok(None);
            }
            return Err(BadInput::Io(io::ErrorKind::UnexpectedEof.into()));
        }
        let (take, done) = match buf.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, true),
            None => (buf.len(), false),
        };
        line.extend_from_slice(&buf[..take]);
        r.consume(take);
        if line.len() > max {
            return Err(BadInput::Reject(431));
        }
        if done {
            line.pop();
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            return Ok(Some(line));
        }
    }
}

/// Reads a start line and headers. `Ok(None)` if the peer closed before sending anything.
fn read_head(r: &mut impl BufRead) -> Result<Option<Message>, BadInput> {
    let mut start = match read_line(r, MAX_LINE)? {
        Some(l) => l,
        None => return Ok(None),
    };
    // Tolerate stray empty lines before a request (RFC 9112 §2.2).
    let mut blanks = 0;
    while start.is_empty() {
        blanks += 1;
        if blanks > 8 {
            return Err(BadInput::Reject(400));
        }
        start = read_line(r, MAX_LINE)?.ok_or(BadInput::Reject(400))?;
    }
    let start = String::from_utf8(start).map_err(|_| BadInput::Reject(400))?;
    let mut headers = Vec::new();
    let mut total = start.len();
    loop {
        let line =
            read_line(r, MAX_LINE)?.ok_or(BadInput::Io(io::ErrorKind::UnexpectedEof.into()))?;
        if line.is_empty() {
            break;
        }
        total += line.len();
        if total > MAX_HEAD {
            return Err(BadInput::Reject(431));
        }
        let line = String::from_utf8(line).map_err(|_| BadInput::Reject(400))?;
        let (name, value) = line.split_once(':').ok_or(BadInput::Reject(400))?;
        let name = name.trim();
        if name.is_empty() || name.contains(char::is_whitespace) {
            return Err(BadInput::Reject(400));
        }
        headers.push((name.to_string(), value.trim().to_string()));
    }
    Ok(Some(Message {
        start,
        headers,
        body: Vec::new(),
    }))
}

/// `Content-Length`, if any; conflicting or malformed values are rejected.
fn content_length(m: &Message) -> Result<Option<u64>, BadInput> {
    let mut found: Option<u64> = None;
    for (n, v) in &m.headers {
        if !n.eq_ignore_ascii_case("content-length") {
            continue;
        }
        for part in v.split(',') {
            let len: u64 = part.trim().parse().map_err(|_| BadInput::Reject(400))?;
            if found.is_some_and(|f| f != len) {
                return Err(BadInput::Reject(400));
            }
            found = Some(len);
        }
    }
    if found.is_some_and(|l| l > MAX_BODY) {
        return Err(BadInput::Reject(413));
    }
    Ok(found)
}

fn read_exact_body(r: &mut impl Read, len: u64, out: &mut Vec<u8>) -> Result<(), BadInput> {
    // Do not trust the length for the allocation; grow as bytes arrive.
    out.reserve(len.min(1 << 20) as usize);
    let got = r.take(len).read_to_end(out)?;
    if (got as u64) < len {
        return Err(BadInput::Io(io::ErrorKind::UnexpectedEof.into()));
    }
    Ok(())
}

/// Reads a chunked body, keeping its raw bytes (sizes, extensions and trailers included).
fn read_chunked_body(r: &mut impl BufRead, out: &mut Vec<u8>) -> Result<(), BadInput> {
    let eof = || BadInput::Io(io::ErrorKind::UnexpectedEof.into());
    loop {
        let line = read_line(r, MAX_LINE)?.ok_or_else(eof)?;
        let size_text = std::str::from_utf8(&line).map_err(|_| BadInput::Reject(400))?;
        let size_text = size_text.split(';').next().unwrap_or("").trim();
        let size = u64::from_str_radix(size_text, 16).map_err(|_| BadInput::Reject(400))?;
        out.extend_from_slice(&line);
        out.extend_from_slice(b"\r\n");
        if size == 0 {
            // Trailers, up to the empty line.
            loop {
                let t = read_line(r, MAX_LINE)?.ok_or_else(eof)?;
                out.extend_from_slice(&t);
                out.extend_from_slice(b"\r\n");
                if t.is_empty() {
                    return Ok(());
                }
                if out.len() as u64 > MAX_BODY {
                    return Err(BadInput::Reject(413));
                }
            }
        }
        if out.len() as u64 + size > MAX_BODY {
            return Err(BadInput::Reject(413));
        }
        read_exact_body(r, size, out)?;
        let end = read_line(r, 2)?.ok_or_else(eof)?;
        if !end.is_empty() {
            return Err(BadInput::Reject(400));
        }
        out.extend_from_slice(b"\r\n");
    }
}

/// Reads a full request from the client.
fn read_request(r: &mut impl BufRead, client: &mut TcpStream) -> Result<Option<Message>, BadInput> {
    let Some(mut m) = read_head(r)? else {
        return Ok(None);
    };
    let mut parts = m.start.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(BadInput::Reject(400));
    };
    if method.is_empty() || target.is_empty() || !version.starts_with("HTTP/1.") {
        return Err(BadInput::Reject(400));
    }
    if m.header("expect")
        .is_some_and(|v| v.eq_ignore_ascii_case("100-continue"))
    {
        client.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
    }
    let mut body = Vec::new();
    if m.is_chunked() {
        read_chunked_body(r, &mut body)?;
    } else if let Some(len) = content_length(&m)? {
        read_exact_body(r, len, &mut body)?;
    }
    m.body = body;
    Ok(Some(m))
}

/// Reads the server's full response to a request made with `method`.
fn read_response(r: &mut impl BufRead, method: &str) -> Result<Message, BadInput> {
    loop {
        let mut m = read_head(r)?.ok_or(BadInput::Io(io::ErrorKind::UnexpectedEof.into()))?;
        let code: u16 = m
            .start
            .split(' ')
            .nth(1)
            .and_then(|c| c.parse().ok())
            .ok_or(BadInput::Reject(502))?;
        if (100..200).contains(&code) && code != 101 {
            continue; // interim response; the final one follows
        }
        let mut body = Vec::new();
        if method.eq_ignore_ascii_case("HEAD") || code == 204 || code == 304 || code == 101 {
            // no body
        } else if m.is_chunked() {
            read_chunked_body(r, &mut body)?;
        } else if let Some(len) = content_length(&m)? {
            read_exact_body(r, len, &mut body)?;
        } else {
            // Delimited by the end of the connection.
            r.take(MAX_BODY).read_to_end(&mut body)?;
        }
        m.body = body;
        return Ok(m);
    }
}

fn reason(code: u16) -> &'static str {
    match code {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        408 => "Request Timeout",
        413 => "Payload Too Large",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Injected",
    }
}

/// A complete response made up by the proxy.
fn own_response(code: u16, retry_after: Option<u32>, error_code: &str, message: &str) -> Vec<u8> {
    let body = format!(r#"{{"error":{{"code":"{error_code}","message":"{message}"}}}}"#);
    let mut head = format!(
        "HTTP/1.1 {code} {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
        reason(code),
        body.len()
    );
    if let Some(s) = retry_after {
        head.push_str(&format!("Retry-After: {s}\r\n"));
    }
    head.push_str("Connection: close\r\n\r\n");
    let mut out = head.into_bytes();
    out.extend_from_slice(body.as_bytes());
    out
}

fn injected_status(code: u16, retry_after: Option<u32>) -> Vec<u8> {
    let error_code = if code == 500 {
        "internal"
    } else {
        "overloaded"
    };
    own_response(code, retry_after, error_code, "injected by the fault proxy")
}

fn handle_connection(mut client: TcpStream, shared: &Shared) -> io::Result<()> {
    let _tracked = shared.track(&client)?;
    client.set_read_timeout(Some(IDLE_TIMEOUT))?;
    client.set_write_timeout(Some(IDLE_TIMEOUT))?;
    let _ = client.set_nodelay(true);
    let mut reader = BufReader::with_capacity(64 * 1024, client.try_clone()?);

    let request = match read_request(&mut reader, &mut client) {
        Ok(Some(r)) => r,
        Ok(None) => return Ok(()),
        Err(BadInput::Io(e)) => return Err(e),
        Err(BadInput::Reject(code)) => {
            let resp = own_response(
                code,
                None,
                "bad_request",
                "the fault proxy could not parse the request",
            );
            let _ = client.write_all(&resp);
            return close(client);
        }
    };
    shared.requests_seen.fetch_add(1, Ordering::SeqCst);
    let target = request.start.split(' ').nth(1).unwrap_or("/");
    let path = target.split(['?', '#']).next().unwrap_or("").to_string();
    let method = request.start.split(' ').next().unwrap_or("GET").to_string();
    *lock(&shared.seen_paths).entry(path.clone()).or_insert(0) += 1;

    let planned = lock(&shared.plan).choose(&path);
    if planned.is_some() {
        shared.faults_injected.fetch_add(1, Ordering::SeqCst);
    }

    // Faults that never reach the server.
    match &planned {
        Some(Planned::Fixed(Fault::DropBeforeUpstream)) => return close(client),
        Some(Planned::Fixed(Fault::Status { code, retry_after })) => {
            let _ = client.write_all(&injected_status(*code, *retry_after));
            return close(client);
        }
        Some(Planned::Fixed(Fault::Blackhole)) => {
            hold(&mut client, shared);
            return close(client);
        }
        // A delay interrupted by the proxy stopping forwards nothing.
        Some(Planned::Fixed(Fault::Delay(d))) if !shared.sleep(*d) => return close(client),
        _ => {}
    }

    // Forward.
    let upstream_addr = *lock(&shared.upstream);
    let mut upstream = match TcpStream::connect_timeout(&upstream_addr, CONNECT_TIMEOUT) {
        Ok(s) => s,
        Err(e) => {
            shared.upstream_failures.fetch_add(1, Ordering::SeqCst);
            let msg = format!("the fault proxy cannot reach the server: {e}").replace('"', "'");
            let _ = client.write_all(&own_response(502, None, "bad_gateway", &msg));
            return close(client);
        }
    };
    let _tracked_up = shared.track(&upstream)?;
    upstream.set_read_timeout(Some(UPSTREAM_TIMEOUT))?;
    upstream.set_write_timeout(Some(UPSTREAM_TIMEOUT))?;
    let _ = upstream.set_nodelay(true);
    let bytes = request.to_bytes(HOP_BY_HOP);
    if let Err(e) = upstream.write_all(&bytes).and_then(|_| upstream.flush()) {
        shared.upstream_failures.fetch_add(1, Ordering::SeqCst);
        let _ = close(client);
        return Err(e);
    }
    shared.forwarded.fetch_add(1, Ordering::SeqCst);
    *lock(&shared.forwarded_paths).entry(path).or_insert(0) += 1;

    let mut up_reader = BufReader::with_capacity(64 * 1024, upstream.try_clone()?);
    let response = match read_response(&mut up_reader, &method) {
        Ok(r) => r,
        Err(_) => {
            // The server may have applied the request; the client learns nothing.
            shared.upstream_failures.fetch_add(1, Ordering::SeqCst);
            return close(client);
        }
    };
    let _ = upstream.shutdown(Shutdown::Both);
    let bytes = response.to_bytes(&["connection", "keep-alive"]);

    match planned {
        Some(Planned::Fixed(Fault::DropAfterUpstream)) => {}
        Some(Planned::Fixed(Fault::CutResponse { after_bytes })) => {
            let _ = client.write_all(&bytes[..after_bytes.min(bytes.len())]);
        }
        Some(Planned::CutFraction(f)) => {
            let n = ((bytes.len() as f64) * f) as usize;
            let _ = client.write_all(&bytes[..n.min(bytes.len().saturating_sub(1))]);
        }
        _ => {
            client.write_all(&bytes)?;
        }
    }
    close(client)
}

/// Holds a connection without answering until the client closes it or the proxy stops.
fn hold(client: &mut TcpStream, shared: &Shared) {
    if client.set_read_timeout(Some(TICK)).is_err() {
        return;
    }
    let mut sink = [0u8; 4096];
    while !shared.stopping() {
        match client.read(&mut sink) {
            Ok(0) => return,
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) => {}
            Err(_) => return,
        }
    }
}

/// Closes the client connection in an orderly way (FIN, not RST): the write side first, then
/// briefly drain anything the client still sends so the kernel does not reset the
/// connection over unread bytes.
fn close(mut client: TcpStream) -> io::Result<()> {
    let _ = client.flush();
    let _ = client.shutdown(Shutdown::Write);
    let _ = client.set_read_timeout(Some(Duration::from_millis(50)));
    let mut sink = [0u8; 4096];
    let mut c = &client;
    for _ in 0..16 {
        match c.read(&mut sink) {
            Ok(n) if n > 0 => continue,
            _ => break,
        }
    }
    Ok(())
}
