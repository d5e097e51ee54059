//! Scrubbing secrets out of text: every error a sink produces passes through its
//! [`Redactor`] before it reaches a log, an event line, the outbox or `daas notify`.
//!
//! It redacts what is secret — passwords, webhook URLs (whole, and the telling parts of
//! them an error may quote), credential headers — and nothing else: a non-secret value
//! such as a webhook's `Priority: 1` header must not turn "os error 111" into
//! "os error <redacted><redacted><redacted>".

use super::Secret;

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

    #[test]
    fn nothing_but_secrets_is_redacted() {
        let mut r = Redactor::default();
        r.add(&Secret::new("https://ntfy.sh/doughnuts-4f9a"));
        let text = "cannot connect: tcp connect error: Connection refused (os error 111)";
        assert_eq!(r.redact(text), text);
    }
}
