//! What `register kea` does to Kea's configuration, decided from it alone: whether
//! this Pi's reservation is new, already there or in conflict with another entry,
//! and, when new, appending it to its subnet. No I/O, so every case is a unit test
//! on a literal configuration.

use std::net::Ipv4Addr;

use serde_json::Value;

use super::KeaError;
use super::dhcp4::{known_subnets, reservations, subnet_id, subnets, subnets_mut};
use super::notation::{parse_mac, parse_prefix, within};
use crate::register::dhcp::{self, Reservation};

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
            list.push(dhcp::kea::entry(r));
            Ok(())
        }
        None => Err(KeaError::Unexpected {
            what: "`reservations` list in the subnet",
        }),
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
}
