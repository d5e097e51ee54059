//! TLS for every sink: one rustls set-up (ring, pure Rust, so cross builds stay
//! simple) trusting the webpki roots plus an optional `ca_file`, and one way of
//! explaining a certificate that does not verify, with what to do about it.

use std::error::Error as StdError;
use std::path::Path;
use std::sync::Arc;

use rustls::CertificateError;

/// Reads the certificates of a PEM file, for `ca_file`.
pub fn read_ca_file(
    path: &Path,
) -> Result<Vec<rustls::pki_types::CertificateDer<'static>>, String> {
    use rustls::pki_types::{CertificateDer, pem::PemObject};
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|iter| iter.collect::<Result<Vec<_>, _>>())
        .map_err(|err| {
            format!(
                "cannot read `ca_file` {}: {err}; give a PEM file of CA certificates",
                path.display()
            )
        })?;
    if certs.is_empty() {
        return Err(format!(
            "`ca_file` {} holds no PEM certificate (a \"-----BEGIN CERTIFICATE-----\" block)",
            path.display()
        ));
    }
    Ok(certs)
}

/// Client settings: the webpki roots plus `ca_file`, ring as the crypto provider.
pub fn client_config(ca_file: Option<&Path>) -> Result<rustls::ClientConfig, String> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(path) = ca_file {
        for cert in read_ca_file(path)? {
            roots.add(cert).map_err(|err| {
                format!(
                    "`ca_file` {}: a certificate is not usable: {err}",
                    path.display()
                )
            })?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|err| format!("TLS setup failed: {err}"))?
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
