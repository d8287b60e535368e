//! Structural walkers for the three containers: they validate every length before they index
//! and stop at the container's end. The metadata stripper, the scan-count limit and the audit
//! used by tests and fuzzing all walk files through these, and nothing else parses containers.
//!
//! A walker returns `None` for a structure it cannot follow (a length past the end, a missing
//! end marker): the caller treats that as a corrupt file.

/// One JPEG marker segment. For SOS the bytes run to the end of its entropy-coded data.
pub struct JpegSegment<'a> {
    pub marker: u8,
    /// The whole segment, marker included.
    pub bytes: &'a [u8],
}

impl JpegSegment<'_> {
    /// The payload after the marker and the two length bytes (empty for stand-alone markers).
    pub fn payload(&self) -> &[u8] {
        self.bytes.get(4..).unwrap_or(&[])
    }
}

/// Walks a JPEG from SOI to EOI, calling `f` for every segment after SOI (EOI included). Returns
/// the offset just past EOI: anything after it is not part of the image.
pub fn walk_jpeg<'a>(b: &'a [u8], mut f: impl FnMut(JpegSegment<'a>)) -> Option<usize> {
    if b.get(..2)? != [0xFF, 0xD8] {
        return None;
    }
    let mut i = 2;
    let mut frames = 0;
    loop {
        // Fill bytes (runs of 0xFF) may precede a marker.
        while b.get(i) == Some(&0xFF) && b.get(i + 1) == Some(&0xFF) {
            i += 1;
        }
        if *b.get(i)? != 0xFF {
            return None;
        }
        let marker = *b.get(i + 1)?;
        match marker {
            0xD9 => {
                f(JpegSegment { marker, bytes: &b[i..i + 2] });
                return Some(i + 2);
            }
            // Reserved markers (TEM 0x01, RES 0x02-0xBF, JPGn 0xF0-0xFD) appear in no baseline
            // or progressive encoder's output, and decoders disagree on them (one skips it,
            // another stops reading there): not followed.
            0x00..=0xBF | 0xD8 | 0xF0..=0xFD => return None,
            // Stand-alone restart markers outside entropy data carry nothing.
            0xD0..=0xD7 => {
                f(JpegSegment { marker, bytes: &b[i..i + 2] });
                i += 2;
            }
            _ => {
                let len = u16::from_be_bytes([*b.get(i + 2)?, *b.get(i + 3)?]) as usize;
                if len < 2 {
                    return None;
                }
                let mut end = i.checked_add(2 + len)?;
                if end > b.len() {
                    return None;
                }
                if marker == 0xDA {
                    end = entropy_end(b, end)?;
                }
                // One image has one frame header: a second SOF (a second image spliced in without
                // its SOI) is a structure decoders disagree on, so it is not followed.
                if (0xC0..=0xCF).contains(&marker) && !matches!(marker, 0xC4 | 0xC8 | 0xCC) {
                    frames += 1;
                    if frames > 1 {
                        return None;
                    }
                }
                f(JpegSegment { marker, bytes: &b[i..end] });
                i = end;
            }
        }
    }
}

/// The offset of the first marker after entropy-coded data starting at `i` (stuffed 0xFF00,
/// restart markers and fill bytes belong to the data). `None` if the data runs off the end.
fn entropy_end(b: &[u8], mut i: usize) -> Option<usize> {
    while i + 1 < b.len() {
        if b[i] != 0xFF {
            i += 1;
            continue;
        }
        match b[i + 1] {
            0x00 | 0xD0..=0xD7 => i += 2,
            0xFF => i += 1,
            _ => return Some(i),
        }
    }
    None
}

/// The number of scans (SOS segments) in a JPEG; `None` if its structure is broken.
pub fn jpeg_scan_count(b: &[u8]) -> Option<u32> {
    let mut scans = 0u32;
    walk_jpeg(b, |s| {
        if s.marker == 0xDA {
            scans = scans.saturating_add(1);
        }
    })?;
    Some(scans)
}

pub struct PngChunk<'a> {
    pub kind: [u8; 4],
    pub data: &'a [u8],
    /// The whole chunk: length, type, data and CRC.
    pub bytes: &'a [u8],
}

pub const PNG_SIGNATURE: &[u8; 8] = b"\x89PNG\r\n\x1a\n";

/// Walks a PNG's chunks from IHDR to IEND. Returns the offset just past IEND.
pub fn walk_png<'a>(b: &'a [u8], mut f: impl FnMut(PngChunk<'a>)) -> Option<usize> {
    if b.get(..8)? != PNG_SIGNATURE {
        return None;
    }
    let mut i = 8;
    let mut first = true;
    loop {
        let len = u32::from_be_bytes(b.get(i..i + 4)?.try_into().ok()?);
        if len > 0x7FFF_FFFF {
            return None;
        }
        let kind: [u8; 4] = b.get(i + 4..i + 8)?.try_into().ok()?;
        if !kind.iter().all(u8::is_ascii_alphabetic) || (first && &kind != b"IHDR") {
            return None;
        }
        first = false;
        let data_end = (i + 8).checked_add(len as usize)?;
        let end = data_end.checked_add(4)?;
        let bytes = b.get(i..end)?;
        f(PngChunk { kind, data: &b[i + 8..data_end], bytes });
        i = end;
        if &kind == b"IEND" {
            return Some(i);
        }
    }
}

