//! The name the sink gives in `EHLO`: `helo_name` from the config, or the host's
//! fully qualified name, or the address literal of the connection's local end.
//!
//! It exists because lettre's default is the bare kernel hostname (`kitchen-pi`), and
//! a relay with Postfix's `reject_non_fqdn_helo_hostname` refuses every message from
//! such a client ("504 5.5.2 <kitchen-pi>: Helo command rejected: need
//! fully-qualified hostname"). RFC 5321 (4.1.4) asks for the host's primary name and,
//! when it has none, an address literal such as `[192.0.2.7]`. The choice is a pure
//! function of the hostname, the text of /etc/hosts and the local address, so it is
//! tested without touching the machine; no DNS is asked (a Pi in a kitchen has no
//! trustworthy reverse zone, and a send must not wait on a resolver for its name).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use lettre::transport::smtp::extension::ClientId;

/// Why a `helo_name` cannot be sent, or would be refused by strict relays; each says
/// what to write instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeloNameError {
    #[error(
        "`helo_name` \"{name}\" opens a `[` but does not close it; write an address literal as \"[192.0.2.7]\""
    )]
    Unclosed { name: String },
    #[error(
        "`helo_name` \"{name}\" is not an IPv6 address literal; write it as \"[IPv6:2001:db8::7]\""
    )]
    NotIpv6 { name: String },
    #[error(
        "`helo_name` \"{name}\" is an IPv6 address without the `IPv6:` tag; write it as \"[IPv6:{address}]\""
    )]
    Ipv6Untagged { name: String, address: String },
    #[error(
        "`helo_name` \"{name}\" is not an address literal; give an IPv4 address in brackets, e.g. \"[192.0.2.7]\""
    )]
    NotALiteral { name: String },
    #[error(
        "`helo_name` is empty; give the Pi's fully qualified name, e.g. \"kitchen-pi.lab.example.org\", or leave it out"
    )]
    Empty,
    #[error(
        "`helo_name` {name:?} has a space, a control or a non-ASCII character; give a host name such as \"kitchen-pi.lab.example.org\""
    )]
    Unsendable { name: String },
    #[error("`helo_name` \"{name}\" is an address; write it as an address literal, \"[{name}]\"")]
    Address { name: String },
    #[error(
        "`helo_name` \"{name}\" is not fully qualified, and strict mail servers refuse a bare name (504 need fully-qualified hostname); give the full name, e.g. \"{name}.lab.example.org\", or an address literal such as \"[192.0.2.7]\""
    )]
    NotQualified { name: String },
    #[error("`helo_name` \"{name}\" ends with a dot; leave the dot out")]
    TrailingDot { name: String },
    #[error("`helo_name` is {length} characters long; a host name has at most 253")]
    TooLong { length: usize },
    #[error(
        "`helo_name` \"{name}\" has the part \"{label}\", which is not a host name label; use letters, digits and inner dashes, at most 63 between dots"
    )]
    BadLabel { name: String, label: String },
    #[error(
        "`helo_name` \"{name}\" ends in a number, so it is neither a host name nor an address; give a host name, or an address literal such as \"[192.0.2.7]\""
    )]
    NumericTop { name: String },
}

/// Where the sink's `EHLO` name comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Helo {
    /// `helo_name` from the config.
    Configured(ClientId),
    /// What the host calls itself: the kernel hostname and the text of /etc/hosts,
    /// read when the sink was built (when the daemon starts).
    Host { hostname: String, hosts: String },
}

impl Helo {
    /// `helo_name` if given, else what the host calls itself.
    pub(super) fn new(helo_name: Option<&str>) -> Result<Helo, HeloNameError> {
        Ok(match helo_name {
            Some(name) => Helo::Configured(client_id(name)?),
            None => Helo::Host {
                hostname: crate::machine::hostname(),
                // An unreadable /etc/hosts is a host without a name there, not an error.
                hosts: std::fs::read_to_string("/etc/hosts").unwrap_or_default(),
            },
        })
    }

    /// The `EHLO` name for a connection whose local end is `local`.
    pub(super) fn client_id(&self, local: IpAddr) -> ClientId {
        match self {
            Helo::Configured(id) => id.clone(),
            Helo::Host { hostname, hosts } => default_helo(hostname, hosts, local),
        }
    }
}

/// The default `EHLO` name: [`host_name`], else the address literal of `local`.
fn default_helo(hostname: &str, hosts: &str, local: IpAddr) -> ClientId {
    match host_name(hostname, hosts) {
        Some(name) => ClientId::Domain(name),
        None => address_literal(local),
    }
}

