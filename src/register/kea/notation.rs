//! How Kea writes the values `register kea` compares: MACs (`aa:bb:…`, `aa-bb-…`,
//! `aabb.ccdd.eeff`) and subnets (`10.20.30.0/24`). It exists so that the same
//! reservation in another spelling is recognised as the same, and an address is
//! checked against its subnet by number, not by text.

use std::net::Ipv4Addr;

/// A MAC as Kea writes it (`aa:bb:…`, also `aa-bb-…` or `aabb.ccdd.eeff`).
pub(super) fn parse_mac(text: &str) -> Option<[u8; 6]> {
    let parts: Vec<&str> = text.split([':', '-']).collect();
    let parts: Vec<String> = if parts.len() == 6 {
        parts.iter().map(|p| (*p).to_owned()).collect()
    } else {
        let hex: String = text.chars().filter(|c| *c != '.').collect();
        if hex.len() != 12 || !hex.is_ascii() {
            return None;
        }
        (0..6).map(|i| hex[2 * i..2 * i + 2].to_owned()).collect()
    };
    let mut mac = [0u8; 6];
    for (byte, part) in mac.iter_mut().zip(&parts) {
        *byte = u8::from_str_radix(part, 16).ok()?;
    }
    Some(mac)
}

/// `10.20.30.0/24` → the network and prefix length.
pub(super) fn parse_prefix(text: &str) -> Option<(Ipv4Addr, u8)> {
    let (addr, len) = text.trim().split_once('/')?;
    let len: u8 = len.parse().ok()?;
    if len > 32 {
        return None;
    }
    Some((addr.parse().ok()?, len))
}

pub(super) fn within(ip: Ipv4Addr, net: Ipv4Addr, len: u8) -> bool {
    let mask = u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
    u32::from(ip) & mask == u32::from(net) & mask
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAC: [u8; 6] = [0x02, 0x00, 0x5e, 0x10, 0x00, 0x01];

    #[test]
    fn prefixes() {
        let net = Ipv4Addr::new(10, 20, 30, 0);
        assert!(within(Ipv4Addr::new(10, 20, 30, 255), net, 24));
        assert!(!within(Ipv4Addr::new(10, 20, 31, 0), net, 24));
        assert!(within(Ipv4Addr::new(192, 0, 2, 1), net, 0));
        assert!(within(net, net, 32));
        assert_eq!(parse_prefix("10.20.30.0/24"), Some((net, 24)));
        assert_eq!(parse_prefix("10.20.30.0/33"), None);
        assert_eq!(parse_prefix("10.20.30.0"), None);
    }

    #[test]
    fn macs_in_keas_spellings() {
        assert_eq!(parse_mac("02:00:5e:10:00:01"), Some(MAC));
        assert_eq!(parse_mac("02-00-5E-10-00-01"), Some(MAC));
        assert_eq!(parse_mac("0200.5e10.0001"), Some(MAC));
        assert_eq!(parse_mac("02:00:5e:10:00"), None);
        assert_eq!(parse_mac("zz:00:5e:10:00:01"), None);
    }
}
