//! The command line as a whole: the [`clap::Command`] that `--help`, completions and man
//! pages are made from, and parsing with it. Client-only global options (`--db`,
//! `--config`, `--json`, `--timeout`) are hidden from the server's commands (`serve`,
//! `admin`) and refused there, and `fieldsync --help` ends with the exit codes.
//!
//! This module must not run commands: [`super::run`] does.

use std::ffi::OsString;

use clap::parser::ValueSource;
use clap::{Arg, ArgAction, ArgMatches, Command, CommandFactory, FromArgMatches};

use super::Cli;

/// The options of the officer's commands that mean nothing to the server's.
pub const CLIENT_GLOBALS: &[&str] = &["db", "config", "json", "timeout"];

/// The server's commands, which take their own options only.
pub const SERVER_COMMANDS: &[&str] = &["serve", "admin"];

/// The end of `fieldsync --help`: the README's exit-code table, in short.
pub const EXIT_CODES: &str = "\
Exit codes:
  0    done (also when the reader of the output went away, as in `| head -1`)
  2    usage: a malformed flag, an ambiguous id, nothing to change, a prompt without a terminal
  3    sync: synced, but conflicts wait for `fieldsync resolve`
  4    sync: synced, but the server rejected some changes (`fieldsync queue --rejected`)
  65   bad data: a field fails validation, a malformed import file, answers that do not fit the form
  66   not found: an id that matches nothing, a missing input file
  70   internal error (a bug): please report it
  73   a backup or export file cannot be written
  74   the local database is unavailable (unreadable, corrupt, read-only, disk full, newer)
  75   offline or busy: the server cannot be reached or did not answer; nothing was lost
  76   the server answered something this client does not understand
  77   the token is wrong or revoked: ask for a new one and run `fieldsync init --token-stdin`
  78   configuration missing or invalid, or no database yet: run `fieldsync init`
  79   the server's TLS certificate was refused
  130  you backed out of a prompt; nothing was changed";

/// The whole command line, as `--help`, completions and man pages show it.
pub fn command() -> Command {
    let mut cmd = Cli::command().after_help(EXIT_CODES);
    for name in SERVER_COMMANDS {
        cmd = cmd.mut_subcommand(*name, shadow_client_globals);
    }
    cmd
}

/// Gives `cmd` and everything under it hidden, non-global stand-ins for the client-only
/// options: clap copies a global option into a subcommand only where the subcommand has no
/// option of that name, so `--help` of the server's commands does not list them, and
/// [`parse`] refuses them when given.
fn shadow_client_globals(mut cmd: Command) -> Command {
    for name in CLIENT_GLOBALS {
        if cmd.get_arguments().any(|a| a.get_id() == *name) {
            continue; // the command's own option of that name (`admin … --json`)
        }
        let arg = Arg::new(*name).long(*name).hide(true);
        cmd = cmd.arg(if *name == "json" {
            arg.action(ArgAction::SetTrue)
        } else {
            arg.action(ArgAction::Set)
        });
    }
    let subs: Vec<String> = cmd
        .get_subcommands()
        .map(|s| s.get_name().to_string())
        .collect();
    for sub in subs {
        cmd = cmd.mut_subcommand(sub, shadow_client_globals);
    }
    cmd
}

/// Parses the process's arguments; prints help, the version or a usage error (exit 2) and
/// exits where clap would.
pub fn parse() -> Cli {
    let mut cmd = command();
    let args: Vec<OsString> = std::env::args_os().collect();
    let matches = cmd
        .try_get_matches_from_mut(args.iter())
        .unwrap_or_else(|e| e.exit());
    if let Err(e) = refuse_client_globals(&cmd, &matches, &args) {
        e.exit();
    }
    Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.format(&mut cmd).exit())
}

/// A client-only option typed after a server command (`fieldsync serve --db x`) is a usage
/// error; before it (`fieldsync --db x admin …`, as a shell alias may add) it is ignored, and
/// the server commands' own options of the same name (`admin officer list --json`) are theirs.
fn refuse_client_globals(
    cmd: &Command,
    matches: &ArgMatches,
    args: &[OsString],
) -> Result<(), clap::Error> {
    let Some((name, _)) = matches.subcommand() else {
        return Ok(());
    };
    if !SERVER_COMMANDS.contains(&name) {
        return Ok(());
    }
    let refused = |flag: &str| {
        cmd.clone().error(
            clap::error::ErrorKind::ArgumentConflict,
            format!(
                "--{flag} is for the officer's commands; `fieldsync {name}` does not take it (see `fieldsync {name} --help`)"
            ),
        )
    };
    // clap copies a global option's value to every level, so where it was typed cannot be
    // told: the deepest command on the path that defines the option is the one that took it.
    let mut path = vec![cmd];
    let (mut level, mut at) = (cmd, matches);
    while let Some((sub_name, sub_matches)) = at.subcommand() {
        let Some(sub) = level.find_subcommand(sub_name) else {
            break;
        };
        path.push(sub);
        (level, at) = (sub, sub_matches);
    }
    for flag in CLIENT_GLOBALS {
        let taken_by = path
            .iter()
            .rev()
            .find_map(|c| c.get_arguments().find(|a| a.get_id() == *flag));
        let stand_in = taken_by.is_some_and(|a| a.is_hide_set() && !a.is_global_set());
        if stand_in
            && matches.value_source(flag) == Some(ValueSource::CommandLine)
            && typed_after_command(args, flag)
        {
            return Err(refused(flag));
        }
    }
    Ok(())
}

/// Is `--flag` typed after the subcommand in `args` (the process's arguments, program name
/// first)? The subcommand is the first argument that is neither an option nor the value of
/// one of the top level's options that take one.
fn typed_after_command(args: &[OsString], flag: &str) -> bool {
    const TAKE_VALUES: [&str; 3] = ["--db", "--config", "--timeout"];
    let mut rest = args.iter().skip(1).map(|a| a.to_string_lossy());
    while let Some(a) = rest.next() {
        if TAKE_VALUES.contains(&a.as_ref()) {
            rest.next();
        } else if !a.starts_with('-') {
            break;
        }
    }
    let long = format!("--{flag}");
    rest.any(|a| a == long || a.starts_with(&format!("{long}=")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed(args: &[&str], flag: &str) -> bool {
        let args: Vec<OsString> = args.iter().map(OsString::from).collect();
        typed_after_command(&args, flag)
    }

    #[test]
    fn client_options_count_only_after_the_command() {
        assert!(typed(&["fieldsync", "serve", "--db", "x"], "db"));
        assert!(typed(
            &["fieldsync", "admin", "officer", "list", "--timeout=3s"],
            "timeout"
        ));
        assert!(!typed(
            &["fieldsync", "--db", "admin", "admin", "status"],
            "db"
        ));
        assert!(!typed(&["fieldsync", "--json", "--db=x", "serve"], "json"));
        assert!(!typed(
            &["fieldsync", "--timeout", "5s", "serve", "--listen", "x"],
            "timeout"
        ));
    }
}
