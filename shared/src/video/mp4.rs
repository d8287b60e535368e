//! MP4 and QuickTime: walk the top-level boxes by their headers, read `ftyp` and `moov`, and
//! let Mozilla's `mp4parse` (Firefox's parser, fuzzed upstream) read the movie's tracks.

use super::boxes::{fourcc, header};
use super::{RangeSource, VideoError, VideoInfo, HEAD_BYTES, MAX_MOOV_BYTES, MAX_TOP_BOXES};
use crate::domain::kinds::ContentType;
use crate::ports::ObjectError;

/// Top-level box headers checked after the moov.
const BOXES_AFTER_MOOV: u32 = 16;

/// The boxes verification needs, as they are in the file.
pub struct Boxes {
    pub ftyp: Vec<u8>,
    pub moov: Vec<u8>,
}


/// Walks the top-level boxes, reading only headers except for `ftyp` and `moov`. `head` is the
/// file's first bytes (already read).
pub async fn structure<S: RangeSource>(src: &S, head: &[u8]) -> Result<Result<Boxes, VideoError>, ObjectError> {
    let total = src.size();
    let (mut offset, mut ftyp, mut moov) = (0u64, Vec::new(), None);
    // After the moov, the remaining boxes' headers are still checked against the file's length
    // (a faststart file cut inside its mdat has a whole moov), a bounded number of them:
    // fragmented files have thousands of moof/mdat pairs.
    let mut after_moov = 0;
    for _ in 0..MAX_TOP_BOXES {
        if offset >= total || after_moov > BOXES_AFTER_MOOV {
            break;
        }
        if moov.is_some() {
            after_moov += 1;
        }
        let local = usize::try_from(offset).ok().and_then(|o| head.get(o..)).filter(|b| b.len() >= 16);
        let bytes = match local {
            Some(b) => b.to_vec(),
            None => src.read(offset, 16.min(total - offset)).await?,
        };
        let h = match header(&bytes, offset, total) {
            Ok(Some(h)) => h,
            Ok(None) => return Ok(Err(VideoError::Truncated(format!("a box header at {offset} is cut off")))),
            Err(e) => return Ok(Err(e)),
        };
        match &h.kind {
            b"ftyp" | b"moov" => {
                let whole = h.end - offset;
                let bound = if &h.kind == b"ftyp" { HEAD_BYTES } else { MAX_MOOV_BYTES };
                if whole > bound {
                    return Ok(Err(VideoError::LimitExceeded(format!("the {} box is {whole} bytes; at most {bound} are read", fourcc(h.kind)))));
                }
                // Small files' ftyp (and a faststart moov) are already in the head.
                let in_head = usize::try_from(offset).ok().zip(usize::try_from(h.end).ok()).and_then(|(a, b)| head.get(a..b));
                let data = match in_head {
                    Some(d) => d.to_vec(),
                    None => src.read(offset, whole).await?,
                };
                if data.len() as u64 != whole {
                    return Ok(Err(VideoError::Truncated(format!("the {} box is cut off", fourcc(h.kind)))));
                }
                if &h.kind == b"ftyp" {
                    ftyp = data;
                } else if moov.replace(data).is_some() {
                    return Ok(Err(VideoError::Corrupt("two moov boxes".into())));
                }
            }
            _ => {}
        }
        offset = h.end;
    }
    Ok(match moov {
        Some(moov) => Ok(Boxes { ftyp, moov }),
        None if offset < total => Err(VideoError::LimitExceeded(format!("no moov box within the first {MAX_TOP_BOXES} boxes"))),
        None => Err(VideoError::Corrupt("no moov box".into())),
    })
}

