//! The one place that turns a client [`Error`] into a process exit code and the message an
//! officer reads (with the command to run next, where there is one). The codes are the
//! README's table, defined in [`crate::exit`].
//!
//! This module must not decide anything about sync or the store; it only classifies.

use crate::client::error::{is_store_failure, Error};
use crate::exit;

use super::Failure;

/// The exit code for a client error.
pub fn exit_code(e: &Error) -> i32 {
    match e {
        Error::Invalid(_) | Error::BadInput(_) => exit::DATA,
        Error::NotFound(_) => exit::NO_INPUT,
        Error::Ambiguous { .. } => exit::USAGE,
        Error::StoreUnavailable { .. }
        | Error::NewerSchema { .. }
        | Error::CorruptStore(_)
        | Error::Io { .. } => exit::IO,
        Error::Sqlite(e) if is_store_failure(e) => exit::IO,
        Error::Sqlite(_) => exit::SOFTWARE,
        Error::Config(_) | Error::InsecureHttp { .. } => exit::CONFIG,
        Error::Offline(_) | Error::Busy(_) => exit::TEMPFAIL,
        Error::Unauthorized(_) => exit::NO_PERM,
        Error::Rejected { .. } | Error::ResyncRequired | Error::Protocol(_) => exit::PROTOCOL,
        Error::Cancelled => exit::CANCELLED,
    }
}

/// What to do next, for errors whose fix is a command.
fn advice(e: &Error) -> Option<&'static str> {
    match e {
        Error::Unauthorized(_) => Some(
            "ask your administrator for a new token and run `fieldsync init --server URL --officer ID --token-stdin`",
        ),
        Error::InsecureHttp { .. } => Some("or pass --allow-insecure-http on a network you trust"),
        _ => None,
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        let message = match advice(&e) {
            Some(next) => format!("{e}; {next}"),
            None => e.to_string(),
        };
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
    fn unauthorized_says_how_to_get_going_again() {
        let f = Failure::from(Error::Unauthorized("the server refused the token".into()));
        assert_eq!(f.code, exit::NO_PERM);
        assert!(f.message.contains("fieldsync init"), "{}", f.message);
    }
}
