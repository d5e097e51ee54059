//! The reservation for ISC dhcpd: a `host` block for dhcpd.conf (outside or inside a
//! `subnet`), the syntax of the DHCP server many labs still run.

use super::Reservation;
use crate::register::host::mac_text;

/// An ISC dhcpd `host` block, ending in a newline.
pub(super) fn render(r: &Reservation) -> String {
    format!(
        "host {name} {{\n  hardware ethernet {mac};\n  fixed-address {ip};\n  option host-name \"{name}\";\n}}\n",
        name = r.hostname,
        mac = mac_text(&r.mac),
        ip = r.ip,
    )
}

#[cfg(test)]
mod tests {
    use super::super::example;
    use super::*;

    #[test]
    fn isc_is_a_host_block() {
        assert_eq!(
            render(&example(None)),
            "host doughnut {\n  hardware ethernet 02:00:5e:10:ab:01;\n  fixed-address 10.20.30.40;\n  option host-name \"doughnut\";\n}\n"
        );
    }
}
