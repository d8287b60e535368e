//! Thumbnails, built to be fast: decode once (DCT-scaled for JPEG, so a 12 MP photo decodes at
//! an eighth or a quarter of its size), resize with a SIMD resizer from the largest size down
//! (a cascade), rotate the small results per EXIF, and encode lossy WebP with libwebp, the sizes
//! in parallel.

use super::probe::{format_of, Probe};
use super::{DecodeLimits, ImageError};
use crate::kinds::ContentType;
use fast_image_resize::images::{Image, ImageRef};
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};
use image::{DynamicImage, ImageBuffer, ImageReader};
use std::io::Cursor;
use std::time::Instant;

#[derive(Debug, Clone)]
pub struct ThumbnailSpec {
    /// Long-side sizes, any order.
    pub sizes: Vec<u32>,
    pub quality: f32,
    /// libwebp method 0 (fast) to 6 (small).
    pub method: i32,
}

#[derive(Debug, Clone)]
pub struct Thumbnail {
    pub size: u32,
    pub width: u32,
    pub height: u32,
    pub webp: Vec<u8>,
}

/// Pixels as decoded: RGB8 or RGBA8, row-major.
struct Pixels {
    width: u32,
    height: u32,
    alpha: bool,
    data: Vec<u8>,
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

/// Decodes the whole image (proving it is intact) and makes every thumbnail smaller than its
/// long side. An empty list means the image is smaller than every size.
pub fn thumbnails(bytes: &[u8], probe: &Probe, spec: &ThumbnailSpec, limits: DecodeLimits, deadline: Instant) -> Result<Vec<Thumbnail>, ImageError> {
    let long = probe.stored_width.max(probe.stored_height);
    let mut sizes: Vec<u32> = spec.sizes.iter().copied().filter(|&s| s < long).collect();
    sizes.sort_unstable_by(|a, b| b.cmp(a));
    sizes.dedup();
    let largest = sizes.first().copied();
    let pixels = decode(bytes, probe, largest, limits)?;
    within(deadline)?;

    // The cascade: each size is made from the previous, larger one.
    let mut resized: Vec<(u32, Pixels)> = Vec::with_capacity(sizes.len());
    let mut resizer = Resizer::new();
    let options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Lanczos3));
    for &size in &sizes {
        within(deadline)?;
        let source = resized.last().map(|(_, p)| p).unwrap_or(&pixels);
        let (tw, th) = fit(probe.stored_width, probe.stored_height, size);
        let src = ImageRef::new(source.width, source.height, &source.data, source.pixel_type())
            .map_err(|e| ImageError::Corrupt(e.to_string()))?;
        let mut dst = Image::new(tw, th, source.pixel_type());
        resizer.resize(&src, &mut dst, &options).map_err(|e| ImageError::Corrupt(e.to_string()))?;
        resized.push((size, Pixels { width: tw, height: th, alpha: source.alpha, data: dst.into_vec() }));
    }

    let quality = spec.quality;
    let method = spec.method;
    let orientation = probe.orientation;
    let encode_one = |(size, p): (u32, Pixels)| -> Result<Thumbnail, ImageError> {
        within(deadline)?;
        let p = orient(p, orientation)?;
        let webp = encode_webp(&p, quality, method)?;
        Ok(Thumbnail { size, width: p.width, height: p.height, webp })
    };
    // Encoding dominates after a scaled decode; spread the sizes over the cores there are.
    let mut out: Vec<Thumbnail> = if resized.len() > 1 && std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1) > 1 {
        std::thread::scope(|scope| {
            let handles: Vec<_> = resized.into_iter().map(|r| scope.spawn(move || encode_one(r))).collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|_| Err(ImageError::Corrupt("the encoder failed".into()))))
                .collect::<Result<Vec<_>, _>>()
        })?
    } else {
        resized.into_iter().map(encode_one).collect::<Result<Vec<_>, _>>()?
    };
    out.sort_by_key(|t| t.size);
    Ok(out)
}

fn within(deadline: Instant) -> Result<(), ImageError> {
    if Instant::now() > deadline {
        return Err(ImageError::LimitExceeded("processing ran past its time budget".into()));
    }
    Ok(())
}

/// Width and height with the long side scaled to `size`, aspect ratio kept.
fn fit(w: u32, h: u32, size: u32) -> (u32, u32) {
    let long = w.max(h) as f64;
    let scale = size as f64 / long;
    let tw = ((w as f64 * scale).round() as u32).max(1);
    let th = ((h as f64 * scale).round() as u32).max(1);
    (tw, th)
}

