//! Stage profile of the production thumbnail primitives for one file: header probe, decode with
//! scaling (to the reduction floor of the largest size), the resize cascade and the WebP encode
//! of each size, each the median of `runs` (5) after one warm-up; for JPEG also the decode reading
//! every scan (`Scans::Every`), beside production's. Prints one JSON object: the
//! figures behind RESULTS.md's "Where the time goes". Run it pinned to one core.
//! `profile-stages <file> [runs]`; WEBP_METHOD / WEBP_QUALITY / WEBP_SNS as in production.

use shared::imaging::pixels::{fit, orient, resize, Format, Pixels, WebpSettings};
use shared::imaging::codec::{decode, decode_reading, encode, Scans};
use shared::imaging::{probe, sniff, DecodeLimits};
use shared::domain::kinds::ContentType;
use std::time::{Duration, Instant};

const SIZES: [u32; 3] = [1024, 512, 128];

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1000.0
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args.next().ok_or("usage: profile-stages <file> [runs]")?;
    let runs: usize = args.next().and_then(|r| r.parse().ok()).unwrap_or(5).max(1);
    let bytes = std::fs::read(&path)?;
    let ct = sniff(&bytes).unwrap_or(ContentType::Jpeg);
    let method: i32 = std::env::var("WEBP_METHOD").ok().and_then(|m| m.parse().ok()).unwrap_or(shared::wiring::config::DEFAULT_WEBP_METHOD);
    let quality: f32 = std::env::var("WEBP_QUALITY").ok().and_then(|m| m.parse().ok()).unwrap_or(shared::wiring::config::DEFAULT_WEBP_QUALITY as f32);
    let sns_strength = std::env::var("WEBP_SNS").ok().and_then(|m| m.parse().ok());
    let settings = WebpSettings { quality, method, sns_strength, lossless: false };
    let limits = DecodeLimits { max_pixels: 50_000_000, max_side: 20_000, max_jpeg_scans: 64, max_memory_mb: 384, time_budget: Duration::from_secs(60) };
    let mut resizer = fast_image_resize::Resizer::new();
    let mut every_ms = vec![];
    let (mut probe_ms, mut decode_ms, mut resize_ms, mut encode_ms) = (vec![], vec![], vec![vec![]; SIZES.len()], vec![vec![]; SIZES.len()]);
    let mut frame = (0, 0);
    let mut out_bytes = vec![0usize; SIZES.len()];
    for run in 0..=runs {
        let t = Instant::now();
        let p = probe(&bytes, ct, limits)?;
        let probed = ms(t);
        let t = Instant::now();
        let decoded = decode(&bytes, &p, Some(SIZES[0]), limits)?;
        let decoded_in = ms(t);
        // A JPEG decoded again reading every scan: what `imaging::scans` saves.
        if ct == ContentType::Jpeg && run > 0 {
            let t = Instant::now();
            decode_reading(&bytes, &p, Some(SIZES[0]), limits, Scans::Every)?;
            every_ms.push(ms(t));
        }
        frame = (decoded.pixels.width, decoded.pixels.height);
        // As `thumbnails` does: the cascade first (each size from the previous one), then each
        // size turned per EXIF and encoded.
        let mut cascade: Vec<Pixels> = Vec::with_capacity(SIZES.len());
        for (i, &size) in SIZES.iter().enumerate() {
            let (tw, th) = fit(p.stored_width, p.stored_height, size);
            let t = Instant::now();
            let small = match cascade.last() {
                Some(source) => resize(source, tw, th, &mut resizer)?,
                None => decoded.resize(tw, th, &mut resizer)?,
            };
            if run > 0 {
                resize_ms[i].push(ms(t));
            }
            cascade.push(small);
        }
        for (i, small) in cascade.into_iter().enumerate() {
            let t = Instant::now();
            let webp = encode(&orient(small, p.orientation)?, Format::Webp(settings))?;
            if run > 0 {
                encode_ms[i].push(ms(t));
            }
            out_bytes[i] = webp.len();
        }
        if run > 0 {
            probe_ms.push(probed);
            decode_ms.push(decoded_in);
        }
    }
    let per_size = |v: &Vec<Vec<f64>>| -> serde_json::Value { SIZES.iter().zip(v).map(|(s, xs)| (s.to_string(), serde_json::json!(median(xs.clone())))).collect() };
    println!(
        "{}",
        serde_json::json!({
            "input": path, "method": method, "quality": quality,
            "frame": format!("{}x{}", frame.0, frame.1),
            "probe_ms": median(probe_ms), "decode_ms": median(decode_ms),
            "decode_every_scan_ms": (!every_ms.is_empty()).then(|| median(every_ms)),
            "resize_ms": per_size(&resize_ms), "encode_ms": per_size(&encode_ms), "bytes": out_bytes,
        })
    );
    Ok(())
}
