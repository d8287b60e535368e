//! The media API's request bodies and query parameters, parsed and bounded once. Handlers get
//! domain values or a 400; nothing here touches AWS, so every parser is fuzzed
//! (`fuzz/fuzz_targets/request_json.rs`). The upload request lives in `upload`.

pub mod fields;
pub mod upload;

use fields::{nullable, non_null, text};

use crate::edge::error::ApiError;
use crate::domain::kinds::KindName;
use crate::domain::media::Status;
use crate::ports::MetadataEdit;
use serde::Deserialize;
use std::time::Duration;

pub const MAX_TITLE: usize = 200;
pub const MAX_DESCRIPTION: usize = 2000;
pub const MAX_TAGS: usize = 20;
pub const MAX_TAG: usize = 50;
pub const MAX_REF: usize = 200;
pub const MAX_KIND_NAME: usize = 64;
/// Ids per `POST /v1/media/complete`.
pub const MAX_BATCH: usize = 50;
pub const DEFAULT_LIST_LIMIT: usize = 50;
pub const MAX_LIST_LIMIT: usize = 100;

/// `PATCH /v1/media/{id}`: `null` clears title or description; tags are replaced whole.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetadataPatch {
    #[serde(default, deserialize_with = "nullable")]
    title: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    description: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    tags: Option<Option<Vec<String>>>,
    /// Where cover crops centre; `null` puts it back in the middle.
    #[serde(default, deserialize_with = "nullable")]
    focal_point: Option<Option<FocalPointBody>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FocalPointBody {
    x: f64,
    y: f64,
}

impl MetadataPatch {
    pub fn validate(self) -> Result<MetadataEdit, ApiError> {
        if let Some(Some(t)) = &self.title {
            text("title", t, MAX_TITLE, 0)?;
        }
        if let Some(Some(d)) = &self.description {
            text("description", d, MAX_DESCRIPTION, 0)?;
        }
        let tags = match self.tags {
            None => None,
            Some(None) => return Err(ApiError::invalid_request("tags must be an array (send [] to clear them)")),
            Some(Some(tags)) => {
                if tags.len() > MAX_TAGS {
                    return Err(ApiError::invalid_request(format!("at most {MAX_TAGS} tags")));
                }
                for t in &tags {
                    text("each tag", t, MAX_TAG, 1)?;
                }
                Some(tags)
            }
        };
        let focal_point = match self.focal_point {
            None => None,
            Some(None) => Some(None),
            Some(Some(p)) => Some(Some(
                crate::domain::media::FocalPoint::parse(p.x, p.y).ok_or_else(|| ApiError::invalid_request("focal_point x and y must be numbers from 0 to 1"))?,
            )),
        };
        if self.title.is_none() && self.description.is_none() && tags.is_none() && focal_point.is_none() {
            return Err(ApiError::invalid_request("nothing to update: send title, description, tags or focal_point"));
        }
        Ok(MetadataEdit { title: self.title, description: self.description, tags, focal_point })
    }
}

/// `POST /v1/media/{id}/attach`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttachRequest {
    #[serde(rename = "ref")]
    pub reference: String,
    #[serde(default, deserialize_with = "non_null")]
    pub expect_kind: Option<String>,
}

/// A validated attach: the reference, and the kind the media must be.
pub struct Attach {
    pub reference: String,
    pub expect_kind: Option<KindName>,
}

impl AttachRequest {
    pub fn validate(self) -> Result<Attach, ApiError> {
        text("ref", &self.reference, MAX_REF, 1)?;
        let expect_kind = match &self.expect_kind {
            Some(k) => {
                text("expect_kind", k, MAX_KIND_NAME, 1)?;
                Some(KindName::parse(k).ok_or_else(|| ApiError::invalid_request("expect_kind must be 1 to 32 of a-z, 0-9, _"))?)
            }
            None => None,
        };
        Ok(Attach { reference: self.reference, expect_kind })
    }
}

/// The `kind` list filter: a name that is not well formed names no configured kind.
pub fn parse_kind(raw: Option<&str>) -> Result<Option<KindName>, ApiError> {
    raw.map(|k| KindName::parse(k).ok_or_else(|| ApiError::new(400, "unknown_kind", "no such kind"))).transpose()
}

/// `POST /v1/media/complete`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompleteBatch {
    media_ids: Vec<String>,
}

impl CompleteBatch {
    /// The ids as sent (each is checked, and answered, one by one).
    pub fn validate(self) -> Result<Vec<String>, ApiError> {
        if self.media_ids.is_empty() || self.media_ids.len() > MAX_BATCH {
            return Err(ApiError::invalid_request(format!("media_ids must hold 1 to {MAX_BATCH} ids")));
        }
        Ok(self.media_ids)
    }
}

