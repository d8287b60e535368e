//! The imaging primitives that thumbnails, on-demand transforms and video posters compose:
//! decode (with its limits and DCT scaling), resize, orient, encode to a chosen format.

use super::probe::{format_of, Probe};
use super::{DecodeLimits, ImageError};
use crate::domain::kinds::ContentType;
pub use super::webp::WebpSettings;
use fast_image_resize::images::{Image, ImageRef};
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};
use image::{DynamicImage, ImageBuffer, ImageReader};
use std::io::Cursor;

/// Pixels as decoded: RGB8 or RGBA8, row-major.
pub struct Pixels {
    pub width: u32,
    pub height: u32,
    pub alpha: bool,
    pub data: Vec<u8>,
}

impl Pixels {
    fn pixel_type(&self) -> PixelType {
        if self.alpha {
            PixelType::U8x4
        } else {
            PixelType::U8x3
        }
    }
}

/// A decoded frame and how much of it the image covers. A frame scaled while decoding by a
/// factor that does not divide the image (libjpeg-turbo's n/8 of 5773 rows is 1443.25, stored
/// as 1444; a PNG band of fewer rows) has a last row or column that is partly padding: the
/// first resize reads the covered region only, so the result is not stretched by that
/// fraction of a pixel. On the 50 MP bench fixture that stretch alone took the 1024 px
/// thumbnail's SSIM against the full-size reference from 0.943 to 0.933 (bench/RESULTS.md).
pub struct Decoded {
    pub pixels: Pixels,
    /// Width and height of the image in frame pixels, from the top-left corner; at most the
    /// frame's own size.
    pub covered: (f64, f64),
}

impl Decoded {
    /// A frame the image covers exactly.
    pub fn whole(pixels: Pixels) -> Self {
        let covered = (pixels.width as f64, pixels.height as f64);
        Self { pixels, covered }
    }

    /// A frame of `stored` scaled by `num/den`, rounded up as libjpeg-turbo and the PNG bands do.
    pub(super) fn scaled(pixels: Pixels, stored: (u32, u32), num: u32, den: u32) -> Self {
        let covered = (
            (stored.0 as f64 * num as f64 / den as f64).min(pixels.width as f64),
            (stored.1 as f64 * num as f64 / den as f64).min(pixels.height as f64),
        );
        Self { pixels, covered }
    }

    /// Resizes the covered region to `width`×`height`.
    pub fn resize(&self, width: u32, height: u32, resizer: &mut Resizer) -> Result<Pixels, ImageError> {
        resize_region(&self.pixels, (0.0, 0.0, self.covered.0, self.covered.1), width, height, resizer)
    }

    /// Resizes `rect` (left, top, width, height in frame pixels, clamped to the covered
    /// region) to `width`×`height`: a crop and a resize in one pass.
    pub fn resize_rect(&self, rect: (f64, f64, f64, f64), width: u32, height: u32, resizer: &mut Resizer) -> Result<Pixels, ImageError> {
        let (cw, ch) = self.covered;
        let left = rect.0.clamp(0.0, cw);
        let top = rect.1.clamp(0.0, ch);
        let clamped = (left, top, rect.2.min(cw - left).max(f64::MIN_POSITIVE), rect.3.min(ch - top).max(f64::MIN_POSITIVE));
        resize_region(&self.pixels, clamped, width, height, resizer)
    }
}

/// What an encoder writes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Format {
    Webp(WebpSettings),
    /// Baseline JPEG at this quality, by libjpeg-turbo (alpha is dropped).
    Jpeg(u8),
    Png,
    /// AVIF at this quality, at the variant speed (`avif::SPEED`).
    Avif(u8),
}

