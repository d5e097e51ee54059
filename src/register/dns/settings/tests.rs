//! The rules of `register dns` settings, on literal flags and `[register]` tables:
//! which wins, what is refused and with what words, and what the kernel fills in.

use std::path::PathBuf;

use clap::Parser;

use super::*;
use crate::register::host::tests::sample as host;

/// `daas register dns` with these flags.
#[derive(Parser)]
struct Command {
    #[command(flatten)]
    args: DnsArgs,
}

fn args(flags: &[&str]) -> DnsArgs {
    let argv = std::iter::once("dns").chain(flags.iter().copied());
    Command::try_parse_from(argv).expect("valid flags").args
}

fn table() -> Register {
    Register {
        server: Some("10.0.0.53".into()),
        zone: Some("lab.example.org".into()),
        key_file: Some(PathBuf::from("/etc/daas/kitchen.key")),
        name: Some("kitchen".into()),
        ttl: Some(60),
        reverse_zone: Some("10.in-addr.arpa".into()),
        interface: Some("wlan0".into()),
        ..Register::default()
    }
}

fn server() -> Server {
    Server {
        shown: "10.0.0.53:53".into(),
        addr: "10.0.0.53:53".parse().unwrap(),
    }
}

fn name(text: &str) -> Name {
    Name::from_ascii(text).unwrap()
}

/// The settings for `flags` over `table`, with the sample host.
fn settled(
    flags: &[&str],
    table: Register,
) -> Result<(Settings, Option<KeySource>), SettingsError> {
    Request::new(args(flags), table)?.settings(server(), Some(&host()))
}

#[test]
fn the_config_fills_in_what_the_flags_leave_open() {
    let request = Request::new(args(&["--ip", "10.0.0.7"]), table()).unwrap();
    assert_eq!(request.server, "10.0.0.53");
    assert_eq!(request.interface.as_deref(), Some("wlan0"));
    assert!(!request.needs_host());
    let (s, key) = request.settings(server(), None).unwrap();
    assert_eq!(s.zone, name("lab.example.org."));
    assert_eq!(s.fqdn, name("kitchen.lab.example.org."));
    assert_eq!(s.ttl, 60);
    assert_eq!(s.reverse_zone, Some(name("10.in-addr.arpa.")));
    assert_eq!(
        key,
        Some(KeySource::File {
            path: PathBuf::from("/etc/daas/kitchen.key"),
            name: None
        })
    );
}

#[test]
fn flags_win_over_the_config() {
    let flags = [
        "--server",
        "127.0.0.1:5300",
        "--zone",
        "test.",
        "--name",
        "pi",
        "--ttl",
        "30",
        "--reverse-zone",
        "20.10.in-addr.arpa",
        "--interface",
        "eth0",
        "--key",
        "k.conf",
        "--key-name",
        "k",
        "--ip",
        "10.20.0.1",
    ];
    let request = Request::new(args(&flags), table()).unwrap();
    assert_eq!(request.server, "127.0.0.1:5300");
    assert_eq!(request.interface.as_deref(), Some("eth0"));
    let (s, key) = request.settings(server(), None).unwrap();
    assert_eq!(s.fqdn, name("pi.test."));
    assert_eq!(s.ttl, 30);
    assert_eq!(s.reverse_zone, Some(name("20.10.in-addr.arpa.")));
    assert_eq!(
        key,
        Some(KeySource::File {
            path: PathBuf::from("k.conf"),
            name: Some("k".into())
        })
    );
}

#[test]
fn a_secret_in_the_environment_wins_over_the_configs_key_file() {
    let flags = [
        "--key-secret-env",
        "DNS_KEY",
        "--key-name",
        "k",
        "--ip",
        "10.0.0.7",
    ];
    let (_, key) = settled(&flags, table()).unwrap();
    assert_eq!(
        key,
        Some(KeySource::Env {
            var: "DNS_KEY".into(),
            name: Some("k".into()),
            algorithm: "hmac-sha256".into()
        })
    );
}

#[test]
fn only_a_dry_run_goes_without_a_key() {
    let no_key = Register {
        key_file: None,
        ..table()
    };
    let err = settled(&["--ip", "10.0.0.7"], no_key.clone()).unwrap_err();
    assert!(matches!(err, SettingsError::NoKey), "{err}");
    let (_, key) = settled(&["--ip", "10.0.0.7", "--dry-run"], no_key).unwrap();
    assert_eq!(key, None);
}

