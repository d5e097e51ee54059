//! `daas register`: joins the Pi to the lab network. It reads who the Pi is from the
//! kernel (`host`), prints the DHCP reservation the lab's server needs (`dhcp`) or
//! adds it through Kea's control agent (`kea`), and puts the Pi's name in the lab's
//! DNS by a TSIG-signed RFC 2136 update (`dns`).
//!
//! Flags win over the config's `[register]` table, which wins over what the kernel
//! says. Each command's errors say what to change; [`Failure`] gathers them and
//! gives the exit code: 2 when a flag, the config or a key file must change, 1 when
//! the server said no or did not answer.
//!
//! An island (DESIGN.md): it uses `config` and the neutral HTTP/TLS module `net`,
//! never the daemon, the dispatcher, the outbox or the sinks.

pub mod cli;
pub mod dhcp;
pub mod dns;
mod failure;
pub mod host;
pub mod kea;

use std::path::Path;

use crate::config::{self, ConfigError, Register};

pub use cli::RegisterCommand;
pub use failure::Failure;

/// The `[register]` table of `--config`, or of the default config when that file
/// exists, or an empty one: `register show` and `register dhcp` need no config.
pub fn register_table(path: Option<&Path>) -> Result<Register, ConfigError> {
    let default = Path::new(config::DEFAULT_PATH);
    let path = match path {
        Some(path) => path,
        None if default.exists() => default,
        None => return Ok(Register::default()),
    };
    config::load(path).map(|loaded| loaded.config.register)
}

/// A DNS label as host names allow (RFC 952/1123): 1 to 63 ASCII letters, digits and
/// hyphens, not starting or ending with a hyphen.
pub fn is_valid_label(label: &str) -> bool {
    (1..=63).contains(&label.len())
        && label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !label.starts_with('-')
        && !label.ends_with('-')
}

/// Runs one `daas register` subcommand, printing its output to stdout.
pub fn run(command: RegisterCommand) -> Result<(), Failure> {
    match command {
        RegisterCommand::Show { sources, json } => {
            let table = register_table(sources.config.as_deref())?;
            let interface = sources.interface.or(table.interface);
            let host = host::read(interface.as_deref())?;
            if json {
                println!("{}", host.to_json());
            } else {
                print!("{}", host.to_text());
            }
            Ok(())
        }
        RegisterCommand::Dhcp(args) => dhcp::run(args),
        RegisterCommand::Dns(args) => dns::run(args),
        RegisterCommand::Kea(args) => kea::run(args),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels() {
        for good in ["a", "pi", "doughnut-1", "3pi", "A-Z09", &"x".repeat(63)] {
            assert!(is_valid_label(good), "{good}");
        }
        for bad in [
            "",
            "-pi",
            "pi-",
            "dough_nut",
            "pi.lab",
            "ü",
            "pi pi",
            &"x".repeat(64),
        ] {
            assert!(!is_valid_label(bad), "{bad}");
        }
    }
}
