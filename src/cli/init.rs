//! `fieldsync init`: writes the config (server, officer, token, and a copy of the
//! organisation's certificate authority with `--ca-cert`). It must not contact the server or
//! open the store.

use std::io::BufRead;

use clap::Args;
use serde_json::json;

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
    reqwest::Url::parse(&args.server).map_err(|e| {
        Failure::new(
            exit::USAGE,
            format!("--server {:?} is not a URL: {e}", args.server),
        )
    })?;
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
    let path = g.config_path()?;
    let ca_cert = install_ca(&path, args.ca_cert.as_deref())?;
    let config = Config {
        server: args.server,
        officer: args.officer,
        token,
        ca_cert,
    };
    config.save(&path)?;
    if g.json {
        print_json(
            &json!({ "config": path.display().to_string(), "server": config.server, "officer": config.officer }),
        )?;
    } else {
        eprintln!("wrote {} (owner-only)", path.display());
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
