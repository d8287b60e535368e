//! WebM: the EBML header's DocType, then the Segment's `Info` (duration) and `Tracks` (codecs,
//! size), which muxers write before the first `Cluster`. A fixed, three-level walk: no
//! recursion, every size checked against the bytes in hand.

use super::{VideoError, VideoInfo, WEBM_WINDOW};
use crate::domain::kinds::ContentType;

const EBML: u32 = 0x1A45_DFA3;
const DOC_TYPE: u32 = 0x4282;
const SEGMENT: u32 = 0x1853_8067;
const CLUSTER: u32 = 0x1F43_B675;
const INFO: u32 = 0x1549_A966;
const TIMECODE_SCALE: u32 = 0x2A_D7B1;
const DURATION: u32 = 0x4489;
const TRACKS: u32 = 0x1654_AE6B;
const TRACK_ENTRY: u32 = 0xAE;
const TRACK_TYPE: u32 = 0x83;
const CODEC_ID: u32 = 0x86;
const VIDEO: u32 = 0xE0;
const PIXEL_WIDTH: u32 = 0xB0;
const PIXEL_HEIGHT: u32 = 0xBA;

/// One element: its id, where its data starts, and its size (`None`: unknown, to the parent's
/// end).
struct Element {
    id: u32,
    data: usize,
    size: Option<u64>,
}

fn corrupt(m: impl Into<String>) -> VideoError {
    VideoError::Corrupt(m.into())
}

/// An element id (marker bits kept, 1 to 4 bytes) and a size (marker stripped, 1 to 8 bytes).
fn element(bytes: &[u8], at: usize) -> Result<Element, VideoError> {
    let first = *bytes.get(at).ok_or_else(|| corrupt("element cut off"))?;
    let id_len = first.leading_zeros() as usize + 1;
    if id_len > 4 {
        return Err(corrupt(format!("invalid element id at {at}")));
    }
    let id_bytes = bytes.get(at..at + id_len).ok_or_else(|| corrupt("element id cut off"))?;
    let id = id_bytes.iter().fold(0u32, |v, b| (v << 8) | u32::from(*b));
    let size_at = at + id_len;
    let first = *bytes.get(size_at).ok_or_else(|| corrupt("element size cut off"))?;
    let size_len = first.leading_zeros() as usize + 1;
    if size_len > 8 {
        return Err(corrupt(format!("invalid element size at {size_at}")));
    }
    let size_bytes = bytes.get(size_at..size_at + size_len).ok_or_else(|| corrupt("element size cut off"))?;
    let mask = if size_len == 8 { 0 } else { 0xFFu8 >> size_len };
    let value = size_bytes[1..].iter().fold(u64::from(first & mask), |v, b| (v << 8) | u64::from(*b));
    let all_ones = (1u64 << (7 * size_len)) - 1;
    Ok(Element { id, data: size_at + size_len, size: (value != all_ones).then_some(value) })
}

/// The children of `bytes` (an element's whole data), each with its data.
fn children(bytes: &[u8]) -> Result<Vec<(u32, &[u8])>, VideoError> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let e = element(bytes, at)?;
        let size = e.size.ok_or_else(|| corrupt(format!("element {:X} of unknown size", e.id)))?;
        let end = usize::try_from(size).ok().and_then(|s| e.data.checked_add(s)).filter(|&end| end <= bytes.len());
        let end = end.ok_or_else(|| corrupt(format!("element {:X} overruns its parent", e.id)))?;
        out.push((e.id, &bytes[e.data..end]));
        at = end;
    }
    Ok(out)
}

fn uint(data: &[u8]) -> Result<u64, VideoError> {
    if data.len() > 8 {
        return Err(corrupt("integer longer than 8 bytes"));
    }
    Ok(data.iter().fold(0u64, |v, b| (v << 8) | u64::from(*b)))
}

fn float(data: &[u8]) -> Result<f64, VideoError> {
    match data.len() {
        4 => Ok(f64::from(f32::from_be_bytes([data[0], data[1], data[2], data[3]]))),
        8 => Ok(f64::from_be_bytes([data[0], data[1], data[2], data[3], data[4], data[5], data[6], data[7]])),
        _ => Err(corrupt("float of invalid length")),
    }
}

