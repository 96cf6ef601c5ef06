//! The PostgreSQL password from the environment, as libpq finds it: `PGPASSWORD`, else the
//! first matching line of the password file (`PGPASSFILE`, default `~/.pgpass`).
//!
//! tokio-postgres reads neither, so without this an operator would have to put the password
//! in the connection string (and so in the unit file and the process list). Only the
//! password is taken from here; everything else comes from the connection string.
//!
//! The file format is libpq's: `hostname:port:database:username:password`, one per line,
//! `*` matching anything, `\:` and `\\` escaping, `#` starting a comment. Like libpq, a
//! file readable by group or others is ignored (with a warning).

use std::path::{Path, PathBuf};

use tokio_postgres::config::Host;

/// The password for `config` from `PGPASSWORD` or the password file, if any.
pub(crate) fn password_for(config: &tokio_postgres::Config) -> Option<String> {
    if let Ok(p) = std::env::var("PGPASSWORD") {
        return Some(p);
    }
    let file = match std::env::var_os("PGPASSFILE") {
        Some(f) => PathBuf::from(f),
        None => directories::BaseDirs::new()?.home_dir().join(".pgpass"),
    };
    let text = read_private(&file)?;
    let key = Key::of(config);
    lookup(&text, &key)
}

/// What a password-file line is matched against.
struct Key {
    host: String,
    port: String,
    database: String,
    user: String,
}

impl Key {
    fn of(config: &tokio_postgres::Config) -> Key {
        let host = match config.get_hosts().first() {
            Some(Host::Tcp(h)) => h.clone(),
            #[cfg(unix)]
            Some(Host::Unix(_)) | None => "localhost".to_string(),
            #[cfg(not(unix))]
            None => "localhost".to_string(),
        };
        let port = config
            .get_ports()
            .first()
            .copied()
            .unwrap_or(5432)
            .to_string();
        let user = config.get_user().unwrap_or_default().to_string();
        let database = config.get_dbname().unwrap_or(&user).to_string();
        Key {
            host,
            port,
            database,
            user,
        }
    }
}

/// The file's text, unless it is missing, unreadable, or readable by others.
fn read_private(file: &Path) -> Option<String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(file).ok()?.permissions().mode();
        if mode & 0o077 != 0 {
            tracing::warn!(
                file = %file.display(),
                "password file has group or world access; ignored (chmod 0600 it)"
            );
            return None;
        }
    }
    std::fs::read_to_string(file).ok()
}

/// The password of the first line matching `key`.
fn lookup(text: &str, key: &Key) -> Option<String> {
    text.lines()
        .filter(|l| !l.trim_start().starts_with('#') && !l.trim().is_empty())
        .filter_map(split_line)
        .find(|f| {
            matches(&f[0], &key.host)
                && matches(&f[1], &key.port)
                && matches(&f[2], &key.database)
                && matches(&f[3], &key.user)
        })
        .map(|mut f| f.swap_remove(4))
}

fn matches(pattern: &str, value: &str) -> bool {
    pattern == "*" || pattern == value
}

/// A line's five fields with `\:` and `\\` unescaped; `None` for a malformed line.
fn split_line(line: &str) -> Option<Vec<String>> {
    let mut fields = vec![String::new()];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => fields.last_mut()?.push(chars.next().unwrap_or('\\')),
            ':' if fields.len() < 5 => fields.push(String::new()),
            c => fields.last_mut()?.push(c),
        }
    }
    (fields.len() == 5).then_some(fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(host: &str, port: &str, db: &str, user: &str) -> Key {
        Key {
            host: host.into(),
            port: port.into(),
            database: db.into(),
            user: user.into(),
        }
    }

    #[test]
    fn the_first_matching_line_wins_and_wildcards_match() {
        let text = "# comment\n\
                    db.example:5432:other:app:nope\n\
                    db.example:*:fieldsync:app:s3cret\n\
                    *:*:*:*:fallback\n";
        let k = key("db.example", "6432", "fieldsync", "app");
        assert_eq!(lookup(text, &k).as_deref(), Some("s3cret"));
        let other = key("elsewhere", "5432", "x", "y");
        assert_eq!(lookup(text, &other).as_deref(), Some("fallback"));
    }

    #[test]
    fn escaped_colons_and_backslashes_are_part_of_a_field() {
        let text = r"h:5432:d:u:pa\:ss\\word";
        assert_eq!(
            lookup(text, &key("h", "5432", "d", "u")).as_deref(),
            Some(r"pa:ss\word")
        );
    }

    #[test]
    fn malformed_lines_and_no_match_give_nothing() {
        assert_eq!(lookup("h:5432:d\n", &key("h", "5432", "d", "u")), None);
        assert_eq!(
            lookup("h:5432:d:other:pw\n", &key("h", "5432", "d", "u")),
            None
        );
    }

    #[test]
    fn a_connection_string_gives_the_key() {
        let c: tokio_postgres::Config = "postgres://app@db.example:6543/fieldsync".parse().unwrap();
        let k = Key::of(&c);
        assert_eq!(
            (
                k.host.as_str(),
                k.port.as_str(),
                k.database.as_str(),
                k.user.as_str()
            ),
            ("db.example", "6543", "fieldsync", "app")
        );
    }
}
