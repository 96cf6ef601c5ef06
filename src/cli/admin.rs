//! `fieldsync admin`: manage the sync server's officers and tokens, supervise who syncs, back
//! up, report the store's state, publish team forms (`admin form`, in `cli::forms`) and purge
//! old tombstones. It prints and maps errors; every
//! rule (tokens, silence, the purge limit) lives in [`crate::server`]. It opens only an
//! existing database (exit 66 otherwise): only `serve` creates one.
//! Without the `server` feature the command is still listed, and says how to get it.
use super::Failure;
#[cfg(feature = "server")]
use crate::exit;
#[cfg(feature = "server")]
use crate::server::Service;

#[derive(Debug, clap::Args)]
pub struct AdminArgs {
    /// sqlite:PATH, a path ending in .sqlite3 or .db, a postgres:// URL or a libpq
    /// "key=value ..." string; anything else is refused (exit 78) [default: server.sqlite3 in
    /// the data dir, announced on stderr].
    #[arg(long, env = "FIELDSYNC_DATABASE", global = true)]
    pub database: Option<String>,
    #[command(subcommand)]
    pub command: AdminCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum AdminCommand {
    /// Add, list, revoke and move officers.
    #[command(subcommand)]
    Officer(OfficerCommand),
    /// Export records as CSV or JSON lines for analysis, streamed; prints the version to pass
    /// as --since next time.
    Export(super::export::AdminExportArgs),
    /// Publish, list and show each team's form (XLSForm) versions.
    #[command(subcommand)]
    Form(super::forms::AdminFormCommand),
    /// Delete tombstones older than a version; cursors older than it must re-sync.
    PurgeTombstones {
        /// Delete tombstones whose version is below this (at most the current version).
        #[arg(long)]
        before_version: i64,
    },
    /// Forget the stored results of changes received more than a number of days ago (op-id
    /// retention; `serve` does it every hour with --op-retention-days). A device that sends
    /// one of them again is refused `op_expired`, never applied twice.
    TrimOps {
        /// Forget results received at least this many days ago; 0 forgets every result
        /// (a device retrying a push whose answer it lost is then refused, not applied).
        #[arg(long, value_name = "DAYS", value_parser = parse_days)]
        older_than_days: std::time::Duration,
    },
    /// Server version, officers, records, the current version, the history floor and table
    /// sizes.
    Status {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Create or upgrade the server database's schema, then exit. Run it as the schema owner
    /// (PostgreSQL), once per upgrade, before starting the new servers; `serve` and the other
    /// `admin` commands then need only SELECT/INSERT/UPDATE/DELETE on the tables.
    /// PostgreSQL: the database must exist (an empty one gets the whole schema); SQLite: the
    /// file must exist (`serve` creates new ones).
    Migrate,
    /// Write a consistent copy of a SQLite server database to a new FILE, while the server
    /// runs (PostgreSQL: use pg_dump -Fc).
    Backup {
        /// The backup file to create; an existing file is never overwritten.
        file: std::path::PathBuf,
    },
}

#[derive(Debug, clap::Subcommand)]
pub enum OfficerCommand {
    /// Add an officer and print their new token (once, alone on stdout).
    Add {
        /// The officer's id (letters, digits, _ - . @), as in the config of their laptop.
        id: String,
        /// The team whose households and visits the officer sees and edits.
        #[arg(long)]
        team: String,
    },
    /// List officers: team, last push, last pull, changes pushed, revoked.
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// Only officers who have not synced (no push, no pull) for this long: 7d, 12h, 30m.
        /// Officers who never synced count from when they were added.
        #[arg(long, value_name = "DURATION", value_parser = parse_silence)]
        silent_for: Option<Silence>,
    },
    /// Revoke an officer's token at once.
    Revoke {
        /// The officer's id (letters, digits, _ - . @), as in the config of their laptop.
        id: String,
    },
    /// Issue a new token (printed once, alone on stdout): the old one stops working at once,
    /// and a revocation is lifted. The officer then runs `fieldsync init --token-stdin`.
    Token {
        /// The officer's id (letters, digits, _ - . @), as in the config of their laptop.
        id: String,
    },
    /// Move an officer to another team; their next pull delivers the new team's records.
    Move {
        /// The officer's id (letters, digits, _ - . @), as in the config of their laptop.
        id: String,
        /// The team the officer joins.
        #[arg(long)]
        team: String,
    },
}

/// A `--silent-for` duration, as given and as parsed.
#[derive(Debug, Clone)]
pub struct Silence {
    pub text: String,
    #[cfg(feature = "server")]
    pub duration: time::Duration,
}

/// A whole number of days, 0 to 36500.
pub(super) fn parse_days(s: &str) -> Result<std::time::Duration, String> {
    let days: u64 = s
        .trim()
        .parse()
        .map_err(|_| format!("{s:?} is not a whole number of days"))?;
    if days > 36_500 {
        return Err(format!("{days} days is more than 100 years"));
    }
    Ok(std::time::Duration::from_secs(days * 24 * 3600))
}

fn parse_silence(s: &str) -> Result<Silence, String> {
    #[cfg(feature = "server")]
    let duration = crate::server::supervision::parse_silence(s)?;
    Ok(Silence {
        text: s.to_string(),
        #[cfg(feature = "server")]
        duration,
    })
}

/// `admin` in a build without the server: always [`super::serve::server_missing`].
#[cfg(not(feature = "server"))]
pub fn run(_args: AdminArgs) -> Result<i32, Failure> {
    Err(super::serve::server_missing("admin"))
}

/// Runs one admin command against an existing database (never creating one).
#[cfg(feature = "server")]
pub fn run(args: AdminArgs) -> Result<i32, Failure> {
    let (database, default_note) = super::serve::choose_database(args.database)?;
    if let Some(note) = default_note {
        crate::errln!("{note}");
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::new(exit::SOFTWARE, format!("cannot start the runtime: {e}")))?;
    rt.block_on(async move {
        if let AdminCommand::Migrate = args.command {
            return migrate(&database).await;
        }
        let service = Service::open_existing(&database)
            .await
            .map_err(super::serve::store_failure)?;
        run_command(&service, &database, args.command).await
    })
}

#[cfg(feature = "server")]
async fn run_command(service: &Service, database: &str, cmd: AdminCommand) -> Result<i32, Failure> {
    let fail = super::serve::service_failure;
    match cmd {
        AdminCommand::Form(cmd) => return super::forms::run_admin_form(service, cmd).await,
        AdminCommand::Officer(cmd) => run_officer(service, cmd).await?,
        AdminCommand::Export(args) => return super::export::run_admin(service, args).await,
        AdminCommand::PurgeTombstones { before_version } => {
            let n = service
                .purge_tombstones(before_version)
                .await
                .map_err(fail)?;
            crate::errln!("purged {n} tombstones below version {before_version}");
        }
        AdminCommand::Migrate => return migrate(database).await,
        AdminCommand::TrimOps { older_than_days } => {
            let n = service.trim_ops(older_than_days).await.map_err(fail)?;
            let days = older_than_days.as_secs() / (24 * 3600);
            crate::errln!("forgot {n} push results received {days} or more days ago");
        }
        AdminCommand::Status { json } => {
            let stats = service.stats().await.map_err(fail)?;
            print_status(service.store_kind(), service.server_id(), &stats, json)?;
        }
        AdminCommand::Backup { file } => {
            if service.store_kind() == "postgres" {
                return Err(Failure::new(
                    exit::USAGE,
                    format!(
                        "a PostgreSQL server database is backed up with pg_dump: \
                         pg_dump -Fc --file {} '{database}' (restore with pg_restore; see docs/server.md)",
                        file.display()
                    ),
                ));
            }
            service.backup(&file).await.map_err(fail)?;
            crate::errln!("backed up to {}", file.display());
        }
    }
    Ok(exit::OK)
}

/// `admin migrate`: brings the schema to this build's version and says what it did.
#[cfg(feature = "server")]
async fn migrate(database: &str) -> Result<i32, Failure> {
    let (before, after) = crate::server::store::migrate(database)
        .await
        .map_err(super::serve::store_failure)?;
    match before {
        Some(b) if b == after => crate::errln!("the schema is already at version {after}"),
        Some(b) => crate::errln!("schema upgraded from version {b} to {after}"),
        None => crate::errln!("schema created at version {after}"),
    }
    Ok(exit::OK)
}

#[cfg(feature = "server")]
async fn run_officer(service: &Service, cmd: OfficerCommand) -> Result<(), Failure> {
    let fail = super::serve::service_failure;
    match cmd {
        OfficerCommand::Add { id, team } => {
            let token = service.add_officer(&id, &team).await.map_err(fail)?;
            println!("{token}");
            crate::errln!("officer {id} added to team {team}; the token above is shown only once");
        }
        OfficerCommand::List { json, silent_for } => {
            let mut officers = service.list_officers().await.map_err(fail)?;
            if let Some(s) = &silent_for {
                let now = time::OffsetDateTime::now_utc();
                officers.retain(|o| crate::server::supervision::is_silent(o, now, s.duration));
            }
            print_officers(&officers, json)?;
            if let (Some(s), false) = (&silent_for, json) {
                crate::errln!("{} officers have not synced for {}", officers.len(), s.text);
            }
        }
        OfficerCommand::Revoke { id } => {
            service.revoke_officer(&id).await.map_err(fail)?;
            crate::errln!("officer {id}'s token is revoked");
        }
        OfficerCommand::Token { id } => {
            let token = service.issue_token(&id).await.map_err(fail)?;
            println!("{token}");
            crate::errln!(
                "new token for officer {id} (shown only once; the old one no longer works): \
                 on the laptop run `fieldsync init --server URL --officer {id} --token-stdin`; \
                 queued changes are kept"
            );
        }
        OfficerCommand::Move { id, team } => {
            service.move_officer(&id, &team).await.map_err(fail)?;
            crate::errln!("officer {id} moved to team {team}");
        }
    }
    Ok(())
}

#[cfg(feature = "server")]
fn print_officers(
    officers: &[crate::server::store::OfficerSummary],
    json: bool,
) -> Result<(), Failure> {
    if json {
        return super::print_json(&officers);
    }
    println!(
        "{:<24} {:<16} {:<21} {:<21} {:>8} REVOKED",
        "ID", "TEAM", "LAST PUSH", "LAST PULL", "CHANGES"
    );
    let never = || "never".to_string();
    for o in officers {
        println!(
            "{:<24} {:<16} {:<21} {:<21} {:>8} {}",
            o.officer.id,
            o.officer.team,
            o.last_push_at.clone().unwrap_or_else(never),
            o.last_pull_at.clone().unwrap_or_else(never),
            o.changes_pushed,
            if o.officer.revoked { "yes" } else { "no" }
        );
    }
    Ok(())
}

#[cfg(feature = "server")]
fn print_status(
    store: &str,
    server_id: &str,
    stats: &crate::server::store::StoreStats,
    json: bool,
) -> Result<(), Failure> {
    let version = env!("CARGO_PKG_VERSION");
    if json {
        return super::print_json(&serde_json::json!({
            "server_version": version,
            "server_id": server_id,
            "store": store,
            "stats": stats,
        }));
    }
    println!("server version   fieldsync {version}");
    println!("server id        {server_id}");
    println!("store            {store} (schema {})", stats.schema_version);
    println!(
        "officers         {} ({} revoked)",
        stats.officers, stats.revoked_officers
    );
    println!(
        "records          {} ({} tombstones)",
        stats.records, stats.tombstones
    );
    println!("current version  {}", stats.current_version);
    println!("history floor    {}", stats.history_floor);
    println!(
        "push results     {} (kept for the op-id retention; {} devices' marks)",
        stats.stored_results, stats.devices_tracked
    );
    println!("forms            {}", stats.forms);
    println!(
        "database size    {:.1} MiB",
        stats.database_bytes as f64 / (1024.0 * 1024.0)
    );
    let width = stats.table_bytes.keys().map(String::len).max().unwrap_or(0);
    for (table, bytes) in &stats.table_bytes {
        println!(
            "  {table:<width$} {:>8.1} MiB",
            *bytes as f64 / (1024.0 * 1024.0)
        );
    }
    Ok(())
}
