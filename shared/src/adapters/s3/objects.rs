use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{Delete, ObjectIdentifier};
use aws_sdk_s3::Client;
use crate::ports::{Fetched, ObjectStore, Ranged, ObjectError};
use std::time::{Duration, SystemTime};

pub(super) fn classify<E: ProvideErrorMetadata + std::fmt::Debug>(e: SdkError<E, aws_smithy_runtime_api::http::Response>) -> ObjectError {
    let code = e.code().unwrap_or_default().to_string();
    match &e {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            ObjectError::Transient(format!("{e:?}"))
        }
        _ if matches!(code.as_str(), "SlowDown" | "InternalError" | "ServiceUnavailable" | "RequestTimeout" | "503") => {
            ObjectError::Transient(code)
        }
        SdkError::ServiceError(s) if s.raw().status().is_server_error() => ObjectError::Transient(format!("{code} {}", s.raw().status().as_u16())),
        _ => ObjectError::Other(format!("{code}: {}", e.message().unwrap_or(&format!("{e:?}")))),
    }
}

/// Whether S3 answered "not there": the error code (`NoSuchKey`, `NoSuchUpload`) or, for HEAD,
/// which has no body to carry one, a bare 404.
pub(super) fn not_found<E: ProvideErrorMetadata>(e: &SdkError<E, aws_smithy_runtime_api::http::Response>, code: &str) -> bool {
    e.code() == Some(code) || status_is(e, 404)
}

fn status_is<E>(e: &SdkError<E, aws_smithy_runtime_api::http::Response>, status: u16) -> bool {
    e.raw_response().is_some_and(|r| r.status().as_u16() == status)
}

/// CopySource is `bucket/key` with the key URL-encoded, `/` kept.
const COPY_SOURCE: &percent_encoding::AsciiSet =
    &percent_encoding::NON_ALPHANUMERIC.remove(b'/').remove(b'-').remove(b'_').remove(b'.').remove(b'~');

#[derive(Clone)]
pub struct S3Objects {
    client: Client,
    bucket: String,
}

impl S3Objects {
    pub fn new(client: Client, bucket: impl Into<String>) -> Self {
        Self { client, bucket: bucket.into() }
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    pub(super) fn client(&self) -> &Client {
        &self.client
    }

    /// The object's length, or `None` if there is no such object (one HEAD).
    async fn length(&self, key: &str) -> Result<Option<u64>, ObjectError> {
        match self.client.head_object().bucket(&self.bucket).key(key).send().await {
            Ok(h) => Ok(Some(h.content_length.unwrap_or(0).max(0) as u64)),
            Err(e) if not_found(&e, "NotFound") => Ok(None),
            Err(e) => Err(classify(e)),
        }
    }

}

impl ObjectStore for S3Objects {
    /// Reads an object if it is at most `max_bytes` long (the length is checked before the
    /// body is read, so an oversized upload never lands in memory).
    async fn get_bounded(&self, key: &str, max_bytes: u64) -> Result<Fetched, ObjectError> {
        let out = match self.client.get_object().bucket(&self.bucket).key(key).send().await {
            Ok(o) => o,
            Err(e) if not_found(&e, "NoSuchKey") => return Ok(Fetched::Missing),
            Err(e) => return Err(classify(e)),
        };
        let len = out.content_length.unwrap_or(0).max(0) as u64;
        if len > max_bytes {
            return Ok(Fetched::TooLarge(len));
        }
        let bytes = out.body.collect().await.map_err(|e| ObjectError::Transient(e.to_string()))?.into_bytes();
        if bytes.len() as u64 > max_bytes {
            return Ok(Fetched::TooLarge(bytes.len() as u64));
        }
        Ok(Fetched::Bytes(bytes.to_vec()))
    }

    async fn exists(&self, key: &str) -> Result<bool, ObjectError> {
        Ok(self.length(key).await?.is_some())
    }

