//! `heic-stages <file.heic> <runs>`: where a HEIC upload's time goes, one stage at a time
//! through the production primitives: the container walk and probe, the decode to RGB, the
//! full-size display rendition, and the thumbnails with placeholder. Prints JSON medians (ms).

use shared::domain::kinds::ContentType;
use shared::imaging::codec::{decode, encode};
use shared::imaging::pixels::Format;
use shared::imaging::{probe, thumbnails, DecodeLimits, ThumbnailSpec};
use std::time::Instant;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let input = std::fs::read(&args[1])?;
    let runs: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(5);
    let limits = DecodeLimits { max_pixels: 50_000_000, max_side: 20_000, max_jpeg_scans: 64, max_memory_mb: 1024, time_budget: std::time::Duration::from_secs(60) };
    let spec = ThumbnailSpec { sizes: vec![1024, 512, 128], quality: shared::wiring::config::DEFAULT_WEBP_QUALITY as f32, method: shared::wiring::config::DEFAULT_WEBP_METHOD, parallel: false };
    let (mut p_ms, mut d_ms, mut e_ms, mut all_ms) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for _ in 0..runs {
        let t = Instant::now();
        let p = probe(&input, ContentType::Heic, limits)?;
        p_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        let t = Instant::now();
        let d = decode(&input, &p, None, limits)?;
        d_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        let t = Instant::now();
        let _ = encode(&d.pixels, Format::Jpeg(88))?;
        e_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        let t = Instant::now();
        let _ = thumbnails(&input, &p, &spec, limits, t + limits.time_budget)?;
        all_ms.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    println!("{}", serde_json::json!({"probe_ms": median(p_ms), "decode_rgb_ms": median(d_ms), "display_jpeg_ms": median(e_ms), "whole_ms": median(all_ms)}));
    Ok(())
}
