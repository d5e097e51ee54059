//! The `[[sinks]]` tables: the enum of sink types and each type's table live with the
//! sinks (`sinks::registry`, one file per sink type); the config only holds them.

pub use crate::sinks::registry::SinkConfig;
pub use crate::sinks::secret::SecretSpec;
