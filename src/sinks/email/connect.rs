//! Opening an SMTP session ready for `MAIL FROM`: the TCP connection (ours, with
//! `TCP_NODELAY`), TLS from the first byte or by STARTTLS, `EHLO` with the right
//! name, and AUTH.
//!
//! It exists because lettre's `AsyncSmtpTransport` opens its socket without
//! `TCP_NODELAY` and writes the end of DATA (`\r\n.\r\n`) as a second small write
//! after the body: Nagle holds those five bytes until the server acknowledges the
//! body, the server delays that ACK by 40 ms, and so every email took 45 to 55 ms on
//! loopback instead of 2 to 4 (fixed upstream in lettre PR #1159, not yet released).
//! So the connection is opened here and handed to lettre's public connection API
//! (`AsyncSmtpConnection::connect_with_transport`), which then does the dialogue
//! exactly as its transport would: `starttls`, `auth` with lettre's own choice of
//! mechanism (PLAIN, then LOGIN), `send`, `quit`. Once lettre sets the option itself,
//! this file can go back to being the transport's builder.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use lettre::transport::smtp::authentication::{Credentials, DEFAULT_MECHANISMS};
use lettre::transport::smtp::client::{AsyncSmtpConnection, AsyncTokioStream, TlsParameters};
use rustls::pki_types::ServerName;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use super::failure::Failure;
use super::helo::Helo;
use super::implicit_tls::ImplicitTls;

/// How the session is encrypted (`tls` in the config).
pub(super) enum Security {
    /// Plain SMTP, for a lab-internal relay on port 25.
    None,
    /// STARTTLS after the greeting (port 587): lettre upgrades the stream.
    Starttls(TlsParameters),
    /// TLS from the first byte (port 465): the handshake is ours (see `implicit_tls`).
    Implicit {
        connector: TlsConnector,
        name: ServerName<'static>,
    },
}

/// Everything needed to open a session; built once, from the checked config.
pub(super) struct Connector {
    pub(super) server: String,
    pub(super) port: u16,
    /// For connecting to each address (and resolving the name); `None` for no limit
    /// (the dispatcher's timeout around the whole send still applies).
    pub(super) timeout: Option<Duration>,
    pub(super) security: Security,
    pub(super) credentials: Option<Credentials>,
    pub(super) helo: Helo,
}

impl Connector {
    /// A session after the greeting, `EHLO`, STARTTLS and AUTH as configured.
    pub(super) async fn open(&self) -> Result<AsyncSmtpConnection, Failure> {
        let tcp = self.tcp().await?;
        // The local address is the EHLO name of a host that has no name.
        let local = tcp.local_addr().map_err(Failure::Connect)?.ip();
        let helo = self.helo.client_id(local);
        let stream: Box<dyn AsyncTokioStream> = match &self.security {
            Security::Implicit { connector, name } => Box::new(
                ImplicitTls::handshake(connector, name.clone(), tcp)
                    .await
                    .map_err(Failure::Handshake)?,
            ),
            Security::None | Security::Starttls(_) => Box::new(tcp),
        };
        let mut connection = AsyncSmtpConnection::connect_with_transport(stream, &helo).await?;
        if let Security::Starttls(parameters) = &self.security {
            connection.starttls(parameters.clone(), &helo).await?;
        }
        if let Some(credentials) = &self.credentials {
            connection.auth(DEFAULT_MECHANISMS, credentials).await?;
        }
        Ok(connection)
    }

    /// A TCP connection to the first of the server's addresses that answers, with
    /// `TCP_NODELAY` set.
    async fn tcp(&self) -> Result<TcpStream, Failure> {
        let addresses: Vec<SocketAddr> = within(
            self.timeout,
            tokio::net::lookup_host((self.server.as_str(), self.port)),
        )
        .await
        .ok_or(Failure::ResolveTimeout(self.timeout.unwrap_or_default()))?
        .map_err(Failure::Resolve)?
        .collect();
        let mut last = Failure::Resolve(io::Error::other("the name has no address"));
        for address in addresses {
            match within(self.timeout, TcpStream::connect(address)).await {
                Some(Ok(stream)) => {
                    // Every write goes out at once; see the module doc for the 40 ms
                    // this saves on every email.
                    stream.set_nodelay(true).map_err(Failure::Connect)?;
                    return Ok(stream);
                }
                Some(Err(err)) => last = Failure::Connect(err),
                None => last = Failure::ConnectTimeout(self.timeout.unwrap_or_default()),
            }
        }
        Err(last)
    }
}

/// `future`'s output, or `None` when `limit` passed first.
async fn within<F: Future>(limit: Option<Duration>, future: F) -> Option<F::Output> {
    match limit {
        Some(limit) => tokio::time::timeout(limit, future).await.ok(),
        None => Some(future.await),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn connector(port: u16) -> Connector {
        Connector {
            server: "127.0.0.1".into(),
            port,
            timeout: Some(Duration::from_secs(5)),
            security: Security::None,
            credentials: None,
            helo: Helo::Host {
                hostname: "kitchen-pi".into(),
                hosts: String::new(),
            },
        }
    }

    /// The 40 ms stall: without TCP_NODELAY the end of DATA waited for the server's
    /// delayed ACK of the body on every email.
    #[tokio::test]
    async fn the_socket_has_nodelay_so_the_end_of_data_is_not_held_back() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().expect("address").port();
        let stream = connector(port).tcp().await.expect("connected");
        assert!(stream.nodelay().expect("read TCP_NODELAY"));
    }

    #[tokio::test]
    async fn a_refused_connection_is_a_connect_failure() {
        let port = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
            listener.local_addr().expect("address").port()
        };
        match connector(port).tcp().await {
            Err(Failure::Connect(err)) => {
                assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused)
            }
            other => panic!("expected a refused connection, got {other:?}"),
        }
    }
}
