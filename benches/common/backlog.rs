//! b. + c. The week-offline backlog on each store, at the client's default batch and page
//! sizes into a freshly created database (as a new deployment would see it), against the
//! durable-store limit measured in the same run ([`super::limit`]); the incremental sync of
//! 100 new records on both sides; and the same backlog with the largest batch and page.

use fieldsync::client::sync::DEFAULT_BATCH;
use fieldsync::protocol::DEFAULT_PULL_LIMIT;

use super::{
    add_officer, copy_of, cpu_secs, device_with_backlog, fail, fill_backlog, limit, mib,
    new_device, peak_rss_kib, secs, store_limit, sync_child, write_import_file, Device, Env, Kind,
    Report, Result, Scale, SyncRun, Target, TestServer,
};

/// Incremental sync: new records on a device that is up to date.
pub const INCREMENTAL: usize = 100;

/// The targets of issue 14 for the pushing device's whole sync of the backlog, in seconds.
fn whole_sync_target(kind: Kind) -> f64 {
    match kind {
        Kind::Sqlite => 2.5,
        Kind::Postgres => 3.5,
    }
}

/// The backlog on both stores: sections b (HTTP), c (limits) and i (incremental).
pub fn backlog(env: &Env, scale: &Scale, report: &mut Report) -> Result<()> {
    let n = scale.backlog;
    let large = scale.large_sizes && std::env::var_os("FIELDSYNC_BENCH_SKIP_LARGE_SIZES").is_none();
    // For the other sizes: one device with the backlog, copied for each server.
    let template = match large {
        true => Some(device_with_backlog(env, "http://127.0.0.1:9", "bench-a", "t", n)?.0),
        false => None,
    };
    for kind in [Kind::Sqlite, Kind::Postgres] {
        report.section(&format!(
            "b. Week-offline backlog, {} store (fresh database): {} records, default sizes (batch {DEFAULT_BATCH}, page {DEFAULT_PULL_LIMIT})",
            kind.name(),
            n + 1,
        ));
        let database = env.database(kind)?;
        let server = TestServer::start_with_db(&database);
        let ta = add_officer(&database, "bench-a", "t1");
        let tb = add_officer(&database, "bench-b", "t1");
        // The pushing device synced before its week offline, as a field laptop has: its pull
        // continues a cursor, so it gets back only what others changed (no echo).
        let a = new_device(&server.url, "bench-a", &ta);
        a.try_ok(&["sync"])?;
        fill_backlog(env, &a, n)?;
        let b = new_device(&server.url, "bench-b", &tb);
        let (push, pull) = push_and_pull(&a, &b, n + 1, &[], kind)?;
        headline_rows(report, kind, &push, &pull, n + 1);
        report.add(
            &format!("b.{}.server_cpu_s", kind.key()),
            "server CPU time (push + both pulls)",
            cpu_secs(server.pid()),
            "s",
        );
        report.add_load(&format!("b.{}.load", kind.key()));
        report.add(
            &format!("b.{}.server_rss", kind.key()),
            "server peak RSS",
            mib(peak_rss_kib(&server)),
            "MiB",
        );
        limits(env, scale, report, kind, &database, &push, &pull)?;
        incremental(env, report, kind, &a, &b)?;
        drop(server);
        if let Some(template) = &template {
            large_sizes(env, scale, report, kind, template)?;
        }
    }
    Ok(())
}

/// Device `a` pushes its backlog (its whole sync), then fresh device `b` pulls everything.
fn push_and_pull(
    a: &Device,
    b: &Device,
    records: usize,
    sizes: &[&str],
    kind: Kind,
) -> Result<(SyncRun, SyncRun)> {
    let push = sync_child(a, sizes)?;
    if push.n("accepted") as usize != records {
        return fail(format!(
            "{} push accepted {} of {records}",
            kind.name(),
            push.n("accepted")
        ));
    }
    let pull = sync_child(b, sizes)?;
    if pull.n("pulled") as usize != records {
        return fail(format!(
            "{} pull got {} of {records}",
            kind.name(),
            pull.n("pulled")
        ));
    }
    Ok((push, pull))
}

