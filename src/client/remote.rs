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

/// A sync server as the sync engine sees it. Object safe: the engine takes `&mut dyn Remote`.
pub trait Remote {
    /// Is the server there at all? One cheap request, not retried: a sync that finds the
    /// server unreachable leaves the queue exactly as it was.
    fn health(&mut self) -> Result<HealthResponse, RemoteError>;

    /// Sends one batch of changes; the answer holds one result per change, in order.
    fn push(&mut self, req: &PushRequest) -> Result<PushResponse, RemoteError>;

    /// Fetches the page of records after `cursor` (from the start when `None`).
    fn pull(&mut self, cursor: Option<&str>, limit: u32) -> Result<PullResponse, RemoteError>;

    /// [`Remote::pull`], also naming the form versions the device holds, so the page can
    /// carry the team's newer ones (issue 15). The sync engine pulls with this one; there is no
    /// default, so that no remote can silently leave the forms behind.
    fn pull_with_forms(
        &mut self,
        cursor: Option<&str>,
        limit: u32,
        known: &KnownForms,
    ) -> Result<PullResponse, RemoteError>;

    /// [`Remote::push`] from a device that has received versions up to `seen`, so a server
    /// restored from a backup refuses it before applying anything
    /// ([`RemoteError::ServerBehind`]). Remotes that cannot tell push plainly.
    fn push_seen(
        &mut self,
        req: &PushRequest,
        seen: Option<i64>,
    ) -> Result<PushResponse, RemoteError> {
        let _ = seen;
        self.push(req)
    }

    /// [`Remote::pull_with_forms`] from a device that has received versions up to `seen`
    /// (see [`Remote::push_seen`]).
    fn pull_seen(
        &mut self,
        cursor: Option<&str>,
        limit: u32,
        known: &KnownForms,
        seen: Option<i64>,
    ) -> Result<PullResponse, RemoteError> {
        let _ = seen;
        self.pull_with_forms(cursor, limit, known)
    }

    /// [`Remote::pull_seen`] from `device`, which applies the stamps of its accepted
    /// changes: a page continuing a cursor leaves out the records this device's own pushes
    /// made and holds exactly (no echo, issue 14). `None` brings everything. Remotes that
    /// cannot tell pull plainly, which is always correct (only more to transfer).
    fn pull_for(
        &mut self,
        cursor: Option<&str>,
        limit: u32,
        known: &KnownForms,
        seen: Option<i64>,
        device: Option<Uuid>,
    ) -> Result<PullResponse, RemoteError> {
        let _ = device;
        self.pull_seen(cursor, limit, known, seen)
    }

    /// Requests and bytes so far (zero for remotes that do not count).
    fn traffic(&self) -> Traffic {
        Traffic::default()
    }
}
