//! Signing upload URLs: presigned POST (our policy) and presigned PUT (the SDK's presigner with
//! Content-Type and Content-Length signed, so S3 refuses any other type or size).

use super::policy::PostPolicy;
use crate::ports::{PresignedPost, PresignedPut, ObjectError, UploadSigner};
use crate::domain::kinds::ContentType;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_sdk_s3::presigning::PresigningConfig;
use std::ops::RangeInclusive;
use std::time::Duration;
use time::OffsetDateTime;


pub struct S3UploadSigner {
    s3: aws_sdk_s3::Client,
    credentials: SharedCredentialsProvider,
    region: String,
    bucket: String,
    post_url: String,
}

impl S3UploadSigner {
    pub fn new(
        s3: aws_sdk_s3::Client,
        credentials: SharedCredentialsProvider,
        region: impl Into<String>,
        bucket: impl Into<String>,
        post_url: impl Into<String>,
    ) -> Self {
        Self { s3, credentials, region: region.into(), bucket: bucket.into(), post_url: post_url.into() }
    }
}

impl UploadSigner for S3UploadSigner {
    async fn presign_post(
        &self,
        key: &str,
        content_type: ContentType,
        length: RangeInclusive<u64>,
        now: OffsetDateTime,
        ttl: Duration,
    ) -> Result<PresignedPost, ObjectError> {
        let creds = self.credentials.provide_credentials().await.map_err(|e| ObjectError::Other(format!("signing: {e}")))?;
        let policy = PostPolicy {
            bucket: &self.bucket,
            key,
            content_type: content_type.mime(),
            min_bytes: *length.start(),
            max_bytes: *length.end(),
            region: &self.region,
            now,
            expires_in: ttl,
        };
        Ok(PresignedPost { url: self.post_url.clone(), fields: policy.sign(&creds) })
    }

    async fn presign_put(
        &self,
        key: &str,
        content_type: ContentType,
        length: u64,
        now: OffsetDateTime,
        ttl: Duration,
    ) -> Result<PresignedPut, ObjectError> {
        let cfg = PresigningConfig::builder()
            .start_time(now.into())
            .expires_in(ttl)
            .build()
            .map_err(|e| ObjectError::Other(format!("signing: {e}")))?;
        let presigned = self
            .s3
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type.mime())
            .content_length(length as i64)
            .presigned(cfg)
            .await
            .map_err(|e| ObjectError::Other(format!("signing: {e}")))?;
        let headers = signed_headers(&presigned).into_iter().collect();
        Ok(PresignedPut { url: presigned.uri().to_string(), headers })
    }
}

/// Exactly the headers a presigned request signed: anything else (a trace id the SDK adds)
/// would only widen the browser's CORS preflight.
pub(crate) fn signed_headers(presigned: &aws_sdk_s3::presigning::PresignedRequest) -> std::collections::BTreeMap<String, String> {
    let signed: Vec<String> = url_query_param(presigned.uri(), "X-Amz-SignedHeaders")
        .map(|v| v.split(';').map(str::to_string).collect())
        .unwrap_or_default();
    presigned
        .headers()
        .filter(|(k, _)| signed.iter().any(|s| s.eq_ignore_ascii_case(k)))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn url_query_param(uri: &str, name: &str) -> Option<String> {
    let query = uri.split_once('?')?.1;
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == name).then(|| percent_encoding::percent_decode_str(v).decode_utf8_lossy().into_owned())
    })
}
