//! What `register dns` changes, as RFC 2136 updates: one per zone, each a list of
//! operations, before any of it touches the network. The same plan is printed in
//! nsupdate syntax by `--dry-run` and turned into a DNS message to send.
//!
//! Forward: the name's A and AAAA records become exactly the Pi's addresses, in one
//! UPDATE (delete each RRset, add the new records), so no reader ever sees the name
//! without an address. Reverse (IPv4 only; most labs do not delegate ip6.arpa per
//! subnet): each address's PTR RRset is replaced by one pointing at the name, and the
//! PTRs of addresses the name had before are deleted — but only where they still
//! point at this name, so another host's PTR is never touched.
//!
//! [`updates`] is the whole plan for a run's settings; the other functions are its
//! parts.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::net::{IpAddr, Ipv4Addr};

use hickory_proto::op::update_message::UpdateMessage;
use hickory_proto::op::{Message, OpCode, Query};
use hickory_proto::rr::rdata::{A, AAAA, PTR};
use hickory_proto::rr::{DNSClass, Name, RData, Record, RecordType};

use super::settings::Settings;

/// One change inside an UPDATE.
#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    /// Delete the RRset of this type at the name (RFC 2136 2.5.2).
    DeleteRrset { name: Name, rtype: RecordType },
    /// Delete this one record (2.5.4).
    DeleteRecord { name: Name, data: RData },
    /// Add a record (2.5.1).
    Add { name: Name, ttl: u32, data: RData },
}

/// One UPDATE message: a zone and its changes, applied by the server all or nothing.
#[derive(Debug, Clone, PartialEq)]
pub struct Update {
    pub zone: Name,
    pub ops: Vec<Op>,
}

/// The updates for `s`, given the IPv4 addresses the name had `before` (whose PTRs
/// go). The forward update comes first.
pub fn updates(s: &Settings, before: &[Ipv4Addr]) -> Vec<Update> {
    let mut updates = vec![if s.remove {
        forward_remove(&s.zone, &s.fqdn)
    } else {
        forward_set(&s.zone, &s.fqdn, &s.addresses, s.ttl)
    }];
    if s.ptr {
        let (now, before) = if s.remove {
            let mut all = ipv4s(&s.addresses);
            all.extend_from_slice(before);
            all.sort();
            all.dedup();
            (Vec::new(), all)
        } else {
            (ipv4s(&s.addresses), before.to_vec())
        };
        updates.extend(reverse(
            &s.fqdn,
            &now,
            &before,
            s.ttl,
            s.reverse_zone.as_ref(),
        ));
    }
    updates
}

/// The IPv4 addresses among `addresses`: the only ones with PTRs here.
pub fn ipv4s(addresses: &[IpAddr]) -> Vec<Ipv4Addr> {
    addresses
        .iter()
        .filter_map(|a| match a {
            IpAddr::V4(v4) => Some(*v4),
            IpAddr::V6(_) => None,
        })
        .collect()
}

/// The forward update that points `fqdn` at exactly `addresses`.
pub fn forward_set(zone: &Name, fqdn: &Name, addresses: &[IpAddr], ttl: u32) -> Update {
    let mut ops = Vec::new();
    for rtype in [RecordType::A, RecordType::AAAA] {
        ops.push(Op::DeleteRrset {
            name: fqdn.clone(),
            rtype,
        });
        for address in addresses.iter().filter(|a| record_type(**a) == rtype) {
            ops.push(Op::Add {
                name: fqdn.clone(),
                ttl,
                data: address_rdata(*address),
            });
        }
    }
    Update {
        zone: zone.clone(),
        ops,
    }
}

/// The forward update that takes `fqdn`'s addresses away.
pub fn forward_remove(zone: &Name, fqdn: &Name) -> Update {
    Update {
        zone: zone.clone(),
        ops: [RecordType::A, RecordType::AAAA]
            .into_iter()
            .map(|rtype| Op::DeleteRrset {
                name: fqdn.clone(),
                rtype,
            })
            .collect(),
    }
}