fn decode(bytes: &[u8], probe: &Probe, largest: Option<u32>, limits: DecodeLimits) -> Result<Pixels, ImageError> {
    if probe.content_type == ContentType::Jpeg {
        if let Some(p) = decode_jpeg_scaled(bytes, probe, largest)? {
            return Ok(p);
        }
    }
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format_of(probe.content_type));
    reader.limits(limits.image_limits());
    let img = reader.decode().map_err(|e| ImageError::Corrupt(e.to_string()))?;
    Ok(from_dynamic(img))
}

fn from_dynamic(img: DynamicImage) -> Pixels {
    let (width, height) = (img.width(), img.height());
    if img.color().has_alpha() {
        Pixels { width, height, alpha: true, data: img.into_rgba8().into_raw() }
    } else {
        Pixels { width, height, alpha: false, data: img.into_rgb8().into_raw() }
    }
}

/// JPEG with DCT scaling: the decoder produces the smallest power-of-two reduction that is
/// still at least as large as the largest thumbnail. Returns None for colour spaces it leaves
/// to the general decoder (CMYK, 16-bit).
fn decode_jpeg_scaled(bytes: &[u8], probe: &Probe, largest: Option<u32>) -> Result<Option<Pixels>, ImageError> {
    if !has_eoi(bytes) {
        return Err(ImageError::Corrupt("truncated JPEG: no end-of-image marker".into()));
    }
    let mut d = jpeg_decoder::Decoder::new(Cursor::new(bytes));
    d.read_info().map_err(|e| ImageError::Corrupt(e.to_string()))?;
    let (w, h) = (probe.stored_width, probe.stored_height);
    let target = largest.unwrap_or(1).max(1);
    let long = w.max(h);
    let req_w = ((w as u64 * target as u64).div_ceil(long as u64)).clamp(1, u16::MAX as u64) as u16;
    let req_h = ((h as u64 * target as u64).div_ceil(long as u64)).clamp(1, u16::MAX as u64) as u16;
    let (sw, sh) = d.scale(req_w, req_h).map_err(|e| ImageError::Corrupt(e.to_string()))?;
    let data = d.decode().map_err(|e| ImageError::Corrupt(e.to_string()))?;
    let info = d.info().ok_or_else(|| ImageError::Corrupt("no JPEG header".into()))?;
    let (sw, sh) = (sw as u32, sh as u32);
    let expected = sw as usize * sh as usize;
    let rgb = match info.pixel_format {
        jpeg_decoder::PixelFormat::RGB24 if data.len() >= expected * 3 => data,
        jpeg_decoder::PixelFormat::L8 if data.len() >= expected => data.iter().flat_map(|&l| [l, l, l]).collect(),
        _ => return Ok(None),
    };
    Ok(Some(Pixels { width: sw, height: sh, alpha: false, data: rgb }))
}

/// A JPEG's entropy-coded data cannot contain FF D9 (0xFF is always stuffed), so the marker's
/// presence after the first scan proves the file was not cut short.
fn has_eoi(bytes: &[u8]) -> bool {
    let Some(sos) = bytes.windows(2).position(|w| w == [0xFF, 0xDA]) else { return false };
    bytes[sos..].windows(2).any(|w| w == [0xFF, 0xD9])
}

fn orient(p: Pixels, orientation: u8) -> Result<Pixels, ImageError> {
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

fn encode_webp(p: &Pixels, quality: f32, method: i32) -> Result<Vec<u8>, ImageError> {
    let encoder = if p.alpha {
        webp::Encoder::from_rgba(&p.data, p.width, p.height)
    } else {
        webp::Encoder::from_rgb(&p.data, p.width, p.height)
    };
    let mut config = webp::WebPConfig::new().map_err(|_| ImageError::Corrupt("libwebp config".into()))?;
    config.quality = quality;
    config.method = method;
    let mem = encoder.encode_advanced(&config).map_err(|e| ImageError::Corrupt(format!("thumbnail encoding failed: {e:?}")))?;
    Ok(mem.to_vec())
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
    fn truncated_jpeg_has_no_eoi() {
        assert!(has_eoi(&[0xFF, 0xD8, 0xFF, 0xDA, 0, 2, 1, 2, 0xFF, 0xD9]));
        assert!(!has_eoi(&[0xFF, 0xD8, 0xFF, 0xDA, 0, 2, 1, 2]));
    }
}
