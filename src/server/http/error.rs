//! Error mapping: every failure of a request becomes a status and the JSON error body of
//! [`crate::protocol::ErrorBody`], with `Retry-After` on 503. It decides no rule: the codes
//! come from [`ServiceError::code`].

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::protocol::{ApiError, ErrorBody, ErrorCode};
use crate::server::error::{ServiceError, StoreError};

/// A request that failed: its status and JSON error body.
#[derive(Debug)]
pub struct Failure {
    pub status: StatusCode,
    pub code: ErrorCode,
    pub message: String,
    /// With `server_behind`: where the server's history ends.
    pub server_version: Option<i64>,
}

impl Failure {
    pub fn new(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> Failure {
        Failure {
            status,
            code,
            message: message.into(),
            server_version: None,
        }
    }

    /// The same failure with another status.
    pub fn with_status(self, status: StatusCode) -> Failure {
        Failure { status, ..self }
    }

    /// 400 `bad_request`.
    pub fn bad_request(message: impl Into<String>) -> Failure {
        Failure::new(StatusCode::BAD_REQUEST, ErrorCode::BadRequest, message)
    }

    /// 401 `unauthorized`.
    pub fn unauthorized(message: impl Into<String>) -> Failure {
        Failure::new(StatusCode::UNAUTHORIZED, ErrorCode::Unauthorized, message)
    }

    /// 503 `overloaded` (with `Retry-After`).
    pub fn overloaded(message: impl Into<String>) -> Failure {
        Failure::new(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::Overloaded,
            message,
        )
    }
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Failure {
        let code = e.code();
        tracing::error!(error = %e, "store failure");
        crate::server::metrics::global().store_error();
        let status = if code == ErrorCode::Unavailable {
            StatusCode::SERVICE_UNAVAILABLE
        } else {
            StatusCode::INTERNAL_SERVER_ERROR
        };
        Failure::new(
            status,
            code,
            "the server's store failed; nothing was applied",
        )
    }
}

impl From<ServiceError> for Failure {
    fn from(e: ServiceError) -> Failure {
        let status = match e {
            ServiceError::Store(s) => return s.into(),
            ServiceError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ServiceError::BatchTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ServiceError::InvalidLimit(_)
            | ServiceError::InvalidCursor
            | ServiceError::VersionBeyondCurrent { .. }
            | ServiceError::BadSequence(_) => StatusCode::BAD_REQUEST,
            ServiceError::ResyncRequired => StatusCode::GONE,
            ServiceError::ServerBehind { current } => {
                let mut f = Failure::new(StatusCode::CONFLICT, e.code(), e.to_string());
                f.server_version = Some(current);
                return f;
            }
        };
        Failure::new(status, e.code(), e.to_string())
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let retry = matches!(self.code, ErrorCode::Overloaded | ErrorCode::Unavailable);
        let mut resp = (
            self.status,
            Json(ErrorBody {
                error: ApiError {
                    server_version: self.server_version,
                    ..ApiError::new(self.code, self.message)
                },
            }),
        )
            .into_response();
        if retry {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        resp
    }
}
