//! The field officer's side: the local store and its sync queue, the sync engine, the
//! transport. Nothing here knows about the server's internals; both sides share only
//! [`crate::model`], [`crate::protocol`] and [`crate::merge`].

pub mod config;
pub mod conflicts;
pub mod error;
pub mod import;
pub mod queue;
pub mod store;
pub mod sync;
pub mod transport;

pub use error::{Error, Result};
