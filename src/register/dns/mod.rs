//! `daas register dns`: the Pi's name in the lab's DNS, by RFC 2136 dynamic update
//! signed with TSIG: the forward records first (one atomic UPDATE), then the PTRs,
//! then a plain query to show what the server now answers.
//!
//! This file is the command's shell: it reads the config, the kernel, the resolver
//! and the key file, in that order, around the pure rules of `settings.rs` (flags
//! over `[register]` over the kernel), and then prints the plan (`dry_run.rs`) or
//! carries it out (`apply.rs`). `plan.rs` decides the changes, `key.rs` and
//! `key_file.rs` read the TSIG key, `server.rs` finds the server, `send.rs` talks
//! to it.

mod apply;
mod dry_run;
mod key;
mod key_file;
mod plan;
mod send;
mod server;
mod settings;

use super::cli::DnsArgs;
use super::{Failure, host, register_table};
use key::{KeyError, KeySource};
use send::DnsError;
use server::ServerNameError;
use settings::{Request, SettingsError};

/// Why `register dns` did not register the name. Each variant is said as its
/// cause's own message, with no `source()`: the cause is said once.
#[derive(Debug, thiserror::Error)]
pub enum DnsCommandError {
    /// A flag or the config must change (exit 2).
    #[error("{0}")]
    Settings(SettingsError),
    /// The TSIG key cannot be read (exit 2).
    #[error("{0}")]
    Key(KeyError),
    /// The server's name gave no address (exit 2, or 1 when the resolver is silent).
    #[error("{0}")]
    ServerName(ServerNameError),
    /// The server refused the update or a query, or did not answer (exit 1).
    #[error("{0}")]
    Server(DnsError),
    /// The server took the update but answers something else (exit 1).
    #[error(
        "the server accepted the update but does not answer as expected (is {server} the zone's primary?):\n  {}",
        mismatches.join("\n  ")
    )]
    NotAsExpected {
        server: String,
        mismatches: Vec<String>,
    },
    /// No runtime for the network I/O (exit 1).
    #[error("starting the async runtime: {cause}")]
    Runtime { cause: std::io::Error },
}

impl DnsCommandError {
    /// Exit 2 when a flag, the config or the key file must change, 1 when the
    /// server (or the resolver) said no or did not answer.
    pub fn exit_code(&self) -> u8 {
        match self {
            DnsCommandError::Settings(_) | DnsCommandError::Key(_) => 2,
            DnsCommandError::ServerName(err) => err.exit_code(),
            DnsCommandError::Server(_)
            | DnsCommandError::NotAsExpected { .. }
            | DnsCommandError::Runtime { .. } => 1,
        }
    }
}

// By hand rather than `#[from]`, which would make each a `source()` too.

impl From<SettingsError> for DnsCommandError {
    fn from(err: SettingsError) -> DnsCommandError {
        DnsCommandError::Settings(err)
    }
}

impl From<KeyError> for DnsCommandError {
    fn from(err: KeyError) -> DnsCommandError {
        DnsCommandError::Key(err)
    }
}

impl From<ServerNameError> for DnsCommandError {
    fn from(err: ServerNameError) -> DnsCommandError {
        DnsCommandError::ServerName(err)
    }
}

impl From<DnsError> for DnsCommandError {
    fn from(err: DnsError) -> DnsCommandError {
        DnsCommandError::Server(err)
    }
}

/// Sends (or with --dry-run prints) the update.
pub fn run(args: DnsArgs) -> Result<(), Failure> {
    let table = register_table(args.sources.config.as_deref())?;
    let dry_run = args.dry_run;
    let request = Request::new(args, table).map_err(DnsCommandError::from)?;
    let server =
        server::resolve(&request.server, request.timeout).map_err(DnsCommandError::from)?;
    // The kernel is asked only for what the flags and config leave open.
    let host = if request.needs_host() {
        Some(host::read(request.interface.as_deref())?)
    } else {
        None
    };
    let (settings, key_source) = request
        .settings(server, host.as_ref())
        .map_err(DnsCommandError::from)?;
    let key = key_source
        .as_ref()
        .map(KeySource::read)
        .transpose()
        .map_err(DnsCommandError::from)?;
    if dry_run {
        print!(
            "{}",
            dry_run::text(&settings, key.as_ref().zip(key_source.as_ref()))
        );
        return Ok(());
    }
    // `settings` refuses a real run without a key; this only makes the type say so.
    let key = key.ok_or(DnsCommandError::Settings(SettingsError::NoKey))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|cause| DnsCommandError::Runtime { cause })?;
    runtime.block_on(apply::apply(&settings, &key))?;
    Ok(())
}
