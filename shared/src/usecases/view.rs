//! The media object as the API shows it (one shape everywhere), and who may see it.

use crate::domain::caller::Caller;
use crate::domain::clock::{self, Clock};
use crate::domain::kinds::Visibility;
use crate::domain::media::{MediaRecord, Rejection, Status};
use crate::ports::{ObjectStore, ObjectError};
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::Duration;

pub const DEFAULT_URL_TTL: Duration = Duration::from_secs(300);

#[derive(Debug, Clone, Serialize)]
pub struct VariantView {
    pub url: String,
    pub width: u32,
    pub height: u32,
    pub size_bytes: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct MediaView {
    pub id: String,
    pub kind: crate::domain::kinds::KindName,
    pub scope: Option<String>,
    pub owner: String,
    pub status: Status,
    pub filename: String,
    pub content_type: String,
    pub size_bytes: Option<u64>,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub sha256: Option<String>,
    /// Videos only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub codecs: Vec<String>,
    pub title: Option<String>,
    pub description: Option<String>,
    pub tags: Vec<String>,
    /// Where cover crops centre (images): the owner's choice, else the centre.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub focal_point: Option<crate::domain::media::FocalPoint>,
    pub attached_to: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub rejection: Option<Rejection>,
    /// The original, or for a type not every browser shows (HEIC, HEIF) its full-size
    /// rendition in one that every browser does (`display_content_type`).
    pub url: Option<String>,
    pub url_expires_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_content_type: Option<String>,
    pub variants: BTreeMap<String, VariantView>,
    /// Videos only (absent for images): the poster frame, null when the keyframe could not be
    /// decoded (`poster_error` says why) or the video is not ready.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub poster: Option<Option<VariantView>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub poster_error: Option<String>,
    pub placeholder: Option<crate::domain::media::Placeholder>,
}

/// The owner may do everything with a media.
pub fn is_owner(caller: &Caller, r: &MediaRecord) -> bool {
    r.owner == caller.user_id && r.status != Status::Deleting
}

/// The owner and members of the media's scope may read it; to anyone else it does not exist.
pub fn can_read(caller: &Caller, r: &MediaRecord) -> bool {
    is_owner(caller, r) || (r.status != Status::Deleting && r.scope.as_deref().is_some_and(|s| caller.is_member(s)))
}

/// Builds URLs: the public URL for public kinds, presigned GETs for private ones.
pub struct UrlSigner<O, C> {
    pub objects: O,
    pub public_base: String,
    pub clock: C,
}

pub struct SignedUrl {
    pub url: String,
    pub expires_at: Option<String>,
    pub expires_in: Option<u64>,
}

impl<O: ObjectStore, C: Clock> UrlSigner<O, C> {
    pub async fn url_for(
        &self,
        visibility: Visibility,
        key: &str,
        ttl: Duration,
        disposition: Option<String>,
    ) -> Result<SignedUrl, ObjectError> {
        if visibility == Visibility::Public && disposition.is_none() {
            return Ok(SignedUrl { url: format!("{}/{key}", self.public_base), expires_at: None, expires_in: None });
        }
        let now = self.clock.now();
        let url = self.objects.presign_get(key, ttl, now.into(), disposition).await?;
        Ok(SignedUrl { url, expires_at: Some(clock::format(now + ttl)), expires_in: Some(ttl.as_secs()) })
    }

    pub async fn render(&self, r: &MediaRecord) -> Result<MediaView, ObjectError> {
        let ready = r.status == Status::Ready;
        let (mut url, mut url_expires_at) = (None, None);
        let mut variants = BTreeMap::new();
        let mut poster = None;
        if ready {
            if let Some(key) = r.display.as_ref().map(|d| &d.key).or(r.final_key.as_ref()) {
                let u = self.url_for(r.visibility, key, DEFAULT_URL_TTL, None).await?;
                url = Some(u.url);
                url_expires_at = u.expires_at;
            }
            if let Some(p) = &r.poster {
                let u = self.url_for(r.visibility, &p.key, DEFAULT_URL_TTL, None).await?;
                poster = Some(VariantView { url: u.url, width: p.width, height: p.height, size_bytes: p.size_bytes });
            }
            for (size, v) in &r.variants {
                let u = self.url_for(r.visibility, &v.key, DEFAULT_URL_TTL, None).await?;
                variants.insert(size.clone(), VariantView { url: u.url, width: v.width, height: v.height, size_bytes: v.size_bytes });
            }
        }
        Ok(MediaView {
            id: r.id.clone(),
            kind: r.kind.clone(),
            scope: r.scope.clone(),
            owner: r.owner.clone(),
            status: r.status,
            filename: r.filename.clone(),
            content_type: r.content_type.unwrap_or(r.declared_type).mime().to_string(),
            size_bytes: r.size_bytes.or(r.declared_size),
            width: r.width,
            height: r.height,
            sha256: r.sha256.clone(),
            duration_ms: r.duration_ms,
            codecs: r.codecs.clone(),
            title: r.title.clone(),
            description: r.description.clone(),
            tags: r.tags.clone(),
            focal_point: (!r.content_type.unwrap_or(r.declared_type).is_video()).then(|| r.focal_point.unwrap_or(crate::domain::media::FocalPoint::CENTRE)),
            attached_to: r.attached_to.clone(),
            created_at: r.created_at.clone(),
            updated_at: r.updated_at.clone(),
            rejection: r.rejection.clone(),
            url,
            url_expires_at,
            display_content_type: r.display.as_ref().filter(|_| ready).map(|d| d.content_type.mime().to_string()),
            variants,
            poster: r.content_type.unwrap_or(r.declared_type).is_video().then_some(poster),
            poster_error: r.poster_error.clone().filter(|_| ready),
            placeholder: r.placeholder.clone(),
        })
    }
}
