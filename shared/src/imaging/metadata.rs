//! Lossless metadata stripping for public originals: pixels are untouched, EXIF (GPS, camera
//! serials), XMP, IPTC and comments are dropped, and orientation survives as a minimal EXIF
//! block holding only the Orientation tag.

use crate::kinds::ContentType;

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

/// Returns the file without metadata, or `None` if its structure is not what the sniffer
/// promised (the caller treats that as a corrupt image).
pub fn strip_metadata(bytes: &[u8], content_type: ContentType, orientation: u8) -> Option<Vec<u8>> {
    match content_type {
        ContentType::Jpeg => strip_jpeg(bytes, orientation),
        ContentType::Png => strip_png(bytes, orientation),
        ContentType::Webp => strip_webp(bytes, orientation),
    }
}

fn strip_jpeg(b: &[u8], orientation: u8) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(b.len());
    out.extend_from_slice(b.get(..2)?);
    if orientation > 1 {
        let mut app1 = b"Exif\0\0".to_vec();
        app1.extend_from_slice(&minimal_exif(orientation));
        out.extend_from_slice(&[0xFF, 0xE1]);
        out.extend_from_slice(&((app1.len() + 2) as u16).to_be_bytes());
        out.extend_from_slice(&app1);
    }
    let mut i = 2;
    loop {
        // Fill bytes (0xFF runs) may precede a marker.
        while b.get(i) == Some(&0xFF) && b.get(i + 1) == Some(&0xFF) {
            i += 1;
        }
        if *b.get(i)? != 0xFF {
            return None;
        }
        let marker = *b.get(i + 1)?;
        if marker == 0xDA || marker == 0xD9 {
            // Start of scan: everything from here is image data; copy it verbatim.
            out.extend_from_slice(&b[i..]);
            return Some(out);
        }
        if (0xD0..=0xD7).contains(&marker) || marker == 0x01 {
            out.extend_from_slice(&b[i..i + 2]);
            i += 2;
            continue;
        }
        let len = u16::from_be_bytes([*b.get(i + 2)?, *b.get(i + 3)?]) as usize;
        let end = i + 2 + len;
        let segment = b.get(i..end)?;
        // Keep JFIF (APP0), ICC profiles (APP2) and Adobe (APP14, needed for colour transforms);
        // drop EXIF/XMP (APP1), IPTC (APP13), other APPn and comments.
        let drop = matches!(marker, 0xE1 | 0xE3..=0xED | 0xEF | 0xFE);
        if !drop {
            out.extend_from_slice(segment);
        }
        i = end;
    }
}

pub(crate) fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &byte in data {
        crc ^= byte as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut c = (data.len() as u32).to_be_bytes().to_vec();
    c.extend_from_slice(kind);
    c.extend_from_slice(data);
    let mut crc_input = kind.to_vec();
    crc_input.extend_from_slice(data);
    c.extend_from_slice(&crc32(&crc_input).to_be_bytes());
    c
}

fn strip_png(b: &[u8], orientation: u8) -> Option<Vec<u8>> {
    let mut out = b.get(..8)?.to_vec();
    let mut i = 8;
    let mut wrote_exif = false;
    while i < b.len() {
        let len = u32::from_be_bytes(b.get(i..i + 4)?.try_into().ok()?) as usize;
        let kind: [u8; 4] = b.get(i + 4..i + 8)?.try_into().ok()?;
        let end = i.checked_add(12)?.checked_add(len)?;
        let chunk = b.get(i..end)?;
        if &kind == b"IDAT" && orientation > 1 && !wrote_exif {
            out.extend_from_slice(&png_chunk(b"eXIf", &minimal_exif(orientation)));
            wrote_exif = true;
        }
        if !matches!(&kind, b"eXIf" | b"tEXt" | b"zTXt" | b"iTXt" | b"tIME") {
            out.extend_from_slice(chunk);
        }
        i = end;
        if &kind == b"IEND" {
            break;
        }
    }
    Some(out)
}

fn strip_webp(b: &[u8], orientation: u8) -> Option<Vec<u8>> {
    if b.get(..4)? != b"RIFF" || b.get(8..12)? != b"WEBP" {
        return None;
    }
    let mut body = Vec::with_capacity(b.len());
    let mut i = 12;
    let mut has_vp8x = false;
    while i + 8 <= b.len() {
        let kind: [u8; 4] = b.get(i..i + 4)?.try_into().ok()?;
        let len = u32::from_le_bytes(b.get(i + 4..i + 8)?.try_into().ok()?) as usize;
        let end = i.checked_add(8)?.checked_add(len + (len & 1))?.min(b.len());
        let chunk = b.get(i..end)?;
        match &kind {
            b"EXIF" | b"XMP " => {}
            b"VP8X" => {
                has_vp8x = true;
                let mut c = chunk.to_vec();
                // Flags byte: clear EXIF (0x08) and XMP (0x04); set EXIF again if we keep orientation.
                c[8] &= !0x0C;
                if orientation > 1 {
                    c[8] |= 0x08;
                }
                body.extend_from_slice(&c);
            }
            _ => body.extend_from_slice(chunk),
        }
        i = end;
    }
    if orientation > 1 && has_vp8x {
        let exif = minimal_exif(orientation);
        body.extend_from_slice(b"EXIF");
        body.extend_from_slice(&(exif.len() as u32).to_le_bytes());
        body.extend_from_slice(&exif);
        if exif.len() % 2 == 1 {
            body.push(0);
        }
    }
    let mut out = b"RIFF".to_vec();
    out.extend_from_slice(&((body.len() + 4) as u32).to_le_bytes());
    out.extend_from_slice(b"WEBP");
    out.extend_from_slice(&body);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
