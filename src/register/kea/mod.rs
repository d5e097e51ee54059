//! `daas register kea`: adds this Pi's reservation to a Kea DHCPv4 server through
//! its control agent, for Kea versions without the `host_cmds` hook (Debian
//! bookworm's Kea 2.2 has none): the only way in is the whole configuration.
//!
//! So: `config-get`, find the subnet by its `id` (also inside `shared-networks`),
//! and look at its reservations. The same MAC, address and host name already there
//! is success (running the command twice is harmless); this MAC with another
//! address, or this address with another client, is refused, naming the entry, as
//! only a person can say which is right. Otherwise the entry is appended, the new
//! configuration checked with `config-test` (a failed `config-set` leaves Kea 2.2
//! in a bad state), applied with `config-set`, and saved with `config-write` to the
//! file Kea was started with. Kea writes that file in its own form, with every
//! default spelled out and comments gone.
//!
//! Between `config-get` and `config-set` another change to Kea's configuration
//! would be overwritten; this is a tool a person runs once per Pi, not a daemon.
//!
//! This file is that flow; `agent.rs` talks to the control agent, `dhcp4.rs` finds
//! subnets in Kea's configuration, `plan.rs` decides and appends, `notation.rs`
//! reads Kea's MACs and prefixes, `url.rs` checks `--url`, `error.rs` says what
//! went wrong.

mod agent;
mod dhcp4;
mod error;
mod notation;
mod plan;
mod url;

use std::time::Duration;

use serde_json::Value;

use super::cli::KeaArgs;
use super::dhcp::{self, Reservation, Wanted, pick};
use super::host::mac_text;
use super::{Failure, register_table};
use agent::Agent;
pub use error::KeaError;
use plan::Plan;

/// Adds the reservation.
pub fn run(args: KeaArgs) -> Result<(), Failure> {
    let table = register_table(args.sources.config.as_deref())?;
    let (url, url_origin) =
        pick(args.url, "url", table.kea_url, "kea_url").ok_or(KeaError::NoUrl)?;
    let url = url::parse_url(&url, url_origin)?;
    let subnet_id = args
        .subnet_id
        .or(table.subnet_id)
        .ok_or(KeaError::NoSubnetId)?;
    let reservation = dhcp::resolve(Wanted {
        interface: args.sources.interface.or(table.interface),
        ip: args.ip,
        name: pick(args.hostname, "hostname", table.name, "name"),
        domain: None,
    })?;
    let agent = Agent::new(url, Duration::from_secs(args.timeout_s))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|cause| KeaError::Runtime { cause })?;
    let outcome = runtime.block_on(register(&agent, subnet_id, &reservation))?;
    print!("{}", outcome.text(&reservation, subnet_id, &agent.shown));
    Ok(())
}

/// What `register` did.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Already { subnet: String },
    Added { subnet: String, file: String },
}

impl Outcome {
    fn text(&self, r: &Reservation, id: u32, url: &str) -> String {
        let what = format!("{} → {} ({})", mac_text(&r.mac), r.ip, r.hostname);
        match self {
            Outcome::Already { subnet } => {
                format!("{what} is already reserved in Kea subnet {id} ({subnet}); nothing to do\n")
            }
            Outcome::Added { subnet, file } => format!(
                "added {what} to Kea subnet {id} ({subnet}) through {url}\nKea wrote its configuration to {file}\n"
            ),
        }
    }
}

/// The whole exchange with Kea; see the module doc.
async fn register(agent: &Agent, id: u32, r: &Reservation) -> Result<Outcome, KeaError> {
    let got = agent.command("config-get", None).await?;
    let mut dhcp4 = dhcp4::from_answer(got)?;
    let subnet = match plan::plan(&dhcp4, id, r)? {
        Plan::Already { subnet } => return Ok(Outcome::Already { subnet }),
        Plan::Add { subnet } => subnet,
    };
    plan::append(&mut dhcp4, id, r)?;
    let config = serde_json::json!({ "Dhcp4": dhcp4 });
    agent.command("config-test", Some(config.clone())).await?;
    agent.command("config-set", Some(config)).await?;
    let written = agent
        .command("config-write", None)
        .await
        .map_err(|err| match err {
            KeaError::Refused { text, .. } => KeaError::NotSaved { text },
            other => other,
        })?;
    let file = written
        .get("filename")
        .and_then(Value::as_str)
        .unwrap_or("the file it was started with")
        .to_owned();
    Ok(Outcome::Added { subnet, file })
}
