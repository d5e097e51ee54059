//! `daas register dns`: the Pi's name in the lab's DNS, by RFC 2136 dynamic update
//! signed with TSIG: the forward records first (one atomic UPDATE), then the PTRs,
//! then a plain query to show what the server now answers.
//!
//! `plan.rs` decides the changes, `key.rs` reads the TSIG key, `send.rs` talks to the
//! server; this file merges flags, `[register]` and the kernel's view into settings
//! and prints what happened.

mod key;
mod plan;
mod send;

use std::net::{IpAddr, Ipv4Addr, SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::anyhow;
use hickory_proto::rr::{Name, RData, Record, RecordType};

use super::cli::DnsArgs;
use super::{Failure, host, register_table};
use key::TsigKey;
use plan::Update;
use send::{DnsError, Server};

/// TTL when neither --ttl nor `register.ttl` says.
const DEFAULT_TTL: u32 = 300;

/// Everything the update needs, merged and checked.
struct Settings {
    server: Server,
    zone: Name,
    fqdn: Name,
    /// What the name should point at (empty with --remove unless --ip was given).
    addresses: Vec<IpAddr>,
    ttl: u32,
    reverse_zone: Option<Name>,
    ptr: bool,
    remove: bool,
    timeout: Duration,
    key: Option<TsigKey>,
    /// Where the key came from, for messages: a file or `$VAR`.
    key_source: String,
    key_file: Option<PathBuf>,
}

fn usage(message: impl std::fmt::Display) -> Failure {
    Failure::Usage(anyhow!("{message}"))
}

fn failed(error: DnsError) -> Failure {
    Failure::Failed(error.into())
}

/// Sends (or with --dry-run prints) the update.
pub fn run(args: DnsArgs) -> Result<(), Failure> {
    let dry = args.dry_run;
    let settings = settings(args)?;
    if dry {
        print!("{}", dry_run(&settings));
        return Ok(());
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::Failed(anyhow!("starting the async runtime: {e}")))?;
    runtime.block_on(apply(&settings))
}

fn settings(args: DnsArgs) -> Result<Settings, Failure> {
    let dry_run = args.dry_run;
    let table = register_table(args.common.config.as_deref())?;
    let server_text = args.server.or(table.server).ok_or_else(|| {
        usage("no DNS server to update: give --server HOST[:PORT], or `server` in the config's [register] table")
    })?;
    let server = resolve_server(&server_text, Duration::from_secs(args.timeout_s.max(1)))?;
    let zone_text = args.zone.or(table.zone).ok_or_else(|| {
        usage("no zone: give --zone ZONE (e.g. lab.example.org), or `zone` in [register]")
    })?;
    let zone = dns_name(&zone_text, "--zone")?;
    let ttl = args.ttl.or(table.ttl).unwrap_or(DEFAULT_TTL);
    if ttl == 0 || ttl > 7 * 86_400 {
        return Err(usage(format!(
            "--ttl {ttl} is out of range; use 1..=604800 seconds"
        )));
    }
    let reverse_zone = args
        .reverse_zone
        .or(table.reverse_zone)
        .map(|z| dns_name(&z, "--reverse-zone"))
        .transpose()?;
    if let Some(z) = &reverse_zone {
        let arpa = Name::from_ascii("in-addr.arpa.").map_err(usage)?;
        if !arpa.zone_of(z) {
            return Err(usage(format!(
                "--reverse-zone {z} is not under in-addr.arpa; name the IPv4 reverse zone, e.g. 30.20.10.in-addr.arpa"
            )));
        }
    }
    let interface = args.common.interface.or(table.interface);
    // The kernel is asked only for what the flags and config leave open.
    let need_host =
        args.name.is_none() && table.name.is_none() || args.ip.is_empty() && !args.remove;
    let host = if need_host {
        Some(host::read(interface.as_deref()).map_err(|e| Failure::Usage(e.into()))?)
    } else {
        None
    };
    let name = match args.name.or(table.name) {
        Some(name) => name,
        None => host
            .as_ref()
            .map(|h| h.hostname.clone())
            .unwrap_or_default(),
    };
    let fqdn = full_name(&name, &zone)?;
    let addresses = if !args.ip.is_empty() || args.remove {
        let mut given = args.ip;
        given.sort();
        given.dedup();
        given
    } else {
        let host = host
            .as_ref()
            .ok_or_else(|| usage("no address to register; give --ip ADDR"))?;
        let mut addresses: Vec<IpAddr> = host
            .ipv4
            .first()
            .map(|a| IpAddr::V4(*a))
            .into_iter()
            .collect();
        addresses.extend(host.global_ipv6().map(IpAddr::V6));
        if addresses.is_empty() {
            return Err(usage(format!(
                "{} has no IPv4 or global IPv6 address to register; give one with --ip ADDR, or another --interface",
                host.interface
            )));
        }
        addresses
    };
    // --key-secret-env wins over a `key_file` in the config.
    let key_file = match args.key_secret_env {
        Some(_) => None,
        None => args.key.or(table.key_file),
    };
    let (key, key_source) = match (&key_file, args.key_secret_env) {
        (_, Some(var)) => (
            Some(
                TsigKey::from_env(&var, args.key_name.as_deref(), &args.key_algorithm)
                    .map_err(|e| Failure::Usage(e.into()))?,
            ),
            format!("${var}"),
        ),
        (Some(path), None) => (
            Some(
                TsigKey::from_file(path, args.key_name.as_deref())
                    .map_err(|e| Failure::Usage(e.into()))?,
            ),
            path.display().to_string(),
        ),
        (None, None) if dry_run => (None, String::new()),
        (None, None) => {
            return Err(usage(
                "no TSIG key: give --key FILE (as `tsig-keygen -a hmac-sha256 NAME` writes it), --key-secret-env VAR with --key-name, or `key_file` in [register]",
            ));
        }
    };
    Ok(Settings {
        server,
        zone,
        fqdn,
        addresses,
        ttl,
        reverse_zone,
        ptr: !args.no_ptr,
        remove: args.remove,
        timeout: Duration::from_secs(args.timeout_s.max(1)),
        key,
        key_source,
        key_file,
    })
}

/// `HOST`, `HOST:PORT`, `[V6]:PORT` or a bare IPv6 address; port 53 by default.
fn resolve_server(text: &str, timeout: Duration) -> Result<Server, Failure> {
    let with_port = if text.parse::<IpAddr>().is_ok_and(|ip| ip.is_ipv6()) {
        format!("[{text}]:53")
    } else if text
        .rsplit_once(':')
        .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
    {
        text.to_string()
    } else {
        format!("{text}:53")
    };
    // getaddrinfo cannot be cancelled, so it runs on a thread that is left behind if
    // the system resolver does not answer within the timeout (the command then ends).
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(with_port.to_socket_addrs().map(Iterator::collect::<Vec<_>>));
    });
    let mut addrs: Vec<SocketAddr> = match rx.recv_timeout(timeout) {
        Ok(Ok(addrs)) => addrs,
        Ok(Err(e)) => {
            return Err(usage(format!(
                "cannot resolve the DNS server {text}: {e}; give its address with --server"
            )));
        }
        Err(_) => {
            return Err(Failure::Failed(anyhow!(
                "the name of the DNS server {text} did not resolve within {} s; check the Pi's resolver, or give the server's address with --server",
                timeout.as_secs()
            )));
        }
    };
    // IPv4 first: every lab DNS server listens there; not all on IPv6.
    addrs.sort_by_key(|a| a.is_ipv6());
    let addr: SocketAddr = addrs.into_iter().next().ok_or_else(|| {
        usage(format!(
            "the DNS server {text} has no address; give its address with --server"
        ))
    })?;
    Ok(Server {
        shown: addr.to_string(),
        addr,
    })
}