fn headline_rows(report: &mut Report, kind: Kind, push: &SyncRun, pull: &SyncRun, records: usize) {
    let k = kind.key();
    let push_s = push.n("push_ms") / 1000.0;
    let pull_s = pull.n("pull_ms") / 1000.0;
    report.add_t(
        &format!("b.{k}.sync_s"),
        "pushing device's whole `fieldsync sync` (process wall time)",
        secs(push.wall),
        "s",
        Some(Target::Below(whole_sync_target(kind))),
    );
    report.add(
        &format!("b.{k}.push_s"),
        "  of which push (`push_ms`)",
        push_s,
        "s",
    );
    report.add(
        &format!("b.{k}.push_rps"),
        "push: records/s",
        records as f64 / push_s.max(1e-9),
        "/s",
    );
    report.add(
        &format!("b.{k}.push_requests"),
        "push device, whole sync: requests",
        push.n("requests"),
        "",
    );
    report.add(
        &format!("b.{k}.push_bytes"),
        "push: bytes sent (gzip)",
        push.n("bytes_sent"),
        "B",
    );
    report.add_t(
        &format!("b.{k}.push_rss"),
        "push device: client peak RSS (whole sync)",
        mib(push.peak_rss_kib),
        "MiB",
        Some(Target::Below(64.0)),
    );
    report.add_t(
        &format!("b.{k}.pull_s"),
        "pull into a fresh device (`pull_ms`)",
        pull_s,
        "s",
        Some(Target::Below(1.2)),
    );
    report.add(
        &format!("b.{k}.pull_rps"),
        "pull: records/s",
        records as f64 / pull_s.max(1e-9),
        "/s",
    );
    report.add(
        &format!("b.{k}.pull_requests"),
        "pull device: requests",
        pull.n("requests"),
        "",
    );
    report.add(
        &format!("b.{k}.pull_bytes"),
        "pull: bytes received (gzip)",
        pull.n("bytes_received"),
        "B",
    );
    report.add_t(
        &format!("b.{k}.pull_rss"),
        "pull device: client peak RSS",
        mib(pull.peak_rss_kib),
        "MiB",
        Some(Target::Below(64.0)),
    );
}

/// c. The durable-store limit (the same rows rewritten) and the store path (`Service::push`
/// and `Store::pull` in-process), against the HTTP figures of `push` and `pull`.
fn limits(
    env: &Env,
    scale: &Scale,
    report: &mut Report,
    kind: Kind,
    database: &str,
    push: &SyncRun,
    pull: &SyncRun,
) -> Result<()> {
    let k = kind.key();
    let records = scale.backlog + 1;
    let durable = secs(limit::durable_limit(env, kind, database, DEFAULT_BATCH)?);
    report.add(
        &format!("c.{k}.limit_s"),
        &format!(
            "c. durable-store limit: the push's {records} rows and op-ids rewritten durably in batches of {DEFAULT_BATCH}"
        ),
        durable,
        "s",
    );
    report.add_t(
        &format!("c.{k}.limit_ratio"),
        "pushing device's whole sync ÷ durable-store limit",
        secs(push.wall) / durable.max(1e-9),
        "×",
        Some(Target::Below(2.0)),
    );
    let path = store_limit(env, kind, scale.backlog, DEFAULT_BATCH, DEFAULT_PULL_LIMIT)?;
    report.add(
        &format!("c.{k}.push_rps"),
        &format!("c. store path: `Service::push` of the same changes in batches of {DEFAULT_BATCH} (no HTTP)"),
        path.push_rps,
        "/s",
    );
    report.add(
        &format!("c.{k}.pull_rps"),
        &format!("c. store path: `Store::pull` in pages of {DEFAULT_PULL_LIMIT}"),
        path.pull_rps,
        "/s",
    );
    let push_rps = records as f64 / (push.n("push_ms") / 1000.0).max(1e-9);
    let pull_rps = records as f64 / (pull.n("pull_ms") / 1000.0).max(1e-9);
    report.add(
        &format!("c.{k}.push_ratio"),
        "push over HTTP ÷ store path",
        push_rps / path.push_rps,
        "",
    );
    report.add(
        &format!("c.{k}.pull_ratio"),
        "pull over HTTP ÷ store path",
        pull_rps / path.pull_rps,
        "",
    );
    Ok(())
}

