//! Arbitrary bytes as an upload, through the whole verification path (sniff, scan count, probe,
//! thumbnails under decode limits, metadata strip) WITHOUT the panic guard, so a panic anywhere
//! is a finding. For every file that verifies, the promises of a public original are asserted:
//! - nothing but display data (`metadata_findings` is empty: no EXIF beyond orientation, no
//!   XMP/IPTC/comments/text/unknown chunks, nothing after the container's end);
//! - the same pixels as the upload, when the upload decodes;
//! - stripping again changes nothing.
#![no_main]
use libfuzzer_sys::fuzz_target;
use shared::imaging::{inspect, metadata_findings, sniff, strip_metadata, DecodeLimits, Request, ThumbnailSpec};
use shared::domain::kinds::ContentType;
use std::time::{Duration, Instant};

/// The reference decoder's format; HEIF types (which `image` does not read) have none, and are
/// fuzzed for pixel equality by the `heif_container` target.
fn format(ct: ContentType) -> Option<image::ImageFormat> {
    match ct {
        ContentType::Jpeg => Some(image::ImageFormat::Jpeg),
        ContentType::Png => Some(image::ImageFormat::Png),
        ContentType::Webp => Some(image::ImageFormat::WebP),
        _ => None,
    }
}

fuzz_target!(|data: &[u8]| {
    let Some(ct) = sniff(data) else { return };
    let limits = DecodeLimits { max_pixels: 4_000_000, max_side: 4096, max_jpeg_scans: 64, max_memory_mb: 384, time_budget: Duration::from_secs(5) };
    let req = Request {
        declared: ct,
        allowed: ContentType::IMAGES.to_vec(),
        thumbnails: ThumbnailSpec { sizes: vec![64, 16], quality: 50.0, method: 0, parallel: false },
        strip: true,
        limits,
    };
    let Ok(verified) = inspect(data, &req, Instant::now() + limits.time_budget) else { return };
    let stripped = verified.stripped.expect("strip was requested");
    let findings = metadata_findings(&stripped, ct);
    assert!(findings.is_empty(), "metadata survived stripping: {findings:?}");
    assert_eq!(strip_metadata(&stripped, &verified.probe).as_deref(), Some(&stripped[..]), "stripping is idempotent");
    let Some(format) = format(ct) else { return };
    let mut reader = image::ImageReader::with_format(std::io::Cursor::new(data), format);
    reader.limits(limits.image_limits());
    if let Ok(before) = reader.decode() {
        let mut reader = image::ImageReader::with_format(std::io::Cursor::new(&stripped), format);
        reader.limits(limits.image_limits());
        let after = reader.decode().expect("a decodable upload stays decodable after stripping");
        assert!(before.as_bytes() == after.as_bytes(), "stripping changed the pixels");
    }
});
