//! `daas register dhcp` snippets fed to the real servers' own config checkers —
//! `dhcpd -t`, `dnsmasq --test`, `kea-dhcp4 -t` — each also shown rejecting a
//! broken snippet, so a pass means something. `daas` runs in a private network
//! namespace whose `eth0` has a known MAC (see tests/netns).

use std::path::Path;
use std::process::{Command, Output};

use crate::util::netns::{LAB, MAC, NO_ADDRESS, Netns, assert_exit, text};

/// `daas register dhcp --format FORMAT` for doughnut at 10.20.30.40 on eth0, plus
/// `extra`; the snippet it printed.
fn snippet(ns: &Netns, format: &str, extra: &[&str]) -> String {
    let mut args = vec![
        "register",
        "dhcp",
        "--format",
        format,
        "--ip",
        "10.20.30.40",
        "--hostname",
        "doughnut",
        "--interface",
        "eth0",
    ];
    args.extend_from_slice(extra);
    let out = ns.daas(&args);
    assert_exit(&out, 0);
    text(&out.stdout)
}

/// A checker's verdict, with its output for the failure message.
fn check(cmd: &mut Command) -> (bool, String) {
    let out: Output = cmd.output().expect("the checker runs");
    let shown = format!("{}{}", text(&out.stdout), text(&out.stderr));
    (out.status.success(), shown)
}

/// The snippet with its MAC broken, for the checkers to reject.
fn broken(snippet: &str) -> String {
    assert!(snippet.contains(MAC), "{snippet}");
    snippet.replace(MAC, "02:00:5e:10:00:zz")
}

/// `dhcpd -t` on a dhcpd.conf with a subnet declaration and `host_block`.
fn dhcpd_accepts(dir: &Path, host_block: &str) -> (bool, String) {
    let conf = dir.join("dhcpd.conf");
    let leases = dir.join("dhcpd.leases");
    std::fs::write(
        &conf,
        format!("subnet 10.20.30.0 netmask 255.255.255.0 {{\n}}\n\n{host_block}"),
    )
    .expect("write dhcpd.conf");
    std::fs::write(&leases, "").expect("write the lease file");
    check(
        Command::new("dhcpd")
            .args(["-4", "-t", "-cf"])
            .arg(&conf)
            .arg("-lf")
            .arg(&leases)
            .arg("-pf")
            .arg(dir.join("dhcpd.pid")),
    )
}

#[test]
fn isc_host_block_passes_dhcpd() {
    let ns = Netns::new(LAB);
    let block = snippet(&ns, "isc", &[]);
    assert_eq!(
        block,
        format!(
            "host doughnut {{\n  hardware ethernet {MAC};\n  fixed-address 10.20.30.40;\n  option host-name \"doughnut\";\n}}\n"
        )
    );
    let dir = tempfile::tempdir().expect("temp dir");
    let (ok, log) = dhcpd_accepts(dir.path(), &block);
    assert!(ok, "dhcpd -t rejected:\n{block}\n{log}");
    let (ok, log) = dhcpd_accepts(dir.path(), &broken(&block));
    assert!(!ok, "dhcpd -t accepted a bad MAC:\n{log}");
}

/// `dnsmasq --test` on `conf` alone: `--conf-file` replaces /etc/dnsmasq.conf.
fn dnsmasq_accepts(dir: &Path, conf: &str) -> (bool, String) {
    let path = dir.join("dnsmasq.conf");
    std::fs::write(&path, conf).expect("write dnsmasq.conf");
    check(
        Command::new("dnsmasq")
            .arg("--test")
            .arg(format!("--conf-file={}", path.display())),
    )
}

#[test]
fn dnsmasq_lines_pass_dnsmasq() {
    let ns = Netns::new(LAB);
    // A trailing dot on the domain is accepted and not doubled.
    let lines = snippet(&ns, "dnsmasq", &["--domain", "lab.example.org."]);
    assert_eq!(
        lines,
        format!(
            "dhcp-host={MAC},10.20.30.40,doughnut,infinite\n\
             host-record=doughnut.lab.example.org,doughnut,10.20.30.40\n"
        )
    );
    let dir = tempfile::tempdir().expect("temp dir");
    let (ok, log) = dnsmasq_accepts(dir.path(), &lines);
    assert!(ok, "dnsmasq --test rejected:\n{lines}\n{log}");
    let (ok, log) = dnsmasq_accepts(dir.path(), &broken(&lines));
    assert!(!ok, "dnsmasq --test accepted a bad MAC:\n{log}");
}

#[test]
fn dnsmasq_without_a_domain_records_the_short_name() {
    let ns = Netns::new(LAB);
    let lines = snippet(&ns, "dnsmasq", &[]);
    assert!(
        lines.ends_with("host-record=doughnut,10.20.30.40\n"),
        "{lines}"
    );
    let dir = tempfile::tempdir().expect("temp dir");
    let (ok, log) = dnsmasq_accepts(dir.path(), &lines);
    assert!(ok, "dnsmasq --test rejected:\n{lines}\n{log}");
}

