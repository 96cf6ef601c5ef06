//! `GET /metrics`: the process's metrics in the Prometheus text format, outside
//! `--max-inflight` and without authentication. Who may read them is `serve --metrics`:
//! `loopback` (the default: a scraper or agent on the same host), `public`, or `off`; anyone
//! else gets the plain 404 of an unknown path, so the endpoint is not advertised.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderValue, Method, Uri};
use axum::response::{IntoResponse, Response};

use super::AppState;

/// Who may read `/metrics` (`serve --metrics`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MetricsAccess {
    /// Only clients connecting from a loopback address.
    #[default]
    Loopback,
    /// Everyone who can reach the port.
    Public,
    /// Nobody: `/metrics` is 404.
    Off,
}

pub async fn metrics(
    State(state): State<AppState>,
    peer: Option<ConnectInfo<SocketAddr>>,
    method: Method,
    uri: Uri,
) -> Response {
    let allowed = match state.metrics_access {
        MetricsAccess::Public => true,
        MetricsAccess::Off => false,
        MetricsAccess::Loopback => peer.is_some_and(|ConnectInfo(p)| p.ip().is_loopback()),
    };
    if !allowed {
        return super::health::not_found(method, uri).await.into_response();
    }
    let text = crate::server::metrics::global().render(state.service.pool_status());
    let mut resp = text.into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    resp
}
