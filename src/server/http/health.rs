//! `GET /v1/health` (liveness) and `GET /v1/ready` (readiness), both unauthenticated and
//! outside `--max-inflight`, and the answers for unknown paths and methods.
//!
//! Liveness says only that the process answers HTTP; readiness asks the store (with a short
//! timeout) and answers 503 with the reason when it cannot serve. Neither decides anything.

use std::time::Duration;

use axum::extract::State;
use axum::http::{header, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::error::Failure;
use super::AppState;
use crate::protocol::{ErrorCode, HealthResponse};

pub async fn health(State(state): State<AppState>) -> Json<HealthResponse> {
    Json(HealthResponse {
        status: "ok".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        store: state.service.store_kind().into(),
        server_id: Some(state.service.server_id().to_string()),
        op_sequences: true,
    })
}

/// How long `/v1/ready` waits for the store.
pub const READY_TIMEOUT: Duration = Duration::from_secs(2);

/// The body of `/v1/ready`: `{"status": "ready"|"unavailable", "store", "reason"?}`.
#[derive(Debug, serde::Serialize)]
pub struct ReadyResponse {
    pub status: &'static str,
    pub store: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// 200 when the store answers within [`READY_TIMEOUT`]; otherwise 503 with the reason and
/// `Retry-After: 1`.
pub async fn ready(State(state): State<AppState>) -> Response {
    let store = state.service.store_kind();
    match state.service.ready(READY_TIMEOUT).await {
        Ok(()) => Json(ReadyResponse {
            status: "ready",
            store,
            reason: None,
        })
        .into_response(),
        Err(reason) => {
            tracing::warn!(%reason, "not ready");
            let body = ReadyResponse {
                status: "unavailable",
                store,
                reason: Some(reason),
            };
            let mut resp = (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response();
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            resp
        }
    }
}

pub async fn not_found(method: Method, uri: Uri) -> Failure {
    Failure::new(
        StatusCode::NOT_FOUND,
        ErrorCode::NotFound,
        format!("no endpoint {method} {}", uri.path()),
    )
}

pub async fn method_not_allowed(method: Method, uri: Uri) -> Failure {
    Failure::bad_request(format!("{} does not accept {method}", uri.path()))
        .with_status(StatusCode::METHOD_NOT_ALLOWED)
}