/// Boxes inside a moov whose children are boxes (after `skip` bytes of fields of their own).
fn children_at(kind: &[u8; 4], content: &[u8]) -> Option<usize> {
    const VIDEO_ENTRIES: [&[u8; 4]; 11] = [b"avc1", b"avc3", b"hvc1", b"hev1", b"vp08", b"vp09", b"av01", b"mp4v", b"encv", b"s263", b"dvh1"];
    const AUDIO_ENTRIES: [&[u8; 4]; 12] = [b"mp4a", b"Opus", b"fLaC", b".mp3", b"alac", b"lpcm", b"enca", b"ac-3", b"ec-3", b"sowt", b"twos", b"ipcm"];
    match kind {
        b"moov" | b"trak" | b"mdia" | b"minf" | b"stbl" | b"edts" | b"mvex" | b"dinf" | b"udta" | b"ilst" | b"sinf" | b"schi" => Some(0),
        b"meta" => Some(4),
        b"stsd" => Some(8),
        k if VIDEO_ENTRIES.contains(&k) => Some(78),
        // The sound sample description's version (0, 1 or 2) sets how many fields follow.
        k if AUDIO_ENTRIES.contains(&k) => Some(match content.get(8..10) {
            Some([0, 1]) => 44,
            Some([0, 2]) => 64,
            _ => 28,
        }),
        _ => None,
    }
}
/// Nesting deeper than this is not a movie.
const MAX_DEPTH: usize = 8;

/// The bytes per entry of each sample table mp4parse sizes an allocation from its count.
fn entry_size(kind: &[u8; 4], version: u8) -> Option<u64> {
    match kind {
        b"stts" | b"ctts" | b"co64" => Some(8),
        b"stsc" => Some(12),
        b"stco" | b"stss" | b"stps" => Some(4),
        // Each sample description is at least a box header.
        b"stsd" => Some(8),
        b"elst" => Some(if version == 1 { 20 } else { 12 }),
        _ => None,
    }
}

/// Checks, before mp4parse reads it, that every sample table's entry count fits in the bytes
/// of its box: mp4parse reserves memory for the count it reads (a 50-byte moov can ask for
/// 11 GB). Counts bounded by the box bound every such allocation by the moov's size.
fn check_tables(data: &[u8], depth: usize) -> Result<(), VideoError> {
    if depth > MAX_DEPTH {
        return Err(VideoError::Corrupt("boxes nested too deeply".into()));
    }
    let mut at = 0usize;
    while at + 8 <= data.len() {
        // Inside the moov, a box running past its parent is corruption, not a short file.
        let h = header(&data[at..], 0, (data.len() - at) as u64)
            .map_err(|e| match e {
                VideoError::Truncated(m) => VideoError::Corrupt(format!("{m} (inside the moov)")),
                other => other,
            })?
            .ok_or_else(|| VideoError::Corrupt("box header cut off".into()))?;
        let (start, end) = (at + h.start as usize, at + h.end as usize);
        let content = &data[start..end];
        // Counts first: stsd both has a count and holds boxes.
        if &h.kind == b"stsz" || &h.kind == b"stz2" {
            // version/flags, sample size, count; entries (4 bytes) only when the size is 0.
            let field = |i: usize| content.get(i..i + 4).map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]));
            if let (Some(size), Some(count)) = (field(4), field(8)) {
                if size == 0 && u64::from(count) * 4 > content.len().saturating_sub(12) as u64 {
                    return Err(VideoError::Corrupt(format!("stsz claims {count} samples in {} bytes", content.len())));
                }
            }
        } else if let Some(per) = entry_size(&h.kind, content.first().copied().unwrap_or(0)) {
            if let Some(c) = content.get(4..8) {
                let count = u64::from(u32::from_be_bytes([c[0], c[1], c[2], c[3]]));
                if count * per > content.len().saturating_sub(8) as u64 {
                    return Err(VideoError::Corrupt(format!("{} claims {count} entries in {} bytes", fourcc(h.kind), content.len())));
                }
            }
        }
        if let Some(skip) = children_at(&h.kind, content) {
            // Every box inside must fit inside this one: mp4parse reserves by declared sizes.
            check_tables(content.get(skip..).unwrap_or_default(), depth + 1)?;
        }
        at = end;
    }
    Ok(())
}

