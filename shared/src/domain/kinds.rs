//! Media kinds: what may be uploaded, how large, who may read it, which thumbnails it gets.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

const MIB: u64 = 1024 * 1024;
/// S3 refuses single PUT/POST uploads above 5 GiB; no kind may promise more.
const MAX_KIND_BYTES: u64 = 5 * 1024 * MIB;

/// The image and video types the service accepts. Parsing a MIME string is the only way to
/// get one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum ContentType {
    Jpeg,
    Png,
    Webp,
    Heic,
    Heif,
    Avif,
    Mp4,
    Quicktime,
    Webm,
}

impl ContentType {
    /// Decoded, thumbnailed and (for public kinds) stripped by `imaging`.
    pub const IMAGES: [ContentType; 6] =
        [ContentType::Jpeg, ContentType::Png, ContentType::Webp, ContentType::Heic, ContentType::Heif, ContentType::Avif];
    /// Verified from their container structure by `video`, never decoded.
    pub const VIDEOS: [ContentType; 3] = [ContentType::Mp4, ContentType::Quicktime, ContentType::Webm];

    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "image/jpeg" | "image/jpg" => Some(Self::Jpeg),
            "image/png" => Some(Self::Png),
            "image/webp" => Some(Self::Webp),
            "image/heic" => Some(Self::Heic),
            "image/heif" => Some(Self::Heif),
            "image/avif" => Some(Self::Avif),
            "video/mp4" => Some(Self::Mp4),
            "video/quicktime" => Some(Self::Quicktime),
            "video/webm" => Some(Self::Webm),
            _ => None,
        }
    }

    pub fn mime(self) -> &'static str {
        match self {
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
            Self::Webp => "image/webp",
            Self::Heic => "image/heic",
            Self::Heif => "image/heif",
            Self::Avif => "image/avif",
            Self::Mp4 => "video/mp4",
            Self::Quicktime => "video/quicktime",
            Self::Webm => "video/webm",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Self::Jpeg => "jpg",
            Self::Png => "png",
            Self::Webp => "webp",
            Self::Heic => "heic",
            Self::Heif => "heif",
            Self::Avif => "avif",
            Self::Mp4 => "mp4",
            Self::Quicktime => "mov",
            Self::Webm => "webm",
        }
    }

    pub fn is_video(self) -> bool {
        Self::VIDEOS.contains(&self)
    }

    /// Whether every browser shows it: HEIC and HEIF only Safari does, so those media get a
    /// rendition that every browser shows (`display`).
    pub fn displays_everywhere(self) -> bool {
        !matches!(self, Self::Heic | Self::Heif)
    }

    /// Types one container family may be declared as for each other: a phone or a browser
    /// names a HEIF file `image/heic` or `image/heif` whatever its brands say.
    pub fn same_family(self, other: ContentType) -> bool {
        self == other || matches!((self, other), (Self::Heic, Self::Heif) | (Self::Heif, Self::Heic))
    }
}

impl fmt::Display for ContentType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.mime())
    }
}

impl TryFrom<String> for ContentType {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s).ok_or_else(|| format!("unsupported content type {s:?}"))
    }
}

impl From<ContentType> for String {
    fn from(c: ContentType) -> String {
        c.mime().to_string()
    }
}

/// A kind's name: 1 to 32 of a-z, 0-9, `_`. Parsing is the only way to get one, so a name read
/// from a request, the configuration or a record is known to be well formed.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct KindName(String);

impl KindName {
    pub const MAX_LEN: usize = 32;

