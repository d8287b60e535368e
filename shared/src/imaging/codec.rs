//! Dispatch to the codecs: decode any verified image type (scaled while decoding where the codec
//! can) and encode to any output format. The pixel types live in `pixels`; each codec in its file.

use super::pixels::{from_dynamic, Decoded, Format, Pixels};
use super::probe::{format_of, Probe};
pub use super::jpeg::Scans;
use super::{DecodeLimits, ImageError};
use crate::domain::kinds::ContentType;
use image::ImageReader;
use std::io::Cursor;

/// Decodes the whole image (proving it is intact) at the smallest size whose long side is still
/// at least `min_long_side` where the codec can scale while decoding (JPEG by libjpeg-turbo's
/// DCT scaling, still WebP by libwebp's rescaler, non-interlaced PNG by row bands), else at
/// full size.
pub fn decode(bytes: &[u8], probe: &Probe, min_long_side: Option<u32>, limits: DecodeLimits) -> Result<Decoded, ImageError> {
    decode_reading(bytes, probe, min_long_side, limits, Scans::Needed)
}

/// `decode`, saying which scans of a progressive JPEG a scaled decode reads: `Scans::Every` is
/// the reference the production decode (`Scans::Needed`) is measured against.
pub fn decode_reading(bytes: &[u8], probe: &Probe, min_long_side: Option<u32>, limits: DecodeLimits, scans: Scans) -> Result<Decoded, ImageError> {
    let scaled = match probe.content_type {
        ContentType::Jpeg => decode_jpeg_scaled(bytes, (probe.stored_width, probe.stored_height), min_long_side, limits, scans)?,
        ContentType::Webp => super::webp::decode_scaled(bytes, (probe.stored_width, probe.stored_height), min_long_side)?,
        ContentType::Png => super::png::decode_reduced(bytes, (probe.stored_width, probe.stored_height), min_long_side)?,
        // Neither codec scales while decoding: the whole picture, as displayed.
        ContentType::Heic | ContentType::Heif | ContentType::Avif => return decode_heif(bytes, probe, limits),
        ContentType::Mp4 | ContentType::Quicktime | ContentType::Webm => return Err(ImageError::NotAnImage),
    };
    if let Some(p) = scaled {
        return Ok(p);
    }
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format_of(probe.content_type)?);
    reader.limits(limits.image_limits());
    let img = reader.decode().map_err(|e| ImageError::Corrupt(e.to_string()))?;
    Ok(Decoded::whole(from_dynamic(img)))
}

/// A HEIF file by the codec of its picture (its brand may say `mif1` for either), walked and
/// bounded again first so the decoder sees only a checked container.
fn decode_heif(bytes: &[u8], probe: &Probe, limits: DecodeLimits) -> Result<Decoded, ImageError> {
    let layout = super::heif::layout(bytes, limits)?;
    let pixels = match layout.codec() {
        Some(super::heif::Codec::Hevc) => super::heic::decode(bytes)?,
        Some(super::heif::Codec::Av1) => super::avif::decode(bytes, &layout, limits)?,
        None => return Err(ImageError::Corrupt("HEIF: the picture is neither HEVC nor AV1".into())),
    };
    if (pixels.width, pixels.height) != (probe.stored_width, probe.stored_height) {
        return Err(ImageError::Corrupt("HEIF: the decoded picture is not the size its header says".into()));
    }
    Ok(Decoded::whole(pixels))
}

/// JPEG through libjpeg-turbo, DCT-scaled while decoding. A file without its end-of-image
/// marker is refused first: libjpeg-turbo would pad a truncated scan with grey and succeed.
fn decode_jpeg_scaled(bytes: &[u8], stored: (u32, u32), min_long_side: Option<u32>, limits: DecodeLimits, scans: Scans) -> Result<Option<Decoded>, ImageError> {
    if !has_eoi(bytes) {
        return Err(ImageError::Corrupt("truncated JPEG: no end-of-image marker".into()));
    }
    super::jpeg::decode_scaled(bytes, stored, min_long_side, limits, scans)
}

/// A JPEG's entropy-coded data cannot contain FF D9 (0xFF is always stuffed), so the marker's
/// presence after the first scan proves the file was not cut short.
fn has_eoi(bytes: &[u8]) -> bool {
    let Some(sos) = bytes.windows(2).position(|w| w == [0xFF, 0xDA]) else { return false };
    bytes[sos..].windows(2).any(|w| w == [0xFF, 0xD9])
}

