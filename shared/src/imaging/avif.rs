//! AVIF: decoding uploads through libaom (the reference decoder, BSD-2, C built from its
//! vendored source and linked statically), and encoding on-demand variants through rav1e
//! (`ravif`). The container has been walked and bounded by
//! `heif` first; here each coded item (a single image, a grid's tiles, an alpha plane) is
//! decoded on one thread with the frame-size limit set, converted to RGB by the matrix and
//! range the file states, assembled, then turned and mirrored by `irot`/`imir`.

use super::heif::Layout;
use super::pixels::{orient, Pixels};
use super::{DecodeLimits, ImageError};
use libaom_sys as aom;
use ravif::{Encoder, Img, RGBA8};

/// The displayed size: the container's, with `irot` applied (`clap` is not applied).
pub fn size(layout: &Layout) -> (u32, u32) {
    (layout.width, layout.height)
}

/// The primary image as 8-bit RGB, or RGBA when it has an alpha plane.
pub fn decode(bytes: &[u8], layout: &Layout, limits: DecodeLimits) -> Result<Pixels, ImageError> {
    let colour = decode_item(bytes, layout, layout.primary, limits, Plane::Colour)?;
    let alpha = match layout.kept_items().into_iter().find(|&i| i != layout.primary && layout.refs_from(b"auxl", i).contains(&layout.primary)) {
        Some(aux) => Some(decode_item(bytes, layout, aux, limits, Plane::Alpha)?),
        None => None,
    };
    let pixels = match alpha {
        None => colour,
        Some(a) if (a.width, a.height) == (colour.width, colour.height) => {
            let mut data = Vec::with_capacity(colour.data.len() / 3 * 4);
            for (rgb, alpha) in colour.data.chunks_exact(3).zip(a.data.chunks_exact(3)) {
                data.extend_from_slice(&[rgb[0], rgb[1], rgb[2], alpha[0]]);
            }
            Pixels { width: colour.width, height: colour.height, alpha: true, data }
        }
        Some(_) => return Err(ImageError::Corrupt("AVIF: the alpha plane is not the size of the picture".into())),
    };
    let turned = orient(pixels, match layout.rotation(layout.primary) {
        1 => 8,
        2 => 3,
        3 => 6,
        _ => 1,
    })?;
    match layout.property(layout.primary, b"imir").and_then(|b| b.first()) {
        Some(axis) => orient(turned, if axis & 1 == 0 { 2 } else { 4 }),
        None => Ok(turned),
    }
}

#[derive(Clone, Copy, PartialEq)]
pub(super) enum Plane {
    Colour,
    /// The luma of an auxiliary image, as grey.
    Alpha,
}

/// One item as RGB: a coded `av01` image, or a `grid` of them assembled.
fn decode_item(bytes: &[u8], layout: &Layout, item: u32, limits: DecodeLimits, plane: Plane) -> Result<Pixels, ImageError> {
    let corrupt = |what: &str| ImageError::Corrupt(format!("AVIF: {what}"));
    let kind = layout.item(item).ok_or_else(|| corrupt("a missing item"))?.kind;
    let data = layout.data(bytes, item).ok_or_else(|| corrupt("unreadable item data"))?;
    match &kind {
        b"av01" => decode_av1(&data, layout.property(item, b"colr"), limits, plane),
        b"grid" => {
            let flags = *data.get(1).ok_or_else(|| corrupt("short grid"))?;
            let rows = *data.get(2).ok_or_else(|| corrupt("short grid"))? as u32 + 1;
            let columns = *data.get(3).ok_or_else(|| corrupt("short grid"))? as u32 + 1;
            let field = |at: usize, n: usize| data.get(at..at + n).map(|b| b.iter().fold(0u32, |v, &x| (v << 8) | x as u32));
            let n = if flags & 1 == 1 { 4 } else { 2 };
            let (width, height) = (field(4, n).ok_or_else(|| corrupt("short grid"))?, field(4 + n, n).ok_or_else(|| corrupt("short grid"))?);
            let tiles = layout.refs_from(b"dimg", item);
            let mut canvas = vec![0u8; width as usize * height as usize * 3];
            for (i, tile) in tiles.iter().enumerate() {
                let t = decode_item(bytes, layout, *tile, limits, plane)?;
                let (x0, y0) = ((i as u32 % columns) * t.width, (i as u32 / columns) * t.height);
                if i as u32 >= rows * columns {
                    return Err(corrupt("more tiles than the grid has cells"));
                }
                for y in 0..t.height.min(height.saturating_sub(y0)) {
                    let w = t.width.min(width.saturating_sub(x0)) as usize * 3;
                    let src = (y * t.width) as usize * 3;
                    let dst = ((y0 + y) * width + x0) as usize * 3;
                    canvas[dst..dst + w].copy_from_slice(&t.data[src..src + w]);
                }
            }
            Ok(Pixels { width, height, alpha: false, data: canvas })
        }
        other => Err(corrupt(&format!("an item of type {}", String::from_utf8_lossy(other)))),
    }
}

