//! The media table on DynamoDB: the `MediaRepository` and `UploadRecords` adapter. This module
//! is the only place that speaks DynamoDB.

mod dynamo;
mod ops;
mod repository;
pub mod schema;
pub mod setup;

pub use dynamo::DynamoStore;
