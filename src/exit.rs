//! Process exit codes: stable, documented in the README, and shared by every command.
//! They follow BSD `sysexits.h` where one fits. Which client error gets which code is decided
//! in one place, `crate::cli::errors`; the library never returns these numbers itself.

/// Everything done.
pub const OK: i32 = 0;
/// An unexpected failure not covered below.
pub const FAILURE: i32 = 1;
/// Bad command line (clap's own code), or a prompt needed without a terminal.
pub const USAGE: i32 = 2;
/// Synced, but conflicts wait for `fieldsync resolve`.
pub const CONFLICTS: i32 = 3;
/// Synced, but the server rejected some changes (see `fieldsync queue`).
pub const REJECTED: i32 = 4;
/// Bad input data: a field that fails validation, a malformed import file. (EX_DATAERR)
pub const DATA: i32 = 65;
/// A record or file that does not exist: an id that matches nothing, a missing input file. (EX_NOINPUT)
pub const NO_INPUT: i32 = 66;
/// An internal error: a bug. (EX_SOFTWARE)
pub const SOFTWARE: i32 = 70;
/// Cannot create an output file or directory. (EX_CANTCREAT)
pub const CANT_CREATE: i32 = 73;
/// The store is unavailable: unreadable, read-only, corrupt, full disk, or from a newer fieldsync. (EX_IOERR)
pub const IO: i32 = 74;
/// Offline or a transient failure: try again later; nothing was lost. (EX_TEMPFAIL)
pub const TEMPFAIL: i32 = 75;
/// The server answered something this client does not understand. (EX_PROTOCOL)
pub const PROTOCOL: i32 = 76;
/// The token is missing, wrong or revoked. (EX_NOPERM)
pub const NO_PERM: i32 = 77;
/// Configuration missing or invalid. (EX_CONFIG)
pub const CONFIG: i32 = 78;
/// The server's TLS certificate was refused (untrusted, wrong name, expired); retrying
/// cannot help. Past the end of `sysexits.h`, so it means only this.
pub const CERTIFICATE: i32 = 79;
/// The officer backed out of a prompt (Esc, q or Ctrl-C); nothing was changed.
pub const CANCELLED: i32 = 130;
