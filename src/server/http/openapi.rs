//! `GET /v1/openapi.json`: the OpenAPI 3 document of `/v1` (`docs/openapi.json`), compiled
//! into the binary so that what a server describes is what it runs. Unauthenticated and
//! outside `--max-inflight`, like health. This module serves the document; it must not
//! build or change it (tests/openapi.rs checks it against the real types and router).

use axum::http::header;
use axum::response::IntoResponse;

/// The path the document is served at.
pub const PATH_OPENAPI: &str = "/v1/openapi.json";

/// The document, as kept in `docs/`.
pub const OPENAPI_JSON: &str = include_str!("../../../docs/openapi.json");

pub async fn openapi() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI_JSON)
}
