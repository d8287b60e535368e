//! What the service is about, without I/O or HTTP: media ids and records, the kinds and their
//! formats, the S3 key layout, who is calling, media events and transform requests.

pub mod caller;
pub mod clock;
pub mod events;
pub mod id;
pub mod keyframe;
pub mod keys;
pub mod mac;
pub mod kinds;
pub mod media;
pub mod transform;
pub mod upload;
