//! The production decoders against hostile and ordinary input: every JPEG class the corpus
//! has decodes (scaled where the codec can) to the same pixels a reference decoder gives,
//! and libjpeg-turbo's own limits turn scan and memory bombs into a clean `LimitExceeded`.

use devtools::corpus::{self, Expect};
use shared::imaging::pixels::Pixels;
use shared::imaging::codec::decode;
use shared::imaging::{probe, DecodeLimits, ImageError};
use shared::domain::kinds::ContentType;
use std::time::Duration;

fn limits() -> DecodeLimits {
    DecodeLimits { max_pixels: 50_000_000, max_side: 20_000, max_jpeg_scans: 64, max_memory_mb: 384, time_budget: Duration::from_secs(20) }
}

fn decode_at(bytes: &[u8], ct: ContentType, target: Option<u32>, limits: DecodeLimits) -> Result<Pixels, ImageError> {
    let p = probe(bytes, ct, limits)?;
    Ok(decode(bytes, &p, target, limits)?.pixels)
}

/// The reference: `image`'s pure-Rust decoder at full size, box-averaged to `w`x`h`, colour
/// premultiplied by alpha (so transparent pixels' hidden colour does not count).
fn reference(bytes: &[u8], w: u32, h: u32) -> Vec<f32> {
    let img = image::load_from_memory(bytes).expect("reference decode").to_rgba8();
    let (fw, fh) = img.dimensions();
    let mut sum = vec![0f32; (w * h * 3) as usize];
    let mut n = vec![0f32; (w * h) as usize];
    for (x, y, px) in img.enumerate_pixels() {
        let (tx, ty) = ((x * w / fw) as usize, (y * h / fh) as usize);
        let i = ty * w as usize + tx;
        n[i] += 1.0;
        for c in 0..3 {
            sum[i * 3 + c] += px[c] as f32 * px[3] as f32 / 255.0;
        }
    }
    sum.iter().enumerate().map(|(i, s)| s / n[i / 3].max(1.0)).collect()
}

/// Mean absolute difference per channel between decoded pixels and the reference, both
/// reduced to a coarse grid (so the comparison is about colour, not about resampling).
fn mean_difference(bytes: &[u8], p: &Pixels) -> f32 {
    const GRID: u32 = 16;
    let ours = reference_of(p, GRID);
    let theirs = reference(bytes, GRID, GRID);
    ours.iter().zip(&theirs).map(|(a, b)| (a - b).abs()).sum::<f32>() / ours.len() as f32
}

fn reference_of(p: &Pixels, grid: u32) -> Vec<f32> {
    let channels = if p.alpha { 4 } else { 3 };
    let mut sum = vec![0f32; (grid * grid * 3) as usize];
    let mut n = vec![0f32; (grid * grid) as usize];
    for y in 0..p.height {
        for x in 0..p.width {
            let i = ((y * grid / p.height) * grid + x * grid / p.width) as usize;
            let at = ((y * p.width + x) * channels) as usize;
            n[i] += 1.0;
            let a = if p.alpha { p.data[at + 3] as f32 / 255.0 } else { 1.0 };
            for c in 0..3 {
                sum[i * 3 + c] += p.data[at + c] as f32 * a;
            }
        }
    }
    sum.iter().enumerate().map(|(i, s)| s / n[i / 3].max(1.0)).collect()
}

/// Decodes every ready corpus file of `types` reduced for `target`, and checks it: at least
/// the target, below full size unless the class goes to the general decoder (`full_size`),
/// a buffer of the declared size, and the reference decoder's colours. Returns how many.
fn check_reduced_classes(types: &[&str], target: u32, full_size: &[&str]) -> usize {
    let mut checked = 0;
    for f in corpus::corpus().into_iter().filter(|f| types.contains(&f.content_type) && matches!(f.expect, Expect::Ready { .. })) {
        let ct = match f.content_type {
            "image/jpeg" => ContentType::Jpeg,
            "image/png" => ContentType::Png,
            _ => ContentType::Webp,
        };
        let p = decode_at(&f.bytes, ct, Some(target), limits()).unwrap_or_else(|e| panic!("{}: {e}", f.name));
        let full = probe(&f.bytes, ct, limits()).unwrap();
        let long = p.width.max(p.height);
        assert!(long >= target, "{}: reduced below the target ({}x{})", f.name, p.width, p.height);
        if !full_size.contains(&f.name) {
            assert!(long < full.stored_width.max(full.stored_height), "{}: decoded at full size", f.name);
        }
        assert_eq!(p.data.len(), (p.width * p.height * if p.alpha { 4 } else { 3 }) as usize, "{}", f.name);
        let diff = mean_difference(&f.bytes, &p);
        assert!(diff < 4.0, "{}: colours differ from the reference decoder by {diff:.2}", f.name);
        checked += 1;
    }
    checked
}

