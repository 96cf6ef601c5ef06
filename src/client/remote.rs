//! The `Remote` trait: everything the sync engine needs from a sync server, in terms of the
//! `/v1` wire types of [`crate::protocol`]. The HTTP implementation is
//! [`super::transport::Transport`]; tests can implement it in memory over the server's rules.
//!
//! This module must not know HTTP, reqwest, retries or the local store: a `Remote` moves
//! protocol values and reports failures as one small [`RemoteError`].

use uuid::Uuid;

use super::tls::CertProblem;
use crate::protocol::{
    ErrorCode, HealthResponse, KnownForms, PullResponse, PushRequest, PushResponse,
};

/// Why a request to the server failed, as the sync engine needs to know it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RemoteError {
    /// Unreachable, timed out, or kept failing transiently: try again later; nothing was
    /// applied that the server will not recognise by op_id.
    #[error("{0}")]
    Offline(String),
    /// The token is missing, wrong or revoked; the request was not applied.
    #[error("{0}")]
    Unauthorized(String),
    /// The pull cursor points into history the server no longer keeps: pull from scratch.
    #[error("the server no longer keeps the history behind this device's cursor")]
    ResyncRequired,
    /// The server's history ends at `server_version` and this device received later
    /// versions: the server was restored from a backup and lost them (issue 11).
    #[error("the server's history ends at version {server_version}: it lost changes this device saw (restored from a backup)")]
    ServerBehind { server_version: i64 },
    /// The server refused the request as a whole (a 4xx other than the above).
    #[error("the server refused the request ({status}): {message}")]
    Rejected {
        status: u16,
        code: Option<ErrorCode>,
        message: String,
    },
    /// The answer does not parse as the protocol says it should.
    #[error("{0}")]
    Protocol(String),
    /// The server's TLS certificate was refused; nothing was sent. Retrying cannot help.
    #[error("the server {server} cannot be trusted: {problem}")]
    Certificate {
        server: String,
        problem: CertProblem,
    },
}

/// Request counters of one remote, for `sync --json`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Traffic {
    pub requests: u64,
    pub bytes_sent: u64,
    pub bytes_received: u64,
}

/// What one pull asks of the server.
#[derive(Debug, Clone, Copy)]
pub struct PullAsk<'a> {
    /// The page after this cursor; from the start when `None`.
    pub cursor: Option<&'a str>,
    /// Most records in the page.
    pub limit: u32,
    /// The form versions the device holds, so the page carries the team's newer ones
    /// (issue 15); `None` asks for no forms (a token check).
    pub known: Option<&'a KnownForms>,
    /// The highest server version the device has received (see [`Remote::push`]).
    pub seen: Option<i64>,
    /// The device, when it applies the stamps of its accepted changes: a page continuing a
    /// cursor then leaves out the records its own pushes made and it holds exactly (no echo,
    /// issue 14). `None` brings everything.
    pub device: Option<Uuid>,
}

impl<'a> PullAsk<'a> {
    /// The first page, at most `limit` records, nothing else asked.
    pub fn first(limit: u32) -> PullAsk<'a> {
        PullAsk {
            cursor: None,
            limit,
            known: None,
            seen: None,
            device: None,
        }
    }
}

/// A sync server as the sync engine sees it. Object safe: the engine takes `&mut dyn Remote`.
pub trait Remote {
    /// Is the server there at all? One cheap request, not retried: a sync that finds the
    /// server unreachable leaves the queue exactly as it was.
    fn health(&mut self) -> Result<HealthResponse, RemoteError>;

    /// Sends one batch of changes; the answer holds one result per change, in order. `seen`:
    /// the highest server version the device has received, so a server restored from a
    /// backup refuses the batch before applying anything ([`RemoteError::ServerBehind`]).
    fn push(&mut self, req: &PushRequest, seen: Option<i64>) -> Result<PushResponse, RemoteError>;

    /// Fetches one page of records, as `ask` says.
    fn pull(&mut self, ask: &PullAsk<'_>) -> Result<PullResponse, RemoteError>;

    /// Requests and bytes so far (zero for remotes that do not count).
    fn traffic(&self) -> Traffic {
        Traffic::default()
    }
}
