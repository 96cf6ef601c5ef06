//! The sync server: an HTTP JSON API ([`api`]) over one of two stores (embedded SQLite,
//! PostgreSQL; see [`store`] for the consistency rules they share). The push algorithm is
//! written once, in [`push`].

pub mod api;
pub mod error;
pub mod push;
pub mod store;

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;

pub use error::{ServeError, StoreError};

/// How long in-flight requests may take to finish after SIGINT/SIGTERM.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// What `fieldsync serve` runs with.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Address to listen on (`127.0.0.1:0` picks a free port).
    pub listen: String,
    /// A SQLite path or a `postgres://` URL.
    pub database: String,
    /// PEM certificate chain and key, for HTTPS.
    pub tls: Option<(PathBuf, PathBuf)>,
    /// Most requests in flight; more are answered 503 `overloaded` at once.
    pub max_inflight: usize,
    /// Most memory all request bodies may hold at once, raw and inflated (bytes).
    pub max_body_memory: usize,
}

/// Opens the store, listens, prints `listening on http(s)://ADDR` as the first stdout line and
/// serves until SIGINT/SIGTERM, then lets in-flight requests finish.
pub async fn serve(opts: ServeOptions) -> Result<(), ServeError> {
    let store = store::open(&opts.database).await?;
    let secret = store.cursor_secret().await?;
    let state = api::AppState {
        store: store.clone(),
        cursor_secret: Arc::new(secret),
        inflight: Arc::new(Semaphore::new(opts.max_inflight.max(1))),
        body_budget: Arc::new(Semaphore::new(
            opts.max_body_memory
                .div_ceil(1024)
                .clamp(1, Semaphore::MAX_PERMITS),
        )),
    };
    let app = api::router(state);
    let listener =
        std::net::TcpListener::bind(&opts.listen).map_err(|source| ServeError::Listen {
            addr: opts.listen.clone(),
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
    let handle = axum_server::Handle::new();
    let h = handle.clone();
    tokio::spawn(async move {
        shutdown_signal().await;
        tracing::info!("shutting down: finishing in-flight requests");
        h.graceful_shutdown(Some(SHUTDOWN_GRACE));
    });
    let scheme = if opts.tls.is_some() { "https" } else { "http" };
    let tls = match &opts.tls {
        Some((cert, key)) => {
            let _ = rustls::crypto::ring::default_provider().install_default();
            Some(
                axum_server::tls_rustls::RustlsConfig::from_pem_file(cert, key)
                    .await
                    .map_err(|e| {
                        ServeError::Tls(format!(
                            "cannot load {} / {}: {e}",
                            cert.display(),
                            key.display()
                        ))
                    })?,
            )
        }
        None => None,
    };
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "listening on {scheme}://{addr}")
            .and_then(|_| out.flush())
            .map_err(|source| ServeError::Io {
                context: "write to stdout".into(),
                source,
            })?;
    }
    tracing::info!(%addr, store = store.kind(), "listening");
    let svc = app.into_make_service();
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
