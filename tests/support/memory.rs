//! An in-memory [`Remote`]: the client's sync engine talking to the real server rules
//! ([`Service`]) in the same process, with no HTTP and no server process, so sync-engine
//! tests run in milliseconds. The service runs over a SQLite store in a temporary folder.
//!
//! Faults are injected the way the network would: [`MemoryRemote::offline`] makes every
//! request fail before it reaches the service, [`MemoryRemote::lose_next_answer`] lets the
//! service apply the next push and then drops its answer. Every request reaching the service
//! is counted, so tests can assert the number of batches and pages.

use std::sync::Arc;

use fieldsync::client::remote::{PullAsk, Remote, RemoteError, Traffic};
use fieldsync::protocol::{HealthResponse, KnownForms, PullResponse, PushRequest, PushResponse};
use fieldsync::server::push::PushMode;
use fieldsync::server::store::Officer;
use fieldsync::server::PullQuery;
use fieldsync::server::{Service, ServiceError};
use tokio::runtime::Runtime;
use uuid::Uuid;

/// One server (its service and a runtime to drive it), shared by every device of a test.
#[derive(Clone)]
pub struct MemoryServer {
    pub service: Service,
    rt: Arc<Runtime>,
}

impl MemoryServer {
    /// A fresh server on a temporary SQLite store.
    pub fn new() -> MemoryServer {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime");
        let service = rt
            .block_on(Service::temporary())
            .expect("a temporary store");
        MemoryServer {
            service,
            rt: Arc::new(rt),
        }
    }

    /// Runs one async call of the service to completion.
    pub fn block_on<F: std::future::Future>(&self, f: F) -> F::Output {
        self.rt.block_on(f)
    }

    /// Registers an officer and returns a remote authenticated as them.
    pub fn officer(&self, id: &str, team: &str) -> MemoryRemote {
        let token = self
            .block_on(self.service.add_officer(id, team))
            .expect("add officer");
        MemoryRemote {
            server: self.clone(),
            token,
            offline: false,
            lose_next_answer: false,
            pushes: 0,
            pulls: 0,
            records_pulled: 0,
            older_client: false,
        }
    }
}

impl Default for MemoryServer {
    fn default() -> Self {
        MemoryServer::new()
    }
}

/// One device's connection to a [`MemoryServer`].
pub struct MemoryRemote {
    server: MemoryServer,
    token: String,
    /// Every request fails as if the network were down.
    pub offline: bool,
    /// The next push is applied by the service, then its answer is lost on the way back.
    pub lose_next_answer: bool,
    /// Push and pull requests that reached the service.
    pub pushes: u64,
    pub pulls: u64,
    /// Records the pull pages carried.
    pub records_pulled: u64,
    /// Behave as a client before issue 14: push without `fieldsync-no-echo`, pull without
    /// naming the device.
    pub older_client: bool,
}

impl MemoryRemote {
    /// How this remote pushes: as the HTTP transport does, unless it plays an older client.
    fn mode(&self) -> PushMode<'static> {
        PushMode {
            no_echo: !self.older_client,
            seqs: None,
        }
    }

    fn officer(&self) -> Result<Officer, RemoteError> {
        if self.offline {
            return Err(RemoteError::Offline("the network is down (test)".into()));
        }
        let svc = &self.server.service;
        self.server
            .block_on(svc.authenticate(&self.token))
            .map_err(remote_error)
    }
}

/// The error a client would see for a service error over HTTP.
fn remote_error(e: ServiceError) -> RemoteError {
    match e {
        ServiceError::Unauthorized(m) => RemoteError::Unauthorized(m),
        ServiceError::ResyncRequired => RemoteError::ResyncRequired,
        ServiceError::ServerBehind { current } => RemoteError::ServerBehind {
            server_version: current,
        },
        ServiceError::Store(s) => RemoteError::Offline(s.to_string()),
        other => RemoteError::Rejected {
            status: 400,
            code: Some(other.code()),
            message: other.to_string(),
        },
    }
}

impl Remote for MemoryRemote {
    fn health(&mut self) -> Result<HealthResponse, RemoteError> {
        if self.offline {
            return Err(RemoteError::Offline("the network is down (test)".into()));
        }
        Ok(HealthResponse {
            status: "ok".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            store: self.server.service.store_kind().into(),
            server_id: Some(self.server.service.server_id().to_string()),
            op_sequences: true,
        })
    }

    fn push(&mut self, req: &PushRequest, seen: Option<i64>) -> Result<PushResponse, RemoteError> {
        let officer = self.officer()?;
        self.pushes += 1;
        let svc = &self.server.service;
        let resp = self
            .server
            .block_on(svc.push_with(&officer, req.clone(), seen, self.mode()))
            .map_err(remote_error)?;
        if std::mem::take(&mut self.lose_next_answer) {
            return Err(RemoteError::Offline(
                "the answer was lost on the way back (test)".into(),
            ));
        }
        Ok(resp)
    }

    /// The team's form versions the device does not hold come with the page, as over HTTP.
    fn pull(&mut self, ask: &PullAsk<'_>) -> Result<PullResponse, RemoteError> {
        let officer = self.officer()?;
        self.pulls += 1;
        let device = ask.device.filter(|_| !self.older_client);
        let svc = &self.server.service;
        let (cursor, limit) = (ask.cursor, Some(ask.limit));
        let page = self
            .server
            .block_on(svc.pull(
                &officer,
                PullQuery {
                    cursor,
                    limit,
                    known: ask.known,
                    seen: ask.seen,
                    device,
                },
            ))
            .map_err(remote_error)?;
        self.records_pulled += page.records.len() as u64;
        Ok(page)
    }

    fn traffic(&self) -> Traffic {
        Traffic {
            requests: self.pushes + self.pulls,
            ..Traffic::default()
        }
    }
}
