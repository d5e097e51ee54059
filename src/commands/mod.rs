//! The commands besides `run` (which is [`crate::daemon`]) and `register` (which is
//! [`crate::register`]): thin layers over the library that `main.rs` calls.

pub mod fanout;
pub mod notify;
pub mod replay;
pub mod rota;
pub mod status;
