//! Where a setting came from: a flag, the `[register]` table or the kernel. It
//! exists so that an error about a value names the one thing to change (`--hostname`,
//! `register.name`, "this machine's hostname"), for `register dhcp` and `register kea`.

use std::fmt;

/// Where a value came from, so an error names what to change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// A command-line flag (its name without dashes).
    Flag(&'static str),
    /// A key of the `[register]` table.
    Config(&'static str),
    /// The kernel: `uname -n`, or the interface's address.
    Kernel(&'static str),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Flag(flag) => write!(f, "--{flag}"),
            Origin::Config(key) => write!(f, "`register.{key}`"),
            Origin::Kernel(what) => f.write_str(what),
        }
    }
}

/// A value and where it came from.
pub type Sourced<T> = (T, Origin);

/// The flag if given, else the config key.
pub fn pick(
    flag: Option<String>,
    flag_name: &'static str,
    config: Option<String>,
    key: &'static str,
) -> Option<Sourced<String>> {
    flag.map(|v| (v, Origin::Flag(flag_name)))
        .or_else(|| config.map(|v| (v, Origin::Config(key))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_flag_wins_over_the_config_and_says_so() {
        let both = pick(Some("a".into()), "hostname", Some("b".into()), "name");
        assert_eq!(both, Some(("a".into(), Origin::Flag("hostname"))));
        let config = pick(None, "hostname", Some("b".into()), "name");
        assert_eq!(config, Some(("b".into(), Origin::Config("name"))));
        assert_eq!(pick(None, "hostname", None, "name"), None);
        assert_eq!(Origin::Flag("hostname").to_string(), "--hostname");
        assert_eq!(Origin::Config("name").to_string(), "`register.name`");
    }
}
