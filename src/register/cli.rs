//! The `daas register …` command line: what each subcommand takes. Values not given
//! here come from the config's `[register]` table (see `mod.rs`).

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};

/// `daas register SUBCOMMAND`
#[derive(Debug, Subcommand)]
pub enum RegisterCommand {
    /// Show this Pi's hostname, network interface, MAC and addresses
    Show {
        #[command(flatten)]
        sources: Sources,
        /// Print JSON instead of text
        #[arg(long)]
        json: bool,
    },
    /// Print the DHCP reservation the lab's DHCP server needs for this Pi
    Dhcp(DhcpArgs),
    /// Put this Pi's name in the lab's DNS (forward and reverse) by signed dynamic update
    Dns(DnsArgs),
    /// Add this Pi's reservation to a Kea DHCPv4 server through its control agent
    Kea(KeaArgs),
}

/// Where every register subcommand gets the Pi's settings: the config file (its
/// `[register]` table) and the network interface the kernel is asked about.
#[derive(Debug, Args)]
pub struct Sources {
    /// Config file with a `[register]` table [default: /etc/daas/config.toml, if present]
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// The network interface [default: `register.interface`, else the one with the default route]
    #[arg(long, value_name = "IF")]
    pub interface: Option<String>,
}

/// The DHCP server whose reservation syntax to print.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DhcpFormat {
    /// ISC dhcpd: a `host` block
    Isc,
    /// dnsmasq: `dhcp-host=` and `host-record=` lines
    Dnsmasq,
    /// Kea DHCPv4: a `reservations` entry (JSON)
    Kea,
}

/// `daas register dhcp`
#[derive(Debug, Args)]
pub struct DhcpArgs {
    #[command(flatten)]
    pub sources: Sources,
    /// Which server's syntax
    #[arg(long, value_enum)]
    pub format: DhcpFormat,
    /// The address to reserve [default: the interface's IPv4 address]
    #[arg(long, value_name = "ADDR")]
    pub ip: Option<Ipv4Addr>,
    /// The host name in the reservation [default: `register.name`, else the hostname]
    #[arg(long, value_name = "NAME")]
    pub hostname: Option<String>,
    /// The DNS domain, for dnsmasq's `host-record` [default: `register.zone`]
    #[arg(long, value_name = "DOMAIN")]
    pub domain: Option<String>,
}

/// `daas register dns`
#[derive(Debug, Args)]
pub struct DnsArgs {
    #[command(flatten)]
    pub sources: Sources,
    /// The DNS server that takes updates: HOST or HOST:PORT [default: `register.server`]
    #[arg(long, value_name = "HOST[:PORT]")]
    pub server: Option<String>,
    /// The forward zone [default: `register.zone`]
    #[arg(long, value_name = "ZONE")]
    pub zone: Option<String>,
    /// TSIG key file in BIND's format, as `tsig-keygen` writes it [default: `register.key_file`]
    #[arg(long, value_name = "FILE", conflicts_with = "key_secret_env")]
    pub key: Option<PathBuf>,
    /// Read the TSIG secret (base64) from this environment variable instead of a key file
    #[arg(long, value_name = "VAR")]
    pub key_secret_env: Option<String>,
    /// The TSIG key's name, with --key-secret-env (or to pick one key from a file with several)
    #[arg(long, value_name = "NAME")]
    pub key_name: Option<String>,
    /// The TSIG algorithm, with --key-secret-env: hmac-sha256, hmac-sha384 or hmac-sha512
    #[arg(long, value_name = "ALG", default_value = "hmac-sha256")]
    pub key_algorithm: String,
    /// The Pi's name: a label in the zone, or a full name [default: `register.name`, else the hostname]
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// The address(es) to register, IPv4 and/or IPv6 [default: the interface's IPv4 and global IPv6]
    #[arg(long, value_name = "ADDR")]
    pub ip: Vec<IpAddr>,
    /// TTL in seconds [default: `register.ttl`, else 300]
    #[arg(long, value_name = "S")]
    pub ttl: Option<u32>,
    /// The reverse zone for the IPv4 PTR [default: `register.reverse_zone`, else the address's /24]
    #[arg(long, value_name = "ZONE")]
    pub reverse_zone: Option<String>,
    /// Leave the reverse (PTR) records alone
    #[arg(long)]
    pub no_ptr: bool,
    /// Delete the records instead of adding them
    #[arg(long)]
    pub remove: bool,
    /// Print the update in nsupdate syntax and send nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Seconds to wait for each answer from the server
    #[arg(long, value_name = "S", default_value_t = 5)]
    pub timeout_s: u64,
}

/// `daas register kea`
#[derive(Debug, Args)]
pub struct KeaArgs {
    #[command(flatten)]
    pub sources: Sources,
    /// Kea's control agent, e.g. http://dhcp.lab:8000/ [default: `register.kea_url`]
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
    /// The `id` of the Kea subnet the reservation goes in [default: `register.subnet_id`]
    #[arg(long, value_name = "N")]
    pub subnet_id: Option<u32>,
    /// The address to reserve [default: the interface's IPv4 address]
    #[arg(long, value_name = "ADDR")]
    pub ip: Option<Ipv4Addr>,
    /// The host name in the reservation [default: `register.name`, else the hostname]
    #[arg(long, value_name = "NAME")]
    pub hostname: Option<String>,
    /// Seconds to wait for each answer from the control agent
    #[arg(long, value_name = "S", default_value_t = 10)]
    pub timeout_s: u64,
}
