//! The benchmark at tiny sizes, so it cannot rot: every section runs against real servers
//! (SQLite and PostgreSQL) and produces sane, non-zero figures. No timing is asserted.

mod support;

#[path = "../benches/common/mod.rs"]
mod common;

#[test]
fn the_benchmark_runs_at_smoke_size() {
    let bin = std::path::PathBuf::from(env!("CARGO_BIN_EXE_fieldsync"));
    let report = common::run(&common::Scale::smoke(), &bin).expect("the benchmark runs");
    let md = report.markdown();
    println!("{md}");
    for row in report.all() {
        assert!(row.value.is_finite(), "{}: {}", row.key, row.value);
    }
    for key in [
        "a.add_per_s",
        "a.import_per_s",
        "a.visit_add_ms",
        "b.sqlite.push_rps",
        "b.sqlite.pull_rps",
        "b.sqlite.push_rss",
        "b.sqlite.server_rss",
        "b.pg.push_rps",
        "b.pg.pull_rps",
        "c.sqlite.push_rps",
        "c.pg.push_rps",
        "c.sqlite.push_ratio",
        "b.sqlite.sync_s",
        "b.pg.sync_s",
        "b.pg.large.push_s",
        "c.sqlite.limit_s",
        "c.pg.limit_s",
        "c.pg.limit_ratio",
        "i.sqlite.push_ms",
        "i.pg.pull_ms",
        "i.pg.rss",
        "d.naive_s",
        "d.ours_s",
        "d.naive_slow_s",
        "d.day_s",
        "e.sqlite1.syncs_per_s",
        "e.pg1.syncs_per_s",
        "e.pg2.syncs_per_s",
        "e.pg2.p99_ms",
        "e.sqlite1.lock_wait_s",
        "e.pg2.lock_wait_s",
        "e.pg1.pool_wait_ms",
        "e.pg2.team_lock_ms",
        "e.pg2.vs_one",
    ] {
        let v = report
            .get(key)
            .unwrap_or_else(|| panic!("{key} missing:\n{md}"));
        assert!(v > 0.0, "{key} = {v}\n{md}");
    }
    for key in ["e.sqlite1.errors", "e.pg1.errors", "e.pg2.errors"] {
        assert_eq!(report.get(key), Some(0.0), "{key}\n{md}");
    }
}
