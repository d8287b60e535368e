//! `encoder-sweep <input> <outdir>`: the production decode and resize to the 1024 px
//! thumbnail once, then libwebp at every setting of the sweep (method x quality x SNS
//! strength), each timed on this core (median of 3). Writes `<outdir>/m<M>-q<Q>-s<S>.webp`
//! and prints one JSON line per setting; bench/sweep.py scores them against a reference.

use shared::imaging::pixels::{fit, orient, Format, WebpSettings};
use shared::imaging::codec::{decode, encode};
use shared::imaging::{probe, sniff, DecodeLimits};
use shared::domain::kinds::ContentType;
use std::time::{Duration, Instant};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (input, outdir) = (args.next().ok_or("input")?, args.next().ok_or("outdir")?);
    let bytes = std::fs::read(&input)?;
    let ct = sniff(&bytes).unwrap_or(ContentType::Jpeg);
    let limits = DecodeLimits { max_pixels: 50_000_000, max_side: 20_000, max_jpeg_scans: 64, max_memory_mb: 384, time_budget: Duration::from_secs(60) };
    let p = probe(&bytes, ct, limits)?;
    let px = decode(&bytes, &p, Some(1024), limits)?;
    let (tw, th) = fit(p.stored_width, p.stored_height, 1024);
    let small = orient(px.resize(tw, th, &mut fast_image_resize::Resizer::new())?, p.orientation)?;
    // SWEEP="4,80,50;2,80,25" restricts the grid to those settings.
    let only: Option<Vec<(i32, f32, i32)>> = std::env::var("SWEEP").ok().map(|v| {
        v.split(';').filter_map(|t| {
            let f: Vec<&str> = t.split(',').collect();
            Some((f.first()?.parse().ok()?, f.get(1)?.parse().ok()?, f.get(2)?.parse().ok()?))
        }).collect()
    });
    for method in [2, 3, 4] {
        for quality in [75.0f32, 80.0, 85.0] {
            for sns in [25, 50, 80] {
                if only.as_ref().is_some_and(|o| !o.contains(&(method, quality, sns))) {
                    continue;
                }
                let settings = WebpSettings { quality, method, sns_strength: Some(sns), lossless: false };
                let mut times = Vec::new();
                let mut out = Vec::new();
                for _ in 0..3 {
                    let t = Instant::now();
                    out = encode(&small, Format::Webp(settings))?;
                    times.push(t.elapsed().as_secs_f64() * 1000.0);
                }
                times.sort_by(f64::total_cmp);
                let name = format!("m{method}-q{quality}-s{sns}.webp");
                std::fs::write(format!("{outdir}/{name}"), &out)?;
                println!("{}", serde_json::json!({"file": name, "method": method, "quality": quality, "sns": sns, "bytes": out.len(), "encode_ms": times[1]}));
            }
        }
    }
    Ok(())
}
