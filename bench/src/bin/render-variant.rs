//! `render-variant <input> <query> <runs> <warmup> [out]`: one on-demand variant, rendered by the
//! production path (`render_guarded`: header probe, scan count, scaled decode, resize, crop,
//! encode) with the deployed settings, timed per run. `query` is the URL's, e.g.
//! `w=1024&format=avif`. Prints JSON.

use bench::{cpu_ms, peak_rss_kb};
use shared::imaging::{render_guarded, DecodeLimits};
use shared::domain::kinds::ContentType;
use shared::domain::media::FocalPoint;
use shared::usecases::transforms::render_plan;
use shared::domain::transform::TransformSpec;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let input = Arc::new(std::fs::read(&args[1])?);
    let pairs: Vec<(String, String)> = args[2].split('&').filter_map(|kv| kv.split_once('=')).map(|(k, v)| (k.to_string(), v.to_string())).collect();
    let spec = TransformSpec::parse(&pairs).map_err(|e| e.to_string())?;
    let runs: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(9);
    let warmup: usize = args.get(4).and_then(|s| s.parse().ok()).unwrap_or(2);
    let content_type = shared::imaging::sniff(&input).unwrap_or(ContentType::Jpeg);
    let output = spec.output(None, content_type, false);
    let (geometry, format) = render_plan(&spec, output, FocalPoint::CENTRE, shared::wiring::config::DEFAULT_WEBP_METHOD);
    let limits = DecodeLimits { max_pixels: 50_000_000, max_side: 20_000, max_jpeg_scans: 64, max_memory_mb: 384, time_budget: Duration::from_secs(60) };
    let (mut times, mut cpu, mut last) = (Vec::new(), Vec::new(), None);
    for i in 0..runs + warmup {
        let t = Instant::now();
        let c = cpu_ms();
        let v = render_guarded(Arc::clone(&input), content_type, geometry, format, limits)?;
        if i >= warmup {
            times.push(t.elapsed().as_secs_f64() * 1000.0);
            cpu.push(cpu_ms() - c);
        }
        last = Some(v);
    }
    let v = last.ok_or("no runs")?;
    if let Some(out) = args.get(5) {
        std::fs::write(out, &v.bytes)?;
    }
    println!(
        "{}",
        serde_json::json!({"times_ms": times, "cpu_ms": cpu, "width": v.width, "height": v.height, "bytes": v.bytes.len(), "type": output.mime(), "peak_rss_kb": peak_rss_kb()})
    );
    Ok(())
}
