//! The fieldsync benchmark (issue 7): local writes, the week-offline backlog against the
//! store's own limit, the naive one-request-per-entry design, a day over a slow link and a
//! fleet of 10,000 officers, all in one run against real `fieldsync serve` processes.
//!
//! ```text
//! cargo build --release && cargo bench --bench fleet            # full size
//! FIELDSYNC_BENCH_SCALE=smoke cargo bench --bench fleet         # tiny
//! ```
//!
//! Prints a markdown table on stdout (progress on stderr). See `docs/performance.md`.

#[path = "../tests/support/mod.rs"]
mod support;

#[path = "common/mod.rs"]
mod common;

fn main() {
    // `cargo bench` passes `--bench`; a bare word picks the scale.
    let arg = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let name = arg
        .or_else(|| std::env::var("FIELDSYNC_BENCH_SCALE").ok())
        .unwrap_or_else(|| "full".into());
    let Some(scale) = common::Scale::from_name(&name) else {
        eprintln!("fleet: unknown scale {name:?} (expected full or smoke)");
        std::process::exit(2);
    };
    // FIELDSYNC_BENCH_BIN names another build (e.g. the base of an A/B).
    let bin = support::bin();
    match common::run(&scale, &bin) {
        Ok(report) => println!("{}", report.markdown()),
        Err(e) => {
            eprintln!("fleet: {e}");
            std::process::exit(1);
        }
    }
}
