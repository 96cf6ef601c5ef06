//! `fieldsync serve`: run the sync server; and the exit codes of server failures, shared with
//! `admin`. Without the `server` feature the command is still listed, and says how to get it.
use std::path::PathBuf;

use super::Failure;
use crate::exit;
#[cfg(feature = "server")]
use crate::server::{ServeError, ServeOptions, ServiceError, StoreError};

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// A SQLite file path or a postgres:// URL [default: server.sqlite3 in the data dir].
    #[arg(long, env = "FIELDSYNC_DATABASE")]
    pub database: Option<String>,
    /// PEM certificate chain for HTTPS (needs --tls-key).
    #[arg(long, requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key for HTTPS (needs --tls-cert).
    #[arg(long, requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Most requests in flight; beyond it the server answers 503 with Retry-After.
    #[arg(long, default_value_t = 512, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_inflight: u32,
    /// Most memory all request bodies may hold at once, in MiB; beyond it the server answers
    /// 503 with Retry-After.
    #[arg(long, default_value_t = 512, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_body_memory_mib: u32,
}

/// The failure of a server command (`serve`, `admin`, `demo`) in a build without the
/// `server` feature: exit 78 (configuration), with how to get a build that has it.
pub fn server_missing(command: &str) -> Failure {
    Failure::new(
        exit::CONFIG,
        format!(
            "`{command}` needs the sync server, and this fieldsync was built without it: \
             install the full one with `cargo install fieldsync` (default features)"
        ),
    )
}

/// `serve` in a build without the server: always [`server_missing`].
#[cfg(not(feature = "server"))]
pub fn run(_args: ServeArgs) -> Result<i32, Failure> {
    Err(server_missing("serve"))
}

/// The database to use when none is given: `server.sqlite3` in the user's data directory.
#[cfg(feature = "server")]
pub fn default_database() -> Result<String, Failure> {
    directories::ProjectDirs::from("org", "fieldsync", "fieldsync")
        .map(|d| d.data_dir().join("server.sqlite3").display().to_string())
        .ok_or_else(|| {
            Failure::new(
                exit::CONFIG,
                "no home directory to keep the server database in: pass --database",
            )
        })
}

/// Maps a service failure to an exit code and message.
#[cfg(feature = "server")]
pub fn service_failure(e: ServiceError) -> Failure {
    match e {
        ServiceError::Store(s) => store_failure(s),
        other => Failure::new(exit::SOFTWARE, other.to_string()),
    }
}

/// Maps a store failure to an exit code and message.
#[cfg(feature = "server")]
pub fn store_failure(e: StoreError) -> Failure {
    let code = match &e {
        StoreError::UnknownOfficer(_) | StoreError::UnknownForm(_) => exit::NO_INPUT,
        StoreError::DuplicateOfficer(_) | StoreError::Invalid(_) => exit::DATA,
        StoreError::Io { .. } => exit::CANT_CREATE,
        StoreError::Task(_) => exit::SOFTWARE,
        StoreError::Pool(_) | StoreError::Postgres { .. } => exit::TEMPFAIL,
        StoreError::Sqlite { .. } | StoreError::Corrupt(_) => exit::IO,
    };
    Failure::new(code, e.to_string())
}

#[cfg(feature = "server")]
fn init_logging() {
    let filter = std::env::var("FIELDSYNC_LOG")
        .or_else(|_| std::env::var("RUST_LOG"))
        .unwrap_or_else(|_| "info".into());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_new(&filter)
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}

/// Runs the server until SIGINT/SIGTERM.
#[cfg(feature = "server")]
pub fn run(args: ServeArgs) -> Result<i32, Failure> {
    init_logging();
    let database = match args.database {
        Some(d) => d,
        None => default_database()?,
    };
    let opts = ServeOptions {
        listen: args.listen,
        database,
        tls: args.tls_cert.zip(args.tls_key),
        max_inflight: args.max_inflight as usize,
        max_body_memory: args.max_body_memory_mib as usize * 1024 * 1024,
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::new(exit::SOFTWARE, format!("cannot start the runtime: {e}")))?;
    rt.block_on(crate::server::serve(opts))
        .map_err(|e| match e {
            ServeError::Store(s) => store_failure(s),
            ServeError::Listen { .. } => Failure::new(exit::TEMPFAIL, e.to_string()),
            ServeError::Tls(_) => Failure::new(exit::CONFIG, e.to_string()),
            ServeError::Io { .. } => Failure::new(exit::IO, e.to_string()),
        })?;
    Ok(exit::OK)
}