/// The reverse updates: PTRs for `now` (replaced, pointing at `fqdn`), and deletion
/// of this name's PTR at each address in `before` that is not in `now`. One update
/// per reverse zone, in address order.
pub fn reverse(
    fqdn: &Name,
    now: &[Ipv4Addr],
    before: &[Ipv4Addr],
    ttl: u32,
    zone_override: Option<&Name>,
) -> Vec<Update> {
    let mut by_zone: BTreeMap<Name, Vec<Op>> = BTreeMap::new();
    let ptr = || RData::PTR(PTR(fqdn.clone()));
    for address in before.iter().filter(|a| !now.contains(a)) {
        by_zone
            .entry(reverse_zone(*address, zone_override))
            .or_default()
            .push(Op::DeleteRecord {
                name: reverse_name(*address),
                data: ptr(),
            });
    }
    for address in now {
        let name = reverse_name(*address);
        let ops = by_zone
            .entry(reverse_zone(*address, zone_override))
            .or_default();
        ops.push(Op::DeleteRrset {
            name: name.clone(),
            rtype: RecordType::PTR,
        });
        ops.push(Op::Add {
            name,
            ttl,
            data: ptr(),
        });
    }
    by_zone
        .into_iter()
        .map(|(zone, ops)| Update { zone, ops })
        .collect()
}

/// `40.30.20.10.in-addr.arpa.` for 10.20.30.40.
pub fn reverse_name(address: Ipv4Addr) -> Name {
    let mut name = Name::from(address);
    name.set_fqdn(true);
    name
}

/// The zone the address's PTR lives in: `zone_override` when the PTR name is inside
/// it, else the address's /24 (`30.20.10.in-addr.arpa.`).
pub fn reverse_zone(address: Ipv4Addr, zone_override: Option<&Name>) -> Name {
    let name = reverse_name(address);
    match zone_override {
        Some(zone) if zone.zone_of(&name) => zone.clone(),
        // in-addr.arpa plus three octets: drop the host octet.
        _ => name.trim_to(5),
    }
}

fn record_type(address: IpAddr) -> RecordType {
    match address {
        IpAddr::V4(_) => RecordType::A,
        IpAddr::V6(_) => RecordType::AAAA,
    }
}

fn address_rdata(address: IpAddr) -> RData {
    match address {
        IpAddr::V4(v4) => RData::A(A(v4)),
        IpAddr::V6(v6) => RData::AAAA(AAAA(v6)),
    }
}

impl Update {
    /// The UPDATE message (unsigned).
    pub fn to_message(&self) -> Message {
        let mut zone = Query::new();
        zone.set_name(self.zone.clone())
            .set_query_class(DNSClass::IN)
            .set_query_type(RecordType::SOA);
        let mut message = Message::query();
        message.metadata.op_code = OpCode::Update;
        message.metadata.recursion_desired = false;
        message.add_zone(zone);
        for op in &self.ops {
            message.add_update(op.to_record());
        }
        message
    }

    /// The update in nsupdate's syntax, from `zone` to `send`.
    pub fn to_nsupdate(&self) -> String {
        let mut out = format!("zone {}\n", self.zone);
        for op in &self.ops {
            let _ = writeln!(out, "{}", op.to_nsupdate());
        }
        out.push_str("send\n");
        out
    }
}

impl Op {
    /// The name the operation is about.
    pub fn name(&self) -> &Name {
        match self {
            Op::DeleteRrset { name, .. } | Op::DeleteRecord { name, .. } | Op::Add { name, .. } => {
                name
            }
        }
    }