/// Decodes the whole image (proving it is intact) at the smallest size whose long side is still
/// at least `min_long_side` where the codec can scale while decoding (JPEG by libjpeg-turbo's
/// DCT scaling, still WebP by libwebp's rescaler, non-interlaced PNG by row bands), else at
/// full size.
pub fn decode(bytes: &[u8], probe: &Probe, min_long_side: Option<u32>, limits: DecodeLimits) -> Result<Decoded, ImageError> {
    let scaled = match probe.content_type {
        ContentType::Jpeg => decode_jpeg_scaled(bytes, (probe.stored_width, probe.stored_height), min_long_side, limits)?,
        ContentType::Webp => super::webp::decode_scaled(bytes, (probe.stored_width, probe.stored_height), min_long_side)?,
        ContentType::Png => super::png::decode_reduced(bytes, (probe.stored_width, probe.stored_height), min_long_side)?,
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

/// The long side a codec reduces to while decoding for a `target` thumbnail: half again the
/// target, so the Lanczos resize after it has room (a reduction to exactly the target loses
/// detail: 16 MP progressive JPEG SSIM -0.005 against sharp at 1x, +0.001 at 1.5x).
pub(super) fn reduction_floor(target: u32) -> u32 {
    target.saturating_add(target / 2)
}

fn from_dynamic(img: DynamicImage) -> Pixels {
    let (width, height) = (img.width(), img.height());
    if img.color().has_alpha() {
        Pixels { width, height, alpha: true, data: img.into_rgba8().into_raw() }
    } else {
        Pixels { width, height, alpha: false, data: img.into_rgb8().into_raw() }
    }
}

/// JPEG through libjpeg-turbo, DCT-scaled while decoding. A file without its end-of-image
/// marker is refused first: libjpeg-turbo would pad a truncated scan with grey and succeed.
fn decode_jpeg_scaled(bytes: &[u8], stored: (u32, u32), min_long_side: Option<u32>, limits: DecodeLimits) -> Result<Option<Decoded>, ImageError> {
    if !has_eoi(bytes) {
        return Err(ImageError::Corrupt("truncated JPEG: no end-of-image marker".into()));
    }
    super::jpeg::decode_scaled(bytes, stored, min_long_side, limits)
}

/// A JPEG's entropy-coded data cannot contain FF D9 (0xFF is always stuffed), so the marker's
/// presence after the first scan proves the file was not cut short.
fn has_eoi(bytes: &[u8]) -> bool {
    let Some(sos) = bytes.windows(2).position(|w| w == [0xFF, 0xDA]) else { return false };
    bytes[sos..].windows(2).any(|w| w == [0xFF, 0xD9])
}

/// Resizes with a Lanczos3 convolution (SIMD). `resizer` keeps its buffers between calls.
pub fn resize(src: &Pixels, width: u32, height: u32, resizer: &mut Resizer) -> Result<Pixels, ImageError> {
    resize_region(src, (0.0, 0.0, src.width as f64, src.height as f64), width, height, resizer)
}

/// Resizes the `region` (left, top, width, height) of `src`.
fn resize_region(src: &Pixels, region: (f64, f64, f64, f64), width: u32, height: u32, resizer: &mut Resizer) -> Result<Pixels, ImageError> {
    let mut options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Lanczos3));
    if region != (0.0, 0.0, src.width as f64, src.height as f64) {
        options = options.crop(region.0, region.1, region.2, region.3);
    }
    let view = ImageRef::new(src.width, src.height, &src.data, src.pixel_type()).map_err(|e| ImageError::Corrupt(e.to_string()))?;
    let mut dst = Image::new(width, height, src.pixel_type());
    resizer.resize(&view, &mut dst, &options).map_err(|e| ImageError::Corrupt(e.to_string()))?;
    Ok(Pixels { width, height, alpha: src.alpha, data: dst.into_vec() })
}

/// Width and height with the long side scaled to `size`, aspect ratio kept.
pub fn fit(w: u32, h: u32, size: u32) -> (u32, u32) {
    let long = w.max(h) as f64;
    let scale = size as f64 / long;
    let tw = ((w as f64 * scale).round() as u32).max(1);
    let th = ((h as f64 * scale).round() as u32).max(1);
    (tw, th)
}

pub fn orient(p: Pixels, orientation: u8) -> Result<Pixels, ImageError> {
    if orientation <= 1 {
        return Ok(p);
    }
    let Some(o) = image::metadata::Orientation::from_exif(orientation) else { return Ok(p) };
    let bad = || ImageError::Corrupt("pixel buffer size mismatch".into());
    let mut img = if p.alpha {
        DynamicImage::ImageRgba8(ImageBuffer::from_raw(p.width, p.height, p.data).ok_or_else(bad)?)
    } else {
        DynamicImage::ImageRgb8(ImageBuffer::from_raw(p.width, p.height, p.data).ok_or_else(bad)?)
    };
    img.apply_orientation(o);
    Ok(from_dynamic(img))
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

    #[test]
    fn fit_keeps_aspect_on_the_long_side() {
        assert_eq!(fit(4000, 3000, 1024), (1024, 768));
        assert_eq!(fit(3000, 4000, 512), (384, 512));
        assert_eq!(fit(10000, 10, 128), (128, 1));
    }

    #[test]
    fn a_scaled_frame_covers_the_exact_fraction_of_the_image() {
        let frame = Pixels { width: 2165, height: 1444, alpha: false, data: vec![] };
        assert_eq!(Decoded::scaled(frame, (8660, 5773), 2, 8).covered, (2165.0, 1443.25), "a 50 MP photo at 1/4: the last row is a quarter image");
        let band = Pixels { width: 34, height: 34, alpha: false, data: vec![] };
        assert_eq!(Decoded::scaled(band, (100, 100), 1, 3).covered.0, 100.0 / 3.0);
    }

    #[test]
    fn the_padding_of_a_scaled_frame_never_reaches_the_resized_image() {
        // Eight columns, the last one padding (bright), the image covering seven: resized to
        // seven columns, the result is the seven image columns, not eight squeezed into seven.
        let data: Vec<u8> = (0..2).flat_map(|_| (0..8u8).flat_map(|x| [if x == 7 { 255 } else { x * 20 }; 3])).collect();
        let frame = Decoded { pixels: Pixels { width: 8, height: 2, alpha: false, data }, covered: (7.0, 2.0) };
        let out = frame.resize(7, 2, &mut Resizer::new()).unwrap();
        let row: Vec<u8> = out.data.chunks(3).take(7).map(|p| p[0]).collect();
        assert!(row.iter().zip((0..7u8).map(|x| x * 20)).all(|(&got, want)| got.abs_diff(want) <= 1), "{row:?}");
        let squeezed = resize(&frame.pixels, 7, 2, &mut Resizer::new()).unwrap();
        assert!(squeezed.data[6 * 3] > 140, "the whole frame would bring the padding in: {}", squeezed.data[6 * 3]);
    }

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
