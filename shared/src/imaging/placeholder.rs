//! What an app paints before the thumbnail arrives: a ThumbHash (keeps alpha and aspect ratio),
//! a BlurHash (components chosen from the aspect ratio), the dominant colour and whether the
//! image has meaningful transparency. Computed from the smallest pixels the thumbnail cascade
//! already made, so it costs no second decode.

use super::pixels::{fit, orient, resize, Pixels};
use super::ImageError;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use fast_image_resize::Resizer;


pub use crate::domain::media::Placeholder;


/// ThumbHash's encoder takes at most 100 px a side.
const MAX_SIDE: u32 = 100;
/// Below this opacity a pixel counts as transparent.
const OPAQUE: u8 = 250;

/// The placeholder of `small` (any size; it is reduced to 100 px), displayed with `orientation`.
pub fn placeholder(small: &Pixels, orientation: u8, resizer: &mut Resizer) -> Result<Placeholder, ImageError> {
    let (w, h) = fit(small.width, small.height, MAX_SIDE.min(small.width.max(small.height)));
    let tiny = orient(resize(small, w, h, resizer)?, orientation)?;
    let rgba: Vec<u8> = if tiny.alpha {
        tiny.data
    } else {
        tiny.data.chunks_exact(3).flat_map(|p| [p[0], p[1], p[2], 255]).collect()
    };
    let (w, h) = (tiny.width, tiny.height);
    let thumbhash = STANDARD.encode(thumbhash::rgba_to_thumb_hash(w as usize, h as usize, &rgba));
    let (cx, cy) = blurhash_components(w, h);
    let blurhash = blurhash::encode(cx, cy, w, h, &rgba).map_err(|e| ImageError::Corrupt(format!("blurhash: {e}")))?;
    Ok(Placeholder {
        thumbhash,
        blurhash,
        dominant_color: dominant_color(&rgba),
        has_alpha: rgba.chunks_exact(4).any(|p| p[3] < OPAQUE),
    })
}

/// About 16 components shaped like the image: 4x4 square, 5x3 at 16:9, 3x5 portrait.
fn blurhash_components(w: u32, h: u32) -> (u32, u32) {
    let ratio = (w as f64 / h.max(1) as f64).sqrt();
    let x = (4.0 * ratio).round().clamp(1.0, 9.0) as u32;
    let y = (4.0 / ratio).round().clamp(1.0, 9.0) as u32;
    (x, y)
}

/// The mean colour of the most populated 4-bit-per-channel bucket among visible pixels.
fn dominant_color(rgba: &[u8]) -> String {
    let mut buckets = vec![(0u32, [0u64; 3]); 4096];
    for p in rgba.chunks_exact(4).filter(|p| p[3] >= 128) {
        let b = &mut buckets[((p[0] as usize >> 4) << 8) | ((p[1] as usize >> 4) << 4) | (p[2] as usize >> 4)];
        b.0 += 1;
        for c in 0..3 {
            b.1[c] += p[c] as u64;
        }
    }
    let (n, sum) = buckets.into_iter().max_by_key(|b| b.0).unwrap_or((0, [0; 3]));
    let n = n.max(1) as u64;
    format!("#{:02x}{:02x}{:02x}", sum[0] / n, sum[1] / n, sum[2] / n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pixels(w: u32, h: u32, alpha: bool, px: impl Fn(u32, u32) -> Vec<u8>) -> Pixels {
        let mut data = Vec::new();
        for y in 0..h {
            for x in 0..w {
                data.extend(px(x, y));
            }
        }
        Pixels { width: w, height: h, alpha, data }
    }

    #[test]
    fn the_thumbhash_keeps_the_aspect_ratio_and_the_colour() {
        let p = pixels(320, 180, false, |_, _| vec![200, 40, 40]);
        let ph = placeholder(&p, 1, &mut Resizer::new()).unwrap();
        let hash = STANDARD.decode(&ph.thumbhash).unwrap();
        let ratio = thumbhash::thumb_hash_to_approximate_aspect_ratio(&hash).unwrap();
        assert!((ratio - 16.0 / 9.0).abs() / (16.0 / 9.0) < 0.05, "{ratio}");
        let (r, g, b, _) = thumbhash::thumb_hash_to_average_rgba(&hash).unwrap();
        assert!((r - 200.0 / 255.0).abs() < 0.05 && (g - 40.0 / 255.0).abs() < 0.05 && (b - 40.0 / 255.0).abs() < 0.05, "{r} {g} {b}");
        assert_eq!(ph.dominant_color, "#c82828");
        assert!(!ph.has_alpha);
        assert_eq!(blurhash_components(320, 180), (5, 3));
        assert_eq!(ph.blurhash.len(), 4 + 2 * 5 * 3);
    }

    #[test]
    fn orientation_turns_the_placeholder_and_transparency_is_reported() {
        let p = pixels(200, 100, true, |x, _| vec![10, 200, 10, if x < 100 { 0 } else { 255 }]);
        let ph = placeholder(&p, 6, &mut Resizer::new()).unwrap();
        let hash = STANDARD.decode(&ph.thumbhash).unwrap();
        let ratio = thumbhash::thumb_hash_to_approximate_aspect_ratio(&hash).unwrap();
        // ThumbHash stores the aspect as a ratio of small component counts: 1:2 with alpha reads
        // as 3:5. Portrait it must be.
        assert!((ratio - 0.5).abs() < 0.11, "portrait after orientation 6: {ratio}");
        assert!(ph.has_alpha);
        assert_eq!(ph.dominant_color, "#0ac80a");
    }
}
