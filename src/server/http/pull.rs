//! `GET /v1/pull?cursor=C&limit=N`: authenticate, parse the query, ask the service for the
//! page. Cursors, team scope and the history floor are the service's rules, not this file's.

use std::collections::HashMap;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Extension, Query, State};
use axum::Json;

use super::auth::Authenticated;
use super::error::Failure;
use super::layers::LogInfo;
use super::AppState;
use crate::protocol::PullResponse;
use crate::server::error::ServiceError;

pub async fn pull(
    State(state): State<AppState>,
    Extension(log): Extension<LogInfo>,
    Authenticated(officer): Authenticated,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<Json<PullResponse>, Failure> {
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
    let page = state
        .service
        .pull(&officer, q.get("cursor").map(String::as_str), limit)
        .await?;
    log.changes(page.records.len());
    Ok(Json(page))
}
