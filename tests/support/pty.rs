//! Driving `fieldsync` through a pseudo-terminal, as an officer at a keyboard would: stdin,
//! stdout and stderr are all the terminal, so the prompts (`resolve`, the guided visit) run.
//! The helpers spawn and collect; what the screen must show is the caller's business.

use std::time::Duration;

use expectrl::{Eof, Session, WaitStatus};

use super::device::Device;

pub const ENTER: &str = "\r";
pub const ESC: &str = "\x1b";
pub const CTRL_C: &str = "\x03";
pub const DOWN: &str = "\x1b[B";
pub const BACKSPACE: &str = "\x7f";
pub const SPACE: &str = " ";

/// `fieldsync --db DB --config CONFIG ARGS` of `d` in a fresh pseudo-terminal (TERM=xterm),
/// with a 20 s limit on each `expect`.
pub fn spawn(d: &Device, args: &[&str]) -> Session {
    let mut cmd = std::process::Command::new(super::bin());
    cmd.arg("--db").arg(&d.db).arg("--config").arg(&d.config);
    cmd.args(args).env("TERM", "xterm");
    cmd.env_remove("FIELDSYNC_DB")
        .env_remove("FIELDSYNC_CONFIG");
    let mut s = Session::spawn(cmd).expect("spawn in a pty");
    s.set_expect_timeout(Some(Duration::from_secs(20)));
    s
}

/// How long to let a prompt settle after its text appeared, before keys are sent: a prompt
/// draws its text a moment before it switches the terminal to raw mode and reads, and a
/// terminal mode switch may discard keys that arrived in between (seen once on a loaded
/// machine as a guided-visit test waiting forever for a question its keys never reached).
const SETTLE: Duration = Duration::from_millis(150);

/// Waits for `text` on the terminal, then lets the prompt settle; panics naming the text
/// when it does not come.
pub fn wait_for(s: &mut Session, text: &str) {
    if let Err(e) = s.expect(text) {
        panic!("waiting for {text:?} on the terminal: {e}");
    }
    std::thread::sleep(SETTLE);
}

/// Waits for the process to end: its exit code and what it printed since the last `expect`.
pub fn finish(mut s: Session) -> (i32, String) {
    let rest = s
        .expect(Eof)
        .map(|c| String::from_utf8_lossy(c.as_bytes()).to_string());
    let code = match s.get_process().wait().expect("wait") {
        WaitStatus::Exited(_, code) => code,
        other => panic!("the command ended with {other:?}"),
    };
    (code, rest.unwrap_or_default())
}
