//! `GET /v1/health` (unauthenticated) and the answers for unknown paths and methods.

use axum::extract::State;
use axum::http::{Method, StatusCode, Uri};
use axum::Json;

use super::error::Failure;
use super::AppState;
use crate::protocol::{ErrorCode, HealthResponse};

pub async fn health(State(state): State<AppState>) -> Json<HealthResponse> {
    Json(HealthResponse {
        status: "ok".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        store: state.service.store_kind().into(),
    })
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
