//! `daas register`: joins the Pi to the lab network. It reads who the Pi is from the
//! kernel (`host`), prints the DHCP reservation the lab's server needs (`dhcp`) or
//! adds it through Kea's control agent (`kea`), and puts the Pi's name in the lab's
//! DNS by a TSIG-signed RFC 2136 update (`dns`).
//!
//! Flags win over the config's `[register]` table, which wins over what the kernel
//! says. Errors are `Failure::Usage` (exit 2: a flag, the config or a key file must
//! change) or `Failure::Failed` (exit 1: the server said no, or did not answer).

pub mod cli;
pub mod dhcp;
pub mod dns;
pub mod host;
pub mod kea;

use std::path::Path;

use crate::config::{self, Register};

pub use cli::RegisterCommand;

/// Why a register command did not do its job.
#[derive(Debug)]
pub enum Failure {
    /// Bad arguments, config or key file: exit 2.
    Usage(anyhow::Error),
    /// The server refused, failed or did not answer: exit 1.
    Failed(anyhow::Error),
}

impl Failure {
    /// The process exit code for this failure.
    pub fn exit_code(&self) -> u8 {
        match self {
            Failure::Usage(_) => 2,
            Failure::Failed(_) => 1,
        }
    }

    /// The error, for printing.
    pub fn into_error(self) -> anyhow::Error {
        match self {
            Failure::Usage(e) | Failure::Failed(e) => e,
        }
    }
}

/// The `[register]` table of `--config`, or of the default config when that file
/// exists, or an empty one: `register show` and `register dhcp` need no config.
pub fn register_table(path: Option<&Path>) -> Result<Register, Failure> {
    let default = Path::new(config::DEFAULT_PATH);
    let path = match path {
        Some(path) => path,
        None if default.exists() => default,
        None => return Ok(Register::default()),
    };
    config::load(path)
        .map(|loaded| loaded.config.register)
        .map_err(|e| Failure::Usage(e.into()))
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
        RegisterCommand::Show { common, json } => {
            let table = register_table(common.config.as_deref())?;
            let interface = common.interface.or(table.interface);
            let host = host::read(interface.as_deref()).map_err(|e| Failure::Usage(e.into()))?;
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
