//! Arbitrary bytes as an upload: sniff, header probe, thumbnails under decode limits, metadata
//! stripping. Nothing may panic, hang or allocate beyond the limits.
#![no_main]
use libfuzzer_sys::fuzz_target;
use shared::imaging::{probe, sniff, strip_metadata, thumbnails, DecodeLimits, ThumbnailSpec};

fuzz_target!(|data: &[u8]| {
    let Some(ct) = sniff(data) else { return };
    let limits = DecodeLimits { max_pixels: 4_000_000, max_side: 4096 };
    if let Ok(p) = probe(data, ct, limits) {
        let spec = ThumbnailSpec { sizes: vec![64, 16], quality: 50.0, method: 0 };
        let _ = thumbnails(data, &p, &spec, limits);
        let _ = strip_metadata(data, ct, p.orientation);
    }
    let _ = strip_metadata(data, ct, 1);
});
