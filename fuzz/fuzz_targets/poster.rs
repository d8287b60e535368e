//! Arbitrary bytes as a video, through the poster path WITHOUT the panic guard: the keyframe
//! is located from the moov (bounded: one sample of at most MAX_SAMPLE_BYTES, inside the
//! file), then decoded and rendered. Promises: a deterministic location; a poster no larger
//! than its bound and no larger than the limits; no panic anywhere.
#![no_main]
use libfuzzer_sys::fuzz_target;
use shared::domain::kinds::ContentType;
use shared::imaging::poster::{render, POSTER_SIDE};
use shared::imaging::{DecodeLimits, ThumbnailSpec};
use shared::video::inspect_bytes;
use shared::video::poster::MAX_SAMPLE_BYTES;
use std::time::{Duration, Instant};

fuzz_target!(|data: &[u8]| {
    let Ok(info) = inspect_bytes(data, ContentType::Mp4, 4096) else { return };
    assert_eq!(info.keyframe, inspect_bytes(data, ContentType::Mp4, 4096).map(|i| i.keyframe).unwrap_or_else(|e| panic!("{e}")), "deterministic");
    let Ok(kf) = info.keyframe else { return };
    assert!(kf.size <= MAX_SAMPLE_BYTES && kf.offset + kf.size <= data.len() as u64, "{kf:?}");
    let sample = &data[kf.offset as usize..(kf.offset + kf.size) as usize];
    let limits = DecodeLimits { max_pixels: 4_000_000, max_side: 4096, max_jpeg_scans: 64, max_memory_mb: 256, time_budget: Duration::from_secs(5) };
    let spec = ThumbnailSpec { sizes: vec![64], quality: 50.0, method: 0, parallel: false };
    if let Ok(set) = render(&kf, sample, &spec, limits, Instant::now() + limits.time_budget) {
        assert!(set.poster.width.max(set.poster.height) <= POSTER_SIDE);
        assert!(!set.poster.webp.is_empty());
    }
});
