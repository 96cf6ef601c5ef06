//! Standard output for results, and the process-wide panic policy.
//!
//! Everything a command prints as its result goes through [`write_out`] (or the `outln!`
//! macro), which turns a closed pipe (`fieldsync visit list | head -1`) into a quiet
//! [`Failure::broken_pipe`] that ends the process with 0, as ripgrep does, and any other
//! write error into exit 74. [`install_panic_hook`] makes a panic one line on stderr asking
//! for a bug report and exit 70, never a backtrace; a write to a closed stdout that still
//! panics (a `println!` this module does not own) ends quietly with 0 as well.
//!
//! This module must not decide what is printed; it only carries bytes and exit codes.

use std::io::{ErrorKind, Write};

use super::Failure;
use crate::exit;

/// Writes `text` to stdout and flushes it; a closed pipe is a quiet success.
pub fn write_out(text: &[u8]) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    out.write_all(text)
        .and_then(|()| out.flush())
        .map_err(|e| match e.kind() {
            ErrorKind::BrokenPipe => Failure::broken_pipe(),
            _ => Failure::new(exit::IO, format!("cannot write to standard output: {e}")),
        })
}

/// `outln!("{x}")?`: `println!` that returns a [`Failure`] instead of panicking.
#[macro_export]
#[doc(hidden)]
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::cli::out::write_out(format!("{}\n", format_args!($($arg)*)).as_bytes())
    };
}

/// `errln!("{x}")`: `eprintln!` that never panics. A closed or broken stderr (a log pipe
/// that went away) loses the line, never the command: its work and exit code stand.
#[macro_export]
#[doc(hidden)]
macro_rules! errln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

/// Is this panic a write to a closed standard output (from a plain `println!`)?
fn is_stdout_broken_pipe(message: &str) -> bool {
    message.starts_with("failed printing to stdout") && message.contains("Broken pipe")
}

/// The panic message, whatever its payload type.
fn panic_message(info: &std::panic::PanicHookInfo<'_>) -> String {
    let p = info.payload();
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

/// A panic becomes exit 70 with one line on stderr; a closed stdout becomes a quiet 0.
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let message = panic_message(info);
        if is_stdout_broken_pipe(&message) {
            std::process::exit(exit::OK);
        }
        let place = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let one_line = message.replace('\n', " ");
        // Not eprintln!: a closed stderr must not panic inside the panic hook.
        let _ = writeln!(
            std::io::stderr(),
            "fieldsync: internal error (a bug): {one_line}{place}; please report it to the \
             fieldsync maintainers with the command you ran and this line"
        );
        std::process::exit(exit::SOFTWARE);
    }));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_stdout_broken_pipes_are_quiet() {
        assert!(is_stdout_broken_pipe(
            "failed printing to stdout: Broken pipe (os error 32)"
        ));
        assert!(!is_stdout_broken_pipe("index out of bounds"));
        assert!(!is_stdout_broken_pipe(
            "failed printing to stderr: Broken pipe (os error 32)"
        ));
    }
}
