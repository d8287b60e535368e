//! The progressive fast path (`imaging::scans`) on files from the real encoders' scan scripts:
//! libjpeg's standard script (successive approximation, 10 scans) and mozjpeg's (a non-standard
//! order). A scaled production decode (`Scans::Needed`) is the picture a decode of every scan
//! gives, within the stated SSIM at the thumbnail's size; a file whose quantiser is too coarse
//! for the rule decodes to exactly the same pixels.

use devtools::progressive::{fixture, ssim, ALL};
use shared::domain::kinds::ContentType;
use shared::imaging::codec::{decode_reading, Scans};
use shared::imaging::container::walk_jpeg;
use shared::imaging::pixels::{fit, Pixels};
use shared::imaging::{probe, scans, DecodeLimits};
use std::time::Duration;

/// The stated bound: the pruned decode, resized to the thumbnail, against the full decode
/// resized the same way (docs/MEDIA.md).
const SSIM_MIN: f64 = 0.998;
/// The largest thumbnail for these 1600 px files: decoded at 1/2, as production does.
const THUMB: u32 = 512;

fn limits() -> DecodeLimits {
    DecodeLimits { max_pixels: 50_000_000, max_side: 20_000, max_jpeg_scans: 64, max_memory_mb: 384, time_budget: Duration::from_secs(30) }
}

/// (components, Ss, Se, Ah, Al) of every scan.
fn script(bytes: &[u8]) -> Vec<(Vec<u8>, u8, u8, u8, u8)> {
    let mut out = Vec::new();
    walk_jpeg(bytes, |s| {
        if s.marker == 0xDA {
            let p = s.payload();
            let n = p[0] as usize;
            let at = 1 + 2 * n;
            out.push(((0..n).map(|k| p[1 + 2 * k]).collect(), p[at], p[at + 1], p[at + 2] >> 4, p[at + 2] & 15));
        }
    })
    .expect("a walkable JPEG");
    out
}

fn thumb(p: &Pixels) -> Pixels {
    let (w, h) = fit(p.width, p.height, THUMB);
    let img = image::RgbImage::from_raw(p.width, p.height, p.data.clone()).expect("RGB pixels");
    let small = image::imageops::resize(&img, w, h, image::imageops::FilterType::Lanczos3);
    Pixels { width: w, height: h, alpha: false, data: small.into_raw() }
}

#[test]
fn the_fixtures_carry_the_real_encoders_scripts() {
    let libjpeg = script(&fixture("libjpeg-q95.jpg"));
    assert_eq!(libjpeg.len(), 10, "libjpeg's standard script for YCbCr");
    assert!(libjpeg.iter().any(|s| s.3 > 0 && s.1 > 0), "successive approximation: an AC refinement scan");
    let moz = script(&fixture("mozjpeg-script-q95.jpg"));
    let luma_high = moz.iter().position(|s| s.0 == [1] && s.1 == 9 && s.3 == 0).expect("luma 9-63 first pass");
    let luma_refine = moz.iter().position(|s| s.0 == [1] && s.3 > 0).expect("a luma refinement");
    assert!(luma_high < luma_refine, "mozjpeg's order: the high luma band before the luma refinements");
    assert_ne!(moz.iter().map(|s| (s.1, s.2, s.3, s.4)).collect::<Vec<_>>(), libjpeg.iter().map(|s| (s.1, s.2, s.3, s.4)).collect::<Vec<_>>());
}

#[test]
fn a_scaled_decode_reads_fewer_scans_and_gives_the_full_decodes_picture_within_the_bound() {
    for name in ALL {
        let bytes = fixture(name);
        let p = probe(&bytes, ContentType::Jpeg, limits()).unwrap();
        let needed = decode_reading(&bytes, &p, Some(THUMB), limits(), Scans::Needed).unwrap().pixels;
        let every = decode_reading(&bytes, &p, Some(THUMB), limits(), Scans::Every).unwrap().pixels;
        assert_eq!((needed.width, needed.height), (800, 600), "{name}: decoded at 1/2");
        assert_eq!((every.width, every.height), (800, 600));
        let pruned = scans::prune(&bytes);
        let at_thumb = ssim(&thumb(&needed), &thumb(&every));
        eprintln!("{name}: {} of {} scans, SSIM at {THUMB} px {at_thumb:.5}", pruned.as_deref().map_or(0, |b| script(b).len()), script(&bytes).len());
        if name == "libjpeg-q85.jpg" {
            // Steps too coarse for its lowest bit to go unseen: every scan is read.
            assert!(pruned.is_none(), "{name}");
            assert!(needed.data == every.data, "{name}: the same pixels");
            continue;
        }
        let pruned = pruned.unwrap_or_else(|| panic!("{name}: a high-quality progressive file loses its last AC bits"));
        assert!(script(&pruned).len() < script(&bytes).len());
        assert!(needed.data != every.data, "{name}: the scans dropped carried data");
        assert!(at_thumb >= SSIM_MIN, "{name}: SSIM {at_thumb:.5} against the full decode");
    }
}

#[test]
fn a_full_size_decode_reads_every_scan() {
    let bytes = fixture("libjpeg-q95.jpg");
    let p = probe(&bytes, ContentType::Jpeg, limits()).unwrap();
    let needed = decode_reading(&bytes, &p, None, limits(), Scans::Needed).unwrap().pixels;
    let every = decode_reading(&bytes, &p, None, limits(), Scans::Every).unwrap().pixels;
    assert_eq!((needed.width, needed.height), (1600, 1200));
    assert!(needed.data == every.data);
}
