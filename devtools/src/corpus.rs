//! A corpus of real-world-shaped files, generated (no downloads): every input class phones,
//! cameras, editors and browsers send (progressive, 4:4:4 and 4:2:2, CMYK, restart markers,
//! greyscale, ICC, EXIF with GPS, MPF and motion-photo trailers, 16-bit and interlaced PNG,
//! palette PNG with tRNS, lossless, alpha and animated WebP), and hostile files that must be
//! rejected. Pixels are photo-like: several octaves of value noise plus sensor-like grain, so
//! they compress like photos, not like smooth gradients.

use crate::images::{exif_tiff, with_exif};
use jpeg_encoder::{ColorType, Encoder, SamplingFactor};
use shared::imaging::pixels::{Format, Pixels, WebpSettings};
use shared::imaging::codec::encode;
use shared::imaging::png_chunk;

/// What verification must decide for a fixture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// Ready with these display dimensions.
    Ready { width: u32, height: u32 },
    /// Rejected with this code.
    Rejected(&'static str),
}

pub struct Fixture {
    pub name: &'static str,
    /// The type the client declares.
    pub content_type: &'static str,
    pub bytes: Vec<u8>,
    pub expect: Expect,
}

/// A deterministic hash of a lattice point: the noise's random values.
fn lattice(x: i64, y: i64, seed: u32) -> f32 {
    let mut h = (x as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (y as u64).wrapping_mul(0xC2B2_AE3D_27D4_EB4F) ^ seed as u64;
    h ^= h >> 31;
    h = h.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    h ^= h >> 29;
    (h & 0xFFFF) as f32 / 65535.0
}

fn value_noise(x: f32, y: f32, cell: f32, seed: u32) -> f32 {
    let (fx, fy) = (x / cell, y / cell);
    let (x0, y0) = (fx.floor(), fy.floor());
    let (tx, ty) = (fx - x0, fy - y0);
    let (sx, sy) = (tx * tx * (3.0 - 2.0 * tx), ty * ty * (3.0 - 2.0 * ty));
    let (ix, iy) = (x0 as i64, y0 as i64);
    let a = lattice(ix, iy, seed) + sx * (lattice(ix + 1, iy, seed) - lattice(ix, iy, seed));
    let b = lattice(ix, iy + 1, seed) + sx * (lattice(ix + 1, iy + 1, seed) - lattice(ix, iy + 1, seed));
    a + sy * (b - a)
}

/// Photo-like RGB8 pixels: large soft shapes, mid-scale texture, fine detail and grain.
pub fn photo_rgb(w: u32, h: u32, seed: u32) -> Vec<u8> {
    let mut out = Vec::with_capacity(w as usize * h as usize * 3);
    for y in 0..h {
        for x in 0..w {
            let (xf, yf) = (x as f32, y as f32);
            let mut px = [0f32; 3];
            for (c, v) in px.iter_mut().enumerate() {
                let s = seed.wrapping_mul(7).wrapping_add(c as u32 * 101);
                *v = 0.45 * value_noise(xf, yf, 180.0, s)
                    + 0.25 * value_noise(xf, yf, 40.0, s + 1)
                    + 0.18 * value_noise(xf, yf, 9.0, s + 2)
                    + 0.12 * value_noise(xf, yf, 2.5, s + 3);
            }
            let grain = (lattice(x as i64, y as i64, seed ^ 0xA5A5) - 0.5) * 28.0;
            for v in px {
                out.push((v * 255.0 + grain).clamp(0.0, 255.0) as u8);
            }
        }
    }
    out
}

fn jpeg_with(w: u32, h: u32, seed: u32, color: ColorType, set: impl FnOnce(&mut Encoder<&mut Vec<u8>>)) -> Vec<u8> {
    let rgb = photo_rgb(w, h, seed);
    let data: Vec<u8> = match color {
        ColorType::Luma => rgb.chunks(3).map(|p| ((p[0] as u32 * 3 + p[1] as u32 * 6 + p[2] as u32) / 10) as u8).collect(),
        ColorType::Cmyk => rgb
            .chunks(3)
            .flat_map(|p| {
                let k = 255 - p[0].max(p[1]).max(p[2]);
                [255 - p[0] - k, 255 - p[1] - k, 255 - p[2] - k, k].map(|v| 255 - v)
            })
            .collect(),
        _ => rgb,
    };
    let mut out = Vec::new();
    let mut enc = Encoder::new(&mut out, 85);
    set(&mut enc);
    enc.encode(&data, w as u16, h as u16, color).expect("jpeg encodes");
    out
}

fn jpeg(w: u32, h: u32, seed: u32) -> Vec<u8> {
    jpeg_with(w, h, seed, ColorType::Rgb, |_| {})
}

/// Inserts a JPEG segment right before the `n`-th SOS (0-based).
fn insert_before_scan(j: &[u8], n: usize, segment: &[u8]) -> Vec<u8> {
    let mut scans = 0;
    let mut at = None;
    shared::imaging::container::walk_jpeg(j, |s| {
        if s.marker == 0xDA {
            if scans == n && at.is_none() {
                at = Some(s.bytes.as_ptr() as usize - j.as_ptr() as usize);
            }
            scans += 1;
        }
    });
    let at = at.expect("the JPEG has that many scans");
    let mut out = j[..at].to_vec();
    out.extend_from_slice(segment);
    out.extend_from_slice(&j[at..]);
    out
}

fn segment(marker: u8, payload: &[u8]) -> Vec<u8> {
    let mut s = vec![0xFF, marker];
    s.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
    s.extend_from_slice(payload);
    s
}

/// A minimal ICC v2 header (an sRGB-like display profile with no tags): enough for every
/// container to carry it and every decoder to pass it through.
pub fn icc_profile() -> Vec<u8> {
    let mut p = vec![0u8; 132];
    p[..4].copy_from_slice(&132u32.to_be_bytes());
    p[8] = 2;
    p[12..16].copy_from_slice(b"mntr");
    p[16..20].copy_from_slice(b"RGB ");
    p[20..24].copy_from_slice(b"XYZ ");
    p[36..40].copy_from_slice(b"acsp");
    p
}

/// The seven Adam7 passes: (x start, y start, x step, y step).
const ADAM7: [(u32, u32, u32, u32); 7] = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)];

