//! The one place that turns a client [`Error`] into a process exit code and the message an
//! officer reads (with the command to run next, where there is one). The codes are the
//! README's table, defined in [`crate::exit`].
//!
//! This module must not decide anything about sync or the store; it only classifies.

use crate::client::error::{is_store_failure, Error, HomeFile};
use crate::client::tls::CertProblem;
use crate::exit;

use super::Failure;

/// The exit code for a client error.
pub fn exit_code(e: &Error) -> i32 {
    match e {
        Error::Invalid(_)
        | Error::BadInput(_)
        | Error::HasVisits { .. }
        | Error::BadCaCert { .. } => exit::DATA,
        Error::NotFound(_) => exit::NO_INPUT,
        Error::Ambiguous { .. } => exit::USAGE,
        Error::StoreUnavailable { .. }
        | Error::NewerSchema { .. }
        | Error::CorruptStore(_)
        | Error::Io { .. } => exit::IO,
        Error::Sqlite(e) if is_store_failure(e) => exit::IO,
        Error::Sqlite(_) => exit::SOFTWARE,
        Error::Config(_)
        | Error::InsecureHttp { .. }
        | Error::NoHomeDir(_)
        | Error::ConfigMissing { .. }
        | Error::BadServerUrl { .. }
        | Error::OtherOfficer { .. }
        | Error::OtherServer { .. } => exit::CONFIG,
        Error::Offline(_) | Error::Busy(_) => exit::TEMPFAIL,
        Error::Unauthorized(_) => exit::NO_PERM,
        Error::Rejected { .. }
        | Error::ResyncRequired
        | Error::ServerBehind(_)
        | Error::Protocol(_) => exit::PROTOCOL,
        Error::Certificate { .. } => exit::CERTIFICATE,
        Error::Cancelled => exit::CANCELLED,
    }
}

/// A stable name for each kind of client error, for `--json` error reports.
pub fn error_code(e: &Error) -> &'static str {
    match e {
        Error::Invalid(_) | Error::BadInput(_) | Error::HasVisits { .. } => "invalid",
        Error::BadCaCert { .. } => "invalid_ca_cert",
        Error::NotFound(_) => "not_found",
        Error::Ambiguous { .. } => "ambiguous",
        Error::StoreUnavailable { .. }
        | Error::NewerSchema { .. }
        | Error::CorruptStore(_)
        | Error::Io { .. }
        | Error::Sqlite(_) => "store",
        Error::Config(_)
        | Error::InsecureHttp { .. }
        | Error::NoHomeDir(_)
        | Error::ConfigMissing { .. }
        | Error::BadServerUrl { .. }
        | Error::OtherOfficer { .. } => "config",
        Error::OtherServer { .. } => "other_server",
        Error::Offline(_) => "offline",
        Error::Busy(_) => "busy",
        Error::Unauthorized(_) => "unauthorized",
        Error::Rejected { .. }
        | Error::ResyncRequired
        | Error::ServerBehind(_)
        | Error::Protocol(_) => "protocol",
        Error::Certificate { .. } => "certificate",
        Error::Cancelled => "cancelled",
    }
}

/// The `--json` report of a failed command: `{"error": {"code", "message", "exit"}}` (and
/// `"certificate"`, what is wrong with it, for a refused server certificate).
pub fn json_report(e: &Error) -> serde_json::Value {
    let failure_message = format!("{e}{}", advice(e).unwrap_or_default());
    let mut error = serde_json::json!({
        "code": error_code(e),
        "message": failure_message,
        "exit": exit_code(e),
    });
    if let Error::Certificate { problem, .. } = e {
        error["certificate"] = problem.code().into();
    }
    serde_json::json!({ "error": error, "exit_code": exit_code(e) })
}

/// What to do next, for errors whose fix is a command or a flag (the library knows neither).
fn advice(e: &Error) -> Option<String> {
    const INIT: &str = "fieldsync init --server URL --officer ID --token-stdin";
    let next = match e {
        Error::Unauthorized(_) => format!(
            "; ask your administrator for a new token (`fieldsync admin officer token ID`) \
             and run `{INIT}`; queued changes are kept"
        ),
        Error::InsecureHttp { .. } => {
            ", or pass --allow-insecure-http on a network you trust".into()
        }
        Error::NoHomeDir(HomeFile::Database) => ": pass --db PATH".into(),
        Error::NoHomeDir(HomeFile::Config) => ": pass --config PATH".into(),
        Error::ConfigMissing { .. } => format!(": run `{INIT}` first"),
        Error::BadServerUrl { .. } => "; fix it with `fieldsync init --server URL`".into(),
        Error::OtherOfficer { .. } => "; use another --db for this officer".into(),
        Error::OtherServer { .. } => "; if it is the right server, `fieldsync sync --adopt-server` sends it every record it lacks and pulls the rest".into(),
        Error::HasVisits { household, .. } => {
            format!(" (`fieldsync visit list --household {household}`)")
        }
        Error::Certificate { problem, .. } => certificate_advice(problem).into(),
        _ => return None,
    };
    Some(next)
}

