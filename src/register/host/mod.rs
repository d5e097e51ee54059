//! Who this Pi is on the network, read from the kernel: hostname, the interface
//! (the one with the default route unless named), its MAC and its addresses. Every
//! other `register` command starts here, so that what `register show` prints is
//! exactly what goes into DHCP and DNS.
//!
//! `interface.rs` chooses the interface, `address.rs` says which addresses count
//! and how a MAC is written, `show.rs` prints the result.

mod address;
mod interface;
mod show;

use std::net::{Ipv4Addr, Ipv6Addr};

pub use address::{is_global_ipv6, mac_text};
use interface::Link;

/// This Pi's identity on one interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Host {
    /// The kernel's hostname (as `uname -n`).
    pub hostname: String,
    /// The interface's name, e.g. `eth0`.
    pub interface: String,
    /// Whether the interface carries the default route.
    pub default_route: bool,
    /// The interface's MAC address, when it has one (loopback and tunnels have none;
    /// the all-zero address the kernel shows for them counts as none).
    pub mac: Option<[u8; 6]>,
    /// Its IPv4 addresses, primary first, as the kernel lists them.
    pub ipv4: Vec<Ipv4Addr>,
    /// Its stable IPv6 addresses: global ones first, then unique-local, then
    /// link-local, each group in the kernel's order. Temporary (privacy), deprecated
    /// and duplicate addresses are left out: they must never go into DNS.
    pub ipv6: Vec<Ipv6Addr>,
}

/// Why the Pi's identity could not be read, or lacks what a command needs.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    #[error(
        "no interface has the default route; name one with --interface IF (interfaces here: {interfaces})"
    )]
    NoDefaultRoute { interfaces: String },
    #[error(
        "there is no network interface `{name}`; name one that exists with --interface IF or `register.interface` (interfaces here: {interfaces})"
    )]
    UnknownInterface { name: String, interfaces: String },
    #[error(
        "{interface} has no MAC address; name the Ethernet or Wi-Fi interface with --interface IF"
    )]
    NoMac { interface: String },
    #[error("{interface} has no IPv4 address; give one with --ip ADDR")]
    NoIpv4 { interface: String },
}

/// Reads the host's identity on `interface`, or on the default-route interface.
pub fn read(interface: Option<&str>) -> Result<Host, HostError> {
    let links = interface::links();
    let link = interface::choose(&links, interface)?;
    Ok(Host::new(crate::machine::hostname(), link))
}

impl Host {
    fn new(hostname: String, link: &Link) -> Host {
        let mut ipv6 = link.ipv6.clone();
        // A stable sort: the kernel's order stays within each rank.
        ipv6.sort_by_key(address::ipv6_rank);
        Host {
            hostname,
            interface: link.name.clone(),
            default_route: link.default_route,
            mac: link.mac,
            ipv4: link.ipv4.clone(),
            ipv6,
        }
    }

    /// The first global unicast IPv6 address; see [`is_global_ipv6`] (unique-local
    /// fc00::/7 addresses are not global here).
    pub fn global_ipv6(&self) -> Option<Ipv6Addr> {
        self.ipv6.iter().copied().find(is_global_ipv6)
    }

    /// The MAC, or an error saying to name an interface that has one.
    pub fn require_mac(&self) -> Result<[u8; 6], HostError> {
        self.mac.ok_or_else(|| HostError::NoMac {
            interface: self.interface.clone(),
        })
    }

    /// The primary IPv4 address, or an error saying to give one with `--ip`.
    pub fn require_ipv4(&self) -> Result<Ipv4Addr, HostError> {
        self.ipv4.first().copied().ok_or_else(|| HostError::NoIpv4 {
            interface: self.interface.clone(),
        })
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// A Pi on eth0 with two IPv4 addresses and a global IPv6 one.
    pub(crate) fn sample() -> Host {
        Host {
            hostname: "doughnut".into(),
            interface: "eth0".into(),
            default_route: true,
            mac: Some([0x02, 0x00, 0x5e, 0xab, 0xcd, 0xef]),
            ipv4: vec![
                "10.20.30.40".parse().unwrap(),
                "10.20.30.41".parse().unwrap(),
            ],
            ipv6: vec!["2001:db8::40".parse().unwrap()],
        }
    }

    #[test]
    fn ipv6_is_ordered_global_first_keeping_the_kernels_order() {
        let mut eth = interface::test_link(2, "eth0");
        eth.ipv6 = ["fe80::1", "fd00::40", "2001:db8::2", "2001:db8::1"]
            .iter()
            .map(|s| s.parse().unwrap())
            .collect();
        let host = Host::new("pi".into(), &eth);
        let got: Vec<String> = host.ipv6.iter().map(ToString::to_string).collect();
        assert_eq!(got, ["2001:db8::2", "2001:db8::1", "fd00::40", "fe80::1"]);
        assert_eq!(host.global_ipv6(), Some("2001:db8::2".parse().unwrap()));
    }

    #[test]
    fn a_ula_only_host_has_no_global_ipv6() {
        let mut eth = interface::test_link(2, "eth0");
        eth.ipv6 = vec!["fd00::40".parse().unwrap(), "fe80::1".parse().unwrap()];
        assert_eq!(Host::new("pi".into(), &eth).global_ipv6(), None);
    }

    #[test]
    fn missing_mac_and_ipv4_say_what_to_do() {
        let host = Host {
            mac: None,
            ipv4: vec![],
            ..sample()
        };
        assert_eq!(
            host.require_ipv4().unwrap_err().to_string(),
            "eth0 has no IPv4 address; give one with --ip ADDR"
        );
        assert!(
            host.require_mac()
                .unwrap_err()
                .to_string()
                .contains("--interface IF")
        );
    }
}
