//! TLS trust on the officer's side: reading an organisation's certificate authority file, and
//! telling a refused server certificate (untrusted, wrong name, expired) apart from a network
//! that is not there, by walking a failure's source chain down to `rustls::Error`.
//!
//! This module must not make connections, know the sync rules, command-line flags or exit
//! codes: the transport builds the client, the CLI says what to run next.

use std::path::Path;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use rustls::{CertificateError, RootCertStore};

use super::error::{Error, Result};

/// What is wrong with a server's certificate, as an officer needs to know it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CertProblem {
    /// Not signed by an authority this laptop trusts (an organisation's own CA, self-signed).
    Untrusted,
    /// Valid, but for another name than the host in the server URL.
    WrongName,
    /// Past its end date (or this laptop's clock is far ahead).
    Expired,
    /// Before its start date (or this laptop's clock is behind).
    NotYetValid,
    /// Refused for another reason (revoked, wrong purpose, bad signature, ...).
    Other(String),
}

impl CertProblem {
    /// A stable name for `--json` output.
    pub fn code(&self) -> &'static str {
        match self {
            CertProblem::Untrusted => "untrusted",
            CertProblem::WrongName => "wrong_name",
            CertProblem::Expired => "expired",
            CertProblem::NotYetValid => "not_yet_valid",
            CertProblem::Other(_) => "other",
        }
    }

    fn from_rustls(e: &CertificateError) -> CertProblem {
        use CertificateError as C;
        match e {
            C::UnknownIssuer => CertProblem::Untrusted,
            C::NotValidForName | C::NotValidForNameContext { .. } => CertProblem::WrongName,
            C::Expired | C::ExpiredContext { .. } => CertProblem::Expired,
            C::NotValidYet | C::NotValidYetContext { .. } => CertProblem::NotYetValid,
            other => CertProblem::Other(format!("{other:?}")),
        }
    }
}

impl std::fmt::Display for CertProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CertProblem::Untrusted => {
                f.write_str("its certificate is not signed by an authority this laptop trusts")
            }
            CertProblem::WrongName => {
                f.write_str("its certificate is for another name than the host in the server URL")
            }
            CertProblem::Expired => {
                f.write_str("its certificate has expired (or this laptop's clock is wrong)")
            }
            CertProblem::NotYetValid => {
                f.write_str("its certificate is not valid yet (or this laptop's clock is wrong)")
            }
            CertProblem::Other(why) => write!(f, "its certificate was refused ({why})"),
        }
    }
}

/// The certificate problem behind a failed request, if a refused server certificate is what
/// made it fail. `std::io::Error` hides the error it wraps from `source()`, so each I/O error
/// on the chain is opened too.
pub fn classify(err: &(dyn std::error::Error + 'static)) -> Option<CertProblem> {
    let mut next = Some(err);
    while let Some(e) = next {
        if let Some(problem) = from_rustls(e) {
            return Some(problem);
        }
        if let Some(inner) = e
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            if let Some(problem) = classify(inner) {
                return Some(problem);
            }
        }
        next = e.source();
    }
    None
}

fn from_rustls(e: &(dyn std::error::Error + 'static)) -> Option<CertProblem> {
    match e.downcast_ref::<rustls::Error>()? {
        rustls::Error::InvalidCertificate(c) => Some(CertProblem::from_rustls(c)),
        _ => None,
    }
}

/// Checks that `pem` holds at least one certificate, and that every certificate in it can be
/// a trust anchor; returns how many it holds.
pub fn check_ca_pem(pem: &[u8]) -> std::result::Result<usize, String> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(pem)
        .collect::<std::result::Result<_, _>>()
        .map_err(|e| format!("it is not a PEM file ({e})"))?;
    if certs.is_empty() {
        return Err("it holds no PEM certificate (-----BEGIN CERTIFICATE-----)".into());
    }
    let n = certs.len();
    let mut roots = RootCertStore::empty();
    let (_, invalid) = roots.add_parsable_certificates(certs);
    if invalid > 0 {
        return Err(format!("{invalid} of its {n} certificates cannot be read"));
    }
    Ok(n)
}

/// Reads an organisation's CA file for `fieldsync init`: a missing file is not found, a file
/// without a usable certificate is bad input.
pub fn read_ca_file(path: &Path) -> Result<Vec<u8>> {
    let pem = match std::fs::read(path) {
        Ok(p) => p,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(Error::NotFound(format!(
                "no certificate file at {}",
                path.display()
            )))
        }
        Err(e) => return Err(Error::io(format!("cannot read {}", path.display()), e)),
    };
    check_ca_pem(&pem).map_err(|reason| Error::BadCaCert {
        path: path.to_path_buf(),
        reason,
    })?;
    Ok(pem)
}

/// Reads the CA copy a config names, at sync time: any trouble with it is a config problem.
pub fn load_ca_copy(path: &Path) -> Result<Vec<u8>> {
    let pem = std::fs::read(path).map_err(|e| {
        Error::Config(format!(
            "cannot read the certificate authority file {} named in the config: {e}",
            path.display()
        ))
    })?;
    check_ca_pem(&pem).map_err(|reason| {
        Error::Config(format!(
            "the certificate authority file {} named in the config is not usable: {reason}",
            path.display()
        ))
    })?;
    Ok(pem)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_without_certificates_is_refused() {
        assert!(check_ca_pem(b"").is_err());
        assert!(check_ca_pem(b"hello, not a certificate\n").is_err());
        let key_only = b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
        assert!(check_ca_pem(key_only).is_err());
        let garbage = b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        assert!(check_ca_pem(garbage).is_err());
    }

    #[test]
    fn a_certificate_error_is_found_behind_io_errors() {
        let tls = rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer);
        let io = std::io::Error::new(std::io::ErrorKind::InvalidData, tls);
        #[derive(Debug, thiserror::Error)]
        #[error("connect failed")]
        struct Outer(#[source] std::io::Error);
        assert_eq!(classify(&Outer(io)), Some(CertProblem::Untrusted));
        let expired = rustls::Error::InvalidCertificate(CertificateError::Expired);
        assert_eq!(classify(&expired), Some(CertProblem::Expired));
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        assert_eq!(classify(&refused), None);
    }
}
