//! The one test harness, shared by every integration test and by the benchmark
//! (`benches/fleet.rs` includes it with `#[path]`):
//!
//! - [`server`]: real `fieldsync serve` processes on 127.0.0.1, and `fieldsync admin`;
//! - [`pg`]: throwaway PostgreSQL clusters (fast for tests, durable for the bench) and databases;
//! - [`stores`]: [`StoreKind`] and `both_stores!`, one test body run against both stores;
//! - [`device`]: a field officer's laptop driven through the real `fieldsync` binary;
//! - [`body`]: push-request builders; [`http`]: blocking HTTP calls to `/v1`;
//! - [`pty`]: the real binary in a pseudo-terminal, for prompts;
//! - [`proxy`]: a fault-injecting TCP proxy; [`sys`]: facts about the machine (`is_root`).
//!
//! PostgreSQL: when `FIELDSYNC_TEST_PG_URL` (e.g. `postgres://postgres@127.0.0.1:5432`) is
//! set, that server is used; otherwise one throwaway PostgreSQL 15 cluster is started per
//! test process (as the `postgres` user, on a free port) and stopped when the process exits.
//! Each test server gets its own freshly created database. If PostgreSQL cannot be started
//! the helpers panic: the PostgreSQL tests never skip silently.
//!
//! The harness starts, drives and observes; it asserts only what makes a helper's result
//! usable (a server that started, an officer that was added), never what a test is about.
// Each test target uses a part of the harness.
#![allow(dead_code, unused_imports, unused_macros)]

pub mod body;
pub mod device;
pub mod http;
pub mod memory;
pub mod pg;
pub mod proxy;
pub mod pty;
pub mod server;
pub mod stores;
pub mod sys;

use std::path::PathBuf;

pub use server::{add_officer, admin, TestServer};
pub(crate) use stores::both_stores;
pub use stores::{StoreKind, StoreTest};

/// The `fieldsync` binary under test: the one cargo built for this test or bench target, or
/// the one `FIELDSYNC_BENCH_BIN` names (an A/B of two builds with the same bench code).
pub fn bin() -> PathBuf {
    std::env::var_os("FIELDSYNC_BENCH_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_fieldsync")))
}
