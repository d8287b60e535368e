//! The ports implemented on real services, one module per service (`dynamodb`, `s3`,
//! `events`), and in memory (`memory`, feature `memory`) for tests.

pub mod dynamodb;
pub mod events;
/// In-memory twins of the ports, for tests only: not in a production build.
#[cfg(any(test, feature = "memory"))]
pub mod memory;
pub mod s3;
