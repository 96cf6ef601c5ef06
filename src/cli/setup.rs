//! Setup checks for `fieldsync init` and the read-only commands (issue 13, item 7): the server
//! URL's scheme, the token tried against the server when it is reachable, and a database
//! that must already exist before a command that only reads opens it.
//!
//! It must not write the config or the database; `init` and the commands do that.

use std::path::Path;
use std::time::Duration;

use super::Failure;
use crate::client::remote::{PullAsk, Remote, RemoteError};
use crate::client::transport::{RetryPolicy, Transport};
use crate::client::Error;
use crate::exit;

/// `--server` must be an `http://` or `https://` URL.
pub fn check_server_url(server: &str) -> Result<(), Failure> {
    let url = reqwest::Url::parse(server).map_err(|e| {
        Failure::new(
            exit::USAGE,
            format!(
                "--server {server:?} is not a URL ({e}): give one such as https://sync.example.org"
            ),
        )
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(Failure::new(
            exit::USAGE,
            format!("--server {server:?} must be an https:// URL (or http:// for this machine), e.g. https://sync.example.org"),
        ));
    }
    Ok(())
}

/// What trying the token against the server found.
#[derive(Debug, PartialEq, Eq)]
pub enum TokenCheck {
    /// The server accepted the token.
    Accepted,
    /// Not checked, and why (offline, plain http to another machine, no token).
    NotChecked(String),
}

/// Tries `token` with one small authenticated request (a pull of one record, which changes
/// nothing) when the server answers. A refused token is exit 77; an unreachable server is
/// only a note, since `init` must work offline. Each request waits at most 10 s, or
/// `timeout` when that is shorter.
pub fn check_token(
    server: &str,
    token: Option<&str>,
    timeout: Duration,
) -> Result<TokenCheck, Failure> {
    let Some(token) = token else {
        return Ok(TokenCheck::NotChecked("no token given".into()));
    };
    let policy = RetryPolicy::new(1, timeout.min(Duration::from_secs(10)));
    let mut remote = match Transport::new(server, token, false, policy) {
        Ok(r) => r,
        Err(Error::InsecureHttp { .. }) => {
            return Ok(TokenCheck::NotChecked(
                "plain http:// to another machine would show the token to the network".into(),
            ))
        }
        Err(e) => return Err(e.into()),
    };
    if let Err(e) = remote.health() {
        return Ok(TokenCheck::NotChecked(format!(
            "the server is not reachable ({e})"
        )));
    }
    match remote.pull(&PullAsk::first(1)) {
        Ok(_) => Ok(TokenCheck::Accepted),
        Err(RemoteError::Unauthorized(_)) => Err(Failure::new(
            exit::NO_PERM,
            format!(
                "{server} refused the token: check it with your administrator; nothing was written"
            ),
        )),
        Err(RemoteError::Offline(e)) => Ok(TokenCheck::NotChecked(format!(
            "the server is not reachable ({e})"
        ))),
        Err(e) => Err(Failure::new(
            exit::PROTOCOL,
            format!("{server} answered the token check unexpectedly: {e}"),
        )),
    }
}

/// A command that only reads needs a database that exists: a typo in `--db` must not create
/// an empty one and report "no households".
pub fn require_database(path: &Path) -> Result<(), Failure> {
    if path.exists() {
        return Ok(());
    }
    Err(Failure::new(
        exit::CONFIG,
        format!(
            "no database at {}: check --db, or run `fieldsync init --server URL --officer ID --token-stdin` to set this laptop up",
            path.display()
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_http_and_https_servers() {
        assert!(check_server_url("https://sync.example.org").is_ok());
        assert!(check_server_url("http://127.0.0.1:8080").is_ok());
        for bad in [
            "ftp://sync.example.org",
            "sync.example.org",
            "file:///tmp/x",
            "mailto:a@b",
        ] {
            let f = check_server_url(bad).unwrap_err();
            assert_eq!(f.code, exit::USAGE, "{bad}");
        }
    }

    #[test]
    fn a_missing_database_names_the_path_and_init() {
        let f = require_database(Path::new("/no/such/dir/typo.db")).unwrap_err();
        assert_eq!(f.code, exit::CONFIG);
        assert!(f.message.contains("/no/such/dir/typo.db"), "{}", f.message);
        assert!(f.message.contains("fieldsync init"), "{}", f.message);
    }
}
