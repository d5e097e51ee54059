//! daas — Doughnuts-as-a-Service.
//!
//! Firmware for a Raspberry Pi in the office kitchen: a flick switch arms a big red
//! button; a press tells the lab that doughnuts have arrived.
//!
//! The flow runs one way. A GPIO backend ([`gpio`]) turns interrupts (or the simulated
//! button, or a trace) into timestamped electrical edges. The pure cores ([`core`])
//! debounce them, recognise press, long press and double press behind the arm switch,
//! decide (cooldown) and render the message, and decide when to send what to which
//! sink; [`core::pipeline`] chains the input side, so the daemon ([`daemon`]) and
//! `replay` ([`commands::replay`]) run the very same code on real and virtual time. The
//! daemon commits each announcement to the outbox ([`outbox`], its own thread) and
//! sends it to every sink ([`sinks`]) at once. The values that flow between the stages
//! are in [`model`]; [`config`] turns the file into what each part needs.
//!
//! See DESIGN.md for the contracts: CLI, config, trace files and event lines.

pub mod clock;
pub mod commands;
pub mod config;
pub mod core;
pub mod daemon;
pub mod events;
pub mod gpio;
pub mod logging;
pub mod machine;
pub mod model;
pub mod net;
pub mod outbox;
pub mod quote;
pub mod register;
pub mod sinks;