fn dns_name(text: &str, flag: &str) -> Result<Name, Failure> {
    let mut name = Name::from_ascii(text.trim())
        .map_err(|e| usage(format!("{flag} {text} is not a valid DNS name: {e}")))?;
    name.set_fqdn(true);
    Ok(name)
}

/// A single label goes in `zone`; a name with dots is taken as the full name.
fn full_name(name: &str, zone: &Name) -> Result<Name, Failure> {
    let name = name.trim();
    if name.is_empty() {
        return Err(usage(
            "no name to register: give --name NAME, or `name` in [register]",
        ));
    }
    if name.contains('.') {
        return dns_name(name, "--name");
    }
    if !super::is_valid_label(name) {
        return Err(usage(format!(
            "\"{name}\" is not a valid host name: use letters, digits and hyphens (not first or last), at most 63; set one with --name NAME"
        )));
    }
    Name::from_ascii(name)
        .and_then(|n| n.append_domain(zone))
        .map_err(|e| usage(format!("{name}.{zone} is not a valid DNS name: {e}")))
}

fn ipv4s(addresses: &[IpAddr]) -> Vec<Ipv4Addr> {
    addresses
        .iter()
        .filter_map(|a| match a {
            IpAddr::V4(v4) => Some(*v4),
            IpAddr::V6(_) => None,
        })
        .collect()
}

