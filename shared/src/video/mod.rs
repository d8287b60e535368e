//! Videos are verified from their container structure, read with ranged GETs: an MP4/QuickTime
//! file's `ftyp` and `moov` boxes wherever they sit (the `mdat` is skipped by its header), or a
//! WebM file's EBML header, `Info` and `Tracks`. The media data itself is never read, so a 5 GiB
//! upload costs a few reads of a few kilobytes (plus its `moov`, bounded).
//!
//! Everything here reads untrusted bytes: every length is checked against the object's size and
//! the bounds below, and the parsers return verdicts, never panics (fuzzed by
//! `fuzz/fuzz_targets/video_container.rs`).

mod boxes;
mod ebml;
mod mp4;
pub mod poster;

use crate::domain::kinds::ContentType;
use crate::ports::ObjectError;
use std::future::Future;

/// The first read: enough for the container's signature and, for most files, its first boxes.
pub const HEAD_BYTES: u64 = 64 * 1024;
/// Top-level MP4 boxes walked before giving up (real files have a handful).
pub const MAX_TOP_BOXES: u32 = 256;
/// A `moov` is read whole: two hours of 60 fps video with audio is about 10 MB of sample tables.
pub const MAX_MOOV_BYTES: u64 = 64 * 1024 * 1024;
/// WebM puts `Info` and `Tracks` before the first cluster; they must be within this prefix.
pub const WEBM_WINDOW: u64 = 4 * 1024 * 1024;

/// What the record says about a verified video.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VideoInfo {
    /// The container found in the bytes (MP4 and QuickTime are one family: either may be
    /// declared for the other).
    pub content_type: ContentType,
    /// Display size (rotation applied).
    pub width: u32,
    pub height: u32,
    pub duration_ms: Option<u64>,
    pub codecs: Vec<String>,
    /// Where the poster frame is, or why there is none.
    pub keyframe: Result<poster::Keyframe, poster::NoPoster>,
}

/// Why a file is not an acceptable video: each is a final rejection.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VideoError {
    #[error("the file is not an MP4, QuickTime or WebM video")]
    NotAVideo,
    #[error("declared {declared} but the file is {actual}")]
    TypeMismatch { declared: ContentType, actual: ContentType },
    #[error("the file ends before its container does: {0}")]
    Truncated(String),
    #[error("the container cannot be parsed: {0}")]
    Corrupt(String),
    #[error("the file has no video track")]
    NoVideoTrack,
    #[error("{width}x{height} exceeds {max_side} px per side")]
    DimensionsTooLarge { width: u32, height: u32, max_side: u32 },
    #[error("{0}")]
    LimitExceeded(String),
}

impl VideoError {
    /// The rejection code recorded for it.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotAVideo => "not_a_video",
            Self::TypeMismatch { .. } => "type_mismatch",
            Self::Truncated(_) => "truncated_video",
            Self::Corrupt(_) => "corrupt_video",
            Self::NoVideoTrack => "no_video_track",
            Self::DimensionsTooLarge { .. } => "dimensions_too_large",
            Self::LimitExceeded(_) => "processing_limit",
        }
    }
}

/// Ranged reads of one object of known length.
pub trait RangeSource: Send + Sync {
    /// The object's whole length.
    fn size(&self) -> u64;
    /// Up to `len` bytes from `offset` (fewer only at the end of the object).
    fn read(&self, offset: u64, len: u64) -> impl Future<Output = Result<Vec<u8>, ObjectError>> + Send;
}

/// An in-memory source (tests and fuzzing).
pub struct Bytes<'a>(pub &'a [u8]);

impl RangeSource for Bytes<'_> {
    fn size(&self) -> u64 {
        self.0.len() as u64
    }
    async fn read(&self, offset: u64, len: u64) -> Result<Vec<u8>, ObjectError> {
        let start = usize::try_from(offset).unwrap_or(usize::MAX).min(self.0.len());
        let end = start.saturating_add(usize::try_from(len).unwrap_or(usize::MAX)).min(self.0.len());
        Ok(self.0[start..end].to_vec())
    }
}