/// A PNG written by hand, so every chunk and the interlacing are ours to choose: `pixels` is
/// row-major with `bpp` bytes per pixel; `before`/`after` chunks go around IDAT.
fn png(w: u32, h: u32, color_type: u8, depth: u8, bpp: usize, pixels: &[u8], interlaced: bool, before: &[Vec<u8>], after: &[Vec<u8>]) -> Vec<u8> {
    let mut raw = Vec::new();
    let mut scanlines = |x0: u32, y0: u32, dx: u32, dy: u32| {
        for y in (y0..h).step_by(dy as usize) {
            let xs: Vec<u32> = (x0..w).step_by(dx as usize).collect();
            if xs.is_empty() {
                continue;
            }
            raw.push(0);
            for x in xs {
                let i = (y as usize * w as usize + x as usize) * bpp;
                raw.extend_from_slice(&pixels[i..i + bpp]);
            }
        }
    };
    if interlaced {
        for (x0, y0, dx, dy) in ADAM7 {
            scanlines(x0, y0, dx, dy);
        }
    } else {
        scanlines(0, 0, 1, 1);
    }
    let mut ihdr = w.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[depth, color_type, 0, 0, interlaced as u8]);
    let mut out = shared::imaging::container::PNG_SIGNATURE.to_vec();
    out.extend_from_slice(&png_chunk(b"IHDR", &ihdr));
    for c in before {
        out.extend_from_slice(c);
    }
    out.extend_from_slice(&png_chunk(b"IDAT", &miniz_oxide::deflate::compress_to_vec_zlib(&raw, 6)));
    for c in after {
        out.extend_from_slice(c);
    }
    out.extend_from_slice(&png_chunk(b"IEND", b""));
    out
}

