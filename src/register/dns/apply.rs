//! A real run of `register dns`: ask the server what the name points at now (whose
//! PTRs may have to go), send the updates in order, then ask again and check that
//! the server answers what was asked for. It exists apart from the plan and the
//! wire (`plan.rs`, `send.rs`) because the order and what may fail belong here: an
//! old PTR that cannot be deleted only warns.

use std::net::{IpAddr, Ipv4Addr};

use hickory_proto::rr::{RData, Record, RecordType};

use super::DnsCommandError;
use super::key::TsigKey;
use super::plan::{self, Update};
use super::send;
use super::settings::Settings;

/// Queries the name's current IPv4 addresses, sends the updates in order, then
/// shows what the server answers.
pub(super) async fn apply(s: &Settings, key: &TsigKey) -> Result<(), DnsCommandError> {
    // The name's addresses now, whose PTRs may have to go. Not asked for a name
    // outside the zone: the server would refuse the query, and the update's NOTZONE
    // says what is wrong more plainly.
    let before: Vec<Ipv4Addr> = if s.ptr && s.zone.zone_of(&s.fqdn) {
        send::query(&s.server, &s.fqdn, RecordType::A, s.timeout)
            .await?
            .iter()
            .filter_map(|r| match &r.data {
                RData::A(a) => Some(a.0),
                _ => None,
            })
            .collect()
    } else {
        Vec::new()
    };
    println!(
        "updating {} on {} with key \"{}\" ({})",
        s.zone,
        s.server.shown,
        key.name,
        key.algorithm.name()
    );
    // Updates that only delete the PTRs of addresses the name had before go last,
    // and may fail: that old address's reverse zone may not be this server's or
    // this key's to change, which must not stop the registration.
    let (cleanups, updates): (Vec<Update>, Vec<Update>) =
        plan::updates(s, &before).into_iter().partition(|u| {
            !s.remove
                && u.ops
                    .iter()
                    .all(|op| matches!(op, plan::Op::DeleteRecord { .. }))
        });
    for update in updates {
        send::update(&s.server, &update, key, s.timeout).await?;
        println!("  updated zone {}", update.zone);
    }
    for update in cleanups {
        match send::update(&s.server, &update, key, s.timeout).await {
            Ok(()) => println!("  updated zone {} (old PTR deleted)", update.zone),
            Err(e) => eprintln!(
                "warning: could not delete this name's old PTR in zone {}: {e}\n  (delete it by hand if it is still there)",
                update.zone
            ),
        }
    }
    verify(s).await
}

/// Asks the server what it now answers and checks it is what was asked for.
async fn verify(s: &Settings) -> Result<(), DnsCommandError> {
    let mut shown = Vec::new();
    let mut wrong = Vec::new();
    for rtype in [RecordType::A, RecordType::AAAA] {
        let records = send::query(&s.server, &s.fqdn, rtype, s.timeout).await?;
        let mut got: Vec<IpAddr> = records.iter().filter_map(address_of).collect();
        let mut want: Vec<IpAddr> = if s.remove {
            Vec::new()
        } else {
            s.addresses
                .iter()
                .filter(|a| a.is_ipv4() == (rtype == RecordType::A))
                .copied()
                .collect()
        };
        got.sort();
        want.sort();
        if got != want {
            wrong.push(format!(
                "{} {rtype}: expected {want:?}, the server answers {got:?}",
                s.fqdn
            ));
        }
        shown.extend(records.iter().map(Record::to_string));
    }
    if s.ptr {
        for address in plan::ipv4s(&s.addresses) {
            let name = plan::reverse_name(address);
            let records = send::query(&s.server, &name, RecordType::PTR, s.timeout).await?;
            let points_here = records
                .iter()
                .any(|r| matches!(&r.data, RData::PTR(p) if p.0 == s.fqdn));
            if points_here == s.remove {
                wrong.push(format!(
                    "{name} PTR: the server {} {}",
                    if s.remove {
                        "still points it at"
                    } else {
                        "does not point it at"
                    },
                    s.fqdn
                ));
            }
            shown.extend(records.iter().map(Record::to_string));
        }
    }
    if shown.is_empty() {
        println!("the server now answers nothing for {}", s.fqdn);
    } else {
        println!("the server now answers:");
        for line in &shown {
            println!("  {line}");
        }
    }
    if wrong.is_empty() {
        Ok(())
    } else {
        Err(DnsCommandError::NotAsExpected {
            server: s.server.shown.clone(),
            mismatches: wrong,
        })
    }
}

fn address_of(record: &Record) -> Option<IpAddr> {
    match &record.data {
        RData::A(a) => Some(IpAddr::V4(a.0)),
        RData::AAAA(a) => Some(IpAddr::V6(a.0)),
        _ => None,
    }
}