/// `kea-dhcp4 -t` on a whole config whose subnet holds `entry` as its reservation.
fn kea_accepts(dir: &Path, entry: &str) -> (bool, String) {
    let conf = dir.join("kea-dhcp4.json");
    let leases = dir.join("leases4.csv");
    std::fs::write(
        &conf,
        format!(
            r#"{{"Dhcp4": {{
  "interfaces-config": {{"interfaces": []}},
  "lease-database": {{"type": "memfile", "persist": false, "name": "{}"}},
  "subnet4": [{{"id": 1, "subnet": "10.20.30.0/24", "reservations": [{entry}]}}]
}}}}"#,
            leases.display()
        ),
    )
    .expect("write the Kea config");
    let mut cmd = Command::new("kea-dhcp4");
    cmd.arg("-t").arg(&conf);
    // Kea writes lock and pid files, and newer builds allow data files only in their
    // own directories unless told otherwise: keep all of it in the temp dir.
    for var in [
        "KEA_PIDFILE_DIR",
        "KEA_LOCKFILE_DIR",
        "KEA_DHCP_DATA_DIR",
        "KEA_LOG_FILE_DIR",
        "KEA_CONTROL_SOCKET_DIR",
    ] {
        cmd.env(var, dir);
    }
    check(&mut cmd)
}

#[test]
fn kea_entry_passes_kea_dhcp4() {
    let ns = Netns::new(LAB);
    let entry = snippet(&ns, "kea", &[]);
    let parsed: serde_json::Value = serde_json::from_str(&entry).expect("the entry is JSON");
    assert_eq!(
        parsed,
        serde_json::json!({"hw-address": MAC, "ip-address": "10.20.30.40", "hostname": "doughnut"})
    );
    let dir = tempfile::tempdir().expect("temp dir");
    let (ok, log) = kea_accepts(dir.path(), &entry);
    assert!(ok, "kea-dhcp4 -t rejected:\n{entry}\n{log}");
    let (ok, log) = kea_accepts(dir.path(), &broken(&entry));
    assert!(!ok, "kea-dhcp4 -t accepted a bad MAC:\n{log}");
}

#[test]
fn the_interfaces_address_is_the_default() {
    let ns = Netns::new(LAB);
    let out = ns.daas(&[
        "register",
        "dhcp",
        "--format",
        "dnsmasq",
        "--hostname",
        "pi",
    ]);
    assert_exit(&out, 0);
    assert_eq!(
        text(&out.stdout),
        format!("dhcp-host={MAC},10.20.30.40,pi,infinite\nhost-record=pi,10.20.30.40\n")
    );
}

#[test]
fn the_register_table_fills_in_name_domain_and_interface() {
    let ns = Netns::new(LAB);
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("config.toml");
    let example =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/config.example.toml"))
            .expect("config.example.toml");
    std::fs::write(
        &config,
        format!("{example}\n[register]\nname = \"kitchen-pi\"\nzone = \"lab.example.org\"\ninterface = \"eth0\"\n"),
    )
    .expect("write the config");
    let config = config.to_str().expect("UTF-8 temp path");
    let out = ns.daas(&[
        "register", "dhcp", "--format", "dnsmasq", "--config", config,
    ]);
    assert_exit(&out, 0);
    assert!(
        text(&out.stdout)
            .contains("host-record=kitchen-pi.lab.example.org,kitchen-pi,10.20.30.40\n"),
        "{}",
        text(&out.stdout)
    );
    // A flag wins over the table.
    let out = ns.daas(&[
        "register",
        "dhcp",
        "--format",
        "isc",
        "--config",
        config,
        "--hostname",
        "other",
    ]);
    assert_exit(&out, 0);
    assert!(
        text(&out.stdout).starts_with("host other {"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn an_interface_without_ipv4_needs_ip() {
    let ns = Netns::new(NO_ADDRESS);
    let out = ns.daas(&["register", "dhcp", "--format", "isc", "--interface", "eth0"]);
    assert_exit(&out, 2);
    assert_eq!(
        text(&out.stderr),
        "daas: eth0 has no IPv4 address; give one with --ip ADDR\n"
    );
    let out = ns.daas(&[
        "register",
        "dhcp",
        "--format",
        "isc",
        "--interface",
        "eth0",
        "--ip",
        "10.20.30.40",
        "--hostname",
        "pi",
    ]);
    assert_exit(&out, 0);
}

#[test]
fn loopback_has_no_mac_to_reserve() {
    let ns = Netns::new(LAB);
    let out = ns.daas(&["register", "dhcp", "--format", "isc", "--interface", "lo"]);
    assert_exit(&out, 2);
    let stderr = text(&out.stderr);
    assert!(stderr.contains("lo has no MAC address"), "{stderr}");
    assert!(stderr.contains("--interface IF"), "{stderr}");
}

#[test]
fn bad_names_are_usage_errors_saying_what_is_allowed() {
    let ns = Netns::new(LAB);
    let out = ns.daas(&[
        "register",
        "dhcp",
        "--format",
        "isc",
        "--hostname",
        "dough_nut",
    ]);
    assert_exit(&out, 2);
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("--hostname `dough_nut` is not a valid host name: use 1 to 63 letters, digits and hyphens"),
        "{stderr}"
    );
    let out = ns.daas(&[
        "register",
        "dhcp",
        "--format",
        "dnsmasq",
        "--hostname",
        "pi",
        "--domain",
        "lab..org",
    ]);
    assert_exit(&out, 2);
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("--domain `lab..org` is not a valid domain name"),
        "{stderr}"
    );
}
