//! S3 multipart uploads: the `MultipartStore` adapter.

use super::objects::{classify, not_found, S3Objects};
use crate::ports::{MultipartStore, OpenUpload, PresignedPart, ObjectError, StoredPart, UploadsMarker};
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use std::time::{Duration, SystemTime};

/// ListParts returns at most this many per page (S3's own maximum).
const LIST_PAGE: i32 = 1000;

impl MultipartStore for S3Objects {
    async fn create_multipart(&self, key: &str, content_type: &str) -> Result<String, ObjectError> {
        let out = self
            .client()
            .create_multipart_upload()
            .bucket(self.bucket())
            .key(key)
            .content_type(content_type)
            .send()
            .await
            .map_err(classify)?;
        out.upload_id.ok_or_else(|| ObjectError::Other("CreateMultipartUpload returned no upload id".into()))
    }

    async fn presign_part(
        &self,
        key: &str,
        upload_id: &str,
        part_number: u32,
        length: u64,
        now: SystemTime,
        ttl: Duration,
    ) -> Result<PresignedPart, ObjectError> {
        let cfg = PresigningConfig::builder().start_time(now).expires_in(ttl).build().map_err(|e| ObjectError::Other(e.to_string()))?;
        let presigned = self
            .client()
            .upload_part()
            .bucket(self.bucket())
            .key(key)
            .upload_id(upload_id)
            .part_number(part_number as i32)
            .content_length(length as i64)
            .presigned(cfg)
            .await
            .map_err(|e| ObjectError::Other(format!("signing: {e}")))?;
        let headers = crate::adapters::s3::presign::signed_headers(&presigned);
        Ok(PresignedPart { part_number, url: presigned.uri().to_string(), headers })
    }

    async fn list_parts(&self, key: &str, upload_id: &str, max_parts: u32) -> Result<Option<Vec<StoredPart>>, ObjectError> {
        let mut parts = Vec::new();
        let mut marker: Option<String> = None;
        // Bounded: never more pages than the upload may have parts.
        for _ in 0..max_parts.div_ceil(LIST_PAGE as u32).max(1) {
            let out = match self
                .client()
                .list_parts()
                .bucket(self.bucket())
                .key(key)
                .upload_id(upload_id)
                .max_parts(LIST_PAGE)
                .set_part_number_marker(marker.take())
                .send()
                .await
            {
                Ok(o) => o,
                Err(e) if not_found(&e, "NoSuchUpload") => return Ok(None),
                Err(e) => return Err(classify(e)),
            };
            for p in out.parts() {
                let (Some(n), Some(size), Some(etag)) = (p.part_number(), p.size(), p.e_tag()) else { continue };
                parts.push(StoredPart { part_number: n.max(0) as u32, size: size.max(0) as u64, etag: etag.to_string() });
            }
            match (out.is_truncated(), out.next_part_number_marker()) {
                (Some(true), Some(next)) => marker = Some(next.to_string()),
                _ => break,
            }
        }
        parts.sort_by_key(|p| p.part_number);
        Ok(Some(parts))
    }

    async fn complete_multipart(&self, key: &str, upload_id: &str, parts: &[StoredPart]) -> Result<(), ObjectError> {
        let completed = CompletedMultipartUpload::builder()
            .set_parts(Some(
                parts.iter().map(|p| CompletedPart::builder().part_number(p.part_number as i32).e_tag(&p.etag).build()).collect(),
            ))
            .build();
        self.client()
            .complete_multipart_upload()
            .bucket(self.bucket())
            .key(key)
            .upload_id(upload_id)
            .multipart_upload(completed)
            .send()
            .await
            .map_err(classify)?;
        Ok(())
    }

    async fn abort_multipart(&self, key: &str, upload_id: &str) -> Result<(), ObjectError> {
        match self.client().abort_multipart_upload().bucket(self.bucket()).key(key).upload_id(upload_id).send().await {
            Ok(_) => Ok(()),
            Err(e) if not_found(&e, "NoSuchUpload") => Ok(()),
            Err(e) => Err(classify(e)),
        }
    }

    async fn list_uploads(&self, prefix: &str, marker: Option<UploadsMarker>, max_uploads: i32) -> Result<(Vec<OpenUpload>, Option<UploadsMarker>), ObjectError> {
        let (key_marker, id_marker) = marker.unzip();
        let out = self
            .client()
            .list_multipart_uploads()
            .bucket(self.bucket())
            .prefix(prefix)
            .max_uploads(max_uploads.clamp(1, LIST_PAGE))
            .set_key_marker(key_marker)
            .set_upload_id_marker(id_marker)
            .send()
            .await
            .map_err(classify)?;
        let uploads = out
            .uploads()
            .iter()
            .filter_map(|u| {
                Some(OpenUpload {
                    key: u.key()?.to_string(),
                    upload_id: u.upload_id()?.to_string(),
                    initiated: u.initiated().and_then(|t| SystemTime::try_from(*t).ok()),
                })
            })
            .collect();
        let next = match (out.is_truncated(), out.next_key_marker(), out.next_upload_id_marker()) {
            (Some(true), Some(k), Some(u)) if !k.is_empty() => Some((k.to_string(), u.to_string())),
            _ => None,
        };
        Ok((uploads, next))
    }
}
