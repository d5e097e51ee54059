//! The reservation for dnsmasq: a `dhcp-host` line for the lease and a
//! `host-record` line, since dnsmasq is often the lab's DNS server too.

use super::Reservation;
use crate::register::host::mac_text;

/// The lease that never expires, and a DNS record so the name resolves before the
/// Pi ever asks for its lease; each line ends in a newline.
pub(super) fn render(r: &Reservation) -> String {
    let mac = mac_text(&r.mac);
    let mut text = format!("dhcp-host={mac},{},{},infinite\n", r.ip, r.hostname);
    match &r.fqdn {
        Some(fqdn) => text.push_str(&format!("host-record={fqdn},{},{}\n", r.hostname, r.ip)),
        None => text.push_str(&format!("host-record={},{}\n", r.hostname, r.ip)),
    }
    text
}

#[cfg(test)]
mod tests {
    use super::super::example;
    use super::*;

    #[test]
    fn dnsmasq_has_a_host_record_with_the_full_name() {
        assert_eq!(
            render(&example(Some("doughnut.lab.example.org"))),
            "dhcp-host=02:00:5e:10:ab:01,10.20.30.40,doughnut,infinite\n\
             host-record=doughnut.lab.example.org,doughnut,10.20.30.40\n"
        );
    }

    #[test]
    fn dnsmasq_without_a_domain_records_the_short_name() {
        let text = render(&example(None));
        assert!(
            text.ends_with("host-record=doughnut,10.20.30.40\n"),
            "{text}"
        );
    }
}
