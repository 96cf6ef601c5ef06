//! HTTP to the sync server: bearer token, gzip both ways, timeouts, and retries of transient
//! failures with exponential backoff and full jitter, honouring `Retry-After`.
//!
//! What is transient: a connection that could not be made or broke, a timeout, 5xx, 429.
//! Everything else (401, other 4xx, an answer that does not parse, a refused server
//! certificate) is final for this sync.
//!
//! Trust: the bundled webpki roots, the operating system's store, and the organisation's
//! certificate authority when the config names one ([`Transport::with_ca`]).
//!
//! It implements [`Remote`] and must not know the local store, the sync rules or the
//! command line: it moves protocol values and reports [`RemoteError`]s.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use rand::Rng;
use reqwest::blocking::{Client, Response};
use reqwest::header::{
    HeaderMap, ACCEPT_ENCODING, AUTHORIZATION, CONTENT_ENCODING, CONTENT_TYPE, RETRY_AFTER,
};
use reqwest::StatusCode;
use serde::de::DeserializeOwned;

use uuid::Uuid;

use super::error::{Error, Result};
use super::remote::{PullAsk, Remote, RemoteError, Traffic};
use super::tls;
use crate::protocol::{
    ErrorBody, ErrorCode, HealthResponse, KnownForms, PullResponse, PushRequest, PushResponse,
    HEADER_DEVICE, HEADER_FORMS, HEADER_NO_ECHO, HEADER_SEEN, PATH_HEALTH, PATH_PULL, PATH_PUSH,
};

/// Retry and timeout settings.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Attempts per request, the first included.
    pub attempts: u32,
    /// First backoff ceiling; doubles each retry.
    pub base: Duration,
    /// Largest wait between two attempts (also caps `Retry-After`).
    pub max_delay: Duration,
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 5,
            base: Duration::from_millis(250),
            max_delay: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            request_timeout: DEFAULT_TIMEOUT,
        }
    }
}

/// How long one request may take, from connecting to the last byte of the answer, unless
/// the officer says otherwise (`--timeout`).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

impl RetryPolicy {
    /// The default policy with `attempts` per request and `timeout` for each (the connect
    /// timeout is never longer than it).
    pub fn new(attempts: u32, timeout: Duration) -> RetryPolicy {
        let default = RetryPolicy::default();
        RetryPolicy {
            attempts,
            connect_timeout: default.connect_timeout.min(timeout),
            request_timeout: timeout,
            ..default
        }
    }
}

/// Told when a request starts and when its answer is in (or it failed), so that a person at
/// a terminal sees what the program waits for. `what` names the request
/// ("checking the server", "sending 100 changes", "pulling changes"). `Send`: pushes are
/// sent from the push pipeline's sender thread.
pub trait Waiting: Send {
    fn started(&self, what: &str);
    fn finished(&self);
}

/// A connection to one sync server as one officer.
pub struct Transport {
    client: Client,
    base: String,
    token: String,
    policy: RetryPolicy,
    pub traffic: Traffic,
    waiting: Option<Box<dyn Waiting>>,
}

/// A failed attempt: retry it or give up.
enum Attempt {
    Transient { why: String, wait: Option<Duration> },
    Final(RemoteError),
}

/// Is `url` plain http to somewhere other than this machine?
fn insecure_remote(url: &reqwest::Url) -> bool {
    if url.scheme() != "http" {
        return false;
    }
    match url.host() {
        Some(url::Host::Domain(d)) => d != "localhost",
        Some(url::Host::Ipv4(ip)) => !ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => !ip.is_loopback(),
        None => true,
    }
}

impl Transport {
    /// A transport that trusts the bundled roots and the operating system's store.
    pub fn new(
        server: &str,
        token: &str,
        allow_insecure_http: bool,
        policy: RetryPolicy,
    ) -> Result<Transport> {
        Transport::with_ca(server, token, allow_insecure_http, policy, None)
    }

