//! Authentication as an extractor: reads `Authorization: Bearer <token>` and asks the service
//! who holds the token. It checks only the header's shape; who may do what is the service's.

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;

use super::error::Failure;
use super::layers::LogInfo;
use super::AppState;
use crate::server::store::Officer;

/// The officer a request is signed in as (a handler argument that authenticates).
#[derive(Debug, Clone)]
pub struct Authenticated(pub Officer);

#[axum::async_trait]
impl FromRequestParts<AppState> for Authenticated {
    type Rejection = Failure;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Failure> {
        let token = bearer_token(parts)?;
        let officer = state.service.authenticate(token).await?;
        if let Some(log) = parts.extensions.get::<LogInfo>() {
            log.officer(&officer.id);
        }
        Ok(Authenticated(officer))
    }
}

/// The token of an `Authorization: Bearer` header (the scheme is case-insensitive, RFC 7235).
fn bearer_token(parts: &Parts) -> Result<&str, Failure> {
    let value = parts
        .headers
        .get(header::AUTHORIZATION)
        .ok_or_else(|| Failure::unauthorized("missing Authorization: Bearer <token>"))?;
    value
        .to_str()
        .ok()
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim())
        .filter(|t| !t.is_empty() && t.len() <= 256)
        .ok_or_else(|| Failure::unauthorized("expected Authorization: Bearer <token>"))
}
