//! The reservation for Kea DHCPv4: one entry of a subnet's `reservations` list, as
//! JSON. `register dhcp --format kea` prints it to paste; `register kea` adds the
//! very same entry through Kea's control agent.

use super::Reservation;
use crate::register::host::mac_text;

/// A Kea DHCPv4 `reservations` entry, as `register kea` adds it.
pub fn entry(r: &Reservation) -> serde_json::Value {
    serde_json::json!({
        "hw-address": mac_text(&r.mac),
        "ip-address": r.ip.to_string(),
        "hostname": r.hostname,
    })
}

/// [`entry`] pretty-printed with its keys in Kea's documentation order (a
/// `serde_json` map would sort them), ending in a newline.
pub(super) fn render(r: &Reservation) -> String {
    let quote = |s: &str| serde_json::Value::from(s).to_string();
    format!(
        "{{\n  \"hw-address\": {},\n  \"ip-address\": {},\n  \"hostname\": {}\n}}\n",
        quote(&mac_text(&r.mac)),
        quote(&r.ip.to_string()),
        quote(&r.hostname),
    )
}

#[cfg(test)]
mod tests {
    use super::super::example;
    use super::*;

    #[test]
    fn kea_text_is_the_kea_entry() {
        let text = render(&example(None));
        assert!(text.starts_with("{\n  \"hw-address\": \"02:00:5e:10:ab:01\",\n"));
        let parsed: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(parsed, entry(&example(None)));
        assert_eq!(parsed["ip-address"], "10.20.30.40");
        assert_eq!(parsed["hostname"], "doughnut");
    }
}
