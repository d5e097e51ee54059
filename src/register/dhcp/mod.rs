//! `daas register dhcp`: the reservation for this Pi in the syntax of the lab's DHCP
//! server (ISC dhcpd, dnsmasq, Kea), ready to paste, so the Pi keeps its address
//! and its name resolves.
//!
//! `reservation.rs` merges what goes in it (flags, `[register]`, the kernel) for
//! this command and for `register kea`; `origin.rs` remembers where each value came
//! from, for errors; `isc.rs`, `dnsmasq.rs` and `kea.rs` each write one server's
//! syntax.

mod dnsmasq;
mod isc;
pub mod kea;
mod origin;
mod reservation;

pub use origin::{Origin, Sourced, pick};
pub use reservation::{Reservation, ReservationError, Wanted, build, normalize_domain, resolve};

use super::cli::{DhcpArgs, DhcpFormat};
use super::{Failure, register_table};

/// Prints the reservation.
pub fn run(args: DhcpArgs) -> Result<(), Failure> {
    let table = register_table(args.sources.config.as_deref())?;
    let wanted = Wanted {
        interface: args.sources.interface.or(table.interface),
        ip: args.ip,
        name: pick(args.hostname, "hostname", table.name, "name"),
        domain: pick(args.domain, "domain", table.zone, "zone"),
    };
    let reservation = resolve(wanted)?;
    print!("{}", render(&reservation, args.format));
    Ok(())
}

/// The reservation in one server's syntax, ending in a newline.
pub fn render(reservation: &Reservation, format: DhcpFormat) -> String {
    match format {
        DhcpFormat::Isc => isc::render(reservation),
        DhcpFormat::Dnsmasq => dnsmasq::render(reservation),
        DhcpFormat::Kea => kea::render(reservation),
    }
}

/// The reservation the format tests print.
#[cfg(test)]
fn example(fqdn: Option<&str>) -> Reservation {
    Reservation {
        mac: [0x02, 0x00, 0x5e, 0x10, 0xab, 0x01],
        ip: std::net::Ipv4Addr::new(10, 20, 30, 40),
        hostname: "doughnut".into(),
        fqdn: fqdn.map(str::to_owned),
    }
}
