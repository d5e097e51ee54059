//! Who this Pi is on the network, read from the kernel: hostname, the interface
//! (the one with the default route unless named), its MAC and its addresses. Every
//! other `register` command starts here, so that what `register show` prints is
//! exactly what goes into DHCP and DNS.
//!
//! The interfaces, addresses and routes come from netlink through `netdev` (which
//! also reads the neighbour table and /etc/resolv.conf); nothing is sent on the
//! network. The default-route interface is the one the routing table gives a
//! default route with a gateway (`default via …`). When several have one (Ethernet
//! and Wi-Fi both up, a common Pi set-up), the kernel's own choice wins: `netdev`
//! asks it by `connect()`ing a UDP socket to 10.254.254.254 (or fdff:ffff:… without
//! IPv4), a route lookup that sends no packet. That lookup alone is not trusted, as
//! a connected route (a 10.0.0.0/8 LAN) answers it too. A default route without a
//! gateway (`default dev wg0`, point-to-point links) is not seen: name the
//! interface then.

use std::fmt::Write as _;
use std::net::{Ipv4Addr, Ipv6Addr};

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
    let mut links: Vec<Link> = netdev::get_interfaces().iter().map(Link::from).collect();
    // netdev collects them in a hash map; the kernel's index order is the one `ip`
    // shows and the one people expect in a list.
    links.sort_by_key(|link| link.index);
    let link = choose(&links, interface)?;
    Ok(Host::new(crate::machine::hostname(), link))
}

/// What `register` needs of one netdev interface; a plain value, so the choice of
/// interface is testable without a kernel.
#[derive(Debug, Clone)]
struct Link {
    index: u32,
    name: String,
    loopback: bool,
    /// A default route leaves through it (the routing table says so).
    default_route: bool,
    /// The kernel's route lookup picks it for outside traffic.
    preferred: bool,
    /// Has an IPv4 default gateway (preferred over IPv6-only when choosing).
    ipv4_gateway: bool,
    mac: Option<[u8; 6]>,
    ipv4: Vec<Ipv4Addr>,
    /// The stable addresses only (see [`Host::ipv6`]).
    ipv6: Vec<Ipv6Addr>,
}

impl From<&netdev::Interface> for Link {
    fn from(iface: &netdev::Interface) -> Link {
        let ipv6 = iface
            .ipv6
            .iter()
            .enumerate()
            .filter(|(i, _)| {
                iface
                    .ipv6_addr_flags
                    .get(*i)
                    .is_none_or(|f| !(f.temporary || f.deprecated || f.duplicated))
            })
            .map(|(_, net)| net.addr())
            .collect();
        Link {
            index: iface.index,
            name: iface.name.clone(),
            loopback: iface.is_loopback(),
            default_route: iface.gateway.is_some(),
            preferred: iface.default,
            ipv4_gateway: iface.gateway.as_ref().is_some_and(|g| !g.ipv4.is_empty()),
            mac: iface
                .mac_addr
                .map(|mac| mac.octets())
                .filter(|octets| octets.iter().any(|&b| b != 0)),
            ipv4: iface.ipv4.iter().map(|net| net.addr()).collect(),
            ipv6,
        }
    }
}

/// The interface named, or else the default-route one (see the module doc).
fn choose<'a>(links: &'a [Link], wanted: Option<&str>) -> Result<&'a Link, HostError> {
    if let Some(name) = wanted {
        return links.iter().find(|link| link.name == name).ok_or_else(|| {
            HostError::UnknownInterface {
                name: name.to_owned(),
                interfaces: interface_list(links),
            }
        });
    }
    let routed = || links.iter().filter(|link| link.default_route);
    routed()
        .find(|link| link.preferred)
        .or_else(|| routed().find(|link| link.ipv4_gateway))
        .or_else(|| routed().next())
        .ok_or_else(|| HostError::NoDefaultRoute {
            interfaces: interface_list(links),
        })
}

/// The interfaces worth naming in an error: all but loopback, which never is the
/// one to register.
fn interface_list(links: &[Link]) -> String {
    let names: Vec<&str> = links
        .iter()
        .filter(|link| !link.loopback)
        .map(|link| link.name.as_str())
        .collect();
    if names.is_empty() {
        "none but loopback; is the network configured?".to_owned()
    } else {
        names.join(", ")
    }
}

