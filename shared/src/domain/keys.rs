//! The object-key layout, in one place. Keys are built by the server from the media id, never
//! from anything a client sends:
//!
//! - `incoming/<id>`: the upload, never readable by anyone but the verifier;
//! - `<visibility>/<kind>/<id>/`: the media's folder, holding everything else of it:
//!   - `original.<ext>`: the verified original;
//!   - `w<size>.webp`: a thumbnail;
//!   - `poster.webp`: a video's poster frame;
//!   - `display.<ext>`: a full-size rendition every browser shows, for HEIC/HEIF originals;
//!   - `derived/<hash>.<ext>`: results computed later (transforms), so they go with the media.
//!
//! Deleting a media deletes its upload and its whole folder.

use crate::domain::kinds::{ContentType, KindName, Visibility};
use crate::domain::id::MediaId;

pub const INCOMING_PREFIX: &str = "incoming/";

pub fn incoming(id: &str) -> String {
    format!("{INCOMING_PREFIX}{id}")
}

/// What an S3 event's key names.
#[derive(Debug, PartialEq, Eq)]
pub enum EventKey {
    /// The upload of a media.
    Upload(MediaId),
    /// Under `incoming/` but no media id: no record can exist for it.
    Stray,
    /// Not an upload at all.
    Outside,
}

pub fn classify_event_key(key: &str) -> EventKey {
    match key.strip_prefix(INCOMING_PREFIX) {
        None => EventKey::Outside,
        Some(name) => MediaId::parse(name).map(EventKey::Upload).unwrap_or(EventKey::Stray),
    }
}

/// The media id an `incoming/` key names, if it names one.
pub fn incoming_id(key: &str) -> Option<MediaId> {
    match classify_event_key(key) {
        EventKey::Upload(id) => Some(id),
        _ => None,
    }
}

fn visibility_prefix(v: Visibility) -> &'static str {
    match v {
        Visibility::Public => "public",
        Visibility::Private => "private",
    }
}

pub fn folder(visibility: Visibility, kind: &KindName, id: &str) -> String {
    format!("{}/{kind}/{id}/", visibility_prefix(visibility))
}

pub fn original(visibility: Visibility, kind: &KindName, id: &str, content_type: ContentType) -> String {
    format!("{}original.{}", folder(visibility, kind, id), content_type.extension())
}

pub fn variant(visibility: Visibility, kind: &KindName, id: &str, size: u32) -> String {
    format!("{}w{size}.webp", folder(visibility, kind, id))
}

/// A full-size rendition in a type every browser shows (`media::Display`).
pub fn display(visibility: Visibility, kind: &KindName, id: &str, content_type: ContentType) -> String {
    format!("{}display.{}", folder(visibility, kind, id), content_type.extension())
}

/// A video's poster frame.
pub fn poster(visibility: Visibility, kind: &KindName, id: &str) -> String {
    format!("{}poster.webp", folder(visibility, kind, id))
}

/// A result computed later (a transform variant), inside the media's `folder`.
pub fn derived(folder: &str, params_hash: &str, extension: &str) -> String {
    format!("{folder}derived/{params_hash}.{extension}")
}

/// Every object is written once under a key that names what it holds and never changes, so
/// caches may keep it for a year.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_of_a_media_is_under_its_folder_but_the_upload() {
        let id = MediaId::random().to_string();
        let kind = KindName::parse("post_image").unwrap();
        let dir = folder(Visibility::Public, &kind, &id);
        assert_eq!(dir, format!("public/post_image/{id}/"));
        for key in [
            original(Visibility::Public, &kind, &id, ContentType::Png),
            variant(Visibility::Public, &kind, &id, 512),
            derived(&folder(Visibility::Public, &kind, &id), "ab12", "avif"),
        ] {
            assert!(key.starts_with(&dir), "{key}");
        }
        assert_eq!(incoming(&id), format!("incoming/{id}"));
        assert_eq!(classify_event_key(&incoming(&id)), EventKey::Upload(MediaId::parse(&id).unwrap()));
        assert_eq!(classify_event_key("incoming/../x"), EventKey::Stray);
        assert_eq!(classify_event_key("public/x"), EventKey::Outside);
    }
}