/// What an officer can do about a refused server certificate.
fn certificate_advice(problem: &CertProblem) -> &'static str {
    match problem {
        CertProblem::Untrusted => {
            ". If your organisation runs its own certificate authority, run `fieldsync init` \
             again with `--ca-cert FILE` (its certificate); otherwise ask your administrator"
        }
        CertProblem::WrongName => {
            ". Check the server URL (`fieldsync init --server URL`), or ask your administrator \
             for a certificate that names this server"
        }
        CertProblem::Expired | CertProblem::NotYetValid => {
            ". Check this laptop's date and time; if they are right, ask your administrator to \
             renew the server's certificate"
        }
        CertProblem::Other(_) => ". Ask your administrator to check the server's certificate",
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        let message = format!("{e}{}", advice(&e).unwrap_or_default());
        Failure::new(exit_code(&e), message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sqlite(code: rusqlite::ffi::ErrorCode) -> Error {
        Error::Sqlite(rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error {
                code,
                extended_code: 0,
            },
            None,
        ))
    }

    #[test]
    fn local_damage_is_an_io_error_not_a_protocol_error() {
        assert_eq!(exit_code(&Error::CorruptStore("x".into())), exit::IO);
        assert_eq!(
            exit_code(&sqlite(rusqlite::ffi::ErrorCode::DatabaseCorrupt)),
            exit::IO
        );
        assert_eq!(
            exit_code(&sqlite(rusqlite::ffi::ErrorCode::DiskFull)),
            exit::IO
        );
        let bad_row =
            rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, "bad".into());
        assert_eq!(exit_code(&Error::Sqlite(bad_row)), exit::IO);
        assert_eq!(
            exit_code(&sqlite(rusqlite::ffi::ErrorCode::ConstraintViolation)),
            exit::SOFTWARE
        );
    }

    #[test]
    fn server_trouble_is_a_protocol_error() {
        assert_eq!(exit_code(&Error::ResyncRequired), exit::PROTOCOL);
        assert_eq!(exit_code(&Error::Protocol("x".into())), exit::PROTOCOL);
        let rejected = Error::Rejected {
            status: 413,
            code: None,
            message: "too big".into(),
        };
        assert_eq!(exit_code(&rejected), exit::PROTOCOL);
        assert_eq!(exit_code(&Error::Offline("x".into())), exit::TEMPFAIL);
        assert_eq!(exit_code(&Error::Unauthorized("x".into())), exit::NO_PERM);
    }

    #[test]
    fn a_refused_certificate_has_its_own_code_and_names_the_fix() {
        let e = |problem| Error::Certificate {
            server: "https://sync.example.org".into(),
            problem,
        };
        for p in [
            CertProblem::Untrusted,
            CertProblem::WrongName,
            CertProblem::Expired,
        ] {
            assert_eq!(exit_code(&e(p.clone())), exit::CERTIFICATE);
            assert_eq!(error_code(&e(p.clone())), "certificate");
        }
        let f = Failure::from(e(CertProblem::Untrusted));
        assert!(
            f.message.contains("https://sync.example.org"),
            "{}",
            f.message
        );
        assert!(f.message.contains("--ca-cert FILE"), "{}", f.message);
        assert!(!f.message.contains('\n'), "{}", f.message);
        let json = json_report(&e(CertProblem::Expired));
        assert_eq!(json["error"]["code"], "certificate");
        assert_eq!(json["error"]["certificate"], "expired");
        assert_eq!(json["error"]["exit"], exit::CERTIFICATE);
    }

    #[test]
    fn unauthorized_says_how_to_get_going_again() {
        let f = Failure::from(Error::Unauthorized("the server refused the token".into()));
        assert_eq!(f.code, exit::NO_PERM);
        assert!(f.message.contains("fieldsync init"), "{}", f.message);
    }

    #[test]
    fn flag_advice_is_added_here_not_in_the_library() {
        let e = Error::ConfigMissing {
            path: "/x/config.toml".into(),
        };
        assert!(!e.to_string().contains("--"), "{e}");
        let f = Failure::from(e);
        assert_eq!(f.code, exit::CONFIG);
        assert_eq!(
            f.message,
            "no config at /x/config.toml: run `fieldsync init --server URL --officer ID --token-stdin` first"
        );
        let f = Failure::from(Error::NoHomeDir(HomeFile::Database));
        assert!(f.message.ends_with(": pass --db PATH"), "{}", f.message);
    }
}
