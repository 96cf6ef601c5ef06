//! fieldsync: offline-first field data.
//!
//! - [`model`], [`protocol`] and [`merge`] are shared by both halves: what a record is, the
//!   wire types of `/v1`, and the pure rules of sync (conflicts, merging, compaction).
//! - [`client`] is the field officer's side: the local SQLite store with its sync queue, the
//!   sync engine and the HTTP transport.
//! - `server` is the sync server (behind the `server` cargo feature, on by default): the sync
//!   service, its HTTP API and its SQLite and PostgreSQL stores.
//! - [`cli`] parses the command line and formats output; it decides nothing about sync.
//!
//! `client` and `server` never import each other.

pub mod cli;
pub mod client;
pub mod exit;
pub mod export;
pub mod forms;
pub mod merge;
pub mod model;
pub mod orphans;
pub mod protocol;
#[cfg(feature = "server")]
pub mod server;
