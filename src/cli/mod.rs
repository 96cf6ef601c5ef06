//! The command line: parsing, output formatting and prompts, and the one mapping from errors
//! to exit codes ([`errors`]). It decides nothing about sync; every rule lives in
//! [`crate::client`], [`crate::server`] or [`crate::merge`].

pub mod admin;
pub mod demo;
pub mod discard;
pub mod errors;
pub mod export;
pub mod form_check;
pub mod format;
pub mod forms;
pub mod guided;
pub mod help;
pub mod import;
pub mod init;
pub mod out;
pub mod queue;
pub mod records;
pub mod resolve;
pub mod serve;
pub mod setup;
pub mod sync;
pub mod times;
pub mod waiting;

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::client::config::{default_config_path, default_db_path, Config};
use crate::client::store::Store;
use crate::client::Error;

/// Offline-first field data: record households and visits offline, sync when back in range.
#[derive(Debug, Parser)]
#[command(name = "fieldsync", version, about, long_about = None)]
pub struct Cli {
    /// The local database [default: fieldsync.sqlite3 in the user's data directory].
    #[arg(long, global = true, env = "FIELDSYNC_DB", value_name = "PATH")]
    pub db: Option<PathBuf>,

    /// The config file [default: config.toml in the user's config directory].
    #[arg(long, global = true, env = "FIELDSYNC_CONFIG", value_name = "PATH")]
    pub config: Option<PathBuf>,

    /// Print machine-readable JSON instead of text.
    #[arg(long, global = true)]
    pub json: bool,

    /// How long to wait for the server to answer one request, e.g. 10s, 2m [default: 30s].
    #[arg(long, global = true, value_name = "DURATION", value_parser = sync::parse_duration)]
    pub timeout: Option<std::time::Duration>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Set up this device: which server to sync with, as which officer.
    Init(init::InitArgs),
    /// Record and look up households.
    #[command(subcommand)]
    Household(records::HouseholdCommand),
    /// Record and look up visits.
    #[command(subcommand)]
    Visit(records::VisitCommand),
    /// Show the team's form (questionnaire), as synced to this device.
    #[command(subcommand)]
    Form(forms::FormCommand),
    /// Show the changes waiting to be synced.
    Queue(queue::QueueArgs),
    /// Show what is synced, what waits, and what needs attention.
    Status,
    /// Push local changes to the server, then pull everyone else's.
    Sync(sync::SyncArgs),
    /// List records in conflict with the server's copy.
    Conflicts,
    /// Settle conflicts, interactively or with flags.
    Resolve(resolve::ResolveArgs),
    /// Print a shell completion script.
    Completions {
        /// bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
    },
    /// Export this laptop's records as CSV or JSON lines (e.g. when it is retired).
    Export(export::LocalExportArgs),
    /// Run the sync server.
    Serve(serve::ServeArgs),
    /// Manage the sync server's officers and tokens.
    Admin(admin::AdminArgs),
    /// Show fieldsync end to end: a local server, three officers of two teams, offline work, sync.
    Demo(demo::DemoArgs),
}

/// A failed command: the message for stderr and the process exit code.
#[derive(Debug)]
pub struct Failure {
    pub code: i32,
    pub message: String,
}

impl Failure {
    pub fn new(code: i32, message: impl Into<String>) -> Self {
        Failure {
            code,
            message: message.into(),
        }
    }

    /// Standard output was closed by the reader (`| head`): end quietly with 0.
    pub fn broken_pipe() -> Self {
        Failure::new(crate::exit::OK, "")
    }

    /// Is this the quiet end of [`Failure::broken_pipe`], with nothing to print?
    pub fn is_quiet(&self) -> bool {
        self.message.is_empty()
    }
}

/// The options every client command shares.
#[derive(Debug, Clone)]
pub struct Globals {
    pub db: Option<PathBuf>,
    pub config: Option<PathBuf>,
    pub json: bool,
    /// How long one request to the server may take (`--timeout`).
    pub timeout: std::time::Duration,
}

impl Globals {
    pub fn db_path(&self) -> Result<PathBuf, Error> {
        match &self.db {
            Some(p) => Ok(p.clone()),
            None => default_db_path(),
        }
    }

    pub fn open_store(&self) -> Result<Store, Error> {
        Store::open(&self.db_path()?)
    }

    /// Opens the database for a command that only reads: a missing one is exit 78, never
    /// created.
    pub fn open_existing_store(&self) -> Result<Store, Failure> {
        let path = self.db_path()?;
        setup::require_database(&path)?;
        Ok(Store::open(&path)?)
    }

    pub fn config_path(&self) -> Result<PathBuf, Error> {
        match &self.config {
            Some(p) => Ok(p.clone()),
            None => default_config_path(),
        }
    }

    pub fn load_config(&self) -> Result<Config, Error> {
        Config::load(&self.config_path()?)
    }
}

/// Prints a JSON value on stdout.
pub fn print_json(v: &impl serde::Serialize) -> Result<(), Failure> {
    let s = serde_json::to_string_pretty(v)
        .map_err(|e| Failure::new(crate::exit::SOFTWARE, e.to_string()))?;
    crate::outln!("{s}")
}

/// Can we ask the officer questions? Only with a terminal on both ends.
pub fn interactive() -> bool {
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}

/// Runs a parsed command line; returns the exit code on success.
pub fn run(cli: Cli) -> Result<i32, Failure> {
    let g = Globals {
        db: cli.db,
        config: cli.config,
        json: cli.json,
        timeout: cli
            .timeout
            .unwrap_or(crate::client::transport::DEFAULT_TIMEOUT),
    };
    match cli.command {
        Command::Init(args) => init::run(&g, args),
        Command::Household(cmd) => records::run_household(&g, cmd),
        Command::Visit(cmd) => records::run_visit(&g, cmd),
        Command::Form(cmd) => forms::run_form(&g, cmd),
        Command::Queue(args) => queue::run_queue(&g, args),
        Command::Status => queue::run_status(&g),
        Command::Sync(args) => sync::run(&g, args),
        Command::Conflicts => resolve::run_conflicts(&g),
        Command::Resolve(args) => resolve::run_resolve(&g, args),
        Command::Completions { shell } => {
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut help::command(), "fieldsync", &mut script);
            out::write_out(&script)?;
            Ok(crate::exit::OK)
        }
        Command::Export(args) => export::run_local(&g, args),
        Command::Serve(args) => serve::run(args),
        Command::Admin(args) => admin::run(args),
        Command::Demo(args) => demo::run(args),
    }
}