/// The host's fully qualified name: the kernel hostname if it has a dot; else the
/// first name with a dot on the /etc/hosts line that lists the short hostname (as
/// Debian's installer writes it: `127.0.1.1 kitchen-pi.lab.example.org kitchen-pi`).
fn host_name(hostname: &str, hosts: &str) -> Option<String> {
    let hostname = hostname.trim();
    if hostname.contains('.') && sendable(hostname) {
        return Some(hostname.to_string());
    }
    if hostname.is_empty() {
        return None;
    }
    hosts
        .lines()
        .map(|line| line.split('#').next().unwrap_or_default())
        .filter_map(|line| {
            // The address first, then its names.
            let names: Vec<&str> = line.split_whitespace().skip(1).collect();
            if !names.iter().any(|name| name.eq_ignore_ascii_case(hostname)) {
                return None;
            }
            names
                .into_iter()
                .find(|name| name.contains('.') && sendable(name))
        })
        .map(str::to_string)
        .next()
}

/// `[192.0.2.7]`, or `[IPv6:2001:db8::7]` (RFC 5321 4.1.3).
fn address_literal(local: IpAddr) -> ClientId {
    match local.to_canonical() {
        IpAddr::V4(v4) => ClientId::Ipv4(v4),
        IpAddr::V6(v6) => ClientId::Ipv6(v6),
    }
}

/// Text that can stand in an `EHLO` command line: printable ASCII, no space.
fn sendable(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_graphic())
}

/// `helo_name` as lettre takes it. Refuses only what cannot be sent at all (an
/// address literal that is no address, a space, a control or non-ASCII character);
/// whether the name is fully qualified is [`check`]'s business, at config time.
pub(super) fn client_id(name: &str) -> Result<ClientId, HeloNameError> {
    let name_owned = || name.to_string();
    if let Some(inner) = name.strip_prefix('[') {
        let inner = inner
            .strip_suffix(']')
            .ok_or_else(|| HeloNameError::Unclosed { name: name_owned() })?;
        return match inner.get(..5) {
            Some(tag) if tag.eq_ignore_ascii_case("IPv6:") => inner[5..]
                .parse::<Ipv6Addr>()
                .map(ClientId::Ipv6)
                .map_err(|_| HeloNameError::NotIpv6 { name: name_owned() }),
            _ => match inner.parse::<IpAddr>() {
                Ok(IpAddr::V4(v4)) => Ok(ClientId::Ipv4(v4)),
                Ok(IpAddr::V6(_)) => Err(HeloNameError::Ipv6Untagged {
                    name: name_owned(),
                    address: inner.to_string(),
                }),
                Err(_) => Err(HeloNameError::NotALiteral { name: name_owned() }),
            },
        };
    }
    if name.trim().is_empty() {
        return Err(HeloNameError::Empty);
    }
    if !sendable(name) {
        return Err(HeloNameError::Unsendable { name: name_owned() });
    }
    Ok(ClientId::Domain(name_owned()))
}

