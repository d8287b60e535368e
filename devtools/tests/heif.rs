//! HEIC/HEIF and AVIF uploads through the production boundary (`inspect_guarded`): real files
//! from the pinned encoders decode to the pixels libheif/libavif give, turned as displayed;
//! public originals are rebuilt without Exif, XMP or thumbnail items (checked by walking the
//! served bytes); a HEIC gets a full-size rendition every browser shows; hostile containers
//! are refused with their documented code before anything is allocated for pixels.

use devtools::heif::{self, fixture};
use shared::domain::kinds::ContentType;
use shared::imaging::pixels::Pixels;
use shared::imaging::{inspect_guarded, metadata_findings, DecodeLimits, ImageError, Request, ThumbnailSpec};
use std::sync::Arc;
use std::time::Duration;

fn limits() -> DecodeLimits {
    DecodeLimits { max_pixels: 50_000_000, max_side: 20_000, max_jpeg_scans: 64, max_memory_mb: 384, time_budget: Duration::from_secs(30) }
}

fn request(declared: ContentType, strip: bool) -> Request {
    Request {
        declared,
        allowed: ContentType::IMAGES.to_vec(),
        thumbnails: ThumbnailSpec { sizes: vec![128, 512], quality: 80.0, method: 2, parallel: false },
        strip,
        limits: limits(),
    }
}

fn type_of(name: &str) -> ContentType {
    if name.ends_with(".avif") { ContentType::Avif } else { ContentType::Heic }
}