/// The updates, without the PTR clean-up that needs the server's current answers.
fn updates(s: &Settings, before: &[Ipv4Addr]) -> Vec<Update> {
    let mut updates = vec![if s.remove {
        plan::forward_remove(&s.zone, &s.fqdn)
    } else {
        plan::forward_set(&s.zone, &s.fqdn, &s.addresses, s.ttl)
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
        updates.extend(plan::reverse(
            &s.fqdn,
            &now,
            &before,
            s.ttl,
            s.reverse_zone.as_ref(),
        ));
    }
    updates
}

/// `--dry-run`: the updates in nsupdate syntax, sending nothing.
fn dry_run(s: &Settings) -> String {
    let mut out = String::from("; daas register dns --dry-run: nothing was sent\n");
    match (&s.key, &s.key_file) {
        (Some(key), Some(path)) => out.push_str(&format!(
            "; signed with TSIG key \"{}\" ({}); to send it by hand: nsupdate -k {} < THIS-OUTPUT\n",
            key.name,
            key.algorithm.name(),
            path.display()
        )),
        (Some(key), None) => out.push_str(&format!(
            "; signed with TSIG key \"{}\" ({}) from {}\n",
            key.name,
            key.algorithm.name(),
            s.key_source
        )),
        (None, _) => out.push_str("; no TSIG key given: a real run needs --key FILE\n"),
    }
    if s.ptr {
        out.push_str("; a real run also deletes this name's PTRs at addresses it had before\n");
    }
    out.push_str(&format!(
        "server {} {}\n",
        s.server.addr.ip(),
        s.server.addr.port()
    ));
    for update in updates(s, &[]) {
        out.push_str(&update.to_nsupdate());
    }
    out
}

/// Queries the name's current IPv4 addresses, sends the updates in order, then
/// shows what the server answers.
async fn apply(s: &Settings) -> Result<(), Failure> {
    let Some(key) = &s.key else {
        return Err(usage("no TSIG key"));
    };
    // The name's addresses now, whose PTRs may have to go. Not asked for a name
    // outside the zone: the server would refuse the query, and the update's NOTZONE
    // says what is wrong more plainly.
    let before: Vec<Ipv4Addr> = if s.ptr && s.zone.zone_of(&s.fqdn) {
        send::query(&s.server, &s.fqdn, RecordType::A, s.timeout)
            .await
            .map_err(failed)?
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
        updates(s, &before).into_iter().partition(|u| {
            !s.remove
                && u.ops
                    .iter()
                    .all(|op| matches!(op, plan::Op::DeleteRecord { .. }))
        });
    for update in updates {
        send::update(&s.server, &update, key, s.timeout)
            .await
            .map_err(failed)?;
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
async fn verify(s: &Settings) -> Result<(), Failure> {
    let mut shown = Vec::new();
    let mut wrong = Vec::new();
    for rtype in [RecordType::A, RecordType::AAAA] {
        let records = send::query(&s.server, &s.fqdn, rtype, s.timeout)
            .await
            .map_err(failed)?;
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
        for address in ipv4s(&s.addresses) {
            let name = plan::reverse_name(address);
            let records = send::query(&s.server, &name, RecordType::PTR, s.timeout)
                .await
                .map_err(failed)?;
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
        Err(Failure::Failed(anyhow!(
            "the server accepted the update but does not answer as expected (is {} the zone's primary?):\n  {}",
            s.server.shown,
            wrong.join("\n  ")
        )))
    }
}

fn address_of(record: &Record) -> Option<IpAddr> {
    match &record.data {
        RData::A(a) => Some(IpAddr::V4(a.0)),
        RData::AAAA(a) => Some(IpAddr::V6(a.0)),
        _ => None,
    }
}
