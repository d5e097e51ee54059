//! What goes in a reservation — MAC, address, host name, domain — merged once, for
//! `register dhcp` and `register kea`: flags win over the `[register]` table, which
//! wins over what the kernel says, and every value is checked before any server
//! sees it. The MAC always comes from the interface: a reservation for a MAC typed
//! by hand is a reservation for a typo.

use std::net::Ipv4Addr;

use super::origin::{Origin, Sourced};
use crate::register::host::{self, Host, HostError};
use crate::register::is_valid_label;

/// One DHCP reservation: this MAC always gets this address and this name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reservation {
    pub mac: [u8; 6],
    pub ip: Ipv4Addr,
    /// A single DNS label, e.g. `doughnut`.
    pub hostname: String,
    /// `hostname.domain` (no trailing dot), when a domain is known.
    pub fqdn: Option<String>,
}

/// What the user asked for, flags and config merged; the rest comes from the kernel.
#[derive(Debug, Clone, Default)]
pub struct Wanted {
    pub interface: Option<String>,
    pub ip: Option<Ipv4Addr>,
    /// A single label or a full name.
    pub name: Option<Sourced<String>>,
    pub domain: Option<Sourced<String>>,
}

/// Why no reservation could be made. All are usage errors (exit 2): a flag or the
/// config must change.
#[derive(Debug, thiserror::Error)]
pub enum ReservationError {
    #[error("{0}")]
    Host(HostError),
    #[error(
        "{origin} `{name}` is not a valid host name: use 1 to 63 letters, digits and hyphens, not starting or ending with a hyphen; give one with --hostname NAME"
    )]
    BadLabel { name: String, origin: Origin },
    #[error(
        "{origin} `{domain}` is not a valid domain name ({reason}); give one like lab.example.org with --domain DOMAIN"
    )]
    BadDomain {
        domain: String,
        origin: Origin,
        reason: String,
    },
    #[error(
        "{name_origin} `{name}` is not in the domain `{domain}` from {domain_origin}; give the name as a single label, or make the two agree"
    )]
    DomainMismatch {
        name: String,
        name_origin: Origin,
        domain: String,
        domain_origin: Origin,
    },
    #[error(
        "{ip} (from {origin}) is {kind}, which no DHCP server hands out; give the Pi's lab address with --ip ADDR"
    )]
    BadIp {
        ip: Ipv4Addr,
        origin: Origin,
        kind: &'static str,
    },
}

// By hand rather than `#[from]`, which would make it a `source()` too and have
// `daas: {err:#}` print it twice.
impl From<HostError> for ReservationError {
    fn from(err: HostError) -> ReservationError {
        ReservationError::Host(err)
    }
}

/// Reads the host and builds the reservation from it and what was asked for.
pub fn resolve(wanted: Wanted) -> Result<Reservation, ReservationError> {
    let host = host::read(wanted.interface.as_deref())?;
    build(&host, wanted)
}

/// The reservation for `host`, with the values asked for taking precedence.
pub fn build(host: &Host, wanted: Wanted) -> Result<Reservation, ReservationError> {
    let mac = host.require_mac()?;
    let (ip, ip_origin) = match wanted.ip {
        Some(ip) => (ip, Origin::Flag("ip")),
        None => (host.require_ipv4()?, Origin::Kernel("the interface")),
    };
    check_ip(ip, ip_origin)?;
    let (name, name_origin) = wanted.name.unwrap_or_else(|| {
        (
            host.hostname.clone(),
            Origin::Kernel("this machine's hostname"),
        )
    });
    let (hostname, fqdn) = name_and_fqdn(&name, name_origin, wanted.domain)?;
    Ok(Reservation {
        mac,
        ip,
        hostname,
        fqdn,
    })
}