    /// Like [`Transport::new`], also trusting the certificates of `ca_pem` (an
    /// organisation's own certificate authority, PEM).
    pub fn with_ca(
        server: &str,
        token: &str,
        allow_insecure_http: bool,
        policy: RetryPolicy,
        ca_pem: Option<&[u8]>,
    ) -> Result<Transport> {
        let url = reqwest::Url::parse(server).map_err(|e| Error::BadServerUrl {
            server: server.to_string(),
            reason: e.to_string(),
        })?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(Error::Config(format!(
                "server URL {server:?} must start with https:// (or http:// for this machine)"
            )));
        }
        if insecure_remote(&url) && !allow_insecure_http {
            return Err(Error::InsecureHttp {
                server: server.to_string(),
            });
        }
        let mut builder = Client::builder()
            .user_agent(concat!("fieldsync/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(policy.connect_timeout)
            .timeout(policy.request_timeout)
            .no_gzip();
        if let Some(pem) = ca_pem {
            let certs = reqwest::Certificate::from_pem_bundle(pem).map_err(|e| {
                Error::Config(format!("the certificate authority file is not usable: {e}"))
            })?;
            for cert in certs {
                builder = builder.add_root_certificate(cert);
            }
        }
        let client = builder
            .build()
            .map_err(|e| Error::Config(format!("cannot set up HTTPS: {e}")))?;
        Ok(Transport {
            client,
            base: server.trim_end_matches('/').to_string(),
            token: token.to_string(),
            policy,
            traffic: Traffic::default(),
            waiting: None,
        })
    }

    /// Reports every request to `waiting` while it is in flight.
    pub fn with_waiting(mut self, waiting: Box<dyn Waiting>) -> Transport {
        self.waiting = Some(waiting);
        self
    }

    /// Sends a request, retrying transient failures within the policy.
    fn request<T: DeserializeOwned>(
        &mut self,
        policy: &RetryPolicy,
        what: &str,
        build: impl Fn() -> reqwest::blocking::RequestBuilder,
    ) -> Result<T, RemoteError> {
        let mut last = String::new();
        for attempt in 0..policy.attempts.max(1) {
            let started = Instant::now();
            if let Some(w) = &self.waiting {
                w.started(what);
            }
            let sent = build()
                .header(AUTHORIZATION, format!("Bearer {}", self.token))
                .header(ACCEPT_ENCODING, "gzip")
                .send();
            self.traffic.requests += 1;
            let outcome = match sent {
                Ok(resp) => self.read(resp, policy),
                Err(e) => Err(self.failed(&e, policy)),
            };
            if let Some(w) = &self.waiting {
                w.finished();
            }
            match outcome {
                Ok(v) => return Ok(v),
                Err(Attempt::Final(e)) => return Err(e),
                Err(Attempt::Transient { why, wait }) => {
                    tracing::debug!(attempt, ?why, elapsed = ?started.elapsed(), "transient failure");
                    last = why;
                    if attempt + 1 < policy.attempts {
                        std::thread::sleep(backoff(policy, attempt, wait));
                    }
                }
            }
        }
        Err(RemoteError::Offline(last))
    }

    /// A request that got no answer: a refused certificate is final, anything else transient.
    fn failed(&self, e: &reqwest::Error, policy: &RetryPolicy) -> Attempt {
        match tls::classify(e) {
            Some(problem) => Attempt::Final(RemoteError::Certificate {
                server: self.base.clone(),
                problem,
            }),
            None => Attempt::Transient {
                why: describe(e, policy),
                wait: None,
            },
        }
    }

    fn read<T: DeserializeOwned>(
        &mut self,
        resp: Response,
        policy: &RetryPolicy,
    ) -> Result<T, Attempt> {
        let status = resp.status();
        let headers = resp.headers().clone();
        let mut raw = Vec::new();
        let mut resp = resp;
        if let Err(e) = resp.read_to_end(&mut raw) {
            let why = if is_timeout(&e) {
                stalled(policy)
            } else {
                format!("the connection broke while reading the answer: {e}")
            };
            return Err(Attempt::Transient { why, wait: None });
        }
        self.traffic.bytes_received += raw.len() as u64;
        let body = match decode(&headers, raw) {
            Ok(b) => b,
            Err(why) => return Err(Attempt::Transient { why, wait: None }),
        };
        if status.is_success() {
            return serde_json::from_slice(&body).map_err(|e| {
                Attempt::Final(RemoteError::Protocol(format!(
                    "the server's answer does not parse ({e}); is the configured server a fieldsync server?"
                )))
            });
        }
        let api: Option<ErrorBody> = serde_json::from_slice(&body).ok();
        let message = api
            .as_ref()
            .map(|b| b.error.to_string())
            .unwrap_or_else(|| format!("HTTP {status}"));
        if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
            return Err(Attempt::Transient {
                why: format!("the server is busy or failing: {message}"),
                wait: retry_after(&headers),
            });
        }
        if status == StatusCode::UNAUTHORIZED {
            return Err(Attempt::Final(RemoteError::Unauthorized(
                "the server refused this device's token (wrong or revoked). Nothing was lost"
                    .into(),
            )));
        }
        if api.as_ref().map(|b| b.error.code) == Some(ErrorCode::ResyncRequired) {
            return Err(Attempt::Final(RemoteError::ResyncRequired));
        }
        if let Some(e) = api.as_ref().map(|b| &b.error) {
            if let (ErrorCode::ServerBehind, Some(v)) = (e.code, e.server_version) {
                return Err(Attempt::Final(RemoteError::ServerBehind {
                    server_version: v,
                }));
            }
        }
        Err(Attempt::Final(RemoteError::Rejected {
            status: status.as_u16(),
            code: api.map(|b| b.error.code),
            message,
        }))
    }
}