/// Reads the container from `window` (the file's first bytes, up to `WEBM_WINDOW`) of a file of
/// `total` bytes.
pub fn inspect(window: &[u8], total: u64) -> Result<VideoInfo, VideoError> {
    let header = element(window, 0)?;
    if header.id != EBML {
        return Err(VideoError::NotAVideo);
    }
    let header_end = header.size.and_then(|s| usize::try_from(s).ok()).and_then(|s| header.data.checked_add(s));
    let header_end = header_end.filter(|&e| e <= window.len()).ok_or_else(|| corrupt("EBML header overruns the file"))?;
    let doc_type = children(&window[header.data..header_end])?.into_iter().find(|(id, _)| *id == DOC_TYPE).map(|(_, d)| d);
    match doc_type.map(|d| String::from_utf8_lossy(d).trim_end_matches('\0').to_string()).as_deref() {
        Some("webm") => {}
        Some(other) => return Err(corrupt(format!("DocType {other:?} is not webm"))),
        None => return Err(corrupt("no DocType")),
    }

    let segment = element(window, header_end)?;
    if segment.id != SEGMENT {
        return Err(corrupt("no Segment after the EBML header"));
    }
    let mut end = window.len();
    if let Some(size) = segment.size {
        let seg_end = (segment.data as u64).checked_add(size).ok_or_else(|| corrupt("Segment size overflows"))?;
        if seg_end > total {
            return Err(VideoError::Truncated(format!("the Segment needs {seg_end} bytes, the file has {total}")));
        }
        end = end.min(usize::try_from(seg_end).unwrap_or(usize::MAX));
    }

    let keyframe = Err(super::poster::NoPoster("posters are not made for WebM video".into()));
    let mut info = VideoInfo { content_type: ContentType::Webm, width: 0, height: 0, duration_ms: None, codecs: Vec::new(), keyframe };
    let (mut have_tracks, mut at) = (false, segment.data);
    while at < end {
        let e = element(&window[..end], at)?;
        if e.id == CLUSTER {
            break;
        }
        let size = e.size.ok_or_else(|| corrupt(format!("element {:X} of unknown size", e.id)))?;
        let child_end = usize::try_from(size).ok().and_then(|s| e.data.checked_add(s)).filter(|&c| c <= end);
        let Some(child_end) = child_end else {
            if matches!(e.id, INFO | TRACKS) {
                return Err(VideoError::LimitExceeded(format!("Info and Tracks must lie within the first {WEBM_WINDOW} bytes")));
            }
            // Another element (Cues, attachments) runs past the window: nothing more to read.
            break;
        };
        let data = &window[e.data..child_end];
        match e.id {
            INFO => info.duration_ms = duration(data)?,
            TRACKS => {
                tracks(data, &mut info)?;
                have_tracks = true;
            }
            _ => {}
        }
        at = child_end;
    }
    if !have_tracks {
        return Err(corrupt("no Tracks before the first Cluster"));
    }
    if info.width == 0 {
        return Err(VideoError::NoVideoTrack);
    }
    Ok(info)
}

/// `Duration` (in `TimecodeScale` nanoseconds, default 1 ms) as milliseconds.
fn duration(info: &[u8]) -> Result<Option<u64>, VideoError> {
    let (mut scale, mut ticks) = (1_000_000u64, None);
    for (id, data) in children(info)? {
        match id {
            TIMECODE_SCALE => scale = uint(data)?,
            DURATION => ticks = Some(float(data)?),
            _ => {}
        }
    }
    Ok(ticks.filter(|t| t.is_finite() && *t >= 0.0).map(|t| (t * scale as f64 / 1e6).min(u64::MAX as f64) as u64))
}

fn tracks(tracks: &[u8], info: &mut VideoInfo) -> Result<(), VideoError> {
    for (_, entry) in children(tracks)?.into_iter().filter(|(id, _)| *id == TRACK_ENTRY) {
        let (mut kind, mut codec, mut size) = (0, None, (0u64, 0u64));
        for (id, data) in children(entry)? {
            match id {
                TRACK_TYPE => kind = uint(data)?,
                CODEC_ID => codec = Some(codec_name(data)),
                VIDEO => {
                    for (vid, vdata) in children(data)? {
                        match vid {
                            PIXEL_WIDTH => size.0 = uint(vdata)?,
                            PIXEL_HEIGHT => size.1 = uint(vdata)?,
                            _ => {}
                        }
                    }
                }
                _ => {}
            }
        }
        if let Some(c) = codec.filter(|c| !info.codecs.contains(c)) {
            info.codecs.push(c);
        }
        // Track type 1 is video.
        if kind == 1 && info.width == 0 {
            // The coded size: DisplayWidth/Height may be in other units (DisplayUnit).
            info.width = u32::try_from(size.0).unwrap_or(u32::MAX);
            info.height = u32::try_from(size.1).unwrap_or(u32::MAX);
        }
    }
    Ok(())
}

