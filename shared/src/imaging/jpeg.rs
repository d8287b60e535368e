//! JPEG decoding (and encoding, for transforms) through libjpeg-turbo (TurboJPEG 3 API, statically linked from the
//! `turbojpeg-sys` vendored source): SIMD Huffman decoding and IDCT, and DCT scaling by any
//! n/8 for baseline and progressive files alike, so a 16 MP progressive photo wanted at
//! 1024 px is reconstructed at about 1800 px and never exists at full size.
//!
//! The library's own limits bound the work a file may cause: `TJPARAM_SCANLIMIT` (progressive
//! scans), `TJPARAM_MAXMEMORY` (a progressive file's whole-image coefficient buffer) and
//! `TJPARAM_MAXPIXELS`; exceeding one is a clean `LimitExceeded`, never an allocation failure.

use super::pixels::{Decoded, Pixels};
use super::{DecodeLimits, ImageError};
use std::ffi::CStr;
use turbojpeg_sys as tj;

/// An owned TurboJPEG instance; destroyed on drop.
struct Handle(tj::tjhandle);

impl Drop for Handle {
    fn drop(&mut self) {
        // SAFETY: the handle came from tj3Init and is destroyed exactly once.
        unsafe { tj::tj3Destroy(self.0) }
    }
}

impl Handle {
    fn decompressor() -> Result<Self, ImageError> {
        Self::new(tj::TJINIT_TJINIT_DECOMPRESS)
    }

    fn compressor() -> Result<Self, ImageError> {
        Self::new(tj::TJINIT_TJINIT_COMPRESS)
    }

    fn new(kind: tj::TJINIT) -> Result<Self, ImageError> {
        // SAFETY: tj3Init has no preconditions; a null result is checked.
        let h = unsafe { tj::tj3Init(kind as i32) };
        if h.is_null() {
            return Err(ImageError::Corrupt("libjpeg-turbo could not start".into()));
        }
        Ok(Self(h))
    }

    fn set(&self, param: tj::TJPARAM, value: i32) -> Result<(), ImageError> {
        // SAFETY: a live handle and a parameter id from the bindings.
        match unsafe { tj::tj3Set(self.0, param as i32, value) } {
            0 => Ok(()),
            _ => Err(self.error()),
        }
    }

    fn get(&self, param: tj::TJPARAM) -> i32 {
        // SAFETY: a live handle; unknown values come back as -1.
        unsafe { tj::tj3Get(self.0, param as i32) }
    }

    /// The library's message for the last failure, classified: its own limits are
    /// `LimitExceeded`, everything else a corrupt file.
    fn error(&self) -> ImageError {
        // SAFETY: tj3GetErrorStr returns a NUL-terminated string owned by the handle, valid until
        // the next call on it; it is copied at once.
        let message = unsafe { CStr::from_ptr(tj::tj3GetErrorStr(self.0)) }.to_string_lossy().into_owned();
        // The library's wording for its limits (turbojpeg.c, jerror.h in libjpeg-turbo 3.1).
        const LIMITS: [&str; 4] = ["more than", "Memory limit exceeded", "Image is too large", "Insufficient memory"];
        if LIMITS.iter().any(|l| message.contains(l)) {
            ImageError::LimitExceeded(format!("JPEG: {message}"))
        } else {
            ImageError::Corrupt(format!("JPEG: {message}"))
        }
    }
}

/// Which scans of a progressive file a scaled decode reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scans {
    /// Those the reduced picture needs (`imaging::scans`): what production decodes.
    Needed,
    /// Every scan: the reference the pruned decode is measured against.
    Every,
}

