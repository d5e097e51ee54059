//! What `register dns` is asked to do: the flags merged over the config's
//! `[register]` table (a flag wins over its key), checked, and completed with what
//! the kernel says (the hostname, the interface's addresses). It exists so that
//! these rules are pure and unit-tested; `mod.rs` does the I/O around them
//! (reading the config, the kernel, the resolver and the key).
//!
//! Two steps, because what the kernel must be asked depends on the first:
//! [`Request::new`] merges and checks everything the flags and config say, and
//! [`Request::settings`] fills in the rest from the host and the server's address.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use hickory_proto::ProtoError;
use hickory_proto::rr::Name;

use super::key::KeySource;
use super::server::Server;
use crate::config::Register;
use crate::register::cli::DnsArgs;
use crate::register::host::Host;
use crate::register::is_valid_label;

/// TTL when neither --ttl nor `register.ttl` says.
const DEFAULT_TTL: u32 = 300;

/// The longest TTL taken: a week. A wrong address must not stay in caches longer.
const MAX_TTL: u32 = 7 * 86_400;

/// Everything the update needs, merged and checked.
#[derive(Debug, Clone)]
pub struct Settings {
    pub server: Server,
    pub zone: Name,
    pub fqdn: Name,
    /// What the name should point at (empty with --remove unless --ip was given).
    pub addresses: Vec<IpAddr>,
    pub ttl: u32,
    pub reverse_zone: Option<Name>,
    pub ptr: bool,
    pub remove: bool,
    /// For each answer from the server.
    pub timeout: Duration,
}

/// What the flags and `[register]` say, merged and checked, before the kernel, the
/// resolver or a key file is read.
#[derive(Debug, Clone)]
pub struct Request {
    /// The server as given: `HOST`, `HOST:PORT`, `[V6]:PORT` or a bare IPv6 address.
    pub server: String,
    /// The interface to read the hostname and addresses from (else the default
    /// route's).
    pub interface: Option<String>,
    /// For each answer, and for resolving the server's name.
    pub timeout: Duration,
    zone: Name,
    ttl: u32,
    reverse_zone: Option<Name>,
    /// A label in the zone or a full name; the hostname when absent.
    name: Option<String>,
    /// The addresses given with --ip.
    ips: Vec<IpAddr>,
    ptr: bool,
    remove: bool,
    dry_run: bool,
    key: Option<KeySource>,
}

/// What is wrong with the flags, the config or what the kernel gave. All are the
/// user's to fix (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error(
        "no DNS server to update: give --server HOST[:PORT], or `server` in the config's [register] table"
    )]
    NoServer,
    #[error("no zone: give --zone ZONE (e.g. lab.example.org), or `zone` in [register]")]
    NoZone,
    #[error("{flag} {text} is not a valid DNS name: {cause}")]
    BadName {
        flag: &'static str,
        text: String,
        cause: ProtoError,
    },
    #[error("--ttl {ttl} is out of range; use 1..=604800 seconds")]
    TtlOutOfRange { ttl: u32 },
    #[error(
        "--reverse-zone {zone} is not under in-addr.arpa; name the IPv4 reverse zone, e.g. 30.20.10.in-addr.arpa"
    )]
    NotReverseZone { zone: String },
    #[error("no name to register: give --name NAME, or `name` in [register]")]
    NoName,
    #[error(
        "\"{name}\" is not a valid host name: use letters, digits and hyphens (not first or last), at most 63; set one with --name NAME"
    )]
    BadLabel { name: String },
    #[error("{name}.{zone} is not a valid DNS name: {cause}")]
    BadFullName {
        name: String,
        zone: String,
        cause: ProtoError,
    },
    #[error("no address to register; give --ip ADDR")]
    NoAddress,
    #[error(
        "{interface} has no IPv4 or global IPv6 address to register; give one with --ip ADDR, or another --interface"
    )]
    NoUsableAddress { interface: String },
    #[error(
        "no TSIG key: give --key FILE (as `tsig-keygen -a hmac-sha256 NAME` writes it), --key-secret-env VAR with --key-name, or `key_file` in [register]"
    )]
    NoKey,
}

