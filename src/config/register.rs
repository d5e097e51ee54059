//! `[register]`: defaults for `daas register`, so that on the Pi `daas register dns`
//! alone puts it in the lab's DNS. Every key has a command-line flag that overrides
//! it; none is needed by the daemon.

use std::path::PathBuf;

use serde::Deserialize;

/// `[register]`
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Register {
    /// The DNS server that takes updates for the zone: `HOST` or `HOST:PORT` (port 53).
    pub server: Option<String>,
    /// The forward zone the Pi's name goes in, e.g. `lab.example.org`.
    pub zone: Option<String>,
    /// A TSIG key file in BIND's format (as `tsig-keygen` writes it).
    pub key_file: Option<PathBuf>,
    /// The Pi's name in the zone (a single label, or a full name); the hostname when absent.
    pub name: Option<String>,
    /// TTL of the records, in seconds.
    pub ttl: Option<u32>,
    /// The reverse zone for the PTR record; derived from the address (a /24) when absent.
    pub reverse_zone: Option<String>,
    /// The network interface to register; the one with the default route when absent.
    pub interface: Option<String>,
    /// Kea's control agent, e.g. `http://dhcp.lab.example.org:8000/`.
    pub kea_url: Option<String>,
    /// The Kea subnet (its `id`) the reservation goes in.
    pub subnet_id: Option<u32>,
}
