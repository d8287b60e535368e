//! Upload slots: the request, the presigned POST policy, the presigned PUT, and the operation
//! that writes pending records and hands out URLs.

pub mod policy;
pub mod request;
pub mod service;
pub mod signer;

pub use request::{Filename, UploadRequest, ValidFile, ValidUpload};
pub use service::{UploadError, UploadService, UploadSlot};
pub use signer::{PresignedPost, PresignedPut, S3UploadSigner, UploadSigner};
