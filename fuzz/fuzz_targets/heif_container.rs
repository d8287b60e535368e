//! Arbitrary bytes as a HEIF (HEIC or AVIF) upload: the container walk and the whole
//! verification path WITHOUT the panic guard, so a panic anywhere is a finding. Promises:
//! - the walk is deterministic and bounded (item, tile and extent counts within the limits,
//!   every extent inside the file, so reading an item never leaves it);
//! - a verified file's stripped form has no findings (no Exif, XMP, thumbnail or other item, no
//!   unused bytes), strips to itself again, and decodes to the same pixels as the upload.
#![no_main]
use libfuzzer_sys::fuzz_target;
use shared::domain::kinds::ContentType;
use shared::imaging::heif::{walk, MAX_ITEMS};
use shared::imaging::{codec, inspect, metadata_findings, probe, sniff, strip_metadata, DecodeLimits, Request, ThumbnailSpec};
use std::time::{Duration, Instant};

fuzz_target!(|data: &[u8]| {
    let walked = walk(data);
    assert_eq!(walked.as_ref().map(|l| l.kept_items()).ok(), walk(data).map(|l| l.kept_items()).ok(), "deterministic");
    if let Ok(layout) = &walked {
        assert!(layout.items.len() <= MAX_ITEMS);
        for item in layout.kept_items() {
            // An item may have no location (the strip then refuses the file); one that has is
            // read within the file, and no more than its extents allow.
            if let Some(bytes) = layout.data(data, item) {
                assert!(bytes.len() <= data.len() * 64, "an item's data is bounded by the file");
            }
        }
    }
    let Some(ct) = sniff(data) else { return };
    if !matches!(ct, ContentType::Heic | ContentType::Heif | ContentType::Avif) {
        return;
    }
    let limits = DecodeLimits { max_pixels: 4_000_000, max_side: 4096, max_jpeg_scans: 64, max_memory_mb: 256, time_budget: Duration::from_secs(5) };
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
    let before = codec::decode(data, &verified.probe, None, limits).expect("verified, so decodable");
    let p = probe(&stripped, ct, limits).expect("the stripped file probes");
    let after = codec::decode(&stripped, &p, None, limits).expect("the stripped file decodes");
    assert!(before.pixels.data == after.pixels.data, "stripping changed the pixels");
});
