//! Where a video's poster frame is: the sync sample (keyframe) nearest one second, found from
//! the `moov` already read for verification (its video track's sample tables), so the poster
//! costs one ranged GET of that sample's bytes, bounded by [`MAX_SAMPLE_BYTES`]. Nothing here
//! decodes; `imaging::poster` decodes the sample inside the image boundary.
//!
//! Every count and offset is untrusted: tables are walked with their lengths checked against
//! their boxes (as `mp4::check_tables` did before), sums saturate, and the sample must lie
//! inside the file.

use super::boxes::{header, Header};
pub use crate::domain::keyframe::{Keyframe, NoPoster, SampleCodec};

/// A keyframe larger than this is not fetched (a 4K HEVC IDR frame is a few MB).
pub const MAX_SAMPLE_BYTES: u64 = 32 * 1024 * 1024;
/// The poster is the keyframe nearest this time, so a fade-in's black first frame is not it.
pub const POSTER_AT_MS: u64 = 1000;

fn no(what: impl Into<String>) -> NoPoster {
    NoPoster(what.into())
}

/// The boxes of `data` laid end to end: (type, content).
fn boxes(data: &[u8]) -> Vec<(Header, &[u8])> {
    let mut out = Vec::new();
    let mut at = 0usize;
    while at + 8 <= data.len() && out.len() < 4096 {
        let Ok(Some(h)) = header(&data[at..], 0, (data.len() - at) as u64) else { break };
        let (start, end) = (at + h.start as usize, at + h.end as usize);
        out.push((h, &data[start..end]));
        at = end;
    }
    out
}

fn child<'a>(data: &'a [u8], kind: &[u8; 4]) -> Option<&'a [u8]> {
    boxes(data).into_iter().find(|(h, _)| &h.kind == kind).map(|(_, c)| c)
}

fn u32_at(b: &[u8], i: usize) -> Option<u32> {
    b.get(i..i + 4).map(|x| u32::from_be_bytes([x[0], x[1], x[2], x[3]]))
}

fn u64_at(b: &[u8], i: usize) -> Option<u64> {
    b.get(i..i + 8).map(|x| u64::from_be_bytes(x.try_into().unwrap_or_default()))
}

/// A full box's table: its entry count and entries of `per` bytes, all within the box.
fn table(content: &[u8], skip: usize, per: usize) -> Option<(usize, &[u8])> {
    let count = u32_at(content, skip)? as usize;
    let entries = content.get(skip + 4..)?;
    (count.checked_mul(per)? <= entries.len()).then_some((count, entries))
}

