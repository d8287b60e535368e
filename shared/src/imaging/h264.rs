//! H.264 keyframes (video posters) through Cisco's openh264, built from its vendored source
//! (BSD-2) and linked statically, with error concealment off (a damaged frame is an error, not
//! a grey guess). The frame size is read from the sequence parameter set and checked against
//! the limits before the decoder sees a byte.

use super::pixels::Pixels;
use super::{DecodeLimits, ImageError};
use openh264::decoder::Decoder;
use openh264::formats::YUVSource;

fn corrupt(what: impl std::fmt::Display) -> ImageError {
    ImageError::Corrupt(format!("H.264: {what}"))
}

/// The parameter sets of an `avcC` record and its NAL length size.
struct Config {
    length_size: usize,
    sps: Vec<Vec<u8>>,
    pps: Vec<Vec<u8>>,
}

fn parse_avcc(avcc: &[u8]) -> Option<Config> {
    let length_size = (*avcc.get(4)? & 3) as usize + 1;
    let mut at = 5;
    let sets = |count: usize, at: &mut usize| -> Option<Vec<Vec<u8>>> {
        (0..count)
            .map(|_| {
                let n = u16::from_be_bytes([*avcc.get(*at)?, *avcc.get(*at + 1)?]) as usize;
                let nal = avcc.get(*at + 2..*at + 2 + n)?.to_vec();
                *at += 2 + n;
                Some(nal)
            })
            .collect()
    };
    let sps = sets((*avcc.get(at)? & 31) as usize, { at += 1; &mut at })?;
    let pps_count = *avcc.get(at)? as usize;
    at += 1;
    let pps = sets(pps_count, &mut at)?;
    Some(Config { length_size, sps, pps })
}

/// An Exp-Golomb reader over an RBSP (emulation-prevention bytes removed).
struct Bits {
    data: Vec<u8>,
    at: usize,
}

impl Bits {
    fn new(nal: &[u8]) -> Self {
        let mut data = Vec::with_capacity(nal.len());
        let mut zeros = 0;
        for &b in nal {
            if zeros >= 2 && b == 3 {
                zeros = 0;
                continue;
            }
            zeros = if b == 0 { zeros + 1 } else { 0 };
            data.push(b);
        }
        Self { data, at: 0 }
    }
    fn bit(&mut self) -> Option<u32> {
        let byte = *self.data.get(self.at / 8)?;
        let b = (byte >> (7 - self.at % 8)) & 1;
        self.at += 1;
        Some(b as u32)
    }
    fn bits(&mut self, n: u32) -> Option<u32> {
        (0..n).try_fold(0u32, |v, _| Some((v << 1) | self.bit()?))
    }
    fn ue(&mut self) -> Option<u32> {
        let mut zeros = 0;
        while self.bit()? == 0 {
            zeros += 1;
            if zeros > 31 {
                return None;
            }
        }
        Some(((1u64 << zeros) - 1 + self.bits(zeros)? as u64).min(u32::MAX as u64) as u32)
    }
    fn se(&mut self) -> Option<i64> {
        let k = self.ue()? as i64;
        Some(if k % 2 == 1 { (k + 1) / 2 } else { -(k / 2) })
    }
}

/// The frame size an SPS declares (cropping applied), read before any decoding.
pub fn sps_size(sps: &[u8]) -> Option<(u32, u32)> {
    let mut r = Bits::new(sps.get(1..)?);
    let profile = r.bits(8)?;
    r.bits(16)?; // constraint flags, level
    r.ue()?; // seq_parameter_set_id
    let mut chroma_format = 1;
    if matches!(profile, 100 | 110 | 122 | 244 | 44 | 83 | 86 | 118 | 128 | 138 | 139 | 134 | 135) {
        chroma_format = r.ue()?;
        if chroma_format == 3 {
            r.bit()?;
        }
        r.ue()?;
        r.ue()?; // bit depths
        r.bit()?;
        if r.bit()? == 1 {
            for i in 0..if chroma_format == 3 { 12 } else { 8 } {
                if r.bit()? == 1 {
                    let size = if i < 6 { 16 } else { 64 };
                    let (mut last, mut next) = (8i64, 8i64);
                    for _ in 0..size {
                        if next != 0 {
                            next = (last + r.se()? + 256) % 256;
                        }
                        last = if next == 0 { last } else { next };
                    }
                }
            }
        }
    }
    r.ue()?; // log2_max_frame_num
    match r.ue()? {
        0 => {
            r.ue()?;
        }
        1 => {
            r.bit()?;
            r.se()?;
            r.se()?;
            let n = r.ue()?;
            if n > 255 {
                return None;
            }
            for _ in 0..n {
                r.se()?;
            }
        }
        _ => {}
    }
    r.ue()?; // max_num_ref_frames
    r.bit()?;
    let width_mbs = r.ue()? as u64 + 1;
    let height_units = r.ue()? as u64 + 1;
    let frame_mbs_only = r.bit()? as u64;
    if frame_mbs_only == 0 {
        r.bit()?;
    }
    r.bit()?; // direct_8x8_inference
    let (mut w, mut h) = (width_mbs * 16, height_units * 16 * (2 - frame_mbs_only));
    if r.bit()? == 1 {
        let (sub_w, sub_h) = match chroma_format {
            1 => (2, 2 * (2 - frame_mbs_only)),
            2 => (2, 2 - frame_mbs_only),
            _ => (1, 2 - frame_mbs_only),
        };
        let (l, rgt, t, b) = (r.ue()? as u64, r.ue()? as u64, r.ue()? as u64, r.ue()? as u64);
        w = w.checked_sub((l + rgt) * sub_w)?;
        h = h.checked_sub((t + b) * sub_h)?;
    }
    Some((u32::try_from(w).ok()?, u32::try_from(h).ok()?))
}

