//! Rendering one on-demand variant (`transform`): the same verified decode path and limits as
//! thumbnails, then a resize that contains the image in a box, or covers the box and crops
//! around a focal point.

use super::pixels::{orient, Format};
use super::codec::{decode, encode};
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

/// A rectangle in pixels: left, top, width, height.
type Rect = (f64, f64, f64, f64);

/// The part of the displayed image the output shows, in display pixels, and the output size.
/// A cover crop picks its window in the source first, so only that window is resized: a
/// 10:1 panorama covered at 2560×2560 resizes a 400×400 window, never a 49 MP intermediate.
fn window(geometry: Geometry, dw: u32, dh: u32) -> Result<(Rect, u32, u32), ImageError> {
    let (dwf, dhf) = (dw as f64, dh as f64);
    let contained = |scale: f64| -> Result<(Rect, u32, u32), ImageError> {
        if !scale.is_finite() || scale <= 0.0 {
            return Err(ImageError::Corrupt("no size requested".into()));
        }
        Ok(((0.0, 0.0, dwf, dhf), ((dwf * scale).round() as u32).max(1), ((dhf * scale).round() as u32).max(1)))
    };
    match geometry {
        Geometry::Inside { width, height } => contained(contain_scale(dw, dh, width, height).min(1.0)),
        Geometry::Contain { width, height } => contained(contain_scale(dw, dh, width, height)),
        Geometry::Cover { width, height, focal } => {
            let scale = (width as f64 / dwf).max(height as f64 / dhf);
            let (cw, ch) = ((width as f64 / scale).min(dwf), (height as f64 / scale).min(dhf));
            // The window centred on the focal point as far as the edges allow.
            let place = |size: f64, window: f64, f: f32| (f.clamp(0.0, 1.0) as f64 * size - window / 2.0).clamp(0.0, size - window);
            Ok(((place(dwf, cw, focal.0), place(dhf, ch, focal.1), cw, ch), width, height))
        }
    }
}

/// The size `render` makes of a displayed image of `dw`×`dh`.
pub fn output_size(geometry: Geometry, dw: u32, dh: u32) -> Result<(u32, u32), ImageError> {
    window(geometry, dw, dh).map(|(_, w, h)| (w, h))
}

/// A rectangle of the displayed image as a rectangle of the stored one (EXIF orientations:
/// the display is the stored frame turned and mirrored as `orient` does it).
fn to_stored((x, y, w, h): Rect, orientation: u8, stored: (u32, u32)) -> Rect {
    let (sw, sh) = (stored.0 as f64, stored.1 as f64);
    match orientation {
        2 => (sw - x - w, y, w, h),
        3 => (sw - x - w, sh - y - h, w, h),
        4 => (x, sh - y - h, w, h),
        5 => (y, x, h, w),
        6 => (y, sh - x - w, h, w),
        7 => (sw - y - h, sh - x - w, h, w),
        8 => (sw - y - h, x, h, w),
        _ => (x, y, w, h),
    }
}

