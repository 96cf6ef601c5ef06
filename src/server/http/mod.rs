//! The HTTP API of `/v1` over axum: thin modules that parse, authenticate, bound and map
//! errors, then call [`Service`]. Wire types come from [`crate::protocol`]; no sync rule is
//! decided here.
//!
//! - [`auth`]: the `Authorization: Bearer` extractor.
//! - [`body`]: body limits, gzip inflation and the memory budget.
//! - [`error`]: failures as statuses and JSON error bodies.
//! - [`layers`]: the per-request log line and the in-flight bound.
//! - [`health`] (liveness and readiness), [`push`], [`pull`], [`metrics`], [`openapi`] (the
//!   OpenAPI document of `/v1`): one file per endpoint.
//! - [`listen`]: binding, TLS, printing the address, graceful shutdown.
//! - [`reload`]: SIGHUP, and reloading the TLS certificate when it is renewed.

pub mod auth;
pub mod body;
pub mod error;
pub mod health;
pub mod layers;
pub mod listen;
pub mod metrics;
pub mod openapi;
pub mod pull;
pub mod push;
pub mod reload;

use std::sync::Arc;

use axum::routing::{get, post};
use axum::{middleware, Router};
use tokio::sync::Semaphore;
use tower_http::compression::CompressionLayer;

use super::service::Service;
use crate::protocol::{PATH_HEALTH, PATH_PULL, PATH_PUSH};

pub use listen::{serve, ServeOptions};

/// Shared state of the HTTP layer.
#[derive(Clone)]
pub struct AppState {
    pub service: Service,
    /// Bounds requests in flight; when none is free the server answers 503 at once.
    pub inflight: Arc<Semaphore>,
    /// Bounds the memory all request bodies hold at once (raw and inflated), in KiB. A
    /// request that would go over it is answered 503 `overloaded`.
    pub body_budget: Arc<Semaphore>,
    /// Who may read `/metrics`.
    pub metrics_access: metrics::MetricsAccess,
}

impl AppState {
    /// State for `service` with at most `max_inflight` requests in flight and
    /// `max_body_memory` bytes of request bodies held at once.
    pub fn new(service: Service, max_inflight: usize, max_body_memory: usize) -> AppState {
        AppState {
            service,
            inflight: Arc::new(Semaphore::new(
                max_inflight.clamp(1, Semaphore::MAX_PERMITS),
            )),
            body_budget: Arc::new(Semaphore::new(
                max_body_memory
                    .div_ceil(1024)
                    .clamp(1, Semaphore::MAX_PERMITS),
            )),
            metrics_access: metrics::MetricsAccess::default(),
        }
    }

    /// The same state with `/metrics` open to `access`.
    pub fn with_metrics(mut self, access: metrics::MetricsAccess) -> AppState {
        self.metrics_access = access;
        self
    }
}

/// `GET /metrics`: Prometheus metrics (see [`metrics`]).
pub const PATH_METRICS: &str = "/metrics";

/// `GET /v1/ready`: readiness for load balancers (see [`health::ready`]).
pub const PATH_READY: &str = "/v1/ready";

/// Builds the router with its layers (log line outermost, then response compression, then
/// the in-flight bound, which covers push and pull but not health and readiness: a busy
/// node is still alive and ready).
pub fn router(state: AppState) -> Router {
    Router::new()
        .route(PATH_PUSH, post(push::push))
        .route(PATH_PULL, get(pull::pull))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            layers::bound_inflight,
        ))
        .route(PATH_HEALTH, get(health::health))
        .route(PATH_READY, get(health::ready))
        .route(PATH_METRICS, get(metrics::metrics))
        .route(openapi::PATH_OPENAPI, get(openapi::openapi))
        .fallback(health::not_found)
        .method_not_allowed_fallback(health::method_not_allowed)
        // Fastest gzip: on a 2-core server the default level spent a quarter of the CPU of a
        // 10,000-officer sync compressing pull pages, for a few percent fewer bytes.
        .layer(
            CompressionLayer::new()
                .gzip(true)
                .quality(tower_http::CompressionLevel::Fastest),
        )
        .layer(middleware::from_fn(layers::log_request))
        .with_state(state)
}

/// The version a device names in the `fieldsync-seen` header (issue 11), if any; a malformed
/// value is a 400.
fn seen_header(headers: &axum::http::HeaderMap) -> Result<Option<i64>, error::Failure> {
    use crate::protocol::{parse_seen, HEADER_SEEN};
    match headers.get(HEADER_SEEN) {
        None => Ok(None),
        Some(v) => v
            .to_str()
            .ok()
            .and_then(parse_seen)
            .map(Some)
            .ok_or_else(|| {
                error::Failure::bad_request(format!(
                    "header {HEADER_SEEN} must be a version (a whole number ≥ 0)"
                ))
            }),
    }
}
