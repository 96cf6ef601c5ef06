//! The field officer's side: the local store and its sync queue, the sync engine, the transport.
