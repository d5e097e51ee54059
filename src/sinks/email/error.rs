//! Why an email sink cannot be set up: each mistake in its table as a cause and its
//! fix, naming the key (the server, the port, the addresses, the login, TLS and the CA
//! file, `helo_name`). The password is never in a message; the causes from lettre and
//! rustls are in the message and not a `source()`, so the chain says each once.

use std::path::PathBuf;

use super::helo::HeloNameError;
use crate::net::tls::TlsSetupError;

/// A mistake in an email sink's table, found when the sink is built (or, for the few
/// that need no secret, when the config is read).
#[derive(Debug, thiserror::Error)]
pub enum EmailSetupError {
    #[error("`server` is empty; give the mail server's host name, e.g. \"smtp.example.org\"")]
    ServerEmpty,
    #[error("`server` \"{server}\" is a URL; give only the host name, e.g. \"smtp.example.org\"")]
    ServerIsUrl { server: String },
    #[error(
        "`server` \"{server}\" has a port in it; give the host name alone and the port as `port`"
    )]
    ServerHasPort { server: String },
    #[error("`server` \"{server}\" has a space in it; give the host name alone")]
    ServerHasSpace { server: String },
    /// With `tls = "tls"` the server's name is checked against its certificate.
    #[error(
        "`server` \"{server}\" cannot be checked against a TLS certificate ({cause}); give the host name the certificate is for"
    )]
    ServerNotTlsName { server: String, cause: String },
    #[error("`port` 0 is not a port; give 1 to 65535 or leave it out for the usual one")]
    PortZero,
    /// `key` is `from`, `to` or `cc`; `cause` is lettre's reason, lower-case.
    #[error(
        "`{key}` \"{text}\" is not an email address: {cause}; write it as \"lab@example.org\" or \"Doughnut Lab <lab@example.org>\""
    )]
    NotAnAddress {
        key: &'static str,
        text: String,
        cause: String,
    },
    #[error("`to` is empty; give at least one address")]
    NoRecipient,
    #[error("`username` is empty; give the login name (often the `from` address)")]
    UsernameEmpty,
    #[error(
        "`username` is set but no password; give one of `password`, `password_file` or `password_env`"
    )]
    NoPassword,
    #[error(
        "a password is set but no `username`; set `username` to the login name (often the `from` address)"
    )]
    NoUsername,
    #[error(
        "`ca_file` {} is set but `tls` is \"none\", so no certificate is checked; remove `ca_file` or set `tls`",
        path.display()
    )]
    CaFileWithoutTls { path: PathBuf },
    /// The CA file as the sinks' own TLS set-up reads it (unreadable, no certificate).
    #[error(transparent)]
    CaFile(#[from] TlsSetupError),
    /// A certificate in the CA file that lettre's STARTTLS set-up refuses.
    #[error(
        "`ca_file` {} holds a certificate that cannot be used: {cause}; give the PEM certificate of the CA that signed the server's certificate",
        path.display()
    )]
    UnusableCaCertificate { path: PathBuf, cause: String },
    /// lettre's STARTTLS set-up failed without a `ca_file`: nothing in the config can
    /// cause that.
    #[error(
        "cannot set up TLS for `server` \"{server}\": {cause}; please report this as a bug in daas"
    )]
    Tls { server: String, cause: String },
    #[error(transparent)]
    HeloName(#[from] HeloNameError),
}

impl EmailSetupError {
    /// The key the mistake is about; `None` when it is no key's fault.
    pub fn key(&self) -> Option<&'static str> {
        Some(match self {
            EmailSetupError::ServerEmpty
            | EmailSetupError::ServerIsUrl { .. }
            | EmailSetupError::ServerHasPort { .. }
            | EmailSetupError::ServerHasSpace { .. }
            | EmailSetupError::ServerNotTlsName { .. } => "server",
            EmailSetupError::PortZero => "port",
            EmailSetupError::NotAnAddress { key, .. } => key,
            EmailSetupError::NoRecipient => "to",
            // Where the login is written (or, when it is missing, the table).
            EmailSetupError::UsernameEmpty
            | EmailSetupError::NoPassword
            | EmailSetupError::NoUsername => "username",
            EmailSetupError::CaFile(TlsSetupError::Protocols { .. })
            | EmailSetupError::Tls { .. } => return None,
            EmailSetupError::CaFileWithoutTls { .. }
            | EmailSetupError::CaFile(_)
            | EmailSetupError::UnusableCaCertificate { .. } => "ca_file",
            EmailSetupError::HeloName(_) => "helo_name",
        })
    }
}
