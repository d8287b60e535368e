//! S3 objects. This module (with `upload::signer`) is the only place that speaks S3.

pub mod s3;
