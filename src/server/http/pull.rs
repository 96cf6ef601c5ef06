//! `GET /v1/pull?cursor=C&limit=N`: authenticate, parse the query, ask the service for the
//! page (with the team's new form versions when the client names what it holds in the
//! `fieldsync-forms` header). Cursors, team scope and the history floor are the service's rules, not this file's.

use std::collections::HashMap;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Extension, Query, State};
use axum::http::HeaderMap;
use axum::Json;

use super::auth::Authenticated;
use super::error::Failure;
use super::layers::LogInfo;
use super::AppState;
use crate::protocol::{KnownForms, PullResponse, HEADER_DEVICE, HEADER_FORMS};
use crate::server::error::ServiceError;
use crate::server::service::PullQuery;
use crate::server::wire::WireRecord;

pub async fn pull(
    State(state): State<AppState>,
    Extension(log): Extension<LogInfo>,
    Authenticated(officer): Authenticated,
    headers: HeaderMap,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<Json<PullResponse<WireRecord>>, Failure> {
    let known = match headers.get(HEADER_FORMS) {
        None => None,
        Some(v) => Some(
            v.to_str()
                .ok()
                .and_then(KnownForms::from_header)
                .ok_or_else(|| {
                    Failure::bad_request(format!(
                        "header {HEADER_FORMS} must be 'TEAM VERSION' or 'none'"
                    ))
                })?,
        ),
    };
    let Query(q) = query.map_err(|e| Failure::bad_request(format!("bad query string: {e}")))?;
    if let Some(k) = q.keys().find(|k| *k != "cursor" && *k != "limit") {
        return Err(Failure::bad_request(format!(
            "unknown query parameter {k:?}"
        )));
    }
    let limit = match q.get("limit") {
        None => None,
        Some(s) => Some(
            s.parse::<u32>()
                .map_err(|_| ServiceError::InvalidLimit(s.clone()))?,
        ),
    };
    let device = match headers.get(HEADER_DEVICE) {
        None => None,
        Some(v) => Some(
            v.to_str()
                .ok()
                .and_then(|s| uuid::Uuid::parse_str(s.trim()).ok())
                .ok_or_else(|| {
                    Failure::bad_request(format!(
                        "header {HEADER_DEVICE} must be a device id (a UUID)"
                    ))
                })?,
        ),
    };
    let seen = super::seen_header(&headers)?;
    let page = state
        .service
        .pull_wire(
            &officer,
            PullQuery {
                cursor: q.get("cursor").map(String::as_str),
                limit,
                known: known.as_ref(),
                seen,
                device,
            },
        )
        .await?;
    log.changes(page.records.len());
    Ok(Json(page))
}
