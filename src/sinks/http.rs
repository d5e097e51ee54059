//! HTTP for the chat and webhook sinks: every outcome classified the way the retry
//! logic needs it. The client (one per sink: its timeout, its CA), the capped body
//! and the one-line error text are the neutral part, in `net::http`.
//!
//! - 2xx: delivered.
//! - 408, 429, 5xx, timeouts, connection and DNS errors: retryable, with the server's
//!   `Retry-After` (seconds or an HTTP date) when it sent one.
//! - any other status: permanent, with the status and at most the first 200 bytes of
//!   the body. Redirects are not followed (a webhook that moved needs its new URL).
//!
//! Error texts pass through the sink's [`Redactor`]: a webhook URL never leaks.

use std::path::Path;
use std::time::Duration;

use jiff::Timestamp;
use reqwest::{Method, StatusCode, header::HeaderMap};

use super::SendError;
use super::secret::{Redactor, Secret};
use crate::net::http::{error_chain, read_capped};
use crate::net::tls;

/// The chat and webhook sinks build their client as `http::client`.
pub use crate::net::http::client;

/// The most of a response body daas ever reads: a hostile or broken server cannot
/// make the Pi read megabytes.
pub const BODY_CAP: usize = 64 * 1024;

/// How much of an error response's body goes into the error message.
const ERROR_BODY_BYTES: usize = 200;

/// Schemes shown by name when a `url` has one of them instead of http(s): what people
/// paste by mistake. Any other scheme is not shown: text before a `:` may be part of a
/// secret put in `url` (a `user:password`, a token).
const SCHEMES_SHOWN: [&str; 12] = [
    "ftp", "ftps", "sftp", "ssh", "file", "mailto", "smtp", "smtps", "ws", "wss", "mqtt", "mqtts",
];

/// Why a (secret) `url` is not an address daas can post to. No variant quotes the URL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    /// `cause` is the URL parser's own reason, which never quotes the URL.
    #[error("`url` is not a valid URL ({cause}); give the full https://… address")]
    NotAUrl { cause: String },
    #[error("`url` has scheme `{scheme}`; use https:// (or http:// for a lab-internal server)")]
    Scheme { scheme: &'static str },
    #[error("`url` is not an http(s) URL; use https:// (or http:// for a lab-internal server)")]
    NotHttp,
}

/// Checks that a (secret) URL is an http(s) URL, without ever quoting it.
pub fn check_url(url: &Secret) -> Result<reqwest::Url, UrlError> {
    let parsed = reqwest::Url::parse(url.expose()).map_err(|cause| UrlError::NotAUrl {
        cause: cause.to_string(),
    })?;
    match parsed.scheme() {
        "https" | "http" => Ok(parsed),
        other => Err(SCHEMES_SHOWN
            .into_iter()
            .find(|&known| known == other)
            .map_or(UrlError::NotHttp, |scheme| UrlError::Scheme { scheme })),
    }
}

/// One request, classified.
pub struct Request<'a> {
    pub method: Method,
    pub url: reqwest::Url,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    pub redactor: &'a Redactor,
    /// For advice when the server's certificate does not verify.
    pub ca_file: Option<&'a Path>,
}

/// Sends a request and classifies the outcome.
pub async fn send(client: &reqwest::Client, request: Request<'_>) -> Result<(), SendError> {
    let redactor = request.redactor;
    let response = client
        .request(request.method, request.url)
        .headers(request.headers)
        .body(request.body)
        .send()
        .await
        .map_err(|err| transport_error(&err, request.ca_file, redactor))?;
    let status = response.status();
    let header = |name| {
        response
            .headers()
            .get(name)
            .and_then(|v: &reqwest::header::HeaderValue| v.to_str().ok())
    };
    // A date in Retry-After is measured against the server's own Date, not the Pi's
    // clock, which may be hours off before NTP has answered.
    let server_now = header(reqwest::header::DATE)
        .and_then(|v| jiff::fmt::rfc2822::parse(v.trim()).ok())
        .map_or_else(Timestamp::now, |d| d.timestamp());
    let retry_after =
        header(reqwest::header::RETRY_AFTER).and_then(|v| parse_retry_after(v, server_now));
    // A broken body is as good as what arrived of it for classification (the status
    // already says how it went).
    let body = read_capped(response, BODY_CAP)
        .await
        .unwrap_or_else(|broken| broken.received);
    classify(status, retry_after, &body, redactor)
}

