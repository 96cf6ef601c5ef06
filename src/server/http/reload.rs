//! SIGHUP and certificate renewal for `serve`: a SIGHUP, or a change to the certificate or key
//! file (looked at every few seconds), loads the pair again and swaps it in for new
//! connections; connections and requests in flight keep the one they started with. A pair
//! that does not load (unreadable, not PEM, key not matching the certificate) is refused with
//! a log line and the old one stays in use. Without TLS a SIGHUP is logged and ignored: it
//! never stops the server.
//!
//! This module owns the SIGHUP handler ([`on_sighup`]); it must not stop the server or know
//! about requests.

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use axum_server::tls_rustls::RustlsConfig;

use crate::server::error::ServeError;

/// How often the certificate and key files are looked at for changes.
pub const POLL_EVERY: Duration = Duration::from_secs(2);

/// The TLS configuration being served and the files it comes from.
#[derive(Clone)]
pub struct TlsFiles {
    pub config: RustlsConfig,
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// What the files looked like when last seen: modification time and length of each.
type Stamp = [Option<(SystemTime, u64)>; 2];

impl TlsFiles {
    fn stamp(&self) -> Stamp {
        [&self.cert, &self.key].map(|p| {
            let m = std::fs::metadata(p).ok()?;
            Some((m.modified().ok()?, m.len()))
        })
    }

    /// Loads the pair again and swaps it in; a pair that does not load leaves the old one.
    async fn reload(&self, why: &str) {
        match self
            .config
            .reload_from_pem_file(&self.cert, &self.key)
            .await
        {
            Ok(()) => tracing::info!(
                cert = %self.cert.display(),
                why,
                "TLS certificate and key reloaded; new connections use them"
            ),
            Err(e) => tracing::error!(
                cert = %self.cert.display(),
                key = %self.key.display(),
                why,
                error = %e,
                "refused the new TLS certificate and key; still serving the previous ones"
            ),
        }
    }
}

/// What the server does on SIGHUP: reload the TLS pair when serving HTTPS; otherwise note
/// the signal and carry on. (The one place to add more SIGHUP duties, e.g. reopening logs.)
pub async fn on_sighup(tls: Option<&TlsFiles>) {
    match tls {
        Some(files) => files.reload("SIGHUP").await,
        None => tracing::info!("SIGHUP: no TLS certificate to reload; ignored"),
    }
}

/// Starts handling SIGHUP (at once, so an early signal cannot kill the process) and, with
/// TLS, watching the certificate and key files, for as long as the runtime lives.
pub fn spawn(tls: Option<TlsFiles>) -> Result<(), ServeError> {
    let mut hangups = hangup_signals()?;
    tokio::spawn(async move {
        let mut seen = tls.as_ref().map(TlsFiles::stamp);
        let mut poll = tokio::time::interval(POLL_EVERY);
        poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = hangups.recv() => on_sighup(tls.as_ref()).await,
                _ = poll.tick() => {
                    let Some(files) = &tls else { continue };
                    let now = files.stamp();
                    if seen.as_ref() != Some(&now) {
                        seen = Some(now);
                        files.reload("the certificate or key file changed").await;
                    }
                }
            }
        }
    });
    Ok(())
}

/// SIGHUP as a stream of wake-ups (none on platforms without it).
#[cfg(unix)]
fn hangup_signals() -> Result<Hangups, ServeError> {
    use tokio::signal::unix::{signal, SignalKind};
    signal(SignalKind::hangup())
        .map(Hangups)
        .map_err(|source| ServeError::Io {
            context: "catch SIGHUP".into(),
            source,
        })
}

#[cfg(not(unix))]
fn hangup_signals() -> Result<Hangups, ServeError> {
    Ok(Hangups)
}

#[cfg(unix)]
struct Hangups(tokio::signal::unix::Signal);

#[cfg(not(unix))]
struct Hangups;

impl Hangups {
    #[cfg(unix)]
    async fn recv(&mut self) {
        if self.0.recv().await.is_none() {
            std::future::pending::<()>().await;
        }
    }

    #[cfg(not(unix))]
    async fn recv(&mut self) {
        std::future::pending::<()>().await;
    }
}
