//! `daas register show` in private network namespaces with made-up lab networks: the
//! default-route interface and its MAC and addresses come from the kernel as they
//! are, and the errors for a wrong or missing interface tell the user what to type.

use crate::util::netns::{LAB, LOOPBACK_ONLY, MAC, NO_ROUTE, Netns, assert_exit, text};
use serde_json::{Value, json};

/// This machine's hostname, as the kernel has it (the namespace shares it).
fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .expect("hostname")
        .trim()
        .to_owned()
}

fn show_json(ns: &Netns, extra: &[&str]) -> Value {
    let mut args = vec!["register", "show", "--json"];
    args.extend_from_slice(extra);
    let out = ns.daas(&args);
    assert_exit(&out, 0);
    serde_json::from_slice(&out.stdout).expect("register show --json prints JSON")
}

#[test]
fn json_finds_the_default_route_interface_and_its_addresses() {
    let ns = Netns::new(LAB);
    let host = show_json(&ns, &[]);
    let ipv6: Vec<&str> = host["ipv6"]
        .as_array()
        .expect("ipv6 is an array")
        .iter()
        .map(|a| a.as_str().expect("addresses are strings"))
        .collect();
    // Global first although the kernel lists the later-added 2001:db8:1::40 before
    // fd00:1::40; link-local (the kernel's own fe80::, still tentative) last.
    assert_eq!(&ipv6[..2], ["2001:db8:1::40", "fd00:1::40"], "{host}");
    assert!(ipv6[2..].iter().all(|a| a.starts_with("fe80:")), "{host}");
    assert_eq!(
        json!({
            "hostname": host["hostname"],
            "interface": host["interface"],
            "default_route": host["default_route"],
            "mac": host["mac"],
            "ipv4": host["ipv4"],
        }),
        json!({
            "hostname": hostname(),
            "interface": "eth0",
            "default_route": true,
            "mac": MAC,
            "ipv4": ["10.20.30.40", "10.20.30.41"],
        })
    );
}

#[test]
fn text_names_the_interface_and_the_route() {
    let ns = Netns::new(LAB);
    let out = ns.daas(&["register", "show"]);
    assert_exit(&out, 0);
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("interface  eth0 (default route)\n"),
        "{stdout}"
    );
    assert!(stdout.contains(&format!("mac        {MAC}\n")), "{stdout}");
    assert!(
        stdout.contains("ipv4       10.20.30.40, 10.20.30.41\n"),
        "{stdout}"
    );
}

#[test]
fn of_two_default_routes_the_kernels_choice_wins() {
    // eth1's default route has the lower metric, so the kernel routes through it.
    let ns = Netns::new(&format!(
        "{LAB}\
         ip link add eth1 address 02:00:5e:10:00:02 type veth peer name peer1
         ip addr add 10.99.0.7/24 dev eth1
         ip link set peer1 up
         ip link set eth1 up
         ip route del default
         ip route add default via 10.20.30.1 dev eth0 metric 200
         ip route add default via 10.99.0.1 dev eth1 metric 100
        "
    ));
    let host = show_json(&ns, &[]);
    assert_eq!(host["interface"], "eth1", "{host}");
    assert_eq!(host["mac"], "02:00:5e:10:00:02", "{host}");
    let eth0 = show_json(&ns, &["--interface", "eth0"]);
    assert_eq!(eth0["default_route"], true, "{eth0}");
}

#[test]
fn a_named_interface_is_shown_without_a_default_route() {
    let ns = Netns::new(NO_ROUTE);
    let host = show_json(&ns, &["--interface", "eth0"]);
    assert_eq!(host["interface"], "eth0");
    assert_eq!(host["default_route"], false);
    assert_eq!(host["ipv4"], json!(["10.20.30.40"]));
}

#[test]
fn loopback_has_no_mac() {
    let ns = Netns::new(LOOPBACK_ONLY);
    let host = show_json(&ns, &["--interface", "lo"]);
    assert_eq!(host["mac"], Value::Null, "{host}");
    assert_eq!(host["ipv4"], json!(["127.0.0.1"]), "{host}");
}

#[test]
fn an_unknown_interface_exits_2_naming_the_real_ones() {
    let ns = Netns::new(LAB);
    let out = ns.daas(&["register", "show", "--interface", "nosuch"]);
    assert_exit(&out, 2);
    let stderr = text(&out.stderr);
    assert!(stderr.contains("no network interface `nosuch`"), "{stderr}");
    assert!(stderr.contains("interfaces here: "), "{stderr}");
    assert!(stderr.contains("eth0"), "{stderr}");
    assert!(out.stdout.is_empty());
}

#[test]
fn no_default_route_exits_2_with_the_interface_hint() {
    let ns = Netns::new(NO_ROUTE);
    let out = ns.daas(&["register", "show"]);
    assert_exit(&out, 2);
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("no interface has the default route; name one with --interface IF"),
        "{stderr}"
    );
    assert!(stderr.contains("eth0"), "{stderr}");
}

#[test]
fn loopback_only_exits_2_saying_so() {
    let ns = Netns::new(LOOPBACK_ONLY);
    let out = ns.daas(&["register", "show", "--json"]);
    assert_exit(&out, 2);
    let stderr = text(&out.stderr);
    assert!(stderr.contains("--interface IF"), "{stderr}");
    assert!(stderr.contains("none but loopback"), "{stderr}");
}
