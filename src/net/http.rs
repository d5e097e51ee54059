//! HTTP for everything daas sends to a web server (the chat and webhook sinks, Kea's
//! control agent): one way to build a client on our rustls set-up, to read a body
//! without letting a server make the Pi read megabytes, and to say a reqwest error
//! on one line without the URL (which may hold a secret). How a response counts is
//! each caller's business.

use std::error::Error as StdError;
use std::path::Path;
use std::time::Duration;

use super::tls::{self, TlsSetupError};

/// The longest a connection may take to open, within the caller's timeout.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Why no HTTP client could be built. The cause is in the message and not a
/// `source()`: callers print the chain, and each cause must be said once.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The `ca_file` (the only input that can fail): its own words, file and fix.
    #[error(transparent)]
    Tls(#[from] TlsSetupError),
    /// reqwest refused its settings, which are ours and fixed: a bug, not a config
    /// mistake.
    #[error(
        "cannot set up HTTP: {}; please report this as a bug in daas",
        error_chain(cause)
    )]
    Build { cause: reqwest::Error },
}

/// A client that trusts the webpki roots plus `ca_file`. `timeout` bounds only
/// connecting here: the whole exchange is bounded by the caller (the dispatcher's
/// per-sink timeout, a per-request timeout), so every caller times out alike. No
/// idle connections are kept: requests are minutes or hours apart, and a fresh
/// connection cannot be a dead one left over from before a server restart or a
/// Wi-Fi drop. Redirects are not followed: a server that moved needs its new URL.
pub fn client(ca_file: Option<&Path>, timeout: Duration) -> Result<reqwest::Client, ClientError> {
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls::client_config(ca_file).map_err(ClientError::Tls)?)
        .connect_timeout(CONNECT_TIMEOUT.min(timeout))
        .pool_max_idle_per_host(0)
        // One request per connection, bounded by the caller's timeout: TCP keepalive
        // probes and a user timeout would never fire, and setting them costs five
        // syscalls per connection on the path from the press to the first message.
        .tcp_keepalive(None)
        .tcp_keepalive_interval(None)
        .tcp_keepalive_retries(None)
        .tcp_user_timeout(None)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("daas/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|cause| ClientError::Build { cause })
}

/// A body that broke off part-way: what arrived before, and why it stopped.
#[derive(Debug)]
pub struct BrokenBody {
    pub received: Vec<u8>,
    pub cause: reqwest::Error,
}

/// Reads at most `cap` bytes of a response body (the rest is never read). A caller
/// for whom a broken body is as good as what arrived takes
/// [`BrokenBody::received`]; one that needs the whole body reports the cause.
pub async fn read_capped(
    mut response: reqwest::Response,
    cap: usize,
) -> Result<Vec<u8>, BrokenBody> {
    let mut body = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                let room = cap - body.len();
                body.extend_from_slice(&chunk[..chunk.len().min(room)]);
                if body.len() >= cap {
                    return Ok(body);
                }
            }
            Ok(None) => return Ok(body),
            Err(cause) => {
                return Err(BrokenBody {
                    received: body,
                    cause,
                });
            }
        }
    }
}

/// An error's causes on one line, without the URL reqwest puts in its own text.
pub fn error_chain(err: &reqwest::Error) -> String {
    let mut parts = Vec::new();
    let mut source: Option<&dyn StdError> = err.source();
    while let Some(cause) = source {
        parts.push(cause.to_string());
        source = cause.source();
    }
    if parts.is_empty() {
        parts.push("unknown error".to_string());
    }
    parts.dedup();
    parts.join(": ")
}

/// The innermost cause of an error, which alone often says it all ("Connection
/// refused (os error 111)").
pub fn root_cause(err: &reqwest::Error) -> String {
    let mut cause: &dyn StdError = err;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::net::TcpListener;

    use super::*;

    /// A one-shot HTTP server on 127.0.0.1 that answers with `response` (raw bytes)
    /// and closes; its address.
    fn serve_once(response: Vec<u8>) -> std::net::SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("address");
        std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().expect("accept");
            let mut request = [0u8; 4096];
            let _ = stream.read(&mut request);
            let _ = stream.write_all(&response);
        });
        addr
    }

    async fn get(addr: std::net::SocketAddr) -> reqwest::Response {
        client(None, Duration::from_secs(5))
            .expect("client")
            .get(format!("http://{addr}/"))
            .send()
            .await
            .expect("response")
    }

    #[tokio::test]
    async fn a_body_is_cut_at_the_cap() {
        let addr = serve_once(b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\n0123456789".to_vec());
        assert_eq!(
            read_capped(get(addr).await, 4).await.expect("body"),
            b"0123"
        );
    }

    #[tokio::test]
    async fn a_broken_body_keeps_what_arrived() {
        // Promises 100 bytes, sends 5, closes.
        let addr = serve_once(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nhello".to_vec());
        let broken = read_capped(get(addr).await, 1024)
            .await
            .expect_err("the body breaks off");
        assert_eq!(broken.received, b"hello");
        assert!(!error_chain(&broken.cause).is_empty());
    }

    #[tokio::test]
    async fn a_refused_connection_is_said_without_the_url() {
        // Bind and drop, so nothing listens on the port.
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("port")
            .port();
        let err = client(None, Duration::from_secs(5))
            .expect("client")
            .get(format!("http://127.0.0.1:{port}/s3cret-path"))
            .send()
            .await
            .expect_err("nothing listens");
        let chain = error_chain(&err);
        assert!(!chain.contains("s3cret"), "{chain}");
        assert!(chain.ends_with(&root_cause(&err)), "{chain}");
    }

    #[test]
    fn a_missing_ca_file_is_a_tls_setup_error() {
        let err = client(
            Some(Path::new("/nonexistent/ca.pem")),
            Duration::from_secs(5),
        )
        .expect_err("no such file");
        assert!(matches!(
            err,
            ClientError::Tls(TlsSetupError::ReadCaFile { .. })
        ));
        assert!(
            err.to_string()
                .starts_with("cannot read `ca_file` /nonexistent/ca.pem: "),
            "{err}"
        );
    }
}