    pub fn parse(s: &str) -> Option<Self> {
        let ok = (1..=Self::MAX_LEN).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        ok.then(|| Self(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for KindName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for KindName {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s).ok_or_else(|| format!("invalid kind name {s:?}"))
    }
}

impl From<KindName> for String {
    fn from(k: KindName) -> String {
        k.0
    }
}

impl std::ops::Deref for KindName {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl std::borrow::Borrow<str> for KindName {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl PartialEq<str> for KindName {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    /// Readable by anyone under `public/` once verified.
    Public,
    /// Readable only through presigned GETs.
    Private,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KindSpec {
    pub name: KindName,
    pub max_bytes: u64,
    pub types: Vec<ContentType>,
    pub visibility: Visibility,
    /// Long-side sizes in pixels, ascending.
    pub thumbnails: Vec<u32>,
    /// Ready media of this kind that is never attached is removed after this long.
    pub unattached_ttl: Option<Duration>,
    /// The most parts a multipart upload of this kind may have (S3 allows 10,000).
    pub max_parts: u32,
}

impl KindSpec {
    /// When the janitor may collect a media of this kind that nothing attaches (`None` for
    /// kinds whose media do not expire unattached, or while attached).
    pub fn unattached_gc_at(&self, attached: bool, now: time::OffsetDateTime) -> Option<String> {
        self.unattached_ttl.filter(|_| !attached).map(|ttl| crate::domain::clock::format(now + ttl))
    }

    pub fn allows(&self, t: ContentType) -> bool {
        self.types.contains(&t)
    }

    pub fn is_public(&self) -> bool {
        self.visibility == Visibility::Public
    }
}

/// The configured kinds, validated once at init.
#[derive(Debug, Clone)]
pub struct Kinds(BTreeMap<KindName, KindSpec>);

/// The JSON form of one kind in `MEDIA_KINDS_JSON`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct KindJson {
    max_bytes: u64,
    types: Vec<String>,
    visibility: Visibility,
    thumbnails: Vec<u32>,
    #[serde(default)]
    unattached_expire_seconds: Option<u64>,
    #[serde(default = "default_max_parts")]
    max_parts: u32,
}

/// S3's own ceiling on the number of parts of one multipart upload.
pub const S3_MAX_PARTS: u32 = 10_000;
const DEFAULT_MAX_PARTS: u32 = 1_000;

fn default_max_parts() -> u32 {
    DEFAULT_MAX_PARTS
}

#[derive(Debug, thiserror::Error)]
#[error("invalid MEDIA_KINDS_JSON: {0}")]
pub struct KindsError(String);

impl Kinds {
    pub fn defaults() -> Self {
        let spec = |name: &'static str, mib: u64, vis, thumbs: &[u32], ttl: Option<u64>| KindSpec {
            name: KindName(name.to_string()),
            max_bytes: mib * MIB,
            types: ContentType::IMAGES.to_vec(),
            visibility: vis,
            thumbnails: thumbs.to_vec(),
            unattached_ttl: ttl.map(Duration::from_secs),
            max_parts: DEFAULT_MAX_PARTS,
        };
        Self::from_specs(vec![
            spec("avatar", 2, Visibility::Public, &[128, 512], None),
            spec("post_image", 5, Visibility::Public, &[128, 512, 1024], None),
            spec("temp_image", 10, Visibility::Public, &[128, 512, 1024], Some(24 * 3600)),
            spec("image", 10, Visibility::Private, &[128, 512, 1024], None),
            KindSpec { types: ContentType::VIDEOS.to_vec(), ..spec("video", MAX_KIND_BYTES / MIB, Visibility::Private, &[128, 512], None) },
        ])
    }

    fn from_specs(specs: Vec<KindSpec>) -> Self {
        Self(specs.into_iter().map(|s| (s.name.clone(), s)).collect())
    }

    /// Parses the whole set of kinds from JSON: `{"name": {"max_bytes", "types", "visibility",
    /// "thumbnails", "unattached_expire_seconds"}}`.
    pub fn from_json(json: &str) -> Result<Self, KindsError> {
        let raw: BTreeMap<String, KindJson> =
            serde_json::from_str(json).map_err(|e| KindsError(e.to_string()))?;
        if raw.is_empty() {
            return Err(KindsError("at least one kind is required".into()));
        }
        let mut specs = Vec::with_capacity(raw.len());
        for (name, k) in raw {
            let bad = |m: String| KindsError(format!("kind {name:?}: {m}"));
            let Some(name) = KindName::parse(&name) else {
                return Err(bad("names are 1 to 32 of a-z, 0-9, _".into()));
            };
            if k.max_bytes == 0 || k.max_bytes > MAX_KIND_BYTES {
                return Err(bad(format!("max_bytes must be 1..={MAX_KIND_BYTES}")));
            }
            let mut types = Vec::new();
            for t in &k.types {
                types.push(ContentType::parse(t).ok_or_else(|| bad(format!("unsupported type {t:?}")))?);
            }
            if !(1..=S3_MAX_PARTS).contains(&k.max_parts) {
                return Err(bad(format!("max_parts must be 1..={S3_MAX_PARTS}")));
            }
            if types.is_empty() {
                return Err(bad("types must not be empty".into()));
            }
            let mut thumbnails = k.thumbnails.clone();
            thumbnails.sort_unstable();
            thumbnails.dedup();
            if thumbnails.len() > 8 || thumbnails.iter().any(|&t| !(16..=4096).contains(&t)) {
                return Err(bad("thumbnails: at most 8 sizes, each 16..=4096".into()));
            }
            specs.push(KindSpec {
                name,
                max_bytes: k.max_bytes,
                types,
                visibility: k.visibility,
                thumbnails,
                unattached_ttl: k.unattached_expire_seconds.map(Duration::from_secs),
                max_parts: k.max_parts,
            });
        }
        Ok(Self::from_specs(specs))
    }

    pub fn get(&self, name: &str) -> Option<&KindSpec> {
        self.0.get(name)
    }

    pub fn iter(&self) -> impl Iterator<Item = &KindSpec> {
        self.0.values()
    }

    pub fn names(&self) -> Vec<&str> {
        self.0.keys().map(KindName::as_str).collect()
    }
}

/// `GET /v1/kinds`: what a client needs to check a file before asking for a slot.
#[derive(Debug, Serialize)]
pub struct KindsView {
    pub kinds: BTreeMap<String, KindView>,
}

#[derive(Debug, Serialize)]
pub struct KindView {
    pub content_types: Vec<&'static str>,
    pub max_bytes: u64,
    pub thumbnail_sizes: Vec<u32>,
    pub visibility: Visibility,
    pub max_parts: u32,
}

impl From<&Kinds> for KindsView {
    fn from(kinds: &Kinds) -> Self {
        let view = |k: &KindSpec| KindView {
            content_types: k.types.iter().map(|t| t.mime()).collect(),
            max_bytes: k.max_bytes,
            thumbnail_sizes: k.thumbnails.clone(),
            visibility: k.visibility,
            max_parts: k.max_parts,
        };
        Self { kinds: kinds.iter().map(|k| (k.name.to_string(), view(k))).collect() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_documented_table() {
        let k = Kinds::defaults();
        assert_eq!(k.get("avatar").unwrap().max_bytes, 2 * MIB);
        assert_eq!(k.get("post_image").unwrap().thumbnails, vec![128, 512, 1024]);
        assert_eq!(k.get("temp_image").unwrap().unattached_ttl, Some(Duration::from_secs(86400)));
        assert_eq!(k.get("image").unwrap().visibility, Visibility::Private);
        let video = k.get("video").unwrap();
        assert_eq!((video.max_bytes, video.visibility, video.types.as_slice()), (5 << 30, Visibility::Private, ContentType::VIDEOS.as_slice()));
    }

    #[test]
    fn json_override_is_validated() {
        let ok = Kinds::from_json(
            r#"{"doc_scan": {"max_bytes": 1000, "types": ["image/png"], "visibility": "private", "thumbnails": [512, 128]}}"#,
        )
        .unwrap();
        assert_eq!(ok.get("doc_scan").unwrap().thumbnails, vec![128, 512]);
        for bad in [
            "{}",
            "not json",
            r#"{"x": {"max_bytes": 0, "types": ["image/png"], "visibility": "public", "thumbnails": []}}"#,
            r#"{"x": {"max_bytes": 10, "types": ["image/gif"], "visibility": "public", "thumbnails": []}}"#,
            r#"{"X!": {"max_bytes": 10, "types": ["image/png"], "visibility": "public", "thumbnails": []}}"#,
            r#"{"x": {"max_bytes": 10, "types": ["image/png"], "visibility": "public", "thumbnails": [1]}}"#,
            r#"{"x": {"max_bytes": 10, "types": ["image/png"], "visibility": "public", "thumbnails": [], "extra": 1}}"#,
        ] {
            assert!(Kinds::from_json(bad).is_err(), "{bad} should be refused");
        }
    }
}
