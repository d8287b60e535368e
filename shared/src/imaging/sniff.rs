use crate::domain::kinds::ContentType;

/// The type the bytes really are, from their magic numbers; never from the client's word.
pub fn sniff(bytes: &[u8]) -> Option<ContentType> {
    if bytes.len() >= 3 && bytes[..3] == [0xFF, 0xD8, 0xFF] {
        return Some(ContentType::Jpeg);
    }
    if bytes.len() >= 8 && bytes[..8] == *b"\x89PNG\r\n\x1a\n" {
        return Some(ContentType::Png);
    }
    if bytes.len() >= 16 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" && matches!(&bytes[12..16], b"VP8 " | b"VP8L" | b"VP8X") {
        return Some(ContentType::Webp);
    }
    match super::heif::family(bytes)? {
        super::heif::Family::Heic => Some(ContentType::Heic),
        super::heif::Family::Heif => Some(ContentType::Heif),
        super::heif::Family::Avif => Some(ContentType::Avif),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_by_magic_not_by_name() {
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0]), Some(ContentType::Jpeg));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n...."), Some(ContentType::Png));
        assert_eq!(sniff(b"RIFF\0\0\0\0WEBPVP8 ...."), Some(ContentType::Webp));
        assert_eq!(sniff(b"RIFF\0\0\0\0WAVEfmt ...."), None);
        assert_eq!(sniff(b"<html><body>not an image</body></html>"), None);
        assert_eq!(sniff(b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>"), None);
        assert_eq!(sniff(b""), None);
    }
}
