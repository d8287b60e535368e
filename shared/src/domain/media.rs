//! The media record: what DynamoDB stores for every upload, from slot to deletion.

use crate::domain::kinds::{ContentType, Visibility};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use crate::domain::id::MediaId;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Pending,
    Ready,
    Rejected,
    /// A delete started and did not finish; the janitor completes it.
    Deleting,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Ready => "ready",
            Self::Rejected => "rejected",
            Self::Deleting => "deleting",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum UploadMethod {
    #[serde(rename = "POST")]
    Post,
    #[serde(rename = "PUT")]
    Put,
    /// S3 multipart: the client uploads numbered parts to presigned UploadPart URLs and the
    /// server assembles them (`multipart`).
    #[serde(rename = "MULTIPART")]
    Multipart,
}

/// The S3 multipart upload behind a `MULTIPART` slot: every part but the last is exactly
/// `part_size` bytes, and there are `part_count` of them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MultipartUpload {
    pub upload_id: String,
    pub part_size: u64,
    pub part_count: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rejection {
    pub code: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Variant {
    pub key: String,
    pub width: u32,
    pub height: u32,
    pub size_bytes: u64,
}

/// A full-size rendition of a media in a type every browser shows, for one that not every
/// browser does (HEIC, HEIF): what the media's `url` is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Display {
    pub key: String,
    pub content_type: crate::domain::kinds::ContentType,
    pub width: u32,
    pub height: u32,
    pub size_bytes: u64,
}

/// Where a cover crop centres, as fractions of the displayed image (0..1 each way), in steps of
/// 0.01 so one image has a bounded number of crops.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FocalPoint {
    pub x: f32,
    pub y: f32,
}

impl FocalPoint {
    pub const CENTRE: Self = Self { x: 0.5, y: 0.5 };

    /// Both coordinates finite and within 0..=1, rounded to the 0.01 step.
    pub fn parse(x: f64, y: f64) -> Option<Self> {
        let step = |v: f64| (v.is_finite() && (0.0..=1.0).contains(&v)).then(|| ((v * 100.0).round() / 100.0) as f32);
        Some(Self { x: step(x)?, y: step(y)? })
    }
}

/// One item of the media table. Index attributes (`created_sk`, `pending_owner`, `gc_shard`,
/// `gc_at`) are derived from the state by [`MediaRecord::with_index_attributes`], so they can
/// never disagree with it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MediaRecord {
    pub id: String,
    pub owner: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    pub kind: crate::domain::kinds::KindName,
    pub status: Status,
    pub filename: String,
    pub declared_type: ContentType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub declared_size: Option<u64>,
    pub method: UploadMethod,
    pub visibility: Visibility,
    pub incoming_key: String,
    pub upload_expires_at: String,
    /// Present for `MULTIPART` uploads until the janitor or a delete has aborted them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub multipart: Option<MultipartUpload>,
    pub created_at: String,
    pub updated_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub final_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<ContentType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_bytes: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// Videos: what the container says about its duration and tracks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub codecs: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Where cover crops centre (`PATCH`); the centre when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub focal_point: Option<FocalPoint>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attached_to: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rejection: Option<Rejection>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub variants: BTreeMap<String, Variant>,
    /// HEIC/HEIF: the rendition `url` points at (the original stays downloadable).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display: Option<Display>,
    /// Videos: the poster frame (WebP at display size), which thumbnails and transforms use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub poster: Option<Variant>,
    /// Videos without a poster: why (the video is ready all the same).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub poster_error: Option<String>,
    /// What to paint before a thumbnail loads (ready media).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub placeholder: Option<crate::domain::media::Placeholder>,
    /// `created_at#id`: the range key of the owner and scope indexes (newest first).
    pub created_sk: String,
    /// Present only while pending: the sparse index that counts a user's pending uploads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_owner: Option<String>,
    /// Present only when the janitor may have work on this record: the sparse index it queries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gc_shard: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gc_at: Option<String>,
    /// The verification run that may write this media's objects, and until when: only the
    /// claim holder publishes, so the stored bytes are always the ones the record describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publish_claim: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publish_claim_until: Option<String>,
    /// When the upload was decided (ready or rejected); unlike `updated_at`, edits never move it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_at: Option<String>,
    /// The decision event acknowledged by the event sink (`media.ready` / `media.rejected`):
    /// while it differs from the status, the decision's event is still owed (`events`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_sent: Option<String>,
    /// The transform function's render counter: the window (unix seconds) it counts in, and
    /// how many new variants were rendered in it (`count_render`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub render_window: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub render_count: Option<u32>,
}

pub const GC_SHARD: &str = "gc";

impl MediaRecord {
    pub fn media_id(&self) -> Option<MediaId> {
        MediaId::parse(&self.id)
    }

    /// The folder of this media (see `keys`): deleting a media deletes all of it.
    pub fn object_prefix(&self) -> String {
        crate::domain::keys::folder(self.visibility, &self.kind, &self.id)
    }

    /// Every S3 key this media may occupy (for deletes): the incoming object, the original and
    /// every variant.
    pub fn all_keys(&self) -> Vec<String> {
        let mut keys = vec![self.incoming_key.clone()];
        keys.extend(self.final_key.iter().cloned());
        keys.extend(self.variants.values().map(|v| v.key.clone()));
        keys.extend(self.display.iter().map(|d| d.key.clone()));
        keys.extend(self.poster.iter().map(|p| p.key.clone()));
        keys
    }
}

/// What a client shows before the image arrives (made by `imaging::placeholder`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Placeholder {
    /// Standard base64 of the ThumbHash bytes.
    pub thumbhash: String,
    pub blurhash: String,
    /// `#rrggbb`.
    pub dominant_color: String,
    pub has_alpha: bool,
}