/// True for a global unicast IPv6 address. Unique-local addresses (fc00::/7) do not
/// count: they are not reachable from outside the site, and a lab that uses them
/// for its DNS says so with `--ip`. Nor do link-local (fe80::/10), the deprecated
/// site-local (fec0::/10), loopback, unspecified, multicast and IPv4-mapped ones.
pub fn is_global_ipv6(addr: &Ipv6Addr) -> bool {
    let first = addr.segments()[0];
    !(addr.is_unspecified()
        || addr.is_loopback()
        || addr.is_multicast()
        || addr.to_ipv4_mapped().is_some()
        || first & 0xfe00 == 0xfc00
        || first & 0xffc0 == 0xfe80
        || first & 0xffc0 == 0xfec0)
}

/// The sort key for IPv6 addresses: global, then unique-local, then the rest.
fn ipv6_rank(addr: &Ipv6Addr) -> u8 {
    if is_global_ipv6(addr) {
        0
    } else if addr.segments()[0] & 0xfe00 == 0xfc00 {
        1
    } else {
        2
    }
}

/// Lower-case `aa:bb:cc:dd:ee:ff`, the form every DHCP server accepts.
pub fn mac_text(mac: &[u8; 6]) -> String {
    let mut text = String::with_capacity(17);
    for (i, byte) in mac.iter().enumerate() {
        if i > 0 {
            text.push(':');
        }
        let _ = write!(text, "{byte:02x}");
    }
    text
}

