//! Video posters: a keyframe's sample (located and fetched by `video::poster`) decoded by the
//! codec of its track (H.264 by openh264, HEVC by the HEIC decoder, AV1 by libaom, each given
//! the track's decoder configuration), turned by the track matrix, then the photo path:
//! `poster` WebP at display size (long side at most [`POSTER_SIDE`]), the kind's thumbnails
//! cascaded from it, and the placeholder.

use super::heif::{self, Family};
use super::pixels::{fit, orient, resize, Decoded, Format, Pixels, WebpSettings};
use super::thumbs::{cascade, sizes_below, Thumbnail, ThumbnailSpec};
use super::codec::encode;
use super::{DecodeLimits, ImageError, Placeholder};
use crate::domain::keyframe::{Keyframe, SampleCodec};
use std::time::Instant;

/// The poster's long side at most: a gallery tile or a player's first frame, not a still.
pub const POSTER_SIDE: u32 = 1280;

/// A poster, its thumbnails and its placeholder.
#[derive(Debug, Clone)]
pub struct Poster {
    pub poster: Thumbnail,
    pub thumbs: Vec<Thumbnail>,
    pub placeholder: Placeholder,
}

/// Decodes `sample` (the keyframe's bytes) and renders the poster set. Every failure is a
/// reason the video has no poster, never a verdict on the video.
pub fn render(keyframe: &Keyframe, sample: &[u8], spec: &ThumbnailSpec, limits: DecodeLimits, deadline: Instant) -> Result<Poster, ImageError> {
    if !limits.allows(keyframe.width, keyframe.height) {
        return Err(ImageError::DimensionsTooLarge { width: keyframe.width, height: keyframe.height });
    }
    let frame = match &keyframe.codec {
        SampleCodec::Avc(avcc) => super::h264::decode_keyframe(avcc, sample, limits)?,
        SampleCodec::Hevc(hvcc) => {
            let file = heif::single_image(Family::Heic, (b"hvcC", hvcc), keyframe.width, keyframe.height, sample);
            let (w, h) = super::heic::size(&file)?;
            if !limits.allows(w, h) || !heif::fits_in_memory(w, h, limits) {
                return Err(ImageError::DimensionsTooLarge { width: w, height: h });
            }
            super::heic::decode(&file)?
        }
        SampleCodec::Av1(av1c) => {
            // The sequence header travels in the av1C record (after its 4 bytes of fields).
            let mut obus = av1c.get(4..).unwrap_or_default().to_vec();
            obus.extend_from_slice(sample);
            super::avif::decode_av1(&obus, None, limits, super::avif::Plane::Colour)?
        }
    };
    render_frame(frame, keyframe.orientation, spec, deadline)
}

/// The poster set of a decoded frame stored with `orientation`: also what a benchmark times for
/// a frame another tool extracted.
pub fn render_frame(frame: Pixels, orientation: u8, spec: &ThumbnailSpec, deadline: Instant) -> Result<Poster, ImageError> {
    if Instant::now() > deadline {
        return Err(ImageError::LimitExceeded("the poster ran past its time budget".into()));
    }
    let shown = orient(frame, orientation)?;
    let (pw, ph) = fit(shown.width, shown.height, POSTER_SIDE.min(shown.width.max(shown.height)));
    let mut resizer = fast_image_resize::Resizer::new();
    let pixels = if (pw, ph) == (shown.width, shown.height) { shown } else { resize(&shown, pw, ph, &mut resizer)? };
    let webp = encode(&pixels, Format::Webp(WebpSettings::lossy(spec.quality, spec.method)))?;
    let poster = Thumbnail { size: pw.max(ph), width: pw, height: ph, webp };
    let sizes = sizes_below(spec, pw.max(ph));
    let (thumbs, placeholder) = cascade(&Decoded::whole(pixels), (pw, ph), 1, &sizes, spec, deadline)?;
    Ok(Poster { poster, thumbs, placeholder })
}
