//! The command line: parsing, output formatting and prompts. It decides nothing about sync.

pub mod admin;
pub mod serve;

use clap::{Parser, Subcommand};

/// Offline-first field data: record households and visits offline, sync when back in range.
#[derive(Debug, Parser)]
#[command(name = "fieldsync", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the sync server.
    Serve(serve::ServeArgs),
    /// Manage the sync server's officers and tokens.
    Admin(admin::AdminArgs),
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
}

/// Runs a parsed command line; returns the exit code on success.
pub fn run(cli: Cli) -> Result<i32, Failure> {
    match cli.command {
        Command::Serve(args) => serve::run(args),
        Command::Admin(args) => admin::run(args),
    }
}
