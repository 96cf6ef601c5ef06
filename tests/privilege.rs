//! Least-privilege PostgreSQL and schema upgrades (issue 17): `admin migrate`, run by the
//! schema owner, creates and upgrades the schema; `serve` and `admin` then run as a role with
//! only SELECT/INSERT/UPDATE/DELETE on a non-`public` schema, exactly as docs/server.md
//! grants it; a role that may not migrate is told to run `admin migrate`, and a newer schema
//! is refused without touching the database.

mod support;

use std::process::Command;

use support::device::Device;
use support::{admin, bin, pg, TestServer};

/// Runs `sql` (several statements) in database `url` as its URL's role; panics on failure.
fn sql(url: &str, sql: &str) {
    let out = Command::new(pg::tool("psql"))
        .args([url, "-v", "ON_ERROR_STOP=1", "-qAt", "-c", sql])
        .output()
        .expect("run psql");
    assert!(
        out.status.success(),
        "psql {sql}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// One query's single value.
fn value(url: &str, query: &str) -> String {
    let out = Command::new(pg::tool("psql"))
        .args([url, "-qAt", "-c", query])
        .output()
        .expect("run psql");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A database with an owner role, an application role and a `fieldsync` schema owned by
/// the owner, set up as docs/server.md says; (owner URL, app URL) with the search path set
/// to the schema. Role names are unique per test (roles are cluster-wide).
fn least_privilege_database() -> (String, String) {
    let base = pg::base_url();
    let db_url = pg::fresh_database();
    let db = db_url
        .rsplit('/')
        .next()
        .expect("database name")
        .to_string();
    let tag = &db[db.len() - 8..];
    let (owner, app) = (format!("fs_owner_{tag}"), format!("fs_app_{tag}"));
    pg::psql(
        base,
        &format!("CREATE ROLE {owner} LOGIN PASSWORD 'owner-pw'"),
    );
    pg::psql(base, &format!("CREATE ROLE {app} LOGIN PASSWORD 'app-pw'"));
    // docs/server.md, "Least privilege", verbatim apart from the names.
    sql(
        &db_url,
        &format!(
            "REVOKE CREATE ON SCHEMA public FROM PUBLIC;
             CREATE SCHEMA fieldsync AUTHORIZATION {owner};
             GRANT USAGE ON SCHEMA fieldsync TO {app};
             ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA fieldsync
                 GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {app};"
        ),
    );
    let host = base.trim_start_matches("postgres://postgres@");
    let with =
        |role: &str| format!("postgres://{role}@{host}/{db}?options=-c%20search_path%3Dfieldsync");
    (with(&owner), with(&app))
}

/// `fieldsync ARGS` with a password file holding both roles' passwords: (code, stdout, stderr).
fn run(pgpass: &std::path::Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(bin())
        .args(args)
        .env("PGPASSFILE", pgpass)
        .env_remove("PGPASSWORD")
        .env_remove("FIELDSYNC_DATABASE")
        .output()
        .expect("run fieldsync");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A private password file with a line per role (libpq format).
fn pgpass_file(dir: &std::path::Path, owner: &str, app: &str) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let user = |url: &str| {
        url.trim_start_matches("postgres://")
            .split('@')
            .next()
            .expect("role")
            .to_string()
    };
    let path = dir.join("pgpass");
    std::fs::write(
        &path,
        format!(
            "*:*:*:{}:owner-pw\n*:*:*:{}:app-pw\n",
            user(owner),
            user(app)
        ),
    )
    .expect("write pgpass");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    path
}

#[test]
fn a_least_privilege_role_serves_after_the_owner_migrates() {
    let (owner, app) = least_privilege_database();
    let dir = tempfile::tempdir().expect("tempdir");
    let pgpass = pgpass_file(dir.path(), &owner, &app);
    // The test cluster trusts local connections, so the password file is given but not
    // needed here; its lookup rules are unit tests in src/server/store/pgpass.rs.

    // Before the schema exists the application role cannot create it: told what to run.
    let (code, _, err) = run(&pgpass, &["admin", "--database", &app, "migrate"]);
    assert_eq!(code, 74, "{err}");
    assert!(
        err.contains("admin migrate") && err.contains("schema owner"),
        "{err}"
    );
    assert_eq!(
        value(
            &owner,
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'fieldsync'"
        ),
        "0"
    );

    let (code, _, err) = run(&pgpass, &["admin", "--database", &owner, "migrate"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("schema created at version"), "{err}");
    let (code, _, err) = run(&pgpass, &["admin", "--database", &owner, "migrate"]);
    assert_eq!(
        (code, err.contains("already at version")),
        (0, true),
        "{err}"
    );
    // The tables live in the non-public schema, owned by the owner.
    assert_eq!(
        value(&owner, "SELECT count(*) FROM pg_tables WHERE schemaname = 'fieldsync' AND tableowner <> current_user"),
        "0"
    );

    // The application role: admin commands and a whole sync round, with DML rights only.
    let (code, token, err) = run(
        &pgpass,
        &[
            "admin",
            "--database",
            &app,
            "officer",
            "add",
            "amina",
            "--team",
            "north",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let server = TestServer::start_with_db(&app);
    let device = Device::new();
    device.init(&server.url, "amina", token.trim());
    let household = device.ok(&[
        "household",
        "add",
        "--name",
        "Mwangi",
        "--village",
        "Kilifi",
    ]);
    device.ok(&["sync"]);
    let other = Device::new();
    let (_, token2, _) = run(
        &pgpass,
        &[
            "admin",
            "--database",
            &app,
            "officer",
            "add",
            "brian",
            "--team",
            "north",
        ],
    );
    other.init(&server.url, "brian", token2.trim());
    other.ok(&["sync"]);
    let listed = other.ok(&["household", "list", "--json"]);
    assert!(listed.contains("Mwangi"), "{listed}");
    assert!(!household.trim().is_empty());
    drop(server);

    // An upgrade: the schema is one version behind. The application role is refused with
    // the command to run; the owner upgrades; the application role serves again.
    sql(
        &owner,
        "UPDATE meta SET value = '2' WHERE key = 'schema_version'",
    );
    let (code, _, err) = run(&pgpass, &["admin", "--database", &app, "status"]);
    assert_eq!(code, 74, "{err}");
    assert!(
        err.contains("version 2") && err.contains("admin migrate"),
        "{err}"
    );
    let (code, _, err) = run(&pgpass, &["admin", "--database", &owner, "migrate"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("upgraded from version 2"), "{err}");
    let (code, out, err) = run(&pgpass, &["admin", "--database", &app, "status"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("officers         2"), "{out}");
}

#[test]
fn a_newer_schema_is_refused_before_anything_is_touched() {
    let url = pg::fresh_database();
    let (code, _, err) = admin(&url, &["migrate"]);
    assert_eq!(code, 0, "{err}");
    sql(
        &url,
        "UPDATE meta SET value = '99' WHERE key = 'schema_version'; DROP TABLE forms;",
    );
    let tables = || {
        value(&url, "SELECT string_agg(tablename, ',' ORDER BY tablename) FROM pg_tables WHERE schemaname = 'public'")
    };
    let before = tables();
    for args in [&["migrate"][..], &["status"][..], &["officer", "list"][..]] {
        let (code, _, err) = admin(&url, args);
        assert_eq!(code, 74, "{args:?}: {err}");
        assert!(err.contains("newer fieldsync"), "{err}");
    }
    let (code, _, err) = run(
        std::path::Path::new("/nonexistent"),
        &["serve", "--listen", "127.0.0.1:0", "--database", &url],
    );
    assert_eq!(code, 74, "{err}");
    assert_eq!(tables(), before, "a refused database was changed");
}

#[test]
fn sqlite_migrate_needs_an_existing_database() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("server.sqlite3").display().to_string();
    let (code, _, err) = admin(&path, &["migrate"]);
    assert_eq!(code, 66, "{err}");
    assert!(!dir.path().join("server.sqlite3").exists());
    drop(TestServer::start_with_db(&path));
    let (code, _, err) = admin(&path, &["migrate"]);
    let current = format!(
        "the schema is already at version {}",
        fieldsync::server::store::SCHEMA_VERSION
    );
    assert_eq!((code, err.trim()), (0, current.as_str()), "{err}");
}

/// A CA and a certificate for 127.0.0.1 signed by it: (CA PEM, certificate PEM, key PEM).
fn ca_and_server_cert() -> (String, String, String) {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
    let ca_key = KeyPair::generate().expect("CA key");
    let mut ca = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "fieldsync test database CA");
    let ca_cert = ca.self_signed(&ca_key).expect("CA certificate");
    let key = KeyPair::generate().expect("server key");
    let mut leaf = CertificateParams::new(vec!["127.0.0.1".to_string()]).expect("params");
    leaf.distinguished_name
        .push(DnType::CommonName, "127.0.0.1");
    let cert = leaf
        .signed_by(&key, &ca_cert, &ca_key)
        .expect("server certificate");
    (ca_cert.pem(), cert.pem(), key.serialize_pem())
}

/// Turns TLS on in the tests' cluster with `cert`/`key` (written into its data directory,
/// owned by the cluster's user, as PostgreSQL requires); plain connections keep working.
fn enable_tls(cert: &str, key: &str) {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let admin_url = format!("{}/postgres", pg::base_url());
    let data = value(&admin_url, "SHOW data_directory");
    let owner = std::fs::metadata(&data).expect("data directory").uid();
    for (name, text) in [("fs_test_server.crt", cert), ("fs_test_server.key", key)] {
        let path = std::path::Path::new(&data).join(name);
        std::fs::write(&path, text).expect("write TLS file");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        std::os::unix::fs::chown(&path, Some(owner), None).expect("chown to the cluster's user");
    }
    for setting in [
        "ALTER SYSTEM SET ssl_cert_file = 'fs_test_server.crt'",
        "ALTER SYSTEM SET ssl_key_file = 'fs_test_server.key'",
        "ALTER SYSTEM SET ssl = on",
        "SELECT pg_reload_conf()",
    ] {
        pg::psql(pg::base_url(), setting);
    }
    std::thread::sleep(std::time::Duration::from_millis(500));
}

/// `sslmode=require` connects over TLS and verifies the database's certificate: refused
/// against an unknown CA (nothing created), accepted with the CA in `PGSSLROOTCERT`, and the
/// server's pooled connections are encrypted (`pg_stat_ssl`).
#[test]
fn sslmode_require_verifies_the_database_certificate() {
    if std::env::var("FIELDSYNC_TEST_PG_URL").is_ok_and(|v| !v.trim().is_empty()) {
        eprintln!("an external PostgreSQL is in use: its TLS setup is not the test's to change");
        return;
    }
    let (ca, cert, key) = ca_and_server_cert();
    enable_tls(&cert, &key);
    let dir = tempfile::tempdir().expect("tempdir");
    let ca_file = dir.path().join("db-ca.pem");
    std::fs::write(&ca_file, &ca).expect("write CA");
    let plain = pg::fresh_database();
    let db_name = plain.rsplit('/').next().expect("database name").to_string();
    let tls_url = format!("{plain}?sslmode=require");

    let unknown_ca = Command::new(bin())
        .args(["admin", "--database", &tls_url, "migrate"])
        .env_remove("PGSSLROOTCERT")
        .output()
        .expect("run fieldsync");
    let err = String::from_utf8_lossy(&unknown_ca.stderr);
    assert_ne!(unknown_ca.status.code(), Some(0), "{err}");
    assert!(err.contains("certificate"), "{err}");
    assert_eq!(
        value(&plain, "SELECT to_regclass('meta') IS NULL"),
        "t",
        "created over an unverified connection"
    );

    let trusted = Command::new(bin())
        .args(["admin", "--database", &tls_url, "migrate"])
        .env("PGSSLROOTCERT", &ca_file)
        .output()
        .expect("run fieldsync");
    let err = String::from_utf8_lossy(&trusted.stderr);
    assert_eq!(trusted.status.code(), Some(0), "{err}");

    // A server over TLS: its pooled connection (opened by /v1/ready) is encrypted.
    let mut serve = Command::new(bin())
        .args(["serve", "--listen", "127.0.0.1:0", "--database", &tls_url])
        .env("PGSSLROOTCERT", &ca_file)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn serve");
    let mut first = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(serve.stdout.take().expect("stdout")),
        &mut first,
    )
    .expect("first line");
    let url = first.trim().trim_start_matches("listening on ").to_string();
    let ready = support::http::client()
        .get(format!("{url}/v1/ready"))
        .send()
        .expect("ready answers");
    assert_eq!(ready.status().as_u16(), 200);
    let encrypted = value(
        &plain,
        &format!(
            "SELECT count(*) FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) \
             WHERE s.ssl AND a.datname = '{db_name}' AND a.pid <> pg_backend_pid()"
        ),
    );
    let _ = serve.kill();
    let _ = serve.wait();
    assert!(
        encrypted.parse::<i64>().unwrap_or(0) >= 1,
        "no encrypted connection: {encrypted}"
    );
}
