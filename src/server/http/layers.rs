//! The layers around every request: the per-request log line and the bound on requests in
//! flight. They must not look into bodies or decide anything about sync.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

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
}

/// Logs one line per request: method, path, status, officer, duration and changes.
pub async fn log_request(mut req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let info = LogInfo::default();
    req.extensions_mut().insert(info.clone());
    let resp = next.run(req).await;
    let f = info.fields().clone();
    tracing::info!(
        method = %method,
        path = %path,
        status = resp.status().as_u16(),
        officer = f.officer.as_deref().unwrap_or("-"),
        duration_ms = format!("{:.1}", start.elapsed().as_secs_f64() * 1000.0),
        changes = f.changes.unwrap_or(0),
        "request"
    );
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
