//! Running the HTTP server: bind, optional TLS, print `listening on URL` as the first stdout
//! line, serve until SIGINT/SIGTERM, then let requests in flight finish. SIGHUP and
//! certificate reloads are [`super::reload`]'s. Nothing about requests or sync rules lives
//! here.

use std::io::Write;
use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::time::Duration;

use axum_server::tls_rustls::RustlsConfig;

use super::{router, AppState};
use crate::server::error::ServeError;
use crate::server::service::Service;

/// How long in-flight requests may take to finish after SIGINT/SIGTERM.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// What `fieldsync serve` runs with.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Address to listen on (`127.0.0.1:0` picks a free port).
    pub listen: String,
    /// What `--database` names (see [`crate::server::database::Database::parse`]).
    pub database: String,
    /// Lines printed on stdout right after the `listening on` line (e.g. which default
    /// database is in use).
    pub startup_notes: Vec<String>,
    /// PEM certificate chain and key, for HTTPS.
    pub tls: Option<(PathBuf, PathBuf)>,
    /// Most requests in flight; more are answered 503 `overloaded` at once.
    pub max_inflight: usize,
    /// Most memory all request bodies may hold at once, raw and inflated (bytes).
    pub max_body_memory: usize,
    /// The store's connection limits (PostgreSQL pool).
    pub store: crate::server::store::StoreOptions,
    /// Who may read `/metrics`.
    pub metrics: super::metrics::MetricsAccess,
    /// How long stored push results are kept (`--op-retention-days`; see
    /// [`crate::server::retention`]).
    pub op_retention: std::time::Duration,
}

/// Opens the store, listens, prints `listening on http(s)://ADDR` as the first stdout line and
/// serves until SIGINT/SIGTERM, then lets in-flight requests finish.
pub async fn serve(opts: ServeOptions) -> Result<(), ServeError> {
    let service = Service::open_with(&opts.database, &opts.store).await?;
    // Versions a restored database handed out before it was restored are never handed out
    // again (see `Service::begin_run`).
    service.begin_run().await?;
    let kind = service.store_kind();
    crate::server::retention::spawn_trimmer(service.clone(), opts.op_retention);
    let app = router(
        AppState::new(service, opts.max_inflight, opts.max_body_memory).with_metrics(opts.metrics),
    );
    let (listener, addr) = bind(&opts.listen)?;
    let tls = match &opts.tls {
        Some((cert, key)) => Some(load_tls(cert, key).await?),
        None => None,
    };
    super::reload::spawn(
        tls.clone()
            .zip(opts.tls.clone())
            .map(|(config, (cert, key))| super::reload::TlsFiles { config, cert, key }),
    )?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    print_address(scheme, addr, &opts.startup_notes)?;
    tracing::info!(%addr, store = kind, "listening");
    let handle = axum_server::Handle::new();
    let h = handle.clone();
    tokio::spawn(async move {
        shutdown_signal().await;
        tracing::info!("shutting down: finishing in-flight requests");
        h.graceful_shutdown(Some(SHUTDOWN_GRACE));
    });
    // The peer address reaches handlers (`/metrics` answers loopback peers only by default).
    let svc = app.into_make_service_with_connect_info::<SocketAddr>();
    let served = match tls {
        Some(cfg) => {
            axum_server::from_tcp_rustls(listener, cfg)
                .handle(handle)
                .serve(svc)
                .await
        }
        None => {
            axum_server::from_tcp(listener)
                .handle(handle)
                .serve(svc)
                .await
        }
    };
    served.map_err(|source| ServeError::Io {
        context: "serve".into(),
        source,
    })?;
    tracing::info!("stopped");
    Ok(())
}

/// A non-blocking listener on `listen` and the address it got.
fn bind(listen: &str) -> Result<(TcpListener, SocketAddr), ServeError> {
    let listener = TcpListener::bind(listen).map_err(|source| ServeError::Listen {
        addr: listen.to_string(),
        source,
    })?;
    listener
        .set_nonblocking(true)
        .map_err(|source| ServeError::Io {
            context: "make the listener non-blocking".into(),
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| ServeError::Io {
        context: "read the bound address".into(),
        source,
    })?;
    Ok((listener, addr))
}

async fn load_tls(cert: &PathBuf, key: &PathBuf) -> Result<RustlsConfig, ServeError> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    RustlsConfig::from_pem_file(cert, key).await.map_err(|e| {
        ServeError::Tls(format!(
            "cannot load {} / {}: {e}",
            cert.display(),
            key.display()
        ))
    })
}

fn print_address(scheme: &str, addr: SocketAddr, notes: &[String]) -> Result<(), ServeError> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "listening on {scheme}://{addr}")
        .and_then(|_| notes.iter().try_for_each(|n| writeln!(out, "{n}")))
        .and_then(|_| out.flush())
        .map_err(|source| ServeError::Io {
            context: "write to stdout".into(),
            source,
        })
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