/// The outcome of a response: the pure core of [`send`].
pub fn classify(
    status: StatusCode,
    retry_after: Option<Duration>,
    body: &[u8],
    redactor: &Redactor,
) -> Result<(), SendError> {
    if status.is_success() {
        return Ok(());
    }
    let excerpt = String::from_utf8_lossy(&body[..body.len().min(ERROR_BODY_BYTES)]);
    let excerpt = redactor.redact(excerpt.trim());
    let message = if excerpt.is_empty() {
        format!("HTTP {status}")
    } else {
        format!("HTTP {status}: {excerpt}")
    };
    if status == StatusCode::REQUEST_TIMEOUT
        || status == StatusCode::TOO_MANY_REQUESTS
        || status.is_server_error()
    {
        Err(SendError::Retryable {
            message,
            retry_after,
        })
    } else if status.is_redirection() {
        Err(SendError::Permanent {
            message: format!("{message} (a redirect: the webhook moved; configure its new URL)"),
        })
    } else {
        Err(SendError::Permanent { message })
    }
}

/// `Retry-After`: delay-seconds or an HTTP date (RFC 9110). A date in the past means
/// no wait; an unparseable value is ignored.
pub fn parse_retry_after(value: &str, now: Timestamp) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let date = jiff::fmt::rfc2822::parse(value).ok()?.timestamp();
    Some(
        now.duration_until(date)
            .try_into()
            .unwrap_or(Duration::ZERO),
    )
}

/// A transport failure (no HTTP status): worth retrying, except a certificate that
/// does not verify — the same handshake fails until a person acts.
fn transport_error(err: &reqwest::Error, ca_file: Option<&Path>, redactor: &Redactor) -> SendError {
    if let Some(problem) = tls::certificate_problem(err) {
        let message = tls::explain_certificate(problem, ca_file, "the host in `url`");
        return SendError::Permanent {
            message: redactor.redact(&format!(
                "cannot verify the server's TLS certificate: {message}"
            )),
        };
    }
    let what = if err.is_timeout() {
        "no answer in time"
    } else if err.is_connect() {
        "cannot connect"
    } else {
        "request failed"
    };
    let message = redactor.redact(&format!("{what}: {}", error_chain(err)));
    SendError::Retryable {
        message,
        retry_after: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().expect("timestamp")
    }

    #[test]
    fn retry_after_in_seconds_or_as_a_date() {
        let now = ts("2026-11-27T10:00:00Z");
        assert_eq!(
            parse_retry_after("120", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after("Fri, 27 Nov 2026 10:01:30 GMT", now),
            Some(Duration::from_secs(90))
        );
        assert_eq!(
            parse_retry_after("Fri, 27 Nov 2026 09:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
    }

    #[test]
    fn statuses_are_classified() {
        let r = Redactor::default();
        assert_eq!(classify(StatusCode::OK, None, b"", &r), Ok(()));
        assert_eq!(classify(StatusCode::NO_CONTENT, None, b"", &r), Ok(()));
        let wait = Some(Duration::from_secs(30));
        assert_eq!(
            classify(StatusCode::TOO_MANY_REQUESTS, wait, b"slow down", &r),
            Err(SendError::Retryable {
                message: "HTTP 429 Too Many Requests: slow down".into(),
                retry_after: wait
            })
        );
        assert!(matches!(
            classify(StatusCode::BAD_GATEWAY, None, b"", &r),
            Err(SendError::Retryable { .. })
        ));
        assert!(matches!(
            classify(StatusCode::REQUEST_TIMEOUT, None, b"", &r),
            Err(SendError::Retryable { .. })
        ));
        assert_eq!(
            classify(StatusCode::NOT_FOUND, None, b"no_such_hook", &r),
            Err(SendError::Permanent {
                message: "HTTP 404 Not Found: no_such_hook".into()
            })
        );
        assert!(matches!(
            classify(StatusCode::MOVED_PERMANENTLY, None, b"", &r),
            Err(SendError::Permanent { .. })
        ));
    }

    #[test]
    fn error_bodies_are_cut_and_redacted() {
        let mut r = Redactor::default();
        r.add(&Secret::new("tok3n-secret"));
        let body = format!("bad token tok3n-secret {}", "x".repeat(500));
        let Err(SendError::Permanent { message }) =
            classify(StatusCode::FORBIDDEN, None, body.as_bytes(), &r)
        else {
            panic!("403 is permanent");
        };
        assert!(!message.contains("tok3n-secret"), "{message}");
        assert!(message.len() < 260, "{} bytes", message.len());
    }

    #[test]
    fn only_http_urls_are_accepted_and_never_quoted() {
        assert!(check_url(&Secret::new("https://example.invalid/hook")).is_ok());
        let err = check_url(&Secret::new("ftp://host/s3cr3t-path"))
            .expect_err("ftp")
            .to_string();
        assert!(
            err.contains("scheme `ftp`") && !err.contains("s3cr3t"),
            "{err}"
        );
        let err = check_url(&Secret::new("not a url s3cr3t"))
            .expect_err("garbage")
            .to_string();
        assert!(!err.contains("s3cr3t"), "{err}");
        // A password put in `url` parses as a scheme and a path: the scheme is not shown.
        let err = check_url(&Secret::new("s3cr3t:hunter2"))
            .expect_err("a password")
            .to_string();
        assert!(
            !err.contains("s3cr3t") && err.contains("not an http(s) URL"),
            "{err}"
        );
    }
}
