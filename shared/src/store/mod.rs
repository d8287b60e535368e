//! The media table. This module is the only place that speaks DynamoDB.

mod dynamo;
mod memory;
mod ops;
pub mod schema;

pub use dynamo::{DynamoStore, ReadyFields};
pub use memory::MemoryStore;
pub use ops::{Key, ListBy, ListFilter, MetadataEdit};

use crate::error::ApiError;
use crate::media::MediaRecord;
use std::future::Future;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The condition on a write did not hold: the record is not in the expected state.
    #[error("condition failed")]
    ConditionFailed,
    /// Throttling or a transient service fault: retry.
    #[error("transient: {0}")]
    Transient(String),
    #[error("dynamodb: {0}")]
    Other(String),
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Transient(m) => ApiError::unavailable(m),
            other => ApiError::internal(other),
        }
    }
}

/// What creating upload slots needs from the table (a seam for unit tests and benchmarks).
pub trait UploadRecords: Send + Sync {
    /// Writes a new record; fails with `ConditionFailed` if the id exists.
    fn put_new(&self, record: &MediaRecord) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// How many uploads of this user are still pending (up to `at_most`).
    fn count_pending(&self, owner: &str, at_most: u32) -> impl Future<Output = Result<u32, StoreError>> + Send;
}