    fn to_record(&self) -> Record {
        match self {
            Op::DeleteRrset { name, rtype } => {
                // RFC 2136 2.5.2: class ANY, TTL 0, no RDATA.
                let mut record = Record::update0(name.clone(), 0, *rtype).into_record_of_rdata();
                record.dns_class = DNSClass::ANY;
                record
            }
            Op::DeleteRecord { name, data } => {
                // 2.5.4: class NONE, TTL 0, the RDATA to match.
                let mut record = Record::from_rdata(name.clone(), 0, data.clone());
                record.dns_class = DNSClass::NONE;
                record
            }
            Op::Add { name, ttl, data } => Record::from_rdata(name.clone(), *ttl, data.clone()),
        }
    }

    fn to_nsupdate(&self) -> String {
        match self {
            Op::DeleteRrset { name, rtype } => format!("update delete {name} {rtype}"),
            Op::DeleteRecord { name, data } => {
                format!("update delete {name} {} {data}", data.record_type())
            }
            Op::Add { name, ttl, data } => {
                format!("update add {name} {ttl} {} {data}", data.record_type())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(s: &str) -> Name {
        Name::from_ascii(s).expect("name")
    }

    #[test]
    fn forward_replaces_both_rrsets_in_one_update() {
        let addresses = [
            "10.20.30.40".parse().unwrap(),
            "2001:db8::40".parse().unwrap(),
        ];
        let update = forward_set(
            &name("lab.example."),
            &name("pi.lab.example."),
            &addresses,
            300,
        );
        assert_eq!(
            update.to_nsupdate(),
            "zone lab.example.\n\
             update delete pi.lab.example. A\n\
             update add pi.lab.example. 300 A 10.20.30.40\n\
             update delete pi.lab.example. AAAA\n\
             update add pi.lab.example. 300 AAAA 2001:db8::40\n\
             send\n"
        );
    }

    #[test]
    fn reverse_zones_are_the_slash_24_unless_overridden() {
        let a: Ipv4Addr = "10.20.30.40".parse().unwrap();
        assert_eq!(reverse_name(a), name("40.30.20.10.in-addr.arpa."));
        assert_eq!(reverse_zone(a, None), name("30.20.10.in-addr.arpa."));
        let wide = name("10.in-addr.arpa.");
        assert_eq!(reverse_zone(a, Some(&wide)), wide);
        // An override that does not contain the address is not used for it.
        let other = name("99.10.in-addr.arpa.");
        assert_eq!(
            reverse_zone(a, Some(&other)),
            name("30.20.10.in-addr.arpa.")
        );
    }

    #[test]
    fn a_moved_address_loses_only_its_own_ptr() {
        let fqdn = name("pi.lab.example.");
        let now = ["10.20.30.41".parse().unwrap()];
        let before = [
            "10.20.30.40".parse().unwrap(),
            "10.20.31.7".parse().unwrap(),
        ];
        let text: String = reverse(&fqdn, &now, &before, 60, None)
            .iter()
            .map(Update::to_nsupdate)
            .collect();
        assert_eq!(
            text,
            "zone 30.20.10.in-addr.arpa.\n\
             update delete 40.30.20.10.in-addr.arpa. PTR pi.lab.example.\n\
             update delete 41.30.20.10.in-addr.arpa. PTR\n\
             update add 41.30.20.10.in-addr.arpa. 60 PTR pi.lab.example.\n\
             send\n\
             zone 31.20.10.in-addr.arpa.\n\
             update delete 7.31.20.10.in-addr.arpa. PTR pi.lab.example.\n\
             send\n"
        );
    }

    #[test]
    fn the_message_has_the_rfc_2136_classes() {
        let update = forward_set(
            &name("lab.example."),
            &name("pi.lab.example."),
            &["10.0.0.1".parse().unwrap()],
            30,
        );
        let message = update.to_message();
        assert_eq!(message.op_code, OpCode::Update);
        let records: Vec<_> = message
            .authorities
            .iter()
            .map(|r| (r.dns_class, r.ttl, r.record_type()))
            .collect();
        assert_eq!(
            records,
            [
                (DNSClass::ANY, 0, RecordType::A),
                (DNSClass::IN, 30, RecordType::A),
                (DNSClass::ANY, 0, RecordType::AAAA),
            ]
        );
    }
}
