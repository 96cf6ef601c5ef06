//! TLS as organisations deploy it (issue 16), end to end with the real binary: certificate
//! authorities and server certificates are made at run time with `rcgen`; `fieldsync serve
//! --tls-cert/--tls-key` serves them on 127.0.0.1; laptops trust an organisation's CA with
//! `init --ca-cert` or through the operating system's store; a refused certificate is its own
//! error (exit 79), never "offline", and leaves the queue untouched; `serve` swaps in a renewed
//! certificate on SIGHUP or when the files change, and keeps the old one when the new pair is
//! broken.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
use serde_json::Value;
use support::device::Device;
use support::{both_stores, StoreKind, TestServer};

const CERTIFICATE_EXIT: i32 = 79;

/// A certificate authority made for one test.
struct Ca {
    cert: rcgen::Certificate,
    key: KeyPair,
}

/// A server certificate's validity and names.
struct Leaf<'a> {
    names: &'a [&'a str],
    expired: bool,
}

const LOOPBACK: Leaf<'static> = Leaf {
    names: &["localhost", "127.0.0.1"],
    expired: false,
};

impl Ca {
    fn new(name: &str) -> Ca {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        let cert = params.self_signed(&key).unwrap();
        Ca { cert, key }
    }

    fn pem(&self) -> String {
        self.cert.pem()
    }

    /// Writes the CA certificate to `path`.
    fn write(&self, path: &Path) -> PathBuf {
        std::fs::write(path, self.pem()).unwrap();
        path.to_path_buf()
    }

    /// A server certificate and its key, as PEM.
    fn issue(&self, leaf: &Leaf) -> (String, String) {
        let key = KeyPair::generate().unwrap();
        let names: Vec<String> = leaf.names.iter().map(|s| s.to_string()).collect();
        let mut params = CertificateParams::new(names).unwrap();
        params
            .distinguished_name
            .push(DnType::CommonName, leaf.names[0]);
        if leaf.expired {
            params.not_before = rcgen::date_time_ymd(2020, 1, 1);
            params.not_after = rcgen::date_time_ymd(2021, 1, 1);
        }
        let cert = params.signed_by(&key, &self.cert, &self.key).unwrap();
        (cert.pem(), key.serialize_pem())
    }
}

/// The files `serve` reads its certificate and key from.
struct ServerFiles {
    cert: PathBuf,
    key: PathBuf,
}

impl ServerFiles {
    fn new(dir: &Path) -> ServerFiles {
        ServerFiles {
            cert: dir.join("server.crt"),
            key: dir.join("server.key"),
        }
    }

    /// Replaces both files, each atomically (as certbot's deploy step leaves them).
    fn install(&self, (cert, key): &(String, String)) {
        for (path, text) in [(&self.cert, cert), (&self.key, key)] {
            let tmp = path.with_extension("tmp");
            std::fs::write(&tmp, text).unwrap();
            std::fs::rename(&tmp, path).unwrap();
        }
    }
}

/// `fieldsync serve` over HTTPS on a fresh database of `kind`.
fn https_server(kind: StoreKind, dir: &Path, files: &ServerFiles) -> TestServer {
    let db = match kind {
        StoreKind::Sqlite => dir.join("server.sqlite3").display().to_string(),
        StoreKind::Postgres => support::pg::fresh_database(),
    };
    let s = TestServer::start_with_args(
        &db,
        &[
            "--tls-cert",
            files.cert.to_str().unwrap(),
            "--tls-key",
            files.key.to_str().unwrap(),
        ],
    );
    assert!(s.url.starts_with("https://127.0.0.1:"), "{}", s.url);
    s
}

/// A laptop for `officer` on `server`; `ca` is passed as `init --ca-cert`.
fn laptop(server: &TestServer, officer: &str, token: &str, ca: Option<&Path>) -> Device {
    let d = Device::new();
    let token = format!("--token={token}");
    let mut args = vec![
        "init",
        "--server",
        &server.url,
        "--officer",
        officer,
        &token,
    ];
    if let Some(ca) = ca {
        args.extend(["--ca-cert", ca.to_str().unwrap()]);
    }
    d.ok(&args);
    d
}

fn queue(d: &Device) -> Value {
    d.json(&["queue"])
}

fn hangup(server: &TestServer) {
    let st = Command::new("kill")
        .args(["-HUP", &server.pid().to_string()])
        .status()
        .unwrap();
    assert!(st.success());
}

