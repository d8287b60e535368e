//! Metadata removal for public originals, by allow-list: each container is rebuilt from the
//! parts needed to display its pixels, so EXIF (GPS, camera serials), XMP, IPTC, comments,
//! text chunks, unknown chunks and anything after the container's end never reach the public.
//! The pixels are untouched (no re-encode); orientation survives as a minimal EXIF block that
//! holds only the Orientation tag.
//!
//! Kept, per container (docs/MEDIA.md, "What public originals keep"):
//! - JPEG: SOI, DQT, DHT, DAC, SOFn, DRI, DNL, SOS with its entropy-coded data, EOI; APP2
//!   `ICC_PROFILE` segments; an Adobe APP14 rebuilt from its colour-transform byte alone (it
//!   decides how CMYK/YCCK pixels decode).
//! - PNG: IHDR, PLTE, IDAT, IEND and the allow-list in [`PNG_KEPT`]; nothing after IEND.
//! - WebP: VP8X (rebuilt), ICCP, ANIM, ANMF (rebuilt from its ALPH/VP8/VP8L sub-chunks), ALPH,
//!   VP8/VP8L; a correct RIFF size and nothing after it.

use super::container::{walk_jpeg, walk_png, walk_riff_chunks, walk_webp, JpegSegment, PNG_SIGNATURE};
use super::probe::Probe;
use crate::domain::kinds::ContentType;

/// Ancillary PNG chunks that describe how to display the pixels (colour, transparency, density,
/// animation) and carry no personal data.
pub const PNG_KEPT: [&[u8; 4]; 15] = [
    b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"iCCP", b"pHYs", b"sBIT", b"cICP", b"acTL",
    b"fcTL", b"fdAT",
];

const ICC_TAG: &[u8] = b"ICC_PROFILE\0";

/// A little-endian TIFF block whose IFD0 holds only Orientation.
pub fn minimal_exif(orientation: u8) -> Vec<u8> {
    let mut t = b"II*\0".to_vec();
    t.extend_from_slice(&8u32.to_le_bytes());
    t.extend_from_slice(&1u16.to_le_bytes());
    t.extend_from_slice(&0x0112u16.to_le_bytes());
    t.extend_from_slice(&3u16.to_le_bytes());
    t.extend_from_slice(&1u32.to_le_bytes());
    t.extend_from_slice(&(orientation as u32).to_le_bytes());
    t.extend_from_slice(&0u32.to_le_bytes());
    t
}

/// Returns the file rebuilt from its allow-listed parts, or `None` if its structure cannot be
/// followed (the caller treats that as a corrupt image).
pub fn strip_metadata(bytes: &[u8], probe: &Probe) -> Option<Vec<u8>> {
    match probe.content_type {
        ContentType::Jpeg => strip_jpeg(bytes, probe.orientation),
        ContentType::Png => strip_png(bytes, probe.orientation),
        ContentType::Webp => strip_webp(bytes, probe),
        // The picture's own items only (`heif::Layout::rebuild`).
        ContentType::Heic | ContentType::Heif | ContentType::Avif => super::heif::walk(bytes).ok()?.rebuild(bytes),
        // Never probed as images.
        ContentType::Mp4 | ContentType::Quicktime | ContentType::Webm => None,
    }
}

/// Whether a JPEG segment is needed to display the pixels.
fn jpeg_keeps(s: &JpegSegment) -> bool {
    match s.marker {
        // DQT, DHT, DAC, DRI, DNL, DHP, EXP, SOS (+ data), EOI.
        0xDB | 0xC4 | 0xCC | 0xDD | 0xDC | 0xDE | 0xDF | 0xDA | 0xD9 => true,
        // SOF0..SOF15 (C4, C8 and CC are not frame headers).
        0xC0..=0xCF => !matches!(s.marker, 0xC4 | 0xC8 | 0xCC),
        0xE2 => s.payload().starts_with(ICC_TAG),
        _ => false,
    }
}

fn jpeg_segment(out: &mut Vec<u8>, marker: u8, payload: &[u8]) -> Option<()> {
    let len = u16::try_from(payload.len() + 2).ok()?;
    out.extend_from_slice(&[0xFF, marker]);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(payload);
    Some(())
}

