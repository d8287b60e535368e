//! PNG decoded row by row and reduced while decoding: each band of `f` rows is box-averaged
//! (alpha-weighted, so transparent pixels lend no colour) into one row of the reduced image,
//! so a 15 MP RGBA PNG wanted at 1024 px never exists at full size (60 MB) in memory, only
//! its compressed bytes and one band. The reduction stops at the same floor as JPEG's
//! (`pixels::reduction_floor`); the Lanczos resize does the rest. Interlaced (Adam7) files, whose rows arrive in seven
//! passes, go to the general decoder.

use super::pixels::{Decoded, Pixels};
use super::ImageError;
use std::io::Cursor;

/// Decoder allocations (row buffers, text chunks) beyond which a file is refused.
const PNG_DECODER_BYTES: usize = 32 << 20;

fn corrupt(e: png::DecodingError) -> ImageError {
    match e {
        png::DecodingError::LimitsExceeded => ImageError::LimitExceeded("PNG decoder allocation limit".into()),
        e => ImageError::Corrupt(format!("PNG: {e}")),
    }
}

/// Returns None when there is nothing to gain (no target, or less than a 2x reduction) or the
/// file is interlaced; the general decoder then decodes it whole.
pub fn decode_reduced(bytes: &[u8], stored: (u32, u32), min_long_side: Option<u32>) -> Result<Option<Decoded>, ImageError> {
    let Some(target) = min_long_side else { return Ok(None) };
    let (w, h) = stored;
    let factor = w.max(h) / super::pixels::reduction_floor(target).max(1);
    if factor < 2 {
        return Ok(None);
    }
    let mut decoder = png::Decoder::new_with_limits(Cursor::new(bytes), png::Limits { bytes: PNG_DECODER_BYTES });
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = decoder.read_info().map_err(corrupt)?;
    if reader.info().interlaced {
        return Ok(None);
    }
    if (reader.info().width, reader.info().height) != stored {
        return Err(ImageError::Corrupt("PNG frame size differs from its header".into()));
    }
    let src_channels = match reader.output_color_type().0 {
        png::ColorType::Grayscale => 1,
        png::ColorType::GrayscaleAlpha => 2,
        png::ColorType::Rgb => 3,
        png::ColorType::Rgba => 4,
        png::ColorType::Indexed => return Ok(None),
    };
    let alpha = src_channels % 2 == 0;
    let mut band = Band::new(w, factor, alpha);
    let mut out = Vec::with_capacity(w.div_ceil(factor) as usize * h.div_ceil(factor) as usize * band.channels);
    for y in 0..h {
        let row = reader.next_row().map_err(corrupt)?.ok_or_else(|| ImageError::Corrupt("PNG image data ends early".into()))?;
        let data = row.data();
        if data.len() < w as usize * src_channels {
            return Err(ImageError::Corrupt("PNG row shorter than its width".into()));
        }
        band.add_row(data, src_channels);
        if (y + 1) % factor == 0 || y + 1 == h {
            band.flush_into(&mut out);
        }
    }
    // The rest of the file (to IEND, checksums included) must be intact too.
    reader.finish().map_err(corrupt)?;
    Ok(Some(Decoded::scaled(Pixels { width: w.div_ceil(factor), height: h.div_ceil(factor), alpha, data: out }, stored, 1, factor)))
}

/// Sums of one band of rows, per output pixel: colour premultiplied by alpha when there is alpha.
struct Band {
    width: u32,
    factor: u32,
    channels: usize,
    sums: Vec<u32>,
    rows: u32,
}

impl Band {
    fn new(width: u32, factor: u32, alpha: bool) -> Self {
        let channels = if alpha { 4 } else { 3 };
        Self { width, factor, channels, sums: vec![0; width.div_ceil(factor) as usize * channels], rows: 0 }
    }

    fn add_row(&mut self, data: &[u8], src_channels: usize) {
        let row = &data[..self.width as usize * src_channels];
        // One loop per layout, over whole boxes of `factor` pixels: this runs for every pixel
        // of the image, so no per-pixel dispatch or slicing.
        match (src_channels, self.channels) {
            (4, 4) => self.add(row, 4, |p| (p[0], p[1], p[2], p[3])),
            (2, 4) => self.add(row, 2, |p| (p[0], p[0], p[0], p[1])),
            (3, _) => self.add(row, 3, |p| (p[0], p[1], p[2], 255)),
            _ => self.add(row, 1, |p| (p[0], p[0], p[0], 255)),
        }
        self.rows += 1;
    }