/// Retries `sync` until it exits 0 (a reload may take a poll interval); panics after `limit`.
fn sync_until_ok(d: &Device, limit: Duration) {
    let start = Instant::now();
    loop {
        let (code, _, err) = d.sync(&[]);
        if code == 0 {
            return;
        }
        assert!(start.elapsed() < limit, "still failing ({code}): {err}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// `init --ca-cert` makes a laptop trust its organisation's CA: records sync over HTTPS, and
/// the copy beside the config keeps working after the original file is gone.
fn syncs_with_the_organisations_ca(kind: StoreKind) {
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new("District office CA");
    let files = ServerFiles::new(dir.path());
    files.install(&ca.issue(&LOOPBACK));
    let server = https_server(kind, dir.path(), &files);
    let token = server.add_officer("amina", "north");
    let ca_file = ca.write(&dir.path().join("district-ca.pem"));
    let d = laptop(&server, "amina", &token, Some(&ca_file));
    std::fs::remove_file(&ca_file).unwrap();
    let config = std::fs::read_to_string(&d.config).unwrap();
    assert!(config.contains("ca_cert"), "{config}");
    d.add_household("Wanjiru");
    let report = d.sync_expect(0);
    assert_eq!(report["accepted"], 1, "{report}");
    assert_eq!(queue(&d)["pending"], 0);
}

/// Without the CA the sync fails with the certificate error (exit 79, naming the server and
/// the fix), at once and without retries, and the queue is exactly as it was.
fn an_untrusted_certificate_is_not_offline(kind: StoreKind) {
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new("Unknown CA");
    let files = ServerFiles::new(dir.path());
    files.install(&ca.issue(&LOOPBACK));
    let server = https_server(kind, dir.path(), &files);
    let token = server.add_officer("amina", "north");
    let d = laptop(&server, "amina", &token, None);
    d.add_household("Wanjiru");
    let before = queue(&d);
    let started = Instant::now();
    let out = d.run(&["sync", "--retries", "20"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(CERTIFICATE_EXIT), "{err}");
    assert!(started.elapsed() < Duration::from_secs(10), "retried?");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains(&server.url), "{err}");
    assert!(err.contains("not signed by an authority"), "{err}");
    assert!(err.contains("--ca-cert FILE"), "{err}");
    assert!(!err.contains("offline"), "{err}");
    assert_eq!(queue(&d), before);

    let out = d.cmd(&["--json", "sync"]).output().unwrap();
    assert_eq!(out.status.code(), Some(CERTIFICATE_EXIT));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["error"]["code"], "certificate", "{report}");
    assert_eq!(report["error"]["certificate"], "untrusted", "{report}");
    assert_eq!(report["error"]["exit"], CERTIFICATE_EXIT, "{report}");
    assert_eq!(queue(&d), before);
}

both_stores!(
    syncs_with_the_organisations_ca,
    an_untrusted_certificate_is_not_offline
);

/// A CA installed in the operating system's store is trusted without `--ca-cert`
/// (`SSL_CERT_FILE` stands in for the system bundle, as OpenSSL-style stores honour it).
#[test]
fn the_operating_systems_store_is_trusted() {
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new("IT department CA");
    let files = ServerFiles::new(dir.path());
    files.install(&ca.issue(&LOOPBACK));
    let server = https_server(StoreKind::Sqlite, dir.path(), &files);
    let token = server.add_officer("amina", "north");
    let system_bundle = ca.write(&dir.path().join("system-bundle.pem"));
    let d = laptop(&server, "amina", &token, None);
    d.add_household("Wanjiru");
    let out = d
        .cmd(&["sync"])
        .env("SSL_CERT_FILE", &system_bundle)
        .env_remove("SSL_CERT_DIR")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert_eq!(queue(&d)["pending"], 0);
}

/// An expired certificate and one for another name each say what is wrong with them.
#[test]
fn expired_and_wrong_name_certificates_have_their_own_messages() {
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new("District office CA");
    let ca_file = ca.write(&dir.path().join("ca.pem"));
    let files = ServerFiles::new(dir.path());
    files.install(&ca.issue(&Leaf {
        names: LOOPBACK.names,
        expired: true,
    }));
    let server = https_server(StoreKind::Sqlite, dir.path(), &files);
    let token = server.add_officer("amina", "north");
    let d = laptop(&server, "amina", &token, Some(&ca_file));
    d.add_household("Wanjiru");
    let before = queue(&d);
    let err = d.fails(CERTIFICATE_EXIT, &["sync"]);
    assert!(err.contains("has expired"), "{err}");
    assert!(err.contains("renew"), "{err}");
    assert!(!err.contains("not signed"), "{err}");

    files.install(&ca.issue(&Leaf {
        names: &["sync.example.org"],
        expired: false,
    }));
    hangup(&server);
    let start = Instant::now();
    let err = loop {
        let (code, _, err) = d.sync(&[]);
        assert_eq!(code, CERTIFICATE_EXIT, "{err}");
        if !err.contains("has expired") || start.elapsed() > Duration::from_secs(10) {
            break err;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(err.contains("for another name"), "{err}");
    assert!(err.contains("--server URL"), "{err}");
    assert_eq!(queue(&d), before);
}

/// `init --ca-cert` refuses a file that holds no certificate (65) or does not exist (66), and
/// then writes no config.
#[test]
fn init_refuses_a_ca_file_without_a_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.pem");
    std::fs::write(
        &junk,
        "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
    )
    .unwrap();
    let d = Device::new();
    let init = |ca: &Path| {
        vec![
            "init".to_string(),
            "--server".into(),
            "https://sync.example.org".into(),
            "--officer".into(),
            "amina".into(),
            "--token=t".into(),
            "--ca-cert".into(),
            ca.display().to_string(),
        ]
    };
    let args = init(&junk);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let err = d.fails(65, &args);
    assert!(err.contains("no PEM certificate"), "{err}");
    let args = init(&dir.path().join("missing.pem"));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let err = d.fails(66, &args);
    assert!(err.contains("missing.pem"), "{err}");
    assert!(!d.config.exists());
}

/// A renewed certificate is picked up on SIGHUP while a sync runs, without breaking it; a
/// broken pair is refused and the old one keeps serving; a change to the files alone is
/// picked up too.
#[test]
fn sighup_swaps_in_a_renewed_certificate_while_a_sync_runs() {
    let dir = tempfile::tempdir().unwrap();
    let (ca_a, ca_b) = (Ca::new("Old CA"), Ca::new("New CA"));
    let a_file = ca_a.write(&dir.path().join("a.pem"));
    let b_file = ca_b.write(&dir.path().join("b.pem"));
    let both_file = dir.path().join("both.pem");
    std::fs::write(&both_file, ca_a.pem() + &ca_b.pem()).unwrap();
    let files = ServerFiles::new(dir.path());
    let pair_a = ca_a.issue(&LOOPBACK);
    files.install(&pair_a);
    let server = https_server(StoreKind::Sqlite, dir.path(), &files);
    let token = server.add_officer("amina", "north");
    let (busy, new_only, old_only) = (
        laptop(&server, "amina", &token, Some(&both_file)),
        laptop(&server, "amina", &token, Some(&b_file)),
        laptop(&server, "amina", &token, Some(&a_file)),
    );
    new_only.fails(CERTIFICATE_EXIT, &["sync"]);

    // A long sync: one change per request, one record per page.
    let csv = dir.path().join("households.csv");
    let rows: String = (0..600)
        .map(|i| format!("household {i},Kibera\n"))
        .collect();
    std::fs::write(&csv, format!("name,village\n{rows}")).unwrap();
    busy.ok(&["household", "import", csv.to_str().unwrap()]);
    let mut running = busy
        .spawn_cmd(&["sync", "--batch-size", "1", "--page-size", "1"])
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    files.install(&ca_b.issue(&LOOPBACK));
    hangup(&server);
    sync_until_ok(&new_only, Duration::from_secs(10));
    assert!(
        running.try_wait().unwrap().is_none(),
        "the sync finished before the reload: make it longer"
    );
    let out = running.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "the running sync broke: {err}");
    assert_eq!(queue(&busy)["pending"], 0);
    old_only.fails(CERTIFICATE_EXIT, &["sync"]);

    // A broken pair (the key of another certificate): refused, the new one keeps serving.
    let other = ca_a.issue(&LOOPBACK);
    std::fs::write(&files.key, &other.1).unwrap();
    hangup(&server);
    std::thread::sleep(Duration::from_secs(3));
    new_only.ok(&["sync"]);
    std::fs::write(&files.cert, "not a certificate\n").unwrap();
    hangup(&server);
    std::thread::sleep(Duration::from_millis(500));
    new_only.ok(&["sync"]);

    // Renewed files without a signal: picked up by the server's look at the files.
    files.install(&pair_a);
    sync_until_ok(&old_only, Duration::from_secs(15));
    new_only.fails(CERTIFICATE_EXIT, &["sync"]);
}

/// Without TLS, SIGHUP is logged and ignored: the server keeps serving.
#[test]
fn sighup_without_tls_does_not_stop_the_server() {
    let server = TestServer::new(StoreKind::Sqlite);
    let token = server.add_officer("amina", "north");
    let d = Device::for_officer(&server.url, "amina", &token);
    hangup(&server);
    hangup(&server);
    std::thread::sleep(Duration::from_millis(300));
    d.add_household("Wanjiru");
    assert_eq!(d.sync_expect(0)["accepted"], 1);
}
