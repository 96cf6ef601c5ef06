//! `fieldsync init`: writes the config (server, officer, token, and a copy of the
//! organisation's certificate authority with `--ca-cert`), after trying the token against the
//! server when it is reachable ([`super::setup`]), and creates the database if there is none
//! yet. Run again for the same officer (e.g. with a new token after `admin officer token`), it
//! replaces the config and leaves the database and its queue alone; it refuses an officer other
//! than the one the database belongs to. It never writes records or touches the queue.

use std::io::BufRead;

use clap::Args;
use serde_json::json;

use super::setup::TokenCheck;
use super::{print_json, Failure, Globals};
use crate::client::config::{save_ca_copy, Config};
use crate::exit;

#[derive(Debug, Args)]
pub struct InitArgs {
    /// The sync server's URL, e.g. https://sync.example.org.
    #[arg(long)]
    pub server: String,
    /// Your officer id, as your administrator registered it.
    #[arg(long)]
    pub officer: String,
    /// Your token (visible to other users in the process list; prefer --token-stdin).
    #[arg(long, conflicts_with = "token_stdin")]
    pub token: Option<String>,
    /// Read the token from the first line of stdin.
    #[arg(long)]
    pub token_stdin: bool,
    /// Also trust this certificate authority (PEM), for a server whose certificate your
    /// organisation issued itself. It is copied beside the config.
    #[arg(long, value_name = "FILE")]
    pub ca_cert: Option<std::path::PathBuf>,
}

pub fn run(g: &Globals, args: InitArgs) -> Result<i32, Failure> {
    crate::model::validate_officer_id(&args.officer)
        .map_err(|e| Failure::new(exit::USAGE, e.to_string()))?;
    super::setup::check_server_url(&args.server)?;
    let token = if args.token_stdin {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line).map_err(|e| {
            Failure::new(exit::IO, format!("cannot read the token from stdin: {e}"))
        })?;
        let t = line.trim().to_string();
        if t.is_empty() {
            return Err(Failure::new(
                exit::USAGE,
                "--token-stdin: stdin held no token",
            ));
        }
        Some(t)
    } else {
        args.token
    };
    let queued = queued_for(g, &args.officer)?;
    let checked = super::setup::check_token(&args.server, token.as_deref(), g.timeout)?;
    let path = g.config_path()?;
    let ca_cert = install_ca(&path, args.ca_cert.as_deref())?;
    let config = Config {
        server: args.server,
        officer: args.officer,
        token,
        ca_cert,
    };
    config.save(&path)?;
    // The database is set up here too, so that commands that only read can insist on it.
    g.open_store()?;
    if g.json {
        print_json(
            &json!({ "config": path.display().to_string(), "server": config.server, "officer": config.officer, "queued": queued, "token_checked": checked == TokenCheck::Accepted }),
        )?;
    } else {
        crate::errln!("wrote {} (owner-only)", path.display());
        if let Some(n) = queued.filter(|n| *n > 0) {
            crate::errln!("{n} queued changes are kept: they go with the next `fieldsync sync`");
        }
        match checked {
            TokenCheck::Accepted => crate::errln!("{} accepted the token", config.server),
            TokenCheck::NotChecked(why) => {
                crate::errln!(
                    "note: token not checked: {why}; the first `fieldsync sync` will try it"
                )
            }
        }
    }
    Ok(exit::OK)
}

/// Checks `--ca-cert FILE` (it must hold a certificate) and copies it beside the config, so
/// moving or deleting the original does not break sync; returns what the config keeps.
fn install_ca(
    config_path: &std::path::Path,
    ca: Option<&std::path::Path>,
) -> Result<Option<std::path::PathBuf>, Failure> {
    let Some(file) = ca else { return Ok(None) };
    let pem = crate::client::tls::read_ca_file(file)?;
    Ok(Some(save_ca_copy(config_path, &pem)?))
}

/// The changes waiting in this device's database, if it exists (`None` when it does not);
/// refuses a database that belongs to another officer than `officer`.
fn queued_for(g: &Globals, officer: &str) -> Result<Option<i64>, Failure> {
    let db = g.db_path()?;
    if !db.exists() {
        return Ok(None);
    }
    let store = g.open_store()?;
    match store.officer()? {
        Some(owner) if owner != officer => Err(crate::client::Error::OtherOfficer {
            path: db,
            owner,
            officer: officer.to_string(),
        }
        .into()),
        _ => {
            let q = store.queue_counts()?;
            Ok(Some(q.pending + q.sending + q.rejected))
        }
    }
}