/// Splits a name that may be a full name into its label and its full form, checking
/// both and that a full name agrees with the domain given.
fn name_and_fqdn(
    name: &str,
    origin: Origin,
    domain: Option<Sourced<String>>,
) -> Result<(String, Option<String>), ReservationError> {
    let trimmed = name.strip_suffix('.').unwrap_or(name);
    let (label, own_domain) = match trimmed.split_once('.') {
        Some((label, rest)) => (label, Some(rest)),
        None => (trimmed, None),
    };
    if !is_valid_label(label) {
        return Err(ReservationError::BadLabel {
            name: name.to_owned(),
            origin,
        });
    }
    let domain = match domain {
        Some((text, domain_origin)) => {
            Some((normalize_domain(&text, domain_origin)?, domain_origin))
        }
        None => None,
    };
    let own_domain = match own_domain {
        Some(rest) => Some(normalize_domain(rest, origin)?),
        None => None,
    };
    let domain = match (own_domain, domain) {
        (Some(own), Some((given, domain_origin))) if !own.eq_ignore_ascii_case(&given) => {
            return Err(ReservationError::DomainMismatch {
                name: name.to_owned(),
                name_origin: origin,
                domain: given,
                domain_origin,
            });
        }
        (Some(own), _) => Some(own),
        (None, given) => given.map(|(domain, _)| domain),
    };
    let fqdn = domain.map(|domain| format!("{label}.{domain}"));
    if let Some(long) = fqdn.as_ref().filter(|fqdn| fqdn.len() > 253) {
        return Err(ReservationError::BadDomain {
            domain: long.clone(),
            origin,
            reason: "the full name is longer than 253 characters".to_owned(),
        });
    }
    Ok((label.to_owned(), fqdn))
}

/// A domain name of valid labels, returned without its trailing dot (one is
/// accepted, so `lab.example.org.` and `lab.example.org` are the same).
pub fn normalize_domain(text: &str, origin: Origin) -> Result<String, ReservationError> {
    let bad = |reason: &str| ReservationError::BadDomain {
        domain: text.to_owned(),
        origin,
        reason: reason.to_owned(),
    };
    let domain = text.strip_suffix('.').unwrap_or(text);
    if domain.is_empty() {
        return Err(bad("it is empty"));
    }
    if domain.len() > 253 {
        return Err(bad("longer than 253 characters"));
    }
    if let Some(label) = domain.split('.').find(|label| !is_valid_label(label)) {
        let reason = if label.is_empty() {
            "an empty label: two dots in a row, or a leading dot".to_owned()
        } else {
            format!(
                "the label `{label}`: use 1 to 63 letters, digits and hyphens, not starting or ending with a hyphen"
            )
        };
        return Err(bad(&reason));
    }
    Ok(domain.to_owned())
}

