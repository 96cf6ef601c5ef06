//! Where fieldsync keeps its files, and the officer's config file (server, officer, token,
//! and the organisation's certificate authority, copied beside it): loading, checking and
//! writing them (the config owner-only, both atomically).
//!
//! This module must not open the store or talk to the server.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::error::{Error, HomeFile, Result};

fn project_dirs() -> Option<directories::ProjectDirs> {
    directories::ProjectDirs::from("org", "fieldsync", "fieldsync")
}

/// The default local database: `fieldsync.sqlite3` in the user's data directory.
pub fn default_db_path() -> Result<PathBuf> {
    project_dirs()
        .map(|d| d.data_dir().join("fieldsync.sqlite3"))
        .ok_or(Error::NoHomeDir(HomeFile::Database))
}

/// The default config file: `config.toml` in the user's config directory.
pub fn default_config_path() -> Result<PathBuf> {
    project_dirs()
        .map(|d| d.config_dir().join("config.toml"))
        .ok_or(Error::NoHomeDir(HomeFile::Config))
}

/// The officer's config: which server to sync with, as whom.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Base URL of the sync server, e.g. `https://sync.example.org`.
    pub server: String,
    /// The officer this device records for.
    pub officer: String,
    /// The officer's bearer token (from `fieldsync admin officer add`).
    #[serde(default)]
    pub token: Option<String>,
    /// The organisation's certificate authority (PEM) to trust besides the usual roots: a
    /// copy beside the config, named relative to the config's folder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_cert: Option<PathBuf>,
}

/// The file name of the CA copy beside the config `config.toml`: `config.ca.pem`.
fn ca_copy_name(config_path: &Path) -> PathBuf {
    let stem = config_path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "config".into());
    PathBuf::from(format!("{stem}.ca.pem"))
}

/// Writes `pem` beside the config at `config_path` (atomically, so a crash never leaves half
/// a file) and returns the name to keep in the config. A CA certificate is public: 0644.
pub fn save_ca_copy(config_path: &Path, pem: &[u8]) -> Result<PathBuf> {
    let name = ca_copy_name(config_path);
    let dir = config_path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    fs::create_dir_all(dir)
        .map_err(|e| Error::io(format!("cannot create {}", dir.display()), e))?;
    let path = dir.join(&name);
    let tmp = path.with_extension("pem.tmp");
    fs::write(&tmp, pem)
        .and_then(|_| fs::File::open(&tmp)?.sync_all())
        .map_err(|e| Error::io(format!("cannot write {}", tmp.display()), e))?;
    fs::rename(&tmp, &path)
        .map_err(|e| Error::io(format!("cannot replace {}", path.display()), e))?;
    Ok(name)
}

impl Config {
    /// Where the CA file the config names is, for the config at `config_path` (a relative
    /// name is beside the config).
    pub fn ca_cert_path(&self, config_path: &Path) -> Option<PathBuf> {
        let ca = self.ca_cert.as_ref()?;
        let dir = config_path.parent().unwrap_or(Path::new(""));
        Some(dir.join(ca))
    }

    /// Reads the config at `path`. A missing file says how to create one.
    pub fn load(path: &Path) -> Result<Config> {
        let text = match fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(Error::ConfigMissing {
                    path: path.to_path_buf(),
                })
            }
            Err(e) => {
                return Err(Error::Config(format!(
                    "cannot read the config {}: {e}; check its permissions",
                    path.display()
                )))
            }
        };
        let config: Config = toml::from_str(&text).map_err(|e| {
            Error::Config(format!(
                "the config {} is not valid: {}; fix it or run `fieldsync init` again",
                path.display(),
                e.message()
            ))
        })?;
        crate::model::validate_officer_id(&config.officer)
            .map_err(|e| Error::Config(format!("the config {}: {e}", path.display())))?;
        Ok(config)
    }

    /// Writes the config owner-only (0600), since it holds the token. Replaces the file
    /// atomically, so a crash never leaves half a config.
    pub fn save(&self, path: &Path) -> Result<()> {
        let text = toml::to_string(self)
            .map_err(|e| Error::Config(format!("cannot encode the config: {e}")))?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::create_dir_all(dir)
                .map_err(|e| Error::io(format!("cannot create {}", dir.display()), e))?;
        }
        let tmp = path.with_extension("toml.tmp");
        let mut opts = fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts
            .open(&tmp)
            .map_err(|e| Error::io(format!("cannot write {}", tmp.display()), e))?;
        f.write_all(text.as_bytes())
            .and_then(|_| f.sync_all())
            .map_err(|e| Error::io(format!("cannot write {}", tmp.display()), e))?;
        fs::rename(&tmp, path)
            .map_err(|e| Error::io(format!("cannot replace {}", path.display()), e))?;
        Ok(())
    }
}