fn widen16(bytes: &[u8]) -> Vec<u8> {
    bytes.iter().flat_map(|&v| [v, v ^ 0x5A]).collect()
}

fn with_alpha(rgb: &[u8], w: u32) -> Vec<u8> {
    rgb.chunks(3)
        .enumerate()
        .flat_map(|(i, p)| [p[0], p[1], p[2], ((i as u32 % w) * 255 / w.max(1)) as u8])
        .collect()
}

fn riff(chunks: &[(&[u8; 4], Vec<u8>)], trailer: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    for (fourcc, data) in chunks {
        body.extend_from_slice(*fourcc);
        body.extend_from_slice(&(data.len() as u32).to_le_bytes());
        body.extend_from_slice(data);
        if data.len() % 2 == 1 {
            body.push(0);
        }
    }
    let mut out = b"RIFF".to_vec();
    out.extend_from_slice(&((body.len() + 4) as u32).to_le_bytes());
    out.extend_from_slice(b"WEBP");
    out.extend_from_slice(&body);
    out.extend_from_slice(trailer);
    out
}

/// The bitstream chunk (VP8 or VP8L) of a simple-format WebP, by fourcc.
fn bitstream(webp: &[u8]) -> ([u8; 4], Vec<u8>) {
    let fourcc: [u8; 4] = webp[12..16].try_into().expect("chunk header");
    let len = u32::from_le_bytes(webp[16..20].try_into().expect("length")) as usize;
    (fourcc, webp[20..20 + len].to_vec())
}

fn webp_lossy(w: u32, h: u32, seed: u32) -> Vec<u8> {
    webp_encode(photo_rgb(w, h, seed), w, h, false, WebpSettings::lossy(82.0, 4))
}

/// WebP through the project's own libwebp (the one copy in the build).
pub fn webp_encode(data: Vec<u8>, width: u32, height: u32, alpha: bool, settings: WebpSettings) -> Vec<u8> {
    encode(&Pixels { width, height, alpha, data }, Format::Webp(settings)).expect("fixture encodes")
}

fn vp8x(flags: u8, w: u32, h: u32) -> Vec<u8> {
    let (a, b) = ((w - 1).to_le_bytes(), (h - 1).to_le_bytes());
    vec![flags, 0, 0, 0, a[0], a[1], a[2], b[0], b[1], b[2]]
}

fn mp4_box(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut b = ((body.len() + 8) as u32).to_be_bytes().to_vec();
    b.extend_from_slice(kind);
    b.extend_from_slice(body);
    b
}

/// What a motion photo appends after the JPEG: a small MP4.
fn mp4_trailer() -> Vec<u8> {
    let mut m = mp4_box(b"ftyp", b"mp42\0\0\0\0isommp42");
    m.extend_from_slice(&mp4_box(b"mdat", &[0x42; 4096]));
    m
}

/// The corpus at test size: photos of 1600x1200, PNGs of 640x480.
pub fn corpus() -> Vec<Fixture> {
    corpus_sized(1600, 1200, 640, 480)
}

/// The same classes tiny, as seeds for the fuzzer (small inputs mutate fast).
pub fn fuzz_seeds() -> Vec<Fixture> {
    corpus_sized(48, 32, 40, 30)
}