/// A libaom decoder context, destroyed on drop.
struct Decoder(aom::aom_codec_ctx_t);

impl Drop for Decoder {
    fn drop(&mut self) {
        // SAFETY: the context was initialised by aom_codec_dec_init_ver and is destroyed once.
        unsafe { aom::aom_codec_destroy(&mut self.0) };
    }
}

/// One AV1 still (the first frame of its data) to RGB. `colr` is the item's colour property
/// (an `nclx` one states matrix and range; otherwise the sequence header does). The frame
/// size in the sequence header is checked against the limits before the decoder allocates.
pub(super) fn decode_av1(obus: &[u8], colr: Option<&[u8]>, limits: DecodeLimits, plane: Plane) -> Result<Pixels, ImageError> {
    let fail = |what: &str| ImageError::Corrupt(format!("AVIF: {what}"));
    // SAFETY: the interface is a static table; the stream info is plain data; `obus` is a live slice.
    let info = unsafe {
        let mut info: aom::aom_codec_stream_info_t = std::mem::zeroed();
        match aom::aom_codec_peek_stream_info(aom::aom_codec_av1_dx(), obus.as_ptr(), obus.len(), &mut info) {
            aom::AOM_CODEC_OK => info,
            _ => return Err(fail("no readable sequence header")),
        }
    };
    if info.w == 0 || info.h == 0 {
        return Err(fail("a sequence header without a frame size"));
    }
    if !limits.allows(info.w, info.h) || !super::heif::fits_in_memory(info.w, info.h, limits) {
        return Err(ImageError::DimensionsTooLarge { width: info.w, height: info.h });
    }
    // One thread: a Lambda below 1,769 MB has one vCPU.
    let cfg = aom::aom_codec_dec_cfg_t { threads: 1, w: 0, h: 0, allow_lowbitdepth: 1 };
    // SAFETY: a zeroed context is what aom_codec_dec_init_ver expects to initialise.
    let mut decoder = Decoder(unsafe { std::mem::zeroed() });
    // SAFETY: live pointers to the context and the config; the ABI version is the bindings' own.
    let init = unsafe { aom::aom_codec_dec_init_ver(&mut decoder.0, aom::aom_codec_av1_dx(), &cfg, 0, aom::AOM_DECODER_ABI_VERSION as i32) };
    if init != aom::AOM_CODEC_OK {
        // Nothing to destroy: the context never came up.
        std::mem::forget(decoder);
        return Err(ImageError::LimitExceeded("AVIF: the decoder could not start".into()));
    }
    // SAFETY: `obus` outlives the call; a null user pointer is allowed.
    if unsafe { aom::aom_codec_decode(&mut decoder.0, obus.as_ptr(), obus.len(), std::ptr::null_mut()) } != aom::AOM_CODEC_OK {
        return Err(fail("the AV1 data cannot be decoded"));
    }
    let mut iter: aom::aom_codec_iter_t = std::ptr::null();
    // SAFETY: the iterator starts null; the image stays valid until the next decode or destroy.
    let image = unsafe { aom::aom_codec_get_frame(&mut decoder.0, &mut iter).as_ref() }.ok_or_else(|| fail("no picture in the AV1 data"))?;
    to_rgb(image, colr, plane)
}

