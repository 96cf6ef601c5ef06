//! `POST /v1/push`: authenticate, read the body, hand the batch to the service. The push
//! rules (batch size, dedupe, permissions, conflicts) are the service's, not this file's.

use axum::extract::{Extension, State};
use axum::http::HeaderMap;
use axum::Json;

use super::auth::Authenticated;
use super::body::PushBody;
use super::error::Failure;
use super::layers::{LogInfo, Outcomes};
use super::AppState;
use crate::protocol::{PushResponse, HEADER_NO_ECHO};
use crate::server::push::PushMode;

pub async fn push(
    State(state): State<AppState>,
    Extension(log): Extension<LogInfo>,
    Authenticated(officer): Authenticated,
    headers: HeaderMap,
    body: PushBody,
) -> Result<Json<PushResponse>, Failure> {
    log.changes(body.request.changes.len());
    let seen = super::seen_header(&headers)?;
    let mode = PushMode {
        no_echo: headers
            .get(HEADER_NO_ECHO)
            .is_some_and(|v| v.as_bytes() == b"1"),
        seqs: None,
    };
    let response = state
        .service
        .push_with(&officer, body.request, seen, mode)
        .await?;
    let outcomes = Outcomes::of(&response);
    log.outcomes(outcomes);
    crate::server::metrics::global().changes([
        outcomes.accepted,
        outcomes.merged,
        outcomes.conflict,
        outcomes.rejected,
    ]);
    Ok(Json(response))
}
