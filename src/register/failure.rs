//! Why a `daas register` command failed, and so its exit code. It exists so that
//! main.rs gets one error and one code from every command, while each module keeps
//! its own error enum (whose variants say cause + fix) and decides which of its
//! errors are the user's to fix (exit 2) and which the server's (exit 1).

use std::error::Error as StdError;

use super::dhcp::ReservationError;
use super::dns::DnsCommandError;
use super::host::HostError;
use super::kea::KeaError;
use crate::config::ConfigError;

/// Why a register command did not do its job: one variant per module, each said
/// as that module's error. No variant has a `source()`, so `daas: {err:#}` prints
/// the message once, fix last, and no cause twice.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    /// `--config` (or the default config) cannot be read or is not valid.
    #[error("{0}")]
    Config(ConfigError),
    /// The interface asked for, or what it lacks (`register show`, and the host
    /// part of `register dns`).
    #[error("{0}")]
    Host(HostError),
    /// The reservation cannot be made from the flags, config and kernel.
    #[error("{0}")]
    Reservation(ReservationError),
    /// `register dns`.
    #[error("{0}")]
    Dns(DnsCommandError),
    /// `register kea`.
    #[error("{0}")]
    Kea(KeaError),
}

impl Failure {
    /// The process exit code: 2 when a flag, the config or a key file must change,
    /// 1 when the server refused, failed or did not answer.
    pub fn exit_code(&self) -> u8 {
        match self {
            Failure::Config(_) | Failure::Host(_) | Failure::Reservation(_) => 2,
            Failure::Dns(err) => err.exit_code(),
            Failure::Kea(err) => err.exit_code(),
        }
    }

    /// The error, for printing.
    pub fn into_error(self) -> Box<dyn StdError + Send + Sync> {
        Box::new(self)
    }
}

// By hand rather than `#[from]`, which would make each a `source()` too.

impl From<ConfigError> for Failure {
    fn from(err: ConfigError) -> Failure {
        Failure::Config(err)
    }
}

impl From<HostError> for Failure {
    fn from(err: HostError) -> Failure {
        Failure::Host(err)
    }
}

impl From<ReservationError> for Failure {
    fn from(err: ReservationError) -> Failure {
        Failure::Reservation(err)
    }
}

impl From<DnsCommandError> for Failure {
    fn from(err: DnsCommandError) -> Failure {
        Failure::Dns(err)
    }
}

impl From<KeaError> for Failure {
    fn from(err: KeaError) -> Failure {
        Failure::Kea(err)
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    #[test]
    fn a_config_error_is_said_once() {
        let err = Failure::from(ConfigError::Read {
            path: PathBuf::from("/etc/daas/config.toml"),
            cause: std::io::Error::from(std::io::ErrorKind::NotFound),
        });
        assert_eq!(err.exit_code(), 2);
        // main.rs prints the chain of causes: there must be none beyond the message.
        let err = err.into_error();
        assert!(err.source().is_none());
        let text = err.to_string();
        assert_eq!(text.matches("not found").count(), 1, "{text}");
    }
}