/// Planar YUV (any layout, 8 to 12 bits) to RGB, chroma by its nearest sample.
fn to_rgb(img: &aom::aom_image_t, colr: Option<&[u8]>, plane: Plane) -> Result<Pixels, ImageError> {
    let fail = |what: &str| ImageError::Corrupt(format!("AVIF: {what}"));
    let (w, h) = (img.d_w as usize, img.d_h as usize);
    let bpc = img.bit_depth;
    if w == 0 || h == 0 || !(8..=12).contains(&bpc) || img.planes[0].is_null() {
        return Err(fail("an empty or unsupported picture"));
    }
    let (mut matrix, mut full) = (img.mc as u16, img.range == aom::AOM_CR_FULL_RANGE);
    if let Some(c) = colr.filter(|c| c.starts_with(b"nclx") && c.len() >= 11) {
        matrix = u16::from_be_bytes([c[8], c[9]]);
        full = c[10] & 0x80 != 0;
    }
    let (xs, ys) = (img.x_chroma_shift as usize, img.y_chroma_shift as usize);
    let mono = img.monochrome != 0 || plane == Plane::Alpha || img.planes[1].is_null() || img.planes[2].is_null();
    // libaom hands out 16-bit samples for every depth above 8, and may for 8 too.
    let wide = img.fmt & aom::AOM_IMG_FMT_HIGHBITDEPTH != 0;
    let sample = |k: usize, x: usize, y: usize| -> f32 {
        let at = y as isize * img.stride[k] as isize + if wide { 2 * x as isize } else { x as isize };
        // SAFETY: (x, y) is within plane k (the displayed size, chroma shifted), which libaom
        // allocated with this stride.
        unsafe {
            let ptr = img.planes[k].offset(at);
            if wide { ptr.cast::<u16>().read_unaligned() as f32 } else { *ptr as f32 }
        }
    };
    let max = ((1u32 << bpc) - 1) as f32;
    let scale = (1u32 << (bpc - 8)) as f32;
    let (y_off, y_range, c_range) = if full { (0.0, max, max) } else { (16.0 * scale, 219.0 * scale, 224.0 * scale) };
    let half = (1u32 << (bpc - 1)) as f32;
    let (kr, kb) = match matrix {
        1 => (0.2126, 0.0722),
        9 | 10 => (0.2627, 0.0593),
        4 => (0.30, 0.11),
        7 => (0.212, 0.087),
        _ => (0.299, 0.114),
    };
    let kg = 1.0 - kr - kb;
    let to8 = |v: f32| (v * 255.0).round().clamp(0.0, 255.0) as u8;
    let mut out = Vec::with_capacity(w * h * 3);
    for y in 0..h {
        for x in 0..w {
            let luma = ((sample(0, x, y) - y_off) / y_range).clamp(0.0, 1.0);
            if mono {
                let v = if plane == Plane::Alpha { sample(0, x, y) / max } else { luma };
                let g = to8(v);
                out.extend_from_slice(&[g, g, g]);
                continue;
            }
            let (cx, cy) = (x >> xs, y >> ys);
            let cb = (sample(1, cx, cy) - half) / c_range;
            let cr = (sample(2, cx, cy) - half) / c_range;
            if matrix == 0 {
                // Identity: the planes are G, B, R.
                let n = |v: f32| v / y_range;
                out.extend_from_slice(&[to8(n(sample(2, cx, cy))), to8(luma), to8(n(sample(1, cx, cy)))]);
                continue;
            }
            let r = luma + 2.0 * (1.0 - kr) * cr;
            let b = luma + 2.0 * (1.0 - kb) * cb;
            let g = (luma - kr * r - kb * b) / kg;
            out.extend_from_slice(&[to8(r), to8(g), to8(b)]);
        }
    }
    Ok(Pixels { width: w as u32, height: h as u32, alpha: false, data: out })
}

/// rav1e's speed preset for variants: 1 is slowest, 10 fastest. Measured on a 1024 px photo
/// (bench/RESULTS.md, "AVIF"): the speed that keeps one 1024 px variant within its budget.
pub const SPEED: u8 = 9;

/// Encodes 8-bit RGB or RGBA at `quality` (0–100, the same scale as WebP's and JPEG's).
///
/// Always through `encode_rgba` (an opaque image gets alpha 255, which ravif then leaves out):
/// it is ravif's one non-generic entry point, so the encoder is compiled inside ravif with its
/// own optimisation. `encode_rgb` is `#[inline]` and generic below, which compiles all of rav1e
/// into this crate, unoptimised in dev builds (14x slower).
pub fn encode(p: &Pixels, quality: u8, speed: u8) -> Result<Vec<u8>, ImageError> {
    let encoder = Encoder::new().with_quality(quality as f32).with_alpha_quality(quality as f32).with_speed(speed);
    let px: Vec<RGBA8> = match p.alpha {
        true => p.data.chunks_exact(4).map(|c| RGBA8::new(c[0], c[1], c[2], c[3])).collect(),
        false => p.data.chunks_exact(3).map(|c| RGBA8::new(c[0], c[1], c[2], 255)).collect(),
    };
    encoder
        .encode_rgba(Img::new(&px[..], p.width as usize, p.height as usize))
        .map(|e| e.avif_file)
        .map_err(|e| ImageError::Corrupt(format!("AVIF encoder: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_an_avif_file_with_its_size() {
        let data: Vec<u8> = (0..96 * 64).flat_map(|i| [(i % 96) as u8, (i / 96) as u8 * 3, 128]).collect();
        let avif = encode(&Pixels { width: 96, height: 64, alpha: false, data }, 80, SPEED).unwrap();
        assert_eq!(&avif[4..12], b"ftypavif");
        // The image's spatial extents ('ispe') carry the encoded size.
        let at = avif.windows(4).position(|w| w == b"ispe").unwrap();
        let dims = |o: usize| u32::from_be_bytes(avif[o..o + 4].try_into().unwrap());
        assert_eq!((dims(at + 8), dims(at + 12)), (96, 64));
    }
}
