//! Issue 13 item 9: help and manuals. Every flag and argument says what it is for in one
//! line; the client-only global options stay off the server's commands; `fieldsync --help`
//! ends with the exit codes; the man pages in `man/` are what the definitions make.

mod support;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use fieldsync::cli::help::{command, CLIENT_GLOBALS, SERVER_COMMANDS};

#[test]
fn the_command_line_passes_clap_s_own_checks() {
    command().debug_assert();
}

/// Every command under `cmd`, with its path (`fieldsync household add`).
fn walk(cmd: &clap::Command, path: String, out: &mut Vec<(String, clap::Command)>) {
    out.push((path.clone(), cmd.clone()));
    // (clap's generated `help` subcommands print help; they take no options.)
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        walk(sub, format!("{path} {}", sub.get_name()), out);
    }
}

fn all_commands() -> Vec<(String, clap::Command)> {
    let mut cmd = command();
    cmd.build();
    let mut out = Vec::new();
    walk(&cmd, "fieldsync".into(), &mut out);
    out
}

#[test]
fn every_command_flag_and_argument_has_a_one_line_description() {
    let mut missing = Vec::new();
    for (path, cmd) in all_commands() {
        if path != "fieldsync" && cmd.get_about().is_none() {
            missing.push(format!("{path}: the command"));
        }
        for arg in cmd.get_arguments() {
            if arg.is_hide_set() || matches!(arg.get_id().as_str(), "help" | "version") {
                continue;
            }
            let help = arg.get_help().map(|h| h.to_string()).unwrap_or_default();
            if help.trim().is_empty() {
                missing.push(format!("{path}: {}", arg.get_id()));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "no description:\n{}",
        missing.join("\n")
    );
}

#[test]
fn client_only_options_are_not_offered_to_the_server_s_commands() {
    for (path, cmd) in all_commands() {
        let words: Vec<&str> = path.split(' ').collect();
        let server = words.len() > 1 && SERVER_COMMANDS.contains(&words[1]);
        let help = Command::new(support::bin())
            .args(&words[1..])
            .arg("--help")
            .output()
            .unwrap();
        let help = String::from_utf8_lossy(&help.stdout);
        for flag in CLIENT_GLOBALS {
            // `admin … --json` of the server's own commands is theirs (it prints their tables).
            let own = cmd
                .get_arguments()
                .any(|a| a.get_id() == *flag && !a.is_hide_set() && !a.is_global_set());
            let listed = help.contains(&format!("--{flag}"));
            if server && !own {
                assert!(!listed, "`{path} --help` lists --{flag}:\n{help}");
            } else if !server {
                assert!(listed, "`{path} --help` does not list --{flag}");
            }
        }
    }
    for args in [
        &["serve", "--db", "x.db"][..],
        &["serve", "--json"],
        &["admin", "--timeout", "5s", "status"],
        &[
            "admin", "officer", "add", "amina", "--team", "north", "--config", "c.toml",
        ],
    ] {
        let out = Command::new(support::bin()).args(args).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains("is for the officer's commands"),
            "{args:?}: {err}"
        );
    }
}

#[test]
fn help_ends_with_the_exit_codes() {
    for flag in ["--help", "-h"] {
        let out = Command::new(support::bin()).arg(flag).output().unwrap();
        let help = String::from_utf8_lossy(&out.stdout);
        let table = help
            .split("Exit codes:")
            .nth(1)
            .unwrap_or_else(|| panic!("{help}"));
        let codes: Vec<&str> = table
            .lines()
            .filter_map(|l| l.split_whitespace().next())
            .collect();
        // Every code of src/exit.rs that a command can end with, in order.
        assert_eq!(
            codes,
            [
                "0", "2", "3", "4", "65", "66", "70", "73", "74", "75", "76", "77", "78", "79",
                "130"
            ],
            "{help}"
        );
    }
}

/// `man/`: one page per command, as `clap_mangen` makes them.
#[test]
fn man_pages_in_the_repository_are_fresh() {
    let dir = tempfile::tempdir().unwrap();
    clap_mangen::generate_to(command(), dir.path()).unwrap();
    let read = |d: &Path| -> BTreeMap<String, Vec<u8>> {
        std::fs::read_dir(d)
            .map(|entries| {
                entries
                    .flatten()
                    .map(|e| {
                        let name = e.file_name().to_string_lossy().to_string();
                        (name, std::fs::read(e.path()).unwrap())
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let made = read(dir.path());
    assert!(made.contains_key("fieldsync.1") && made.contains_key("fieldsync-household-add.1"));
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("man");
    if std::env::var_os("FIELDSYNC_UPDATE_MAN").is_some() {
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).unwrap();
        for (name, page) in &made {
            std::fs::write(root.join(name), page).unwrap();
        }
    }
    let kept = read(&root);
    let stale: Vec<&String> = made
        .keys()
        .chain(kept.keys())
        .filter(|k| made.get(*k) != kept.get(*k))
        .collect();
    assert!(
        stale.is_empty(),
        "man/ is stale ({stale:?}): run `FIELDSYNC_UPDATE_MAN=1 cargo test --test ux_help man`"
    );
    let top = String::from_utf8_lossy(&made["fieldsync.1"]);
    assert!(
        top.contains("Exit codes"),
        "the top page ends with the exit codes"
    );
}
