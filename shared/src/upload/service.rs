//! Creating upload slots: pending records first (conditionally), then signed URLs.

use super::request::{ValidFile, ValidUpload};
use super::signer::UploadSigner;
use crate::clock::{self, Clock};
use crate::kinds::Visibility;
use crate::media::{MediaId, MediaRecord, Status, UploadMethod, GC_SHARD};
use crate::ports::{StorageError, StoreError, UploadRecords};
use crate::auth::Caller;
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
}

/// Why slots could not be created.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error("at most {0} uploads may be pending per user; finish or wait for earlier ones")]
    TooManyPending(u32),
    #[error("size_bytes is required for PUT")]
    SizeRequired,
    #[error("media id collision")]
    IdCollision,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Signing(#[from] StorageError),
}

pub struct UploadService<R, S, C> {
    pub records: R,
    pub signer: S,
    pub clock: C,
    pub url_ttl: Duration,
    pub max_pending: u32,
    pub public_base: String,
}

impl<R: UploadRecords, S: UploadSigner, C: Clock> UploadService<R, S, C> {
    pub async fn create(&self, caller: &Caller, upload: ValidUpload) -> Result<Vec<UploadSlot>, UploadError> {
        let pending = self.records.count_pending(&caller.user_id, self.max_pending).await?;
        if pending as usize + upload.files.len() > self.max_pending as usize {
            return Err(UploadError::TooManyPending(self.max_pending));
        }
        let now = self.clock.now();
        let expires = now + self.url_ttl;
        let mut slots = Vec::with_capacity(upload.files.len());
        for file in &upload.files {
            let record = pending_record(caller, &upload, file, now, expires);
            // The record exists before any URL is handed out: nothing can be uploaded untracked.
            self.records.put_new(&record).await.map_err(|e| match e {
                StoreError::ConditionFailed => UploadError::IdCollision,
                other => other.into(),
            })?;
            let (url, fields, headers) = self.sign(&upload, file, &record.incoming_key, now).await?;
            let public_url = (upload.kind.visibility == Visibility::Public).then(|| {
                format!("{}/{}", self.public_base, crate::keys::original(upload.kind.visibility, &upload.kind.name, &record.id, file.content_type))
            });
            slots.push(UploadSlot {
                media_id: record.id,
                method: upload.method,
                url,
                fields,
                headers,
                key: record.incoming_key,
                expires_at: clock::format(expires),
                expires_in: self.url_ttl.as_secs(),
                max_bytes: match upload.method {
                    UploadMethod::Post => upload.kind.max_bytes,
                    UploadMethod::Put => file.size_bytes.unwrap_or(upload.kind.max_bytes),
                },
                public_url,
            });
        }
        Ok(slots)
    }

    /// The presigned POST form or PUT URL for one file's upload key.
    async fn sign(&self, upload: &ValidUpload, file: &ValidFile, key: &str, now: OffsetDateTime) -> Result<Signed, UploadError> {
        Ok(match upload.method {
            UploadMethod::Post => {
                let p = self.signer.presign_post(key, file.content_type, upload.kind.max_bytes, now, self.url_ttl).await?;
                (p.url, p.fields.into_iter().collect(), BTreeMap::new())
            }
            UploadMethod::Put => {
                // Validation guarantees a declared size on this path.
                let len = file.size_bytes.ok_or(UploadError::SizeRequired)?;
                let p = self.signer.presign_put(key, file.content_type, len, now, self.url_ttl).await?;
                (p.url, BTreeMap::new(), p.headers.into_iter().collect())
            }
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
        incoming_key: crate::keys::incoming(&id),
        upload_expires_at: clock::format(expires),
        created_sk: format!("{created_at}#{id}"),
        created_at: created_at.clone(),
        updated_at: created_at,
        final_key: None,
        content_type: None,
        size_bytes: None,
        width: None,
        height: None,
        sha256: None,
        title: None,
        description: None,
        tags: Vec::new(),
        attached_to: None,
        rejection: None,
        variants: BTreeMap::new(),
        placeholder: None,
        pending_owner: Some(caller.user_id.clone()),
        gc_shard: Some(GC_SHARD.to_string()),
        gc_at: Some(clock::format(expires + PENDING_GRACE)),
        publish_claim: None,
        publish_claim_until: None,
        decided_at: None,
        event_sent: None,
        id,
    }
}
