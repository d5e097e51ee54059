//! Kea's `Dhcp4` configuration as `config-get` returns it, read and changed as
//! plain JSON: find a subnet by `id` (also inside `shared-networks`), decide whether
//! this Pi's reservation is new, already there or in conflict, and append it. No
//! I/O, so every case is a unit test on a literal configuration.

use std::net::Ipv4Addr;

use serde_json::Value;

use super::KeaError;
use crate::register::dhcp::{self, Reservation};

/// The `Dhcp4` object of a `config-get` answer, without what `config-set` rejects:
/// newer Kea versions add a `hash` of the configuration, beside or inside `Dhcp4`.
pub(super) fn dhcp4_of(arguments: Value) -> Result<Value, KeaError> {
    let Value::Object(mut top) = arguments else {
        return Err(KeaError::Unexpected { what: "arguments" });
    };
    let mut dhcp4 = top
        .remove("Dhcp4")
        .filter(Value::is_object)
        .ok_or(KeaError::Unexpected {
            what: "`Dhcp4` object",
        })?;
    if let Some(object) = dhcp4.as_object_mut() {
        object.remove("hash");
    }
    Ok(dhcp4)
}

/// What to do, decided from the configuration alone.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Plan {
    Already { subnet: String },
    Add { subnet: String },
}

/// Finds the subnet and checks its reservations against `r`.
pub(super) fn plan(dhcp4: &Value, id: u32, r: &Reservation) -> Result<Plan, KeaError> {
    let subnet = subnets(dhcp4)
        .find(|s| subnet_id(s) == Some(id))
        .ok_or_else(|| KeaError::NoSubnet {
            id,
            known: known_subnets(dhcp4),
        })?;
    let prefix = subnet
        .get("subnet")
        .and_then(Value::as_str)
        .unwrap_or("?")
        .to_owned();
    match parse_prefix(&prefix) {
        Some((net, len)) if within(r.ip, net, len) => {}
        _ => {
            return Err(KeaError::OutsideSubnet {
                ip: r.ip,
                id,
                subnet: prefix,
            });
        }
    }
    let conflict = |entry: &Value, advice: String| KeaError::Conflict {
        id,
        subnet: prefix.clone(),
        entry: describe(entry),
        advice,
    };
    let mut already = false;
    for entry in reservations(subnet) {
        let same_mac = entry
            .get("hw-address")
            .and_then(Value::as_str)
            .is_some_and(|text| parse_mac(text) == Some(r.mac));
        let entry_ip = entry
            .get("ip-address")
            .and_then(Value::as_str)
            .and_then(|text| text.parse::<Ipv4Addr>().ok());
        let same_ip = entry_ip == Some(r.ip);
        let same_name = entry
            .get("hostname")
            .and_then(Value::as_str)
            .is_some_and(|name| name.eq_ignore_ascii_case(&r.hostname));
        match (same_mac, same_ip) {
            (true, true) if same_name => already = true,
            (true, true) => {
                return Err(conflict(
                    entry,
                    format!(
                        "to keep its host name use --hostname with it, or remove that reservation in Kea to rename the Pi to {}",
                        r.hostname
                    ),
                ));
            }
            (true, false) => {
                let advice = match entry_ip {
                    Some(ip) => format!(
                        "the Pi's MAC is reserved for {ip}: use --ip {ip}, or remove that reservation in Kea first"
                    ),
                    None => "remove that reservation in Kea first, or give it the address by hand"
                        .to_owned(),
                };
                return Err(conflict(entry, advice));
            }
            (false, true) => {
                return Err(conflict(
                    entry,
                    format!(
                        "{} is reserved for another client: pick a free address with --ip ADDR",
                        r.ip
                    ),
                ));
            }
            (false, false) => {}
        }
    }
    Ok(if already {
        Plan::Already { subnet: prefix }
    } else {
        Plan::Add { subnet: prefix }
    })
}

/// Appends `r`'s entry to the reservations of subnet `id`.
pub(super) fn append(dhcp4: &mut Value, id: u32, r: &Reservation) -> Result<(), KeaError> {
    let subnet = subnets_mut(dhcp4)
        .find(|s| subnet_id(s) == Some(id))
        .and_then(Value::as_object_mut)
        .ok_or(KeaError::Unexpected {
            what: "subnet (it vanished)",
        })?;
    let list = subnet
        .entry("reservations")
        .or_insert_with(|| Value::Array(Vec::new()));
    match list.as_array_mut() {
        Some(list) => {
            list.push(dhcp::kea_entry(r));
            Ok(())
        }
        None => Err(KeaError::Unexpected {
            what: "`reservations` list in the subnet",
        }),
    }
}