/// Decodes one keyframe (its length-prefixed NAL units as the sample stores them) to RGB.
pub fn decode_keyframe(avcc: &[u8], sample: &[u8], limits: DecodeLimits) -> Result<Pixels, ImageError> {
    let config = parse_avcc(avcc).ok_or_else(|| corrupt("a broken avcC record"))?;
    let sps = config.sps.first().ok_or_else(|| corrupt("no sequence parameter set"))?;
    let (w, h) = sps_size(sps).ok_or_else(|| corrupt("an unreadable sequence parameter set"))?;
    if w == 0 || h == 0 || !limits.allows(w, h) {
        return Err(ImageError::DimensionsTooLarge { width: w, height: h });
    }
    // Annex B for the decoder: start codes before the parameter sets and each NAL unit.
    let mut stream = Vec::with_capacity(sample.len() + 256);
    for nal in config.sps.iter().chain(&config.pps) {
        stream.extend_from_slice(&[0, 0, 0, 1]);
        stream.extend_from_slice(nal);
    }
    let mut at = 0;
    while at < sample.len() {
        let len = sample.get(at..at + config.length_size).ok_or_else(|| corrupt("a NAL length cut off"))?.iter().fold(0usize, |v, &b| (v << 8) | b as usize);
        let nal = sample.get(at + config.length_size..at + config.length_size + len).ok_or_else(|| corrupt("a NAL unit past the sample"))?;
        stream.extend_from_slice(&[0, 0, 0, 1]);
        stream.extend_from_slice(nal);
        at += config.length_size + len;
    }
    let mut decoder = Decoder::new().map_err(corrupt)?;
    let rgb = match decoder.decode(&stream).map_err(corrupt)? {
        Some(yuv) => to_rgb(&yuv)?,
        None => {
            let frames = decoder.flush_remaining().map_err(corrupt)?;
            to_rgb(frames.first().ok_or_else(|| corrupt("no picture in the keyframe"))?)?
        }
    };
    if (rgb.width, rgb.height) != (w, h) {
        return Err(corrupt(format!("a {}x{} picture under a {w}x{h} parameter set", rgb.width, rgb.height)));
    }
    Ok(rgb)
}

fn to_rgb(yuv: &impl YUVSource) -> Result<Pixels, ImageError> {
    let (w, h) = yuv.dimensions();
    let mut data = vec![0u8; w * h * 3];
    write_rgb(yuv, &mut data);
    Ok(Pixels { width: u32::try_from(w).map_err(corrupt)?, height: u32::try_from(h).map_err(corrupt)?, alpha: false, data })
}

/// BT.601 limited-range YUV 4:2:0 to RGB (what openh264 outputs).
fn write_rgb(yuv: &impl YUVSource, out: &mut [u8]) {
    let (w, h) = yuv.dimensions();
    let (ys, us, vs) = yuv.strides();
    let (y, u, v) = (yuv.y(), yuv.u(), yuv.v());
    for row in 0..h {
        for col in 0..w {
            let luma = (y[row * ys + col] as f32 - 16.0) * (255.0 / 219.0);
            let cb = u[(row / 2) * us + col / 2] as f32 - 128.0;
            let cr = v[(row / 2) * vs + col / 2] as f32 - 128.0;
            let k = 255.0 / 224.0;
            let px = [luma + 1.402 * k * cr, luma - 0.344136 * k * cb - 0.714136 * k * cr, luma + 1.772 * k * cb];
            let at = (row * w + col) * 3;
            for c in 0..3 {
                out[at + c] = px[c].round().clamp(0.0, 255.0) as u8;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_golomb_and_a_real_sps() {
        let mut b = Bits::new(&[0b1010_0110, 0b0100_0000]);
        assert_eq!((b.ue(), b.ue(), b.ue(), b.ue()), (Some(0), Some(1), Some(2), Some(3)));
        // x264's SPS for 320x240 High profile (from a clip made by the pinned ffmpeg).
        let sps = [0x67, 0x64, 0x00, 0x0d, 0xac, 0xd9, 0x41, 0x41, 0xfb, 0x01, 0x10, 0x00, 0x00, 0x03, 0x00, 0x10, 0x00, 0x00, 0x03, 0x03, 0x20, 0xf1, 0x42, 0x99, 0x60];
        assert_eq!(sps_size(&sps), Some((320, 240)));
        assert_eq!(sps_size(&[0x67]), None, "cut short");
    }
}