/// The container family a file's first bytes announce.
fn sniff(head: &[u8]) -> Option<ContentType> {
    if head.starts_with(&[0x1A, 0x45, 0xDF, 0xA3]) {
        return Some(ContentType::Webm);
    }
    match head.get(4..8)? {
        b"ftyp" => Some(if head.get(8..12) == Some(b"qt  ") { ContentType::Quicktime } else { ContentType::Mp4 }),
        // QuickTime files from before `ftyp` existed start with one of these.
        b"moov" | b"mdat" | b"wide" | b"free" | b"skip" => Some(ContentType::Quicktime),
        _ => None,
    }
}

fn iso_family(t: ContentType) -> bool {
    matches!(t, ContentType::Mp4 | ContentType::Quicktime)
}

/// Verifies a video from its container structure. The outer error is ours (retry); the inner
/// result is the verdict on the file.
pub async fn inspect<S: RangeSource>(src: &S, declared: ContentType, max_side: u32) -> Result<Result<VideoInfo, VideoError>, ObjectError> {
    let head = src.read(0, HEAD_BYTES.min(src.size())).await?;
    let Some(actual) = sniff(&head) else { return Ok(Err(VideoError::NotAVideo)) };
    if actual != declared && !(iso_family(actual) && iso_family(declared)) {
        return Ok(Err(VideoError::TypeMismatch { declared, actual }));
    }
    let info = match actual {
        ContentType::Webm => {
            // The window continues the head already read.
            let mut window = head;
            let want = WEBM_WINDOW.min(src.size());
            if (window.len() as u64) < want {
                let rest = src.read(window.len() as u64, want - window.len() as u64).await?;
                window.extend_from_slice(&rest);
            }
            ebml::inspect(&window, src.size())
        }
        _ => match mp4::structure(src, &head).await? {
            Ok(boxes) => mp4::inspect(&boxes, src.size(), actual),
            Err(e) => Err(e),
        },
    };
    Ok(info.and_then(|i| {
        if i.width == 0 || i.height == 0 {
            Err(VideoError::NoVideoTrack)
        } else if i.width > max_side || i.height > max_side {
            Err(VideoError::DimensionsTooLarge { width: i.width, height: i.height, max_side })
        } else {
            Ok(i)
        }
    }))
}

/// A synchronous `inspect` over bytes in memory (fuzzing, tests).
pub fn inspect_bytes(bytes: &[u8], declared: ContentType, max_side: u32) -> Result<VideoInfo, VideoError> {
    // The in-memory source never waits, so one poll finishes it.
    let source = Bytes(bytes);
    let fut = inspect(&source, declared, max_side);
    let mut fut = std::pin::pin!(fut);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match fut.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(Ok(verdict)) => verdict,
        std::task::Poll::Ready(Err(e)) => Err(VideoError::Corrupt(e.to_string())),
        std::task::Poll::Pending => Err(VideoError::Corrupt("in-memory read did not complete".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_name_the_container() {
        assert_eq!(sniff(b"\x1a\x45\xdf\xa3rest"), Some(ContentType::Webm));
        assert_eq!(sniff(b"\0\0\0\x18ftypisom\0\0\0\0"), Some(ContentType::Mp4));
        assert_eq!(sniff(b"\0\0\0\x14ftypqt  \0\0\0\0"), Some(ContentType::Quicktime));
        assert_eq!(sniff(b"\xff\xd8\xff\xe0\0\x10JFIF"), None);
        assert_eq!(sniff(b""), None);
    }

    #[test]
    fn hostile_bytes_are_verdicts() {
        for bytes in [&b""[..], b"\0\0\0\x08ftyp", b"\0\0\0\x01ftyp", b"\0\0\0\x01ftyp\xff\xff\xff\xff\xff\xff\xff\xff", b"\x1a\x45\xdf\xa3\x01\xff", b"\0\0\0\0moov"] {
            assert!(inspect_bytes(bytes, ContentType::Mp4, 8192).is_err(), "{bytes:?}");
        }
        assert_eq!(inspect_bytes(b"\xff\xd8\xff\xe0 a jpeg", ContentType::Mp4, 8192), Err(VideoError::NotAVideo));
        assert!(matches!(inspect_bytes(b"\x1a\x45\xdf\xa3", ContentType::Mp4, 8192), Err(VideoError::TypeMismatch { .. })));
    }
}