#[test]
fn every_jpeg_class_decodes_scaled_to_the_reference_colours() {
    // CMYK goes to the general decoder at full size; every other class is DCT-scaled.
    let checked = check_reduced_classes(&["image/jpeg"], 256, &["cmyk.jpg"]);
    assert!(checked >= 10, "only {checked} JPEG classes checked");
}

#[test]
fn every_png_and_webp_class_decodes_reduced_to_the_reference_colours() {
    // Adam7 and animations go to the general decoder at full size.
    let checked = check_reduced_classes(&["image/png", "image/webp"], 128, &["interlaced.png", "animated.webp"]);
    assert!(checked >= 9, "only {checked} PNG and WebP classes checked");
}

#[test]
fn without_a_target_the_jpeg_decodes_at_full_size() {
    let f = corpus::corpus().into_iter().find(|f| f.name == "progressive.jpg").unwrap();
    let p = decode_at(&f.bytes, ContentType::Jpeg, None, limits()).unwrap();
    assert_eq!((p.width, p.height), (1600, 1200));
    assert!(mean_difference(&f.bytes, &p) < 2.0);
}

#[test]
fn libjpeg_turbo_refuses_more_scans_than_the_limit() {
    let f = corpus::corpus().into_iter().find(|f| f.name == "progressive.jpg").unwrap();
    let few = DecodeLimits { max_jpeg_scans: 3, ..limits() };
    match decode_at(&f.bytes, ContentType::Jpeg, Some(256), few) {
        Err(ImageError::LimitExceeded(m)) => assert!(m.contains("scans"), "{m}"),
        other => panic!("expected a scan limit, got {:?}", other.map(|p| (p.width, p.height))),
    }
}

#[test]
fn a_progressive_jpeg_over_the_memory_limit_is_refused_cleanly_and_a_baseline_one_is_not() {
    // 1600x1200 progressive: every coefficient is held until the last scan, about 5.8 MB at
    // 4:2:0 (2 bytes a coefficient); a 2 MB limit cannot hold it.
    let corpus = corpus::corpus();
    let progressive = &corpus.iter().find(|f| f.name == "progressive.jpg").unwrap().bytes;
    let baseline = &corpus.iter().find(|f| f.name == "restart-markers.jpg").unwrap().bytes;
    let tight = DecodeLimits { max_memory_mb: 2, ..limits() };
    match decode_at(progressive, ContentType::Jpeg, Some(256), tight) {
        Err(ImageError::LimitExceeded(m)) => assert!(m.to_lowercase().contains("memory"), "{m}"),
        other => panic!("expected the memory limit, got {:?}", other.map(|p| (p.width, p.height))),
    }
    let p = decode_at(baseline, ContentType::Jpeg, Some(256), tight).expect("a baseline JPEG streams within 2 MB");
    assert!(p.width >= 256);
}

#[test]
fn damaged_jpegs_are_corrupt_never_a_panic() {
    let f = corpus::corpus().into_iter().find(|f| f.name == "progressive.jpg").unwrap().bytes;
    // Cut short: no end-of-image marker.
    assert!(matches!(decode_at(&f[..f.len() / 2], ContentType::Jpeg, Some(256), limits()), Err(ImageError::Corrupt(_)) | Err(ImageError::LimitExceeded(_))));
    // Garbage in the entropy-coded data but the markers intact: whatever the verdict, it is
    // a verdict, and a successful decode has the declared size.
    for at in [f.len() / 3, f.len() / 2, f.len() * 3 / 4] {
        let mut bad = f.clone();
        for b in &mut bad[at..at + 64] {
            *b = if *b == 0xFF { 0xFF } else { b.wrapping_mul(31).wrapping_add(7) & 0xFE };
        }
        if let Ok(p) = decode_at(&bad, ContentType::Jpeg, Some(256), limits()) {
            assert_eq!(p.data.len(), (p.width * p.height * 3) as usize);
        }
    }
}

#[test]
fn jpeg_layouts_that_change_nothing_decode_to_the_same_pixels() {
    let f = corpus::corpus().into_iter().find(|f| f.name == "restart-markers.jpg").unwrap().bytes;
    let reference = decode_at(&f, ContentType::Jpeg, Some(256), limits()).unwrap();
    // An empty COM segment (length field 2, no payload) right after SOI.
    let mut empty_segment = f[..2].to_vec();
    empty_segment.extend_from_slice(&[0xFF, 0xFE, 0x00, 0x02]);
    empty_segment.extend_from_slice(&f[2..]);
    assert_eq!(decode_at(&empty_segment, ContentType::Jpeg, Some(256), limits()).unwrap().data, reference.data);
    // A second JPEG after EOI (the trailer the stripper removes): the first image's pixels.
    let mut trailer = f.clone();
    trailer.extend_from_slice(&corpus::corpus().into_iter().find(|f| f.name == "progressive.jpg").unwrap().bytes);
    assert_eq!(decode_at(&trailer, ContentType::Jpeg, Some(256), limits()).unwrap().data, reference.data);
}