/// Reads the movie's tracks from its `ftyp` and `moov`.
pub fn inspect(boxes: &Boxes, total: u64, content_type: ContentType) -> Result<VideoInfo, VideoError> {
    check_tables(&boxes.moov, 0)?;
    let mut file = Vec::with_capacity(boxes.ftyp.len() + boxes.moov.len());
    file.extend_from_slice(&boxes.ftyp);
    file.extend_from_slice(&boxes.moov);
    let ctx = mp4parse::read_mp4(&mut std::io::Cursor::new(file)).map_err(|e| VideoError::Corrupt(format!("{e:?}")))?;
    let fragmented = ctx.mvex.is_some();
    let keyframe = super::poster::locate(&boxes.moov, total);
    let mut info = VideoInfo { content_type, width: 0, height: 0, duration_ms: None, codecs: Vec::new(), keyframe };
    for track in ctx.tracks.iter() {
        // Sample data must lie within the file: a file cut inside its mdat (whose header may
        // say "to the end") is truncated even when the moov before it is whole.
        if let Some(stco) = &track.stco {
            if let Some(max) = stco.offsets.iter().max() {
                if *max >= total {
                    return Err(VideoError::Truncated(format!("track {} has a chunk at {max}, the file has {total} bytes", track.id)));
                }
            }
        }
        if let (Some(d), Some(scale)) = (track.duration, track.timescale) {
            if scale.0 > 0 {
                let ms = u64::try_from(u128::from(d.0) * 1000 / u128::from(scale.0)).unwrap_or(u64::MAX);
                info.duration_ms = Some(info.duration_ms.map_or(ms, |m| m.max(ms)));
            }
        }
        for entry in track.stsd.iter().flat_map(|s| s.descriptions.iter()) {
            let codec = match entry {
                mp4parse::SampleEntry::Video(v) => Some(codec_name(v.codec_type)),
                mp4parse::SampleEntry::Audio(a) => Some(codec_name(a.codec_type)),
                mp4parse::SampleEntry::Unknown => None,
            };
            if let Some(c) = codec.filter(|c| !info.codecs.iter().any(|x| x == c)) {
                info.codecs.push(c.to_string());
            }
        }
        if track.track_type == mp4parse::TrackType::Video && info.width == 0 {
            let (w, h) = display_size(track);
            info.width = w;
            info.height = h;
        }
    }
    // mp4parse does not name HEVC sample entries; the poster's reading of the track does.
    let located = info.keyframe.as_ref().ok().map(|k| k.codec.fourcc());
    if let Some(c) = located.filter(|c| !info.codecs.iter().any(|x| x == c)) {
        info.codecs.insert(0, c.to_string());
    }
    if info.width == 0 {
        return Err(VideoError::NoVideoTrack);
    }
    if info.duration_ms.unwrap_or(0) == 0 && !fragmented {
        return Err(VideoError::Corrupt("the movie states no duration".into()));
    }
    Ok(info)
}

/// The track's display size: the track header's (16.16 fixed point, the size the player shows),
/// turned for a 90° or 270° rotation matrix; else the sample entry's coded size.
fn display_size(track: &mp4parse::Track) -> (u32, u32) {
    let coded = track.stsd.iter().flat_map(|s| s.descriptions.iter()).find_map(|e| match e {
        mp4parse::SampleEntry::Video(v) => Some((u32::from(v.width), u32::from(v.height))),
        _ => None,
    });
    match &track.tkhd {
        Some(t) if t.width >> 16 > 0 && t.height >> 16 > 0 => {
            let (w, h) = (t.width >> 16, t.height >> 16);
            // A rotation by 90° or 270° has zero a and d entries in the matrix.
            if t.matrix.a == 0 && t.matrix.d == 0 && t.matrix.b != 0 {
                (h, w)
            } else {
                (w, h)
            }
        }
        _ => coded.unwrap_or((0, 0)),
    }
}

/// The usual name of a codec (the sample entry's four-character code where there is one).
fn codec_name(c: mp4parse::CodecType) -> &'static str {
    use mp4parse::CodecType as C;
    match c {
        C::H264 => "avc1",
        C::MP4V => "mp4v",
        C::AV1 => "av01",
        C::VP9 => "vp09",
        C::VP8 => "vp08",
        C::H263 => "s263",
        C::AAC => "mp4a",
        C::MP3 => "mp3",
        C::FLAC => "flac",
        C::Opus => "opus",
        C::ALAC => "alac",
        C::LPCM => "lpcm",
        C::EncryptedVideo => "encv",
        C::EncryptedAudio => "enca",
        _ => "unknown",
    }
}