    async fn read_range(&self, key: &str, offset: u64, len: u64) -> Result<Ranged, ObjectError> {
        let head_only = || async {
            Ok(match self.length(key).await? {
                Some(total) => Ranged::Bytes { bytes: Vec::new(), total },
                None => Ranged::Missing,
            })
        };
        if len == 0 {
            return head_only().await;
        }
        let range = format!("bytes={}-{}", offset, offset.saturating_add(len - 1));
        let out = match self.client.get_object().bucket(&self.bucket).key(key).range(range).send().await {
            Ok(o) => o,
            Err(e) if not_found(&e, "NoSuchKey") => return Ok(Ranged::Missing),
            // A range starting at or past the end (an empty object): nothing to read.
            Err(e) if status_is(&e, 416) => return head_only().await,
            Err(e) => return Err(classify(e)),
        };
        // `Content-Range: bytes 0-99/12345`; without it the whole object came back.
        let total = out
            .content_range()
            .and_then(|r| r.rsplit_once('/'))
            .and_then(|(_, t)| t.parse::<u64>().ok())
            .unwrap_or_else(|| out.content_length.unwrap_or(0).max(0) as u64);
        let bytes = out.body.collect().await.map_err(|e| ObjectError::Transient(e.to_string()))?.into_bytes();
        // Bounded even if a server ignored the range.
        let keep = bytes.len().min(usize::try_from(len).unwrap_or(usize::MAX));
        Ok(Ranged::Bytes { bytes: bytes[..keep].to_vec(), total })
    }

    async fn copy(&self, from: &str, to: &str, content_type: &str, cache_control: &str) -> Result<(), ObjectError> {
        let source = format!("{}/{}", self.bucket, percent_encoding::utf8_percent_encode(from, COPY_SOURCE));
        self.client
            .copy_object()
            .bucket(&self.bucket)
            .key(to)
            .copy_source(source)
            .metadata_directive(aws_sdk_s3::types::MetadataDirective::Replace)
            .content_type(content_type)
            .cache_control(cache_control)
            .send()
            .await
            .map_err(classify)?;
        Ok(())
    }

    async fn put(&self, key: &str, bytes: Vec<u8>, content_type: &str, cache_control: &str) -> Result<(), ObjectError> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .cache_control(cache_control)
            .body(ByteStream::from(bytes))
            .send()
            .await
            .map_err(classify)?;
        Ok(())
    }

    /// Deletes one object; deleting a missing key succeeds (S3 semantics).
    async fn delete(&self, key: &str) -> Result<(), ObjectError> {
        self.client.delete_object().bucket(&self.bucket).key(key).send().await.map_err(classify)?;
        Ok(())
    }

    /// Deletes many objects; fails if any one of them could not be deleted.
    async fn delete_all(&self, keys: &[String]) -> Result<(), ObjectError> {
        for chunk in keys.chunks(1000) {
            if chunk.is_empty() {
                continue;
            }
            let objects: Vec<ObjectIdentifier> = chunk
                .iter()
                .filter_map(|k| ObjectIdentifier::builder().key(k).build().ok())
                .collect();
            let delete = Delete::builder().set_objects(Some(objects)).quiet(true).build().map_err(|e| ObjectError::Other(e.to_string()))?;
            let out = self.client.delete_objects().bucket(&self.bucket).delete(delete).send().await.map_err(classify)?;
            if let Some(err) = out.errors().first() {
                return Err(ObjectError::Transient(format!("delete {:?}: {:?}", err.key(), err.code())));
            }
        }
        Ok(())
    }

    /// A presigned GET; `disposition` sets the response Content-Disposition.
    async fn presign_get(&self, key: &str, ttl: Duration, now: SystemTime, disposition: Option<String>) -> Result<String, ObjectError> {
        let cfg = PresigningConfig::builder().start_time(now).expires_in(ttl).build().map_err(|e| ObjectError::Other(e.to_string()))?;
        let req = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .set_response_content_disposition(disposition)
            .presigned(cfg)
            .await
            .map_err(|e| ObjectError::Other(e.to_string()))?;
        Ok(req.uri().to_string())
    }

    /// One page of keys under a prefix, with each key's last-modified time.
    async fn list_page(
        &self,
        prefix: &str,
        continuation: Option<String>,
        max_keys: i32,
    ) -> Result<(Vec<(String, Option<SystemTime>)>, Option<String>), ObjectError> {
        let out = self
            .client
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(prefix)
            .max_keys(max_keys)
            .set_continuation_token(continuation)
            .send()
            .await
            .map_err(classify)?;
        let items = out
            .contents()
            .iter()
            .filter_map(|o| {
                let key = o.key()?.to_string();
                let modified = o.last_modified().and_then(|t| SystemTime::try_from(*t).ok());
                Some((key, modified))
            })
            .collect();
        let next = if out.is_truncated() == Some(true) { out.next_continuation_token().map(str::to_string) } else { None };
        Ok((items, next))
    }
}