pub fn encode(p: &Pixels, format: Format) -> Result<Vec<u8>, ImageError> {
    match format {
        Format::Webp(settings) => super::webp::encode(p, settings),
        Format::Avif(quality) => super::avif::encode(p, quality, super::avif::SPEED),
        Format::Jpeg(quality) => super::jpeg::encode(p, quality),
        Format::Png => encode_png(p),
    }
}

fn encode_png(p: &Pixels) -> Result<Vec<u8>, ImageError> {
    use image::ImageEncoder;
    let color = if p.alpha { image::ExtendedColorType::Rgba8 } else { image::ExtendedColorType::Rgb8 };
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new(&mut out).write_image(&p.data, p.width, p.height, color).map_err(|e| ImageError::Corrupt(e.to_string()))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::imaging::pixels::WebpSettings;

    #[test]
    fn truncated_jpeg_has_no_eoi() {
        assert!(has_eoi(&[0xFF, 0xD8, 0xFF, 0xDA, 0, 2, 1, 2, 0xFF, 0xD9]));
        assert!(!has_eoi(&[0xFF, 0xD8, 0xFF, 0xDA, 0, 2, 1, 2]));
    }

    fn limits() -> DecodeLimits {
        DecodeLimits { max_pixels: 50_000_000, max_side: 20_000, max_jpeg_scans: 64, max_memory_mb: 384, time_budget: std::time::Duration::from_secs(8) }
    }

    fn decode_webp(bytes: &[u8], target: Option<u32>) -> Result<Pixels, ImageError> {
        let probe = super::super::probe::probe(bytes, ContentType::Webp, limits())?;
        let decoded = decode(bytes, &probe, target, limits())?;
        assert_eq!(decoded.covered, (decoded.pixels.width as f64, decoded.pixels.height as f64), "libwebp scales to exact sizes");
        Ok(decoded.pixels)
    }

    #[test]
    fn lossy_webp_is_scaled_while_decoding_and_keeps_its_colours() {
        let rgb: Vec<u8> = (0..1600 * 1200).flat_map(|i| if (i % 1600) < 800 { [200, 30, 40] } else { [20, 60, 220] }).collect();
        let bytes = encode(&Pixels { width: 1600, height: 1200, alpha: false, data: rgb }, Format::Webp(WebpSettings::lossy(90.0, 4))).unwrap();
        let p = decode_webp(&bytes, Some(512)).unwrap();
        assert_eq!((p.width, p.height, p.alpha, p.data.len()), (512, 384, false, 512 * 384 * 3));
        let at = |x: usize, y: usize| &p.data[(y * 512 + x) * 3..(y * 512 + x) * 3 + 3];
        let near = |a: &[u8], b: [u8; 3]| a.iter().zip(b).all(|(&x, y)| (x as i32 - y as i32).abs() < 12);
        assert!(near(at(100, 200), [200, 30, 40]), "{:?}", at(100, 200));
        assert!(near(at(400, 200), [20, 60, 220]), "{:?}", at(400, 200));
        let full = decode_webp(&bytes, None).unwrap();
        assert_eq!((full.width, full.height), (1600, 1200), "no target: full size");
    }

    #[test]
    fn webp_alpha_survives_scaling() {
        let rgba: Vec<u8> = (0..400 * 300).flat_map(|i| if (i % 400) < 200 { [0, 0, 0, 0] } else { [10, 200, 10, 255] }).collect();
        let bytes = encode(&Pixels { width: 400, height: 300, alpha: true, data: rgba }, Format::Webp(WebpSettings::lossless())).unwrap();
        let p = decode_webp(&bytes, Some(128)).unwrap();
        assert_eq!((p.width, p.height, p.alpha), (128, 96, true));
        assert_eq!(p.data[(40 * 128 + 10) * 4 + 3], 0, "the transparent half stays transparent");
        assert_eq!(p.data[(40 * 128 + 120) * 4 + 3], 255);
    }

    #[test]
    fn a_truncated_webp_is_corrupt_not_a_panic() {
        let rgb = vec![90u8; 640 * 480 * 3];
        let bytes = encode(&Pixels { width: 640, height: 480, alpha: false, data: rgb }, Format::Webp(WebpSettings::lossy(80.0, 4))).unwrap();
        for cut in [bytes.len() / 2, bytes.len() - 3, 40] {
            assert!(matches!(decode_webp(&bytes[..cut], Some(128)), Err(ImageError::Corrupt(_))), "cut at {cut}");
        }
    }
}
