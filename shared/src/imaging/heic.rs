//! HEVC-coded HEIF (HEIC) decoding through `heic-decoder`, a pure-Rust decoder (no `unsafe`):
//! grids, 8 to 12 bits, alpha planes, and the container's `clap`/`irot`/`imir` applied, so
//! the pixels come out as displayed. The container has been walked and bounded by `heif`
//! first; this module only decodes.

use super::pixels::Pixels;
use super::ImageError;

fn classify(e: heic_decoder::HeifError) -> ImageError {
    match e {
        heic_decoder::HeifError::LimitExceeded(what) => ImageError::LimitExceeded(format!("HEIC: {what}")),
        other => ImageError::Corrupt(format!("HEIC: {other}")),
    }
}

/// The displayed size (after the container's crop and rotation), read without decoding.
pub fn size(bytes: &[u8]) -> Result<(u32, u32), ImageError> {
    let info = heic_decoder::probe(bytes).map_err(classify)?;
    let side = |v: usize| u32::try_from(v).map_err(|_| ImageError::Corrupt("HEIC: size out of range".into()));
    Ok((side(info.width)?, side(info.height)?))
}

/// The whole picture as 8-bit RGB, or RGBA when the file has an alpha plane (deeper samples
/// are rounded to 8 bits; the colour is the file's own, as for every other type).
pub fn decode(bytes: &[u8]) -> Result<Pixels, ImageError> {
    let image = heic_decoder::decode(bytes).map_err(classify)?;
    let side = |v: usize| u32::try_from(v).map_err(|_| ImageError::Corrupt("HEIC: size out of range".into()));
    if image.alpha.is_some() {
        let rgba = image.to_rgba8().map_err(classify)?;
        drop(image);
        return Ok(Pixels { width: side(rgba.width)?, height: side(rgba.height)?, alpha: true, data: rgba.data });
    }
    let rgb = image.to_rgb8().map_err(classify)?;
    drop(image);
    Ok(Pixels { width: side(rgb.width)?, height: side(rgb.height)?, alpha: false, data: rgb.data })
}
