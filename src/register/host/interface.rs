//! Which network interface is the Pi's: the one named, or else the one with the
//! default route. It exists apart from the rest of `host` because the choice has
//! rules of its own, and those are tested on plain values, without a kernel.
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

use std::net::{Ipv4Addr, Ipv6Addr};

use super::HostError;

/// What `register` needs of one netdev interface; a plain value, so the choice of
/// interface is testable without a kernel.
#[derive(Debug, Clone)]
pub(super) struct Link {
    index: u32,
    pub(super) name: String,
    loopback: bool,
    /// A default route leaves through it (the routing table says so).
    pub(super) default_route: bool,
    /// The kernel's route lookup picks it for outside traffic.
    preferred: bool,
    /// Has an IPv4 default gateway (preferred over IPv6-only when choosing).
    ipv4_gateway: bool,
    pub(super) mac: Option<[u8; 6]>,
    pub(super) ipv4: Vec<Ipv4Addr>,
    /// The stable addresses only (see [`super::Host::ipv6`]).
    pub(super) ipv6: Vec<Ipv6Addr>,
}

/// The kernel's interfaces, in its index order.
pub(super) fn links() -> Vec<Link> {
    let mut links: Vec<Link> = netdev::get_interfaces().iter().map(Link::from).collect();
    // netdev collects them in a hash map; the kernel's index order is the one `ip`
    // shows and the one people expect in a list.
    links.sort_by_key(|link| link.index);
    links
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
pub(super) fn choose<'a>(links: &'a [Link], wanted: Option<&str>) -> Result<&'a Link, HostError> {
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

/// A plain interface for tests: not loopback, no route, a MAC, no addresses.
#[cfg(test)]
pub(super) fn test_link(index: u32, name: &str) -> Link {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn link(index: u32, name: &str) -> Link {
        test_link(index, name)
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
}