/// The real-world classes (all expected ready) and the hostile files; photos are `w`x`h`, PNGs
/// `pw`x`ph`, secondary images smaller.
pub fn corpus_sized(w: u32, h: u32, pw: u32, ph: u32) -> Vec<Fixture> {
    let (hw, hh) = (w / 2, h / 2);
    let ready = |width, height| Expect::Ready { width, height };
    let gps = exif_tiff(1, true);
    let mut f = Vec::new();
    let mut add = |name, content_type, bytes, expect| f.push(Fixture { name, content_type, bytes, expect });

    add("baseline-420-gps.jpg", "image/jpeg", with_exif(&jpeg(w, h, 1), &gps), ready(w, h));
    add(
        "progressive.jpg",
        "image/jpeg",
        jpeg_with(w, h, 2, ColorType::Rgb, |e| e.set_progressive(true)),
        ready(w, h),
    );
    add(
        "sampling-444.jpg",
        "image/jpeg",
        jpeg_with(w, h, 3, ColorType::Rgb, |e| e.set_sampling_factor(SamplingFactor::R_4_4_4)),
        ready(w, h),
    );
    add(
        "sampling-422.jpg",
        "image/jpeg",
        jpeg_with(w, h, 4, ColorType::Rgb, |e| e.set_sampling_factor(SamplingFactor::R_4_2_2)),
        ready(w, h),
    );
    add("cmyk.jpg", "image/jpeg", jpeg_with(hw, hh, 5, ColorType::Cmyk, |_| {}), ready(hw, hh));
    add(
        "restart-markers.jpg",
        "image/jpeg",
        jpeg_with(w, h, 6, ColorType::Rgb, |e| e.set_restart_interval(4)),
        ready(w, h),
    );
    add("greyscale.jpg", "image/jpeg", jpeg_with(w, h, 7, ColorType::Luma, |_| {}), ready(w, h));
    add(
        "icc-profile.jpg",
        "image/jpeg",
        jpeg_with(w, h, 8, ColorType::Rgb, |e| e.add_icc_profile(&icc_profile()).expect("icc fits")),
        ready(w, h),
    );
    add("orientation-6-gps.jpg", "image/jpeg", with_exif(&jpeg(w, h, 9), &exif_tiff(6, true)), ready(h, w));
    {
        // The case: a plain JPEG with a whole second JPEG (with GPS EXIF) after EOI.
        let mut j = jpeg(w, h, 10);
        j.extend_from_slice(&with_exif(&jpeg(hw / 2, hh / 2, 11), &gps));
        add("jpeg-plus-gps-jpeg.jpg", "image/jpeg", j, ready(w, h));
    }
    {
        // MPF (multi-picture): an APP2 index plus a secondary image with its own EXIF.
        let primary = jpeg(w, h, 12);
        let mut j = primary[..2].to_vec();
        j.extend_from_slice(&segment(0xE2, b"MPF\0MM\0\x2a\0\0\0\x08\0\x03secondary-image-index"));
        j.extend_from_slice(&primary[2..]);
        j.extend_from_slice(&with_exif(&jpeg(hw, hh, 13), &gps));
        add("mpf-secondary.jpg", "image/jpeg", j, ready(w, h));
    }
    {
        // Motion photo: XMP naming the video, and an MP4 after EOI.
        let primary = jpeg(w, h, 14);
        let mut j = primary[..2].to_vec();
        j.extend_from_slice(&segment(
            0xE1,
            b"http://ns.adobe.com/xap/1.0/\0<x:xmpmeta><GCamera:MotionPhoto>1</GCamera:MotionPhoto></x:xmpmeta>",
        ));
        j.extend_from_slice(&primary[2..]);
        j.extend_from_slice(&mp4_trailer());
        add("motion-photo.jpg", "image/jpeg", j, ready(w, h));
    }
    {
        let p = jpeg_with(w, h, 15, ColorType::Rgb, |e| e.set_progressive(true));
        let p = insert_before_scan(&p, 2, &segment(0xFE, b"comment between scans"));
        let p = insert_before_scan(&p, 3, &segment(0xE1, b"Exif\0\0GPS between scans"));
        add("segments-between-scans.jpg", "image/jpeg", p, ready(w, h));
    }

    let rgb = photo_rgb(pw, ph, 20);
    add("rgb-16bit.png", "image/png", png(pw, ph, 2, 16, 6, &widen16(&rgb), false, &[], &[]), ready(pw, ph));
    add(
        "rgba-16bit.png",
        "image/png",
        png(pw, ph, 6, 16, 8, &widen16(&with_alpha(&rgb, pw)), false, &[], &[]),
        ready(pw, ph),
    );
    add("interlaced.png", "image/png", png(pw, ph, 2, 8, 3, &rgb, true, &[], &[]), ready(pw, ph));
    {
        let palette: Vec<u8> = (0..=255u32).flat_map(|i| [i as u8, (i * 7) as u8, (255 - i) as u8]).collect();
        let trns: Vec<u8> = (0..=255u32).map(|i| if i < 32 { 0 } else { 255 }).collect();
        let idx: Vec<u8> = rgb.chunks(3).map(|p| p[0]).collect();
        let chunks = [png_chunk(b"PLTE", &palette), png_chunk(b"tRNS", &trns)];
        add("palette-trns.png", "image/png", png(pw, ph, 3, 8, 1, &idx, false, &chunks, &[]), ready(pw, ph));
    }
    {
        let before = [
            png_chunk(b"iCCP", &[b"sRGB\0\0".as_slice(), &miniz_oxide::deflate::compress_to_vec_zlib(&icc_profile(), 6)].concat()),
            png_chunk(b"tEXt", b"Comment\0shot at 48.8584 N 2.2945 E"),
            png_chunk(b"zTXt", &[b"Raw profile type exif\0\0".as_slice(), &miniz_oxide::deflate::compress_to_vec_zlib(b"GPS", 6)].concat()),
            png_chunk(b"iTXt", b"XML:com.adobe.xmp\0\0\0\0\0<x:xmpmeta>GPSLatitude</x:xmpmeta>"),
            png_chunk(b"eXIf", &gps),
            png_chunk(b"prVt", b"private ancillary chunk: serial 1234"),
        ];
        let mut p = png(pw, ph, 2, 8, 3, &rgb, false, &before, &[png_chunk(b"tIME", &[7, 234, 11, 24, 12, 0, 0])]);
        p.extend_from_slice(b"bytes after IEND: secret");
        add("text-private-chunks.png", "image/png", p, ready(pw, ph));
    }

    add("lossy.webp", "image/webp", webp_lossy(w, h, 30), ready(w, h));
    {
        let rgba = with_alpha(&photo_rgb(hw, hh, 31), hw);
        add("lossless-alpha.webp", "image/webp", webp_encode(rgba, hw, hh, true, WebpSettings::lossless()), ready(hw, hh));
    }
    {
        let (fw, fh) = (hw / 2, hh / 2);
        let frame = |seed| {
            let (fourcc, data) = bitstream(&webp_lossy(fw, fh, seed));
            let mut anmf = vec![0u8; 16];
            anmf[6..9].copy_from_slice(&(fw - 1).to_le_bytes()[..3]);
            anmf[9..12].copy_from_slice(&(fh - 1).to_le_bytes()[..3]);
            anmf[12..15].copy_from_slice(&100u32.to_le_bytes()[..3]);
            anmf.extend_from_slice(&fourcc);
            anmf.extend_from_slice(&(data.len() as u32).to_le_bytes());
            anmf.extend_from_slice(&data);
            if data.len() % 2 == 1 {
                anmf.push(0);
            }
            anmf
        };
        let chunks = [(b"VP8X", vp8x(0x02, fw, fh)), (b"ANIM", vec![0, 0, 0, 0, 0, 0]), (b"ANMF", frame(32)), (b"ANMF", frame(33))];
        add("animated.webp", "image/webp", riff(&chunks, &[]), ready(fw, fh));
    }
    {
        let (fourcc, data) = bitstream(&webp_lossy(w, h, 34));
        let chunks = [
            (b"VP8X", vp8x(0x0C, w, h)),
            (&fourcc, data),
            (b"EXIF", gps.clone()),
            (b"XMP ", b"<x:xmpmeta>GPSLatitude 48.8584</x:xmpmeta>".to_vec()),
        ];
        add("exif-xmp-trailer.webp", "image/webp", riff(&chunks, b"trailing bytes past the RIFF"), ready(w, h));
    }
    {
        let (fourcc, data) = bitstream(&webp_lossy(w, h, 35));
        let chunks = [(b"VP8X", vp8x(0x20, w, h)), (b"ICCP", icc_profile()), (&fourcc, data)];
        add("icc-profile.webp", "image/webp", riff(&chunks, &[]), ready(w, h));
    }

    // Hostile files.
    add("zero-length-vp8x.webp", "image/webp", tiny_webp_with_empty_vp8x(), Expect::Rejected("corrupt_image"));
    {
        let j = jpeg(hw, hh, 40);
        add("truncated.jpg", "image/jpeg", j[..j.len() * 2 / 3].to_vec(), Expect::Rejected("corrupt_image"));
    }
    add("many-scans.jpg", "image/jpeg", many_scans(), Expect::Rejected("processing_limit"));
    {
        let rgb = photo_rgb(64, 48, 41);
        let p = png(64, 48, 2, 8, 3, &rgb, false, &[png_chunk(b"ZZZZ", b"unknown critical")], &[]);
        add("unknown-critical-chunk.png", "image/png", p, Expect::Rejected("corrupt_image"));
    }
    add("html.jpg", "image/jpeg", b"<!doctype html><script>alert(1)</script>".to_vec(), Expect::Rejected("not_an_image"));
    add("jpeg-declared-png.png", "image/png", jpeg(64, 48, 42), Expect::Rejected("type_mismatch"));
    f
}

