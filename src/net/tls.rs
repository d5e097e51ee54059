//! TLS for everything daas connects to: one rustls set-up (ring, pure Rust, so cross
//! builds stay simple) trusting the webpki roots plus an optional `ca_file`, and one
//! way of explaining a certificate that does not verify, with what to do about it.
//! The sinks and `register kea` both use it, so a lab CA works the same everywhere.

use std::error::Error as StdError;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::CertificateError;
use rustls::pki_types::CertificateDer;

/// Why the TLS client settings could not be made; each names the file and the fix.
/// The cause is in the message and not a `source()`: callers print the chain, and
/// each cause must be said once.
#[derive(Debug, thiserror::Error)]
pub enum TlsSetupError {
    #[error(
        "cannot read `ca_file` {}: {cause}; give a PEM file of CA certificates",
        path.display()
    )]
    ReadCaFile {
        path: PathBuf,
        cause: rustls::pki_types::pem::Error,
    },
    #[error(
        "`ca_file` {} holds no PEM certificate (a \"-----BEGIN CERTIFICATE-----\" block)",
        path.display()
    )]
    NoCertificate { path: PathBuf },
    #[error(
        "`ca_file` {} holds a certificate that cannot be used: {cause}; give the PEM \
         certificate of the CA that signed the server's certificate",
        path.display()
    )]
    UnusableCertificate { path: PathBuf, cause: rustls::Error },
    /// ring offers the safe default protocol versions, so this does not happen with
    /// the provider we build; rustls still asks us to handle it.
    #[error("TLS setup failed: {cause}")]
    Protocols { cause: rustls::Error },
}

/// Reads the certificates of a PEM file, for `ca_file`.
pub fn read_ca_file(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsSetupError> {
    use rustls::pki_types::pem::PemObject;
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|iter| iter.collect::<Result<Vec<_>, _>>())
        .map_err(|cause| TlsSetupError::ReadCaFile {
            path: path.to_path_buf(),
            cause,
        })?;
    if certs.is_empty() {
        return Err(TlsSetupError::NoCertificate {
            path: path.to_path_buf(),
        });
    }
    Ok(certs)
}

/// Client settings: the webpki roots plus `ca_file`, ring as the crypto provider.
pub fn client_config(ca_file: Option<&Path>) -> Result<rustls::ClientConfig, TlsSetupError> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(path) = ca_file {
        for cert in read_ca_file(path)? {
            roots
                .add(cert)
                .map_err(|cause| TlsSetupError::UnusableCertificate {
                    path: path.to_path_buf(),
                    cause,
                })?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|cause| TlsSetupError::Protocols { cause })?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

/// The certificate problem somewhere in an error's chain of causes, if any.
pub fn certificate_problem<'a>(err: &'a (dyn StdError + 'static)) -> Option<&'a CertificateError> {
    let mut next: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(cause) = next {
        if let Some(rustls::Error::InvalidCertificate(reason)) = as_rustls(cause) {
            return Some(reason);
        }
        next = cause.source();
    }
    None
}

/// `cause` as a rustls error. TLS streams report one wrapped in an `io::Error` (the
/// HTTP client wraps that in another), whose `source()` skips the wrapped error
/// itself, so look inside explicitly.
fn as_rustls<'a>(cause: &'a (dyn StdError + 'static)) -> Option<&'a rustls::Error> {
    let mut current = cause;
    loop {
        if let Some(tls) = current.downcast_ref::<rustls::Error>() {
            return Some(tls);
        }
        current = current.downcast_ref::<std::io::Error>()?.get_ref()?;
    }
}

/// Why a certificate was refused, and what to do: `name_key` says which setting
/// names the server (`server`, the host in `url`).
pub fn explain_certificate(
    problem: &CertificateError,
    ca_file: Option<&Path>,
    name_key: &str,
) -> String {
    let text = problem.to_string();
    let advice = match (problem, ca_file) {
        (CertificateError::UnknownIssuer, None) => {
            "no trusted CA signed it; if the server uses the lab's own CA, set `ca_file` to that CA's certificate"
                .to_string()
        }
        (CertificateError::UnknownIssuer, Some(path)) => {
            format!("`ca_file` {} does not hold the CA that signed it", path.display())
        }
        // webpki's reason for a self-signed certificate made as a CA (what
        // `openssl req -x509` makes by default); it only shows in the text.
        _ if text.contains("CaUsedAsEndEntity") => "the server presents a CA certificate as its own, which TLS clients \
             refuse; give the server a certificate signed by a CA and set `ca_file` to that CA"
            .to_string(),
        (CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. }, _) => {
            format!("{name_key} must be a name (or address) the certificate is for")
        }
        _ => return text,
    };
    format!("{text}; {advice}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ca_file_without_a_certificate_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("ca.pem");
        std::fs::write(&path, "not a certificate\n").expect("write");
        let err = client_config(Some(&path)).expect_err("no certificate");
        assert_eq!(
            err.to_string(),
            format!(
                "`ca_file` {} holds no PEM certificate (a \"-----BEGIN CERTIFICATE-----\" block)",
                path.display()
            )
        );
    }

    #[test]
    fn without_a_ca_file_the_webpki_roots_are_enough() {
        assert!(client_config(None).is_ok());
    }

    #[test]
    fn an_unknown_issuer_says_what_to_set() {
        let problem = CertificateError::UnknownIssuer;
        let advice = explain_certificate(&problem, None, "`server`");
        assert!(advice.contains("set `ca_file`"), "{advice}");
        let advice = explain_certificate(&problem, Some(Path::new("/etc/lab-ca.pem")), "`server`");
        assert!(
            advice.contains("`ca_file` /etc/lab-ca.pem does not hold the CA"),
            "{advice}"
        );
        let advice = explain_certificate(&CertificateError::NotValidForName, None, "`server`");
        assert!(advice.contains("`server` must be a name"), "{advice}");
    }
}
