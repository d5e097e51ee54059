//! `register show`'s output: the Pi's identity as aligned text for people and as
//! JSON for scripts. It exists apart from [`Host`] so that the text people read and
//! the JSON keys scripts rely on are pinned in one place.

use std::fmt::Write as _;

use super::{Host, mac_text};

impl Host {
    /// `register show`'s text: one aligned line per fact, ending in a newline.
    pub fn to_text(&self) -> String {
        let route = if self.default_route {
            "default route"
        } else {
            "not the default route"
        };
        let mac = self
            .mac
            .as_ref()
            .map_or_else(|| "none".to_owned(), mac_text);
        let mut text = String::new();
        let mut line = |key: &str, value: &str| {
            let _ = writeln!(text, "{key:<10} {value}");
        };
        line("hostname", &self.hostname);
        line("interface", &format!("{} ({route})", self.interface));
        line("mac", &mac);
        line("ipv4", &list(&self.ipv4));
        line("ipv6", &list(&self.ipv6));
        text
    }

    /// `register show --json`: an object with the keys `hostname`, `interface`,
    /// `default_route`, `mac` (a string or null), `ipv4` and `ipv6` (arrays of
    /// strings), pretty-printed, keys in sorted order.
    pub fn to_json(&self) -> String {
        let value = serde_json::json!({
            "hostname": self.hostname,
            "interface": self.interface,
            "default_route": self.default_route,
            "mac": self.mac.as_ref().map(mac_text),
            "ipv4": self.ipv4.iter().map(ToString::to_string).collect::<Vec<_>>(),
            "ipv6": self.ipv6.iter().map(ToString::to_string).collect::<Vec<_>>(),
        });
        // Serialising a `Value` cannot fail; compact text is the (unreachable) fallback.
        serde_json::to_string_pretty(&value).unwrap_or_else(|_| value.to_string())
    }
}

/// Addresses separated by commas, or `none`.
fn list<T: ToString>(addrs: &[T]) -> String {
    if addrs.is_empty() {
        return "none".to_owned();
    }
    addrs
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::super::tests::sample;
    use super::*;

    #[test]
    fn text_is_aligned_with_a_lower_case_mac() {
        assert_eq!(
            sample().to_text(),
            "hostname   doughnut\n\
             interface  eth0 (default route)\n\
             mac        02:00:5e:ab:cd:ef\n\
             ipv4       10.20.30.40, 10.20.30.41\n\
             ipv6       2001:db8::40\n"
        );
    }

    #[test]
    fn text_says_none_for_what_is_missing() {
        let host = Host {
            default_route: false,
            mac: None,
            ipv4: vec![],
            ipv6: vec![],
            ..sample()
        };
        let text = host.to_text();
        assert!(text.contains("eth0 (not the default route)"), "{text}");
        assert!(text.contains("mac        none\n"), "{text}");
        assert!(text.contains("ipv4       none\n"), "{text}");
    }

    #[test]
    fn json_has_the_documented_keys() {
        let value: serde_json::Value = serde_json::from_str(&sample().to_json()).unwrap();
        assert_eq!(
            value,
            serde_json::json!({
                "hostname": "doughnut",
                "interface": "eth0",
                "default_route": true,
                "mac": "02:00:5e:ab:cd:ef",
                "ipv4": ["10.20.30.40", "10.20.30.41"],
                "ipv6": ["2001:db8::40"],
            })
        );
        let no_mac = Host {
            mac: None,
            ..sample()
        };
        let value: serde_json::Value = serde_json::from_str(&no_mac.to_json()).unwrap();
        assert_eq!(value["mac"], serde_json::Value::Null);
    }
}