fn strip_jpeg(b: &[u8], orientation: u8) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(b.len());
    out.extend_from_slice(&[0xFF, 0xD8]);
    if orientation > 1 {
        let mut app1 = b"Exif\0\0".to_vec();
        app1.extend_from_slice(&minimal_exif(orientation));
        jpeg_segment(&mut out, 0xE1, &app1)?;
    }
    let mut adobe_transform = None;
    let mut body = Vec::with_capacity(b.len());
    walk_jpeg(b, |s| {
        if s.marker == 0xEE && s.payload().starts_with(b"Adobe") && s.payload().len() >= 12 {
            // Decoders apply the last Adobe segment they read; so does the rebuilt one.
            adobe_transform = Some(s.payload()[11]);
        } else if jpeg_keeps(&s) {
            body.extend_from_slice(s.bytes);
        }
    })?;
    if let Some(transform) = adobe_transform {
        // "Adobe", version 100, flags 0 and 0, then the transform: nothing else of the original.
        let mut app14 = b"Adobe".to_vec();
        app14.extend_from_slice(&[0x00, 0x64, 0, 0, 0, 0, transform]);
        jpeg_segment(&mut out, 0xEE, &app14)?;
    }
    out.extend_from_slice(&body);
    Some(out)
}

pub fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &byte in data {
        crc ^= byte as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

/// A PNG chunk: length, type, data and CRC.
pub fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut c = (data.len() as u32).to_be_bytes().to_vec();
    c.extend_from_slice(kind);
    c.extend_from_slice(data);
    let mut crc_input = kind.to_vec();
    crc_input.extend_from_slice(data);
    c.extend_from_slice(&crc32(&crc_input).to_be_bytes());
    c
}

fn strip_png(b: &[u8], orientation: u8) -> Option<Vec<u8>> {
    let mut out = PNG_SIGNATURE.to_vec();
    let mut wrote_exif = false;
    let mut unknown_critical = false;
    walk_png(b, |c| {
        if &c.kind == b"IDAT" && orientation > 1 && !wrote_exif {
            out.extend_from_slice(&png_chunk(b"eXIf", &minimal_exif(orientation)));
            wrote_exif = true;
        }
        if PNG_KEPT.contains(&&c.kind) {
            out.extend_from_slice(c.bytes);
        } else if c.kind[0].is_ascii_uppercase() {
            // A critical chunk we do not know: the image cannot be displayed without it.
            unknown_critical = true;
        }
    })?;
    (!unknown_critical).then_some(out)
}

fn riff_chunk(out: &mut Vec<u8>, fourcc: &[u8; 4], data: &[u8]) -> Option<()> {
    out.extend_from_slice(fourcc);
    out.extend_from_slice(&u32::try_from(data.len()).ok()?.to_le_bytes());
    out.extend_from_slice(data);
    if data.len() % 2 == 1 {
        out.push(0);
    }
    Some(())
}

/// An ANMF chunk rebuilt from its 16-byte frame header and its image sub-chunks only.
fn rebuild_anmf(data: &[u8]) -> Option<Vec<u8>> {
    let mut frame = data.get(..16)?.to_vec();
    let mut has_image = false;
    walk_riff_chunks(&data[16..], |c| {
        if matches!(&c.fourcc, b"ALPH" | b"VP8 " | b"VP8L") {
            has_image |= &c.fourcc != b"ALPH";
            riff_chunk(&mut frame, &c.fourcc, c.data);
        }
    })?;
    has_image.then_some(frame)
}

struct Vp8xFlags {
    icc: bool,
    alpha: bool,
    exif: bool,
    animated: bool,
}

/// A VP8X payload with flags recomputed from what is kept (XMP never is) and the canvas of the
/// original VP8X, or of the image for a simple-format file gaining one.
fn vp8x_header(original: Option<&[u8]>, kept: Vp8xFlags, probe: &Probe) -> Option<Vec<u8>> {
    let had_alpha = original.is_some_and(|v| v[0] & 0x10 != 0);
    let mut flags = 0u8;
    flags |= if kept.icc { 0x20 } else { 0 };
    flags |= if had_alpha || kept.alpha { 0x10 } else { 0 };
    flags |= if kept.exif { 0x08 } else { 0 };
    flags |= if kept.animated { 0x02 } else { 0 };
    let mut header = vec![flags, 0, 0, 0];
    match original {
        Some(v) => header.extend_from_slice(v.get(4..10)?),
        None => {
            let w = probe.stored_width.checked_sub(1)?.to_le_bytes();
            let h = probe.stored_height.checked_sub(1)?.to_le_bytes();
            header.extend_from_slice(&[w[0], w[1], w[2], h[0], h[1], h[2]]);
        }
    }
    Some(header)
}

