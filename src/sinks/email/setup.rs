//! Checking an email sink's config: the server, the addresses, the login, the TLS
//! mode and the CA file, each turned into what the sink needs or into an error that
//! names the config key. It exists so that every mistake shows when the daemon
//! starts, not at the first doughnut.

use std::path::Path;
use std::sync::Arc;

use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, CertificateStore, TlsParameters};
use rustls::pki_types::ServerName;
use tokio_rustls::TlsConnector;

use super::EmailSetupError;
use super::connect::Security;
use super::failure::lower_first;
use crate::net::tls::{client_config, read_ca_file};
use crate::sinks::email::SmtpTls;
use crate::sinks::secret::Secret;

/// `server` as a host name or IP address; catches the URL and `host:port` forms
/// people paste from mail-client settings.
pub(super) fn check_server(server: &str) -> Result<&str, EmailSetupError> {
    let server = server.trim();
    let owned = || server.to_string();
    if server.is_empty() {
        return Err(EmailSetupError::ServerEmpty);
    }
    if server.contains("://") {
        return Err(EmailSetupError::ServerIsUrl { server: owned() });
    }
    // An IPv6 address has colons too; anything else with one is `host:port`.
    if server.contains(':') && server.parse::<std::net::IpAddr>().is_err() {
        return Err(EmailSetupError::ServerHasPort { server: owned() });
    }
    if server.contains(char::is_whitespace) {
        return Err(EmailSetupError::ServerHasSpace { server: owned() });
    }
    Ok(server)
}

/// `host:port` as people write it, with an IPv6 address in brackets.
pub(super) fn address(server: &str, port: u16) -> String {
    if server.contains(':') {
        format!("[{server}]:{port}")
    } else {
        format!("{server}:{port}")
    }
}

/// One address of `key` (`from`, `to`, `cc`), as `a@b` or `Name <a@b>`.
pub(super) fn mailbox(key: &'static str, text: &str) -> Result<Mailbox, EmailSetupError> {
    text.trim()
        .parse::<Mailbox>()
        .map_err(|err| EmailSetupError::NotAnAddress {
            key,
            text: text.to_string(),
            cause: lower_first(&err.to_string()),
        })
}

pub(super) fn mailboxes(
    key: &'static str,
    texts: &[String],
) -> Result<Vec<Mailbox>, EmailSetupError> {
    texts.iter().map(|text| mailbox(key, text)).collect()
}

/// The login, if any. A password without a username (or the reverse) is a config
/// mistake, not a reason to send without logging in.
pub(super) fn credentials(
    username: Option<&str>,
    password: Option<&Secret>,
) -> Result<Option<Credentials>, EmailSetupError> {
    match (username, password) {
        (Some(username), Some(password)) => {
            if username.trim().is_empty() {
                return Err(EmailSetupError::UsernameEmpty);
            }
            Ok(Some(Credentials::new(
                username.to_string(),
                password.expose().to_string(),
            )))
        }
        (Some(_), None) => Err(EmailSetupError::NoPassword),
        (None, Some(_)) => Err(EmailSetupError::NoUsername),
        (None, None) => Ok(None),
    }
}

/// The TLS mode, with certificates checked against the webpki roots plus `ca_file`:
/// by lettre's TLS parameters for STARTTLS, by the sinks' own rustls set-up for TLS
/// from the first byte (the same roots, TLS versions and ring provider; see
/// `implicit_tls` for why lettre cannot do that handshake).
pub(super) fn tls(
    mode: SmtpTls,
    server: &str,
    ca_file: Option<&Path>,
) -> Result<Security, EmailSetupError> {
    match mode {
        SmtpTls::None => match ca_file {
            Some(path) => Err(EmailSetupError::CaFileWithoutTls {
                path: path.to_path_buf(),
            }),
            None => Ok(Security::None),
        },
        SmtpTls::Starttls => starttls(server, ca_file).map(Security::Starttls),
        SmtpTls::Tls => {
            let name = ServerName::try_from(server.to_string()).map_err(|cause| {
                EmailSetupError::ServerNotTlsName {
                    server: server.to_string(),
                    cause: cause.to_string(),
                }
            })?;
            let config = client_config(ca_file)?;
            Ok(Security::Implicit {
                connector: TlsConnector::from(Arc::new(config)),
                name,
            })
        }
    }
}