/// The reference decode (libheif + libde265, or libavif) written beside the fixture.
fn reference(name: &str) -> image::DynamicImage {
    fixture(name);
    let path = devtools::env::repo_root().join("target/heif-fixtures").join(format!("{name}.png"));
    image::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Mean absolute difference per channel of `p` against the reference, on a 16x16 grid of
/// box averages (about colour and geometry, not about resampling).
fn difference(p: &Pixels, reference: &image::DynamicImage) -> f32 {
    const GRID: u32 = 16;
    let grid = |w: u32, h: u32, at: &dyn Fn(u32, u32) -> [f32; 3]| {
        let mut sum = vec![0f32; (GRID * GRID * 3) as usize];
        let mut n = vec![0f32; (GRID * GRID) as usize];
        for y in 0..h {
            for x in 0..w {
                let i = ((y * GRID / h) * GRID + x * GRID / w) as usize;
                n[i] += 1.0;
                let px = at(x, y);
                (0..3).for_each(|c| sum[i * 3 + c] += px[c]);
            }
        }
        sum.iter().enumerate().map(|(i, s)| s / n[i / 3].max(1.0)).collect::<Vec<_>>()
    };
    let ch = if p.alpha { 4 } else { 3 };
    let ours = grid(p.width, p.height, &|x, y| {
        let at = ((y * p.width + x) * ch) as usize;
        let a = if p.alpha { p.data[at + 3] as f32 / 255.0 } else { 1.0 };
        [p.data[at] as f32 * a, p.data[at + 1] as f32 * a, p.data[at + 2] as f32 * a]
    });
    let r = reference.to_rgba8();
    let theirs = grid(r.width(), r.height(), &|x, y| {
        let px = r.get_pixel(x, y).0;
        let a = px[3] as f32 / 255.0;
        [px[0] as f32 * a, px[1] as f32 * a, px[2] as f32 * a]
    });
    ours.iter().zip(&theirs).map(|(a, b)| (a - b).abs()).sum::<f32>() / ours.len() as f32
}

fn decode_whole(name: &str) -> Pixels {
    let bytes = fixture(name);
    let p = shared::imaging::probe(&bytes, type_of(name), limits()).unwrap_or_else(|e| panic!("{name}: {e}"));
    shared::imaging::codec::decode(&bytes, &p, None, limits()).unwrap_or_else(|e| panic!("{name}: {e}")).pixels
}

#[test]
fn every_fixture_decodes_to_the_reference_pixels_as_displayed() {
    for name in heif::ALL {
        let p = decode_whole(name);
        let r = reference(name);
        assert_eq!((p.width, p.height), (r.width(), r.height()), "{name}: displayed size (irot applied)");
        let d = difference(&p, &r);
        assert!(d < 3.0, "{name}: mean difference {d:.2} against the reference decoder");
    }
}

#[test]
fn orientation_alpha_depth_and_the_primary_image_are_honoured() {
    // rotated.heic is 640x480 stored with irot for EXIF orientation 6: shown portrait, and its
    // red top-left corner is now at the top right.
    let p = decode_whole("rotated.heic");
    assert_eq!((p.width, p.height), (480, 640));
    let at = |p: &Pixels, x: u32, y: u32| {
        let ch = if p.alpha { 4 } else { 3 };
        let i = ((y * p.width + x) * ch) as usize;
        p.data[i..i + ch as usize].to_vec()
    };
    let red = at(&p, p.width - 20, 20);
    assert!(red[0] > 180 && red[1] < 80, "red corner after the turn: {red:?}");
    let a = decode_whole("alpha.heic");
    assert!(a.alpha, "alpha plane kept");
    assert_eq!(at(&a, 20, 150)[3], 0, "left half transparent");
    assert_eq!(at(&a, 380, 150)[3], 255, "right half opaque");
    // The multi-image file's primary is its second, portrait picture.
    let m = decode_whole("multi.heic");
    assert_eq!((m.width, m.height), (300, 400));
    let g = decode_whole("grid.heic");
    assert_eq!((g.width, g.height), (1200, 900), "a 5x4 grid of 256 px tiles, cropped to its canvas");
}

#[test]
fn a_public_heic_is_served_without_gps_exif_xmp_or_thumbnail_items() {
    for name in ["photo.heic", "grid.heic", "rotated.heic", "alpha.heic", "photo.avif"] {
        let bytes = fixture(name);
        let before = metadata_findings(&bytes, type_of(name));
        if name.ends_with(".heic") && name != "alpha.heic" {
            assert!(before.iter().any(|f| f.contains("Exif")), "{name}: the fixture carries Exif: {before:?}");
        }
        let got = inspect_guarded(Arc::new(bytes), request(type_of(name), true)).unwrap_or_else(|e| panic!("{name}: {e}"));
        let stripped = got.stripped.expect("stripped");
        assert_eq!(metadata_findings(&stripped, type_of(name)), Vec::<String>::new(), "{name}");
        for needle in [&b"LeakyPhone"[..], b"GPS", b"xmpmeta", b"Exif"] {
            assert!(!stripped.windows(needle.len()).any(|w| w == needle), "{name}: {:?} in the served bytes", String::from_utf8_lossy(needle));
        }
        // The stripped file is still the same picture to the reference decoder's parser and ours.
        let layout = shared::imaging::heif::walk(&stripped).expect("stripped file walks");
        assert!(layout.items.iter().all(|i| matches!(&i.kind, b"hvc1" | b"av01" | b"grid")), "{name}: {:?}", layout.items.iter().map(|i| String::from_utf8_lossy(&i.kind).into_owned()).collect::<Vec<_>>());
        let p = shared::imaging::probe(&stripped, type_of(name), limits()).expect("probe stripped");
        let again = shared::imaging::codec::decode(&stripped, &p, None, limits()).expect("decode stripped").pixels;
        assert!(difference(&again, &reference(name)) < 3.0, "{name}: stripped decodes the same");
    }
}

#[test]
fn a_heic_gets_a_full_size_rendition_every_browser_shows_and_avif_needs_none() {
    let got = inspect_guarded(Arc::new(fixture("rotated.heic")), request(ContentType::Heic, true)).expect("ready");
    let d = got.display.expect("a display rendition");
    assert_eq!((d.content_type, d.width, d.height), (ContentType::Jpeg, 480, 640));
    let shown = image::load_from_memory(&d.bytes).expect("a JPEG");
    assert_eq!((shown.width(), shown.height()), (480, 640));
    assert!(difference(&Pixels { width: 480, height: 640, alpha: false, data: shown.to_rgb8().into_raw() }, &reference("rotated.heic")) < 4.0);
    assert!(!d.bytes.windows(4).any(|w| w == b"Exif"), "the rendition carries no metadata");
    assert_eq!(got.thumbs.iter().map(|t| (t.width, t.height)).collect::<Vec<_>>(), vec![(96, 128), (384, 512)]);
    let alpha = inspect_guarded(Arc::new(fixture("alpha.heic")), request(ContentType::Heic, true)).expect("ready");
    assert_eq!(alpha.display.expect("display").content_type, ContentType::Webp, "transparency keeps alpha");
    let avif = inspect_guarded(Arc::new(fixture("photo.avif")), request(ContentType::Avif, true)).expect("ready");
    assert!(avif.display.is_none(), "browsers show AVIF");
    // A phone may call a HEIC image/heif: one family.
    assert!(inspect_guarded(Arc::new(fixture("photo.heic")), request(ContentType::Heif, false)).is_ok());
    assert!(matches!(inspect_guarded(Arc::new(fixture("photo.heic")), request(ContentType::Avif, false)), Err(ImageError::TypeMismatch { .. })));
}

fn verdict(bytes: Vec<u8>, declared: ContentType) -> Result<(), String> {
    inspect_guarded(Arc::new(bytes), request(declared, true)).map(|_| ()).map_err(|e| match e {
        ImageError::Corrupt(m) => format!("corrupt_image: {m}"),
        ImageError::DimensionsTooLarge { width, height } => format!("dimensions_too_large: {width}x{height}"),
        ImageError::LimitExceeded(m) => format!("processing_limit: {m}"),
        other => format!("{other:?}"),
    })
}

#[test]
fn hostile_containers_are_refused_before_decoding() {
    let starts = |r: Result<(), String>, code: &str, what: &str| {
        let e = r.expect_err(what);
        assert!(e.starts_with(code), "{what}: {e}");
    };
    starts(verdict(heif::with_ispe("photo.heic", 100_000, 100_000), ContentType::Heic), "dimensions_too_large", "ispe claiming 100000x100000");
    starts(verdict(heif::with_grid(2, 2, 100_000, 100_000), ContentType::Heic), "dimensions_too_large", "a 100000x100000 grid");
    starts(verdict(heif::with_grid(255, 255, 1200, 900), ContentType::Heic), "corrupt_image", "a grid of 65025 tiles with 20 references");
    starts(verdict(heif::with_item_count("photo.heic", 1_000_000), ContentType::Heic), "corrupt_image", "a million items");
    starts(verdict(heif::with_extent_past_end("photo.heic"), ContentType::Heic), "corrupt_image", "iloc past the end");
    starts(verdict(heif::with_extent_past_end("photo.avif"), ContentType::Avif), "corrupt_image", "AVIF iloc past the end");
    // ispe smaller than the coded picture: the decoders' size disagrees with the header's.
    let lying = verdict(heif::with_ispe("photo.heic", 64, 48), ContentType::Heic);
    assert!(lying.is_err(), "a lying ispe is refused: {lying:?}");
    for name in heif::ALL {
        let whole = fixture(name);
        for keep in [whole.len() / 2, whole.len() - 1, 200, 40, 12] {
            let got = verdict(whole[..keep].to_vec(), type_of(name));
            assert!(got.as_ref().is_err_and(|e| e.starts_with("corrupt_image") || e.starts_with("NotAnImage")), "{name} cut to {keep}: {got:?}");
        }
        // A sweep of single-byte corruptions: verdicts, never panics escaping the boundary.
        for i in (0..whole.len().min(3000)).step_by(11) {
            let mut bad = whole.clone();
            bad[i] ^= 0x5A;
            let _ = verdict(bad, type_of(name));
        }
    }
}

#[test]
fn the_memory_bound_refuses_what_would_not_fit() {
    let small = DecodeLimits { max_memory_mb: 1, ..limits() };
    let bytes = fixture("grid.heic");
    assert!(matches!(shared::imaging::probe(&bytes, ContentType::Heic, small), Err(ImageError::DimensionsTooLarge { width: 1200, height: 900 })));
}

#[test]
fn an_avif_with_alpha_keeps_its_transparency() {
    // Written by the project's own AVIF encoder (rav1e), which stores alpha as an auxiliary image.
    let rgba: Vec<u8> = (0..320 * 200).flat_map(|i| if (i % 320) < 160 { [0, 0, 0, 0] } else { [30, 160, 220, 255] }).collect();
    let avif = shared::imaging::codec::encode(&Pixels { width: 320, height: 200, alpha: true, data: rgba }, shared::imaging::pixels::Format::Avif(80)).unwrap();
    let got = inspect_guarded(Arc::new(avif.clone()), request(ContentType::Avif, true)).expect("ready");
    assert_eq!((got.probe.stored_width, got.probe.stored_height), (320, 200));
    assert!(got.placeholder.has_alpha, "the placeholder says it is transparent");
    let p = shared::imaging::probe(&avif, ContentType::Avif, limits()).unwrap();
    let px = shared::imaging::codec::decode(&avif, &p, None, limits()).unwrap().pixels;
    assert!(px.alpha);
    assert!(px.data[(100 * 320 + 20) * 4 + 3] < 16 && px.data[(100 * 320 + 300) * 4 + 3] > 240, "left transparent, right opaque");
    assert_eq!(metadata_findings(&got.stripped.unwrap(), ContentType::Avif), Vec::<String>::new());
}

/// Found by `scripts/fuzz` (heif_container): a kept item with no `iloc` entry. The walk keeps
/// it, its data is absent, and the upload gets a verdict (never a panic).
#[test]
fn an_item_without_a_location_is_a_verdict() {
    let bytes = std::fs::read(devtools::env::repo_root().join("devtools/tests/regressions/heif-item-without-location.heic")).unwrap();
    if let Ok(layout) = shared::imaging::heif::walk(&bytes) {
        for item in layout.kept_items() {
            let _ = layout.data(&bytes, item);
        }
    }
    for declared in [ContentType::Heic, ContentType::Avif] {
        let _ = inspect_guarded(Arc::new(bytes.clone()), request(declared, true));
    }
}
