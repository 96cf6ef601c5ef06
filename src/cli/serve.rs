//! `fieldsync serve`: run the sync server; and the exit codes of server failures, shared with
//! `admin`. Without the `server` feature the command is still listed, and says how to get it.
use std::path::PathBuf;

use super::Failure;
use crate::exit;
#[cfg(feature = "server")]
use crate::server::database::Database;
#[cfg(feature = "server")]
use crate::server::{ServeError, ServeOptions, ServiceError, StoreError};

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, env = "FIELDSYNC_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// sqlite:PATH, a path ending in .sqlite3 or .db, a postgres:// URL or a libpq
    /// "key=value ..." string; anything else is refused (exit 78) [default: server.sqlite3 in
    /// the data dir, announced on stdout after the `listening on` line].
    #[arg(long, env = "FIELDSYNC_DATABASE")]
    pub database: Option<String>,
    /// PEM certificate chain for HTTPS (needs --tls-key).
    #[arg(long, env = "FIELDSYNC_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key for HTTPS (needs --tls-cert).
    #[arg(long, env = "FIELDSYNC_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Most requests in flight; beyond it the server answers 503 with Retry-After.
    #[arg(long, env = "FIELDSYNC_MAX_INFLIGHT", default_value_t = 512, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_inflight: u32,
    /// Most memory all request bodies may hold at once, in MiB; beyond it the server answers
    /// 503 with Retry-After.
    #[arg(long, env = "FIELDSYNC_MAX_BODY_MEMORY_MIB", default_value_t = 512, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_body_memory_mib: u32,
    /// Log lines on stderr as `text` or `json` (one object a line). The level comes from
    /// FIELDSYNC_LOG (or RUST_LOG), default `info`.
    #[arg(long, env = "FIELDSYNC_LOG_FORMAT", value_enum, default_value = "text")]
    pub log_format: LogFormat,
    /// PostgreSQL: most connections this process opens (keep processes × pool size below the
    /// database's max_connections). A request that finds every connection busy for 5 s is
    /// answered 503 with Retry-After; connections idle for 2 minutes are closed.
    #[arg(long, env = "FIELDSYNC_POOL_SIZE", default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub pool_size: u32,
    /// Who may read the Prometheus metrics at /metrics: `loopback` (clients on this host),
    /// `public` (everyone who reaches the port) or `off`.
    #[arg(
        long,
        env = "FIELDSYNC_METRICS",
        value_enum,
        default_value = "loopback"
    )]
    pub metrics: MetricsFlag,
    /// Days the server keeps each change's stored result (what makes a retried push apply
    /// once); older ones are forgotten every hour, and a device sending one again is refused
    /// `op_expired`, never applied twice. Keep it longer than any device stays offline.
    #[arg(long, env = "FIELDSYNC_OP_RETENTION_DAYS", value_name = "DAYS", default_value = "30", value_parser = parse_retention)]
    pub op_retention_days: std::time::Duration,
}

/// `--op-retention-days`: 1 to 36500 (0 would forget a result while its device retries).
fn parse_retention(s: &str) -> Result<std::time::Duration, String> {
    let d = super::admin::parse_days(s)?;
    if d.is_zero() {
        return Err("keep results at least 1 day (a retried push must find its result)".into());
    }
    Ok(d)
}

/// `--metrics`; mirrored so the flag exists in every build.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum MetricsFlag {
    Loopback,
    Public,
    Off,
}

/// `--log-format`; the server build's own type, mirrored so the flag exists in every build.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
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

/// The database a server command runs on: the one given, checked (a value naming no
/// database is exit 78 and nothing is created), or the default with the sentence that
/// announces it.
#[cfg(feature = "server")]
pub fn choose_database(given: Option<String>) -> Result<(String, Option<String>), Failure> {
    match given {
        Some(d) => {
            Database::parse(&d).map_err(|e| {
                Failure::new(
                    exit::CONFIG,
                    format!("--database / FIELDSYNC_DATABASE: {e}"),
                )
            })?;
            Ok((d, None))
        }
        None => {
            let d = default_database()?;
            let note = format!(
                "database: no --database or FIELDSYNC_DATABASE given, using the default SQLite file {d}"
            );
            Ok((d, Some(note)))
        }
    }
}

