//! daas — Doughnuts-as-a-Service.
//!
//! Firmware for a Raspberry Pi in the office kitchen: a flick switch arms a big red
//! button; a press tells the lab that doughnuts have arrived.
//!
//! The flow runs one way. An input backend ([`input`]) turns GPIO interrupts (or the
//! simulated button, or a trace) into timestamped electrical edges. [`debounce`]
//! turns bouncing edges into clean changes, [`gesture`] turns those into press, long
//! press and double press and applies the arm switch, and [`announce`] decides
//! (cooldown) and renders the message. [`pipeline`] chains these pure cores, so the
//! daemon ([`daemon`]) and `replay` ([`replay`]) run the very same code on real and
//! virtual time. [`dispatch`] fans each announcement out to every sink ([`sinks`])
//! at once, each with its own timeout.
//!
//! See DESIGN.md for the contracts: CLI, config, trace files and event lines.

pub mod announce;
pub mod clock;
pub mod config;
pub mod core;
pub mod daemon;
pub mod debounce;
pub mod dispatch;
pub mod events;
pub mod gesture;
pub mod input;
pub mod live;
pub mod logging;
pub mod monotonic;
pub mod net;
pub mod notify;
pub mod outbox;
pub mod pipeline;
pub mod register;
pub mod replay;
pub mod sinks;
pub mod status;
pub mod systemd;
pub mod timer;