    #[inline(always)]
    fn add(&mut self, row: &[u8], src: usize, px: impl Fn(&[u8]) -> (u8, u8, u8, u8)) {
        let f = self.factor as usize;
        let alpha = self.channels == 4;
        for (sum, group) in self.sums.chunks_exact_mut(self.channels).zip(row.chunks(src * f)) {
            let (mut r, mut g, mut b, mut a) = (0u32, 0u32, 0u32, 0u32);
            for p in group.chunks_exact(src) {
                let (pr, pg, pb, pa) = px(p);
                if alpha {
                    let w = pa as u32;
                    r += pr as u32 * w;
                    g += pg as u32 * w;
                    b += pb as u32 * w;
                    a += w;
                } else {
                    r += pr as u32;
                    g += pg as u32;
                    b += pb as u32;
                }
            }
            sum[0] += r;
            sum[1] += g;
            sum[2] += b;
            if alpha {
                sum[3] += a;
            }
        }
    }

    fn flush_into(&mut self, out: &mut Vec<u8>) {
        let f = self.factor;
        for (ox, s) in self.sums.chunks_exact_mut(self.channels).enumerate() {
            let cols = (self.width - ox as u32 * f).min(f);
            let count = cols * self.rows;
            if self.channels == 4 {
                let a = s[3];
                let colour = |v: u32| (v + a / 2).checked_div(a).unwrap_or(0) as u8;
                out.extend_from_slice(&[colour(s[0]), colour(s[1]), colour(s[2]), ((a + count / 2) / count) as u8]);
            } else {
                out.extend(s.iter().map(|&v| ((v + count / 2) / count) as u8));
            }
            s.fill(0);
        }
        self.rows = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png_bytes(w: u32, h: u32, color: png::ColorType, data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut e = png::Encoder::new(&mut out, w, h);
        e.set_color(color);
        e.set_depth(png::BitDepth::Eight);
        e.write_header().unwrap().write_image_data(data).unwrap();
        out
    }

    #[test]
    fn rgba_is_reduced_by_alpha_weighted_boxes() {
        // Left half opaque red, right half fully transparent green: the reduced image keeps
        // red, a transparent right half, and no green bleeding into the edge column.
        let (w, h) = (600, 300);
        let data: Vec<u8> = (0..w * h).flat_map(|i| if i % w < 300 { [220, 10, 10, 255] } else { [0, 255, 0, 0] }).collect();
        let p = decode_reduced(&png_bytes(w, h, png::ColorType::Rgba, &data), (w, h), Some(100)).unwrap().unwrap().pixels;
        assert_eq!((p.width, p.height, p.alpha), (150, 75, true), "factor 4 = 600 / 150");
        let at = |x: u32, y: u32| &p.data[((y * p.width + x) * 4) as usize..((y * p.width + x) * 4 + 4) as usize];
        assert_eq!(at(10, 10), &[220, 10, 10, 255]);
        assert_eq!(at(140, 10)[3], 0);
        assert_eq!(at(74, 10), &[220, 10, 10, 255], "the column beside the edge stays pure red");
    }

    #[test]
    fn grey_is_expanded_and_odd_edges_are_averaged_over_what_exists() {
        let (w, h) = (101, 51);
        let data: Vec<u8> = (0..w * h).map(|i| if i % w == 100 { 0 } else { 200 }).collect();
        let p = decode_reduced(&png_bytes(w, h, png::ColorType::Grayscale, &data), (w, h), Some(20)).unwrap().unwrap().pixels;
        assert_eq!((p.width, p.height, p.alpha), (34, 17, false), "factor 3, edges rounded up");
        assert_eq!(&p.data[..3], &[200, 200, 200]);
        let last = ((p.width - 1) * 3) as usize;
        assert_eq!(&p.data[last..last + 3], &[100, 100, 100], "the last box holds columns 99 and 100 only");
    }

    #[test]
    fn a_sliver_whose_last_box_is_mostly_padding_still_resizes() {
        // 2 x 3000: factor 15, so the one reduced column holds 2 of its 15 columns; the image
        // covers 2/15 of that frame column, and the resize reads just that.
        let (w, h) = (2, 3000);
        let decoded = decode_reduced(&png_bytes(w, h, png::ColorType::Grayscale, &vec![90u8; (w * h) as usize]), (w, h), Some(128)).unwrap().unwrap();
        assert_eq!((decoded.pixels.width, decoded.pixels.height), (1, 200));
        assert_eq!(decoded.covered, (2.0 / 15.0, 200.0));
        let (tw, th) = super::super::pixels::fit(w, h, 128);
        let thumb = decoded.resize(tw, th, &mut fast_image_resize::Resizer::new()).unwrap();
        assert_eq!((thumb.width, thumb.height), (1, 128));
        assert!(thumb.data.iter().all(|&v| v.abs_diff(90) <= 1), "{:?}", &thumb.data[..6]);
    }

    /// Splits a PNG into (signature, chunks as (type, data)).
    fn chunks(png: &[u8]) -> Vec<([u8; 4], Vec<u8>)> {
        let mut out = Vec::new();
        let mut at = 8;
        while at + 12 <= png.len() {
            let len = u32::from_be_bytes(png[at..at + 4].try_into().unwrap()) as usize;
            out.push((png[at + 4..at + 8].try_into().unwrap(), png[at + 8..at + 8 + len].to_vec()));
            at += 12 + len;
        }
        out
    }

    fn assemble(parts: &[([u8; 4], Vec<u8>)]) -> Vec<u8> {
        let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
        for (kind, data) in parts {
            out.extend_from_slice(&crate::imaging::png_chunk(kind, data));
        }
        out
    }

    #[test]
    fn hostile_layouts_get_a_verdict_and_valid_ones_the_same_pixels() {
        let (w, h) = (400, 300);
        let data: Vec<u8> = (0..w * h).flat_map(|i| [(i % 251) as u8, (i / w % 256) as u8, 90, 255]).collect();
        let bytes = png_bytes(w, h, png::ColorType::Rgba, &data);
        let reference = decode_reduced(&bytes, (w, h), Some(64)).unwrap().unwrap().pixels;
        let parts = chunks(&bytes);
        let idat = parts.iter().position(|(k, _)| k == b"IDAT").unwrap();

        // A zero-length IDAT before and after the data, and the data split over two IDATs:
        // the same image, decoded to the same pixels.
        let mut split = parts.clone();
        let (a, b) = split[idat].1.split_at(split[idat].1.len() / 2);
        let (a, b) = (a.to_vec(), b.to_vec());
        split.splice(idat..=idat, [(*b"IDAT", Vec::new()), (*b"IDAT", a), (*b"IDAT", b), (*b"IDAT", Vec::new())]);
        let p = decode_reduced(&assemble(&split), (w, h), Some(64)).unwrap().unwrap().pixels;
        assert_eq!(p.data, reference.data);

        // Bytes after IEND do not change the pixels (the stripper drops them from the original).
        let mut trailer = bytes.clone();
        trailer.extend_from_slice(b"after IEND: a second file");
        assert_eq!(decode_reduced(&trailer, (w, h), Some(64)).unwrap().unwrap().pixels.data, reference.data);

        // Image data cut inside the IDAT (valid CRC, short zlib stream), or a damaged CRC.
        let mut short = parts.clone();
        let keep = short[idat].1.len() / 3;
        short[idat].1.truncate(keep);
        assert!(matches!(decode_reduced(&assemble(&short), (w, h), Some(64)), Err(ImageError::Corrupt(_))));
        let mut bad_crc = bytes.clone();
        let crc_at = 8 + parts[..=idat].iter().map(|(_, d)| 12 + d.len()).sum::<usize>() - 1;
        bad_crc[crc_at] ^= 0xFF;
        assert!(matches!(decode_reduced(&bad_crc, (w, h), Some(64)), Err(ImageError::Corrupt(_))));
    }

    #[test]
    fn nothing_to_gain_or_truncated() {
        let (w, h) = (300, 200);
        let data = vec![7u8; (w * h * 3) as usize];
        let bytes = png_bytes(w, h, png::ColorType::Rgb, &data);
        assert!(decode_reduced(&bytes, (w, h), Some(256)).unwrap().is_none(), "less than 2x: the general decoder");
        assert!(decode_reduced(&bytes, (w, h), None).unwrap().is_none());
        assert!(matches!(decode_reduced(&bytes[..bytes.len() / 2], (w, h), Some(50)), Err(ImageError::Corrupt(_))));
        assert!(matches!(decode_reduced(&bytes, (w + 1, h), Some(50)), Err(ImageError::Corrupt(_))));
    }
}
