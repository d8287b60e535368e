//! A video's poster frame as the container states it: which codec, where its bytes are, and
//! how it is turned. `video::poster` finds it; `imaging::poster` decodes it.

/// The codec of a keyframe, with its decoder configuration record (the body of `avcC`,
/// `hvcC` or `av1C`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SampleCodec {
    Avc(Vec<u8>),
    Hevc(Vec<u8>),
    Av1(Vec<u8>),
}

impl SampleCodec {
    /// The sample entry's four-character code, as a video's `codecs` lists it.
    pub fn fourcc(&self) -> &'static str {
        match self {
            SampleCodec::Avc(_) => "avc1",
            SampleCodec::Hevc(_) => "hvc1",
            SampleCodec::Av1(_) => "av01",
        }
    }
}

/// One keyframe: what it is and where its bytes are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keyframe {
    pub codec: SampleCodec,
    pub offset: u64,
    pub size: u64,
    /// The coded size the sample entry states.
    pub width: u32,
    pub height: u32,
    /// EXIF-style orientation from the track matrix (1, 3, 6 or 8).
    pub orientation: u8,
    /// Its decode time.
    pub at_ms: u64,
}

/// Why a ready video has no poster (it stays ready: the container was valid).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct NoPoster(pub String);

