//! An upload as the use cases take it: a validated file name, type and size per file, the kind
//! and scope; and the name a download is saved under. Built by the edge from request bodies.

use crate::domain::kinds::{ContentType, KindSpec};
use crate::domain::media::UploadMethod;

const MAX_FILENAME_CHARS: usize = 255;

/// A filename as metadata: 1 to 255 characters, no control characters, no path separators.
/// It is never part of an S3 key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filename(String);

impl Filename {
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        let n = raw.chars().count();
        if n == 0 || n > MAX_FILENAME_CHARS {
            return Err("filename must be 1 to 255 characters");
        }
        if raw.chars().any(|c| c.is_control()) {
            return Err("filename must not contain control characters");
        }
        if raw.chars().any(is_format_char) {
            // Bidi overrides make `invoice\u{202E}gpj.html` display as a .jpg.
            return Err("filename must not contain invisible or bidirectional formatting characters");
        }
        if raw.contains(['/', '\\']) || raw == "." || raw == ".." || raw.trim().is_empty() {
            return Err("filename must be a plain file name, not a path");
        }
        Ok(Self(raw.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Unicode format characters (general category Cf: bidi embeddings, overrides and isolates,
/// zero-width characters, the BOM, soft hyphen, tag characters): invisible, and able to make a
/// name display as something it is not.
pub fn is_format_char(c: char) -> bool {
    matches!(c as u32,
        0x00AD | 0x0600..=0x0605 | 0x061C | 0x06DD | 0x070F | 0x0890..=0x0891 | 0x08E2 | 0x180E
        | 0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x2064 | 0x2066..=0x206F | 0xFEFF
        | 0xFFF9..=0xFFFB | 0x110BD | 0x110CD | 0x13430..=0x1343F | 0x1BCA0..=0x1BCA3
        | 0x1D173..=0x1D17A | 0xE0001 | 0xE0020..=0xE007F)
}

#[derive(Debug, Clone)]
pub struct ValidFile {
    pub filename: Filename,
    pub content_type: ContentType,
    /// None when the client did not declare it (compatibility route).
    pub size_bytes: Option<u64>,
}

#[derive(Debug, Clone)]
pub struct ValidUpload {
    pub kind: KindSpec,
    pub scope: Option<String>,
    pub method: UploadMethod,
    pub files: Vec<ValidFile>,
}

/// The name a download is saved under: the stored filename without format characters, with
/// the extension of the verified type (never the one the uploader chose), plus `suffix`
/// (`-w512` for a variant) before it.
pub fn download_name(filename: &str, suffix: &str, extension: &str) -> String {
    let clean: String = filename.chars().filter(|c| !is_format_char(*c)).collect();
    let stem = match clean.rsplit_once('.') {
        Some((stem, _)) if !stem.is_empty() => stem,
        _ => clean.as_str(),
    };
    format!("{stem}{suffix}.{extension}")
}

/// RFC 6266 / RFC 5987: an ASCII fallback plus the exact UTF-8 name, safe for any filename.
pub fn content_disposition(filename: &str) -> String {
    let fallback: String = filename
        .chars()
        .map(|c| if c.is_ascii_graphic() && c != '"' && c != '\\' && c != '%' || c == ' ' { c } else { '_' })
        .collect();
    const ATTR: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'!').remove(b'#').remove(b'$').remove(b'&').remove(b'+').remove(b'-').remove(b'.')
        .remove(b'^').remove(b'_').remove(b'`').remove(b'|').remove(b'~');
    let encoded = percent_encoding::utf8_percent_encode(filename, ATTR);
    format!("attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn download_names_carry_the_verified_extension_and_no_format_characters() {
        assert_eq!(download_name("invoice\u{202E}gpj.html", "", "jpg"), "invoicegpj.jpg");
        assert_eq!(download_name("photo.JPEG", "-w512", "webp"), "photo-w512.webp");
        assert_eq!(download_name("noext", "", "png"), "noext.png");
        assert_eq!(download_name(".hidden", "", "png"), ".hidden.png");
    }

    #[test]
    fn content_disposition_is_safe_for_any_filename() {
        assert_eq!(content_disposition("a.jpg"), "attachment; filename=\"a.jpg\"; filename*=UTF-8''a.jpg");
        let d = content_disposition("my \"best\" café\r\n.jpg");
        assert!(d.starts_with("attachment; filename=\"my _best_ caf___.jpg\"; filename*=UTF-8''my%20%22best%22%20caf%C3%A9%0D%0A.jpg"), "{d}");
    }
}