/// Every `subnet4` entry: top-level ones, then those of shared networks.
fn subnets(dhcp4: &Value) -> impl Iterator<Item = &Value> {
    let top = list(dhcp4, "subnet4");
    let shared = list(dhcp4, "shared-networks").flat_map(|network| list(network, "subnet4"));
    top.chain(shared)
}

/// [`subnets`], mutable.
fn subnets_mut(dhcp4: &mut Value) -> impl Iterator<Item = &mut Value> {
    let Some(object) = dhcp4.as_object_mut() else {
        return Vec::new().into_iter();
    };
    let mut found: Vec<&mut Value> = Vec::new();
    for (key, value) in object.iter_mut() {
        match (key.as_str(), value) {
            ("subnet4", Value::Array(subnets)) => found.extend(subnets.iter_mut()),
            ("shared-networks", Value::Array(networks)) => {
                for network in networks {
                    if let Some(Value::Array(subnets)) = network.get_mut("subnet4") {
                        found.extend(subnets.iter_mut());
                    }
                }
            }
            _ => {}
        }
    }
    found.into_iter()
}

/// The elements of an array member, or none.
fn list<'a>(value: &'a Value, key: &str) -> impl Iterator<Item = &'a Value> {
    value
        .get(key)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

fn reservations(subnet: &Value) -> impl Iterator<Item = &Value> {
    list(subnet, "reservations")
}

fn subnet_id(subnet: &Value) -> Option<u32> {
    subnet
        .get("id")
        .and_then(Value::as_u64)
        .and_then(|id| u32::try_from(id).ok())
}

/// `1 (10.20.30.0/24), 2 (…)`, for an unknown `--subnet-id`.
fn known_subnets(dhcp4: &Value) -> String {
    let known: Vec<String> = subnets(dhcp4)
        .map(|s| {
            let id = subnet_id(s).map_or_else(|| "?".to_owned(), |id| id.to_string());
            let prefix = s.get("subnet").and_then(Value::as_str).unwrap_or("?");
            format!("{id} ({prefix})")
        })
        .collect();
    if known.is_empty() {
        "none".to_owned()
    } else {
        known.join(", ")
    }
}

/// A reservation as people read it: its identifier, address and name.
fn describe(entry: &Value) -> String {
    const KEYS: [&str; 7] = [
        "hw-address",
        "client-id",
        "duid",
        "circuit-id",
        "flex-id",
        "ip-address",
        "hostname",
    ];
    let parts: Vec<String> = KEYS
        .iter()
        .filter_map(|key| {
            entry
                .get(*key)
                .and_then(Value::as_str)
                .filter(|v| !v.is_empty())
                .map(|v| format!("{key} {v}"))
        })
        .collect();
    format!("the reservation {{{}}}", parts.join(", "))
}

