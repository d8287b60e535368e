//! Arbitrary bytes as a progressive JPEG for scan pruning (`imaging::scans::prune`), then the
//! pruned stream through libjpeg-turbo at 1/2, WITHOUT the panic guard. Promises:
//! - never longer than the file, and what it keeps is the file's own segments, in order: the
//!   start marker, then every segment of the file's walk but some scans, through its end marker;
//! - only scans are dropped, and only AC scans carrying a component's lowest bit (Ah 1, Al 0)
//!   that no kept later AC scan of that component with an overlapping band reads;
//! - pruning its own output drops nothing more (every scan it keeps is needed or not fine);
//! - the decode of a pruned stream, when the file decodes, has the file's scaled size.
#![no_main]
use libfuzzer_sys::fuzz_target;
use shared::domain::kinds::ContentType;
use shared::imaging::codec::{decode_reading, Scans};
use shared::imaging::container::walk_jpeg;
use shared::imaging::{probe, scans::prune, DecodeLimits};
use std::time::Duration;

fn segments(b: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let mut out = Vec::new();
    walk_jpeg(b, |s| out.push((s.marker, s.bytes.to_vec()))).expect("walkable");
    out
}

fuzz_target!(|data: &[u8]| {
    let Some(pruned) = prune(data) else { return };
    assert!(pruned.len() < data.len(), "pruning only removes");
    assert_eq!(&pruned[..2], &[0xFF, 0xD8]);
    let (whole, kept) = (segments(data), segments(&pruned));
    assert!(kept.len() < whole.len());
    // Which of the file's segments were kept (the kept ones are a subsequence, in order).
    let mut k = 0;
    let mut kept_flags = vec![false; whole.len()];
    for (i, seg) in whole.iter().enumerate() {
        if k < kept.len() && kept[k] == *seg {
            kept_flags[i] = true;
            k += 1;
        }
    }
    assert_eq!(k, kept.len(), "the kept segments are the file's, in order");
    // (component, Ss, Se) of a single-component scan.
    let band = |b: &[u8]| (b[4] == 1).then(|| (b[5], b[7], b[8]));
    for (i, (marker, bytes)) in whole.iter().enumerate().filter(|(i, _)| !kept_flags[*i]) {
        assert_eq!(*marker, 0xDA, "only scans are dropped");
        let (c, ss, se) = band(bytes).expect("a single-component scan");
        assert!(ss >= 1 && bytes[9] == 0x10, "an AC scan carrying the lowest bit");
        let read_later = whole[i + 1..].iter().zip(&kept_flags[i + 1..]).any(|((m, b), kept)| {
            *kept && *m == 0xDA && band(b).is_some_and(|(c2, ss2, se2)| c2 == c && ss2 >= 1 && ss2 <= se && ss <= se2)
        });
        assert!(!read_later, "no kept AC scan of the component reads its coefficients");
    }
    assert_eq!(prune(&pruned), None, "pruning is done in one pass");
    let limits = DecodeLimits { max_pixels: 4_000_000, max_side: 4096, max_jpeg_scans: 64, max_memory_mb: 256, time_budget: Duration::from_secs(5) };
    let Ok(p) = probe(data, ContentType::Jpeg, limits) else { return };
    let long = p.stored_width.max(p.stored_height);
    if long < 64 {
        return;
    }
    let target = Some(long / 3);
    if let (Ok(every), Ok(needed)) = (decode_reading(data, &p, target, limits, Scans::Every), decode_reading(data, &p, target, limits, Scans::Needed)) {
        assert_eq!((every.pixels.width, every.pixels.height), (needed.pixels.width, needed.pixels.height));
    }
});
