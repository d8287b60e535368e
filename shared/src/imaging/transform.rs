//! Rendering one on-demand variant (`transform`): the same verified decode path and limits as
//! thumbnails, then a resize that contains the image in a box, or covers the box and crops
//! around a focal point.

use super::pixels::{crop, decode, encode, orient, Format};
use super::{DecodeLimits, ImageError, Probe};
use fast_image_resize::Resizer;
use std::time::Instant;

/// How the image meets the requested box.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Geometry {
    /// The whole image inside `width`×`height` (either may be absent), never enlarged.
    Inside { width: Option<u32>, height: Option<u32> },
    /// The whole image inside the box, enlarged if smaller.
    Contain { width: Option<u32>, height: Option<u32> },
    /// Exactly `width`×`height`, cropped around `focal` (0..1 on each axis, of the displayed
    /// image).
    Cover { width: u32, height: u32, focal: (f32, f32) },
}

/// One encoded variant and its size.
pub struct Variant {
    pub bytes: Vec<u8>,
    pub width: u32,
    pub height: u32,
}

/// The scale that fits (dw, dh) into the box (a missing side does not bound it).
fn contain_scale(dw: u32, dh: u32, width: Option<u32>, height: Option<u32>) -> f64 {
    let sx = width.map(|w| w as f64 / dw as f64).unwrap_or(f64::INFINITY);
    let sy = height.map(|h| h as f64 / dh as f64).unwrap_or(f64::INFINITY);
    sx.min(sy)
}

/// Renders one variant of a verified image.
pub fn render(bytes: &[u8], probe: &Probe, geometry: Geometry, format: Format, limits: DecodeLimits, deadline: Instant) -> Result<Variant, ImageError> {
    let (dw, dh) = probe.display_size();
    let scale = match geometry {
        Geometry::Inside { width, height } => contain_scale(dw, dh, width, height).min(1.0),
        Geometry::Contain { width, height } => contain_scale(dw, dh, width, height),
        Geometry::Cover { width, height, .. } => (width as f64 / dw as f64).max(height as f64 / dh as f64),
    };
    if !scale.is_finite() || scale <= 0.0 {
        return Err(ImageError::Corrupt("no size requested".into()));
    }
    let (sw, sh) = (((dw as f64 * scale).round() as u32).max(1), ((dh as f64 * scale).round() as u32).max(1));
    if !limits.allows(sw, sh) {
        return Err(ImageError::DimensionsTooLarge { width: sw, height: sh });
    }
    // Decode reduced where the codec can, to no less than the scaled long side.
    let decoded = decode(bytes, probe, Some(sw.max(sh)).filter(|_| scale < 1.0), limits)?;
    if Instant::now() > deadline {
        return Err(ImageError::LimitExceeded("processing ran past its time budget".into()));
    }
    // Resized as stored, then turned: the padding a scaled decode leaves is on the stored
    // frame's right and bottom, and the smaller image is the cheaper one to turn.
    let (rw, rh) = if (dw, dh) == (probe.stored_width, probe.stored_height) { (sw, sh) } else { (sh, sw) };
    let exact = (decoded.pixels.width, decoded.pixels.height) == (rw, rh) && decoded.covered == (rw as f64, rh as f64);
    let stored = if exact { decoded.pixels } else { decoded.resize(rw, rh, &mut Resizer::new())? };
    let scaled = orient(stored, probe.orientation)?;
    let out = match geometry {
        Geometry::Cover { width, height, focal } => {
            let (w, h) = (width.min(sw), height.min(sh));
            // The window centred on the focal point as far as the edges allow.
            let place = |size: u32, window: u32, f: f32| -> u32 {
                let centre = (f.clamp(0.0, 1.0) as f64 * size as f64).round() as i64;
                (centre - window as i64 / 2).clamp(0, (size - window) as i64) as u32
            };
            crop(&scaled, place(sw, w, focal.0), place(sh, h, focal.1), w, h)?
        }
        _ => scaled,
    };
    let encoded = encode(&out, format)?;
    Ok(Variant { bytes: encoded, width: out.width, height: out.height })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::imaging::pixels::{Pixels, WebpSettings};
    use crate::kinds::ContentType;
    use std::time::Duration;

    fn limits() -> DecodeLimits {
        DecodeLimits { max_pixels: 50_000_000, max_side: 20_000, max_jpeg_scans: 64, max_memory_mb: 384, time_budget: Duration::from_secs(8) }
    }

    /// 1200×600, blue, with a red 100×100 square in the top-left corner.
    fn marked() -> (Vec<u8>, Probe) {
        let data: Vec<u8> = (0..1200 * 600).flat_map(|i| if i % 1200 < 100 && i / 1200 < 100 { [220, 20, 20] } else { [20, 40, 200] }).collect();
        let png = encode(&Pixels { width: 1200, height: 600, alpha: false, data }, Format::Png).unwrap();
        let probe = crate::imaging::probe(&png, ContentType::Png, limits()).unwrap();
        (png, probe)
    }

    fn red_at(v: &Variant, x: u32, y: u32) -> bool {
        let img = image::load_from_memory(&v.bytes).unwrap().into_rgb8();
        let p = img.get_pixel(x, y);
        p[0] > 150 && p[2] < 100
    }

    #[test]
    fn cover_crops_around_the_focal_point() {
        let (png, probe) = marked();
        let far = Instant::now() + Duration::from_secs(10);
        let centre = render(&png, &probe, Geometry::Cover { width: 300, height: 300, focal: (0.5, 0.5) }, Format::Png, limits(), far).unwrap();
        assert_eq!((centre.width, centre.height), (300, 300));
        assert!(!red_at(&centre, 5, 5), "a centred crop of a 2:1 image drops the left edge");
        let corner = render(&png, &probe, Geometry::Cover { width: 300, height: 300, focal: (0.0, 0.0) }, Format::Png, limits(), far).unwrap();
        assert!(red_at(&corner, 5, 5) && !red_at(&corner, 200, 200), "the marked corner stays in frame");
    }

    #[test]
    fn inside_never_enlarges_and_contain_does() {
        let (png, probe) = marked();
        let far = Instant::now() + Duration::from_secs(10);
        let v = render(&png, &probe, Geometry::Inside { width: Some(640), height: None }, Format::Jpeg(80), limits(), far).unwrap();
        assert_eq!((v.width, v.height), (640, 320));
        assert!(v.bytes.starts_with(&[0xFF, 0xD8]));
        let v = render(&png, &probe, Geometry::Inside { width: Some(2560), height: Some(2560) }, Format::Webp(WebpSettings::lossy(80.0, 2)), limits(), far).unwrap();
        assert_eq!((v.width, v.height), (1200, 600));
        let v = render(&png, &probe, Geometry::Contain { width: Some(2400), height: Some(2400) }, Format::Png, limits(), far).unwrap();
        assert_eq!((v.width, v.height), (2400, 1200));
        let late = Instant::now() - Duration::from_secs(1);
        assert!(matches!(render(&png, &probe, Geometry::Inside { width: Some(64), height: None }, Format::Png, limits(), late), Err(ImageError::LimitExceeded(_))));
    }
}
