//! Test certificates, made by the `openssl` command at test time: a CA and a server
//! certificate for localhost / 127.0.0.1, for the real TLS servers the tests start.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use tempfile::TempDir;

pub use super::free_port;

/// A CA and a server certificate for localhost / 127.0.0.1 signed by it.
///
/// A CA plus a leaf, not one self-signed certificate: `openssl req -x509` marks its
/// certificate as a CA, and webpki (rightly) refuses a CA certificate as a server's
/// own. The `ca_file` the sink trusts is the CA, as a lab's own mail server's would be.
pub struct Pki {
    _dir: TempDir,
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

pub fn openssl(args: &[&str]) {
    let output = Command::new("openssl")
        .args(args)
        .output()
        .expect("run openssl (Debian package openssl)");
    assert!(
        output.status.success(),
        "openssl {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

pub fn pki() -> Pki {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = |name: &str| dir.path().join(name);
    let (ca, ca_key, cert, key) = (
        path("ca.pem"),
        path("ca.key"),
        path("server.pem"),
        path("server.key"),
    );
    let s = |p: &Path| p.to_str().expect("utf-8 temp path").to_string();
    // P-256 keys: quick to make on a slow machine, and both rustls and Python take them.
    let new_key = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-days",
        "2",
    ];
    let ca_args = [
        "req",
        "-x509",
        "-subj",
        "/CN=daas test CA",
        "-keyout",
        &s(&ca_key),
        "-out",
        &s(&ca),
    ];
    openssl(&[&ca_args[..], &new_key[..]].concat());
    let leaf_args = [
        "req",
        "-x509",
        "-subj",
        "/CN=localhost",
        "-addext",
        "subjectAltName=DNS:localhost,IP:127.0.0.1",
        "-addext",
        "basicConstraints=critical,CA:FALSE",
        "-CA",
        &s(&ca),
        "-CAkey",
        &s(&ca_key),
        "-keyout",
        &s(&key),
        "-out",
        &s(&cert),
    ];
    openssl(&[&leaf_args[..], &new_key[..]].concat());
    Pki {
        _dir: dir,
        ca,
        cert,
        key,
    }
}

/// One self-signed certificate as `openssl req -x509` makes it by default: marked as
/// a CA, and its own `ca_file`.
pub fn self_signed() -> Pki {
    let dir = tempfile::tempdir().expect("tempdir");
    let (cert, key) = (
        dir.path().join("self-signed.pem"),
        dir.path().join("self-signed.key"),
    );
    let (cert_arg, key_arg) = (
        cert.to_str().expect("utf-8 path"),
        key.to_str().expect("utf-8 path"),
    );
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=localhost",
        "-addext",
        "subjectAltName=DNS:localhost,IP:127.0.0.1",
        "-keyout",
        key_arg,
        "-out",
        cert_arg,
    ]);
    Pki {
        ca: cert.clone(),
        cert,
        key,
        _dir: dir,
    }
}
