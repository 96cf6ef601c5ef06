//! The sync server, behind the `server` cargo feature (on by default).
//!
//! Layers, each importing only the ones below it:
//!
//! - [`http`]: axum routes, authentication extractor, body limits, error mapping, listening.
//!   Thin: it parses and maps, then calls the service.
//! - [`service`]: every sync rule (push, pull, cursors, team scope, re-sync, officers) over a
//!   store transaction. Usable in-process, without HTTP.
//! - [`push`]: the pure push planner, with [`form_rules`] (answers against the form version
//!   a visit names); [`cursor`] and [`tokens`]: cursor and token crypto.
//! - [`store`]: the store trait and its SQLite and PostgreSQL implementations; stores only
//!   load and write. [`wire`]: pulled records as wire JSON, built from the stored text.
//! - [`supervision`]: pure rules for `admin officer list --silent-for`.
//! - [`retention`]: op-id retention (how long stored push results are kept, and the
//!   per-device marks that keep a forgotten op_id from applying twice).
//! - [`export`]: the record range and paging of `admin export`.
//! - [`database`]: what `--database` names (SQLite file or PostgreSQL), refusing typos.
//! - [`logging`]: the log subscriber (never blocks or fails serving; no SQL parameters).
//! - [`metrics`]: the process's Prometheus metrics (`GET /metrics`).
//! - [`error`]: the error types of all of them.

pub mod cursor;
pub mod database;
pub mod error;
pub mod export;
pub mod form_rules;
pub mod http;
pub mod logging;
pub mod metrics;
pub mod push;
pub mod retention;
pub mod service;
pub mod store;
pub mod supervision;
pub mod tokens;
pub mod wire;

pub use error::{ServeError, ServiceError, StoreError};
pub use http::{serve, ServeOptions};
pub use service::{PullQuery, Service};
