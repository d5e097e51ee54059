//! The stream for TLS from the first byte (`tls = "tls"`, port 465), handed to lettre
//! already encrypted.
//!
//! It exists because lettre's public API cannot put TLS under a stream it did not open:
//! `AsyncSmtpConnection::connect_with_transport` reads the server's greeting at once,
//! so the handshake must be done before, and the only lettre type that can do it
//! (`AsyncNetworkStream`) is deprecated as "not meant to be made public" and cannot be
//! given to a connection anyway. So tokio-rustls does the handshake here, with the
//! same rustls set-up as every other sink (`net::tls::client_config`: ring, TLS 1.2
//! or later, the webpki roots plus `ca_file`, the name checked), and this wrapper
//! makes the result an [`AsyncTokioStream`] (a trait of lettre's, a type of
//! tokio-rustls's: only a local type may join them).

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};

use lettre::transport::smtp::client::AsyncTokioStream;
use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

#[derive(Debug)]
pub(super) struct ImplicitTls(TlsStream<TcpStream>);

impl ImplicitTls {
    /// The TLS handshake over `tcp`, checking the certificate against `name`. A
    /// certificate that does not verify comes back as an `io::Error` holding the
    /// `rustls::Error` (what `net::tls::certificate_problem` looks for).
    pub(super) async fn handshake(
        connector: &TlsConnector,
        name: ServerName<'static>,
        tcp: TcpStream,
    ) -> io::Result<ImplicitTls> {
        connector.connect(name, tcp).await.map(ImplicitTls)
    }
}

impl AsyncRead for ImplicitTls {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl AsyncWrite for ImplicitTls {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.0.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

impl AsyncTokioStream for ImplicitTls {
    fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.0.get_ref().0.peer_addr()
    }
}