impl Host {
    fn new(hostname: String, link: &Link) -> Host {
        let mut ipv6 = link.ipv6.clone();
        // A stable sort: the kernel's order stays within each rank.
        ipv6.sort_by_key(ipv6_rank);
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

    /// `register show`'s text: one aligned line per fact, ending in a newline.
    pub fn to_text(&self) -> String {
        let route = if self.default_route {
            "default route"
        } else {
            "not the default route"
        };
        let mac = self
            .mac
            .as_ref()
            .map_or_else(|| "none".to_owned(), mac_text);
        let mut text = String::new();
        let mut line = |key: &str, value: &str| {
            let _ = writeln!(text, "{key:<10} {value}");
        };
        line("hostname", &self.hostname);
        line("interface", &format!("{} ({route})", self.interface));
        line("mac", &mac);
        line("ipv4", &list(&self.ipv4));
        line("ipv6", &list(&self.ipv6));
        text
    }

    /// `register show --json`: an object with the keys `hostname`, `interface`,
    /// `default_route`, `mac` (a string or null), `ipv4` and `ipv6` (arrays of
    /// strings), pretty-printed, keys in sorted order.
    pub fn to_json(&self) -> String {
        let value = serde_json::json!({
            "hostname": self.hostname,
            "interface": self.interface,
            "default_route": self.default_route,
            "mac": self.mac.as_ref().map(mac_text),
            "ipv4": self.ipv4.iter().map(ToString::to_string).collect::<Vec<_>>(),
            "ipv6": self.ipv6.iter().map(ToString::to_string).collect::<Vec<_>>(),
        });
        // Serialising a `Value` cannot fail; compact text is the (unreachable) fallback.
        serde_json::to_string_pretty(&value).unwrap_or_else(|_| value.to_string())
    }
}

/// Addresses separated by commas, or `none`.
fn list<T: ToString>(addrs: &[T]) -> String {
    if addrs.is_empty() {
        return "none".to_owned();
    }
    addrs
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(index: u32, name: &str) -> Link {
        Link {
            index,
            name: name.to_owned(),
            loopback: false,
            default_route: false,
            preferred: false,
            ipv4_gateway: false,
            mac: Some([2, 0, 0x5e, 0x10, 0, index as u8]),
            ipv4: vec![],
            ipv6: vec![],
        }
    }

    fn lo() -> Link {
        Link {
            loopback: true,
            mac: None,
            ..link(1, "lo")
        }
    }

    fn routed(mut link: Link, ipv4: bool) -> Link {
        link.default_route = true;
        link.ipv4_gateway = ipv4;
        link
    }

    #[test]
    fn the_default_route_interface_is_chosen() {
        let links = [lo(), link(2, "eth0"), routed(link(3, "wlan0"), true)];
        assert_eq!(choose(&links, None).unwrap().name, "wlan0");
    }

    #[test]
    fn with_two_default_routes_the_kernels_choice_wins() {
        let mut wlan = routed(link(3, "wlan0"), true);
        wlan.preferred = true;
        let links = [lo(), routed(link(2, "eth0"), true), wlan];
        assert_eq!(choose(&links, None).unwrap().name, "wlan0");
    }

    #[test]
    fn without_the_kernels_choice_an_ipv4_gateway_wins() {
        let links = [
            routed(link(2, "eth0"), false),
            routed(link(3, "wlan0"), true),
        ];
        assert_eq!(choose(&links, None).unwrap().name, "wlan0");
    }

    #[test]
    fn a_preferred_interface_without_a_default_route_is_not_chosen() {
        // netdev's UDP probe also "finds" an interface whose connected route covers
        // 10.254.254.254; only a real default route counts.
        let mut eth = link(2, "eth0");
        eth.preferred = true;
        let err = choose(&[lo(), eth], None).unwrap_err().to_string();
        assert_eq!(
            err,
            "no interface has the default route; name one with --interface IF (interfaces here: eth0)"
        );
    }

    #[test]
    fn only_loopback_says_so() {
        let err = choose(&[lo()], None).unwrap_err().to_string();
        assert!(err.contains("none but loopback"), "{err}");
    }

    #[test]
    fn a_named_interface_is_used_even_without_a_route() {
        let links = [lo(), link(2, "eth0"), routed(link(3, "wlan0"), true)];
        assert_eq!(choose(&links, Some("eth0")).unwrap().name, "eth0");
    }

    #[test]
    fn an_unknown_interface_lists_the_real_ones() {
        let links = [lo(), link(2, "eth0"), link(3, "wlan0")];
        let err = choose(&links, Some("eth9")).unwrap_err().to_string();
        assert!(err.contains("no network interface `eth9`"), "{err}");
        assert!(err.contains("(interfaces here: eth0, wlan0)"), "{err}");
    }

    #[test]
    fn global_ipv6_excludes_link_local_ula_and_loopback() {
        let global = |s: &str| is_global_ipv6(&s.parse().unwrap());
        assert!(global("2001:db8:1::40"));
        assert!(global("2a01:4f8::1"));
        assert!(!global("fe80::1"));
        assert!(!global("fd00::40"));
        assert!(!global("fc00::1"));
        assert!(!global("::1"));
        assert!(!global("::"));
        assert!(!global("ff02::1"));
        assert!(!global("::ffff:10.0.0.1"));
    }

    #[test]
    fn ipv6_is_ordered_global_first_keeping_the_kernels_order() {
        let mut eth = link(2, "eth0");
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
        let mut eth = link(2, "eth0");
        eth.ipv6 = vec!["fd00::40".parse().unwrap(), "fe80::1".parse().unwrap()];
        assert_eq!(Host::new("pi".into(), &eth).global_ipv6(), None);
    }

    fn sample() -> Host {
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
    fn text_is_aligned_with_a_lower_case_mac() {
        assert_eq!(
            sample().to_text(),
            "hostname   doughnut\n\
             interface  eth0 (default route)\n\
             mac        02:00:5e:ab:cd:ef\n\
             ipv4       10.20.30.40, 10.20.30.41\n\
             ipv6       2001:db8::40\n"
        );
    }

    #[test]
    fn text_says_none_for_what_is_missing() {
        let host = Host {
            default_route: false,
            mac: None,
            ipv4: vec![],
            ipv6: vec![],
            ..sample()
        };
        let text = host.to_text();
        assert!(text.contains("eth0 (not the default route)"), "{text}");
        assert!(text.contains("mac        none\n"), "{text}");
        assert!(text.contains("ipv4       none\n"), "{text}");
    }

    #[test]
    fn json_has_the_documented_keys() {
        let value: serde_json::Value = serde_json::from_str(&sample().to_json()).unwrap();
        assert_eq!(
            value,
            serde_json::json!({
                "hostname": "doughnut",
                "interface": "eth0",
                "default_route": true,
                "mac": "02:00:5e:ab:cd:ef",
                "ipv4": ["10.20.30.40", "10.20.30.41"],
                "ipv6": ["2001:db8::40"],
            })
        );
        let no_mac = Host {
            mac: None,
            ..sample()
        };
        let value: serde_json::Value = serde_json::from_str(&no_mac.to_json()).unwrap();
        assert_eq!(value["mac"], serde_json::Value::Null);
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
