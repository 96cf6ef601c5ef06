//! Request bodies: content type and encoding, the size cap before and after gzip inflation
//! (a gzip bomb is refused without inflating it), the read timeout, the shared memory budget,
//! and JSON parsing into the wire type. It must not decide anything about what a body says.

use std::io::Read;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{FromRequest, Request};
use axum::http::{header, HeaderMap, StatusCode};
use http_body_util::BodyExt;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::error::Failure;
use super::AppState;
use crate::protocol::{ErrorCode, PushRequest, MAX_BODY_BYTES};

/// How long a client may take to send a request body (a slow sender holds an in-flight slot).
const BODY_TIMEOUT: Duration = Duration::from_secs(60);

/// A push request body, with the part of the body budget it holds (released when the
/// handler is done with it).
pub struct PushBody {
    pub request: PushRequest,
    _permit: BodyPermit,
}

#[axum::async_trait]
impl FromRequest<AppState> for PushBody {
    type Rejection = Failure;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Failure> {
        let (parts, body) = req.into_parts();
        let mut permit = BodyPermit::new(state.body_budget.clone());
        let bytes = read_body(&parts.headers, body, &mut permit).await?;
        let request = serde_json::from_slice(&bytes).map_err(|e| {
            Failure::new(
                StatusCode::BAD_REQUEST,
                ErrorCode::InvalidJson,
                format!("the body is not a valid push request: {e}"),
            )
        })?;
        Ok(PushBody {
            request,
            _permit: permit,
        })
    }
}

/// The part of the body budget one request holds; released when dropped.
struct BodyPermit {
    budget: Arc<Semaphore>,
    held: Option<OwnedSemaphorePermit>,
}

impl BodyPermit {
    fn new(budget: Arc<Semaphore>) -> BodyPermit {
        BodyPermit { budget, held: None }
    }

    /// Takes `bytes` more of the budget (counted in KiB), or fails with 503 at once.
    fn reserve(&mut self, bytes: usize) -> Result<(), Failure> {
        let kib = u32::try_from(bytes.div_ceil(1024)).unwrap_or(u32::MAX);
        if kib == 0 {
            return Ok(());
        }
        let p = self
            .budget
            .clone()
            .try_acquire_many_owned(kib)
            .map_err(|_| {
                Failure::overloaded(
                    "the server holds too many request bodies; retry after a second",
                )
            })?;
        self.merge(p);
        Ok(())
    }

    fn merge(&mut self, p: OwnedSemaphorePermit) {
        match &mut self.held {
            Some(h) => h.merge(p),
            None => self.held = Some(p),
        }
    }
}

fn too_large(what: &str) -> Failure {
    Failure::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        ErrorCode::PayloadTooLarge,
        format!("the request body is over {MAX_BODY_BYTES} bytes{what}"),
    )
}

/// Reads a request body: at most [`MAX_BODY_BYTES`] on the wire and, when gzip, at most
/// [`MAX_BODY_BYTES`] after decompression.
async fn read_body(
    headers: &HeaderMap,
    body: Body,
    permit: &mut BodyPermit,
) -> Result<Vec<u8>, Failure> {
    let gzip = check_headers(headers)?;
    let raw = tokio::time::timeout(BODY_TIMEOUT, read_raw(body, permit))
        .await
        .map_err(|_| {
            Failure::new(
                StatusCode::REQUEST_TIMEOUT,
                ErrorCode::BadRequest,
                format!(
                    "the request body did not arrive within {} seconds",
                    BODY_TIMEOUT.as_secs()
                ),
            )
        })??;
    if !gzip {
        return Ok(raw);
    }
    let mut taken = BodyPermit::new(permit.budget.clone());
    let (out, taken) = tokio::task::spawn_blocking(move || {
        let inflated = inflate(&raw, &mut taken);
        (inflated, taken)
    })
    .await
    .map_err(|e| {
        Failure::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::Internal,
            e.to_string(),
        )
    })?;
    // The caller keeps holding what the inflated body takes.
    if let Some(p) = taken.held {
        permit.merge(p);
    }
    out
}

/// Checks Content-Encoding, Content-Type and Content-Length; whether the body is gzip.
fn check_headers(headers: &HeaderMap) -> Result<bool, Failure> {
    let unsupported = |m: String| {
        Failure::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::UnsupportedMediaType,
            m,
        )
    };
    let gzip = match headers.get(header::CONTENT_ENCODING).map(|v| v.to_str()) {
        None => false,
        Some(Ok(v)) if v.trim().eq_ignore_ascii_case("identity") => false,
        Some(Ok(v)) if v.trim().eq_ignore_ascii_case("gzip") => true,
        Some(v) => {
            return Err(unsupported(format!(
                "unsupported Content-Encoding {:?} (use gzip or none)",
                v.unwrap_or("?")
            )))
        }
    };
    if let Some(ct) = headers.get(header::CONTENT_TYPE) {
        let json = ct
            .to_str()
            .map(|s| {
                s.trim()
                    .to_ascii_lowercase()
                    .starts_with("application/json")
            })
            .unwrap_or(false);
        if !json {
            return Err(unsupported("Content-Type must be application/json".into()));
        }
    }
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > MAX_BODY_BYTES as u64) {
        return Err(too_large(""));
    }
    Ok(gzip)
}

/// Gunzips at most [`MAX_BODY_BYTES`], taking the budget as the output grows.
fn inflate(raw: &[u8], permit: &mut BodyPermit) -> Result<Vec<u8>, Failure> {
    const CHUNK: usize = 64 * 1024;
    let mut out = Vec::new();
    let mut dec = flate2::read::GzDecoder::new(raw);
    loop {
        if out.len() > MAX_BODY_BYTES {
            return Err(too_large(" once decompressed"));
        }
        permit.reserve(CHUNK)?;
        let start = out.len();
        out.resize(start + CHUNK, 0);
        let n = loop {
            match dec.read(&mut out[start..]) {
                Ok(n) => break n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    return Err(Failure::new(
                        StatusCode::BAD_REQUEST,
                        ErrorCode::InvalidJson,
                        format!("the gzip body does not decompress: {e}"),
                    ))
                }
            }
        };
        out.truncate(start + n);
        if n == 0 {
            return Ok(out);
        }
    }
}

/// Reads the raw body, refusing more than [`MAX_BODY_BYTES`].
async fn read_raw(mut body: Body, permit: &mut BodyPermit) -> Result<Vec<u8>, Failure> {
    let mut raw = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame
            .map_err(|e| Failure::bad_request(format!("cannot read the request body: {e}")))?;
        if let Ok(data) = frame.into_data() {
            if raw.len() + data.len() > MAX_BODY_BYTES {
                return Err(too_large(""));
            }
            permit.reserve(data.len())?;
            raw.extend_from_slice(&data);
        }
    }
    Ok(raw)
}