/// Decodes a JPEG to RGB at the smallest n/8 scale whose long side is still at least the
/// reduction floor of `min_long_side` (full size when None). Returns None for what
/// libjpeg-turbo does not turn into 8-bit RGB (CMYK/YCCK, 12- and 16-bit precision, lossless
/// JPEG), which the general decoder handles. `stored` is the size the header probe read (and
/// checked against the limits); the frame libjpeg-turbo reads must agree.
pub fn decode_scaled(bytes: &[u8], stored: (u32, u32), min_long_side: Option<u32>, limits: DecodeLimits, scans: Scans) -> Result<Option<Decoded>, ImageError> {
    let eighths = scale_eighths(stored.0.max(stored.1), min_long_side);
    let h = Handle::decompressor()?;
    h.set(tj::TJPARAM_TJPARAM_SCANLIMIT, limits.max_jpeg_scans.min(i32::MAX as u32) as i32)?;
    h.set(tj::TJPARAM_TJPARAM_MAXMEMORY, limits.max_memory_mb.min(i32::MAX as u32) as i32)?;
    h.set(tj::TJPARAM_TJPARAM_MAXPIXELS, limits.max_pixels.min(i32::MAX as u64) as i32)?;
    // SAFETY: `bytes` is valid for its length for the duration of the call.
    if unsafe { tj::tj3DecompressHeader(h.0, bytes.as_ptr(), bytes.len() as _) } != 0 {
        return Err(h.error());
    }
    let colorspace = h.get(tj::TJPARAM_TJPARAM_COLORSPACE);
    let eight_bit = h.get(tj::TJPARAM_TJPARAM_PRECISION) == 8 && h.get(tj::TJPARAM_TJPARAM_LOSSLESS) != 1;
    if !eight_bit || colorspace == tj::TJCS_TJCS_CMYK as i32 || colorspace == tj::TJCS_TJCS_YCCK as i32 {
        return Ok(None);
    }
    // Only a progressive file decoded reduced is walked for scans to drop: a baseline file's
    // entropy data is never scanned twice.
    let progressive = h.get(tj::TJPARAM_TJPARAM_PROGRESSIVE) == 1;
    let pruned = match (scans, eighths < 8 && progressive) {
        (Scans::Needed, true) => super::scans::prune(bytes),
        _ => None,
    };
    let bytes = pruned.as_deref().unwrap_or(bytes);
    // SAFETY: as above; the rebuilt stream's header is read into the same handle.
    if pruned.is_some() && unsafe { tj::tj3DecompressHeader(h.0, bytes.as_ptr(), bytes.len() as _) } != 0 {
        return Err(h.error());
    }
    let (w, h_px) = (h.get(tj::TJPARAM_TJPARAM_JPEGWIDTH), h.get(tj::TJPARAM_TJPARAM_JPEGHEIGHT));
    if (i64::from(w), i64::from(h_px)) != (i64::from(stored.0), i64::from(stored.1)) {
        return Err(ImageError::Corrupt("JPEG frame size differs from its header".into()));
    }
    let (w, h_px) = stored;
    // The library lists its factors in lowest terms (1/2, not 4/8) and matches them exactly.
    let gcd = [8, 4, 2, 1].into_iter().find(|&d| eighths.is_multiple_of(d)).unwrap_or(1);
    let factor = tj::tjscalingfactor { num: (eighths / gcd) as i32, denom: (8 / gcd) as i32 };
    // SAFETY: a live handle; the factor is one of n/8, n = 1..=8, which the library supports.
    if unsafe { tj::tj3SetScalingFactor(h.0, factor) } != 0 {
        return Err(h.error());
    }
    // TJSCALED: ceil(dimension * num / denom).
    let (sw, sh) = ((w * eighths).div_ceil(8), (h_px * eighths).div_ceil(8));
    let pitch = sw as usize * 3;
    let mut data = vec![0u8; pitch * sh as usize];
    // SAFETY: `data` holds exactly `pitch * sh` bytes, the size TurboJPEG writes for this
    // scaling factor and pixel format; `bytes` is valid for its length.
    let status = unsafe { tj::tj3Decompress8(h.0, bytes.as_ptr(), bytes.len() as _, data.as_mut_ptr(), pitch as i32, tj::TJPF_TJPF_RGB) };
    // SAFETY: a live handle.
    if status != 0 && unsafe { tj::tj3GetErrorCode(h.0) } == tj::TJERR_TJERR_FATAL as i32 {
        return Err(h.error());
    }
    // A warning (for example a few stray bytes before a marker, common in camera files) leaves
    // a complete image; truncation is caught before decoding by the end-of-image check.
    Ok(Some(Decoded::scaled(Pixels { width: sw, height: sh, alpha: false, data }, stored, eighths, 8)))
}

