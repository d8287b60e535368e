//! lambda-media's library: domain types, configuration and the adapters for the AWS services
//! the functions use. The domain speaks to the outside through `ports`; each external service
//! sits behind one module: `dynamodb` (the media table), `s3` (objects), `auth` (JWT
//! verification), `imaging` (codecs).

pub mod api;
pub mod auth;
pub mod clock;
pub mod config;
pub mod cursor;
pub mod deletion;
pub mod dynamodb;
pub mod error;
pub mod eventbridge;
pub mod events;
pub mod http;
pub mod imaging;
pub mod janitor;
pub mod keys;
pub mod kinds;
pub mod media;
pub mod media_service;
pub mod memory;
pub mod multipart;
pub mod ports;
pub mod processing;
pub mod routes;
pub mod runtime;
pub mod s3;
pub mod telemetry;
pub mod transform;
pub mod upload;
pub mod video;
pub mod view;
