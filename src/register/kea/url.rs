//! The control agent's URL as the user gave it (`--url` or `register.kea_url`):
//! checked before anything is sent, and quoted in errors without the password a
//! URL with basic auth carries.

use super::KeaError;
use crate::register::dhcp::Origin;

/// Checks `--url`/`register.kea_url`: http or https, with a host.
pub(super) fn parse_url(text: &str, origin: Origin) -> Result<reqwest::Url, KeaError> {
    let bad = |reason: String| KeaError::BadUrl {
        url: without_credentials(text),
        origin,
        reason,
    };
    let url = reqwest::Url::parse(text).map_err(|err| bad(err.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(bad(format!("scheme `{}`, not http or https", url.scheme())));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(bad("no host".to_owned()));
    }
    Ok(url)
}

/// A URL as typed, with any `user:password@` cut out, for an error message about
/// a URL too broken to parse.
fn without_credentials(text: &str) -> String {
    match (text.find("://"), text.rfind('@')) {
        (Some(start), Some(at)) if at > start => {
            format!("{}…{}", &text[..start + 3], &text[at..])
        }
        _ => text.to_owned(),
    }
}

/// The URL for messages: credentials in it (the agent's basic auth) left out.
pub(super) fn shown(url: &reqwest::Url) -> String {
    let mut shown = url.clone();
    let _ = shown.set_password(None);
    let _ = shown.set_username("");
    shown.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let origin = Origin::Flag("url");
        assert!(parse_url("http://127.0.0.1:8000/", origin).is_ok());
        let err = parse_url("ftp://kea/", origin).unwrap_err().to_string();
        assert!(err.contains("scheme `ftp`"), "{err}");
        assert!(parse_url("kea:8000", origin).is_err());
    }

    #[test]
    fn a_broken_url_is_quoted_without_its_password() {
        let origin = Origin::Config("kea_url");
        let err = parse_url("htp://admin:s3cret@kea:8000/", origin)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("`register.kea_url` `htp://…@kea:8000/`"),
            "{err}"
        );
    }

    #[test]
    fn a_password_in_the_url_is_not_shown() {
        let url = reqwest::Url::parse("http://admin:s3cret@127.0.0.1:8000/").unwrap();
        assert_eq!(shown(&url), "http://127.0.0.1:8000/");
    }
}
