//! HTTP and TLS as daas speaks them, for every part that talks to a server: the
//! sinks (chat, webhook, email) and `daas register kea`. It exists so that those
//! parts share one rustls set-up and one way of reading and reporting HTTP, without
//! `register` depending on the sinks (DESIGN.md: `register` is an island).
//!
//! - [`tls`]: the rustls client settings (ring, the webpki roots plus an optional
//!   lab CA file) and the explanation of a certificate that does not verify.
//! - [`http`]: a `reqwest` client on those settings, a response body read with a
//!   size cap, and a reqwest error said on one line.
//!
//! Nothing here knows what a sink or a retry is: how a response counts (delivered,
//! retryable, permanent) is the sinks' business (`sinks::http`).

pub mod http;
pub mod tls;