/// i. `INCREMENTAL` new records (a household and its visits) on up-to-date device `a`, then
/// up-to-date device `b` syncs: both whole processes.
fn incremental(env: &Env, report: &mut Report, kind: Kind, a: &Device, b: &Device) -> Result<()> {
    let k = kind.key();
    let hid = a.try_ok(&["household", "add", "--name", "Incremental farm"])?;
    let file = env.path("incremental.jsonl");
    write_import_file(&file, hid.trim(), INCREMENTAL - 1)?;
    a.try_ok(&["visit", "import", &file.display().to_string()])?;
    let push = sync_child(a, &[])?;
    let pull = sync_child(b, &[])?;
    if push.n("accepted") as usize != INCREMENTAL || pull.n("pulled") as usize != INCREMENTAL {
        return fail(format!(
            "{} incremental sync: accepted {}, pulled {} of {INCREMENTAL}",
            kind.name(),
            push.n("accepted"),
            pull.n("pulled")
        ));
    }
    let label = format!("incremental sync of {INCREMENTAL} new records");
    report.add(
        &format!("i.{k}.push_ms"),
        &format!("{label}: push (`push_ms`)"),
        push.n("push_ms"),
        "ms",
    );
    report.add(
        &format!("i.{k}.pull_ms"),
        &format!("{label}: pull on another device (`pull_ms`)"),
        pull.n("pull_ms"),
        "ms",
    );
    report.add(
        &format!("i.{k}.push_wall_ms"),
        "  pushing device's whole sync (process wall time)",
        secs(push.wall) * 1000.0,
        "ms",
    );
    report.add(
        &format!("i.{k}.pull_wall_ms"),
        "  pulling device's whole sync (process wall time)",
        secs(pull.wall) * 1000.0,
        "ms",
    );
    report.add_t(
        &format!("i.{k}.rss"),
        "  client peak RSS (either device)",
        mib(push.peak_rss_kib.max(pull.peak_rss_kib)),
        "MiB",
        Some(Target::Below(64.0)),
    );
    Ok(())
}

/// The backlog again into a fresh database, with the largest batch and page.
fn large_sizes(
    env: &Env,
    scale: &Scale,
    report: &mut Report,
    kind: Kind,
    template: &Device,
) -> Result<()> {
    let k = kind.key();
    let database = env.database(kind)?;
    let server = TestServer::start_with_db(&database);
    let ta = add_officer(&database, "bench-a", "t1");
    let tb = add_officer(&database, "bench-b", "t1");
    let a = copy_of(template, &server.url, "bench-a", &ta)?;
    let b = new_device(&server.url, "bench-b", &tb);
    let sizes = [
        "--batch-size".to_string(),
        scale.batch.to_string(),
        "--page-size".to_string(),
        scale.page.to_string(),
    ];
    let sizes: Vec<&str> = sizes.iter().map(String::as_str).collect();
    let (push, pull) = push_and_pull(&a, &b, scale.backlog + 1, &sizes, kind)?;
    let label = format!("batch {}, page {}", scale.batch, scale.page);
    report.add(
        &format!("b.{k}.large.sync_s"),
        &format!("{label}: pushing device's whole sync"),
        secs(push.wall),
        "s",
    );
    report.add(
        &format!("b.{k}.large.push_s"),
        &format!("{label}: push time"),
        push.n("push_ms") / 1000.0,
        "s",
    );
    report.add(
        &format!("b.{k}.large.pull_s"),
        &format!("{label}: pull time"),
        pull.n("pull_ms") / 1000.0,
        "s",
    );
    report.add_t(
        &format!("b.{k}.large.rss"),
        &format!("{label}: client peak RSS (push device, pull device)"),
        mib(push.peak_rss_kib.max(pull.peak_rss_kib)),
        "MiB",
        Some(Target::Below(64.0)),
    );
    Ok(())
}
