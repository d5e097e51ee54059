//! The pure cores: state machines that take an input and `now` and return what to do
//! next plus the next deadline they care about. None reads a clock, sleeps, spawns,
//! touches a pin, a socket or the disk; the shells around them do (DESIGN.md, "Pure
//! cores, thin shells"). That is what lets every timing rule be tested exactly on
//! virtual time, and the Pi run the very code the tests ran.
//!
//! - [`debounce`]: bouncing edges → clean changes, per input.
//! - [`gesture`]: changes → press, long press, double press, behind the arm switch.
//! - [`pipeline`]: the two above and the cooldown, chained (what the daemon and
//!   `replay` both run).
//! - [`announce`]: the cooldown rule, and an action's draft rendered into the message.
//! - [`quiet`]: quiet hours, on local wall-clock time.
//! - [`schedule`]: the doughnut rota's turns and reminders.
//! - [`template`]: the `{placeholder}` templates of messages and webhook bodies.
//! - [`delivery`]: per-sink queues, retries, `Retry-After`, expiry.
//! - [`feedback`]: the LED's patterns, from arming, gestures and delivery outcomes.

pub mod announce;
pub mod debounce;
pub mod delivery;
pub mod feedback;
pub mod gesture;
pub mod pipeline;
pub mod quiet;
pub mod schedule;
pub mod template;
