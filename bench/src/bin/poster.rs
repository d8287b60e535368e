//! `poster <video> <runs> <warmup>`: the production poster path on a video in memory: the
//! container read (the keyframe located from the moov), then the keyframe decoded and the
//! poster, thumbnails and placeholder rendered (`shared::imaging::poster`), timed per run.
//! `poster --frame <png> <runs> <warmup>`: the same rendering from a frame another tool
//! extracted (decoding the PNG included), for the peer's "ffmpeg, then the same path" row.
//! Prints JSON.

use bench::{cpu_ms, peak_rss_kb};
use shared::domain::kinds::ContentType;
use shared::imaging::poster::{render, render_frame};
use shared::imaging::pixels::Pixels;
use shared::imaging::{DecodeLimits, ThumbnailSpec};
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let frame_mode = args.get(1).map(String::as_str) == Some("--frame");
    let at = if frame_mode { 2 } else { 1 };
    let input = std::fs::read(&args[at])?;
    let runs: usize = args.get(at + 1).and_then(|s| s.parse().ok()).unwrap_or(9);
    let warmup: usize = args.get(at + 2).and_then(|s| s.parse().ok()).unwrap_or(2);
    let method = std::env::var("WEBP_METHOD").ok().and_then(|m| m.parse().ok()).unwrap_or(shared::wiring::config::DEFAULT_WEBP_METHOD);
    let spec = ThumbnailSpec { sizes: vec![128, 512], quality: 80.0, method, parallel: false };
    let limits = DecodeLimits { max_pixels: 50_000_000, max_side: 20_000, max_jpeg_scans: 64, max_memory_mb: 384, time_budget: std::time::Duration::from_secs(60) };
    let (mut times, mut cpu) = (Vec::new(), Vec::new());
    let mut out = (0, 0, 0);
    for i in 0..runs + warmup {
        let t = Instant::now();
        let c = cpu_ms();
        let set = if frame_mode {
            let img = image::load_from_memory(&input)?.to_rgb8();
            let frame = Pixels { width: img.width(), height: img.height(), alpha: false, data: img.into_raw() };
            render_frame(frame, 1, &spec, t + limits.time_budget)?
        } else {
            let ct = if input.get(8..12) == Some(b"qt  ") { ContentType::Quicktime } else { ContentType::Mp4 };
            let info = shared::video::inspect_bytes(&input, ct, limits.max_side)?;
            let kf = info.keyframe?;
            let sample = &input[kf.offset as usize..(kf.offset + kf.size) as usize];
            render(&kf, sample, &spec, limits, t + limits.time_budget)?
        };
        if i >= warmup {
            times.push(t.elapsed().as_secs_f64() * 1000.0);
            cpu.push(cpu_ms() - c);
        }
        out = (set.poster.width, set.poster.height, set.poster.webp.len() + set.thumbs.iter().map(|t| t.webp.len()).sum::<usize>());
    }
    println!("{}", serde_json::json!({"times_ms": times, "cpu_ms": cpu, "poster": format!("{}x{}", out.0, out.1), "bytes": out.2, "peak_rss_kb": peak_rss_kb()}));
    Ok(())
}
