//! The pure cores: state machines that take an input and `now` and return what to do
//! next plus the next deadline they care about. None reads a clock, sleeps, spawns,
//! touches a pin, a socket or the disk; the shells around them do (DESIGN.md, "Pure
//! cores, thin shells"). That is what lets every timing rule be tested exactly on
//! virtual time, and the Pi run the very code the tests ran.

pub mod delivery;