/// Maps a service failure to an exit code and message.
#[cfg(feature = "server")]
pub fn service_failure(e: ServiceError) -> Failure {
    match e {
        ServiceError::Store(s) => store_failure(s),
        e @ ServiceError::VersionBeyondCurrent { .. } => Failure::new(exit::DATA, e.to_string()),
        other => Failure::new(exit::SOFTWARE, other.to_string()),
    }
}

/// Maps a store failure to an exit code and message.
#[cfg(feature = "server")]
pub fn store_failure(e: StoreError) -> Failure {
    let code = match &e {
        StoreError::UnknownOfficer(_)
        | StoreError::UnknownForm(_)
        | StoreError::Missing(_)
        | StoreError::NotFieldsync(_) => exit::NO_INPUT,
        StoreError::Exists(_) => exit::CANT_CREATE,
        StoreError::DuplicateOfficer(_) | StoreError::Invalid(_) => exit::DATA,
        StoreError::Database(_) => exit::CONFIG,
        StoreError::Io { .. } => exit::CANT_CREATE,
        StoreError::Task(_) | StoreError::CrossTeam(_) => exit::SOFTWARE,
        StoreError::Pool(_) | StoreError::PoolExhausted { .. } | StoreError::Postgres { .. } => {
            exit::TEMPFAIL
        }
        StoreError::Sqlite { .. }
        | StoreError::Corrupt(_)
        | StoreError::NewerSchema { .. }
        | StoreError::NeedsMigration { .. } => exit::IO,
    };
    Failure::new(code, e.to_string())
}

#[cfg(feature = "server")]
fn init_logging(format: LogFormat) {
    let filter = std::env::var("FIELDSYNC_LOG")
        .or_else(|_| std::env::var("RUST_LOG"))
        .unwrap_or_else(|_| "info".into());
    let format = match format {
        LogFormat::Text => crate::server::logging::LogFormat::Text,
        LogFormat::Json => crate::server::logging::LogFormat::Json,
    };
    crate::server::logging::init(&filter, format);
}

/// Runs the server until SIGINT/SIGTERM.
#[cfg(feature = "server")]
pub fn run(args: ServeArgs) -> Result<i32, Failure> {
    init_logging(args.log_format);
    let (database, default_note) = choose_database(args.database)?;
    let opts = ServeOptions {
        listen: args.listen,
        database,
        startup_notes: default_note.into_iter().collect(),
        tls: args.tls_cert.zip(args.tls_key),
        max_inflight: args.max_inflight as usize,
        max_body_memory: args.max_body_memory_mib as usize * 1024 * 1024,
        metrics: match args.metrics {
            MetricsFlag::Loopback => crate::server::http::metrics::MetricsAccess::Loopback,
            MetricsFlag::Public => crate::server::http::metrics::MetricsAccess::Public,
            MetricsFlag::Off => crate::server::http::metrics::MetricsAccess::Off,
        },
        store: crate::server::store::StoreOptions {
            pool_size: args.pool_size as usize,
            ..Default::default()
        },
        op_retention: args.op_retention_days,
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::new(exit::SOFTWARE, format!("cannot start the runtime: {e}")))?;
    let served = rt.block_on(crate::server::serve(opts));
    let dropped = crate::server::logging::dropped_lines();
    if dropped > 0 {
        tracing::warn!(
            dropped_log_lines = dropped,
            "some log lines could not be written"
        );
    }
    crate::server::logging::flush(std::time::Duration::from_secs(2));
    served.map_err(|e| match e {
        ServeError::Store(s) => store_failure(s),
        ServeError::Listen { .. } => Failure::new(exit::TEMPFAIL, e.to_string()),
        ServeError::Tls(_) => Failure::new(exit::CONFIG, e.to_string()),
        ServeError::Io { .. } => Failure::new(exit::IO, e.to_string()),
    })?;
    Ok(exit::OK)
}