/// `POST /api/v1/organizations/{org_id}/temp-image-upload`, the compatibility route.
#[derive(Debug, Deserialize)]
pub struct TempImageRequest {
    pub content_type: String,
    pub filename: String,
}

impl TempImageRequest {
    /// The compatibility route's rules: one POST upload of a `temp_image`, into the
    /// organisation's scope, which the caller must be a member of.
    pub fn validate(self, kinds: &crate::domain::kinds::Kinds, caller: &crate::domain::caller::Caller, org_id: &str) -> Result<crate::domain::upload::ValidUpload, ApiError> {
        use crate::edge::requests::upload::{authorize_scope, lookup_kind, parse_content_type, parse_scope};
        let scope = parse_scope(&format!("org:{org_id}"))?;
        let kind = lookup_kind(kinds, "temp_image")?;
        let file = crate::domain::upload::ValidFile {
            filename: crate::domain::upload::Filename::parse(&self.filename).map_err(ApiError::invalid_request)?,
            content_type: parse_content_type(kind, &self.content_type)?,
            size_bytes: None,
        };
        authorize_scope(caller, Some(&scope))?;
        Ok(crate::domain::upload::ValidUpload { kind: kind.clone(), scope: Some(scope), method: crate::domain::media::UploadMethod::Post, files: vec![file] })
    }
}

/// `limit` of `GET /v1/media`.
pub fn parse_limit(raw: Option<&str>) -> Result<usize, ApiError> {
    match raw {
        None => Ok(DEFAULT_LIST_LIMIT),
        Some(l) => l
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_LIST_LIMIT).contains(n))
            .ok_or_else(|| ApiError::invalid_request(format!("limit must be 1 to {MAX_LIST_LIMIT}"))),
    }
}

/// `status` filter of `GET /v1/media`.
pub fn parse_status(raw: Option<&str>) -> Result<Option<Status>, ApiError> {
    match raw {
        None => Ok(None),
        Some("pending") => Ok(Some(Status::Pending)),
        Some("ready") => Ok(Some(Status::Ready)),
        Some("rejected") => Ok(Some(Status::Rejected)),
        Some(_) => Err(ApiError::invalid_request("status must be pending, ready or rejected")),
    }
}

/// `expires_in` of `GET /v1/media/{id}/url`: 60 to 3600 seconds.
pub fn parse_expires_in(raw: Option<&str>, default: Duration) -> Result<Duration, ApiError> {
    match raw {
        None => Ok(default),
        Some(s) => s
            .parse::<u64>()
            .ok()
            .filter(|n| (60..=3600).contains(n))
            .map(Duration::from_secs)
            .ok_or_else(|| ApiError::invalid_request("expires_in must be 60 to 3600")),
    }
}

/// `download` of the URL routes: a strict boolean.
pub fn parse_download(raw: Option<&str>) -> Result<bool, ApiError> {
    match raw {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(_) => Err(ApiError::invalid_request("download must be true or false")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn patch(v: serde_json::Value) -> Result<MetadataEdit, ApiError> {
        crate::edge::http::parse_json_bytes::<MetadataPatch>(v.to_string().as_bytes())?.validate()
    }

    #[test]
    fn patch_rules() {
        let e = patch(serde_json::json!({"title": null, "tags": []})).unwrap();
        assert_eq!((e.title, e.tags), (Some(None), Some(vec![])));
        for bad in [
            serde_json::json!({}),
            serde_json::json!({"tags": null}),
            serde_json::json!({"tags": [""]}),
            serde_json::json!({"title": "x".repeat(201)}),
            serde_json::json!({"title": "a\u{0}b"}),
            serde_json::json!({"tags": vec!["t"; 21]}),
            serde_json::json!({"owner": "me"}),
            serde_json::json!([null, null]),
        ] {
            assert_eq!(patch(bad.clone()).map(|_| ()).unwrap_err().status, 400, "{bad}");
        }
    }

    #[test]
    fn query_parameters() {
        assert_eq!(parse_limit(None).unwrap(), 50);
        assert_eq!(parse_limit(Some("100")).unwrap(), 100);
        for bad in ["0", "101", "-1", "1e2", ""] {
            assert!(parse_limit(Some(bad)).is_err(), "{bad}");
        }
        assert_eq!(parse_status(Some("ready")).unwrap(), Some(Status::Ready));
        assert!(parse_status(Some("deleting")).is_err(), "internal states are not listable");
        assert_eq!(parse_expires_in(Some("60"), Duration::ZERO).unwrap(), Duration::from_secs(60));
        assert!(parse_expires_in(Some("3601"), Duration::ZERO).is_err());
        assert!(parse_download(Some("TRUE")).is_err());
    }
}
