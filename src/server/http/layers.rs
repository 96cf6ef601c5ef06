//! The layers around every request: the request id (a `request{id=…}` span over every log
//! line of the request, and the `x-request-id` response header), the per-request log line
//! and the bound on requests in flight. They must not look into bodies or decide anything
//! about sync, and log no record content (names, notes, answers) and no token.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tracing::Instrument;

use crate::protocol::{ChangeStatus, PushResponse};

use super::error::Failure;
use super::AppState;

/// What the log line of a request reports besides method, path, status and duration. The
/// log layer puts an empty one in the request's extensions; extractors and handlers fill it.
#[derive(Debug, Clone, Default)]
pub struct LogInfo(Arc<Mutex<LogFields>>);

#[derive(Debug, Clone, Default)]
struct LogFields {
    officer: Option<String>,
    changes: Option<usize>,
    outcomes: Option<Outcomes>,
}

/// How a push's changes ended, for its log line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Outcomes {
    /// Accepted without merging.
    pub accepted: usize,
    /// Accepted and merged with other devices' edits.
    pub merged: usize,
    pub conflict: usize,
    pub rejected: usize,
}

impl Outcomes {
    /// Counts the results of a push.
    pub fn of(resp: &PushResponse) -> Outcomes {
        let mut o = Outcomes::default();
        for r in &resp.results {
            match r.status {
                ChangeStatus::Accepted if r.merged => o.merged += 1,
                ChangeStatus::Accepted => o.accepted += 1,
                ChangeStatus::Conflict => o.conflict += 1,
                ChangeStatus::Rejected => o.rejected += 1,
            }
        }
        o
    }
}

impl LogInfo {
    fn fields(&self) -> std::sync::MutexGuard<'_, LogFields> {
        // Only plain values are written under the lock: a poisoned one is still consistent.
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The authenticated officer.
    pub fn officer(&self, id: &str) {
        self.fields().officer = Some(id.to_string());
    }

    /// How many changes were pushed or records pulled.
    pub fn changes(&self, n: usize) {
        self.fields().changes = Some(n);
    }

    /// How a push's changes ended.
    pub fn outcomes(&self, o: Outcomes) {
        self.fields().outcomes = Some(o);
    }
}

/// The request id header, read from the request (when a proxy set a sane one) and always
/// set on the response.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The request's id: the caller's `x-request-id` when it is 1 to 64 characters of
/// `[A-Za-z0-9._-]` (so a proxy's id carries through), otherwise a new random one.
fn request_id(req: &Request) -> String {
    let given = req
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            (1..=64).contains(&v.len())
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        });
    match given {
        Some(v) => v.to_string(),
        None => uuid::Uuid::new_v4().simple().to_string(),
    }
}

/// Logs a line when dropped before [`Unanswered::answered`]: the client went away (the
/// connection closed) before its answer, and the request's future was dropped.
struct Unanswered {
    span: tracing::Span,
    method: axum::http::Method,
    path: String,
    start: Instant,
    answered: bool,
}

impl Unanswered {
    fn answered(mut self) {
        self.answered = true;
    }
}

impl Drop for Unanswered {
    fn drop(&mut self) {
        if !self.answered {
            crate::server::metrics::global().abandoned();
            self.span.in_scope(|| {
                tracing::warn!(
                    method = %self.method,
                    path = %self.path,
                    duration_ms = format!("{:.1}", self.start.elapsed().as_secs_f64() * 1000.0),
                    "request abandoned by the client before its answer (a push already \
                     started runs to its end; its client gets the stored result on retry)"
                )
            });
        }
    }
}

/// Runs the request inside a `request{id=…}` span, logs one line for it (method, path,
/// status, officer, duration, changes, and a push's outcome counts; or that the client
/// abandoned it), records it in the metrics and sets `x-request-id`.
pub async fn log_request(mut req: Request, next: Next) -> Response {
    let id = request_id(&req);
    let span = tracing::info_span!("request", id = %id);
    let start = Instant::now();
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let info = LogInfo::default();
    req.extensions_mut().insert(info.clone());
    let pending = Unanswered {
        span: span.clone(),
        method: method.clone(),
        path: path.clone(),
        start,
        answered: false,
    };
    let mut resp = next.run(req).instrument(span.clone()).await;
    pending.answered();
    crate::server::metrics::global().request(&path, resp.status().as_u16(), start.elapsed());
    let f = info.fields().clone();
    let o = f.outcomes.unwrap_or_default();
    span.in_scope(|| {
        tracing::info!(
            method = %method,
            path = %path,
            status = resp.status().as_u16(),
            officer = f.officer.as_deref().unwrap_or("-"),
            duration_ms = format!("{:.1}", start.elapsed().as_secs_f64() * 1000.0),
            changes = f.changes.unwrap_or(0),
            accepted = o.accepted,
            merged = o.merged,
            conflict = o.conflict,
            rejected = o.rejected,
            "request"
        )
    });
    if let Ok(v) = HeaderValue::from_str(&id) {
        resp.headers_mut().insert(REQUEST_ID, v);
    }
    resp
}

/// Answers 503 `overloaded` at once when every in-flight slot is taken.
pub async fn bound_inflight(State(state): State<AppState>, req: Request, next: Next) -> Response {
    match state.inflight.clone().try_acquire_owned() {
        Ok(permit) => {
            let resp = next.run(req).await;
            drop(permit);
            resp
        }
        Err(_) => Failure::overloaded("the server is busy; retry after a second").into_response(),
    }
}
