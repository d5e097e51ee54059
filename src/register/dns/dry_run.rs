//! `register dns --dry-run`: the updates a real run would send, in nsupdate syntax,
//! sending nothing. It exists so that a lab admin can read (or send by hand with
//! `nsupdate -k`) exactly what the Pi would change before it changes anything.

use std::fmt::Write as _;

use super::key::{KeySource, TsigKey};
use super::plan;
use super::settings::Settings;

/// The dry run's text: comments saying what signs it and what a real run would do
/// besides, then the updates.
pub(super) fn text(s: &Settings, key: Option<(&TsigKey, &KeySource)>) -> String {
    let mut out = String::from("; daas register dns --dry-run: nothing was sent\n");
    match key {
        Some((key, KeySource::File { path, .. })) => {
            let _ = writeln!(
                out,
                "; signed with TSIG key \"{}\" ({}); to send it by hand: nsupdate -k {} < THIS-OUTPUT",
                key.name,
                key.algorithm.name(),
                path.display()
            );
        }
        Some((key, KeySource::Env { var, .. })) => {
            let _ = writeln!(
                out,
                "; signed with TSIG key \"{}\" ({}) from ${var}",
                key.name,
                key.algorithm.name(),
            );
        }
        None => out.push_str("; no TSIG key given: a real run needs --key FILE\n"),
    }
    if s.ptr {
        out.push_str("; a real run also deletes this name's PTRs at addresses it had before\n");
    }
    let _ = writeln!(
        out,
        "server {} {}",
        s.server.addr.ip(),
        s.server.addr.port()
    );
    for update in plan::updates(s, &[]) {
        out.push_str(&update.to_nsupdate());
    }
    out
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use hickory_proto::rr::Name;

    use super::*;
    use crate::register::dns::server::Server;

    fn settings() -> Settings {
        Settings {
            server: Server {
                shown: "127.0.0.1:5300".into(),
                addr: "127.0.0.1:5300".parse().unwrap(),
            },
            zone: Name::from_ascii("lab.test.").unwrap(),
            fqdn: Name::from_ascii("pi.lab.test.").unwrap(),
            addresses: vec!["10.0.0.1".parse().unwrap()],
            ttl: 77,
            reverse_zone: None,
            ptr: true,
            remove: false,
            timeout: Duration::from_secs(5),
        }
    }

    #[test]
    fn without_a_key_it_says_a_real_run_needs_one() {
        assert_eq!(
            text(&settings(), None),
            "; daas register dns --dry-run: nothing was sent\n\
             ; no TSIG key given: a real run needs --key FILE\n\
             ; a real run also deletes this name's PTRs at addresses it had before\n\
             server 127.0.0.1 5300\n\
             zone lab.test.\n\
             update delete pi.lab.test. A\n\
             update add pi.lab.test. 77 A 10.0.0.1\n\
             update delete pi.lab.test. AAAA\n\
             send\n\
             zone 0.0.10.in-addr.arpa.\n\
             update delete 1.0.0.10.in-addr.arpa. PTR\n\
             update add 1.0.0.10.in-addr.arpa. 77 PTR pi.lab.test.\n\
             send\n"
        );
    }

    #[test]
    fn a_key_from_the_environment_names_the_variable() {
        let source = KeySource::Env {
            var: "DNS_KEY".into(),
            name: Some("k".into()),
            algorithm: "hmac-sha512".into(),
        };
        // Built from its parts: the test needs no environment variable.
        let key = TsigKey::new(
            "k".into(),
            super::super::key::Algorithm::HmacSha512,
            vec![0; 4],
        );
        let no_ptr = Settings {
            ptr: false,
            ..settings()
        };
        let out = text(&no_ptr, Some((&key, &source)));
        assert!(
            out.contains("; signed with TSIG key \"k\" (hmac-sha512) from $DNS_KEY\n"),
            "{out}"
        );
        assert!(!out.contains("PTR"), "{out}");
    }
}