impl Remote for Transport {
    /// `GET /v1/health`, not retried.
    fn health(&mut self) -> Result<HealthResponse, RemoteError> {
        let url = format!("{}{PATH_HEALTH}", self.base);
        let policy = RetryPolicy {
            attempts: 1,
            ..self.policy.clone()
        };
        let client = self.client.clone();
        self.request(&policy, "checking the server", || client.get(&url))
    }

    fn push(&mut self, req: &PushRequest, seen: Option<i64>) -> Result<PushResponse, RemoteError> {
        let body = gzip_json(req)?;
        let url = format!("{}{PATH_PUSH}", self.base);
        let policy = self.policy.clone();
        let sent = body.len() as u64;
        let client = self.client.clone();
        let what = match req.changes.len() {
            1 => "sending 1 change".to_string(),
            n => format!("sending {n} changes"),
        };
        let resp = self.request(&policy, &what, || {
            let post = client
                .post(&url)
                .header(CONTENT_TYPE, "application/json")
                .header(CONTENT_ENCODING, "gzip")
                // The sync engine applies every stamp the server sends (issue 14).
                .header(HEADER_NO_ECHO, "1")
                .body(body.clone());
            match seen {
                Some(v) => post.header(HEADER_SEEN, v.to_string()),
                None => post,
            }
        });
        self.traffic.bytes_sent += sent;
        resp
    }

    fn pull(&mut self, ask: &PullAsk<'_>) -> Result<PullResponse, RemoteError> {
        let forms = ask.known.map(KnownForms::to_header);
        self.pull_request(ask.cursor, ask.limit, forms, ask.seen, ask.device)
    }

    fn traffic(&self) -> Traffic {
        self.traffic
    }
}

impl Transport {
    /// `GET /v1/pull`, with the `fieldsync-forms` header when `forms` is given, the
    /// `fieldsync-seen` header when `seen` is, and the `fieldsync-device` header when `device` is.
    fn pull_request(
        &mut self,
        cursor: Option<&str>,
        limit: u32,
        forms: Option<String>,
        seen: Option<i64>,
        device: Option<Uuid>,
    ) -> Result<PullResponse, RemoteError> {
        let mut url = reqwest::Url::parse(&format!("{}{PATH_PULL}", self.base))
            .map_err(|e| RemoteError::Protocol(format!("bad pull URL: {e}")))?;
        url.query_pairs_mut()
            .append_pair("limit", &limit.to_string());
        if let Some(c) = cursor {
            url.query_pairs_mut().append_pair("cursor", c);
        }
        let policy = self.policy.clone();
        let client = self.client.clone();
        self.request(&policy, "pulling changes", || {
            let mut get = client.get(url.clone());
            if let Some(h) = &forms {
                get = get.header(HEADER_FORMS, h.as_str());
            }
            if let Some(d) = device {
                get = get.header(HEADER_DEVICE, d.to_string());
            }
            match seen {
                Some(v) => get.header(HEADER_SEEN, v.to_string()),
                None => get,
            }
        })
    }
}

