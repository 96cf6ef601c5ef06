//! The server's log output: a `tracing` subscriber whose writes can never block or kill
//! serving, in text or JSON, that never records SQL parameters.
//!
//! Owns: the writer (a bounded queue drained by one thread; a full queue or a failed write
//! drops the line and counts it), the format choice, and the filter that keeps database
//! drivers' parameter logging out at every level. It must not decide what is logged where:
//! call sites use `tracing` as usual, and the request id comes from `http::layers`.

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, SyncSender, TrySendError};
use std::sync::Arc;

use tracing_subscriber::filter::{EnvFilter, FilterFn};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::Layer;

/// Log lines that may wait for the writer thread; beyond it new lines are dropped.
const QUEUE_LINES: usize = 4096;

/// The log format of `serve --log-format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// One human-readable line per event (`key=value` fields).
    #[default]
    Text,
    /// One JSON object per line (`timestamp`, `level`, `fields`, `target`, `spans`).
    Json,
}

/// How many log lines were dropped (the writer was gone, failed, or fell behind).
#[derive(Debug, Clone, Default)]
pub struct DroppedLines(Arc<AtomicU64>);

impl DroppedLines {
    /// Lines dropped so far.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }

    fn add(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

/// A [`MakeWriter`] that hands each line to a queue and never waits: a full queue or a
/// stopped writer thread drops the line (counted).
#[derive(Clone)]
pub struct QueueWriter {
    tx: SyncSender<Vec<u8>>,
    dropped: DroppedLines,
    /// Lines queued and not yet written (or dropped) by the writer thread.
    pending: Arc<AtomicU64>,
}

/// The installed writer's counters, for [`dropped_lines`] and [`flush`].
static INSTALLED: std::sync::OnceLock<QueueWriter> = std::sync::OnceLock::new();

/// Log lines dropped since the server's subscriber was installed (0 if none is).
pub fn dropped_lines() -> u64 {
    INSTALLED.get().map_or(0, |w| w.dropped.get())
}

/// Waits (up to `limit`) until the queued lines are written or dropped: call before exit.
pub fn flush(limit: std::time::Duration) {
    let Some(w) = INSTALLED.get() else { return };
    let start = std::time::Instant::now();
    while w.pending.load(Ordering::Acquire) > 0 && start.elapsed() < limit {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

impl QueueWriter {
    /// A queue drained into `out` by a new thread. Lines that `out` fails to take (EPIPE
    /// from a closed pipe, a full disk) are dropped and counted; the thread keeps going, so
    /// a log reader that comes back gets the lines from then on.
    pub fn spawn<W: Write + Send + 'static>(mut out: W) -> std::io::Result<QueueWriter> {
        let (tx, rx) = sync_channel::<Vec<u8>>(QUEUE_LINES);
        let dropped = DroppedLines::default();
        let pending = Arc::new(AtomicU64::new(0));
        let (d, p) = (dropped.clone(), pending.clone());
        std::thread::Builder::new()
            .name("fieldsync-log".into())
            .spawn(move || {
                for line in rx {
                    if out.write_all(&line).and_then(|_| out.flush()).is_err() {
                        d.add();
                    }
                    p.fetch_sub(1, Ordering::AcqRel);
                }
            })?;
        Ok(QueueWriter {
            tx,
            dropped,
            pending,
        })
    }

    /// The counter of dropped lines.
    pub fn dropped(&self) -> DroppedLines {
        self.dropped.clone()
    }
}

/// One event's bytes, sent to the queue when the formatter is done with it.
pub struct LineWriter {
    buf: Vec<u8>,
    tx: SyncSender<Vec<u8>>,
    dropped: DroppedLines,
    pending: Arc<AtomicU64>,
}

impl Write for LineWriter {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(b);
        Ok(b.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for LineWriter {
    fn drop(&mut self) {
        if self.buf.is_empty() {
            return;
        }
        self.pending.fetch_add(1, Ordering::AcqRel);
        match self.tx.try_send(std::mem::take(&mut self.buf)) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => {
                self.pending.fetch_sub(1, Ordering::AcqRel);
                self.dropped.add();
            }
        }
    }
}

impl<'a> MakeWriter<'a> for QueueWriter {
    type Writer = LineWriter;

    fn make_writer(&'a self) -> LineWriter {
        LineWriter {
            buf: Vec::with_capacity(256),
            tx: self.tx.clone(),
            dropped: self.dropped.clone(),
            pending: self.pending.clone(),
        }
    }
}

/// Targets that log SQL text with its parameters (household names, notes, token hashes)
/// below `info`. Their events below `info` are never recorded, whatever the filter says.
const PARAMETER_LOGGERS: [&str; 3] = ["tokio_postgres", "postgres", "deadpool_postgres"];

fn may_hold_parameters(target: &str, level: tracing::Level) -> bool {
    level > tracing::Level::INFO
        && PARAMETER_LOGGERS.iter().any(|t| {
            target
                .strip_prefix(t)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with("::"))
        })
}

/// Installs the server's subscriber: `filter` (an `EnvFilter` directive such as `info` or
/// `fieldsync=debug`; an invalid one falls back to `info`), `format`, lines to stderr
/// through a [`QueueWriter`]. Returns the dropped-line counter; `None` when a subscriber
/// was already installed (tests running several servers in one process).
pub fn init(filter: &str, format: LogFormat) -> Option<DroppedLines> {
    let writer = QueueWriter::spawn(std::io::stderr()).ok()?;
    let dropped = writer.dropped();
    let _ = INSTALLED.set(writer.clone());
    let env = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let safe = FilterFn::new(|m| !may_hold_parameters(m.target(), *m.level()));
    let ansi = format == LogFormat::Text && std::io::IsTerminal::is_terminal(&std::io::stderr());
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(writer)
        .with_ansi(ansi)
        // A failed write must not be reported on stderr (that is what failed).
        .log_internal_errors(false);
    let layer = match format {
        LogFormat::Text => layer.with_filter(safe).boxed(),
        LogFormat::Json => layer.json().with_filter(safe).boxed(),
    };
    tracing_subscriber::registry()
        .with(env)
        .with(layer)
        .try_init()
        .ok()?;
    Some(dropped)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A writer that always fails, as a closed pipe does.
    struct Broken;
    impl Write for Broken {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::Error::from(std::io::ErrorKind::BrokenPipe))
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn failed_writes_are_dropped_and_counted() {
        let w = QueueWriter::spawn(Broken).expect("writer thread");
        for _ in 0..3 {
            let mut line = w.make_writer();
            line.write_all(b"a line\n").expect("buffered");
        }
        let dropped = w.dropped();
        let start = std::time::Instant::now();
        while dropped.get() < 3 && start.elapsed() < std::time::Duration::from_secs(5) {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert_eq!(dropped.get(), 3);
    }

    #[test]
    fn driver_events_below_info_are_filtered_out() {
        use tracing::Level;
        assert!(may_hold_parameters("tokio_postgres::query", Level::DEBUG));
        assert!(may_hold_parameters("tokio_postgres", Level::TRACE));
        assert!(!may_hold_parameters(
            "tokio_postgres::connection",
            Level::INFO
        ));
        assert!(!may_hold_parameters("tokio_postgresx", Level::DEBUG));
        assert!(!may_hold_parameters("fieldsync::server", Level::TRACE));
    }
}
