//! `daas register dhcp`: the reservation for this Pi in the syntax of the lab's DHCP
//! server (ISC dhcpd, dnsmasq, Kea), ready to paste, so the Pi keeps its address
//! and its name resolves.
//!
//! What goes in a reservation — MAC, address, host name, domain — is merged here
//! once, for this command and for `register kea`: flags win over the `[register]`
//! table, which wins over what the kernel says. The MAC always comes from the
//! interface: a reservation for a MAC typed by hand is a reservation for a typo.

use std::fmt;
use std::net::Ipv4Addr;

use super::cli::{DhcpArgs, DhcpFormat};
use super::host::{self, Host, HostError};
use super::{Failure, is_valid_label, register_table};

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

/// Where a value came from, so an error names what to change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// A command-line flag (its name without dashes).
    Flag(&'static str),
    /// A key of the `[register]` table.
    Config(&'static str),
    /// The kernel: `uname -n`, or the interface's address.
    Kernel(&'static str),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Flag(flag) => write!(f, "--{flag}"),
            Origin::Config(key) => write!(f, "`register.{key}`"),
            Origin::Kernel(what) => f.write_str(what),
        }
    }
}

/// A value and where it came from.
pub type Sourced<T> = (T, Origin);

/// The flag if given, else the config key.
pub fn pick(
    flag: Option<String>,
    flag_name: &'static str,
    config: Option<String>,
    key: &'static str,
) -> Option<Sourced<String>> {
    flag.map(|v| (v, Origin::Flag(flag_name)))
        .or_else(|| config.map(|v| (v, Origin::Config(key))))
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

/// Why no reservation could be made. All are usage errors: a flag or the config
/// must change.
#[derive(Debug, thiserror::Error)]
pub enum ReservationError {
    #[error(transparent)]
    Host(#[from] HostError),
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

impl From<ReservationError> for Failure {
    fn from(err: ReservationError) -> Failure {
        Failure::Usage(err.into())
    }
}

/// Prints the reservation.
pub fn run(args: DhcpArgs) -> Result<(), Failure> {
    let table = register_table(args.common.config.as_deref())?;
    let wanted = Wanted {
        interface: args.common.interface.or(table.interface),
        ip: args.ip,
        name: pick(args.hostname, "hostname", table.name, "name"),
        domain: pick(args.domain, "domain", table.zone, "zone"),
    };
    let reservation = resolve(wanted)?;
    print!("{}", render(&reservation, args.format));
    Ok(())
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

/// The reservation in one server's syntax, ending in a newline.
pub fn render(reservation: &Reservation, format: DhcpFormat) -> String {
    match format {
        DhcpFormat::Isc => isc(reservation),
        DhcpFormat::Dnsmasq => dnsmasq(reservation),
        DhcpFormat::Kea => kea_text(reservation),
    }
}

/// An ISC dhcpd `host` block, for dhcpd.conf (outside or inside a `subnet`).
fn isc(r: &Reservation) -> String {
    format!(
        "host {name} {{\n  hardware ethernet {mac};\n  fixed-address {ip};\n  option host-name \"{name}\";\n}}\n",
        name = r.hostname,
        mac = host::mac_text(&r.mac),
        ip = r.ip,
    )
}

/// dnsmasq: the lease that never expires, and a DNS record so the name resolves
/// before the Pi ever asks for its lease.
fn dnsmasq(r: &Reservation) -> String {
    let mac = host::mac_text(&r.mac);
    let mut text = format!("dhcp-host={mac},{},{},infinite\n", r.ip, r.hostname);
    match &r.fqdn {
        Some(fqdn) => text.push_str(&format!("host-record={fqdn},{},{}\n", r.hostname, r.ip)),
        None => text.push_str(&format!("host-record={},{}\n", r.hostname, r.ip)),
    }
    text
}

/// A Kea DHCPv4 `reservations` entry, as `register kea` adds it.
pub fn kea_entry(r: &Reservation) -> serde_json::Value {
    serde_json::json!({
        "hw-address": host::mac_text(&r.mac),
        "ip-address": r.ip.to_string(),
        "hostname": r.hostname,
    })
}

/// [`kea_entry`] pretty-printed with its keys in Kea's documentation order (a
/// `serde_json` map would sort them).
fn kea_text(r: &Reservation) -> String {
    let quote = |s: &str| serde_json::Value::from(s).to_string();
    format!(
        "{{\n  \"hw-address\": {},\n  \"ip-address\": {},\n  \"hostname\": {}\n}}\n",
        quote(&host::mac_text(&r.mac)),
        quote(&r.ip.to_string()),
        quote(&r.hostname),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reservation(fqdn: Option<&str>) -> Reservation {
        Reservation {
            mac: [0x02, 0x00, 0x5e, 0x10, 0xab, 0x01],
            ip: Ipv4Addr::new(10, 20, 30, 40),
            hostname: "doughnut".into(),
            fqdn: fqdn.map(str::to_owned),
        }
    }

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
    fn isc_is_a_host_block() {
        assert_eq!(
            render(&reservation(None), DhcpFormat::Isc),
            "host doughnut {\n  hardware ethernet 02:00:5e:10:ab:01;\n  fixed-address 10.20.30.40;\n  option host-name \"doughnut\";\n}\n"
        );
    }

    #[test]
    fn dnsmasq_has_a_host_record_with_the_full_name() {
        assert_eq!(
            render(
                &reservation(Some("doughnut.lab.example.org")),
                DhcpFormat::Dnsmasq
            ),
            "dhcp-host=02:00:5e:10:ab:01,10.20.30.40,doughnut,infinite\n\
             host-record=doughnut.lab.example.org,doughnut,10.20.30.40\n"
        );
    }

    #[test]
    fn dnsmasq_without_a_domain_records_the_short_name() {
        let text = render(&reservation(None), DhcpFormat::Dnsmasq);
        assert!(
            text.ends_with("host-record=doughnut,10.20.30.40\n"),
            "{text}"
        );
    }

    #[test]
    fn kea_text_is_the_kea_entry() {
        let text = render(&reservation(None), DhcpFormat::Kea);
        assert!(text.starts_with("{\n  \"hw-address\": \"02:00:5e:10:ab:01\",\n"));
        let parsed: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(parsed, kea_entry(&reservation(None)));
        assert_eq!(parsed["ip-address"], "10.20.30.40");
        assert_eq!(parsed["hostname"], "doughnut");
    }

    #[test]
    fn labels() {
        for good in ["a", "pi", "doughnut-1", "3pi", "A-Z09", &"x".repeat(63)] {
            assert!(is_valid_label(good), "{good}");
        }
        for bad in [
            "",
            "-pi",
            "pi-",
            "dough_nut",
            "pi.lab",
            "ü",
            "pi pi",
            &"x".repeat(64),
        ] {
            assert!(!is_valid_label(bad), "{bad}");
        }
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
                ..reservation(None)
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
