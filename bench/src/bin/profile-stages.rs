//! Stage timings of the production thumbnail primitives (decode with scaling, resize, encode
//! per size) for one file, for RESULTS.md's explanation of where the time goes.
//! `profile-stages <file> [content-type]`; WEBP_METHOD / WEBP_QUALITY as in production.

use shared::imaging::pixels::{decode, encode, fit, resize, Format, WebpSettings};
use shared::imaging::{probe, DecodeLimits};
use shared::kinds::ContentType;
use std::time::{Duration, Instant};

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().expect("usage: profile-stages <file> [content-type]");
    let bytes = std::fs::read(&path).expect("read the input");
    let ct = match args.next().as_deref().unwrap_or("image/jpeg") {
        "image/png" => ContentType::Png,
        "image/webp" => ContentType::Webp,
        _ => ContentType::Jpeg,
    };
    let method: i32 = std::env::var("WEBP_METHOD").ok().and_then(|m| m.parse().ok()).unwrap_or(4);
    let quality: f32 = std::env::var("WEBP_QUALITY").ok().and_then(|m| m.parse().ok()).unwrap_or(80.0);
    let limits = DecodeLimits { max_pixels: 50_000_000, max_side: 20_000, max_jpeg_scans: 64, max_memory_mb: 384, time_budget: Duration::from_secs(60) };
    let p = probe(&bytes, ct, limits).expect("probe");
    let mut resizer = fast_image_resize::Resizer::new();
    for _ in 0..3 {
        let t = Instant::now();
        let px = decode(&bytes, &p, Some(1024), limits).expect("decode");
        let decoded = t.elapsed();
        let t = Instant::now();
        let (tw, th) = fit(p.stored_width, p.stored_height, 1024);
        let small = resize(&px, tw, th, &mut resizer).expect("resize");
        let resized = t.elapsed();
        let t = Instant::now();
        let sns_strength = std::env::var("WEBP_SNS").ok().and_then(|m| m.parse().ok());
        let out = encode(&small, Format::Webp(WebpSettings { quality, method, sns_strength, lossless: false })).expect("encode");
        let encoded = t.elapsed();
        eprintln!("decoded {}x{} in {decoded:?}; resize to {tw}x{th} {resized:?}; encode (q{quality} m{method}) {encoded:?} -> {} bytes", px.width, px.height, out.len());
    }
}
