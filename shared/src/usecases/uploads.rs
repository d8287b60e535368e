//! Creating upload slots: pending records first (conditionally), then signed URLs.

use crate::domain::upload::{ValidFile, ValidUpload};
use crate::ports::UploadSigner;
use crate::domain::clock::{self, Clock};
use crate::domain::kinds::Visibility;
use crate::domain::id::MediaId;
use crate::domain::media::{MediaRecord, MultipartUpload, Status, UploadMethod, GC_SHARD};
use crate::ports::{MultipartStore, ObjectError, RecordError, UploadRecords};
use crate::domain::caller::Caller;
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::Duration;
use time::OffsetDateTime;

/// Pending records become janitor work this long after their URL expires.
pub const PENDING_GRACE: Duration = Duration::from_secs(3600);

#[derive(Debug, Clone, Serialize)]
pub struct UploadSlot {
    pub media_id: String,
    pub method: UploadMethod,
    pub url: String,
    /// POST: every form field to send before the file.
    pub fields: BTreeMap<String, String>,
    /// PUT: the exact headers to send.
    pub headers: BTreeMap<String, String>,
    pub key: String,
    pub expires_at: String,
    pub expires_in: u64,
    pub max_bytes: u64,
    pub public_url: Option<String>,
    /// MULTIPART: the S3 upload, and how the file is cut into parts (every part but the last
    /// is exactly `part_size` bytes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upload_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub part_size: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub part_count: Option<u32>,
}

