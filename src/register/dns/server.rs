//! The DNS server the update goes to, from `--server` (or `register.server`) to a
//! socket address. It exists because a name needs the system resolver, which
//! cannot be cancelled, and the Pi must not hang on a resolver that does not answer.

use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::time::Duration;

/// The server updates go to, as the person named it and as an address.
#[derive(Debug, Clone)]
pub struct Server {
    pub shown: String,
    pub addr: SocketAddr,
}

/// Why the server's name gave no address.
#[derive(Debug, thiserror::Error)]
pub enum ServerNameError {
    #[error("cannot resolve the DNS server {server}: {cause}; give its address with --server")]
    Unresolvable {
        server: String,
        cause: std::io::Error,
    },
    #[error(
        "the name of the DNS server {server} did not resolve within {seconds} s; check the Pi's resolver, or give the server's address with --server"
    )]
    Timeout { server: String, seconds: u64 },
    #[error("the DNS server {server} has no address; give its address with --server")]
    NoAddress { server: String },
}

impl ServerNameError {
    /// Exit 2 when `--server` must change, 1 when the resolver did not answer.
    pub fn exit_code(&self) -> u8 {
        match self {
            ServerNameError::Unresolvable { .. } | ServerNameError::NoAddress { .. } => 2,
            ServerNameError::Timeout { .. } => 1,
        }
    }
}

/// `HOST`, `HOST:PORT`, `[V6]:PORT` or a bare IPv6 address, resolved within
/// `timeout`; port 53 by default, IPv4 first.
pub fn resolve(text: &str, timeout: Duration) -> Result<Server, ServerNameError> {
    let with_port = with_default_port(text);
    // getaddrinfo cannot be cancelled, so it runs on a thread that is left behind if
    // the system resolver does not answer within the timeout (the command then ends).
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(with_port.to_socket_addrs().map(Iterator::collect::<Vec<_>>));
    });
    let mut addrs: Vec<SocketAddr> = match rx.recv_timeout(timeout) {
        Ok(Ok(addrs)) => addrs,
        Ok(Err(cause)) => {
            return Err(ServerNameError::Unresolvable {
                server: text.to_string(),
                cause,
            });
        }
        Err(_) => {
            return Err(ServerNameError::Timeout {
                server: text.to_string(),
                seconds: timeout.as_secs(),
            });
        }
    };
    // IPv4 first: every lab DNS server listens there; not all on IPv6.
    addrs.sort_by_key(SocketAddr::is_ipv6);
    let addr = addrs
        .into_iter()
        .next()
        .ok_or_else(|| ServerNameError::NoAddress {
            server: text.to_string(),
        })?;
    Ok(Server {
        shown: addr.to_string(),
        addr,
    })
}

/// The server as `to_socket_addrs` takes it: with a port, an IPv6 address in
/// brackets.
fn with_default_port(text: &str) -> String {
    if text.parse::<IpAddr>().is_ok_and(|ip| ip.is_ipv6()) {
        format!("[{text}]:53")
    } else if text
        .rsplit_once(':')
        .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
    {
        text.to_string()
    } else {
        format!("{text}:53")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_53_unless_one_is_given() {
        assert_eq!(with_default_port("127.0.0.1"), "127.0.0.1:53");
        assert_eq!(with_default_port("127.0.0.1:5300"), "127.0.0.1:5300");
        assert_eq!(with_default_port("::1"), "[::1]:53");
        assert_eq!(with_default_port("[::1]:5300"), "[::1]:5300");
        assert_eq!(with_default_port("localhost"), "localhost:53");
    }

    #[test]
    fn an_address_needs_no_resolver() {
        let server = resolve("127.0.0.1:5300", Duration::from_secs(1)).expect("an address");
        assert_eq!(server.shown, "127.0.0.1:5300");
        let server = resolve("::1", Duration::from_secs(1)).expect("an address");
        assert_eq!(server.shown, "[::1]:53");
    }
}