/// Renders one variant of a verified image.
pub fn render(bytes: &[u8], probe: &Probe, geometry: Geometry, format: Format, limits: DecodeLimits, deadline: Instant) -> Result<Variant, ImageError> {
    let (dw, dh) = probe.display_size();
    let (shown, ow, oh) = window(geometry, dw, dh)?;
    if !limits.allows(ow, oh) {
        return Err(ImageError::DimensionsTooLarge { width: ow, height: oh });
    }
    // The scale from display to output pixels; the whole image at that scale is what the
    // codec may reduce to while decoding (the smallest DCT scale that still covers the window).
    let scale = ow as f64 / shown.2;
    let whole_long = ((dw.max(dh) as f64 * scale).round() as u32).max(1);
    let decoded = decode(bytes, probe, Some(whole_long).filter(|_| scale < 1.0), limits)?;
    if Instant::now() > deadline {
        return Err(ImageError::LimitExceeded("processing ran past its time budget".into()));
    }
    // Resized as stored, then turned: the padding a scaled decode leaves is on the stored
    // frame's right and bottom, and the smaller image is the cheaper one to turn.
    let turned = (dw, dh) != (probe.stored_width, probe.stored_height);
    let (rw, rh) = if turned { (oh, ow) } else { (ow, oh) };
    let stored_rect = to_stored(shown, probe.orientation, (probe.stored_width, probe.stored_height));
    // From stored pixels to the decoded frame's pixels.
    let (fx, fy) = (decoded.covered.0 / probe.stored_width as f64, decoded.covered.1 / probe.stored_height as f64);
    let frame_rect = (stored_rect.0 * fx, stored_rect.1 * fy, stored_rect.2 * fx, stored_rect.3 * fy);
    let whole = (0.0, 0.0, decoded.pixels.width as f64, decoded.pixels.height as f64);
    let stored = if frame_rect == whole && (decoded.pixels.width, decoded.pixels.height) == (rw, rh) {
        decoded.pixels
    } else {
        decoded.resize_rect(frame_rect, rw, rh, &mut Resizer::new())?
    };
    let out = orient(stored, probe.orientation)?;
    let encoded = encode(&out, format)?;
    Ok(Variant { bytes: encoded, width: out.width, height: out.height })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::imaging::pixels::{Pixels, WebpSettings};
    use crate::domain::kinds::ContentType;
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

    /// The `w`×`h` window of `p` whose top-left corner is at (`x`, `y`).
    fn crop(p: &Pixels, x: u32, y: u32, w: u32, h: u32) -> Pixels {
        let row = p.width as usize * 3;
        let data = (y..y + h).flat_map(|r| p.data[r as usize * row + x as usize * 3..][..w as usize * 3].to_vec()).collect();
        Pixels { width: w, height: h, alpha: false, data }
    }

    #[test]
    fn a_display_window_maps_to_the_same_stored_pixels_in_every_orientation() {
        // Every pixel distinct: a window taken from the turned image must be the turned window
        // of the stored one.
        let (sw, sh) = (7u32, 5u32);
        let data: Vec<u8> = (0..sw * sh).flat_map(|i| [i as u8, (i * 7) as u8, 1]).collect();
        let stored = Pixels { width: sw, height: sh, alpha: false, data };
        for o in 1..=8u8 {
            let shown = orient(Pixels { data: stored.data.clone(), ..stored }, o).unwrap();
            for (x, y, w, h) in [(0, 0, 2, 3), (1, 2, 3, 2), (shown.width - 2, shown.height - 1, 2, 1)] {
                let want = crop(&shown, x, y, w, h);
                let r = to_stored((x as f64, y as f64, w as f64, h as f64), o, (sw, sh));
                let got = orient(crop(&stored, r.0 as u32, r.1 as u32, r.2 as u32, r.3 as u32), o).unwrap();
                assert_eq!((got.width, got.height, &got.data), (want.width, want.height, &want.data), "orientation {o}, window {x},{y} {w}x{h}");
            }
        }
    }

    #[test]
    fn a_cover_crop_of_a_panorama_resizes_only_its_window() {
        // 3000×300, 10:1, covered at 2560×2560: the window is the 300×300 around the focal
        // point, scaled up; the whole-image intermediate would be 25600×2560 (65 MP).
        let data: Vec<u8> = (0..3000 * 300).flat_map(|i| if i % 3000 < 1500 { [220, 20, 20] } else { [20, 40, 200] }).collect();
        let png = encode(&Pixels { width: 3000, height: 300, alpha: false, data }, Format::Png).unwrap();
        let probe = crate::imaging::probe(&png, ContentType::Png, limits()).unwrap();
        let (window, w, h) = window(Geometry::Cover { width: 2560, height: 2560, focal: (0.1, 0.5) }, 3000, 300).unwrap();
        let rounded = (window.0.round(), window.1.round(), window.2.round(), window.3.round());
        assert_eq!((rounded, w, h), ((150.0, 0.0, 300.0, 300.0), 2560, 2560));
        let far = Instant::now() + Duration::from_secs(30);
        let v = render(&png, &probe, Geometry::Cover { width: 2560, height: 2560, focal: (0.1, 0.5) }, Format::Jpeg(80), limits(), far).unwrap();
        assert_eq!((v.width, v.height), (2560, 2560));
        assert!(red_at(&v, 2500, 1280), "the left (red) half, around the focal point");
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