/// Encodes 8-bit RGB or RGBA (alpha ignored) as a baseline JPEG at `quality`, 4:2:0 with
/// optimised Huffman tables: what sharp (libvips) writes by default, and about 40% smaller than
/// the `image` crate's encoder at the same quality setting and SSIM (bench/RESULTS.md).
pub fn encode(p: &Pixels, quality: u8) -> Result<Vec<u8>, ImageError> {
    let h = Handle::compressor()?;
    h.set(tj::TJPARAM_TJPARAM_QUALITY, quality.clamp(1, 100) as i32)?;
    h.set(tj::TJPARAM_TJPARAM_SUBSAMP, tj::TJSAMP_TJSAMP_420)?;
    h.set(tj::TJPARAM_TJPARAM_OPTIMIZE, 1)?;
    let (format, bpp) = if p.alpha { (tj::TJPF_TJPF_RGBA, 4) } else { (tj::TJPF_TJPF_RGB, 3) };
    if p.data.len() != p.width as usize * p.height as usize * bpp {
        return Err(ImageError::Corrupt("pixel buffer does not match its size".into()));
    }
    let mut buf: *mut std::ffi::c_uchar = std::ptr::null_mut();
    let mut size: tj::size_t = 0;
    // SAFETY: `p.data` holds width * height pixels of `format` (checked above), rows packed
    // (pitch width * bpp); TurboJPEG allocates `buf` itself (null on entry) and sets `size`.
    let status = unsafe {
        tj::tj3Compress8(h.0, p.data.as_ptr(), p.width as i32, (p.width as usize * bpp) as i32, p.height as i32, format, &mut buf, &mut size)
    };
    let out = if status == 0 && !buf.is_null() {
        // SAFETY: on success `buf` holds `size` bytes written by TurboJPEG.
        Ok(unsafe { std::slice::from_raw_parts(buf, size as usize) }.to_vec())
    } else {
        Err(h.error())
    };
    // SAFETY: `buf` is null or was allocated by TurboJPEG, and is freed once.
    unsafe { tj::tj3Free(buf.cast()) };
    out
}

/// The smallest of 1/8, 1/4, 1/2 and 1 whose scaled long side is at least the reduction floor
/// of `target`, in eighths. Only these have SIMD inverse DCTs in libjpeg-turbo; 3/8 and 5/8 to
/// 7/8 run in C (chroma at twice the scale), and measured slower than the next larger of ours:
/// 12 MP baseline 44 ms at 1/2 against 48 ms at 3/8, 72 ms at 1/1 against 77-95 ms at 6/8-7/8;
/// 16 MP progressive 108 ms at 1/2 against 113 ms at 3/8 and 147 ms at 1/1 against 191 ms at
/// 6/8 (one core, best of 5; bench/RESULTS.md, "JPEG decode by scale"). sharp's shrink-on-load
/// also picks only these.
fn scale_eighths(long: u32, target: Option<u32>) -> u32 {
    let Some(target) = target else { return 8 };
    let wanted = super::pixels::reduction_floor(target);
    [1, 2, 4].into_iter().find(|&n| (long * n).div_ceil(8) >= wanted).unwrap_or(8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_rgb_and_rgba_that_decode_to_the_same_size_and_colour() {
        for alpha in [false, true] {
            let bpp = if alpha { 4 } else { 3 };
            let data: Vec<u8> = (0..200 * 120).flat_map(|_| [200u8, 40, 30, 255].into_iter().take(bpp)).collect();
            let jpeg = encode(&Pixels { width: 200, height: 120, alpha, data }, 80).unwrap();
            let back = image::load_from_memory(&jpeg).unwrap().into_rgb8();
            assert_eq!(back.dimensions(), (200, 120));
            let p = back.get_pixel(100, 60);
            assert!(p[0].abs_diff(200) < 8 && p[1].abs_diff(40) < 8 && p[2].abs_diff(30) < 8, "{p:?}");
        }
        assert!(encode(&Pixels { width: 10, height: 10, alpha: false, data: vec![0; 5] }, 80).is_err());
    }

    #[test]
    fn the_smallest_eighth_that_covers_the_target() {
        assert_eq!(scale_eighths(4000, Some(1024)), 4, "2000 px covers 1.5 x 1024");
        assert_eq!(scale_eighths(4896, Some(1024)), 4, "2448 px: 3/8 (1836 px) would cover it, but has no SIMD IDCT");
        assert_eq!(scale_eighths(8660, Some(1024)), 2);
        assert_eq!(scale_eighths(4000, Some(300)), 1);
        assert_eq!(scale_eighths(3000, Some(1024)), 8, "1500 px at 1/2 is under the floor; 6/8 is C: full size");
        assert_eq!(scale_eighths(1100, Some(1024)), 8, "never below the target: full size");
        assert_eq!(scale_eighths(4000, None), 8);
    }
}
