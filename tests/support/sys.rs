//! Facts about the machine the tests run on. Owns nothing else.

use std::process::Command;

/// Whether this process runs as root (uid 0): root ignores file modes, and PostgreSQL
/// refuses to run as root, so tests and the PostgreSQL bootstrap switch users then.
pub fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}
