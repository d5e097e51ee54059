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

use super::connect::Security;
use super::failure::lower_first;
use crate::net::tls::{client_config, read_ca_file};
use crate::sinks::email::SmtpTls;
use crate::sinks::secret::Secret;

/// `server` as a host name or IP address; catches the URL and `host:port` forms
/// people paste from mail-client settings.
pub(super) fn check_server(server: &str) -> Result<&str, String> {
    let server = server.trim();
    if server.is_empty() {
        return Err(
            "`server` is empty; give the mail server's host name, e.g. \"smtp.example.org\""
                .to_string(),
        );
    }
    if server.contains("://") {
        return Err(format!(
            "`server` \"{server}\" is a URL; give only the host name, e.g. \"smtp.example.org\""
        ));
    }
    // An IPv6 address has colons too; anything else with one is `host:port`.
    if server.contains(':') && server.parse::<std::net::IpAddr>().is_err() {
        return Err(format!(
            "`server` \"{server}\" has a port in it; give the host name alone and the port as `port`"
        ));
    }
    if server.contains(char::is_whitespace) {
        return Err(format!(
            "`server` \"{server}\" has a space in it; give the host name alone"
        ));
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

/// One address, as `a@b` or `Name <a@b>`.
pub(super) fn mailbox(key: &str, text: &str) -> Result<Mailbox, String> {
    text.trim().parse::<Mailbox>().map_err(|err| {
        format!(
            "`{key}` \"{text}\" is not an email address: {}",
            lower_first(&err.to_string())
        )
    })
}

pub(super) fn mailboxes(key: &str, texts: &[String]) -> Result<Vec<Mailbox>, String> {
    texts.iter().map(|text| mailbox(key, text)).collect()
}

/// The login, if any. A password without a username (or the reverse) is a config
/// mistake, not a reason to send without logging in.
pub(super) fn credentials(
    username: Option<&str>,
    password: Option<&Secret>,
) -> Result<Option<Credentials>, String> {
    match (username, password) {
        (Some(username), Some(password)) => {
            if username.trim().is_empty() {
                return Err("`username` is empty; give the login name (often the `from` address)".to_string());
            }
            Ok(Some(Credentials::new(username.to_string(), password.expose().to_string())))
        }
        (Some(_), None) => {
            Err("`username` is set but no password; give one of `password`, `password_file` or `password_env`".to_string())
        }
        (None, Some(_)) => {
            Err("a password is set but no `username`; set `username` to the login name (often the `from` address)".to_string())
        }
        (None, None) => Ok(None),
    }
}

/// The TLS mode, with certificates checked against the webpki roots plus `ca_file`:
/// by lettre's TLS parameters for STARTTLS, by the sinks' own rustls set-up for TLS
/// from the first byte (the same roots, TLS versions and ring provider; see
/// `implicit_tls` for why lettre cannot do that handshake).
pub(super) fn tls(mode: SmtpTls, server: &str, ca_file: Option<&Path>) -> Result<Security, String> {
    match mode {
        SmtpTls::None => match ca_file {
            Some(path) => Err(format!(
                "`ca_file` {} is set but `tls` is \"none\", so no certificate is checked; remove `ca_file` or set `tls`",
                path.display()
            )),
            None => Ok(Security::None),
        },
        SmtpTls::Starttls => starttls(server, ca_file).map(Security::Starttls),
        SmtpTls::Tls => {
            let name = ServerName::try_from(server.to_string()).map_err(|err| {
                format!("`server` \"{server}\" cannot be checked against a TLS certificate ({err}); give the host name the certificate is for")
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
fn starttls(server: &str, ca_file: Option<&Path>) -> Result<TlsParameters, String> {
    let mut builder =
        TlsParameters::builder(server.to_string()).certificate_store(CertificateStore::WebpkiRoots);
    if let Some(path) = ca_file {
        for certificate in ca_certificates(path)? {
            builder = builder.add_root_certificate(certificate);
        }
    }
    builder.build_rustls().map_err(|err| match ca_file {
        // The only input that can make this fail is a certificate rustls rejects.
        Some(path) => format!("cannot use `ca_file` {}: {err}", path.display()),
        None => format!("cannot set up TLS for `server` \"{server}\": {err}"),
    })
}

/// The certificates of `ca_file`, for lettre. [`read_ca_file`] refuses a file with
/// none (lettre would accept it and silently trust nothing extra).
fn ca_certificates(path: &Path) -> Result<Vec<Certificate>, String> {
    read_ca_file(path)?
        .iter()
        .map(|der| {
            Certificate::from_der(der.to_vec()).map_err(|err| {
                format!(
                    "`ca_file` {} holds a certificate that cannot be used: {err}",
                    path.display()
                )
            })
        })
        .collect()
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
            let err = new(&config, None).err().expect("a config mistake");
            assert!(err.starts_with(expected), "{err}");
        }
        let err = new(&config(), Some("hunter2hunter2"))
            .err()
            .expect("password without username");
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
        .expect("empty ca_file");
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
        .expect("ca_file without tls");
        assert!(err.contains("`tls` is \"none\""), "{err}");
    }
}