/// The config check: a dotted host name (letters, digits and dashes in labels of at
/// most 63, the last not all digits) or an address literal. A bare name is refused
/// here, with the reason, because strict relays refuse it at every send.
pub fn check(name: &str) -> Result<(), HeloNameError> {
    if client_id(name)? != ClientId::Domain(name.to_string()) {
        return Ok(()); // an address literal
    }
    let name_owned = || name.to_string();
    if name.parse::<Ipv4Addr>().is_ok() {
        return Err(HeloNameError::Address { name: name_owned() });
    }
    if !name.contains('.') {
        return Err(HeloNameError::NotQualified { name: name_owned() });
    }
    if name.ends_with('.') {
        return Err(HeloNameError::TrailingDot { name: name_owned() });
    }
    if name.len() > 253 {
        return Err(HeloNameError::TooLong { length: name.len() });
    }
    for label in name.split('.') {
        let valid = (1..=63).contains(&label.len())
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !label.starts_with('-')
            && !label.ends_with('-');
        if !valid {
            return Err(HeloNameError::BadLabel {
                name: name_owned(),
                label: label.to_string(),
            });
        }
    }
    if name
        .rsplit('.')
        .next()
        .is_some_and(|top| top.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(HeloNameError::NumericTop { name: name_owned() });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOCAL: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 7));

    fn domain(name: &str) -> ClientId {
        ClientId::Domain(name.to_string())
    }

    #[test]
    fn a_dotted_kernel_hostname_is_used_as_it_is() {
        assert_eq!(
            default_helo("kitchen-pi.lab.example.org", "", LOCAL),
            domain("kitchen-pi.lab.example.org")
        );
    }

    #[test]
    fn a_short_hostname_takes_the_dotted_name_from_its_hosts_line() {
        let hosts = "127.0.0.1\tlocalhost\n\
                     ::1 localhost ip6-localhost ip6-loopback\n\
                     # 127.0.1.1 kitchen-pi.old.example.org kitchen-pi\n\
                     127.0.1.1\tkitchen-pi.lab.example.org kitchen-pi # the installer's line\n";
        assert_eq!(
            default_helo("kitchen-pi", hosts, LOCAL),
            domain("kitchen-pi.lab.example.org")
        );
        // The name may come after the short one, and case does not matter.
        assert_eq!(
            default_helo(
                "Kitchen-Pi",
                "10.0.0.5 kitchen-pi pi.lab.example.org\n",
                LOCAL
            ),
            domain("pi.lab.example.org")
        );
        // A line that does not list the hostname is not the host's.
        assert_eq!(
            default_helo(
                "kitchen-pi",
                "10.0.0.6 printer.lab.example.org printer\n",
                LOCAL
            ),
            ClientId::Ipv4(Ipv4Addr::new(192, 0, 2, 7))
        );
    }

    #[test]
    fn a_host_without_a_dotted_name_uses_the_local_address_literal() {
        // Raspberry Pi OS writes only the short name.
        let hosts = "127.0.0.1 localhost\n127.0.1.1 kitchen-pi\n";
        let id = default_helo("kitchen-pi", hosts, LOCAL);
        assert_eq!(id.to_string(), "[192.0.2.7]");
        assert_eq!(
            default_helo("kitchen-pi", "", "127.0.0.1".parse().expect("address")).to_string(),
            "[127.0.0.1]"
        );
        assert_eq!(
            default_helo(
                "",
                "127.0.1.1 a.b.example.org\n",
                "2001:db8::7".parse().expect("address")
            )
            .to_string(),
            "[IPv6:2001:db8::7]"
        );
        // An IPv4 connection on an IPv6 socket is still an IPv4 literal.
        assert_eq!(
            default_helo("pi", "", "::ffff:192.0.2.7".parse().expect("address")).to_string(),
            "[192.0.2.7]"
        );
    }

    #[test]
    fn helo_name_takes_names_and_address_literals() {
        for good in [
            "kitchen-pi.lab.example.org",
            "a.b",
            "xn--bcher-kva.example",
            "[192.0.2.7]",
            "[IPv6:2001:db8::7]",
            "[ipv6:::1]",
        ] {
            assert_eq!(check(good), Ok(()), "{good}");
        }
        assert_eq!(
            client_id("[192.0.2.7]"),
            Ok(ClientId::Ipv4(Ipv4Addr::new(192, 0, 2, 7)))
        );
        assert_eq!(
            client_id("[IPv6:2001:db8::7]").map(|id| id.to_string()),
            Ok("[IPv6:2001:db8::7]".to_string())
        );
    }

    #[test]
    fn helo_name_mistakes_say_what_to_write() {
        let cases = [
            ("kitchen-pi", "is not fully qualified"),
            (
                "192.0.2.7",
                "write it as an address literal, \"[192.0.2.7]\"",
            ),
            ("[192.0.2.7", "does not close it"),
            ("[2001:db8::7]", "\"[IPv6:2001:db8::7]\""),
            ("[IPv6:192.0.2.7]", "is not an IPv6 address literal"),
            ("[kitchen]", "is not an address literal"),
            ("", "is empty"),
            ("kitchen pi.example.org", "has a space"),
            ("pi.example.org\r\nRSET", "has a space, a control"),
            ("küche.example.org", "non-ASCII"),
            ("pi.example.org.", "ends with a dot"),
            ("pi..example.org", "the part \"\""),
            ("-pi.example.org", "the part \"-pi\""),
            ("pi_1.example.org", "the part \"pi_1\""),
            ("pi.example.123", "ends in a number"),
        ];
        for (name, expected) in cases {
            let err = check(name).expect_err(name).to_string();
            assert!(err.contains(expected), "{name}: {err}");
            assert!(err.starts_with("`helo_name`"), "{err}");
        }
        // Only the config check insists on a dot; the sink can send a bare name.
        assert_eq!(client_id("kitchen-pi"), Ok(domain("kitchen-pi")));
    }
}
