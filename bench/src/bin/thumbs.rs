//! `thumbs <input> <runs> <warmup> <outdir>`: the production thumbnail path (header probe, then
//! `shared::imaging::thumbnails` with the deployed settings; WEBP_METHOD / WEBP_QUALITY as in
//! production) timed per run. Prints JSON.

use shared::imaging::{probe, thumbnails, DecodeLimits, ThumbnailSpec};
use shared::domain::kinds::ContentType;
use bench::{cpu_ms, peak_rss_kb};
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let input = std::fs::read(&args[1])?;
    let runs: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(9);
    let warmup: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(2);
    let outdir = args.get(4).cloned();
    let ct = shared::imaging::sniff(&input).unwrap_or(ContentType::Jpeg);
    let method = std::env::var("WEBP_METHOD").ok().and_then(|m| m.parse().ok()).unwrap_or(shared::wiring::config::DEFAULT_WEBP_METHOD);
    // As production decides it off Lambda: threads only when this process may use a second core.
    let parallel = shared::wiring::config::parallel_encode(None);
    let quality = std::env::var("WEBP_QUALITY").ok().and_then(|q| q.parse().ok()).unwrap_or(shared::wiring::config::DEFAULT_WEBP_QUALITY as f32);
    let spec = ThumbnailSpec { sizes: vec![1024, 512, 128], quality, method, parallel };
    let limits = DecodeLimits { max_pixels: 50_000_000, max_side: 20_000, max_jpeg_scans: 64, max_memory_mb: 384, time_budget: std::time::Duration::from_secs(60) };
    let (mut times, mut cpu) = (Vec::new(), Vec::new());
    let mut last = Vec::new();
    for i in 0..runs + warmup {
        let t = Instant::now();
        let c = cpu_ms();
        let p = probe(&input, ct, limits)?;
        let thumbs = thumbnails(&input, &p, &spec, limits, t + limits.time_budget)?.thumbs;
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        if i >= warmup {
            times.push(ms);
            cpu.push(cpu_ms() - c);
        }
        last = thumbs;
    }
    let mut outputs = Vec::new();
    for t in &last {
        if let Some(dir) = &outdir {
            std::fs::write(format!("{dir}/{}.webp", t.size), &t.webp)?;
        }
        outputs.push(serde_json::json!({"size": t.size, "width": t.width, "height": t.height, "bytes": t.webp.len()}));
    }
    println!("{}", serde_json::json!({"times_ms": times, "cpu_ms": cpu, "outputs": outputs, "peak_rss_kb": peak_rss_kb()}));
    Ok(())
}
