//! `fieldsync admin`: manage the sync server's officers and tokens, and purge old tombstones.
//! It prints and maps errors; tokens are minted by [`crate::server::service::Service`].
//! Without the `server` feature the command is still listed, and says how to get it.
use super::Failure;
#[cfg(feature = "server")]
use crate::exit;
#[cfg(feature = "server")]
use crate::server::Service;

#[derive(Debug, clap::Args)]
pub struct AdminArgs {
    /// A SQLite file path or a postgres:// URL [default: server.sqlite3 in the data dir].
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
    /// Delete tombstones older than a version; cursors older than it must re-sync.
    PurgeTombstones {
        /// Delete tombstones whose version is below this.
        #[arg(long)]
        before_version: i64,
    },
}

#[derive(Debug, clap::Subcommand)]
pub enum OfficerCommand {
    /// Add an officer and print their new token (once, alone on stdout).
    Add {
        id: String,
        #[arg(long)]
        team: String,
    },
    /// List officers: id, team, created, revoked.
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Revoke an officer's token at once.
    Revoke { id: String },
    /// Move an officer to another team; their next pull delivers the new team's records.
    Move {
        id: String,
        #[arg(long)]
        team: String,
    },
}

/// `admin` in a build without the server: always [`super::serve::server_missing`].
#[cfg(not(feature = "server"))]
pub fn run(_args: AdminArgs) -> Result<i32, Failure> {
    Err(super::serve::server_missing("admin"))
}

/// Runs one admin command against the database.
#[cfg(feature = "server")]
pub fn run(args: AdminArgs) -> Result<i32, Failure> {
    let database = match args.database {
        Some(d) => d,
        None => super::serve::default_database()?,
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::new(exit::SOFTWARE, format!("cannot start the runtime: {e}")))?;
    rt.block_on(async move {
        let service = Service::open(&database)
            .await
            .map_err(super::serve::store_failure)?;
        run_command(&service, args.command).await
    })
}

#[cfg(feature = "server")]
async fn run_command(service: &Service, cmd: AdminCommand) -> Result<i32, Failure> {
    let fail = super::serve::service_failure;
    match cmd {
        AdminCommand::Officer(OfficerCommand::Add { id, team }) => {
            let token = service.add_officer(&id, &team).await.map_err(fail)?;
            crate::outln!("{token}")?;
            eprintln!("officer {id} added to team {team}; the token above is shown only once");
        }
        AdminCommand::Officer(OfficerCommand::List { json }) => {
            let officers = service.list_officers().await.map_err(fail)?;
            if json {
                let s = serde_json::to_string_pretty(&officers)
                    .map_err(|e| Failure::new(exit::SOFTWARE, e.to_string()))?;
                crate::outln!("{s}")?;
            } else {
                crate::outln!("{:<24} {:<16} {:<22} REVOKED", "ID", "TEAM", "CREATED")?;
                for o in officers {
                    crate::outln!(
                        "{:<24} {:<16} {:<22} {}",
                        o.id,
                        o.team,
                        o.created_at,
                        if o.revoked { "yes" } else { "no" }
                    )?;
                }
            }
        }
        AdminCommand::Officer(OfficerCommand::Revoke { id }) => {
            service.revoke_officer(&id).await.map_err(fail)?;
            eprintln!("officer {id}'s token is revoked");
        }
        AdminCommand::Officer(OfficerCommand::Move { id, team }) => {
            service.move_officer(&id, &team).await.map_err(fail)?;
            eprintln!("officer {id} moved to team {team}");
        }
        AdminCommand::PurgeTombstones { before_version } => {
            let n = service
                .purge_tombstones(before_version)
                .await
                .map_err(fail)?;
            eprintln!("purged {n} tombstones below version {before_version}");
        }
    }
    Ok(exit::OK)
}
