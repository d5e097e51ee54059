//! Why `register kea` did not add the reservation, each said as cause + fix, and
//! whose it is to fix: the user's (a flag or the config; exit 2) or Kea's (it
//! refused, failed or did not answer; exit 1).

use std::net::Ipv4Addr;

use crate::net::http::ClientError;
use crate::register::dhcp::Origin;

/// Why the reservation was not added.
#[derive(Debug, thiserror::Error)]
pub enum KeaError {
    #[error("no Kea control agent given; use --url URL or set `register.kea_url`")]
    NoUrl,
    #[error(
        "{origin} `{url}` is not a usable URL ({reason}); give the control agent's address, e.g. http://dhcp.lab.example.org:8000/"
    )]
    BadUrl {
        url: String,
        origin: Origin,
        reason: String,
    },
    #[error("no Kea subnet given; use --subnet-id N or set `register.subnet_id`")]
    NoSubnetId,
    #[error(
        "cannot reach Kea's control agent at {url} ({cause}); check that kea-ctrl-agent is running and listens there"
    )]
    Unreachable { url: String, cause: String },
    #[error(
        "Kea's control agent at {url} did not answer `{command}` within {seconds} s; check that kea-ctrl-agent and kea-dhcp4 are running, or wait longer with --timeout-s"
    )]
    Timeout {
        url: String,
        command: &'static str,
        seconds: u64,
    },
    #[error("`{command}` to Kea's control agent at {url} failed: {cause}")]
    Http {
        url: String,
        command: &'static str,
        cause: String,
    },
    #[error(
        "{url} answered `{command}` with HTTP {status} and no Kea answer ({excerpt}); is --url the control agent's address?"
    )]
    NotKea {
        url: String,
        command: &'static str,
        status: u16,
        excerpt: String,
    },
    #[error("Kea refused `{command}` (result {result}): {text}{note}")]
    Refused {
        command: &'static str,
        result: i64,
        text: String,
        note: &'static str,
    },
    #[error("Kea's `config-get` answer has no {what}; is this a DHCPv4 server?")]
    Unexpected { what: &'static str },
    #[error(
        "Kea has no subnet with id {id} (its subnets: {known}); give one of them with --subnet-id N"
    )]
    NoSubnet { id: u32, known: String },
    #[error(
        "{ip} is outside Kea subnet {id} ({subnet}); give an address in it with --ip ADDR, or the right subnet with --subnet-id N"
    )]
    OutsideSubnet {
        ip: Ipv4Addr,
        id: u32,
        subnet: String,
    },
    #[error("Kea subnet {id} ({subnet}) already has {entry}; {advice}")]
    Conflict {
        id: u32,
        subnet: String,
        entry: String,
        advice: String,
    },
    #[error(
        "Kea took the reservation but could not save it ({text}); it is lost when Kea restarts unless Kea can write its config file: fix that, then send it {{\"command\": \"config-write\", \"service\": [\"dhcp4\"]}}"
    )]
    NotSaved { text: String },
    /// Says itself what failed (the `ca_file`, or a bug): no prefix, or it would say
    /// "HTTP client" twice.
    #[error(transparent)]
    Client(ClientError),
    #[error("cannot start the HTTP client: {cause}")]
    Runtime { cause: std::io::Error },
}

impl KeaError {
    /// Exit 2 when a flag or the config must change, 1 when Kea said no.
    pub fn exit_code(&self) -> u8 {
        match self {
            KeaError::NoUrl
            | KeaError::BadUrl { .. }
            | KeaError::NoSubnetId
            | KeaError::NoSubnet { .. }
            | KeaError::OutsideSubnet { .. } => 2,
            KeaError::Unreachable { .. }
            | KeaError::Timeout { .. }
            | KeaError::Http { .. }
            | KeaError::NotKea { .. }
            | KeaError::Refused { .. }
            | KeaError::Unexpected { .. }
            | KeaError::Conflict { .. }
            | KeaError::NotSaved { .. }
            | KeaError::Client(_)
            | KeaError::Runtime { .. } => 1,
        }
    }
}
