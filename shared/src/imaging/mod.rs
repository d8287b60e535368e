//! The image codec boundary: nothing else in the project touches `image`, libjpeg-turbo,
//! `fast_image_resize`, libwebp or rav1e.
//!
//! Verification reads headers before decoding anything, so oversized images are refused
//! without allocating them; decoding runs under `image::Limits` as a second guard.

mod audit;
mod avif;
mod boundary;
pub mod codec;
pub mod container;
mod h264;
mod heic;
pub mod heif;
mod jpeg;
mod metadata;
pub mod pixels;
mod placeholder;
mod png;
pub mod poster;
mod probe;
pub mod scans;
mod sniff;
mod thumbs;
pub mod versions;
pub mod transform;
mod webp;

pub use audit::metadata_findings;
pub use boundary::{inspect, inspect_guarded, poster_guarded, render_guarded, Inspection, Request};
pub use metadata::{crc32, minimal_exif, png_chunk, strip_metadata, PNG_KEPT};
pub use probe::{probe, Probe};
pub use sniff::sniff;
pub use placeholder::Placeholder;
pub use thumbs::{thumbnails, Display, Rendered, Thumbnail, ThumbnailSpec};

/// Bounds on the work one upload may cause, from configuration.
#[derive(Debug, Clone, Copy)]
pub struct DecodeLimits {
    pub max_pixels: u64,
    pub max_side: u32,
    /// Scans in a (progressive) JPEG: each one is a pass over every coefficient.
    pub max_jpeg_scans: u32,
    /// Working memory one decode may claim beyond its output (libjpeg-turbo's limit: a
    /// progressive JPEG holds every DCT coefficient, 6 bytes a pixel at 4:4:4).
    pub max_memory_mb: u32,
    /// Wall time for the whole verification of one file (decode, thumbnails, strip).
    pub time_budget: std::time::Duration,
}

impl DecodeLimits {
    pub fn allows(&self, width: u32, height: u32) -> bool {
        width <= self.max_side && height <= self.max_side && (width as u64) * (height as u64) <= self.max_pixels
    }

    pub fn image_limits(&self) -> image::Limits {
        let mut l = image::Limits::default();
        l.max_image_width = Some(self.max_side);
        l.max_image_height = Some(self.max_side);
        // RGBA8 of the largest allowed image plus working room; never unbounded.
        l.max_alloc = Some(self.max_pixels.saturating_mul(4).saturating_add(64 << 20));
        l
    }
}

/// Why a file is not an acceptable image. Every one is a final verdict about the file: nothing
/// that happens while parsing untrusted bytes is retried.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImageError {
    #[error("the file is not a JPEG, PNG, WebP, HEIC/HEIF or AVIF image")]
    NotAnImage,
    #[error("the file is {sniffed}, declared as {declared}")]
    TypeMismatch { sniffed: ContentType, declared: ContentType },
    #[error("the file is not a readable image: {0}")]
    Corrupt(String),
    #[error("{width}x{height} exceeds the allowed dimensions")]
    DimensionsTooLarge { width: u32, height: u32 },
    /// Scan count or time budget: the file asks for more work than any upload may cause.
    #[error("{0}")]
    LimitExceeded(String),
}

use crate::domain::kinds::ContentType;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bomb_header_is_refused_from_the_header_alone() {
        // IHDR claims 60000 x 60000 RGBA (14.4 GB decoded); the body is 8 bytes. The probe must
        // refuse it without decoding (it would otherwise fail or exhaust memory).
        let mut ihdr = b"IHDR".to_vec();
        ihdr.extend_from_slice(&60_000u32.to_be_bytes());
        ihdr.extend_from_slice(&60_000u32.to_be_bytes());
        ihdr.extend_from_slice(&[8, 6, 0, 0, 0]);
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\x0d".to_vec();
        png.extend_from_slice(&ihdr);
        png.extend_from_slice(&metadata::crc32(&ihdr).to_be_bytes());
        let idat = b"IDAT\x78\x9c\x03\x00\x00\x00\x00\x01";
        png.extend_from_slice(&8u32.to_be_bytes());
        png.extend_from_slice(idat);
        png.extend_from_slice(&metadata::crc32(idat).to_be_bytes());
        png.extend_from_slice(b"\0\0\0\0IEND\xAE\x42\x60\x82");
        let limits = DecodeLimits { max_pixels: 50_000_000, max_side: 20_000, max_jpeg_scans: 64, max_memory_mb: 384, time_budget: std::time::Duration::from_secs(5) };
        assert_eq!(probe(&png, ContentType::Png, limits), Err(ImageError::DimensionsTooLarge { width: 60_000, height: 60_000 }));
    }

    #[test]
    fn decode_limits_bound_allocation() {
        let l = DecodeLimits { max_pixels: 1000, max_side: 100, max_jpeg_scans: 1, max_memory_mb: 384, time_budget: std::time::Duration::from_secs(1) };
        assert!(l.allows(100, 10) && !l.allows(101, 1) && !l.allows(40, 40));
        assert!(l.image_limits().max_alloc.is_some());
    }
}
