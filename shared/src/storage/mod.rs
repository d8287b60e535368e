//! S3 objects. This module (with `upload::signer`) is the only place that speaks S3.

mod objects;
pub mod s3;

pub use objects::{Fetched, ObjectStore, StorageError};