pub struct RiffChunk<'a> {
    pub fourcc: [u8; 4],
    pub data: &'a [u8],
}

/// The chunks of a WebP file, within the RIFF size. Returns the offset of the RIFF's end: bytes
/// after it are not part of the image. A RIFF size past the end of the file is a truncation.
pub fn walk_webp<'a>(b: &'a [u8], f: impl FnMut(RiffChunk<'a>)) -> Option<usize> {
    if b.get(..4)? != b"RIFF" || b.get(8..12)? != b"WEBP" {
        return None;
    }
    let size = u32::from_le_bytes(b.get(4..8)?.try_into().ok()?) as usize;
    let end = 8usize.checked_add(size)?;
    if end > b.len() || size < 4 {
        return None;
    }
    walk_riff_chunks(&b[12..end], f)?;
    Some(end)
}

/// Chunks laid end to end (each padded to an even length). The last chunk's padding byte may be
/// missing; any other shortfall is a broken structure.
pub fn walk_riff_chunks<'a>(b: &'a [u8], mut f: impl FnMut(RiffChunk<'a>)) -> Option<()> {
    let mut i = 0;
    while i < b.len() {
        let fourcc: [u8; 4] = b.get(i..i + 4)?.try_into().ok()?;
        let len = u32::from_le_bytes(b.get(i + 4..i + 8)?.try_into().ok()?) as usize;
        let data_end = (i + 8).checked_add(len)?;
        let data = b.get(i + 8..data_end)?;
        f(RiffChunk { fourcc, data });
        i = data_end.checked_add(len & 1)?.min(b.len());
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jpeg_walk_stops_at_eoi_and_counts_scans() {
        let j = [0xFF, 0xD8, 0xFF, 0xDA, 0, 2, 1, 0xFF, 0x00, 2, 0xFF, 0xD0, 3, 0xFF, 0xDA, 0, 2, 4, 0xFF, 0xD9, b'x'];
        assert_eq!(jpeg_scan_count(&j), Some(2));
        assert_eq!(walk_jpeg(&j, |_| {}), Some(20));
    }

    #[test]
    fn broken_jpeg_structures_are_refused() {
        assert_eq!(walk_jpeg(&[0xFF, 0xD8, 0xFF, 0xE1, 0x00, 0xFF, 1, 2], |_| {}), None, "length past the end");
        assert_eq!(walk_jpeg(&[0xFF, 0xD8, 0xFF, 0xE1, 0x00, 0x01], |_| {}), None, "length below 2");
        // Markers decoders disagree on (TEM, RES, JPGn) are not followed; RSTn between segments is.
        for marker in [0x01u8, 0x02, 0x3A, 0xBF, 0xF0, 0xFB, 0xFD] {
            assert_eq!(walk_jpeg(&[0xFF, 0xD8, 0xFF, marker, 0x00, 0x02, 0xFF, 0xD9], |_| {}), None, "{marker:#04x}");
        }
        assert_eq!(walk_jpeg(&[0xFF, 0xD8, 0xFF, 0xD3, 0xFF, 0xD9], |_| {}), Some(6));
        assert_eq!(walk_jpeg(&[0xFF, 0xD8, 0xFF, 0xDA, 0, 2, 1, 2, 3], |_| {}), None, "scan data runs off the end");
        assert_eq!(walk_jpeg(&[0xFF, 0xD8, 0xFF, 0xD8, 0xFF, 0xD9], |_| {}), None, "a second SOI");
        assert_eq!(walk_jpeg(&[0xFF, 0xD8], |_| {}), None, "no EOI");
    }

    #[test]
    fn webp_walk_validates_every_length() {
        // The shape of the hardening issue's 42-byte file: a VP8X chunk with a zero length after VP8L.
        let mut w = b"RIFF\x1e\0\0\0WEBPVP8L\x0a\0\0\0\x2f\0\0\0\0\0\0\0\0\0VP8X\0\0\0\0".to_vec();
        let mut seen = Vec::new();
        assert_eq!(walk_webp(&w, |c| seen.push((c.fourcc, c.data.len()))), Some(38));
        assert_eq!(seen, vec![(*b"VP8L", 10), (*b"VP8X", 0)]);
        w[16] = 0xFF; // VP8L length past the RIFF end
        assert_eq!(walk_webp(&w, |_| {}), None);
        assert_eq!(walk_webp(b"RIFF\xff\0\0\0WEBPVP8 ", |_| {}), None, "RIFF size past the file");
    }

    #[test]
    fn png_walk_needs_ihdr_first_and_iend() {
        assert_eq!(walk_png(b"\x89PNG\r\n\x1a\n\0\0\0\0IEND\xAE\x42\x60\x82", |_| {}), None, "IHDR first");
        let mut p = PNG_SIGNATURE.to_vec();
        p.extend_from_slice(b"\0\0\0\x0dIHDR\0\0\0\x01\0\0\0\x01\x08\x02\0\0\0\0\0\0\0");
        assert_eq!(walk_png(&p, |_| {}), None, "no IEND");
        p.extend_from_slice(b"\0\0\0\0IEND\xAE\x42\x60\x82trailer");
        assert_eq!(walk_png(&p, |_| {}), Some(p.len() - 7));
    }
}
