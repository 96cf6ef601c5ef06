//! The spinner that says what `fieldsync` waits for while a request to the server is in
//! flight (`waiting for the server (sending 100 changes)… 12s`), so that a slow or stalled
//! server is never a silent hang. Shown on a terminal only; it clears itself when the answer
//! is in.
//!
//! This module only draws: it must not decide timeouts or retries (the transport's
//! [`crate::client::transport::RetryPolicy`] does).

use std::sync::Mutex;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

use crate::client::transport::Waiting;

/// A spinner on stderr per request in flight, drawn beside any progress bars of `multi`.
pub struct Spinner {
    multi: MultiProgress,
    bar: Mutex<Option<ProgressBar>>,
}

impl Spinner {
    pub fn new(multi: MultiProgress) -> Spinner {
        Spinner {
            multi,
            bar: Mutex::new(None),
        }
    }
}

impl Waiting for Spinner {
    fn started(&self, what: &str) {
        let bar = self.multi.add(ProgressBar::new_spinner());
        bar.set_style(
            ProgressStyle::with_template("{spinner} waiting for the server ({msg})… {elapsed}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.set_message(what.to_string());
        bar.enable_steady_tick(Duration::from_millis(120));
        if let Ok(mut slot) = self.bar.lock() {
            if let Some(old) = slot.replace(bar) {
                old.finish_and_clear();
            }
        }
    }

    fn finished(&self) {
        if let Ok(mut slot) = self.bar.lock() {
            if let Some(bar) = slot.take() {
                bar.finish_and_clear();
                self.multi.remove(&bar);
            }
        }
    }
}