fn strip_webp(b: &[u8], probe: &Probe) -> Option<Vec<u8>> {
    let (mut vp8x, mut iccp, mut anim, mut alph, mut image) = (None, None, None, None, None);
    let mut frames = Vec::new();
    let mut broken = false;
    walk_webp(b, |c| match &c.fourcc {
        b"VP8X" => broken |= vp8x.replace(c.data).is_some() || c.data.len() < 10,
        b"ICCP" => broken |= iccp.replace(c.data).is_some(),
        b"ANIM" => broken |= anim.replace(c.data).is_some() || c.data.len() < 6,
        b"ALPH" => broken |= alph.replace(c.data).is_some(),
        b"VP8 " | b"VP8L" => broken |= image.replace((c.fourcc, c.data)).is_some(),
        b"ANMF" => match rebuild_anmf(c.data) {
            Some(f) => frames.push(f),
            None => broken = true,
        },
        _ => {}
    })?;
    if broken || (image.is_none() && frames.is_empty()) || (image.is_some() && !frames.is_empty()) {
        return None;
    }
    let animated = !frames.is_empty();
    if animated && anim.is_none() {
        return None;
    }
    let orientation = probe.orientation;
    let mut body = Vec::with_capacity(b.len());
    let extended = vp8x.is_some() || iccp.is_some() || alph.is_some() || animated || orientation > 1;
    if extended {
        let flags = Vp8xFlags { icc: iccp.is_some(), alpha: alph.is_some(), exif: orientation > 1, animated };
        riff_chunk(&mut body, b"VP8X", &vp8x_header(vp8x, flags, probe)?)?;
    }
    if let Some(icc) = iccp {
        riff_chunk(&mut body, b"ICCP", icc)?;
    }
    if let Some(a) = anim {
        riff_chunk(&mut body, b"ANIM", a)?;
    }
    for f in &frames {
        riff_chunk(&mut body, b"ANMF", f)?;
    }
    if let Some(a) = alph {
        riff_chunk(&mut body, b"ALPH", a)?;
    }
    if let Some((fourcc, data)) = image {
        riff_chunk(&mut body, &fourcc, data)?;
    }
    if orientation > 1 {
        riff_chunk(&mut body, b"EXIF", &minimal_exif(orientation))?;
    }
    let mut out = b"RIFF".to_vec();
    out.extend_from_slice(&u32::try_from(body.len() + 4).ok()?.to_le_bytes());
    out.extend_from_slice(b"WEBP");
    out.extend_from_slice(&body);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe(ct: ContentType, orientation: u8) -> Probe {
        Probe { content_type: ct, stored_width: 1, stored_height: 1, orientation }
    }

    #[test]
    fn crc_matches_the_png_spec_example() {
        assert_eq!(crc32(b"IEND"), 0xAE42_6082);
    }

    #[test]
    fn jpeg_exif_is_replaced_by_orientation_only() {
        // SOI, APP1 with a fake GPS-bearing EXIF, COM, SOS..EOI
        let mut j = vec![0xFF, 0xD8, 0xFF, 0xE1, 0x00, 0x0A];
        j.extend_from_slice(b"Exif\0\0GP");
        j.extend_from_slice(&[0xFF, 0xFE, 0x00, 0x05, b'h', b'i', b'!']);
        j.extend_from_slice(&[0xFF, 0xDA, 0x00, 0x02, 1, 2, 3, 0xFF, 0xD9]);
        let out = strip_jpeg(&j, 6).unwrap();
        assert!(!out.windows(2).any(|w| w == b"GP"));
        assert!(!out.windows(3).any(|w| w == b"hi!"));
        assert!(out.ends_with(&[0xFF, 0xDA, 0x00, 0x02, 1, 2, 3, 0xFF, 0xD9]));
        assert!(out.windows(6).any(|w| w == b"Exif\0\0"));
        let plain = strip_jpeg(&j, 1).unwrap();
        assert!(!plain.windows(4).any(|w| w == b"Exif"));
    }

    #[test]
    fn jpeg_segments_between_scans_and_bytes_after_eoi_are_dropped() {
        let mut j = vec![0xFF, 0xD8, 0xFF, 0xDA, 0x00, 0x02, 1, 2];
        j.extend_from_slice(&[0xFF, 0xE1, 0x00, 0x06, b'G', b'P', b'S', b'!']);
        j.extend_from_slice(&[0xFF, 0xFE, 0x00, 0x04, b'h', b'i']);
        j.extend_from_slice(&[0xFF, 0xDA, 0x00, 0x02, 3, 0xFF, 0xD9]);
        j.extend_from_slice(&[0xFF, 0xD8, 0xFF, 0xE1, 0, 4, b'G', b'P', 0xFF, 0xD9]);
        j.extend_from_slice(b"\0\0\0\x18ftypmp42");
        let out = strip_jpeg(&j, 1).unwrap();
        assert_eq!(out, [0xFF, 0xD8, 0xFF, 0xDA, 0x00, 0x02, 1, 2, 0xFF, 0xDA, 0x00, 0x02, 3, 0xFF, 0xD9]);
    }

    #[test]
    fn jpeg_keeps_icc_and_only_the_adobe_transform() {
        let mut j = vec![0xFF, 0xD8];
        j.extend_from_slice(&[0xFF, 0xE2, 0, 18]);
        j.extend_from_slice(b"ICC_PROFILE\0\x01\x01ab");
        j.extend_from_slice(&[0xFF, 0xE2, 0, 8, b'M', b'P', b'F', 0, 9, 9]);
        j.extend_from_slice(&[0xFF, 0xEE, 0, 16]);
        j.extend_from_slice(b"Adobe\x00\x65\x12\x34\x56\x78\x02xy");
        j.extend_from_slice(&[0xFF, 0xDA, 0, 2, 1, 0xFF, 0xD9]);
        let out = strip_jpeg(&j, 1).unwrap();
        assert!(out.windows(12).any(|w| w == ICC_TAG));
        assert!(!out.windows(3).any(|w| w == b"MPF"));
        assert!(out.windows(12).any(|w| w == b"Adobe\x00\x64\0\0\0\0\x02"), "transform 2 kept");
        assert!(!out.windows(2).any(|w| w == b"xy"));
    }

    #[test]
    fn png_keeps_only_the_allow_list_and_stops_at_iend() {
        let mut p = PNG_SIGNATURE.to_vec();
        p.extend_from_slice(&png_chunk(b"IHDR", &[0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0]));
        p.extend_from_slice(&png_chunk(b"tEXt", b"GPS\x0048.85"));
        p.extend_from_slice(&png_chunk(b"prVt", b"secret"));
        p.extend_from_slice(&png_chunk(b"gAMA", &[0, 0, 0xB1, 0x8F]));
        p.extend_from_slice(&png_chunk(b"IDAT", b"data"));
        p.extend_from_slice(&png_chunk(b"IEND", b""));
        p.extend_from_slice(b"trailing secret");
        let out = strip_png(&p, 1).unwrap();
        for needle in [&b"tEXt"[..], b"prVt", b"secret", b"48.85"] {
            assert!(!out.windows(needle.len()).any(|w| w == needle));
        }
        assert!(out.windows(4).any(|w| w == b"gAMA") && out.ends_with(&png_chunk(b"IEND", b"")));
        let mut critical = p.clone();
        critical.splice(33..33, png_chunk(b"ZZZZ", b""));
        assert_eq!(strip_png(&critical, 1), None, "unknown critical chunk");
    }

    #[test]
    fn webp_is_rebuilt_without_exif_xmp_or_trailer() {
        let mut body = Vec::new();
        riff_chunk(&mut body, b"VP8X", &[0x0C, 0, 0, 0, 0, 0, 0, 0, 0, 0]).unwrap();
        riff_chunk(&mut body, b"VP8L", &[0x2F, 0, 0, 0, 0]).unwrap();
        riff_chunk(&mut body, b"EXIF", b"GPSdata").unwrap();
        riff_chunk(&mut body, b"XMP ", b"<x:xmpmeta/>").unwrap();
        let mut w = b"RIFF".to_vec();
        w.extend_from_slice(&((body.len() + 4) as u32).to_le_bytes());
        w.extend_from_slice(b"WEBP");
        w.extend_from_slice(&body);
        w.extend_from_slice(b"trailing");
        let out = strip_webp(&w, &probe(ContentType::Webp, 1)).unwrap();
        assert!(!out.windows(3).any(|x| x == b"GPS") && !out.windows(4).any(|x| x == b"xmpm" || x == b"trai"));
        assert_eq!(u32::from_le_bytes(out[4..8].try_into().unwrap()) as usize, out.len() - 8);
        assert_eq!(out[20], 0, "EXIF and XMP flags cleared");
    }

    #[test]
    fn the_42_byte_webp_is_refused_not_a_panic() {
        let w = b"RIFF\x1e\0\0\0WEBPVP8L\x0a\0\0\0\x2f\0\0\0\0\0\0\0\0\0VP8X\0\0\0\0";
        assert_eq!(strip_webp(w, &probe(ContentType::Webp, 1)), None);
    }

    #[test]
    fn a_simple_webp_with_orientation_gains_a_vp8x_with_its_canvas() {
        let mut w = b"RIFF\x12\0\0\0WEBPVP8L\x05\0\0\0\x2f\0\0\0\0\0".to_vec();
        w[4] = (w.len() - 8) as u8;
        let p = Probe { content_type: ContentType::Webp, stored_width: 300, stored_height: 200, orientation: 6 };
        let out = strip_webp(&w, &p).unwrap();
        assert_eq!(&out[12..16], b"VP8X");
        assert_eq!(out[20], 0x08);
        assert_eq!(&out[24..30], &[43, 1, 0, 199, 0, 0]);
        assert!(out.windows(4).any(|x| x == b"EXIF"));
    }
}