/// lettre's TLS parameters for STARTTLS.
fn starttls(server: &str, ca_file: Option<&Path>) -> Result<TlsParameters, EmailSetupError> {
    let mut builder =
        TlsParameters::builder(server.to_string()).certificate_store(CertificateStore::WebpkiRoots);
    if let Some(path) = ca_file {
        for certificate in ca_certificates(path)? {
            builder = builder.add_root_certificate(certificate);
        }
    }
    builder.build_rustls().map_err(|err| match ca_file {
        // The only input that can make this fail is a certificate rustls rejects.
        Some(path) => unusable(path, &err),
        None => EmailSetupError::Tls {
            server: server.to_string(),
            cause: err.to_string(),
        },
    })
}

/// The certificates of `ca_file`, for lettre. [`read_ca_file`] refuses a file with
/// none (lettre would accept it and silently trust nothing extra).
fn ca_certificates(path: &Path) -> Result<Vec<Certificate>, EmailSetupError> {
    read_ca_file(path)?
        .iter()
        .map(|der| Certificate::from_der(der.to_vec()).map_err(|err| unusable(path, &err)))
        .collect()
}

/// A certificate in `ca_file` that lettre refuses.
fn unusable(path: &Path, err: &lettre::transport::smtp::Error) -> EmailSetupError {
    EmailSetupError::UnusableCaCertificate {
        path: path.to_path_buf(),
        cause: err.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{config, new};
    use crate::sinks::email::{EmailSinkConfig, OneOrMany, SmtpTls};

    #[test]
    fn config_mistakes_name_the_key() {
        let cases = [
            (
                EmailSinkConfig {
                    from: "not an address".into(),
                    ..config()
                },
                "`from` \"not an address\" is not an email address: ",
            ),
            (
                EmailSinkConfig {
                    to: OneOrMany::Many(vec![]),
                    ..config()
                },
                "`to` is empty",
            ),
            (
                EmailSinkConfig {
                    cc: vec!["a@b@c".into()],
                    ..config()
                },
                "`cc` \"a@b@c\" is not an email address",
            ),
            (
                EmailSinkConfig {
                    server: "smtp://x.org".into(),
                    ..config()
                },
                "`server` \"smtp://x.org\" is a URL",
            ),
            (
                EmailSinkConfig {
                    server: "x.org:587".into(),
                    ..config()
                },
                "`server` \"x.org:587\" has a port in it",
            ),
            (
                EmailSinkConfig {
                    username: Some("bob".into()),
                    ..config()
                },
                "`username` is set but no password",
            ),
            (
                EmailSinkConfig {
                    ca_file: Some("/nonexistent/ca.pem".into()),
                    ..config()
                },
                "cannot read `ca_file` /nonexistent/ca.pem: ",
            ),
            (
                EmailSinkConfig {
                    helo_name: Some("pi.example.org\r\nRSET".into()),
                    ..config()
                },
                "`helo_name` \"pi.example.org\\r\\nRSET\" has a space, a control",
            ),
            (
                EmailSinkConfig {
                    helo_name: Some("[kitchen]".into()),
                    ..config()
                },
                "`helo_name` \"[kitchen]\" is not an address literal",
            ),
        ];
        for (config, expected) in cases {
            let err = new(&config, None)
                .err()
                .expect("a config mistake")
                .to_string();
            assert!(err.starts_with(expected), "{err}");
        }
        let err = new(&config(), Some("hunter2hunter2"))
            .err()
            .expect("password without username")
            .to_string();
        assert!(
            err.contains("no `username`") && !err.contains("hunter2"),
            "{err}"
        );
    }

    #[test]
    fn a_ca_file_without_a_certificate_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("ca.pem");
        std::fs::write(&path, "not a certificate\n").expect("write");
        let err = new(
            &EmailSinkConfig {
                ca_file: Some(path.clone()),
                ..config()
            },
            None,
        )
        .err()
        .expect("empty ca_file")
        .to_string();
        assert_eq!(
            err,
            format!(
                "`ca_file` {} holds no PEM certificate (a \"-----BEGIN CERTIFICATE-----\" block)",
                path.display()
            )
        );
        let err = new(
            &EmailSinkConfig {
                ca_file: Some(path),
                tls: SmtpTls::None,
                ..config()
            },
            None,
        )
        .err()
        .expect("ca_file without tls")
        .to_string();
        assert!(err.contains("`tls` is \"none\""), "{err}");
    }
}
