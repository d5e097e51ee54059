//! Secrets: passwords and webhook URLs (a webhook URL *is* a secret — anyone who has
//! it can post to the room).
//!
//! A secret is given inline, as `*_file` (read once when the sink is built; systemd
//! credentials work this way) or as `*_env`. [`Secret`] never prints its value, and
//! [`Redactor`] scrubs secret values out of any error text before it reaches a log,
//! an event line or the `notify` table.

use std::fmt;

use crate::config::SecretSpec;

/// A secret value. Its `Debug` and `Display` print `<redacted>`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The value, for the one place that must send it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Reads a secret from wherever the config says it is. Errors name the key and the
/// source, never the value.
pub fn resolve(spec: &SecretSpec) -> Result<Secret, String> {
    let key = spec.key;
    let value = match (&spec.inline, &spec.file, &spec.env) {
        (Some(inline), None, None) => inline.clone(),
        (None, Some(path), None) => std::fs::read_to_string(path)
            .map_err(|err| format!("cannot read `{key}_file` {}: {err}; check the path and that the daas user may read it", path.display()))?
            // Files written by editors and `echo` end in a newline that is not part of the secret.
            .trim_end_matches(['\n', '\r'])
            .to_string(),
        (None, None, Some(var)) => std::env::var(var)
            .map_err(|_| format!("`{key}_env` names ${var}, which is not set (or not UTF-8); set it in the service's environment"))?,
        (None, None, None) => {
            return Err(format!("no `{key}`; give one of `{key}`, `{key}_file` or `{key}_env`"));
        }
        _ => return Err(format!("give only one of `{key}`, `{key}_file` and `{key}_env`")),
    };
    if value.trim().is_empty() {
        return Err(format!("`{key}` is empty (from {})", source_name(spec)));
    }
    Ok(Secret(value))
}

fn source_name(spec: &SecretSpec) -> String {
    match (&spec.file, &spec.env) {
        (Some(path), _) => format!("`{}_file` {}", spec.key, path.display()),
        (_, Some(var)) => format!("`{}_env` ${var}", spec.key),
        _ => format!("`{}`", spec.key),
    }
}

/// Scrubs known secret values (and the telling parts of secret URLs) out of text.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    needles: Vec<String>,
}

/// Shorter fragments of a URL are too likely to be ordinary words.
const MIN_FRAGMENT: usize = 6;

impl Redactor {
    /// Redacts `secret`; for a URL also its path and query and each long path segment,
    /// since error texts sometimes quote only part of a URL.
    pub fn add(&mut self, secret: &Secret) {
        let value = secret.expose();
        let mut fragments = Vec::new();
        if let Ok(url) = reqwest::Url::parse(value) {
            let path_and_query = match url.query() {
                Some(q) => format!("{}?{q}", url.path()),
                None => url.path().to_string(),
            };
            fragments.push(path_and_query);
            for part in url
                .path()
                .split('/')
                .chain(url.query().into_iter().flat_map(|q| q.split(['&', '='])))
            {
                fragments.push(part.to_string());
            }
            fragments.extend(url.password().map(str::to_string));
        }
        fragments.retain(|f| f.len() >= MIN_FRAGMENT);
        // The whole value is always redacted, however short.
        self.needles.push(value.to_string());
        self.needles.extend(fragments);
        self.needles.retain(|n| !n.is_empty());
        // Longest first, so a whole URL is replaced before its parts.
        self.needles.sort_by_key(|n| std::cmp::Reverse(n.len()));
        self.needles.dedup();
    }

    /// `text` with every secret replaced by `<redacted>`.
    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_string();
        for needle in &self.needles {
            if out.contains(needle.as_str()) {
                out = out.replace(needle.as_str(), "<redacted>");
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(inline: Option<&str>, file: Option<&std::path::Path>, env: Option<&str>) -> SecretSpec {
        SecretSpec {
            key: "url",
            inline: inline.map(str::to_string),
            file: file.map(|p| p.to_path_buf()),
            env: env.map(str::to_string),
        }
    }

    #[test]
    fn reads_inline_file_and_env() {
        assert_eq!(
            resolve(&spec(Some("s3cret"), None, None))
                .expect("inline")
                .expose(),
            "s3cret"
        );
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("pw");
        std::fs::write(&path, "from-file\n").expect("write");
        assert_eq!(
            resolve(&spec(None, Some(&path), None))
                .expect("file")
                .expose(),
            "from-file"
        );
        // PATH is set in every test environment.
        assert!(resolve(&spec(None, None, Some("PATH"))).is_ok());
    }

    #[test]
    fn errors_name_the_key_never_the_value() {
        let both =
            resolve(&spec(Some("hunter2hunter2"), None, Some("PATH"))).expect_err("two sources");
        assert_eq!(both, "give only one of `url`, `url_file` and `url_env`");
        let none = resolve(&spec(None, None, None)).expect_err("none");
        assert!(
            none.contains("give one of `url`, `url_file` or `url_env`"),
            "{none}"
        );
        let unset = resolve(&spec(None, None, Some("DAAS_TEST_SURELY_UNSET"))).expect_err("unset");
        assert!(
            unset.contains("$DAAS_TEST_SURELY_UNSET, which is not set"),
            "{unset}"
        );
        let missing = resolve(&spec(
            None,
            Some(std::path::Path::new("/nonexistent/s")),
            None,
        ))
        .expect_err("missing");
        assert!(
            missing.starts_with("cannot read `url_file` /nonexistent/s"),
            "{missing}"
        );
    }

    #[test]
    fn secrets_never_print() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s} {s:?}"), "<redacted> <redacted>");
    }

    #[test]
    fn redactor_scrubs_urls_and_their_parts() {
        let mut r = Redactor::default();
        r.add(&Secret::new(
            "https://hooks.slack.com/services/T0AAAAAA/B0BBBBBB/XXXXXXXXXXXXXXXX",
        ));
        r.add(&Secret::new("pa55word!"));
        let text = "error for https://hooks.slack.com/services/T0AAAAAA/B0BBBBBB/XXXXXXXXXXXXXXXX; \
                    path /services/T0AAAAAA/B0BBBBBB/XXXXXXXXXXXXXXXX; token XXXXXXXXXXXXXXXX; pw pa55word!";
        let clean = r.redact(text);
        assert!(
            !clean.contains("XXXXXXXXXXXXXXXX") && !clean.contains("pa55word!"),
            "{clean}"
        );
        assert!(clean.starts_with("error for <redacted>;"), "{clean}");
    }
}
