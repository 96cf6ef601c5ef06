//! The field officer's side: the local store and its sync queue, the sync engine, the
//! transport, and when to sync next. Nothing here knows about the server's internals, exit
//! codes or the command line; both sides share only [`crate::model`], [`crate::protocol`]
//! and [`crate::merge`].

pub mod config;
pub mod error;
pub mod import;
pub mod pipeline;
pub mod power;
pub mod read_ahead;
pub mod remote;
pub mod short_id;
pub mod store;
pub mod sync;
pub mod tls;
pub mod transport;
pub mod watch;

pub use error::{Error, Result};