impl Request {
    /// Merges the flags over `table` and checks the result, always in the same
    /// order (server, zone, TTL, reverse zone), so the first mistake is the one
    /// reported.
    pub fn new(args: DnsArgs, table: Register) -> Result<Request, SettingsError> {
        let server = args
            .server
            .or(table.server)
            .ok_or(SettingsError::NoServer)?;
        let zone = args.zone.or(table.zone).ok_or(SettingsError::NoZone)?;
        let zone = dns_name(&zone, "--zone")?;
        let ttl = args.ttl.or(table.ttl).unwrap_or(DEFAULT_TTL);
        if ttl == 0 || ttl > MAX_TTL {
            return Err(SettingsError::TtlOutOfRange { ttl });
        }
        let reverse_zone = args
            .reverse_zone
            .or(table.reverse_zone)
            .map(|z| dns_name(&z, "--reverse-zone"))
            .transpose()?;
        if let Some(zone) = reverse_zone.as_ref().filter(|z| !in_addr_arpa().zone_of(z)) {
            return Err(SettingsError::NotReverseZone {
                zone: zone.to_string(),
            });
        }
        // --key-secret-env wins over a `key_file` in the config (clap keeps it
        // apart from --key).
        let key = match args.key_secret_env {
            Some(var) => Some(KeySource::Env {
                var,
                name: args.key_name,
                algorithm: args.key_algorithm,
            }),
            None => args.key.or(table.key_file).map(|path| KeySource::File {
                path,
                name: args.key_name,
            }),
        };
        Ok(Request {
            server,
            interface: args.sources.interface.or(table.interface),
            timeout: Duration::from_secs(args.timeout_s.max(1)),
            zone,
            ttl,
            reverse_zone,
            name: args.name.or(table.name),
            ips: args.ip,
            ptr: !args.no_ptr,
            remove: args.remove,
            dry_run: args.dry_run,
            key,
        })
    }

    /// Whether the kernel must be asked: for the hostname when no name is given,
    /// for the addresses when none are given and they are to be added.
    pub fn needs_host(&self) -> bool {
        self.name.is_none() || self.ips.is_empty() && !self.remove
    }

    /// The settings, with the host (read when [`Request::needs_host`]) filling in
    /// the name and the addresses; and where the key is, which only a dry run may
    /// lack.
    pub fn settings(
        self,
        server: Server,
        host: Option<&Host>,
    ) -> Result<(Settings, Option<KeySource>), SettingsError> {
        let name = match self.name {
            Some(name) => name,
            None => host.map(|h| h.hostname.clone()).unwrap_or_default(),
        };
        let fqdn = full_name(&name, &self.zone)?;
        let addresses = if !self.ips.is_empty() || self.remove {
            let mut given = self.ips;
            given.sort();
            given.dedup();
            given
        } else {
            host_addresses(host.ok_or(SettingsError::NoAddress)?)?
        };
        if self.key.is_none() && !self.dry_run {
            return Err(SettingsError::NoKey);
        }
        let settings = Settings {
            server,
            zone: self.zone,
            fqdn,
            addresses,
            ttl: self.ttl,
            reverse_zone: self.reverse_zone,
            ptr: self.ptr,
            remove: self.remove,
            timeout: self.timeout,
        };
        Ok((settings, self.key))
    }
}

/// The host's primary IPv4 address and its first global IPv6 address.
fn host_addresses(host: &Host) -> Result<Vec<IpAddr>, SettingsError> {
    let mut addresses: Vec<IpAddr> = host
        .ipv4
        .first()
        .map(|a| IpAddr::V4(*a))
        .into_iter()
        .collect();
    addresses.extend(host.global_ipv6().map(IpAddr::V6));
    if addresses.is_empty() {
        return Err(SettingsError::NoUsableAddress {
            interface: host.interface.clone(),
        });
    }
    Ok(addresses)
}

/// `in-addr.arpa.`, the parent of every IPv4 reverse zone. Made from an address,
/// which cannot fail, rather than parsed from text, which in principle can.
fn in_addr_arpa() -> Name {
    let mut name = Name::from(Ipv4Addr::UNSPECIFIED).trim_to(2);
    name.set_fqdn(true);
    name
}

/// `text` as an absolute DNS name; `flag` names the setting in the error.
fn dns_name(text: &str, flag: &'static str) -> Result<Name, SettingsError> {
    let mut name = Name::from_ascii(text.trim()).map_err(|cause| SettingsError::BadName {
        flag,
        text: text.to_string(),
        cause,
    })?;
    name.set_fqdn(true);
    Ok(name)
}

/// A single label goes in `zone`; a name with dots is taken as the full name.
fn full_name(name: &str, zone: &Name) -> Result<Name, SettingsError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(SettingsError::NoName);
    }
    if name.contains('.') {
        return dns_name(name, "--name");
    }
    if !is_valid_label(name) {
        return Err(SettingsError::BadLabel {
            name: name.to_string(),
        });
    }
    Name::from_ascii(name)
        .and_then(|n| n.append_domain(zone))
        .map_err(|cause| SettingsError::BadFullName {
            name: name.to_string(),
            zone: zone.to_string(),
            cause,
        })
}

#[cfg(test)]
mod tests;
