//! Thumbnails, composed from the primitives in `pixels`: decode once (DCT-scaled for JPEG, so
//! a 12 MP photo decodes at an eighth or a quarter of its size), resize from the largest size
//! down (a cascade), rotate the small results per EXIF, and encode lossy WebP, the sizes in
//! parallel.

use super::pixels::{fit, orient, resize, Decoded, Format, Pixels, WebpSettings};
use super::codec::{decode, encode};
use super::placeholder::{placeholder, Placeholder};
use super::probe::Probe;
use super::{DecodeLimits, ImageError};
use fast_image_resize::Resizer;
use std::time::Instant;

#[derive(Debug, Clone)]
pub struct ThumbnailSpec {
    /// Long-side sizes, any order.
    pub sizes: Vec<u32>,
    pub quality: f32,
    /// libwebp method 0 (fast) to 6 (small).
    pub method: i32,
    /// Encode the sizes on threads of their own (only worth it with a second core).
    pub parallel: bool,
}

#[derive(Debug, Clone)]
pub struct Thumbnail {
    pub size: u32,
    pub width: u32,
    pub height: u32,
    pub webp: Vec<u8>,
}

/// Every thumbnail of an image, and its placeholder.
#[derive(Debug, Clone)]
pub struct Rendered {
    /// Ascending by size; empty when the image is smaller than every size.
    pub thumbs: Vec<Thumbnail>,
    pub placeholder: Placeholder,
    /// For a type not every browser shows (HEIC, HEIF): the whole picture, as displayed, in
    /// one that every browser does.
    pub display: Option<Display>,
}

/// A full-size rendition of an image in a type every browser shows.
#[derive(Debug, Clone)]
pub struct Display {
    pub width: u32,
    pub height: u32,
    pub content_type: crate::domain::kinds::ContentType,
    pub bytes: Vec<u8>,
}

/// JPEG for an opaque picture: libjpeg-turbo encodes a full-size photo in a fraction of the
/// time lossy WebP takes. With transparency, lossy WebP with alpha.
pub const DISPLAY_QUALITY: u8 = 88;

fn display(p: &Pixels) -> Result<Display, ImageError> {
    use crate::domain::kinds::ContentType;
    let (content_type, bytes) = match p.alpha {
        false => (ContentType::Jpeg, encode(p, Format::Jpeg(DISPLAY_QUALITY))?),
        true => (ContentType::Webp, encode(p, Format::Webp(WebpSettings::lossy(DISPLAY_QUALITY as f32, 2)))?),
    };
    Ok(Display { width: p.width, height: p.height, content_type, bytes })
}

/// Decodes the whole image (proving it is intact), makes every thumbnail smaller than its long
/// side, and the placeholder from the smallest pixels the cascade made.
pub fn thumbnails(bytes: &[u8], probe: &Probe, spec: &ThumbnailSpec, limits: DecodeLimits, deadline: Instant) -> Result<Rendered, ImageError> {
    let sizes = sizes_below(spec, probe.stored_width.max(probe.stored_height));
    let largest = sizes.first().copied();
    let decoded = decode(bytes, probe, largest, limits)?;
    within(deadline)?;
    // Decoded whole and as displayed (neither HEIF codec scales, and both turn the picture).
    let display = match probe.content_type.displays_everywhere() {
        true => None,
        false => Some(display(&decoded.pixels)?),
    };

    let (thumbs, placeholder) = cascade(&decoded, (probe.stored_width, probe.stored_height), probe.orientation, &sizes, spec, deadline)?;
    Ok(Rendered { thumbs, placeholder, display })
}

/// The thumbnails of `sizes` (each below the long side of `stored`, largest first) made from
/// a decoded frame, and the placeholder.
pub(super) fn cascade(decoded: &Decoded, stored: (u32, u32), orientation: u8, sizes: &[u32], spec: &ThumbnailSpec, deadline: Instant) -> Result<(Vec<Thumbnail>, Placeholder), ImageError> {
    // The cascade: each size is made from the previous, larger one (the first from the
    // decoded frame's covered region).
    let mut resized: Vec<(u32, Pixels)> = Vec::with_capacity(sizes.len());
    let mut resizer = Resizer::new();
    for &size in sizes {
        within(deadline)?;
        let (tw, th) = fit(stored.0, stored.1, size);
        let next = match resized.last() {
            Some((_, source)) => resize(source, tw, th, &mut resizer)?,
            None => decoded.resize(tw, th, &mut resizer)?,
        };
        resized.push((size, next));
    }
    let placeholder = placeholder(resized.last().map(|(_, p)| p).unwrap_or(&decoded.pixels), orientation, &mut resizer)?;

    let format = Format::Webp(WebpSettings::lossy(spec.quality, spec.method));
    let encode_one = |(size, p): (u32, Pixels)| -> Result<Thumbnail, ImageError> {
        within(deadline)?;
        let p = orient(p, orientation)?;
        let webp = encode(&p, format)?;
        Ok(Thumbnail { size, width: p.width, height: p.height, webp })
    };
    // Encoding dominates after a scaled decode; spread the sizes over the cores, if there are.
    let mut out: Vec<Thumbnail> = if resized.len() > 1 && spec.parallel {
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
    Ok((out, placeholder))
}

/// The long sides of `spec` below `long`, largest first.
pub(super) fn sizes_below(spec: &ThumbnailSpec, long: u32) -> Vec<u32> {
    let mut sizes: Vec<u32> = spec.sizes.iter().copied().filter(|&s| s < long).collect();
    sizes.sort_unstable_by(|a, b| b.cmp(a));
    sizes.dedup();
    sizes
}

fn within(deadline: Instant) -> Result<(), ImageError> {
    if Instant::now() > deadline {
        return Err(ImageError::LimitExceeded("processing ran past its time budget".into()));
    }
    Ok(())
}