/// Finds the keyframe nearest [`POSTER_AT_MS`] in the first video track of `moov` (its whole
/// box, header included). `total` is the file's size.
pub fn locate(moov: &[u8], total: u64) -> Result<Keyframe, NoPoster> {
    let body = boxes(moov).into_iter().find(|(h, _)| &h.kind == b"moov").map(|(_, c)| c).ok_or_else(|| no("no moov"))?;
    let trak = boxes(body)
        .into_iter()
        .filter(|(h, _)| &h.kind == b"trak")
        .map(|(_, c)| c)
        .find(|t| child(t, b"mdia").and_then(|m| child(m, b"hdlr")).and_then(|h| h.get(8..12)) == Some(b"vide"))
        .ok_or_else(|| no("no video track"))?;
    let orientation = child(trak, b"tkhd").map(orientation_of).unwrap_or(1);
    let mdia = child(trak, b"mdia").ok_or_else(|| no("no mdia"))?;
    let mdhd = child(mdia, b"mdhd").ok_or_else(|| no("no mdhd"))?;
    let timescale = match mdhd.first() {
        Some(1) => u32_at(mdhd, 20),
        _ => u32_at(mdhd, 12),
    }
    .filter(|t| *t > 0)
    .ok_or_else(|| no("no timescale"))?;
    let stbl = child(mdia, b"minf").and_then(|m| child(m, b"stbl")).ok_or_else(|| no("no sample table"))?;
    let (codec, width, height) = sample_entry(child(stbl, b"stsd").ok_or_else(|| no("no stsd"))?)?;

    let sizes = child(stbl, b"stsz").ok_or_else(|| no("no stsz"))?;
    let fixed = u32_at(sizes, 4).ok_or_else(|| no("short stsz"))?;
    let (samples, size_table) = table(sizes, 8, if fixed == 0 { 4 } else { 0 }).ok_or_else(|| no("broken stsz"))?;
    if samples == 0 {
        return Err(no("the video track has no samples"));
    }
    let size_of = |n: usize| if fixed != 0 { Some(fixed) } else { u32_at(size_table, n * 4) };

    // Decode times: stts runs of (count, delta).
    let (runs, stts) = table(child(stbl, b"stts").ok_or_else(|| no("no stts"))?, 4, 8).ok_or_else(|| no("broken stts"))?;
    let time_of = |sample: usize| -> u64 {
        let (mut t, mut seen) = (0u64, 0usize);
        for r in 0..runs {
            let (count, delta) = (u32_at(stts, r * 8).unwrap_or(0) as usize, u32_at(stts, r * 8 + 4).unwrap_or(0) as u64);
            let here = count.min(sample.saturating_sub(seen));
            t = t.saturating_add(here as u64 * delta);
            seen += here;
            if seen >= sample {
                break;
            }
        }
        t.saturating_mul(1000) / timescale as u64
    };
    // Sync samples (1-based); none listed means every sample is one.
    let sync: Vec<usize> = match child(stbl, b"stss") {
        Some(stss) => {
            let (n, t) = table(stss, 4, 4).ok_or_else(|| no("broken stss"))?;
            (0..n).filter_map(|i| u32_at(t, i * 4)).map(|s| s as usize).filter(|s| (1..=samples).contains(s)).map(|s| s - 1).collect()
        }
        None => (0..samples).collect(),
    };
    // Nearest the poster time; keyframes are in time order, so stop once past it.
    let mut best: Option<(usize, u64)> = None;
    for &s in sync.iter().take(100_000) {
        let t = time_of(s);
        let better = best.is_none_or(|(_, bt)| t.abs_diff(POSTER_AT_MS) < bt.abs_diff(POSTER_AT_MS));
        if better {
            best = Some((s, t));
        }
        if t > POSTER_AT_MS {
            break;
        }
    }
    let (sample, at_ms) = best.ok_or_else(|| no("no keyframe"))?;
    let size = size_of(sample).ok_or_else(|| no("no size for the keyframe"))? as u64;
    if size == 0 {
        return Err(no("an empty keyframe"));
    }
    if size > MAX_SAMPLE_BYTES {
        return Err(no(format!("the keyframe is {size} bytes; at most {MAX_SAMPLE_BYTES} are read for a poster")));
    }
    let offset = sample_offset(stbl, sample, &size_of)?;
    if offset.checked_add(size).is_none_or(|end| end > total) {
        return Err(no("the keyframe lies outside the file"));
    }
    Ok(Keyframe { codec, offset, size, width, height, orientation, at_ms })
}

/// The file offset of sample `n` (0-based): its chunk's offset plus the sizes of the samples
/// before it in that chunk.
fn sample_offset(stbl: &[u8], n: usize, size_of: &dyn Fn(usize) -> Option<u32>) -> Result<u64, NoPoster> {
    let chunks: Vec<u64> = if let Some(stco) = child(stbl, b"stco") {
        let (c, t) = table(stco, 4, 4).ok_or_else(|| no("broken stco"))?;
        (0..c).filter_map(|i| u32_at(t, i * 4)).map(u64::from).collect()
    } else {
        let co64 = child(stbl, b"co64").ok_or_else(|| no("no chunk offsets"))?;
        let (c, t) = table(co64, 4, 8).ok_or_else(|| no("broken co64"))?;
        (0..c).filter_map(|i| u64_at(t, i * 8)).collect()
    };
    let (runs, stsc) = table(child(stbl, b"stsc").ok_or_else(|| no("no stsc"))?, 4, 12).ok_or_else(|| no("broken stsc"))?;
    let mut first_sample = 0usize;
    for r in 0..runs {
        let first_chunk = u32_at(stsc, r * 12).unwrap_or(0) as usize;
        let per = u32_at(stsc, r * 12 + 4).unwrap_or(0) as usize;
        let next_chunk = if r + 1 < runs { u32_at(stsc, (r + 1) * 12).unwrap_or(0) as usize } else { chunks.len() + 1 };
        if first_chunk == 0 || next_chunk < first_chunk || per == 0 {
            return Err(no("broken stsc"));
        }
        let in_run = (next_chunk - first_chunk).saturating_mul(per);
        if n < first_sample.saturating_add(in_run) {
            let chunk = first_chunk - 1 + (n - first_sample) / per;
            let first_in_chunk = n - (n - first_sample) % per;
            let mut offset = *chunks.get(chunk).ok_or_else(|| no("a chunk past the chunk table"))?;
            for s in first_in_chunk..n {
                offset = offset.saturating_add(size_of(s).ok_or_else(|| no("a sample past the size table"))? as u64);
            }
            return Ok(offset);
        }
        first_sample = first_sample.saturating_add(in_run);
    }
    Err(no("the keyframe is in no chunk"))
}

