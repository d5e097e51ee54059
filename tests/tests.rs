//! The integration tests, one binary (as ripgrep has them): each module tests one part
//! of daas against real things — the built binary, real servers started on loopback,
//! real files — and `util` holds what they share.

mod util;

mod chat;
mod cli;
mod clock;
mod delivery;
mod email;
mod faults;
mod https;
mod in_process;
mod led;
mod notify;
mod outbox;
mod postfix;
mod quiet;
mod register_dhcp;
mod register_dns;
mod register_kea;
mod register_show;
mod replay;
mod rota;
mod secrets;
mod sink_errors;
mod systemd;
mod terminal;