/// `V_VP9` → `vp09`, `A_OPUS` → `opus`; anything else lowercased, printable ASCII, at most 32.
fn codec_name(id: &[u8]) -> String {
    match id {
        b"V_VP8" => "vp08".into(),
        b"V_VP9" => "vp09".into(),
        b"V_AV1" => "av01".into(),
        b"A_OPUS" => "opus".into(),
        b"A_VORBIS" => "vorbis".into(),
        other => other.iter().take(32).filter(|b| b.is_ascii_graphic()).map(|b| b.to_ascii_lowercase() as char).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn el(id: &[u8], data: &[u8]) -> Vec<u8> {
        assert!(data.len() < 127);
        [id, &[0x80 | data.len() as u8], data].concat()
    }

    fn webm(segment_children: &[u8], segment_size: Option<u64>) -> Vec<u8> {
        let header = el(&[0x1A, 0x45, 0xDF, 0xA3], &el(&[0x42, 0x82], b"webm"));
        let size: Vec<u8> = match segment_size {
            Some(s) => [&[0x01u8][..], &s.to_be_bytes()[1..]].concat(),
            None => vec![0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF],
        };
        [header, vec![0x18, 0x53, 0x80, 0x67], size, segment_children.to_vec()].concat()
    }

    fn minimal_tracks(w: u8, h: u8) -> Vec<u8> {
        let video = el(&[0xE0], &[el(&[0xB0], &[w]), el(&[0xBA], &[h])].concat());
        let entry = el(&[0xAE], &[el(&[0x83], &[1]), el(&[0x86], b"V_VP9"), video].concat());
        el(&[0x16, 0x54, 0xAE, 0x6B], &entry)
    }

    #[test]
    fn a_minimal_webm_reads_its_tracks_and_duration() {
        let info = el(&[0x15, 0x49, 0xA9, 0x66], &[el(&[0x2A, 0xD7, 0xB1], &[0x0F, 0x42, 0x40]), el(&[0x44, 0x89], &2500f32.to_be_bytes())].concat());
        let children = [info, minimal_tracks(64, 48), el(&[0x1F, 0x43, 0xB6, 0x75], &[0; 10])].concat();
        let file = webm(&children, None);
        let got = inspect(&file, file.len() as u64).unwrap();
        assert_eq!((got.width, got.height, got.duration_ms, got.codecs), (64, 48, Some(2500), vec!["vp09".to_string()]));
    }

    #[test]
    fn hostile_webm_layouts_are_rejected() {
        let tracks = minimal_tracks(64, 48);
        // A segment that claims more bytes than the file has.
        let file = webm(&tracks, Some(10_000));
        assert!(matches!(inspect(&file, file.len() as u64), Err(VideoError::Truncated(_))));
        // No tracks; an audio-only track; a child overrunning the segment; invalid ids.
        assert!(inspect(&webm(&[], None), 100).is_err());
        let audio = el(&[0x16, 0x54, 0xAE, 0x6B], &el(&[0xAE], &[el(&[0x83], &[2]), el(&[0x86], b"A_OPUS")].concat()));
        assert_eq!(inspect(&webm(&audio, None), 200), Err(VideoError::NoVideoTrack));
        let mut cut = webm(&tracks, None);
        cut.truncate(cut.len() - 3);
        assert!(inspect(&cut, cut.len() as u64).is_err());
        assert!(inspect(&webm(&[0x00, 0x81, 0x00], None), 100).is_err());
        let mkv = [el(&[0x1A, 0x45, 0xDF, 0xA3], &el(&[0x42, 0x82], b"matroska")), tracks].concat();
        assert!(matches!(inspect(&mkv, mkv.len() as u64), Err(VideoError::Corrupt(_))));
    }
}
