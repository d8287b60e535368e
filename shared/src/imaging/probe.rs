use super::{DecodeLimits, ImageError};
use crate::domain::kinds::ContentType;
use image::{ImageDecoder, ImageFormat, ImageReader};
use std::io::Cursor;

/// What the header says, read without decoding pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Probe {
    pub content_type: ContentType,
    /// Dimensions as stored.
    pub stored_width: u32,
    pub stored_height: u32,
    /// EXIF orientation, 1 to 8 (1 when absent).
    pub orientation: u8,
}

impl Probe {
    /// Dimensions as displayed, after EXIF orientation.
    pub fn display_size(&self) -> (u32, u32) {
        if self.orientation >= 5 {
            (self.stored_height, self.stored_width)
        } else {
            (self.stored_width, self.stored_height)
        }
    }
}

/// The decoder for an image type; `None` for videos, which are never decoded.
pub(super) fn format_of(t: ContentType) -> Result<ImageFormat, ImageError> {
    match t {
        ContentType::Jpeg => Ok(ImageFormat::Jpeg),
        ContentType::Png => Ok(ImageFormat::Png),
        ContentType::Webp => Ok(ImageFormat::WebP),
        // Walked by `heif` and decoded by `heic`/`avif`, never by `image`.
        ContentType::Heic | ContentType::Heif | ContentType::Avif => Err(ImageError::NotAnImage),
        ContentType::Mp4 | ContentType::Quicktime | ContentType::Webm => Err(ImageError::NotAnImage),
    }
}

/// Reads dimensions and orientation from the header and checks them against the limits before
/// anything is allocated for pixels.
pub fn probe(bytes: &[u8], content_type: ContentType, limits: DecodeLimits) -> Result<Probe, ImageError> {
    if matches!(content_type, ContentType::Heic | ContentType::Heif | ContentType::Avif) {
        return probe_heif(bytes, content_type, limits);
    }
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format_of(content_type)?);
    reader.no_limits();
    let (w, h) = reader.into_dimensions().map_err(|e| ImageError::Corrupt(e.to_string()))?;
    if !limits.allows(w, h) {
        return Err(ImageError::DimensionsTooLarge { width: w, height: h });
    }
    if w == 0 || h == 0 {
        return Err(ImageError::Corrupt("zero-sized image".into()));
    }
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format_of(content_type)?);
    reader.limits(limits.image_limits());
    let mut decoder = reader.into_decoder().map_err(|e| ImageError::Corrupt(e.to_string()))?;
    let orientation = decoder.orientation().map(|o| o.to_exif()).unwrap_or(1);
    Ok(Probe { content_type, stored_width: w, stored_height: h, orientation })
}

/// A HEIF file's container is walked and bounded first (`heif::layout`); its size is then the
/// codec's own reading of it, with the container's crop and rotation applied (the decoders
/// apply them too), so the orientation left to apply is none. EXIF orientation in a HEIF file
/// is informative only (ISO/IEC 23008-12 §6.5.11: `irot`/`imir` govern), as libheif reads it.
fn probe_heif(bytes: &[u8], content_type: ContentType, limits: DecodeLimits) -> Result<Probe, ImageError> {
    let layout = super::heif::layout(bytes, limits)?;
    let (w, h) = match layout.codec() {
        Some(super::heif::Codec::Hevc) => super::heic::size(bytes)?,
        Some(super::heif::Codec::Av1) => super::avif::size(&layout),
        None => return Err(ImageError::Corrupt("HEIF: the picture is neither HEVC nor AV1".into())),
    };
    // The coded picture may be cropped (`clap`) below the container's size, never larger: a
    // header that understates the picture is refused whatever the limits.
    if w > layout.width || h > layout.height {
        return Err(ImageError::Corrupt(format!("HEIF: a {w}x{h} picture under a {}x{} header", layout.width, layout.height)));
    }
    if !limits.allows(w, h) || !super::heif::fits_in_memory(w, h, limits) {
        return Err(ImageError::DimensionsTooLarge { width: w, height: h });
    }
    if w == 0 || h == 0 {
        return Err(ImageError::Corrupt("zero-sized image".into()));
    }
    Ok(Probe { content_type, stored_width: w, stored_height: h, orientation: 1 })
}