/// Why slots could not be created.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error("at most {0} uploads may be pending per user; finish or wait for earlier ones")]
    TooManyPending(u32),
    #[error("size_bytes is required for PUT")]
    SizeRequired,
    #[error("{0}")]
    TooManyParts(String),
    #[error("media id collision")]
    IdCollision,
    #[error(transparent)]
    Store(#[from] RecordError),
    #[error(transparent)]
    Signing(#[from] ObjectError),
}

pub struct UploadService<R, S, M, C> {
    pub records: R,
    pub signer: S,
    /// Starts the S3 multipart uploads of MULTIPART slots.
    pub parts: M,
    pub clock: C,
    pub url_ttl: Duration,
    /// How long a MULTIPART upload may take, from slot to completion.
    pub multipart_window: Duration,
    pub max_pending: u32,
    pub public_base: String,
}

impl<R: UploadRecords, S: UploadSigner, M: MultipartStore, C: Clock> UploadService<R, S, M, C> {
    pub async fn create(&self, caller: &Caller, upload: ValidUpload) -> Result<Vec<UploadSlot>, UploadError> {
        let pending = self.records.count_pending(&caller.user_id, self.max_pending).await?;
        if pending as usize + upload.files.len() > self.max_pending as usize {
            return Err(UploadError::TooManyPending(self.max_pending));
        }
        let now = self.clock.now();
        let window = match upload.method {
            UploadMethod::Multipart => self.multipart_window,
            UploadMethod::Post | UploadMethod::Put => self.url_ttl,
        };
        let expires = now + window;
        let mut slots = Vec::with_capacity(upload.files.len());
        for file in &upload.files {
            let mut record = pending_record(caller, &upload, file, now, expires);
            if upload.method == UploadMethod::Multipart {
                record.multipart = Some(self.begin_multipart(&upload, file, &record.incoming_key).await?);
            }
            // The record exists before any URL is handed out: nothing can be uploaded untracked.
            if let Err(e) = self.records.put_new(&record).await {
                if let Some(m) = &record.multipart {
                    // Best effort: the bucket's lifecycle rule aborts it otherwise.
                    let _ = self.parts.abort_multipart(&record.incoming_key, &m.upload_id).await;
                }
                return Err(match e {
                    RecordError::ConditionFailed => UploadError::IdCollision,
                    other => other.into(),
                });
            }
            let (url, fields, headers) = match upload.method {
                UploadMethod::Multipart => (format!("/v1/uploads/{}/parts", record.id), BTreeMap::new(), BTreeMap::new()),
                _ => self.sign(&upload, file, &record.incoming_key, now).await?,
            };
            let public_url = (upload.kind.visibility == Visibility::Public).then(|| {
                format!("{}/{}", self.public_base, crate::domain::keys::original(upload.kind.visibility, &upload.kind.name, &record.id, file.content_type))
            });
            let multipart = record.multipart.clone();
            slots.push(UploadSlot {
                media_id: record.id,
                method: upload.method,
                url,
                fields,
                headers,
                key: record.incoming_key,
                expires_at: clock::format(expires),
                expires_in: window.as_secs(),
                max_bytes: file.size_bytes.unwrap_or(upload.kind.max_bytes),
                public_url,
                upload_id: multipart.as_ref().map(|m| m.upload_id.clone()),
                part_size: multipart.as_ref().map(|m| m.part_size),
                part_count: multipart.as_ref().map(|m| m.part_count),
            });
        }
        Ok(slots)
    }

    /// Starts the S3 multipart upload of one file, with the part plan its size needs.
    async fn begin_multipart(&self, upload: &ValidUpload, file: &ValidFile, key: &str) -> Result<MultipartUpload, UploadError> {
        let size = file.size_bytes.ok_or(UploadError::SizeRequired)?;
        let (part_size, part_count) = crate::usecases::multipart::part_plan(size, upload.kind.max_parts)
            .ok_or_else(|| UploadError::TooManyParts(format!("{size} bytes do not fit {} parts", upload.kind.max_parts)))?;
        let upload_id = self.parts.create_multipart(key, file.content_type.mime()).await?;
        Ok(MultipartUpload { upload_id, part_size, part_count })
    }

    /// The presigned POST form or PUT URL for one file's upload key.
    async fn sign(&self, upload: &ValidUpload, file: &ValidFile, key: &str, now: OffsetDateTime) -> Result<Signed, UploadError> {
        Ok(match upload.method {
            UploadMethod::Post => {
                // A declared size is the size: S3 refuses any other (as a PUT's signed length does).
                let length = match file.size_bytes {
                    Some(n) => n..=n,
                    None => 1..=upload.kind.max_bytes,
                };
                let p = self.signer.presign_post(key, file.content_type, length, now, self.url_ttl).await?;
                (p.url, p.fields.into_iter().collect(), BTreeMap::new())
            }
            UploadMethod::Put => {
                // Validation guarantees a declared size on this path.
                let len = file.size_bytes.ok_or(UploadError::SizeRequired)?;
                let p = self.signer.presign_put(key, file.content_type, len, now, self.url_ttl).await?;
                (p.url, BTreeMap::new(), p.headers.into_iter().collect())
            }
            UploadMethod::Multipart => (String::new(), BTreeMap::new(), BTreeMap::new()),
        })
    }
}

/// URL, form fields (POST) and headers (PUT) of one signed upload.
type Signed = (String, BTreeMap<String, String>, BTreeMap<String, String>);

/// The record a new slot starts as: pending, counted against the owner's quota, and janitor
/// work once its URL has expired for `PENDING_GRACE`.
fn pending_record(caller: &Caller, upload: &ValidUpload, file: &ValidFile, now: OffsetDateTime, expires: OffsetDateTime) -> MediaRecord {
    let id = MediaId::random().to_string();
    let created_at = clock::format(now);
    MediaRecord {
        owner: caller.user_id.clone(),
        scope: upload.scope.clone(),
        kind: upload.kind.name.clone(),
        status: Status::Pending,
        filename: file.filename.as_str().to_string(),
        declared_type: file.content_type,
        declared_size: file.size_bytes,
        method: upload.method,
        visibility: upload.kind.visibility,
        incoming_key: crate::domain::keys::incoming(&id),
        upload_expires_at: clock::format(expires),
        multipart: None,
        created_sk: format!("{created_at}#{id}"),
        created_at: created_at.clone(),
        updated_at: created_at,
        final_key: None,
        content_type: None,
        size_bytes: None,
        width: None,
        height: None,
        sha256: None,
        duration_ms: None,
        codecs: Vec::new(),
        title: None,
        description: None,
        tags: Vec::new(),
        focal_point: None,
        attached_to: None,
        rejection: None,
        variants: BTreeMap::new(),
        display: None,
        poster: None,
        poster_error: None,
        placeholder: None,
        pending_owner: Some(caller.user_id.clone()),
        gc_shard: Some(GC_SHARD.to_string()),
        gc_at: Some(clock::format(expires + PENDING_GRACE)),
        publish_claim: None,
        publish_claim_until: None,
        decided_at: None,
        event_sent: None,
        render_window: None,
        render_count: None,
        id,
    }
}