#[test]
fn server_then_zone_are_required() {
    let err = Request::new(args(&[]), Register::default()).unwrap_err();
    assert!(
        err.to_string().starts_with("no DNS server to update"),
        "{err}"
    );
    let err = Request::new(args(&["--server", "10.0.0.53"]), Register::default()).unwrap_err();
    assert!(
        err.to_string().starts_with("no zone: give --zone ZONE"),
        "{err}"
    );
    let err = Request::new(args(&["--zone", "a..b"]), table()).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("--zone a..b is not a valid DNS name: "),
        "{err}"
    );
}

#[test]
fn the_ttl_is_300_by_default_and_at_most_a_week() {
    let no_ttl = Register {
        ttl: None,
        ..table()
    };
    let (s, _) = settled(&["--ip", "10.0.0.7"], no_ttl).unwrap();
    assert_eq!(s.ttl, 300);
    assert!(settled(&["--ttl", "604800", "--ip", "10.0.0.7"], table()).is_ok());
    for ttl in ["0", "604801"] {
        let err = Request::new(args(&["--ttl", ttl]), table()).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("--ttl {ttl} is out of range; use 1..=604800 seconds")
        );
    }
}

#[test]
fn the_reverse_zone_must_be_under_in_addr_arpa() {
    assert_eq!(in_addr_arpa(), name("in-addr.arpa."));
    assert!(Request::new(args(&["--reverse-zone", "30.20.10.IN-ADDR.ARPA."]), table()).is_ok());
    let err = Request::new(args(&["--reverse-zone", "example.org"]), table()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "--reverse-zone example.org. is not under in-addr.arpa; name the IPv4 reverse zone, e.g. 30.20.10.in-addr.arpa"
    );
}

#[test]
fn a_label_goes_in_the_zone_and_a_full_name_is_taken_as_it_is() {
    let (s, _) = settled(&["--name", "pi.other.example", "--ip", "10.0.0.7"], table()).unwrap();
    assert_eq!(s.fqdn, name("pi.other.example."));
    let err = settled(&["--name", "bad_name", "--ip", "10.0.0.7"], table()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "\"bad_name\" is not a valid host name: use letters, digits and hyphens (not first or last), at most 63; set one with --name NAME"
    );
    let err = settled(&["--name", " ", "--ip", "10.0.0.7"], table()).unwrap_err();
    assert!(matches!(err, SettingsError::NoName), "{err}");
}

#[test]
fn without_a_name_the_hostname_is_used() {
    let no_name = Register {
        name: None,
        ..table()
    };
    let request = Request::new(args(&["--ip", "10.0.0.7"]), no_name).unwrap();
    assert!(request.needs_host());
    let (s, _) = request.settings(server(), Some(&host())).unwrap();
    assert_eq!(s.fqdn, name("doughnut.lab.example.org."));
}

#[test]
fn given_addresses_are_sorted_once_each() {
    let flags = [
        "--ip",
        "2001:db8::1",
        "--ip",
        "10.0.0.9",
        "--ip",
        "10.0.0.7",
        "--ip",
        "10.0.0.9",
    ];
    let (s, _) = settled(&flags, table()).unwrap();
    let want: Vec<IpAddr> = ["10.0.0.7", "10.0.0.9", "2001:db8::1"]
        .iter()
        .map(|a| a.parse().unwrap())
        .collect();
    assert_eq!(s.addresses, want);
}

#[test]
fn without_addresses_the_hosts_are_used_and_remove_needs_none() {
    let request = Request::new(args(&[]), table()).unwrap();
    assert!(request.needs_host());
    let (s, _) = request.settings(server(), Some(&host())).unwrap();
    let want: Vec<IpAddr> = ["10.20.30.40", "2001:db8::40"]
        .iter()
        .map(|a| a.parse().unwrap())
        .collect();
    assert_eq!(s.addresses, want);

    let request = Request::new(args(&["--remove"]), table()).unwrap();
    assert!(!request.needs_host());
    let (s, _) = request.settings(server(), None).unwrap();
    assert!(s.addresses.is_empty() && s.remove);
}

#[test]
fn a_host_without_usable_addresses_says_what_to_give() {
    let bare = Host {
        ipv4: vec![],
        ipv6: vec!["fd00::40".parse().unwrap()],
        ..host()
    };
    let err = Request::new(args(&[]), table())
        .unwrap()
        .settings(server(), Some(&bare))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "eth0 has no IPv4 or global IPv6 address to register; give one with --ip ADDR, or another --interface"
    );
}