/// A request body: JSON, gzip-compressed.
fn gzip_json(v: &impl serde::Serialize) -> Result<Vec<u8>, RemoteError> {
    let json = serde_json::to_vec(v)
        .map_err(|e| RemoteError::Protocol(format!("cannot encode the request: {e}")))?;
    let mut enc = GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let compressed = enc.write_all(&json).and_then(|()| enc.finish());
    compressed.map_err(|e| RemoteError::Protocol(format!("cannot compress the request: {e}")))
}

fn describe(e: &reqwest::Error, policy: &RetryPolicy) -> String {
    if e.is_timeout() {
        stalled(policy)
    } else if e.is_connect() {
        "cannot connect to the server".into()
    } else {
        format!("the connection failed: {e}")
    }
}

/// A request that got no (whole) answer in time.
fn stalled(policy: &RetryPolicy) -> String {
    format!(
        "the server did not answer within {} s (`--timeout` sets how long to wait)",
        policy.request_timeout.as_secs_f64()
    )
}

/// Did reading the answer fail because the request's time ran out?
fn is_timeout(e: &std::io::Error) -> bool {
    if e.kind() == std::io::ErrorKind::TimedOut {
        return true;
    }
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        if s.downcast_ref::<reqwest::Error>()
            .is_some_and(reqwest::Error::is_timeout)
        {
            return true;
        }
        source = s.source();
    }
    false
}

fn decode(headers: &HeaderMap, raw: Vec<u8>) -> std::result::Result<Vec<u8>, String> {
    let gz = headers
        .get(CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("gzip"));
    if !gz {
        return Ok(raw);
    }
    let mut out = Vec::new();
    GzDecoder::new(&raw[..])
        .read_to_end(&mut out)
        .map_err(|e| format!("the answer was cut off or damaged: {e}"))?;
    Ok(out)
}

fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let v = headers.get(RETRY_AFTER)?.to_str().ok()?;
    v.trim().parse::<u64>().ok().map(Duration::from_secs)
}

/// Full jitter: a random wait up to `base * 2^attempt` (capped), or the server's
/// `Retry-After` (capped) plus a little jitter so a fleet does not return in lockstep.
fn backoff(policy: &RetryPolicy, attempt: u32, retry_after: Option<Duration>) -> Duration {
    let mut rng = rand::thread_rng();
    if let Some(wait) = retry_after {
        let jitter = Duration::from_millis(rng.gen_range(0..=250));
        return (wait + jitter).min(policy.max_delay);
    }
    let ceiling = policy
        .base
        .saturating_mul(2u32.saturating_pow(attempt))
        .min(policy.max_delay);
    Duration::from_micros(rng.gen_range(0..=ceiling.as_micros() as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_is_only_for_this_machine() {
        let p = |s| insecure_remote(&reqwest::Url::parse(s).unwrap());
        assert!(!p("http://127.0.0.1:8080"));
        assert!(!p("http://localhost:1"));
        assert!(!p("http://[::1]:1"));
        assert!(!p("https://sync.example.org"));
        assert!(p("http://sync.example.org"));
        assert!(p("http://10.0.0.5"));
    }

    #[test]
    fn backoff_stays_within_its_ceiling_and_honours_retry_after() {
        let policy = RetryPolicy::default();
        for attempt in 0..10 {
            let d = backoff(&policy, attempt, None);
            assert!(d <= policy.max_delay);
            assert!(d <= policy.base * 2u32.pow(attempt.min(20)));
        }
        let d = backoff(&policy, 0, Some(Duration::from_secs(2)));
        assert!(d >= Duration::from_secs(2) && d <= Duration::from_millis(2250));
        let capped = backoff(&policy, 0, Some(Duration::from_secs(3600)));
        assert_eq!(capped, policy.max_delay);
    }
}