/// Refuses addresses no DHCP server can reserve for a host.
fn check_ip(ip: Ipv4Addr, origin: Origin) -> Result<(), ReservationError> {
    let kind = if ip.is_unspecified() {
        "the unspecified address"
    } else if ip.is_loopback() {
        "a loopback address"
    } else if ip.is_link_local() {
        "a link-local address (the Pi has no DHCP lease yet)"
    } else if ip.is_multicast() {
        "a multicast address"
    } else if ip.is_broadcast() {
        "the broadcast address"
    } else {
        return Ok(());
    };
    Err(ReservationError::BadIp { ip, origin, kind })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host() -> Host {
        Host {
            hostname: "raspberrypi".into(),
            interface: "eth0".into(),
            default_route: true,
            mac: Some([0x02, 0x00, 0x5e, 0x10, 0xab, 0x01]),
            ipv4: vec![Ipv4Addr::new(10, 20, 30, 40)],
            ipv6: vec![],
        }
    }

    fn flag(value: &str, name: &'static str) -> Option<Sourced<String>> {
        Some((value.to_owned(), Origin::Flag(name)))
    }

    #[test]
    fn domains_accept_one_trailing_dot() {
        let origin = Origin::Flag("domain");
        assert_eq!(
            normalize_domain("lab.example.org.", origin).unwrap(),
            "lab.example.org"
        );
        assert_eq!(normalize_domain("lab", origin).unwrap(), "lab");
        for bad in [
            "",
            ".",
            "lab..org",
            ".lab",
            "lab.org..",
            "lab_1.org",
            "-lab.org",
        ] {
            assert!(normalize_domain(bad, origin).is_err(), "{bad}");
        }
        let err = normalize_domain("lab_1.org", origin)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("--domain `lab_1.org` is not a valid domain name"),
            "{err}"
        );
        assert!(err.contains("`lab_1`"), "{err}");
    }

    #[test]
    fn flags_win_over_the_kernel() {
        let wanted = Wanted {
            ip: Some(Ipv4Addr::new(10, 20, 30, 77)),
            name: flag("doughnut", "hostname"),
            domain: flag("lab.example.org.", "domain"),
            ..Wanted::default()
        };
        let r = build(&host(), wanted).unwrap();
        assert_eq!(r.ip, Ipv4Addr::new(10, 20, 30, 77));
        assert_eq!(r.hostname, "doughnut");
        assert_eq!(r.fqdn.as_deref(), Some("doughnut.lab.example.org"));
    }

    #[test]
    fn the_kernel_fills_in_the_rest() {
        let r = build(&host(), Wanted::default()).unwrap();
        assert_eq!(
            r,
            Reservation {
                fqdn: None,
                hostname: "raspberrypi".into(),
                ..super::super::example(None)
            }
        );
    }

    #[test]
    fn a_full_name_gives_its_domain() {
        let wanted = Wanted {
            name: Some(("doughnut.lab.example.org".into(), Origin::Config("name"))),
            ..Wanted::default()
        };
        let r = build(&host(), wanted).unwrap();
        assert_eq!(r.hostname, "doughnut");
        assert_eq!(r.fqdn.as_deref(), Some("doughnut.lab.example.org"));
    }

    #[test]
    fn a_full_name_in_another_domain_is_refused() {
        let wanted = Wanted {
            name: Some(("doughnut.other.org".into(), Origin::Config("name"))),
            domain: Some(("lab.example.org".into(), Origin::Config("zone"))),
            ..Wanted::default()
        };
        let err = build(&host(), wanted).unwrap_err().to_string();
        assert!(err.contains("`register.name` `doughnut.other.org` is not in the domain `lab.example.org` from `register.zone`"), "{err}");
    }

    #[test]
    fn a_bad_hostname_says_what_is_allowed() {
        let mut pi = host();
        pi.hostname = "dough_nut".into();
        let err = build(&pi, Wanted::default()).unwrap_err().to_string();
        assert_eq!(
            err,
            "this machine's hostname `dough_nut` is not a valid host name: use 1 to 63 letters, digits and hyphens, not starting or ending with a hyphen; give one with --hostname NAME"
        );
    }

    #[test]
    fn a_link_local_address_is_refused() {
        let mut pi = host();
        pi.ipv4 = vec![Ipv4Addr::new(169, 254, 3, 4)];
        let err = build(&pi, Wanted::default()).unwrap_err().to_string();
        assert!(
            err.contains("169.254.3.4 (from the interface) is a link-local"),
            "{err}"
        );
        assert!(err.contains("--ip ADDR"), "{err}");
    }

    #[test]
    fn no_ipv4_and_no_mac_are_reported() {
        let mut pi = host();
        pi.ipv4.clear();
        let err = build(&pi, Wanted::default()).unwrap_err().to_string();
        assert_eq!(err, "eth0 has no IPv4 address; give one with --ip ADDR");
        pi.mac = None;
        let err = build(
            &pi,
            Wanted {
                ip: Some(Ipv4Addr::new(10, 0, 0, 1)),
                ..Wanted::default()
            },
        )
        .unwrap_err()
        .to_string();
        assert!(err.starts_with("eth0 has no MAC address"), "{err}");
    }
}
