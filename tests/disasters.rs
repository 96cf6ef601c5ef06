//! Local disasters on the officer's laptop: a full disk during a write and during a pull
//! page, a corrupted or truncated database, an unreadable config. Each gives a clear error,
//! loses nothing, and the next run recovers.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use support::device::Device;
use support::{StoreKind, TestServer};

/// A small filesystem for the database: a tmpfs where mounting is allowed (root), else a
/// file-size limit (`ulimit -f`) on the fieldsync process, which fails writes the same way.
struct SmallDisk {
    dir: PathBuf,
    mounted: bool,
    _tmp: tempfile::TempDir,
}

impl SmallDisk {
    fn new(size_kb: u32) -> SmallDisk {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("disk");
        std::fs::create_dir(&dir).unwrap();
        let mounted = std::env::var_os("FIELDSYNC_TEST_NO_MOUNT").is_none()
            && Command::new("mount")
                .args(["-t", "tmpfs", "-o", &format!("size={size_kb}k"), "tmpfs"])
                .arg(&dir)
                .stderr(std::process::Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
        SmallDisk {
            dir,
            mounted,
            _tmp: tmp,
        }
    }

    /// Fills the disk, leaving about `free_kb` kilobytes.
    fn fill(&self, free_kb: u64) -> PathBuf {
        let filler = self.dir.join("filler");
        if self.mounted {
            let _ = std::fs::write(&filler, vec![1u8; 64 << 20]);
            let len = std::fs::metadata(&filler).unwrap().len();
            let f = std::fs::OpenOptions::new()
                .write(true)
                .open(&filler)
                .unwrap();
            f.set_len(len.saturating_sub(free_kb * 1024)).unwrap();
        }
        filler
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        if self.mounted {
            let _ = Command::new("umount").arg("-l").arg(&self.dir).status();
        }
    }
}

/// Runs fieldsync for `d` with the database on `disk`; without a tmpfs, limits file size.
fn run_on_disk(d: &Device, disk: &SmallDisk, limit_kb: u64, args: &[&str]) -> (i32, String) {
    let bin = support::bin();
    let mut c = if disk.mounted {
        Command::new(&bin)
    } else {
        let mut c = Command::new("sh");
        c.arg("-c")
            .arg(format!(
                "ulimit -f {}; trap '' XFSZ; exec \"$0\" \"$@\"",
                limit_kb * 2
            ))
            .arg(&bin);
        c
    };
    c.arg("--db")
        .arg(&d.db)
        .arg("--config")
        .arg(&d.config)
        .args(args);
    let out = c.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

fn device_on(disk: &SmallDisk, server: Option<(&TestServer, &str)>) -> Device {
    let mut d = Device::new();
    d.db = disk.dir.join("field.sqlite3");
    match server {
        Some((s, officer)) => {
            let token = s.add_officer(officer, "north");
            d.init(&s.url, officer, &token);
        }
        None => d.init("http://127.0.0.1:9", "amina", "t"),
    }
    d
}

fn households_jsonl(n: usize) -> String {
    (0..n)
        .map(|i| format!("{{\"name\": \"household {i} {}\"}}\n", "x".repeat(150)))
        .collect()
}

#[test]
fn a_full_disk_during_a_write_loses_nothing_and_the_next_run_recovers() {
    let disk = SmallDisk::new(1024);
    let d = device_on(&disk, None);
    d.add_household("kept");
    let before = d.snapshot();
    let big = disk.dir.parent().unwrap().join("big.jsonl");
    std::fs::write(&big, households_jsonl(20_000)).unwrap();
    let filler = disk.fill(128);
    let (code, err) = run_on_disk(
        &d,
        &disk,
        600,
        &["household", "import", big.to_str().unwrap()],
    );
    assert_eq!(code, 74, "{err}");
    assert!(
        err.contains("full") || err.contains("I/O") || err.contains("disk"),
        "{err}"
    );
    let _ = std::fs::remove_file(&filler);
    assert_eq!(d.snapshot(), before, "the failed import left a trace");
    // With room again, the same import goes through.
    let small = disk.dir.parent().unwrap().join("small.jsonl");
    std::fs::write(&small, households_jsonl(50)).unwrap();
    d.ok(&["household", "import", small.to_str().unwrap()]);
    assert_eq!(d.records("household").len(), 51);
}

#[test]
fn a_full_disk_during_a_pull_page_resumes_from_the_last_whole_page() {
    let server = TestServer::new(StoreKind::Sqlite);
    let amina = officer_device(&server, "amina");
    let h = amina.add_household("Wanjiru");
    let mut jsonl = String::new();
    for i in 0..3_000 {
        jsonl.push_str(&format!(
            "{{\"household_id\": \"{h}\", \"notes\": \"{i} {}\"}}\n",
            "n".repeat(300)
        ));
    }
    amina
        .cmd(&["visit", "import", "-"])
        .write_stdin(jsonl)
        .assert()
        .success();
    amina.sync_expect(0);

    let disk = SmallDisk::new(16 * 1024);
    let brian = device_on(&disk, Some((&server, "brian")));
    brian.add_household("brian's own");
    let filler = disk.fill(500);
    let (code, err) = run_on_disk(&brian, &disk, 900, &["sync", "--page-size", "200"]);
    assert_eq!(code, 74, "{err}");
    let _ = std::fs::remove_file(&filler);
    // Whatever pages landed are whole; the queue entry was pushed once.
    let got = brian.records("visit").len();
    let pulled_before = got + brian.records("household").len() - 1;
    assert_eq!(
        pulled_before % 200,
        0,
        "a partial page was stored ({got} visits)"
    );
    assert!(got < 3_000);
    let r = brian.sync_expect(0);
    // The rest of amina's 3,001 records; not brian's own household: his first sync's push
    // made it the server's, and that pull names his device (no echo, no sweep).
    assert_eq!(
        r["pulled"].as_u64().unwrap() as usize,
        3_001 - pulled_before
    );
    assert_eq!(brian.records("visit").len(), 3_000);
    assert_eq!(brian.records("household").len(), 2);
    // The server holds brian's household once.
    let auditor = officer_device(&server, "auditor");
    auditor.sync_expect(0);
    assert_eq!(auditor.records("household").len(), 2);
}

fn officer_device(server: &TestServer, id: &str) -> Device {
    let token = server.add_officer(id, "north");
    Device::for_officer(&server.url, id, &token)
}

fn corrupt(path: &Path, at: u64, bytes: &[u8]) {
    use std::io::{Seek, SeekFrom, Write};
    let mut f = std::fs::OpenOptions::new().write(true).open(path).unwrap();
    f.seek(SeekFrom::Start(at)).unwrap();
    f.write_all(bytes).unwrap();
}

fn checkpointed_device(rows: usize) -> Device {
    let d = Device::initialised();
    let h = d.add_household("A");
    let mut jsonl = String::new();
    for i in 0..rows {
        jsonl.push_str(&format!(
            "{{\"household_id\": \"{h}\", \"notes\": \"visit {i}\"}}\n"
        ));
    }
    d.cmd(&["visit", "import", "-"])
        .write_stdin(jsonl)
        .assert()
        .success();
    // Fold the WAL into the main file so the damage below hits the records.
    let c = rusqlite::Connection::open(&d.db).unwrap();
    c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .unwrap();
    d
}

#[test]
fn a_corrupted_database_is_refused_clearly_and_left_as_it_is() {
    let d = checkpointed_device(2_000);
    // Scribble over the b-tree page headers of every page but the first.
    let len = std::fs::metadata(&d.db).unwrap().len();
    for page in 1..len / 4096 {
        corrupt(&d.db, page * 4096, &[0xCD; 24]);
    }
    let damaged = std::fs::read(&d.db).unwrap();
    for args in [
        vec!["visit", "list"],
        vec!["queue"],
        vec!["household", "add", "--name", "B"],
    ] {
        let err = d.fails(74, &args);
        assert!(
            err.contains("malformed")
                || err.contains("not a fieldsync database")
                || err.contains("damaged"),
            "{args:?}: {err}"
        );
    }
    assert!(
        std::fs::read(&d.db).unwrap() == damaged,
        "fieldsync wrote to a damaged file"
    );
}

#[test]
fn a_truncated_database_is_refused_clearly() {
    let d = checkpointed_device(2_000);
    let len = std::fs::metadata(&d.db).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&d.db)
        .unwrap()
        .set_len(len / 3)
        .unwrap();
    let err = d.fails(74, &["visit", "list"]);
    assert!(
        err.contains("malformed") || err.contains("damaged"),
        "{err}"
    );
}

#[test]
fn an_unreadable_config_says_so_and_changes_nothing() {
    let d = Device::initialised();
    let h = d.add_household("A");
    let before = d.snapshot();
    std::fs::remove_file(&d.config).unwrap();
    std::fs::create_dir(&d.config).unwrap();
    let err = d.fails(78, &["visit", "add", "--household", &h]);
    assert!(err.contains("cannot read the config"), "{err}");
    let err = d.fails(78, &["sync"]);
    assert!(err.contains("cannot read the config"), "{err}");
    std::fs::remove_dir(&d.config).unwrap();
    std::fs::write(&d.config, [0xff, 0xfe, 0x00, 0x01]).unwrap();
    let err = d.fails(78, &["sync"]);
    assert!(err.contains("config"), "{err}");
    assert_eq!(d.snapshot(), before);
}
