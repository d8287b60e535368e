//! Real images, generated (no fixtures to download): photographic-ish content, not flat fills.

use image::{ImageBuffer, Rgb, Rgba};
use std::io::Cursor;

fn pixel(x: u32, y: u32, w: u32, h: u32) -> [u8; 3] {
    let fx = x as f32 / w.max(1) as f32;
    let fy = y as f32 / h.max(1) as f32;
    let ripple = ((fx * 31.0).sin() * (fy * 17.0).cos() * 40.0) as i32;
    let noise = ((x.wrapping_mul(2654435761) ^ y.wrapping_mul(40503)) % 23) as i32;
    [
        (fx * 200.0) as i32 + ripple + noise,
        (fy * 180.0) as i32 - ripple + noise,
        ((1.0 - fx) * 150.0) as i32 + noise,
    ]
    .map(|v| v.clamp(0, 255) as u8)
}

pub fn jpeg(w: u32, h: u32) -> Vec<u8> {
    let img = ImageBuffer::from_fn(w, h, |x, y| Rgb(pixel(x, y, w, h)));
    let mut out = Cursor::new(Vec::new());
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90).encode_image(&img).unwrap_or_default();
    out.into_inner()
}

/// A JPEG of pure noise at quality 100: about 4 bytes a pixel, so a few megapixels make a file
/// large enough to need several multipart parts.
pub fn noise_jpeg(w: u32, h: u32, seed: u32) -> Vec<u8> {
    let mut state = seed;
    let img = ImageBuffer::from_fn(w, h, |_, _| {
        state = state.wrapping_mul(1664525).wrapping_add(1013904223);
        let b = state.to_le_bytes();
        Rgb([b[1], b[2], b[3]])
    });
    let mut out = Cursor::new(Vec::new());
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 100).encode_image(&img).unwrap_or_default();
    out.into_inner()
}

/// A PNG with a real alpha channel (transparent on the left, opaque on the right).
pub fn png_rgba(w: u32, h: u32) -> Vec<u8> {
    let img = ImageBuffer::from_fn(w, h, |x, y| {
        let [r, g, b] = pixel(x, y, w, h);
        Rgba([r, g, b, ((x * 255) / w.max(1)) as u8])
    });
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap_or_default();
    out.into_inner()
}

pub fn webp(w: u32, h: u32) -> Vec<u8> {
    let img = ImageBuffer::from_fn(w, h, |x, y| Rgb(pixel(x, y, w, h)));
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::WebP).unwrap_or_default();
    out.into_inner()
}

/// Inserts an APP1 EXIF segment right after the JPEG SOI marker.
pub fn with_exif(jpeg: &[u8], tiff: &[u8]) -> Vec<u8> {
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend_from_slice(tiff);
    let len = (app1.len() + 2) as u16;
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&app1);
    out.extend_from_slice(&jpeg[2..]);
    out
}

/// A little-endian TIFF block with IFD0 holding Orientation and, optionally, a GPS IFD with a
/// latitude (so tests can check GPS is stripped).
pub fn exif_tiff(orientation: u16, gps: bool) -> Vec<u8> {
    let mut t = b"II*\0".to_vec();
    t.extend_from_slice(&8u32.to_le_bytes());
    let entries: u16 = if gps { 2 } else { 1 };
    t.extend_from_slice(&entries.to_le_bytes());
    // Orientation (0x0112), SHORT, count 1, value inline.
    t.extend_from_slice(&0x0112u16.to_le_bytes());
    t.extend_from_slice(&3u16.to_le_bytes());
    t.extend_from_slice(&1u32.to_le_bytes());
    t.extend_from_slice(&(orientation as u32).to_le_bytes());
    let ifd0_end = 8 + 2 + 12 * entries as u32 + 4;
    if gps {
        // GPSInfo (0x8825), LONG, offset of the GPS IFD.
        t.extend_from_slice(&0x8825u16.to_le_bytes());
        t.extend_from_slice(&4u16.to_le_bytes());
        t.extend_from_slice(&1u32.to_le_bytes());
        t.extend_from_slice(&ifd0_end.to_le_bytes());
    }
    t.extend_from_slice(&0u32.to_le_bytes());
    if gps {
        // GPS IFD: GPSLatitudeRef "N" and GPSLatitude 3 RATIONALs.
        let gps_ifd_len = 2 + 12 * 2 + 4;
        let rationals_at = ifd0_end + gps_ifd_len;
        t.extend_from_slice(&2u16.to_le_bytes());
        t.extend_from_slice(&1u16.to_le_bytes()); // GPSLatitudeRef
        t.extend_from_slice(&2u16.to_le_bytes()); // ASCII
        t.extend_from_slice(&2u32.to_le_bytes());
        t.extend_from_slice(b"N\0\0\0");
        t.extend_from_slice(&2u16.to_le_bytes()); // GPSLatitude
        t.extend_from_slice(&5u16.to_le_bytes()); // RATIONAL
        t.extend_from_slice(&3u32.to_le_bytes());
        t.extend_from_slice(&rationals_at.to_le_bytes());
        t.extend_from_slice(&0u32.to_le_bytes());
        for (n, d) in [(48u32, 1u32), (51, 1), (2953, 100)] {
            t.extend_from_slice(&n.to_le_bytes());
            t.extend_from_slice(&d.to_le_bytes());
        }
    }
    t
}