/// The first sample entry's codec, configuration record and coded size.
fn sample_entry(stsd: &[u8]) -> Result<(SampleCodec, u32, u32), NoPoster> {
    let entries = stsd.get(8..).ok_or_else(|| no("short stsd"))?;
    let (h, entry) = boxes(entries).into_iter().next().ok_or_else(|| no("no sample entry"))?;
    let width = entry.get(24..26).map(|b| u16::from_be_bytes([b[0], b[1]]) as u32).unwrap_or(0);
    let height = entry.get(26..28).map(|b| u16::from_be_bytes([b[0], b[1]]) as u32).unwrap_or(0);
    let config = |kind: &[u8; 4]| child(entry.get(78..).unwrap_or_default(), kind).map(<[u8]>::to_vec);
    let codec = match &h.kind {
        b"avc1" | b"avc3" => SampleCodec::Avc(config(b"avcC").ok_or_else(|| no("no avcC"))?),
        b"hvc1" | b"hev1" => SampleCodec::Hevc(config(b"hvcC").ok_or_else(|| no("no hvcC"))?),
        b"av01" => SampleCodec::Av1(config(b"av1C").ok_or_else(|| no("no av1C"))?),
        other => return Err(no(format!("posters are not made for {} video", String::from_utf8_lossy(other)))),
    };
    Ok((codec, width, height))
}

/// The track matrix as an EXIF orientation: a 90° turn (a = d = 0) one way or the other, or
/// 180°.
fn orientation_of(tkhd: &[u8]) -> u8 {
    let at = if tkhd.first() == Some(&1) { 4 + 8 + 8 + 4 + 4 + 8 } else { 4 + 4 + 4 + 4 + 4 + 4 };
    let m = |i: usize| u32_at(tkhd, at + 8 + 2 + 2 + 2 + 2 + i * 4).map(|v| v as i32).unwrap_or(0);
    match (m(0), m(1), m(3), m(4)) {
        (0, b, c, 0) if b > 0 && c < 0 => 6,
        (0, b, c, 0) if b < 0 && c > 0 => 8,
        (a, 0, 0, d) if a < 0 && d < 0 => 3,
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_track_matrix_names_the_turn() {
        let tkhd = |a: i32, b: i32, c: i32, d: i32| {
            let mut t = vec![0u8; 4 + 20];
            t.extend_from_slice(&[0; 16]);
            for v in [a, b, 0, c, d, 0, 0, 0, 0x4000_0000] {
                t.extend_from_slice(&v.to_be_bytes());
            }
            t
        };
        let one = 0x0001_0000;
        assert_eq!(orientation_of(&tkhd(0, one, -one, 0)), 6);
        assert_eq!(orientation_of(&tkhd(0, -one, one, 0)), 8);
        assert_eq!(orientation_of(&tkhd(-one, 0, 0, -one)), 3);
        assert_eq!(orientation_of(&tkhd(one, 0, 0, one)), 1);
        assert_eq!(orientation_of(&[]), 1);
    }

    #[test]
    fn broken_tables_are_reasons_not_panics() {
        assert!(table(&[0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF], 4, 4).is_none(), "a count past the box");
        assert!(locate(b"", 0).is_err());
        assert!(locate(b"\0\0\0\x08moov", 8).is_err());
    }
}