/// The hardening issue's file: a valid 1x1 WebP followed by a `VP8X` chunk of length zero.
pub fn tiny_webp_with_empty_vp8x() -> Vec<u8> {
    let one = webp_encode(vec![10, 20, 30, 255], 1, 1, true, WebpSettings::lossless());
    let (fourcc, data) = bitstream(&one);
    riff(&[(&fourcc, data), (b"VP8X", Vec::new())], &[])
}

/// A baseline JPEG whose scan is followed by 200 more tiny scans: parsing them all is the
/// unbounded work a progressive-scan bomb causes.
pub fn many_scans() -> Vec<u8> {
    let j = jpeg(64, 48, 43);
    let mut out = j[..j.len() - 2].to_vec();
    for _ in 0..200 {
        out.extend_from_slice(&segment(0xDA, &[1, 1, 0, 0, 0x3F, 0]));
        out.push(0);
    }
    out.extend_from_slice(&[0xFF, 0xD9]);
    out
}

/// The benchmark's input classes, with real-photo statistics (textured, noisy detail, so the
/// decoder's and encoder's costs show as they do on photos). Generated one at a time: the
/// 50 MP one alone is 150 MB of pixels.
pub const BENCH_CLASSES: &[&str] = &[
    "jpeg-baseline-420-12mp.jpg",
    // Made by bench/run with the real encoders' scan scripts (devtools/fixtures/progressive.py),
    // not here: a generated progressive file has neither their scripts nor their bitrates.
    "jpeg-progressive-libjpeg-18mp-q96.jpg",
    "jpeg-progressive-mozjpeg-15mp-q88.jpg",
    "jpeg-444-12mp.jpg",
    "jpeg-orientation6-12mp.jpg",
    "jpeg-baseline-50mp.jpg",
    "webp-lossy-20mp.webp",
    "png-rgba-15mp.png",
];

pub fn bench_fixture(name: &str) -> Option<Vec<u8>> {
    let baseline = |w, h, seed| jpeg_with(w, h, seed, ColorType::Rgb, |e| e.set_sampling_factor(SamplingFactor::R_4_2_0));
    Some(match name {
        "jpeg-baseline-420-12mp.jpg" => baseline(4000, 3000, 11),
        "jpeg-444-12mp.jpg" => jpeg_with(4000, 3000, 13, ColorType::Rgb, |e| e.set_sampling_factor(SamplingFactor::R_4_4_4)),
        "jpeg-orientation6-12mp.jpg" => with_exif(&baseline(4000, 3000, 14), &exif_tiff(6, false)),
        "jpeg-baseline-50mp.jpg" => baseline(8660, 5773, 15),
        "webp-lossy-20mp.webp" => webp_lossy(5472, 3648, 16),
        "png-rgba-15mp.png" => {
            let (w, h) = (4740, 3160);
            png(w, h, 6, 8, 4, &with_alpha(&photo_rgb(w, h, 17), w), false, &[], &[])
        }
        _ => return None,
    })
}