/// A MAC as Kea writes it (`aa:bb:…`, also `aa-bb-…` or `aabb.ccdd.eeff`).
fn parse_mac(text: &str) -> Option<[u8; 6]> {
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
fn parse_prefix(text: &str) -> Option<(Ipv4Addr, u8)> {
    let (addr, len) = text.trim().split_once('/')?;
    let len: u8 = len.parse().ok()?;
    if len > 32 {
        return None;
    }
    Some((addr.parse().ok()?, len))
}

fn within(ip: Ipv4Addr, net: Ipv4Addr, len: u8) -> bool {
    let mask = u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
    u32::from(ip) & mask == u32::from(net) & mask
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const MAC: [u8; 6] = [0x02, 0x00, 0x5e, 0x10, 0x00, 0x01];

    fn pi() -> Reservation {
        Reservation {
            mac: MAC,
            ip: Ipv4Addr::new(10, 20, 30, 40),
            hostname: "doughnut".into(),
            fqdn: None,
        }
    }

    fn config(reservations: Value) -> Value {
        json!({
            "subnet4": [{"id": 1, "subnet": "10.20.30.0/24", "reservations": reservations}],
            "shared-networks": [{"name": "lab", "subnet4": [
                {"id": 7, "subnet": "10.99.0.0/16"}
            ]}],
        })
    }

    fn refusal(dhcp4: &Value, id: u32, r: &Reservation) -> String {
        plan(dhcp4, id, r).unwrap_err().to_string()
    }

    #[test]
    fn a_new_reservation_is_added() {
        let other = json!([{"hw-address": "02:00:5e:10:00:99", "ip-address": "10.20.30.50"}]);
        let mut dhcp4 = config(other);
        assert_eq!(
            plan(&dhcp4, 1, &pi()).unwrap(),
            Plan::Add {
                subnet: "10.20.30.0/24".into()
            }
        );
        append(&mut dhcp4, 1, &pi()).unwrap();
        assert_eq!(
            dhcp4["subnet4"][0]["reservations"][1],
            json!({"hw-address": "02:00:5e:10:00:01", "ip-address": "10.20.30.40", "hostname": "doughnut"})
        );
        assert_eq!(
            plan(&dhcp4, 1, &pi()).unwrap(),
            Plan::Already {
                subnet: "10.20.30.0/24".into()
            }
        );
    }

    #[test]
    fn a_subnet_in_a_shared_network_gets_its_first_reservation() {
        let mut dhcp4 = config(json!([]));
        let r = Reservation {
            ip: Ipv4Addr::new(10, 99, 1, 2),
            ..pi()
        };
        assert!(matches!(plan(&dhcp4, 7, &r), Ok(Plan::Add { .. })));
        append(&mut dhcp4, 7, &r).unwrap();
        let added = &dhcp4["shared-networks"][0]["subnet4"][0]["reservations"];
        assert_eq!(added[0]["ip-address"], "10.99.1.2");
    }

    #[test]
    fn the_same_entry_in_another_spelling_is_already_there() {
        let dhcp4 = config(json!([
            {"hw-address": "02-00-5E-10-00-01", "ip-address": "10.20.30.40", "hostname": "Doughnut"}
        ]));
        assert!(matches!(plan(&dhcp4, 1, &pi()), Ok(Plan::Already { .. })));
    }

    #[test]
    fn the_same_address_for_another_mac_is_refused_naming_it() {
        let dhcp4 = config(json!([
            {"hw-address": "02:00:5e:10:00:99", "ip-address": "10.20.30.40", "hostname": "kettle"}
        ]));
        let err = refusal(&dhcp4, 1, &pi());
        assert!(
            err.contains("hw-address 02:00:5e:10:00:99, ip-address 10.20.30.40, hostname kettle"),
            "{err}"
        );
        assert!(err.contains("--ip ADDR"), "{err}");
    }

    #[test]
    fn the_same_address_for_a_client_id_is_refused() {
        let dhcp4 = config(json!([{"client-id": "01:aa:bb", "ip-address": "10.20.30.40"}]));
        assert!(refusal(&dhcp4, 1, &pi()).contains("client-id 01:aa:bb"));
    }

    #[test]
    fn this_mac_with_another_address_is_refused() {
        let dhcp4 =
            config(json!([{"hw-address": "02:00:5e:10:00:01", "ip-address": "10.20.30.41"}]));
        let err = refusal(&dhcp4, 1, &pi());
        assert!(err.contains("use --ip 10.20.30.41"), "{err}");
    }

    #[test]
    fn this_mac_and_address_under_another_name_is_refused() {
        let dhcp4 = config(json!([
            {"hw-address": "02:00:5e:10:00:01", "ip-address": "10.20.30.40", "hostname": "kettle"}
        ]));
        assert!(refusal(&dhcp4, 1, &pi()).contains("hostname kettle"));
    }

    #[test]
    fn an_unknown_subnet_lists_the_known_ones() {
        let err = refusal(&config(json!([])), 3, &pi());
        assert_eq!(
            err,
            "Kea has no subnet with id 3 (its subnets: 1 (10.20.30.0/24), 7 (10.99.0.0/16)); give one of them with --subnet-id N"
        );
    }

    #[test]
    fn an_address_outside_the_subnet_is_refused() {
        let r = Reservation {
            ip: Ipv4Addr::new(10, 20, 31, 1),
            ..pi()
        };
        let err = plan(&config(json!([])), 1, &r).unwrap_err();
        assert!(matches!(err, KeaError::OutsideSubnet { .. }));
        assert!(
            err.to_string()
                .contains("outside Kea subnet 1 (10.20.30.0/24)")
        );
    }

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

    #[test]
    fn the_hash_is_stripped() {
        let got = json!({"Dhcp4": {"subnet4": [], "hash": "abc"}, "hash": "abc"});
        assert_eq!(dhcp4_of(got).unwrap(), json!({"subnet4": []}));
        assert!(dhcp4_of(json!({"Dhcp6": {}})).is_err());
    }
}
