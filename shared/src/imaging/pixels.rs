//! The imaging primitives that thumbnails, on-demand transforms and video posters compose:
//! decode (with its limits and DCT scaling), resize, orient, encode to a chosen format.

use super::ImageError;
use fast_image_resize::images::{Image, ImageRef};
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};
use image::{DynamicImage, ImageBuffer};

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

/// libwebp encoder settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WebpSettings {
    /// 0 to 100 (lossy); ignored when lossless.
    pub quality: f32,
    /// 0 (fast) to 6 (small).
    pub method: i32,
    /// Spatial noise shaping, 0 to 100; None keeps libwebp's default (50).
    pub sns_strength: Option<i32>,
    pub lossless: bool,
}

impl WebpSettings {
    pub fn lossy(quality: f32, method: i32) -> Self {
        Self { quality, method, sns_strength: None, lossless: false }
    }

    pub fn lossless() -> Self {
        Self { quality: 75.0, method: 4, sns_strength: None, lossless: true }
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

/// The long side a codec reduces to while decoding for a `target` thumbnail: half again the
/// target, so the Lanczos resize after it has room (a reduction to exactly the target loses
/// detail: 16 MP progressive JPEG SSIM -0.005 against sharp at 1x, +0.001 at 1.5x).
pub(super) fn reduction_floor(target: u32) -> u32 {
    target.saturating_add(target / 2)
}

pub(super) fn from_dynamic(img: DynamicImage) -> Pixels {
    let (width, height) = (img.width(), img.height());
    if img.color().has_alpha() {
        Pixels { width, height, alpha: true, data: img.into_rgba8().into_raw() }
    } else {
        Pixels { width, height, alpha: false, data: img.into_rgb8().into_raw() }
    }
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
}
