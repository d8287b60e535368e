//! The promise of [`strip_metadata`](super::strip_metadata), checked from the outside: lists
//! everything in a file that a public original must not carry. Tests and the fuzz targets run
//! it on stripped output; an empty list is the only passing answer.

use super::container::{walk_jpeg, walk_png, walk_webp};
use super::metadata::{minimal_exif, PNG_KEPT};
use crate::domain::kinds::ContentType;

fn is_minimal_exif(tiff: &[u8]) -> bool {
    (1..=8).any(|o| tiff == minimal_exif(o))
}

/// What a public original must not hold: metadata segments or chunks, EXIF beyond the
/// orientation tag, bytes after the container's end, or a structure that cannot be followed.
pub fn metadata_findings(bytes: &[u8], content_type: ContentType) -> Vec<String> {
    let mut found = Vec::new();
    let end = match content_type {
        ContentType::Jpeg => walk_jpeg(bytes, |s| match s.marker {
            0xE1 if s.payload().strip_prefix(b"Exif\0\0").is_some_and(is_minimal_exif) => {}
            0xE2 if s.payload().starts_with(b"ICC_PROFILE\0") => {}
            0xEE if s.payload().len() == 12 && s.payload().starts_with(b"Adobe\x00\x64\0\0\0\0") => {}
            0xE0..=0xEF => found.push(format!("JPEG APP{} segment", s.marker - 0xE0)),
            0xFE => found.push("JPEG comment".into()),
            _ => {}
        }),
        ContentType::Png => walk_png(bytes, |c| match &c.kind {
            b"eXIf" if is_minimal_exif(c.data) => {}
            k if PNG_KEPT.contains(&k) => {}
            k => found.push(format!("PNG chunk {}", String::from_utf8_lossy(k))),
        }),
        ContentType::Webp => walk_webp(bytes, |c| match &c.fourcc {
            b"EXIF" if is_minimal_exif(c.data) => {}
            b"VP8X" if c.data.first().is_some_and(|f| f & 0x04 != 0) => found.push("WebP VP8X claims XMP".into()),
            b"VP8X" | b"ICCP" | b"ANIM" | b"ANMF" | b"ALPH" | b"VP8 " | b"VP8L" => {}
            k => found.push(format!("WebP chunk {}", String::from_utf8_lossy(k))),
        }),
        ContentType::Heic | ContentType::Heif | ContentType::Avif => match super::heif::walk(bytes) {
            Ok(layout) => {
                found.extend(layout.findings(bytes));
                Some(bytes.len())
            }
            Err(_) => None,
        },
        ContentType::Mp4 | ContentType::Quicktime | ContentType::Webm => None,
    };
    match end {
        None => found.push("structure cannot be followed".into()),
        Some(e) if e < bytes.len() => found.push(format!("{} bytes after the end of the image", bytes.len() - e)),
        Some(_) => {}
    }
    found
}
