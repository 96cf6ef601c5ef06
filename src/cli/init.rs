//! `fieldsync init`: writes the config (server, officer, token), after trying the token
//! against the server when it is reachable ([`super::setup`]), and creates the database if
//! there is none yet. It must not write records.

use std::io::BufRead;

use clap::Args;
use serde_json::json;

use super::setup::TokenCheck;
use super::{print_json, Failure, Globals};
use crate::client::config::Config;
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
    let checked = super::setup::check_token(&args.server, token.as_deref())?;
    let config = Config {
        server: args.server,
        officer: args.officer,
        token,
    };
    let path = g.config_path()?;
    config.save(&path)?;
    // The database is set up here too, so that commands that only read can insist on it.
    g.open_store()?;
    if g.json {
        print_json(
            &json!({ "config": path.display().to_string(), "server": config.server, "officer": config.officer, "token_checked": checked == TokenCheck::Accepted }),
        )?;
    } else {
        eprintln!("wrote {} (owner-only)", path.display());
        match checked {
            TokenCheck::Accepted => eprintln!("{} accepted the token", config.server),
            TokenCheck::NotChecked(why) => {
                eprintln!("note: token not checked: {why}; the first `fieldsync sync` will")
            }
        }
    }
    Ok(exit::OK)
}
