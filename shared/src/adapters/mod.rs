//! The ports implemented on real services, one module per service (`dynamodb`, `s3`,
//! `events`), and in memory (`memory`) for tests.

pub mod dynamodb;
pub mod events;
pub mod memory;
pub mod s3;
