//! AVIF, encode only (on-demand variants for browsers that accept it): rav1e through `ravif`.

use super::pixels::Pixels;
use super::ImageError;
use ravif::{Encoder, Img, RGBA8};

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
