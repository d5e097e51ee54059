//! Which of the Pi's addresses count, and how a MAC is written. It exists because
//! these rules decide what goes into DNS and DHCP (a global IPv6 address, never a
//! link-local or unique-local one; a MAC every DHCP server reads), and `show`,
//! `dhcp`, `dns` and `kea` must all apply the same ones.

use std::fmt::Write as _;
use std::net::Ipv6Addr;

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
pub(super) fn ipv6_rank(addr: &Ipv6Addr) -> u8 {
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

#[cfg(test)]
mod tests {
    use super::*;

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
    fn macs_are_lower_case_with_colons() {
        assert_eq!(
            mac_text(&[0x02, 0x00, 0x5e, 0xAB, 0xcd, 0xef]),
            "02:00:5e:ab:cd:ef"
        );
    }
}
