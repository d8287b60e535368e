//! `jpeg-scales <file> [runs]`: libjpeg-turbo's decode time to RGB at every n/8 scale, best of
//! `runs` (5), one JSON line per scale. This is the measurement behind `imaging::jpeg`'s choice
//! of 1/8, 1/4, 1/2 and 1 only (the scales with SIMD inverse DCTs). Run it pinned to one core.

use std::time::Instant;
use turbojpeg_sys as tj;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let bytes = std::fs::read(args.next().ok_or("usage: jpeg-scales <file> [runs]")?)?;
    let runs: usize = args.next().and_then(|r| r.parse().ok()).unwrap_or(5);
    // SAFETY: tj3Init has no preconditions; the handle is checked and destroyed at the end.
    let h = unsafe { tj::tj3Init(tj::TJINIT_TJINIT_DECOMPRESS as i32) };
    if h.is_null() {
        return Err("tj3Init failed".into());
    }
    for n in 1..=8i32 {
        let gcd = [8, 4, 2, 1].into_iter().find(|d| n % d == 0).unwrap_or(1);
        let factor = tj::tjscalingfactor { num: n / gcd, denom: 8 / gcd };
        let mut best = f64::MAX;
        let (mut w, mut hh) = (0usize, 0usize);
        for _ in 0..runs {
            // SAFETY: a live handle; `bytes` outlives the calls; `out` is exactly the scaled
            // width x height x 3 bytes TurboJPEG writes for TJPF_RGB with a packed pitch.
            unsafe {
                if tj::tj3DecompressHeader(h, bytes.as_ptr(), bytes.len() as _) != 0 || tj::tj3SetScalingFactor(h, factor) != 0 {
                    return Err("not a JPEG libjpeg-turbo scales".into());
                }
                let scaled = |d: i32| ((d as i64 * factor.num as i64 + factor.denom as i64 - 1) / factor.denom as i64) as usize;
                w = scaled(tj::tj3Get(h, tj::TJPARAM_TJPARAM_JPEGWIDTH as i32));
                hh = scaled(tj::tj3Get(h, tj::TJPARAM_TJPARAM_JPEGHEIGHT as i32));
                let mut out = vec![0u8; w * hh * 3];
                let t = Instant::now();
                tj::tj3Decompress8(h, bytes.as_ptr(), bytes.len() as _, out.as_mut_ptr(), (w * 3) as i32, tj::TJPF_TJPF_RGB);
                best = best.min(t.elapsed().as_secs_f64() * 1000.0);
            }
        }
        println!("{}", serde_json::json!({"eighths": n, "width": w, "height": hh, "best_ms": best}));
    }
    // SAFETY: created above, destroyed once.
    unsafe { tj::tj3Destroy(h) };
    Ok(())
}
